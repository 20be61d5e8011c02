"""``envdrift sync`` end to end with files the real dotenvx CLI encrypted.

dotenvx encrypts each service's env file and writes its ``.env.keys``; the keys go into
the ``files`` vault in the shapes teams use (a whole ``.env.keys``, the user guide's
``grep … | cut -d'=' -f2`` output); the keys files are deleted (a fresh clone); then
``envdrift sync --check-decryption`` must restore keys that dotenvx itself can use, and
the built-in verifier must prove them, in memory, against dotenvx's ciphertexts.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.core.sync_helpers import KEY_C
from tests.dotenvx_cli import DotenvxCli, require_dotenvx

pytestmark = pytest.mark.dotenvx

PLAINTEXT = {
    "services/app/.env.production": (
        'DATABASE_URL="postgres://app:s3cret@db/app"\nGREETING="héllo wörld"\nEMPTY=\n'
    ),
    "services/auth/.env.staging": "JWT_SECRET='quoted # not a comment'\nexport TTL=3600\n",
}

#: Values that only a correct key brings back (dotenvx decrypt --stdout).
EXPECTED = {
    "services/app/.env.production": ["postgres://app:s3cret@db/app", "héllo wörld"],
    "services/auth/.env.staging": ["quoted # not a comment", "3600"],
}

CONFIG = """
[vault]
provider = "files"

[vault.files]
path = "vault"

[[vault.sync.mappings]]
secret_name = "app-key"
folder_path = "services/app"

[[vault.sync.mappings]]
secret_name = "auth-key"
folder_path = "services/auth"
environment = "staging"
"""


@pytest.fixture(scope="module")
def dotenvx(tmp_path_factory: pytest.TempPathFactory) -> DotenvxCli:
    return require_dotenvx(tmp_path_factory.mktemp("dotenvx-home"))


@pytest.fixture(scope="module")
def template(dotenvx: DotenvxCli, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two services encrypted by dotenvx, their keys in the vault, no local keys."""
    root = tmp_path_factory.mktemp("template") / "repo"
    for relative, text in PLAINTEXT.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        dotenvx.run(["encrypt", "-f", path.name], cwd=path.parent)
    (root / "vault").mkdir()
    app_keys = root / "services/app/.env.keys"
    auth_keys = root / "services/auth/.env.keys"
    # The whole keys file, as someone might paste it...
    (root / "vault" / "app-key").write_text(app_keys.read_text())
    # ...and the user guide's `grep DOTENV_PRIVATE_KEY_STAGING .env.keys | cut -d'=' -f2`.
    line = next(x for x in auth_keys.read_text().splitlines() if x.startswith("DOTENV_PRIVATE"))
    (root / "vault" / "auth-key").write_text(line.split("=", 1)[1] + "\n")
    app_keys.unlink()
    auth_keys.unlink()
    (root / "envdrift.toml").write_text(CONFIG)
    return root


@pytest.fixture
def monorepo(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the template, as the current directory."""
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    monkeypatch.chdir(root)
    return root


def test_a_fresh_clone_gets_keys_that_dotenvx_and_the_verifier_accept(
    monorepo: Path, dotenvx: DotenvxCli, envdrift_cli: Callable[..., Result]
) -> None:
    result = envdrift_cli("sync", "--check-decryption", "--ci")
    assert result.exit_code == 0, result.output
    assert "decrypts .env.production (3 values)" in result.stdout
    assert "decrypts .env.staging (2 values)" in result.stdout
    assert "2 mappings: 2 created" in result.stdout
    for relative, values in EXPECTED.items():
        path = monorepo / relative
        assert "encrypted:" in path.read_text()
        shown = dotenvx.run(["decrypt", "--stdout", "-f", path.name], cwd=path.parent).stdout
        for value in values:
            assert value in shown
    again = envdrift_cli("sync", "--verify", "--check-decryption")
    assert again.exit_code == 0, again.output


def test_a_vault_key_that_does_not_decrypt_the_files_fails_the_check(
    monorepo: Path, envdrift_cli: Callable[..., Result]
) -> None:
    (monorepo / "vault" / "app-key").write_text(KEY_C)  # a valid key, but not this one
    result = envdrift_cli("sync", "--check-decryption", "--ci")
    assert result.exit_code == 1
    app_row = next(line for line in result.stdout.splitlines() if line.startswith("services/app"))
    assert " error " in app_row  # checked before writing: the key was not written
    assert "does not decrypt .env.production" in app_row
    assert not (monorepo / "services" / "app" / ".env.keys").exists()
    assert "1 failed the decryption check" in result.stdout
