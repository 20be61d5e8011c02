#!/usr/bin/env bash
# The release build: an sdist and a wheel of each of the five distributions in dist/,
# then `twine check --strict` on all ten.
#
#   scripts/build.sh                   # isolated builds, as a release is made
#   scripts/build.sh --no-isolation    # reuse this environment's hatchling (the tests)
#   DIST=/tmp/out scripts/build.sh     # somewhere else than dist/
#
# `python -m build` makes each wheel from its sdist, unpacked on its own: that proves
# every sdist builds without the rest of the repository (the version travels in PKG-INFO).
# Arguments go to `python -m build`. Needs build and twine (requirements-dev.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
DIST=${DIST:-dist}
export PIP_DISABLE_PIP_VERSION_CHECK=1

rm -rf "$DIST"
mkdir -p "$DIST"
for project in envdrift-core envdrift-aws envdrift-azure envdrift-hashicorp .; do
    "$PYTHON" -m build --outdir "$DIST" "$@" "$project" >/dev/null
done
"$PYTHON" -m twine check --strict "$DIST"/*
ls -1 "$DIST"
