"""The key lifecycle against a real vault server: one set of scenarios for every backend.

``decrypt --verify-vault``, ``vault-push`` and ``rotate`` (issue 8) behave the same
whatever the vault, so the scenarios are written once, here, as ``LifecycleScenarios``.
Each backend's test module subclasses it (``tests/aws/test_lifecycle_aws.py``, …) and
supplies two fixtures:

* ``service``: a ``VaultService`` for its local server (moto, OpenBao, the Key Vault test
  server) that writes secrets the way that service's users do (their CLI or SDK), reads
  every version back, and switches to the service's own read-only identity;
* ``form``: the stored forms to try, parametrised (``bare``, ``line``, …).

This module imports no SDK: each backend's module does that in its own ``VaultService``.
"""

from __future__ import annotations

import json
import shlex
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from envdrift import PluginRegistry, Secret, Vault, hookimpl
from envdrift.dotenvx.keysfile import KeysFile

from tests.gitrepo import git

PLAINTEXT = {"DATABASE_URL": "postgres://db/app", "API_TOKEN": "tok-123", "GREETING": "hello world"}
FOLDER = "services/app"
ENV_FILE = f"{FOLDER}/.env.production"
KEY_NAME = "DOTENV_PRIVATE_KEY_PRODUCTION"
#: A valid private key that is nobody's: what a stray teammate or an old rotation left.
OTHER_KEY = "ab" * 32
REPAIR_STEPS = [
    "To repair:",
    f"  1. git restore {ENV_FILE}",
    "  2. envdrift sync --force",
    f"  3. envdrift encrypt {ENV_FILE}",
]

RunCli = Callable[..., Result]


class VaultService(ABC):
    """One local vault server, reached as its users reach it.

    Attributes:
        provider: The envdrift vault name (``aws``).
        forms: How the service's users store a key: ``form`` names ``write_form`` knows.
        refused_write: Text the error of a refused write contains (names the permission).
        vault_class: The backend class (for a plugin that subclasses it).
    """

    provider: str
    forms: tuple[str, ...]
    refused_write: str
    vault_class: type[Vault]

    @abstractmethod
    def secret(self) -> str:
        """A secret name for this test, untouched by other tests on the shared server."""

    @abstractmethod
    def options(self) -> Mapping[str, str]:
        """The ``[vault.<provider>]`` table that reaches this test's vault."""

    @abstractmethod
    def put(self, secret: str, value: str) -> None:
        """Store ``value`` as a new version, as a user would (the service's CLI or SDK)."""

    def write_form(self, secret: str, form: str, key: str) -> None:
        """Store ``key`` for production in the stored form named ``form``."""
        if form == "bare":
            self.put(secret, key)
        elif form == "line":  # envdrift 1.x vault-push: the whole .env.keys line
            self.put(secret, f"{KEY_NAME}={key}")
        else:
            raise ValueError(f"{type(self).__name__} has no form {form!r}")

    @abstractmethod
    def current(self, secret: str) -> str | None:
        """The current version's value as stored (``None`` when there is no secret)."""

    @abstractmethod
    def older(self, secret: str) -> list[str]:
        """The values of every version but the current one, in no particular order."""

    @abstractmethod
    def read_only(self) -> AbstractContextManager[None]:
        """Within: the environment signs envdrift in as an identity that may read only."""


@dataclass
class Project:
    """A checkout: ``envdrift.toml`` and one service with an encrypted ``.env.production``."""

    root: Path
    secret: str

    @property
    def env(self) -> Path:
        return self.root / ENV_FILE

    @property
    def keys(self) -> Path:
        return self.root / FOLDER / ".env.keys"

    def local_key(self) -> str | None:
        key = KeysFile.read(self.keys).get(KEY_NAME)
        return None if key is None else key.reveal()

    def snapshot(self) -> tuple[bytes, bytes]:
        return self.env.read_bytes(), self.keys.read_bytes()

    def backups(self) -> list[Path]:
        return sorted((self.root / FOLDER).glob(".env.keys.backup.*"))


