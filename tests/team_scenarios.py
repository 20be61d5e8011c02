"""``lock``, ``pull``, ``run`` and ``ephemeral_keys`` against a real vault server, written
once for every backend (as ``tests.lifecycle_scenarios`` is).

Each backend's ``test_team_<backend>.py`` subclasses ``TeamScenarios`` and supplies the
``service`` fixture of its lifecycle tests (moto, OpenBao, the Key Vault test server).
``run`` is started as a real process (it ``exec``s the command) with the environment the
test signed in with, as a CI job would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.run_helpers import PRINT_ENV, envdrift_run, printed_env, scrubbed_env, snapshot
from tests.lifecycle_scenarios import (
    ENV_FILE,
    OTHER_KEY,
    PLAINTEXT,
    CheckoutFixture,
    Project,
    RunCli,
    VaultService,
    decrypted,
    store_local_key,
)

ADDED = {"ADDED_LATER": "new value"}


class TeamScenarios(CheckoutFixture):
    """The team commands end to end; subclasses provide ``service``."""

    def reachable_from_a_process(self, project: Project, service: VaultService) -> dict[str, str]:
        """Make the project's vault reachable from a new process; return the variables it
        needs besides the test's environment (a backend overrides this when its test
        server is reached through in-process name resolution)."""
        return {}

    @pytest.fixture(autouse=True)
    def _key_in_vault(self, service: VaultService, project: Project) -> None:
        """The checkout's key is in the vault (stored as the service's users store it)."""
        store_local_key(service, project)

    def test_lock_encrypts_to_the_vault_key_and_check_passes_after(
        self, project: Project, envdrift_cli: RunCli
    ) -> None:
        with project.env.open("a") as env:
            env.writelines(f'{name}="{value}"\n' for name, value in ADDED.items())
        check = envdrift_cli("lock", "--check")
        assert check.exit_code == 1
        assert "plaintext ADDED_LATER" in check.stdout
        locked = envdrift_cli("lock")
        assert locked.exit_code == 0, locked.output
        assert envdrift_cli("lock", "--check").exit_code == 0
        # The vault's key, fetched as verify-vault does, opens every value.
        assert envdrift_cli("decrypt", ENV_FILE, "--verify-vault", "--ci").exit_code == 0
        assert decrypted(envdrift_cli) == PLAINTEXT
        shown = envdrift_cli("decrypt", ENV_FILE, "--stdout").stdout
        assert 'ADDED_LATER="new value"' in shown

    def test_a_local_key_that_differs_stops_lock_force_with_nothing_changed(
        self, service: VaultService, project: Project, envdrift_cli: RunCli
    ) -> None:
        service.put(project.secret, OTHER_KEY)
        with project.env.open("a") as env:
            env.write('ADDED_LATER="new value"\n')
        before = snapshot(project.root)
        result = envdrift_cli("lock", "--force")
        assert result.exit_code == 1
        assert snapshot(project.root) == before
        assert "differs from the vault's" in result.stderr
        assert "fix: envdrift sync --force (take the vault's key) or envdrift vault-push" in (
            result.stderr
        )

    def test_clone_without_keys_run_gets_the_values_and_ephemeral_pull_writes_no_key(
        self, service: VaultService, project: Project, envdrift_cli: RunCli, tmp_path: Path
    ) -> None:
        extra = self.reachable_from_a_process(project, service)
        project.keys.unlink()
        before = snapshot(project.root)
        ran = envdrift_run(
            project.root, "-f", ENV_FILE, "--", *PRINT_ENV, env=scrubbed_env(tmp_path, extra)
        )
        got = printed_env(ran)
        assert {name: got[name] for name in PLAINTEXT} == PLAINTEXT
        assert snapshot(project.root) == before
        config = project.root / "envdrift.toml"
        config.write_text(config.read_text() + "ephemeral_keys = true\n")  # on the mapping
        pulled = envdrift_cli("pull", "--format", "json")
        assert pulled.exit_code == 0, pulled.output
        assert not project.keys.exists()
        assert "encrypted:" not in project.env.read_text()
        assert '"outcome": "ephemeral"' in pulled.stdout
        synced = envdrift_cli("sync", "--check-decryption", "--ci")
        assert synced.exit_code == 0, synced.output
        assert not project.keys.exists()
