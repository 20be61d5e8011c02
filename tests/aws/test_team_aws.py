"""``lock``, ``pull``, ``run`` and ``ephemeral_keys`` against AWS Secrets Manager (moto)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.aws.test_lifecycle_aws import MotoService
from tests.team_scenarios import TeamScenarios


class TestTeamAws(TeamScenarios):
    @pytest.fixture
    def service(
        self,
        sm: Any,
        iam_user: Callable[..., tuple[str, str]],
        enforce: Callable[[], None],
        monkeypatch: pytest.MonkeyPatch,
    ) -> MotoService:
        return MotoService(sm, iam_user, enforce, monkeypatch)
