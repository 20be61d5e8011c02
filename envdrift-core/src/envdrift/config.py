"""envdrift's configuration: ``envdrift.toml``, ``[tool.envdrift]`` or a legacy ``pair.txt``.

``load_config`` finds and reads the file, validates it with pydantic models and returns a
``Config``: the provider, each backend's ``[vault.<name>]`` table (passed through to the
backend, which validates its own keys), and the sync mappings in file order. Problems
with the file itself are ``ConfigError`` (exit 2) naming the file, the key path and what
was expected; unknown keys warn (``Config.warnings``), with a did-you-mean, or under
``--ci``/``ENVDRIFT_STRICT=1`` are errors (``envdrift.strict``).

This module imports pydantic, so the CLI imports it only inside commands that need it.
The reference is ``docs/configuration.md``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from envdrift._install import FIRST_PARTY_BACKENDS
from envdrift._suggest import did_you_mean
from envdrift.discovery import CONFIG_FILENAME, PYPROJECT_FILENAME, find_config, parse_toml
from envdrift.errors import ConfigError
from envdrift.keyvalue import private_key_name

__all__ = [
    "CONFIG_FILENAME",
    "DEFAULT_ENVIRONMENT",
    "Config",
    "Limits",
    "SyncMapping",
    "find_config",
    "load_config",
]

DEFAULT_ENVIRONMENT = "production"
DEFAULT_KEYS_FILENAME = ".env.keys"

#: Environment names become ``DOTENV_PRIVATE_KEY_<ENV>``; dotenvx keeps ``-`` in them.
_ENVIRONMENT = re.compile(r"[A-Za-z0-9_-]*")

#: Top-level tables of the wider envdrift configuration that ``sync`` does not read.
#: They are accepted silently so that one file can serve every envdrift command.
_OTHER_SECTIONS = frozenset(
    {
        "envdrift",
        "validation",
        "encryption",
        "precommit",
        "git_hook_check",
        "partial_encryption",
        "guard",
        "guardian",
    }
)

#: Keys of envdrift 11.x that this release does not implement and that would send
#: secrets somewhere else: an error (ignoring one would silently put plaintext where the
#: user did not ask for it), with what to use instead.
_UNSUPPORTED_MAPPING_KEYS = {
    "activate_to": "it copied decrypted secrets to another file; remove it and use "
    "`envdrift run` (values in memory) or `envdrift pull` (decrypts in place)",
}

#: Backend tables that may appear without their plugin being installed here.
_KNOWN_BACKEND_TABLES = frozenset(FIRST_PARTY_BACKENDS)

# -- the schema, checked without pydantic --------------------------------------------
#
# envdrift._schema holds the schema as pydantic models, the authority on what is valid.
# Importing pydantic and building the models costs a small run more than everything else
# it does before its first vault request, so a file whose every value already has the
# right type and range (``_conforms``) is read without them; any other file goes through
# the models, whose errors make the message. tests/core/test_config_schema.py proves the
# two agree on every kind of value a TOML file holds.

#: Bounded numbers: key -> (low, high). Integers may equal ``low``; seconds must exceed it.
BOUNDS = {"timeout": (0, 3600), "deadline": (0, 86400), "retries": (0, 20), "max_workers": (1, 256)}


def _text(value: object) -> bool:
    return type(value) is str and value != ""


def _any_text(value: object) -> bool:
    return type(value) is str


def _flag(value: object) -> bool:
    return type(value) is bool


def _count(key: str) -> Callable[[object], bool]:
    low, high = BOUNDS[key]
    return lambda value: type(value) is int and low <= value <= high


def _seconds(key: str) -> Callable[[object], bool]:
    low, high = BOUNDS[key]
    return lambda value: type(value) in (int, float) and low < value <= high  # type: ignore[operator]


def _table(value: object) -> bool:
    return type(value) is dict


# Each table's keys, in the models' order (did-you-mean suggestions come from these).
_MAPPING_FIELDS: dict[str, Callable[[object], bool]] = {
    "secret_name": _text,
    "folder_path": _text,
    "environment": _any_text,
    "vault_name": _text,
    "profile": _text,
    "env_file": _text,
    "ephemeral_keys": _flag,
}
_MAPPING_REQUIRED = ("secret_name", "folder_path")
_SYNC_FIELDS: dict[str, Callable[[object], bool]] = {
    "default_vault_name": _text,
    "ephemeral_keys": _flag,
    "env_keys_filename": _text,
    "allow_outside_root": _flag,
    "max_workers": _count("max_workers"),
    "mappings": lambda value: type(value) is list and all(_mapping_conforms(m) for m in value),
}
_VAULT_FIELDS: dict[str, Callable[[object], bool]] = {
    "provider": _text,
    "timeout": _seconds("timeout"),
    "retries": _count("retries"),
    "deadline": _seconds("deadline"),
    "sync": lambda value: _table(value) and _fields_conform(value, _SYNC_FIELDS),
}
_ROOT_FIELDS: dict[str, Callable[[object], bool]] = {
    "vault": lambda value: _table(value) and _fields_conform(value, _VAULT_FIELDS),
}


def _fields_conform(table: Any, fields: Mapping[str, Callable[[object], bool]]) -> bool:
    return all(check(table[key]) for key, check in fields.items() if key in table)


def _mapping_conforms(value: object) -> bool:
    return (
        _table(value)
        and all(key in value for key in _MAPPING_REQUIRED)  # type: ignore[operator]
        and _fields_conform(value, _MAPPING_FIELDS)
    )


def _conforms(data: Mapping[str, Any]) -> bool:
    """Whether the models would accept ``data`` as it is (no value to convert or refuse)."""
    return _table(data) and _fields_conform(data, _ROOT_FIELDS)


def _validate(label: str, data: Mapping[str, Any], prefix: str) -> None:
    """Raise ``ConfigError`` describing every problem, unless ``data`` fits the schema."""
    if _conforms(data):
        return
    from envdrift._schema import Root, ValidationError, describe_validation

    try:
        Root.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation(label, exc, prefix)) from None


# -- what the rest of envdrift uses ----------------------------------------------------


@dataclass(frozen=True)
class SyncMapping:
    """One vault secret mapped to one folder's ``DOTENV_PRIVATE_KEY_<ENV>``.

    Attributes:
        index: Position in the file, counted from 1 (how messages number mappings).
        secret_name: The secret to fetch.
        folder_path: The folder as written in the file.
        folder: ``folder_path`` joined to the config file's folder (not yet resolved).
        environment: The environment; the key is ``DOTENV_PRIVATE_KEY_<ENVIRONMENT>``.
        vault_name: The mapping's ``vault_name``, else ``default_vault_name``, else ``None``.
        vault_name_is_default: ``vault_name`` came from ``default_vault_name``; a vault
            address on the command line (``--vault-url``) then replaces it.
        profile: The profile tag, or ``None`` for mappings every run includes.
        origin: Where the mapping is written, for messages (``envdrift.toml mapping 3``).
        ephemeral: ``ephemeral_keys`` (the mapping's, else ``[vault.sync]``'s): the key is
            used in memory and never written to ``.env.keys``.
        env_file: ``env_file``: the one env file of the mapping (relative to ``folder``)
            for ``pull`` and ``lock``; ``None`` means the folder's files of
            ``environment``.
        name_prefix: For ``pair.txt`` lines of the form ``prefix/secret``: the prefix.
            With a backend that has vault names it is the vault name; otherwise it is
            part of the secret's path (``apps/api-key`` in HashiCorp Vault).
    """

    index: int
    secret_name: str
    folder_path: str
    folder: Path
    environment: str
    vault_name: str | None
    profile: str | None
    origin: str
    name_prefix: str | None = None
    vault_name_is_default: bool = False
    ephemeral: bool = False
    env_file: str | None = None

    @property
    def key_name(self) -> str:
        """The ``.env.keys`` variable this mapping writes."""
        return private_key_name(self.environment)


@dataclass(frozen=True)
class Limits:
    """How long vault calls may take and how often they are retried; ``None`` = default.

    Attributes:
        timeout: Seconds one request may take (``[vault] timeout``, ``--timeout``).
        retries: Retries of a transient failure (``[vault] retries``, ``--retries``).
        deadline: Seconds a run may spend on vault calls (``[vault] deadline``,
            ``--deadline``).
    """

    timeout: float | None = None
    retries: int | None = None
    deadline: float | None = None

    def over(self, other: Limits) -> Limits:
        """These limits, with ``other``'s filling the ones not set here."""
        return Limits(
            self.timeout if self.timeout is not None else other.timeout,
            self.retries if self.retries is not None else other.retries,
            self.deadline if self.deadline is not None else other.deadline,
        )


