"""``lock``, ``pull``, ``run`` and ``ephemeral_keys`` against the Key Vault test server."""

from __future__ import annotations

import pytest

from tests.azure.test_lifecycle_azure import KeyVaultServiceFixture
from tests.lifecycle_scenarios import Project, VaultService
from tests.servers.azure_keyvault import KeyVaultEndpoint
from tests.team_scenarios import TeamScenarios


class TestTeamAzure(KeyVaultServiceFixture, TeamScenarios):
    @pytest.fixture(autouse=True)
    def _endpoint(self, keyvault: KeyVaultEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
        self.keyvault, self.monkeypatch = keyvault, monkeypatch

    def reachable_from_a_process(self, project: Project, service: VaultService) -> dict[str, str]:
        # `<vault>.localhost` resolves only inside the test process: a new process reaches
        # the server's default vault at https://127.0.0.1:<port>/ (test_sync_azure does too).
        from azure.identity import DefaultAzureCredential
        from azure.keyvault.secrets import SecretClient

        url = self.keyvault.vault_url(None)
        key = service.current(project.secret)
        assert key is not None
        credential = DefaultAzureCredential(disable_instance_discovery=True)
        with SecretClient(url, credential, verify_challenge_resource=False) as client:
            client.set_secret(project.secret, key)
        config = project.root / "envdrift.toml"
        lines = [
            f'vault_url = "{url}"' if line.startswith("vault_url") else line
            for line in config.read_text().splitlines()
        ]
        config.write_text("\n".join(lines) + "\n")
        # The host is not under the challenge's resource: what this switch is for.
        self.monkeypatch.setenv("ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE", "0")
        return {"ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE": "0"}
