"""Encrypting and decrypting whole env files: what ``envdrift encrypt``/``decrypt`` do.

The ``*_text`` functions are pure (text in, text out); the ``*_file`` functions add
reading, key lookup and atomic writing. Nothing is written unless every step succeeded,
and a new private key is stored before the file that needs it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from envdrift._fs import atomic_write
from envdrift.dotenvx.crypto import (
    Decryptor,
    Encryptor,
    decrypt_with_any,
    generate_keypair,
    is_encrypted,
    normalize_public_key,
    public_key_of,
)
from envdrift.dotenvx.envfile import Entry, EnvFile, Span, js_trim
from envdrift.dotenvx.keyring import Keyring, file_public_key, keys_file_locations
from envdrift.dotenvx.keysfile import KeysFile, project_root, update_keys_file
from envdrift.dotenvx.suffix import PUBLIC_KEY_NAME, private_key_name, public_key_name
from envdrift.errors import ConfigError, DecryptionError, FormatError
from envdrift.gitsafety import GitProtection
from envdrift.secrets import Secret

__all__ = [
    "DecryptOutcome",
    "DecryptWithWrongKeyError",
    "EncryptOutcome",
    "KeySource",
    "Leftover",
    "check_env_file_name",
    "committed_ciphertexts",
    "decrypt_file",
    "decrypt_text",
    "encrypt_file",
    "encrypt_text",
    "public_key_header",
]

#: Asked for the private key a file without one should use, before a new pair is made:
#: ``(env file, DOTENV_PRIVATE_KEY_<ENV>) -> (key, where it came from)``, or ``None`` to
#: make a new pair. It may raise ``EnvdriftError`` to stop (nothing is written then).
KeySource = Callable[[Path, str], "tuple[Secret, str] | None"]

#: File names (by their dot-separated parts) that hold no secrets or hold the keys.
_REFUSED_PARTS = ("example", "sample", "template")

_HEADER_BANNER = (
    "#/-------------------[DOTENV_PUBLIC_KEY]--------------------/\n"
    "#/            public-key encryption for .env files          /\n"
    "#/       [how it works](https://dotenvx.com/encryption)     /\n"
    "#/----------------------------------------------------------/\n"
)


@dataclass(frozen=True)
class Leftover:
    """A value that stays as it is, and why.

    Attributes:
        key: The variable name.
        line: Its 1-based line.
        reason: Why it could not be changed, in words.
    """

    key: str
    line: int
    reason: str

    def describe(self) -> str:
        """``line N: KEY <reason>``."""
        return f"line {self.line}: {self.key} {self.reason}"


class DecryptWithWrongKeyError(DecryptionError):
    """Keys were found but none opens some values: the file's key is not held here."""


# -- names -------------------------------------------------------------------------


def check_env_file_name(path: Path) -> None:
    """Refuse files that must never be encrypted or decrypted, by name.

    Raises:
        ConfigError: ``path`` is a ``.env.keys`` file or an example/sample/template.
    """
    name = path.name.lower()
    if name == ".env.keys" or name.endswith(".keys"):
        raise ConfigError(f"{path} holds private keys; envdrift never encrypts or decrypts it")
    parts = name.split(".")
    for part in _REFUSED_PARTS:
        if part in parts:
            raise ConfigError(
                f"{path} looks like a .{part} file, which is meant to stay readable; "
                "rename it if it really holds secrets"
            )


def _read_env(path: Path) -> EnvFile:
    check_env_file_name(path)
    try:
        return EnvFile.read(path)
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist (envdrift does not create env files)") from None


# -- encrypt -----------------------------------------------------------------------


def public_key_header(
    name: str, public_key: str, env_file_name: str, keys_hint: str | None = None
) -> str:
    """Return the block dotenvx puts above a newly encrypted file's content.

    ``keys_hint`` is the keys file's path relative to the env file's directory when it
    is not ``.env.keys`` there; dotenvx then appends ``# -fk <path>`` to the key line.
    """
    comment = f" # -fk {keys_hint}" if keys_hint else ""
    return f'{_HEADER_BANNER}{name}="{public_key}"{comment}\n\n# {env_file_name}\n'


