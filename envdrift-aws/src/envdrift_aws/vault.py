"""``AwsVault``: AWS Secrets Manager as an envdrift vault.

Credentials and endpoint come from boto3's own chain, untouched:
environment variables, ``~/.aws/credentials`` and ``~/.aws/config`` (``AWS_PROFILE`` or
``[vault.aws] profile``), SSO, container and instance roles, and ``AWS_ENDPOINT_URL`` /
``AWS_ENDPOINT_URL_SECRETS_MANAGER`` / a profile's ``endpoint_url``. So every call goes
where the user's other AWS tools go.

The region is ``--region`` > ``[vault.aws] region`` > ``AWS_REGION`` >
``AWS_DEFAULT_REGION`` > the profile's region > ``us-east-1``.

Retries are envdrift's (``Vault.retrying``, the same for every backend): botocore makes
one attempt per request, with envdrift's request timeout, and throttling, 5xx and
connection failures come back as ``UnavailableError`` (with ``Retry-After``) to retry.

Nothing here imports the SDK at module level; the client is built on first use, from
botocore directly: boto3's ``Session`` would only wrap the same botocore session, and
importing boto3 (with s3transfer) costs a CLI run about a third more start-up time.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import threading
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from envdrift import (
    ConfigError,
    EnvdriftError,
    FormatError,
    Secret,
    Vault,
    VaultContext,
    VaultError,
    __version__,
)

from envdrift_aws._errors import (
    _Call,
    client_error_parts,
    config_problem,
    from_code,
    is_authorization_denial,
    missing_sdk,
    translate,
)
from envdrift_aws._settings import DEFAULT_REGION, OPTION_KEYS, Settings

if TYPE_CHECKING:
    import botocore.session
    from mypy_boto3_secretsmanager import SecretsManagerClient

__all__ = ["AwsVault"]

#: ``BatchGetSecretValue`` accepts at most this many secret ids per call.
BATCH_SIZE = 20
#: Names per ``ListSecrets`` page (the service's maximum).
LIST_PAGE_SIZE = 100
#: HTTP connections kept per client; covers the concurrency ``fetch_many`` is asked for.
MAX_POOL_CONNECTIONS = 32
#: What a ``ListSecrets`` name filter accepts (a leading ``!`` would negate it).
_FILTERABLE = re.compile(r"[a-zA-Z0-9 :_@/+=.\-]{1,512}")


class AwsVault(Vault):
    """Secrets in AWS Secrets Manager, one secret per name.

    Options (``[vault.aws]``):
        region: The region to use (``--region`` overrides it).
        profile: An AWS profile from ``~/.aws/config`` or ``~/.aws/credentials``.
    """

    name = "aws"
    description = "AWS Secrets Manager (boto3: the usual AWS credentials, profiles and roles)"
    cli_options = {"region": "region"}
    option_keys = OPTION_KEYS

    def __init__(self, options: Mapping[str, Any], context: VaultContext) -> None:
        super().__init__(options, context)
        self.settings = Settings.resolve(self.options)
        self._profile = self.settings.profile
        self._lock = threading.Lock()
        self._session_obj: botocore.session.Session | None = None
        self._region: str | None = None
        self._client_obj: SecretsManagerClient | None = None
        # Learnt once per instance: the identity may not call BatchGetSecretValue.
        self._batch_denied = False

    # -- session, region, client ---------------------------------------------------

    def _session(self) -> botocore.session.Session:
        with self._lock:
            if self._session_obj is None:
                try:
                    import botocore.session
                    from botocore.exceptions import BotoCoreError
                except ImportError as exc:
                    raise missing_sdk(exc) from None

                try:
                    core = botocore.session.Session(profile=self._profile)
                    # Reading a setting loads the config files: a missing profile or a
                    # malformed file shows up here rather than halfway through a sync.
                    core.get_config_variable("region")
                except BotoCoreError as exc:
                    raise ConfigError(config_problem(exc, self._profile)) from None
                self._session_obj = core
            return self._session_obj

    @property
    def region(self) -> str:
        """The region every call goes to (resolved once; may read ``~/.aws/config``)."""
        if self._region is None:
            region = self.settings.region or os.environ.get("AWS_REGION")
            if not region:
                # botocore: AWS_DEFAULT_REGION, then the profile's `region`.
                region = self._session().get_config_variable("region") or DEFAULT_REGION
            self._region = region
        return self._region

    def describe(self) -> str:
        profile = f", profile {self._profile}" if self._profile else ""
        try:
            region = f"region {self.region}"
        except ConfigError:  # a broken profile; the call that needs it will say so
            region = "region unresolved"
        return f"vault 'aws' ({region}{profile})"

    def _client(self) -> SecretsManagerClient:
        session = self._session()
        region = self.region
        with self._lock:
            if self._client_obj is None:
                from botocore.config import Config

                # One attempt per request: envdrift retries (Vault.retrying), so that
                # backoff, Retry-After, budgets and --debug are the same for every vault.
                # This also overrides AWS_MAX_ATTEMPTS/AWS_RETRY_MODE; use --retries.
                config = Config(
                    connect_timeout=self.context.timeout,
                    read_timeout=self.context.timeout,
                    retries={"mode": "standard", "total_max_attempts": 1},
                    max_pool_connections=MAX_POOL_CONNECTIONS,
                    user_agent_extra=f"envdrift/{__version__}",
                )
                try:
                    self._client_obj = cast(
                        "SecretsManagerClient",
                        session.create_client("secretsmanager", region_name=region, config=config),
                    )
                except ValueError as exc:  # a malformed endpoint URL or region name
                    raise ConfigError(
                        f"vault 'aws' cannot use region {region!r} with its endpoint "
                        f"settings: {exc}; check [vault.aws] region and AWS_ENDPOINT_URL"
                    ) from None
            return self._client_obj

    def _ready(self, action: str, secret: str | None) -> None:
        """Build the client before a call's clock starts; its failures named for the call.

        Building resolves credentials, and some sources run right then (a profile's
        ``credential_process``, say), so their errors belong to the call that needed them.
        """
        self._session()  # imports botocore, or says how to install it
        from botocore.exceptions import BotoCoreError

        try:
            self._client()
        except BotoCoreError as exc:
            raise translate(exc, self._call(action, secret)) from exc

    def _call(self, action: str, secret: str | None, batch: tuple[str, ...] = ()) -> _Call:
        endpoint = self._client_obj.meta.endpoint_url if self._client_obj is not None else ""
        return _Call(
            action=action,
            secret=secret,
            vault=self.describe(),
            region=self.region,
            profile=self._profile,
            endpoint=endpoint,
            batch=batch,
        )

    # -- reading ---------------------------------------------------------------------

    def _secret_from(self, response: Mapping[str, Any], name: str) -> Secret:
        """The value of a ``GetSecretValue``-shaped response (string or UTF-8 binary)."""
        text = response.get("SecretString")
        if isinstance(text, str):
            return Secret(text)
        binary = response.get("SecretBinary")
        if isinstance(binary, bytes | bytearray):
            try:
                return Secret(bytes(binary).decode("utf-8"))
            except UnicodeDecodeError:
                raise FormatError(
                    f"secret {name!r} in {self.describe()} holds binary data that is not "
                    "UTF-8 text; store the key as a string: aws secretsmanager "
                    f"put-secret-value --secret-id {name} --secret-string …"
                ) from None
        raise FormatError(f"secret {name!r} in {self.describe()} has no value")

    def fetch(self, name: str) -> Secret:
        self._ready("GetSecretValue", name)
        return self.retrying(lambda: self._get(name), what=f"read secret {name!r}")

    def _get(self, name: str) -> Secret:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client().get_secret_value(SecretId=name)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self._call("GetSecretValue", name)) from exc
        return self._secret_from(response, name)

    def fetch_many(
        self, names: Iterable[str], *, jobs: int = 8
    ) -> dict[str, Secret | EnvdriftError]:
        """Fetch with ``BatchGetSecretValue``: 20 ids per call, the calls concurrent.

        Where the identity may not call ``BatchGetSecretValue`` (the user guide's IAM
        policy grants only ``GetSecretValue`` and ``ListSecrets``), this falls back to
        one ``GetSecretValue`` per secret, and remembers not to try batches again.
        Each name maps to its secret or to its own error.
        """
        unique = list(dict.fromkeys(names))
        if len(unique) <= 1 or self._batch_denied:
            return super().fetch_many(unique, jobs=jobs)
        chunks = [unique[i : i + BATCH_SIZE] for i in range(0, len(unique), BATCH_SIZE)]
        results: dict[str, Secret | EnvdriftError] = {}
        singles: list[str] = []
        workers = max(1, min(jobs, len(chunks)))
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            for found, leftover in pool.map(self._fetch_batch, chunks):
                results.update(found)
                singles.extend(leftover)
        if singles:
            results.update(super().fetch_many(singles, jobs=jobs))
        return {name: results[name] for name in unique}

    def _fetch_batch(self, chunk: list[str]) -> tuple[dict[str, Secret | EnvdriftError], list[str]]:
        """One ``BatchGetSecretValue`` (following ``NextToken``): results, and names to
        fetch one by one instead."""
        if self._batch_denied:
            return {}, chunk
        try:
            self._session()  # imports botocore, or says how to install it
        except EnvdriftError as exc:
            return dict.fromkeys(chunk, exc), []
        from botocore.exceptions import BotoCoreError

        what = f"read {len(chunk)} secrets with BatchGetSecretValue"
        try:
            self._client()  # built (locally) before the call's clock starts
        except BotoCoreError as exc:  # credentials that failed to load: said per secret
            return {n: translate(exc, self._call("BatchGetSecretValue", n)) for n in chunk}, []
        except EnvdriftError as exc:
            return dict.fromkeys(chunk, exc), []
        try:
            values, errors = self.retrying(lambda: self._batch_pages(chunk), what=what)
        except _Refused as refused:
            if is_authorization_denial(refused.error):
                self._batch_denied = True
                return {}, chunk
            return {
                n: translate(refused.error, self._call("BatchGetSecretValue", n)) for n in chunk
            }, []
        except EnvdriftError as exc:
            return dict.fromkeys(chunk, exc), []

        pending = set(chunk)
        found: dict[str, Secret | EnvdriftError] = {}
        for value in values:
            # Asked for by name or by ARN; the answer carries both.
            key = next((k for k in (value.get("Name"), value.get("ARN")) if k in pending), None)
            if key is None:
                continue
            pending.discard(key)
            try:
                found[key] = self._secret_from(value, key)
            except EnvdriftError as exc:
                found[key] = exc
        for error in errors:
            key = error.get("SecretId")
            if key not in pending:
                continue
            pending.discard(key)
            # Per-secret denials are about reading that secret, i.e. GetSecretValue.
            call = self._call("GetSecretValue", key)
            found[key] = from_code(
                str(error.get("ErrorCode") or ""), 0, str(error.get("Message") or ""), call
            )
        # Anything the answer did not mention (a partial ARN, say) is asked for singly.
        return found, [n for n in chunk if n in pending]

    def _batch_pages(
        self, chunk: list[str]
    ) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
        """One attempt at ``BatchGetSecretValue`` (every page): values and per-secret errors.

        Raises:
            UnavailableError: a failure worth retrying (about the whole batch).
            _Refused: any other refusal, translated per secret by the caller.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        values: list[Mapping[str, Any]] = []
        errors: list[Mapping[str, Any]] = []
        try:
            client = self._client()
            token: str | None = None
            while True:
                page = (
                    client.batch_get_secret_value(SecretIdList=chunk, NextToken=token)
                    if token
                    else client.batch_get_secret_value(SecretIdList=chunk)
                )
                values.extend(page.get("SecretValues", []))
                errors.extend(page.get("Errors", []))
                token = page.get("NextToken")
                if not token:
                    break
        except (ClientError, BotoCoreError) as exc:
            error = translate(exc, self._call("BatchGetSecretValue", chunk[0], tuple(chunk)))
            if isinstance(error, VaultError) and error.transient:
                raise error from exc
            raise _Refused(exc) from exc
        return values, errors

    def _list(self, prefix: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        params: dict[str, Any] = {"MaxResults": LIST_PAGE_SIZE}
        if prefix and _FILTERABLE.fullmatch(prefix):
            # The service filters by name prefix; anything it cannot express is
            # filtered here instead, and the check below keeps the match exact.
            params["Filters"] = [{"Key": "name", "Values": [prefix]}]
        names: list[str] = []
        try:
            for page in self._client().get_paginator("list_secrets").paginate(**params):
                names.extend(entry["Name"] for entry in page.get("SecretList", []))
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self._call("ListSecrets", None)) from exc
        return sorted(name for name in names if name.startswith(prefix))

    def list(self, prefix: str = "") -> list[str]:
        self._ready("ListSecrets", None)
        return self.retrying(lambda: self._list(prefix), what="list secrets")

    # -- writing ---------------------------------------------------------------------

    def store(self, name: str, value: Secret) -> None:
        """Put a new version (the old one stays as ``AWSPREVIOUS``), or create the secret.

        Every attempt sends the same ``ClientRequestToken``, so a retry of a write that
        reached AWS before the connection failed adds no second version.
        """
        token = str(uuid.uuid4())
        self._ready("PutSecretValue", name)
        self.retrying(lambda: self._store(name, value, token), what=f"write secret {name!r}")

    def _store(self, name: str, value: Secret, token: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        action = "PutSecretValue"
        # Errors are raised `from None`: botocore's parameter errors can quote values.
        try:
            client = self._client()
            try:
                client.put_secret_value(
                    SecretId=name, SecretString=value.reveal(), ClientRequestToken=token
                )
                return
            except ClientError as exc:
                if client_error_parts(exc)[0] != "ResourceNotFoundException":
                    raise
            action = "CreateSecret"
            try:
                client.create_secret(
                    Name=name, SecretString=value.reveal(), ClientRequestToken=token
                )
            except ClientError as exc:
                if client_error_parts(exc)[0] != "ResourceExistsException":
                    raise
                # Someone created it between our two calls: add our version on top.
                action = "PutSecretValue"
                client.put_secret_value(
                    SecretId=name, SecretString=value.reveal(), ClientRequestToken=token
                )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self._call(action, name), quote_details=False) from None

    # -- health ----------------------------------------------------------------------

    def check(self) -> None:
        """Prove the credentials work and the endpoint answers, with one cheap call.

        ``ListSecrets`` (one result) goes to the configured endpoint and is signed with
        the configured credentials. An authorization denial still proves both: AWS knew
        the identity and answered, and sync itself needs only ``GetSecretValue``.
        """
        self._ready("ListSecrets", None)
        self.retrying(self._check, what="list secrets (health check)")

    def _check(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client().list_secrets(MaxResults=1)
        except ClientError as exc:
            if not is_authorization_denial(exc):
                raise translate(exc, self._call("ListSecrets", None)) from exc
        except BotoCoreError as exc:
            raise translate(exc, self._call("ListSecrets", None)) from exc

    def close(self) -> None:
        with self._lock:
            client, self._client_obj = self._client_obj, None
        if client is not None:
            client.close()


class _Refused(Exception):
    """A batch request refused for a reason a retry cannot cure; carries botocore's error.

    Not an ``EnvdriftError``, so ``Vault.retrying`` passes it through at once, and the
    caller translates it once per secret, naming each.
    """

    def __init__(self, error: Exception) -> None:
        super().__init__(type(error).__name__)
        self.error = error