@dataclass(frozen=True)
class Config:
    """A loaded configuration.

    Attributes:
        path: The file it came from.
        kind: ``"envdrift.toml"`` (any TOML file), ``"pyproject.toml"`` or ``"pair.txt"``.
        root: The config file's folder: relative paths resolve against it, and
            mappings may not leave it unless ``allow_outside_root`` is set.
        provider: ``[vault] provider`` (``None`` in pair.txt: pass ``-p``).
        vault_tables: Every ``[vault.<name>]`` table, as written, for the backends.
        env_keys_filename: The keys file's name in each folder (default ``.env.keys``).
        allow_outside_root: ``[vault.sync] allow_outside_root``.
        jobs: ``[vault.sync] max_workers``: the default for ``--jobs``.
        limits: ``[vault] timeout``, ``retries`` and ``deadline`` (``None`` where unset).
        mappings: Every mapping, in file order.
        warnings: Unknown keys, one line each; the CLI prints them.
        file_blockers: envdrift 11.x settings that change which files hold secrets or
            how they are encrypted (a SOPS backend, partial encryption), which this
            release does not implement: ``pull`` and ``lock`` refuse to run
            (``refuse_file_commands``) rather than put secrets elsewhere.
        key_prefix: ``"tool.envdrift."`` for pyproject.toml, so messages give full paths.
        label: How messages name the file (relative to the working directory).
    """

    path: Path
    kind: Literal["envdrift.toml", "pyproject.toml", "pair.txt"]
    root: Path
    label: str = ""
    provider: str | None = None
    vault_tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    env_keys_filename: str = DEFAULT_KEYS_FILENAME
    allow_outside_root: bool = False
    jobs: int | None = None
    limits: Limits = field(default_factory=lambda: Limits())
    mappings: tuple[SyncMapping, ...] = ()
    warnings: tuple[str, ...] = ()
    file_blockers: tuple[str, ...] = ()
    key_prefix: str = ""

    def refuse_file_commands(self, command: str) -> None:
        """Stop ``command`` (``pull``, ``lock``) when ``file_blockers`` is not empty.

        Raises:
            ConfigError: naming each setting, exit 2.
        """
        if self.file_blockers:
            raise ConfigError(
                f"{self.label}: envdrift {command} cannot honour "
                + "; ".join(self.file_blockers)
                + f". Nothing was changed: keep envdrift 11.x for {command} in this project, "
                "or remove the setting"
            )

    def select(self, profile: str | None) -> list[SyncMapping]:
        """Return the mappings a run includes, in file order.

        Without a profile: the untagged mappings. With one: the untagged mappings plus
        those tagged with it.

        Raises:
            ConfigError: the selection is empty, or no mapping carries ``profile``.
        """
        if not self.mappings:
            from envdrift._install import docs_url

            raise ConfigError(
                f"{self.label}: no mappings; add [[{self.key_prefix}vault.sync.mappings]] "
                f"tables with secret_name and folder_path (see {docs_url('configuration')})"
            )
        profiles = sorted({m.profile for m in self.mappings if m.profile is not None})
        if profile is not None and profile not in profiles:
            known = ", ".join(profiles) if profiles else "none"
            raise ConfigError(
                f"no mapping in {self.label} has profile {profile!r}."
                f"{did_you_mean(profile, profiles)} Profiles: {known}."
            )
        selected = [m for m in self.mappings if m.profile is None or m.profile == profile]
        if not selected:
            raise ConfigError(
                f"every mapping in {self.label} belongs to a profile, so a run without "
                f"--profile selects nothing; pass --profile ({', '.join(profiles)})"
            )
        return selected

    def section_warnings(
        self, installed: Callable[[], Iterable[str]], *, provider: str | None = None
    ) -> list[str]:
        """Warn about ``[vault.<name>]`` tables that match no installed or known vault.

        ``installed`` lists the installed vaults; it is asked only when a table is
        neither ``provider``'s (an installed vault) nor one of our own backends', since
        listing every vault loads every plugin.

        The warnings go through the run's ``envdrift.strict`` policy (printed, or an
        error under strict config) and are returned for the JSON document.
        """
        from envdrift.strict import current_policy

        unknown = [t for t in self.vault_tables if t != provider and t not in _KNOWN_BACKEND_TABLES]
        names = set(installed()) if unknown else set()
        warnings = []
        for table in unknown:
            if table in names:
                continue
            hint = did_you_mean(table, names | _KNOWN_BACKEND_TABLES)
            warnings.append(
                f"{self.label}: [{self.key_prefix}vault.{table}] matches no installed vault "
                f"and is ignored.{hint}"
            )
        current_policy().check(warnings)
        return warnings