def _insert_header(text: str, header: str) -> str:
    # dotenvx keeps a shebang line first and puts the block right after it.
    if not text.startswith("#!"):
        return header + text
    newline = text.find("\n")
    if newline < 0:
        return text + "\n" + header
    return text[: newline + 1] + header + text[newline + 1 :]


@dataclass
class _Encrypted:
    text: str
    encrypted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)


def _encryptable(entry: Entry) -> bool:
    return not entry.key.startswith(PUBLIC_KEY_NAME) and not entry.key.endswith("_PLAIN")


def encrypt_text(
    env: EnvFile, public_key: str, previous: Mapping[str, tuple[str, str]] | None = None
) -> _Encrypted:
    """Encrypt every plaintext value of ``env`` for ``public_key``, in one pass.

    Public-key lines and ``*_PLAIN`` keys stay plain, as in dotenvx 2.x. Values already
    encrypted keep their ciphertext (their ``KEY = v`` spacing is normalised to
    ``KEY=v``, as dotenvx does). Values dotenvx cannot rewrite in place (``KEY: value``,
    ``'it\\'s'``) are returned as leftovers instead of silently staying readable.

    ``previous`` maps a key to ``(plaintext, ciphertext)`` from the committed file
    (``committed_ciphertexts``): a value still equal to that plaintext gets that
    ciphertext back instead of a fresh one, so a decrypt/encrypt round trip changes only
    the lines whose values changed.

    Raises:
        FormatError: a line would read differently once rewritten (naming it).
    """
    encryptor = Encryptor(public_key)
    result = _Encrypted(env.text)
    edits: list[tuple[Entry, Span, str]] = []
    for entry in env.entries:
        if not _encryptable(entry):
            continue
        value = entry.value
        span = env.locate(entry) if value is not None else None
        if span is not None and not _covers_value(env, entry, span):
            span = None  # dotenvx would leave the rest of the value behind its ciphertext
        if value is None or span is None:
            if value is None or not is_encrypted(value):
                result.leftovers.append(
                    Leftover(entry.key, entry.line, "cannot be encrypted in place: " + _why(entry))
                )
            continue
        if is_encrypted(value):
            edits.append((entry, span, value))
            continue
        before = (previous or {}).get(entry.key)
        if before is not None and before[0] == value:
            edits.append((entry, span, before[1]))
            result.kept.append(entry.key)
        else:
            edits.append((entry, span, encryptor.encrypt(value)))
        result.encrypted.append(entry.key)
    result.text = env.rewrite(edits)
    _check_rewrite(env, result.text, {id(entry): value for entry, _, value in edits})
    return result


def _covers_value(env: EnvFile, entry: Entry, span: Span) -> bool:
    """Whether only blanks or a comment follow ``span`` on the entry's line."""
    rest = js_trim(env.text[span.end : max(span.end, entry.end)])
    return not rest or rest.startswith("#")


def _check_rewrite(env: EnvFile, text: str, values: Mapping[int, str]) -> None:
    """Make sure ``text`` reads as ``env`` with ``values`` (by entry ``id``) put in.

    Each rewritten value is chosen to read the same whatever follows it, but a line
    already in the file may read on into the next lines, and so change with them.

    Raises:
        FormatError: some assignment would read differently (naming it); nothing written.
    """
    after = EnvFile(text).entries
    for index, entry in enumerate(env.entries):
        now = after[index] if index < len(after) else None
        if now is None or (now.key, now.value) != (entry.key, values.get(id(entry), entry.value)):
            where = f"{env.path}, line {entry.line}" if env.path else f"line {entry.line}"
            raise FormatError(
                f"{where}: {entry.key} would read differently once the file is rewritten: "
                "its value runs on into the lines after it (an unquoted value that starts "
                "with a quote?). Quote it and run again; the file was not changed"
            )


def _why(entry: Entry) -> str:
    line = entry.raw
    if entry.value is None:
        return "the line above swallows it once CRLF line endings are read (dotenvx skips it)"
    if entry.quote == "'" and "\\'" in line:
        return "a single-quoted value with \\' inside; use double quotes"
    return "write it as KEY=value (dotenvx rewrites only that form)"


