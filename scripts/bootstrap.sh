#!/usr/bin/env bash
# Set up everything the tests, the demo and the benchmarks need, locally and idempotently:
#   .venv/          the five distributions (editable) plus test tools and vault servers
#   .tools/dotenvx  the pinned dotenvx CLI, the compatibility oracle
# Re-running is cheap: each step is skipped while its inputs are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
DOTENVX_VERSION=2.38.2
export PIP_DISABLE_PIP_VERSION_CHECK=1

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv" >&2
    "$PYTHON" -m venv .venv
fi

py_stamp=$(stamp_of requirements-dev.txt pyproject.toml envdrift-*/pyproject.toml)
if [ "$(cat .venv/.envdrift-stamp 2>/dev/null)" != "$py_stamp" ]; then
    echo "bootstrap: installing envdrift and test dependencies into .venv" >&2
    .venv/bin/python -m pip install -q -e ./envdrift-core -e ./envdrift-aws -e ./envdrift-azure \
        -e ./envdrift-hashicorp -r requirements-dev.txt 2> >(grep -v "is ignored: it is neither" >&2)
    echo "$py_stamp" > .venv/.envdrift-stamp
fi

if [ ! -x ".tools/dotenvx/node_modules/.bin/dotenvx" ] \
    || [ "$(cat .tools/dotenvx/.stamp 2>/dev/null)" != "$DOTENVX_VERSION" ]; then
    echo "bootstrap: installing @dotenvx/dotenvx@$DOTENVX_VERSION into .tools/dotenvx" >&2
    mkdir -p .tools/dotenvx
    npm install --silent --no-audit --no-fund --prefix .tools/dotenvx \
        "@dotenvx/dotenvx@$DOTENVX_VERSION" >&2
    echo "$DOTENVX_VERSION" > .tools/dotenvx/.stamp
fi