# -- finding and loading ---------------------------------------------------------------


def load_config(path: Path | None, cwd: Path) -> Config:
    """Load the configuration.

    Args:
        path: ``-c/--config``: a TOML file (``envdrift.toml``, any ``*.toml``, or a
            ``pyproject.toml`` with ``[tool.envdrift]``); any other file is read as the
            legacy ``pair.txt``. ``None`` discovers the file from ``cwd`` upwards.
        cwd: The directory a relative ``path`` and discovery start from.

    Unknown keys are warnings (``Config.warnings``), printed through the run's
    ``envdrift.strict`` policy, or, under ``--ci`` or ``ENVDRIFT_STRICT=1``, an error.

    Raises:
        ConfigError: no file found, unreadable, malformed, or of the wrong types; or an
            unknown key under strict config.
    """
    from envdrift.strict import current_policy

    config = _load(path, cwd)
    current_policy().check(config.warnings)
    return config


def _load(path: Path | None, cwd: Path) -> Config:
    cwd = Path(os.path.abspath(cwd))
    if path is None:
        found = find_config(cwd)
        if found is None:
            from envdrift._install import docs_url

            raise ConfigError(
                f"no configuration found in {cwd} or its parents: create {CONFIG_FILENAME} "
                "(or [tool.envdrift] in pyproject.toml), or pass -c FILE; "
                f"see {docs_url('configuration')}"
            )
        path = found
    path = Path(os.path.abspath(cwd / path))
    label = os.path.relpath(path, cwd)
    _refuse_secret_file(path.name, label)
    raw = _read(path, label)
    if path.name == PYPROJECT_FILENAME:
        data = parse_toml(label, raw, strict=True) or {}
        tool = data.get("tool")
        section = tool.get("envdrift") if isinstance(tool, dict) else None
        if not isinstance(section, dict):
            raise ConfigError(f"{label}: no [tool.envdrift] table")
        return _from_toml(path, label, "pyproject.toml", section, "tool.envdrift.")
    if path.suffix.lower() == ".toml":
        data = parse_toml(label, raw, strict=True) or {}
        return _from_toml(path, label, "envdrift.toml", data, "")
    # Not named *.toml: TOML only if it parses and looks like ours, else pair.txt.
    sniffed = parse_toml(label, raw, strict=False)
    if sniffed is not None and "vault" in sniffed:
        return _from_toml(path, label, "envdrift.toml", sniffed, "")
    return _from_pair(path, label, raw)