@dataclass
class EncryptOutcome:
    """What ``encrypt_file`` did (or, with ``check``, would do).

    Attributes:
        path: The env file.
        changed: The file's content changed (or would change).
        encrypted: Names of the values encrypted now, in file order.
        kept: Those of them that got their committed ciphertext back (value unchanged).
        leftovers: Plaintext values that stay readable.
        public_key: The public key used.
        key_created: A new key pair was generated and stored.
        key_reused: The private key came from the keys file or environment by name.
        key_fetched: Where the private key came from when ``key_source`` gave it.
        keys_path: The keys file written (or that would be written).
        git: What keeping the keys file out of git did (``protect``), when it was written.
        text: The encrypted text (written unless ``check``).
    """

    path: Path
    changed: bool
    encrypted: list[str]
    leftovers: list[Leftover]
    public_key: str
    kept: list[str] = field(default_factory=list)
    key_created: bool = False
    key_reused: str | None = None
    key_fetched: str | None = None
    keys_path: Path | None = None
    git: GitProtection | None = None
    text: str = field(default="", repr=False)


def encrypt_file(
    path: Path,
    *,
    keys_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    check: bool = False,
    key_source: KeySource | None = None,
) -> EncryptOutcome:
    """Encrypt the plaintext values of the env file at ``path`` in place.

    Uses the file's ``DOTENV_PUBLIC_KEY*`` when it has one. Otherwise it reuses the
    private key named for the file (``DOTENV_PRIVATE_KEY_<ENV>``) from the environment
    or the keys file, so a key synced from a vault is not replaced, and only when there
    is none generates a pair, storing the private key in the keys file (next to the env
    file unless ``keys_file`` is given) before writing the env file.

    Before generating a pair, ``key_source`` (when given, and not with ``check``) may
    supply the key instead: the vault's key for a mapped folder, so that no stray pair is
    born. That key is stored in the keys file as a new key would be.

    With ``check``, nothing is written (a key pair the file would need is generated
    and discarded).

    Raises:
        ConfigError: the file does not exist or must not be encrypted.
        FormatError: the file or its public key is malformed.
    """
    env = _read_env(path)
    keys_path = keys_file or keys_file_locations(path)[0]
    found = env.public_key()
    if found is not None:
        entry, value = found
        try:
            public_key = normalize_public_key(value)
        except FormatError as exc:
            raise FormatError(f"{path}, line {entry.line}: {entry.key} is a {exc}") from None
        previous = {} if check else committed_ciphertexts(path, env, public_key, keys_file, environ)
        return _finish(path, env, public_key, "", keys_path, check, previous)
    name = private_key_name(path)
    ring = Keyring.gather(path, keys_file=keys_file, environ=environ)
    reuse = next((c for c in ring.candidates if c.name == name and c.public_key), None)
    if reuse is not None and reuse.public_key is not None:
        outcome = _finish(
            path,
            env,
            reuse.public_key,
            _header(path, reuse.public_key, keys_path),
            keys_path,
            check,
        )
        outcome.key_reused = reuse.label
        return outcome
    if check:
        # The pair is thrown away: it only makes the dry run exact.
        public_key = generate_keypair().public_key
        outcome = _finish(
            path, env, public_key, _header(path, public_key, keys_path), keys_path, True
        )
        outcome.key_created = True
        return outcome

    # Asked before the writers' lock is taken: it may call a vault.
    supplied = key_source(path, name) if key_source is not None else None

    def choose(keys: KeysFile) -> tuple[EncryptOutcome, str | None]:
        # Decided under the writers' lock, on the file as it is now: a key that another
        # writer (a sync) stored meanwhile is used, never overwritten.
        current = keys.get(name)
        public = _public_key_or_none(current) if current is not None else None
        if current is not None and public is not None:
            return _finish(
                path, env, public, _header(path, public, keys_path), keys_path, True
            ), None
        if supplied is not None:
            key, public = supplied[0], public_key_of(supplied[0])
        else:
            pair = generate_keypair()
            key, public = pair.private_key, pair.public_key
        # Encrypt before setting the key: a file that cannot be encrypted leaves no key.
        result = _finish(path, env, public, _header(path, public, keys_path), keys_path, True)
        keys.set(name, key, comment=path.name)
        return result, public

    update = update_keys_file(keys_path, choose, root=project_root(path.parent))
    outcome, stored = update.value
    outcome.git = update.git
    if stored is None:
        outcome.key_reused = f"{name} ({keys_path})"
    elif supplied is not None:
        outcome.key_fetched = supplied[1]
    else:
        outcome.key_created = True
    # The key is stored: only now may the file be encrypted for it.
    _write_encrypted(outcome)
    return outcome