def write_config(root: Path, provider: str, options: Mapping[str, str], secret: str) -> None:
    """The guide's ``envdrift.toml``: the provider, its table and one mapping."""
    table = "".join(f'{key} = "{value}"\n' for key, value in options.items())
    (root / "envdrift.toml").write_text(
        f'[vault]\nprovider = "{provider}"\n\n[vault.{provider}]\n{table}\n'
        f'[[vault.sync.mappings]]\nsecret_name = "{secret}"\nfolder_path = "{FOLDER}"\n'
    )


def dotenv_text(values: Mapping[str, str]) -> str:
    """``values`` as plaintext ``.env`` lines (quoted)."""
    return "".join(f'{k}="{v}"\n' for k, v in values.items())


def encrypted_checkout(
    root: Path, provider: str, options: Mapping[str, str], secret: str, envdrift_cli: RunCli
) -> Project:
    """Write the config and the service, then encrypt it with a new key (in ``.env.keys``).

    ``root`` is the working directory (``envdrift encrypt`` is given a relative path)."""
    root.mkdir(parents=True, exist_ok=True)
    project = Project(root, secret)
    write_config(root, provider, options, secret)
    project.env.parent.mkdir(parents=True)
    project.env.write_text(dotenv_text(PLAINTEXT))
    encrypted = envdrift_cli("encrypt", ENV_FILE)
    assert encrypted.exit_code == 0, encrypted.output
    return project


def local_key(root: Path) -> str:
    """The private key in the ``.env.keys`` of the checkout at ``root`` (there must be one)."""
    key = Project(root, "").local_key()
    assert key is not None
    return key


def checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service: VaultService, envdrift_cli: RunCli
) -> Project:
    """``encrypted_checkout`` in ``tmp_path/checkout`` (made the working directory) for
    ``service``'s vault, under a secret of this test's own."""
    root = tmp_path / "checkout"
    root.mkdir()
    monkeypatch.chdir(root)
    return encrypted_checkout(
        root, service.provider, service.options(), service.secret(), envdrift_cli
    )


def store_local_key(service: VaultService, project: Project, form: str | None = None) -> str:
    """Store the project's local key in the vault, as a teammate did; return it.

    In the stored ``form``, or without one as ``put`` stores a value."""
    key = local_key(project.root)
    if form is None:
        service.put(project.secret, key)
    else:
        service.write_form(project.secret, form, key)
    return key


def decrypted(envdrift_cli: RunCli) -> dict[str, str]:
    """The project's values, as ``envdrift decrypt --stdout`` prints them."""
    result = envdrift_cli("decrypt", ENV_FILE, "--stdout")
    assert result.exit_code == 0, result.output
    values = {}
    for line in result.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in PLAINTEXT:
            values[key] = value.strip('"')
    return values


class InterferingPlugin:
    """Provides ``<provider>-racy``: the real backend, plus a teammate who stores another
    key (in the team's ``form``) right after envdrift's first ``store``.

    This is how ``rotate``'s read-back sees something else than what it stored on a real
    server: the teammate's write goes through the service's own CLI or SDK.
    """

    def __init__(self, service: VaultService, form: str) -> None:
        self.interfered = 0
        plugin, base = self, service.vault_class

        class RacyVault(base):  # type: ignore[misc,valid-type]
            name = f"{service.provider}-racy"

            def store(self, name: str, value: Secret) -> None:
                super().store(name, value)
                if plugin.interfered == 0:
                    plugin.interfered += 1
                    service.write_form(name, form, OTHER_KEY)

        self.vault_class: type[Vault] = RacyVault

    @hookimpl
    def envdrift_register_vaults(self) -> list[type[Vault]]:
        return [self.vault_class]


class CheckoutFixture:
    """The ``project`` fixture: ``checkout`` for the subclass's ``service``."""

    @pytest.fixture
    def project(
        self,
        service: VaultService,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        envdrift_cli: RunCli,
    ) -> Project:
        return checkout(tmp_path, monkeypatch, service, envdrift_cli)


