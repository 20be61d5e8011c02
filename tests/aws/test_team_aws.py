"""``lock``, ``pull``, ``run`` and ``ephemeral_keys`` against AWS Secrets Manager (moto)."""

from __future__ import annotations

from tests.aws.test_lifecycle_aws import MotoServiceFixture
from tests.team_scenarios import TeamScenarios


class TestTeamAws(MotoServiceFixture, TeamScenarios):
    pass