def committed_ciphertexts(
    path: Path,
    env: EnvFile,
    public_key: str,
    keys_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, tuple[str, str]]:
    """``key -> (plaintext, ciphertext)`` for the values git's ``HEAD`` holds encrypted
    for ``public_key`` in ``path``, when ``env`` has plaintext to encrypt and a private
    key for ``public_key`` is at hand (in the environment or a keys file) to read them.

    Empty otherwise: no git, not committed, another key, or nothing to encrypt. A
    ciphertext that does not decrypt (or was made for another key) is never reused.
    """
    if not any(
        _encryptable(e) and e.value is not None and not is_encrypted(e.value) for e in env.entries
    ):
        return {}
    from envdrift.gitsafety import committed_text

    text = committed_text(path)
    if text is None or PUBLIC_KEY_NAME not in text:
        return {}
    committed = EnvFile(text)
    try:
        if file_public_key(committed) != public_key:
            return {}
        holder = Keyring.gather(path, keys_file=keys_file, environ=environ).matching(public_key)
    except FormatError:
        return {}
    if holder is None:
        return {}
    decryptor = Decryptor(holder.key)
    found: dict[str, tuple[str, str]] = {}
    for entry in committed.entries:
        if entry.value is not None and is_encrypted(entry.value):
            try:
                found[entry.key] = (decryptor.decrypt(entry.value), entry.value)
            except (DecryptionError, FormatError):
                continue
    return found


def _header(path: Path, public_key: str, keys_path: Path) -> str:
    return public_key_header(
        public_key_name(path), public_key, path.name, _keys_hint(path, keys_path)
    )


def _public_key_or_none(key: Secret) -> str | None:
    try:
        return public_key_of(key)
    except FormatError:
        return None


def _finish(
    path: Path,
    env: EnvFile,
    public_key: str,
    header: str,
    keys_path: Path,
    check: bool,
    previous: Mapping[str, tuple[str, str]] | None = None,
) -> EncryptOutcome:
    """Encrypt ``env`` for ``public_key``; write it unless ``check``."""
    result = encrypt_text(env, public_key, previous)
    text = _insert_header(result.text, header) if header else result.text
    outcome = EncryptOutcome(
        path,
        text != env.text,
        result.encrypted,
        result.leftovers,
        public_key,
        kept=result.kept,
        keys_path=keys_path,
        text=text,
    )
    if not check:
        _write_encrypted(outcome)
    return outcome


def _write_encrypted(outcome: EncryptOutcome) -> None:
    if outcome.changed:
        # Always UTF-8, as dotenvx writes (a UTF-16 file comes back as UTF-8).
        atomic_write(outcome.path, outcome.text.encode("utf-8"))


def _keys_hint(env_path: Path, keys_path: Path) -> str | None:
    env_dir = os.path.dirname(os.path.abspath(env_path))
    keys_abs = os.path.abspath(keys_path)
    if keys_abs == os.path.join(env_dir, ".env.keys"):
        return None
    return os.path.relpath(keys_abs, env_dir)


# -- decrypt -----------------------------------------------------------------------


_SENTINEL = "\n#'\"`\nENVDRIFT_QUOTE_CHECK=1\n"
_LITERAL_QUOTES = ("'",)  # values in these are never $-expanded by dotenv loaders


def _inner(quote: str, plaintext: str) -> str:
    if quote == '"' and "\r" in plaintext:
        # A raw CR would be folded to LF on reading; double quotes can carry it as \r.
        return plaintext.replace("\r", "\\r")
    return plaintext


def _reads_back(key: str, token: str, tail: str, plaintext: str) -> bool:
    probe = EnvFile(f"{key}={token}{tail}{_SENTINEL}")
    return (
        len(probe.entries) == 2
        and probe.entries[0].key == key
        and probe.entries[0].value == plaintext
        and probe.entries[1].key == "ENVDRIFT_QUOTE_CHECK"
    )


