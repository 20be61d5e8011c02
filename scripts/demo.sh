#!/usr/bin/env bash
# envdrift's main job end to end, on local vault servers (set up on first run):
# the user guide's team workflow against HashiCorp Vault (OpenBao), AWS (moto) and
# Azure Key Vault (our HTTPS test server), in scratch monorepos. Exits 1 if any step
# did not behave as shown.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/python -m scripts.demo
