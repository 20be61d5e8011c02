"""Turn botocore's exceptions into envdrift errors a user can act on.

Every message names the secret, the vault (with its region) and the Secrets Manager
action that failed, and says what to do next. None carries a secret value: AWS never
echoes request values in its errors, and the one botocore error that can (parameter
validation) is only quoted for calls that carry no value.

botocore is imported inside the functions, like everywhere else in this plugin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from envdrift import (
    ConfigError,
    EnvdriftError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    VaultError,
    parse_retry_after,
)

__all__ = [
    "client_error_parts",
    "config_problem",
    "from_code",
    "is_authorization_denial",
    "missing_sdk",
    "retry_after",
    "translate",
]

#: The identity is known but its policy does not allow the action.
_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "403"})
#: The request was not accepted as coming from a known identity.
_BAD_CREDENTIALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "AuthFailure",
    }
)
_EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
_THROTTLED = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
    }
)
_KMS = frozenset({"DecryptionFailure", "EncryptionFailure"})
#: Actions that only read: a secret scheduled for deletion is "not found" to them.
_READS = frozenset({"GetSecretValue", "BatchGetSecretValue", "ListSecrets"})

_XML_CODE = re.compile(r"<Code>([^<]+)</Code>")
_XML_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")

NO_CREDENTIALS_HELP = (
    "provide them in one of the usual AWS ways: AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary keys); a profile in "
    "~/.aws/credentials or ~/.aws/config, chosen with AWS_PROFILE or [vault.aws] profile "
    "(`aws configure`, or `aws sso login` for SSO profiles); or an IAM role where envdrift "
    "runs (EC2 instance profile, ECS task role, Lambda, EKS, GitHub OIDC)"
)


@dataclass(frozen=True)
class _Call:
    """One Secrets Manager call, as error messages name it.

    Attributes:
        action: The API action (``GetSecretValue``); the IAM action is ``secretsmanager:`` + it.
        secret: The secret it was about, or ``None`` (``ListSecrets``).
        vault: How the vault is named, e.g. ``vault 'aws' (region eu-west-1)``.
        region: The region the call went to.
        profile: The AWS profile in use, if one was chosen.
        endpoint: The endpoint the client talks to.
        batch: For ``BatchGetSecretValue``: every secret the call asked for.
    """

    action: str
    secret: str | None
    vault: str
    region: str
    profile: str | None = None
    endpoint: str = ""
    batch: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        if len(self.batch) > 1:
            return f"{len(self.batch)} secrets ({self.batch[0]!r}, …)"
        return f"secret {self.secret!r}" if self.secret is not None else "the secret list"

    @property
    def cli_args(self) -> str:
        """The ``aws`` CLI flags that reach the same region and profile."""
        profile = f" --profile {self.profile}" if self.profile else ""
        return f" --region {self.region}{profile}"


def missing_sdk(exc: ImportError) -> ConfigError:
    """The error for an environment where botocore (boto3's core) cannot be imported."""
    return ConfigError(
        f"vault 'aws' needs botocore (installed with boto3), which cannot be imported "
        f"({exc}). Install it with: pip install boto3"
    )


def config_problem(exc: Exception, profile: str | None) -> str:
    """What is wrong with the AWS configuration files, for a ``BotoCoreError`` reading them.

    Args:
        exc: What botocore raised while loading the configuration.
        profile: ``[vault.aws] profile``, or ``None`` when the profile came from
            ``AWS_PROFILE``.
    """
    from botocore.exceptions import ProfileNotFound

    if isinstance(exc, ProfileNotFound):
        import botocore.session

        known = ", ".join(sorted(botocore.session.Session().available_profiles)) or "none"
        source = "[vault.aws] profile" if profile else "AWS_PROFILE"
        return (
            f"AWS profile {exc.kwargs.get('profile')!r} (from {source}) is not in "
            f"~/.aws/config or ~/.aws/credentials; profiles there: {known}. Where "
            "credentials come from the environment (CI), leave [vault.aws] profile "
            "unset and use AWS_PROFILE locally"
        )
    return f"vault 'aws': cannot read the AWS configuration: {exc}"


def client_error_parts(exc: Any) -> tuple[str, int, str]:
    """Return ``(code, http_status, message)`` of a botocore ``ClientError``.

    moto answers IAM denials of JSON-protocol services with an XML body, which botocore
    reports as code ``"403"`` with the XML as the message; the real code is inside.
    """
    response = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    code = str(error.get("Code") or "")
    message = str(error.get("Message") or "")
    status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    if "<Code>" in message:
        inner = _XML_CODE.search(message)
        text = _XML_MESSAGE.search(message)
        code = inner.group(1) if inner else code
        message = text.group(1) if text else ""
    return code, status, message


def is_authorization_denial(exc: BaseException) -> bool:
    """Whether ``exc`` is a known identity being refused an action (not bad credentials)."""
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    code, status, _ = client_error_parts(exc)
    if code in _BAD_CREDENTIALS or code in _EXPIRED:
        return False
    return code in _DENIED or status == 403


def _short(message: str, limit: int = 200) -> str:
    line = " ".join(message.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def retry_after(exc: Any) -> float | None:
    """The ``Retry-After`` of a botocore ``ClientError``'s response, in seconds, if any."""
    response = getattr(exc, "response", None) or {}
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    return parse_retry_after(headers.get("retry-after"))


def from_code(
    code: str, status: int, message: str, call: _Call, *, wait: float | None = None
) -> EnvdriftError:
    """Map an AWS error code (from an exception or a batch's ``Errors``) to an envdrift error.

    ``wait`` is the response's ``Retry-After``, kept on an ``UnavailableError``.
    """
    iam = f"secretsmanager:{call.action}"
    if code == "ResourceNotFoundException" or (not code and status == 404):
        return NotFoundError(
            f"{call.target} not found in {call.vault}; see which secrets exist there with: "
            f"aws secretsmanager list-secrets{call.cli_args}"
        )
    if code == "InvalidRequestException" and "delet" in message.lower():
        restore = (
            f"restore it with: aws secretsmanager restore-secret "
            f"--secret-id {call.secret}{call.cli_args}"
        )
        text = f"{call.target} in {call.vault} is scheduled for deletion; {restore}"
        return NotFoundError(text) if call.action in _READS else VaultError(text)
    if code in _EXPIRED:
        return PermissionDeniedError(
            f"the AWS credentials have expired ({code}) calling {iam} on {call.target} in "
            f"{call.vault}; refresh them (`aws sso login`, or new temporary credentials)"
        )
    if code in _BAD_CREDENTIALS:
        return PermissionDeniedError(
            f"AWS rejected the credentials ({code}) calling {iam} on {call.target} in "
            f"{call.vault}; check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile's "
            "keys (`aws sts get-caller-identity` shows who they belong to)"
        )
    if code in _DENIED or status == 403:
        return PermissionDeniedError(
            f"access denied: {call.vault} refused {iam} on {call.target}; allow {iam} for "
            "this identity in its IAM policy (`aws sts get-caller-identity` shows which "
            "identity is in use)"
        )
    if code in _KMS or code.startswith("KMS"):
        return PermissionDeniedError(
            f"cannot decrypt {call.target} in {call.vault}: its KMS key refused ({code}); "
            "allow kms:Decrypt on the secret's KMS key for this identity"
        )
    if code in _THROTTLED or status == 429 or status >= 500:
        shown = f"HTTP {status}" if code in {"", str(status)} else f"{code} (HTTP {status})"
        shown = shown.replace(" (HTTP 0)", "")
        return UnavailableError(
            f"{call.vault} is unavailable: {iam} on {call.target} failed with {shown}; "
            "try again later",
            retry_after=wait,
        )
    detail = f"{code}: {_short(message)}" if message else code or f"HTTP {status}"
    return VaultError(f"{iam} on {call.target} failed in {call.vault}: {detail}")


def translate(exc: Exception, call: _Call, *, quote_details: bool = True) -> EnvdriftError:
    """Map a botocore exception raised by ``call`` to an envdrift error.

    Args:
        exc: What botocore raised.
        call: The call that raised it.
        quote_details: Whether botocore's own text may be quoted; ``False`` for calls
            that carry a secret value, since parameter errors can echo parameters.
    """
    from botocore import exceptions as bx

    if isinstance(exc, bx.ClientError):
        code, status, message = client_error_parts(exc)
        return from_code(
            code, status, message if quote_details else "", call, wait=retry_after(exc)
        )
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        found = f" ({exc})" if isinstance(exc, bx.PartialCredentialsError) else ""
        if call.profile:
            # Like `aws --profile`, an explicit profile skips the environment's keys.
            found += (
                f" in AWS profile {call.profile!r} ([vault.aws] profile; with it set, "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not used)"
            )
        return PermissionDeniedError(
            f"no AWS credentials found{found} for {call.vault}, needed to call "
            f"secretsmanager:{call.action} on {call.target}; {NO_CREDENTIALS_HELP}"
        )
    if isinstance(
        exc,
        bx.TokenRetrievalError
        | bx.SSOError
        | bx.CredentialRetrievalError
        | bx.LoginError
        | bx.MetadataRetrievalError,
    ):
        login = f"aws sso login --profile {call.profile}" if call.profile else "aws sso login"
        return PermissionDeniedError(
            f"could not obtain AWS credentials for {call.vault}, needed to call "
            f"secretsmanager:{call.action} on {call.target}: {_short(str(exc))}; check the "
            f"profile's credential settings (for an SSO profile run `{login}`)"
        )
    if isinstance(exc, bx.ConnectionError | bx.HTTPClientError):
        return UnavailableError(
            f"cannot reach AWS Secrets Manager at {call.endpoint or 'its endpoint'} for "
            f"{call.vault} ({type(exc).__name__}) calling secretsmanager:{call.action} on "
            f"{call.target}; check the network, the region and any AWS_ENDPOINT_URL setting"
        )
    if isinstance(exc, bx.ParamValidationError):
        detail = f": {_short(str(exc))}" if quote_details else ""
        return ConfigError(
            f"secretsmanager:{call.action} on {call.target} in {call.vault} was refused "
            f"before sending{detail}; secret names may use letters, digits and /_+=.@-"
        )
    if isinstance(exc, bx.ProfileNotFound | bx.ConfigParseError):
        return ConfigError(f"{call.vault}: {_short(str(exc))}")
    detail = f": {_short(str(exc))}" if quote_details else ""
    return VaultError(
        f"secretsmanager:{call.action} on {call.target} failed in {call.vault} "
        f"({type(exc).__name__}){detail}"
    )