def safe_quote(
    key: str, original: str, plaintext: str, tail: str = "", *, quote_follows: bool = False
) -> str | None:
    """Choose the quote to write ``plaintext`` back with, or ``None`` if none is safe.

    dotenvx writes a decrypted value between the ciphertext's quotes without escaping,
    which corrupts values holding that quote, a newline or ``#`` (the next encrypt
    then stores a truncated value). We keep the original quote when the result reads
    back as exactly ``plaintext``; otherwise we try the other quotes, but switch
    between single quotes (never ``$``-expanded by dotenv loaders) and the others only
    when the value holds no ``$``, so a loader's expansion means the same.
    ``quote_follows`` says the next text after the line, blanks aside, is a quote.
    """
    literal = original in _LITERAL_QUOTES
    same = [q for q in ("'", '"', "`", "") if (q in _LITERAL_QUOTES) == literal]
    other = [q for q in ("'", '"', "`", "") if (q in _LITERAL_QUOTES) != literal]
    order = [original, *(q for q in same if q != original)]
    if "$" not in plaintext:
        order += other
    for quote in order:
        token = quote + _inner(quote, plaintext) + quote
        if _bounded(token, quote_follows) and (
            _plainly_safe(quote, plaintext) or _reads_back(key, token, tail, plaintext)
        ):
            return quote
    return None


def _bounded(token: str, quote_follows: bool) -> bool:
    """Whether ``KEY=<token>`` reads the same whatever lines follow it.

    A token that opens with a quote may read on to the next such quote not preceded by
    a backslash, wherever it is in the file: so one is needed inside the token (a value
    ending in a backslash escapes its own closing quote). An empty unquoted value lets
    the pattern skip blank space, line breaks included, to a quote that follows.
    """
    opening = token[:1]
    if opening not in ("'", '"', "`"):
        return token != "" or not quote_follows
    # From the end: the closing quote is usually the last character.
    return any(token[i] == opening and token[i - 1] != "\\" for i in range(len(token) - 1, 0, -1))


# Characters that can end, escape or fold a quoted value; without them a quoted value
# reads back as itself whatever follows it on the line (the ciphertext's tail was valid).
_QUOTED_HAZARDS = {'"': '"\\\r', "'": "'\\\r", "`": "`\\\r"}
_BARE_HAZARDS = "#\r\n\u2028\u2029"


def _plainly_safe(quote: str, plaintext: str) -> bool:
    """A cheap sufficient test, so the parse in ``_reads_back`` runs only for odd values."""
    if quote:
        return not any(c in plaintext for c in _QUOTED_HAZARDS[quote])
    return (
        plaintext[:1] not in ("", "'", '"', "`")
        and js_trim(plaintext) == plaintext
        and not any(c in plaintext for c in _BARE_HAZARDS)
    )


@dataclass
class _Decrypted:
    text: str
    decrypted: list[str] = field(default_factory=list)
    requoted: list[Leftover] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)
    failed: list[Entry] = field(default_factory=list)
    unsafe: list[Entry] = field(default_factory=list)
    used: list[Decryptor] = field(default_factory=list)


def decrypt_text(env: EnvFile, decryptors: list[Decryptor]) -> _Decrypted:
    """Decrypt every encrypted value of ``env``, trying ``decryptors`` in order per value.

    Plaintext lines stay byte-for-byte (no variable expansion, no command
    substitution, unlike dotenvx). Values that fail to decrypt land in ``failed``,
    values no quoting can hold in ``unsafe``; the caller decides (nothing is written).

    Raises:
        FormatError: a value is not a well-formed ciphertext, or a line would read
            differently once rewritten (naming line and key).
    """
    result = _Decrypted(env.text)
    edits: list[tuple[Entry, Span, str]] = []
    plaintexts: dict[int, str] = {}
    order = list(decryptors)
    for entry in env.entries:
        value = entry.value
        if value is None or not is_encrypted(value):
            continue
        span = env.locate(entry)
        if span is None:
            result.leftovers.append(
                Leftover(entry.key, entry.line, "stays encrypted: " + _why(entry))
            )
            continue
        try:
            opened = decrypt_with_any(order, value)
        except FormatError as exc:
            where = f"{env.path}, line {entry.line}" if env.path else f"line {entry.line}"
            raise FormatError(f"{where}: {entry.key} holds a {exc}") from None
        if opened is None:
            result.failed.append(entry)
            continue
        index, plaintext = opened
        decryptor = order.pop(index)
        order.insert(0, decryptor)  # the key that worked goes first for the next value
        if decryptor not in result.used:
            result.used.append(decryptor)
        line_end = max(span.end, entry.end)
        tail = env.text[span.end : line_end]
        quote_follows = plaintext == "" and env.quote_follows(line_end)
        quote = safe_quote(entry.key, span.quote, plaintext, tail, quote_follows=quote_follows)
        if quote is None:
            result.unsafe.append(entry)
            continue
        if quote != span.quote:
            shown = {"'": "single quotes", '"': "double quotes", "`": "backticks", "": "no quotes"}
            result.requoted.append(
                Leftover(
                    entry.key, entry.line, f"is written with {shown[quote]} to read back intact"
                )
            )
        requoted = Span(span.key_start, span.end, quote, span.newlines)
        edits.append((entry, requoted, _inner(quote, plaintext)))
        plaintexts[id(entry)] = plaintext
        result.decrypted.append(entry.key)
    result.text = env.rewrite(edits)
    _check_rewrite(env, result.text, plaintexts)
    return result