class LifecycleScenarios(CheckoutFixture):
    """The issue's lifecycle tests; subclasses provide ``service`` and ``form``."""

    # -- decrypt --verify-vault ------------------------------------------------------

    def test_verify_vault_passes_for_each_stored_form_and_push_finds_it_equal(
        self, service: VaultService, project: Project, envdrift_cli: RunCli, form: str
    ) -> None:
        store_local_key(service, project, form)
        stored, before = service.current(project.secret), project.env.read_bytes()
        result = envdrift_cli("decrypt", ENV_FILE, "--verify-vault", "--ci")
        assert result.exit_code == 0, result.output
        assert result.stdout.count("\n") == 1
        assert result.stdout.startswith(f"ok: the key in vault '{service.provider}'")
        assert f"decrypts {ENV_FILE} (3 values)" in result.stdout
        assert project.env.read_bytes() == before
        # The same key in another form is not a change: nothing new is stored.
        pushed = envdrift_cli("vault-push")
        assert pushed.exit_code == 0, pushed.output
        assert "unchanged" in pushed.stdout
        assert service.current(project.secret) == stored
        assert service.older(project.secret) == []

    def test_verify_vault_failure_prints_repair_steps_that_work(
        self, service: VaultService, project: Project, envdrift_cli: RunCli, form: str
    ) -> None:
        key = store_local_key(service, project, form)
        git(project.root, "init", "-q")
        git(project.root, "add", ENV_FILE, "envdrift.toml")
        git(project.root, "commit", "-q", "-m", "encrypted with the vault's key")
        # A teammate without the key re-encrypts: a new pair, not the vault's.
        project.keys.unlink()
        project.env.write_text(dotenv_text(PLAINTEXT))
        assert envdrift_cli("encrypt", "--new-key", ENV_FILE).exit_code == 0
        stray = project.snapshot()

        failed = envdrift_cli("decrypt", ENV_FILE, "--verify-vault", "--ci")
        assert failed.exit_code == 1
        assert failed.stdout == ""
        assert (
            f"{ENV_FILE} was encrypted with a different key than the one in "
            f"vault '{service.provider}'" in failed.stderr
        )
        assert failed.stderr.splitlines()[-4:] == REPAIR_STEPS
        assert project.snapshot() == stray
        as_json = envdrift_cli("decrypt", ENV_FILE, "--verify-vault", "--ci", "--format", "json")
        assert as_json.exit_code == 1
        document = json.loads(as_json.stdout)
        assert (document["ok"], document["key_matches"]) == (False, False)
        assert document["repair"] == [step.split(". ", 1)[1] for step in REPAIR_STEPS[1:]]

        # The steps, run as printed, repair the file.
        for step in document["repair"]:
            command = shlex.split(step)
            if command[0] == "git":
                git(project.root, *command[1:])
            else:
                assert command[0] == "envdrift"
                done = envdrift_cli(*command[1:])
                assert done.exit_code == 0, f"{step}: {done.output}"
        assert project.local_key() == key
        assert envdrift_cli("decrypt", ENV_FILE, "--verify-vault", "--ci").exit_code == 0
        assert decrypted(envdrift_cli) == PLAINTEXT

    def test_repair_keeps_a_stray_key_edit_and_the_vault_key_then_opens_it(
        self, service: VaultService, project: Project, envdrift_cli: RunCli, form: str
    ) -> None:
        key = store_local_key(service, project, form)
        git(project.root, "init", "-q")
        # A teammate without the vault's key edits a value and encrypts with a new pair.
        project.keys.unlink()
        edited = {**PLAINTEXT, "API_TOKEN": "tok-edited"}
        project.env.write_text(dotenv_text(edited))
        assert envdrift_cli("encrypt", "--new-key", ENV_FILE).exit_code == 0
        assert envdrift_cli("decrypt", ENV_FILE, "--verify-vault", "--ci").exit_code == 1

        repaired = envdrift_cli("decrypt", ENV_FILE, "--verify-vault", "--repair", "--ci")

        assert repaired.exit_code == 0, repaired.output
        assert "tok-edited" not in repaired.output
        assert project.local_key() == key
        assert envdrift_cli("decrypt", ENV_FILE, "--verify-vault", "--ci").exit_code == 0
        assert decrypted(envdrift_cli) == edited
        assert len(project.backups()) == 1  # the stray key, kept (and ignored by git)

    # -- vault-push ------------------------------------------------------------------

    def test_push_then_sync_on_a_fresh_clone_reproduces_the_key(
        self,
        service: VaultService,
        project: Project,
        envdrift_cli: RunCli,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        key = project.local_key()
        pushed = envdrift_cli("vault-push")
        assert pushed.exit_code == 0, pushed.output
        assert "created" in pushed.stdout
        assert service.current(project.secret) == key  # the bare key
        # A teammate's fresh clone: the committed files, no .env.keys.
        clone = tmp_path / "clone"
        (clone / FOLDER).mkdir(parents=True)
        for name in ("envdrift.toml", ENV_FILE):
            (clone / name).write_bytes((project.root / name).read_bytes())
        monkeypatch.chdir(clone)
        synced = envdrift_cli("sync")
        assert synced.exit_code == 0, synced.output
        assert Project(clone, project.secret).local_key() == key
        assert decrypted(envdrift_cli) == PLAINTEXT
        assert envdrift_cli("decrypt", ENV_FILE, "--verify-vault").exit_code == 0

    def test_push_keeps_a_different_value_unless_forced_and_the_old_version_stays(
        self, service: VaultService, project: Project, envdrift_cli: RunCli
    ) -> None:
        service.put(project.secret, OTHER_KEY)
        refused = envdrift_cli("vault-push")
        assert refused.exit_code == 1
        assert "pass --force to store the local key as a new version" in refused.stdout
        assert service.current(project.secret) == OTHER_KEY
        verify = envdrift_cli("vault-push", "--verify", "--format", "json")
        assert verify.exit_code == 1
        assert json.loads(verify.stdout)["mappings"][0]["outcome"] == "would-update"
        assert service.current(project.secret) == OTHER_KEY
        forced = envdrift_cli("vault-push", "--force")
        assert forced.exit_code == 0, forced.output
        assert "updated" in forced.stdout
        assert service.current(project.secret) == project.local_key()
        assert OTHER_KEY in service.older(project.secret)

    # -- rotate ----------------------------------------------------------------------

    def test_rotate_end_to_end(
        self, service: VaultService, project: Project, envdrift_cli: RunCli, form: str
    ) -> None:
        old = store_local_key(service, project, form)
        before = service.current(project.secret)
        old_text = project.env.read_text()
        result = envdrift_cli("rotate", ENV_FILE)
        assert result.exit_code == 0, result.output
        assert "3 values re-encrypted" in result.stdout
        assert result.stdout.splitlines()[-1] == (
            f"commit {ENV_FILE}; teammates then run: envdrift sync --force"
        )
        new = project.local_key()
        assert new is not None
        assert new != old
        assert _key_in(service.current(project.secret)) == new  # a new version …
        assert before in service.older(project.secret)  # … on top of the old one
        assert project.env.read_text() != old_text
        assert decrypted(envdrift_cli) == PLAINTEXT
        (backup,) = project.backups()
        assert old in backup.read_text()
        assert envdrift_cli("sync", "--verify").exit_code == 0
        assert envdrift_cli("decrypt", ENV_FILE, "--verify-vault", "--ci").exit_code == 0

    def test_rotate_without_a_key_that_decrypts_the_file_touches_nothing(
        self, service: VaultService, project: Project, envdrift_cli: RunCli, form: str
    ) -> None:
        store_local_key(service, project, form)
        stored = service.current(project.secret)
        project.keys.write_text(f"{KEY_NAME}={OTHER_KEY}\n")  # a stale local key
        files = project.snapshot()
        result = envdrift_cli("rotate", ENV_FILE)
        assert result.exit_code == 1
        assert result.stderr == (
            f"Error: {ENV_FILE}: the current key does not decrypt DATABASE_URL, API_TOKEN, "
            "GREETING; nothing was rotated\n"
        )
        assert project.snapshot() == files
        assert service.current(project.secret) == stored
        assert service.older(project.secret) == []

    def test_rotate_with_the_write_refused_changes_nothing(
        self, service: VaultService, project: Project, envdrift_cli: RunCli, form: str
    ) -> None:
        store_local_key(service, project, form)
        files, stored = project.snapshot(), service.current(project.secret)
        with service.read_only():
            result = envdrift_cli("rotate", ENV_FILE)
        assert result.exit_code == 1
        (message,) = result.stderr.splitlines()
        assert message.startswith("Error: rotation stopped: "), repr(message)
        assert service.refused_write in message, message
        assert (
            f"Local files were not changed and secret {project.secret!r} in "
            f"vault '{service.provider}'" in message
        )
        assert message.endswith(" keeps its value")
        assert project.snapshot() == files
        assert project.backups() == []
        assert service.current(project.secret) == stored
        assert service.older(project.secret) == []
        assert envdrift_cli("decrypt", ENV_FILE, "--verify-vault", "--ci").exit_code == 0
        assert envdrift_cli("sync", "--verify").exit_code == 0

    def test_rotate_whose_read_back_differs_restores_the_previous_value(
        self,
        service: VaultService,
        project: Project,
        envdrift_cli: RunCli,
        form: str,
    ) -> None:
        store_local_key(service, project, form)
        files, stored = project.snapshot(), service.current(project.secret)
        racy = InterferingPlugin(service, form)
        name = f"{service.provider}-racy"
        write_config(project.root, name, service.options(), project.secret)
        registry = PluginRegistry(plugins=[racy])
        result = envdrift_cli("rotate", ENV_FILE, registry=registry)
        assert racy.interfered == 1
        assert result.exit_code == 1
        (message,) = result.stderr.splitlines()
        assert message.startswith("Error: rotation stopped: the key read back from secret")
        assert "does not decrypt the new file" in message
        assert message.endswith(
            f"Local files were not changed; the previous value of secret {project.secret!r} "
            f"in {_described(message)} is current again"
        )
        assert project.snapshot() == files
        assert project.backups() == []
        # The previous value is current again, exactly as it was stored.
        assert service.current(project.secret) == stored
        write_config(project.root, service.provider, service.options(), project.secret)
        assert envdrift_cli("decrypt", ENV_FILE, "--verify-vault", "--ci").exit_code == 0
        assert envdrift_cli("sync", "--verify").exit_code == 0

    def test_rotate_of_a_new_secret_whose_read_back_differs_says_how_to_recover(
        self, service: VaultService, project: Project, envdrift_cli: RunCli, form: str
    ) -> None:
        files = project.snapshot()
        racy = InterferingPlugin(service, form)
        write_config(project.root, f"{service.provider}-racy", service.options(), project.secret)
        registry = PluginRegistry(plugins=[racy])
        result = envdrift_cli("rotate", ENV_FILE, registry=registry)
        assert result.exit_code == 1
        (message,) = result.stderr.splitlines()
        recover = f"envdrift vault-push {FOLDER} {project.secret} --env production --force"
        assert message.endswith(
            "did not exist before and now holds the unverified new key: delete it, or run "
            f"`{recover}` to store the local key again"
        )
        assert project.snapshot() == files
        assert project.backups() == []
        # The advice, followed, makes the vault agree with the unchanged files.
        write_config(project.root, service.provider, service.options(), project.secret)
        assert envdrift_cli(*shlex.split(recover)[1:]).exit_code == 0
        assert _key_in(service.current(project.secret)) == project.local_key()
        assert envdrift_cli("decrypt", ENV_FILE, "--verify-vault", "--ci").exit_code == 0


def _described(message: str) -> str:
    """The vault as the message names it (``vault 'aws' (region us-east-1)``)."""
    start = message.rindex(" in vault '") + len(" in ")
    return message[start : message.index(" is current again")]


def _key_in(value: str | None) -> str | None:
    """The key a stored value holds, read as sync reads it."""
    from envdrift.keyvalue import normalize_private_key

    if value is None:
        return None
    return normalize_private_key(Secret(value), "production", source="test").reveal()
