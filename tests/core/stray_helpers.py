"""A team project meeting a stray key, shared by test_repair.py and test_git_safety.py.

The built-in ``files`` vault is a folder beside the repository (a real vault lives
elsewhere, and its secrets must not show up in the repository's ``git status``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from envdrift.dotenvx.keysfile import KeysFile

from tests.gitrepo import git

__all__ = [
    "CONFIG",
    "EDITED",
    "FILE",
    "KEYS",
    "KEY_NAME",
    "ORIGINAL",
    "RunCli",
    "local_key",
    "make_project",
    "stray_edit",
    "vault_file",
    "vault_key",
]

RunCli = Callable[..., Result]

CONFIG = """\
[vault]
provider = "files"

[vault.files]
path = "../vault"

[[vault.sync.mappings]]
secret_name = "app-key"
folder_path = "services/app"
"""
FILE = "services/app/.env.production"
KEYS = "services/app/.env.keys"
KEY_NAME = "DOTENV_PRIVATE_KEY_PRODUCTION"
ORIGINAL = (
    '# database\nDATABASE_URL="postgres://db/app"\n\n# api\nAPI_TOKEN="tok-123"\nGREETING=hi\n'
)
EDITED = ORIGINAL.replace("tok-123", "tok-456-new")


def make_project(tmp_path: Path, envdrift_cli: RunCli, *, git_first: bool) -> Path:
    """``tmp_path/repo``, with FILE encrypted, its key pushed to ``tmp_path/vault`` and
    committed. The caller has made ``tmp_path/repo`` the current directory. With
    ``git_first`` the repository exists when encrypt runs (so encrypt writes a
    ``.gitignore``); without, it is created afterwards and has no ``.gitignore``."""
    (tmp_path / "vault").mkdir()
    root = tmp_path / "repo"
    (root / "services/app").mkdir(parents=True, exist_ok=True)
    (root / "envdrift.toml").write_text(CONFIG)
    (root / FILE).write_text(ORIGINAL)
    if git_first:
        git(root, "init", "-q")
    assert envdrift_cli("encrypt", FILE).exit_code == 0
    assert envdrift_cli("vault-push").exit_code == 0
    if not git_first:
        git(root, "init", "-q")
    git(root, "add", FILE, "envdrift.toml")
    git(root, "commit", "-q", "-m", "encrypted with the vault's key")
    return root


def vault_file(repo: Path) -> Path:
    return repo.parent / "vault/app-key"


def vault_key(repo: Path) -> str:
    return vault_file(repo).read_text()


def local_key(repo: Path) -> str | None:
    key = KeysFile.read(repo / KEYS).get(KEY_NAME)
    return None if key is None else key.reveal()


def stray_edit(repo: Path, envdrift_cli: RunCli) -> str:
    """A teammate without the vault's key edits a value and encrypts with a new pair."""
    (repo / KEYS).unlink()
    (repo / FILE).write_text(EDITED)
    made = envdrift_cli("encrypt", "--new-key", FILE)
    assert made.exit_code == 0, made.output
    stray = local_key(repo)
    assert stray is not None
    assert stray != vault_key(repo)
    return stray
