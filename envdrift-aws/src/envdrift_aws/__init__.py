"""envdrift's ``aws`` vault: AWS Secrets Manager through boto3's botocore.

The entry point loads this module when envdrift first needs a vault. It imports only
``envdrift``; botocore is imported inside ``AwsVault``'s methods, so merely installing
the plugin costs ``envdrift --help`` nothing.

Config::

    [vault]
    provider = "aws"

    [vault.aws]
    region = "eu-west-1"   # optional: --region > this > AWS_REGION/AWS_DEFAULT_REGION/profile
    profile = "prod"       # optional: an AWS profile; otherwise boto3's usual chain

Layout (the same in every backend): this module holds the hook; ``vault.py`` the
``Vault`` subclass and its SDK calls; ``_errors.py`` the translation of SDK exceptions
into envdrift errors (each request described by a ``_Call``); ``_settings.py`` the
options and environment, resolved without the SDK.
"""

from __future__ import annotations

from envdrift import Vault, hookimpl

from envdrift_aws.vault import AwsVault

__all__ = ["AwsVault", "envdrift_register_vaults"]


@hookimpl
def envdrift_register_vaults() -> list[type[Vault]]:
    """Provide the ``aws`` vault."""
    return [AwsVault]
