#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, then runs lint,
# mypy --strict and every test (the tests start their own vault servers on free loopback
# ports).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export ENVDRIFT_DOTENVX="$PWD/.tools/dotenvx/node_modules/.bin/dotenvx"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest -n 2 --dist loadgroup "$@"
