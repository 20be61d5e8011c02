"""``lock``, ``pull``, ``run`` and ``ephemeral_keys`` against HashiCorp Vault (OpenBao)."""

from __future__ import annotations

from tests.hashicorp.test_lifecycle_hashicorp import OpenBaoServiceFixture
from tests.team_scenarios import TeamScenarios


class TestTeamHashicorp(OpenBaoServiceFixture, TeamScenarios):
    pass