@dataclass
class DecryptOutcome:
    """What ``decrypt_file`` produced.

    Attributes:
        path: The env file.
        text: The decrypted text (what was or would be written).
        changed: The text differs from the file's.
        decrypted: Names of the values decrypted, in file order.
        requoted: Values written with a different quote than dotenvx would use.
        leftovers: Encrypted values left as they are (dotenvx cannot rewrite them).
        key_source: Where the key(s) that worked came from (``NAME (source)``).
    """

    path: Path
    text: str
    changed: bool
    decrypted: list[str]
    requoted: list[Leftover]
    leftovers: list[Leftover]
    key_source: str | None


def decrypt_file(
    path: Path,
    *,
    keys_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    write: bool = True,
) -> DecryptOutcome:
    """Decrypt the env file at ``path``; write it back in place unless ``write`` is false.

    The key comes from ``DOTENV_PRIVATE_KEY*`` environment variables or the keys file
    (``keys_file``, else ``.env.keys`` next to the file and in the current directory),
    matched to the file's public key.

    Raises:
        ConfigError: the file does not exist or must not be decrypted.
        DecryptionError: no key, or some values would not decrypt (names them and every
            place searched); the file is untouched.
        FormatError: malformed file, key material or ciphertext; or a decrypted value
            no quoting can hold.
    """
    env = _read_env(path)
    encrypted = [e for e in env.entries if e.value is not None and is_encrypted(e.value)]
    if not encrypted:
        return DecryptOutcome(path, env.text, False, [], [], [], None)
    public_key = file_public_key(env)
    ring = Keyring.gather(path, keys_file=keys_file, environ=environ)
    candidates = ring.ordered_for(public_key, private_key_name(path))
    where = "; ".join(ring.looked_at)
    if not candidates:
        invalid = ring.invalid()
        detail = (
            " Not valid private keys (need 64 hex characters): "
            + ", ".join(c.label for c in invalid)
            + "."
            if invalid
            else ""
        )
        raise DecryptionError(
            f"no private key for {path} (public key {public_key or 'unknown'}); "
            f"looked in: {where}.{detail} Run `envdrift sync` or set {private_key_name(path)}"
        )
    decryptors = [Decryptor(c.key) for c in candidates]
    result = decrypt_text(env, decryptors)
    if result.failed:
        names = ", ".join(dict.fromkeys(e.key for e in result.failed))
        raise DecryptWithWrongKeyError(
            f"could not decrypt {names} in {path} with any key found; looked in: {where}. "
            "The file was not changed."
        )
    if result.unsafe:
        first = result.unsafe[0]
        names = ", ".join(f"{e.key} (line {e.line})" for e in result.unsafe)
        raise FormatError(
            f"{path}: the decrypted value of {names} mixes quotes, newlines, '#', '$' "
            "or a final backslash "
            "so that no quoting reads it back intact; the file was not changed. "
            f"Read it with `dotenvx get {first.key}` or change the value"
        )
    used = [candidates[decryptors.index(d)].label for d in result.used]
    outcome = DecryptOutcome(
        path,
        result.text,
        result.text != env.text,
        result.decrypted,
        result.requoted,
        result.leftovers,
        ", ".join(used) or None,
    )
    if write and outcome.changed:
        atomic_write(path, result.text.encode("utf-8"))
    return outcome
