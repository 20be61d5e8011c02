#!/usr/bin/env bash
# envdrift's main job end to end, on local vault servers (set up on first run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/envdrift plugins
