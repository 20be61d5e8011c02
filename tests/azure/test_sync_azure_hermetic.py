"""``envdrift sync`` with the user guide's config and Azure's real host names, unchanged.

The other Azure tests point vault names at the test server through
``vault_url_template`` and ``AZURE_AUTHORITY_HOST``. This one changes nothing: the
guide's ``envdrift.toml`` (``https://my-keyvault.vault.azure.net/`` and
``vault_name = "production-vault"``), plain ``DefaultAzureCredential`` (authority
``login.microsoftonline.com``, MSAL's own known-host rules) and the SDK's default
challenge-resource check. It runs in a private network and mount namespace
(``unshare``) where only loopback exists and a private ``/etc/hosts`` points those
three host names at 127.0.0.1, with the test server on port 443: no packet can leave
the machine, and the machine's own ``/etc/hosts`` is untouched.

Skipped where namespaces are not available to this user.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, assert_no_private_key
from tests.servers.azure_keyvault import DEFAULT_TENANT

HOSTS = (
    "login.microsoftonline.com",
    "my-keyvault.vault.azure.net",
    "production-vault.vault.azure.net",
)
APP_KEY, AUTH_KEY, PROD_KEY = (hashlib.sha256(s.encode()).hexdigest() for s in ("a", "b", "c"))

GUIDE_CONFIG = """\
[vault]
provider = "azure"

[vault.azure]
vault_url = "https://my-keyvault.vault.azure.net/"

[vault.sync]
default_vault_name = "my-keyvault"
env_keys_filename = ".env.keys"

[[vault.sync.mappings]]
secret_name = "myapp-key"
folder_path = "services/myapp"

[[vault.sync.mappings]]
secret_name = "auth-key"
folder_path = "services/auth"
environment = "staging"  # Use DOTENV_PRIVATE_KEY_STAGING

[[vault.sync.mappings]]
secret_name = "prod-key"
folder_path = "services/prod"
vault_name = "production-vault"  # Override default
"""

# The vaults' content, as `az keyvault secret set` would have left it.
SECRETS = (
    f"my-keyvault/myapp-key={APP_KEY}",
    f"my-keyvault/auth-key=DOTENV_PRIVATE_KEY_STAGING={AUTH_KEY}",
    f"production-vault/prod-key={PROD_KEY}",
)

SCRIPT = """\
set -eu
ip link set lo up
mount --bind "$WORK/hosts" /etc/hosts
(cd "$REPO" && exec "$PYTHON" -m tests.servers.azure_keyvault --port 443 \\
    --cert-dir "$WORK/certs" --client-secret envdrift-ci=ci-secret "$@") > "$WORK/server.log" 2>&1 &
trap 'kill $!; wait' EXIT
# ca.pem is written before the port is bound: once both are there, the server answers.
until [ -e "$WORK/certs/ca.pem" ] && (exec 3<>/dev/tcp/127.0.0.1/443) 2>/dev/null; do
    sleep 0.05
done
cd "$WORK/project"
"$ENVDRIFT" sync --ci
"""


def _namespaces_usable() -> bool:
    if not (shutil.which("unshare") and shutil.which("ip")):
        return False
    probe = subprocess.run(
        ["unshare", "-r", "-n", "-m", "true"], capture_output=True, check=False, timeout=30
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _namespaces_usable(), reason="needs unshare -r -n -m and ip")
def test_the_guides_config_with_real_host_names_in_a_private_network(tmp_path: Path) -> None:
    work = tmp_path
    (work / "hosts").write_text(f"127.0.0.1 localhost {' '.join(HOSTS)}\n")
    project = work / "project"
    for folder in ("services/myapp", "services/auth", "services/prod"):
        (project / folder).mkdir(parents=True)
    (project / "envdrift.toml").write_text(GUIDE_CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ENVDRIFT_"))}
    env.update(
        WORK=str(work),
        REPO=str(REPO_ROOT),
        PYTHON=sys.executable,
        ENVDRIFT=str(Path(sys.executable).with_name("envdrift")),
        HOME=str(work),
        AZURE_CLIENT_ID="envdrift-ci",
        AZURE_CLIENT_SECRET="ci-secret",
        AZURE_TENANT_ID=DEFAULT_TENANT,
        REQUESTS_CA_BUNDLE=str(work / "certs" / "ca.pem"),
    )
    done = subprocess.run(
        ["unshare", "-r", "-n", "-m", "bash", "-c", SCRIPT, "script"]
        + [arg for secret in SECRETS for arg in ("--secret", secret)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log = (work / "server.log").read_text() if (work / "server.log").exists() else ""
    assert done.returncode == 0, done.stdout + done.stderr + log
    assert_no_private_key(done.stdout + done.stderr)
    assert (
        f"DOTENV_PRIVATE_KEY_PRODUCTION={APP_KEY}"
        in (project / "services/myapp/.env.keys").read_text()
    )
    assert (
        f"DOTENV_PRIVATE_KEY_STAGING={AUTH_KEY}"
        in (project / "services/auth/.env.keys").read_text()
    )
    assert (
        f"DOTENV_PRIVATE_KEY_PRODUCTION={PROD_KEY}"
        in (project / "services/prod/.env.keys").read_text()
    )
