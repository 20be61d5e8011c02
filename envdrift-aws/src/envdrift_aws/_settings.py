"""What ``[vault.aws]`` may say, checked when the backend is built: no SDK, no network.

The region is ``--region`` > ``[vault.aws] region`` > ``AWS_REGION`` >
``AWS_DEFAULT_REGION`` > the profile's region > ``us-east-1``; only the first two are
options, the rest are read on first use, from botocore's own configuration chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envdrift import ConfigError, require_str

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DEFAULT_REGION", "OPTION_KEYS", "Settings"]

#: Where boto3 finds no region at all, like the AWS CLI's documentation examples.
DEFAULT_REGION = "us-east-1"
OPTION_KEYS = frozenset({"region", "profile"})

_NAME = "aws"


@dataclass(frozen=True)
class Settings:
    """The options of ``vault 'aws'``.

    Attributes:
        region: ``--region`` or ``[vault.aws] region``; ``None`` leaves it to botocore.
        profile: An AWS profile from ``~/.aws/config`` or ``~/.aws/credentials``;
            ``None`` leaves it to ``AWS_PROFILE`` and boto3's usual chain.
    """

    region: str | None
    profile: str | None

    @classmethod
    def resolve(cls, options: Mapping[str, Any]) -> Settings:
        """Read the merged options.

        Raises:
            ConfigError: an option is not text, or is blank.
        """
        region = require_str(options, "region", _NAME)
        profile = require_str(options, "profile", _NAME)
        for key, value in (("region", region), ("profile", profile)):
            if value is not None and not value.strip():
                raise ConfigError(f"[vault.{_NAME}] {key} is empty; set it or remove the line")
        return cls(region=region, profile=profile)