def _refuse_secret_file(name: str, label: str) -> None:
    """Refuse, unread, an env or keys file passed as the config (``-c .env.keys``).

    Read as pair.txt, its lines would show up as folders and secrets in every report.
    """
    lowered = name.lower()
    if lowered.startswith(".env") or lowered.endswith(".keys"):
        raise ConfigError(
            f"{label} is an env or keys file, not a configuration; pass -c envdrift.toml, "
            "a pyproject.toml or a pair.txt"
        )


#: What only an env or keys file holds: a dotenvx key name, or an encrypted value.
_SECRET_FILE_LINE = re.compile(r"^(?:export\s+)?DOTENV_(?:PUBLIC|PRIVATE)_KEY|encrypted:", re.I)


def _read(path: Path, label: str) -> bytes:
    from envdrift._fs import CONFIG_FILE_LIMIT, FileTooLargeError, read_limited

    try:
        return read_limited(path, CONFIG_FILE_LIMIT)
    except FileNotFoundError:
        raise ConfigError(f"config file {label} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {label} is a directory, not a file") from None
    except FileTooLargeError as exc:
        raise ConfigError(
            f"config file {label} is {exc.strerror}; is this the right file?"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {label}: {exc.strerror or exc}") from None


# -- TOML ------------------------------------------------------------------------------


def _from_toml(
    path: Path,
    label: str,
    kind: Literal["envdrift.toml", "pyproject.toml"],
    data: dict[str, Any],
    prefix: str,
) -> Config:
    _validate(label, data, prefix)
    # Valid from here on: every key of the schema holds its type (None = not set).
    warnings: list[str] = []
    _warn_extra(label, prefix, data, _ROOT_FIELDS, warnings, ignore=_OTHER_SECTIONS)
    vault: Mapping[str, Any] = data.get("vault") or {}
    tables: dict[str, Mapping[str, Any]] = {}
    for key, value in vault.items():
        if key in _VAULT_FIELDS:
            continue
        if isinstance(value, dict):
            if key == "mappings":  # the 1.x `[vault.mappings]` name = folder table
                warnings.append(
                    f"{label}: [{prefix}vault.mappings] is not read by this envdrift and is "
                    f"ignored; write [[{prefix}vault.sync.mappings]] tables instead"
                )
                continue
            tables[key] = value
        else:
            hint = did_you_mean(key, _VAULT_FIELDS)
            warnings.append(f"{label}: unknown key {prefix}vault.{key} is ignored.{hint}")
    sync: Mapping[str, Any] = vault.get("sync") or {}
    _warn_extra(label, f"{prefix}vault.sync.", sync, _SYNC_FIELDS, warnings)
    keys_filename = sync.get("env_keys_filename", DEFAULT_KEYS_FILENAME)
    _check_keys_filename(label, prefix, keys_filename)
    default_vault_name = sync.get("default_vault_name")
    ephemeral = sync.get("ephemeral_keys", False)
    root = path.parent
    mappings: list[SyncMapping] = []
    for index, table in enumerate(sync.get("mappings") or (), start=1):
        where = f"{prefix}vault.sync.mappings[{index}]"
        for key, why in _UNSUPPORTED_MAPPING_KEYS.items():
            if key in table:
                raise ConfigError(
                    f"{label}: {where}.{key} is not supported by this envdrift: {why}"
                )
        _warn_extra(label, f"{where}.", table, _MAPPING_FIELDS, warnings)
        env_file, vault_name = table.get("env_file"), table.get("vault_name")
        if env_file is not None:
            _check_env_file(label, where, env_file)
        environment = table.get("environment")
        if environment is None:
            # envdrift 1.x: a profile-tagged mapping without an environment uses the
            # profile's name (profile "local" -> DOTENV_PRIVATE_KEY_LOCAL).
            environment = table.get("profile") or DEFAULT_ENVIRONMENT
        elif not _ENVIRONMENT.fullmatch(environment):
            raise ConfigError(
                f"{label}: {where}.environment: {environment!r} is not an environment name "
                "(letters, digits, '_' and '-'; it becomes DOTENV_PRIVATE_KEY_<ENVIRONMENT>)"
            )
        mapping_ephemeral = table.get("ephemeral_keys")
        mappings.append(
            SyncMapping(
                index=index,
                secret_name=table["secret_name"],
                folder_path=table["folder_path"],
                folder=root / table["folder_path"],
                environment=environment,
                vault_name=vault_name or default_vault_name,
                profile=table.get("profile"),
                origin=f"mapping {index}",
                vault_name_is_default=vault_name is None and default_vault_name is not None,
                ephemeral=ephemeral if mapping_ephemeral is None else mapping_ephemeral,
                env_file=env_file,
            )
        )
    return Config(
        path=path,
        kind=kind,
        root=root,
        provider=vault.get("provider"),
        vault_tables=tables,
        env_keys_filename=keys_filename,
        allow_outside_root=sync.get("allow_outside_root", False),
        jobs=sync.get("max_workers"),
        limits=Limits(_number(vault, "timeout"), vault.get("retries"), _number(vault, "deadline")),
        mappings=tuple(mappings),
        warnings=tuple(warnings),
        file_blockers=_file_blockers(data, prefix),
        key_prefix=prefix,
        label=label,
    )


def _number(table: Mapping[str, Any], key: str) -> float | None:
    """A number of seconds (TOML may write it as an integer), or ``None``."""
    value = table.get(key)
    return None if value is None else float(value)


def _file_blockers(data: Mapping[str, Any], prefix: str) -> tuple[str, ...]:
    """envdrift 11.x settings that change which files hold secrets, or how."""
    found = []
    encryption = data.get("encryption")
    backend = encryption.get("backend") if isinstance(encryption, Mapping) else None
    if backend is not None and backend != "dotenvx":
        found.append(
            f"[{prefix}encryption] backend = {backend!r} (this envdrift encrypts with dotenvx only)"
        )
    partial = data.get("partial_encryption")
    if isinstance(partial, Mapping) and partial.get("enabled") is True:
        found.append(
            f"[{prefix}partial_encryption] enabled = true (secrets in .secret files, "
            "combined files: not implemented here)"
        )
    return tuple(found)


def _check_keys_filename(label: str, prefix: str, name: str) -> None:
    if "/" in name or "\\" in name or name in {".", ".."} or "\x00" in name:
        raise ConfigError(
            f"{label}: {prefix}vault.sync.env_keys_filename must be a file name such as "
            f"'.env.keys', not a path ({name!r})"
        )


def _check_env_file(label: str, where: str, name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or "\x00" in name or ":" in name:
        raise ConfigError(
            f"{label}: {where}.env_file must name a file inside folder_path, such as "
            f"'.env.prod', not {name!r}"
        )


def _warn_extra(
    label: str,
    prefix: str,
    table: Mapping[str, Any],
    fields: Mapping[str, object],
    warnings: list[str],
    *,
    ignore: frozenset[str] = frozenset(),
) -> None:
    for key in table:
        if key in fields or key in ignore:
            continue
        hint = did_you_mean(key, fields)
        warnings.append(f"{label}: unknown key {prefix}{key} is ignored.{hint}")


# -- pair.txt --------------------------------------------------------------------------


def _from_pair(path: Path, label: str, raw: bytes) -> Config:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text (byte {exc.start})") from None
    root = path.parent
    mappings: list[SyncMapping] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        # A line's content is never quoted: a wrong file can hold keys or plaintext.
        if _SECRET_FILE_LINE.search(stripped):
            raise ConfigError(
                f"{label}:{lineno}: holds a dotenvx key or an encrypted value: this is an "
                "env or keys file, not a pair.txt; pass -c envdrift.toml or a pair.txt"
            )
        left, sep, right = stripped.partition("=")
        left, right = left.strip(), right.strip()
        if not sep or not left or not right:
            raise ConfigError(
                f"{label}:{lineno}: expected 'secret-name=folder-path' or "
                "'vault-name/secret-name=folder-path' (the line is not shown)"
            )
        prefix, slash, secret = left.partition("/")
        prefix, secret = prefix.strip(), secret.strip()
        if slash and (not prefix or not secret):
            raise ConfigError(
                f"{label}:{lineno}: expected 'vault-name/secret-name=folder-path' with "
                "neither name empty around '/' (the line is not shown)"
            )
        mappings.append(
            SyncMapping(
                index=len(mappings) + 1,
                secret_name=secret if slash else left,
                folder_path=right,
                folder=root / right,
                environment=DEFAULT_ENVIRONMENT,
                vault_name=prefix if slash else None,
                profile=None,
                origin=f"line {lineno}",
                name_prefix=prefix if slash else None,
            )
        )
    return Config(path=path, kind="pair.txt", root=root, mappings=tuple(mappings), label=label)
