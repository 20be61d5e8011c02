"""``lock``, ``pull``, ``run`` and ``ephemeral_keys`` against HashiCorp Vault (OpenBao)."""

from __future__ import annotations

import pytest

from tests.hashicorp.test_lifecycle_hashicorp import OpenBaoService
from tests.servers.openbao import OpenBao
from tests.team_scenarios import TeamScenarios


class TestTeamHashicorp(TeamScenarios):
    @pytest.fixture
    def service(
        self, vault_env: OpenBao, reader_token: str, monkeypatch: pytest.MonkeyPatch
    ) -> OpenBaoService:
        return OpenBaoService(vault_env, reader_token, monkeypatch)
