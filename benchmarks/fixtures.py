"""What the scenarios start from: monorepos of services, ``.env`` files, vault contents.

The encrypted files are written here, with a small ECIES encrypter of the benchmark's own
(coincurve + cryptography, the format of ``/work/shared/notes/dotenvx-format.md``), not
with the envdrift under test: a benchmark's inputs must not come from the code it
measures. The competitors prove the files right: envdrift 11.1.1 and dotenvx decrypt them
in the ``check-decryption``, ``verify-vault`` and ``decrypt`` scenarios, whose checks
fail if they cannot.

Keys are derived from the service number, so every run (and every vault) holds the same
key for ``svc-00042``; seeding a vault twice is harmless.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: secp256k1 group order: a private key is a scalar in [1, N).
_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

PUBLIC_KEY_HEADER = (
    "#/-------------------[DOTENV_PUBLIC_KEY]--------------------/\n"
    "#/            public-key encryption for .env files          /\n"
    "#/       [how it works](https://dotenvx.com/encryption)     /\n"
    "#/----------------------------------------------------------/\n"
)
KEYS_HEADER = (
    "#/------------------!DOTENV_PRIVATE_KEYS!-------------------/\n"
    "#/ private decryption keys. DO NOT commit to source control /\n"
    "#/     [how it works](https://dotenvx.com/encryption)       /\n"
    "#/          \u26e8 ARMORED KEYS: `dotenvx armor up`              /\n"
    "#/----------------------------------------------------------/\n"
)

ENV_FILE = ".env.production"
KEY_NAME = "DOTENV_PRIVATE_KEY_PRODUCTION"


def private_key(number: int) -> str:
    """The private key (64 hex) of service ``number``, the same in every run."""
    seed = f"envdrift-bench:{number}".encode()
    while True:
        digest = hashlib.sha256(seed).digest()
        if 0 < int.from_bytes(digest, "big") < _CURVE_ORDER:
            return digest.hex()
        seed = digest


def public_key(private_hex: str) -> str:
    """The compressed public key (66 hex) dotenvx writes for ``private_hex``."""
    from coincurve import PrivateKey

    return str(PrivateKey(bytes.fromhex(private_hex)).public_key.format(compressed=True).hex())


def _aes(sender: bytes, point: bytes, scalar: bytes) -> AESGCM:
    """The AES-GCM cipher of one value: HKDF-SHA256 over ``sender ‖ scalar·point``."""
    from coincurve import PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    shared = PublicKey(point).multiply(scalar).format(compressed=False)
    hkdf = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"")
    return AESGCM(hkdf.derive(sender + shared))


def encrypt_value(public_hex: str, plaintext: str) -> str:
    """``encrypted:…`` for ``plaintext``, as dotenvx (eciesjs defaults) writes it."""
    from coincurve import PrivateKey

    ephemeral = PrivateKey()
    sender = ephemeral.public_key.format(compressed=False)
    nonce = os.urandom(16)
    aes = _aes(sender, bytes.fromhex(public_hex), ephemeral.secret)
    sealed = aes.encrypt(nonce, plaintext.encode(), None)  # ciphertext ‖ tag
    body = sender + nonce + sealed[-16:] + sealed[:-16]
    return "encrypted:" + base64.b64encode(body).decode()


def decrypt_value(private_hex: str, value: str) -> str:
    """The plaintext of ``encrypted:…`` (raises when the key or the ciphertext is wrong)."""
    body = base64.b64decode(value.removeprefix("encrypted:"))
    sender, nonce, tag, ciphertext = body[:65], body[65:81], body[81:97], body[97:]
    aes = _aes(sender, sender, bytes.fromhex(private_hex))
    return aes.decrypt(nonce, ciphertext + tag, None).decode()


def undecryptable(env_text: str, keys_text: str, values: Sequence[tuple[str, str]]) -> list[str]:
    """Names among ``values`` that ``env_text`` does not hold encrypted to their value.

    The private key is the ``DOTENV_PRIVATE_KEY_PRODUCTION`` of ``keys_text``; this is how
    the benchmark checks an encrypt run without trusting the tool that made it.
    """
    found = [
        line.partition("=")[2].strip()
        for line in keys_text.splitlines()
        if line.startswith(KEY_NAME + "=")
    ]
    if len(found) != 1:
        return [name for name, _ in values]
    key = found[0].strip("\"'")
    stored = {}
    for line in env_text.splitlines():
        name, sep, rest = line.partition("=")
        if sep and rest.strip("\"'").startswith("encrypted:"):
            stored[name.strip()] = rest.strip().strip("\"'")
    wrong = []
    for name, value in values:
        try:
            ok = name in stored and decrypt_value(key, stored[name]) == value
        except Exception:  # noqa: BLE001 - any failure to decrypt means "wrong"
            ok = False
        if not ok:
            wrong.append(name)
    return wrong


def plain_env_text(values: Sequence[tuple[str, str]]) -> str:
    """A plaintext ``.env`` file of ``KEY="value"`` lines."""
    return "".join(f'{name}="{value}"\n' for name, value in values)


def encrypted_env_text(
    private_hex: str, values: Sequence[tuple[str, str]], basename: str = ENV_FILE
) -> str:
    """The file ``dotenvx encrypt`` would write for ``values`` (header, then ciphertexts)."""
    public_hex = public_key(private_hex)
    suffix = basename.removeprefix(".env.").upper()
    lines = [
        PUBLIC_KEY_HEADER,
        f'DOTENV_PUBLIC_KEY_{suffix}="{public_hex}"\n',
        "\n",
        f"# {basename}\n",
    ]
    lines += [f'{name}="{encrypt_value(public_hex, value)}"\n' for name, value in values]
    return "".join(lines)


def keys_file_text(private_hex: str, basename: str = ENV_FILE) -> str:
    """The ``.env.keys`` dotenvx writes for one file."""
    suffix = basename.removeprefix(".env.").upper()
    return f"{KEYS_HEADER}\n# {basename}\nDOTENV_PRIVATE_KEY_{suffix}={private_hex}\n"


def service_values(number: int, count: int = 3) -> list[tuple[str, str]]:
    """Values of one service's env file (no ``$``: dotenvx decrypt would expand it)."""
    names = ["DATABASE_URL", "API_TOKEN", "APP_NAME"]
    values = [
        f"postgres://svc{number}:pw{number}@db.internal:5432/svc{number}",
        hashlib.sha256(f"token:{number}".encode()).hexdigest()[:40],
        f"service {number}",
    ]
    pairs = list(zip(names, values, strict=True))
    pairs += [(f"SETTING_{i:04d}", f"value {i} of service {number}") for i in range(count - 3)]
    return pairs[:count]


def crypto_values(count: int) -> list[tuple[str, str]]:
    """The values of the encrypt/decrypt scenarios, as in the dotenvx format note."""
    return [(f"KEY_{i:05d}", f"value number {i} with some padding text") for i in range(count)]


def secret_name(number: int) -> str:
    """The vault secret that holds service ``number``'s key."""
    return f"envdrift-bench-svc-{number:05d}"


@dataclass(frozen=True)
class Service:
    """One service folder of a monorepo."""

    number: int
    folder: Path

    @property
    def key(self) -> str:
        return private_key(self.number)

    @property
    def keys_file(self) -> Path:
        return self.folder / ".env.keys"

    @property
    def secret(self) -> str:
        return secret_name(self.number)


@dataclass(frozen=True)
class Monorepo:
    """A project root with ``envdrift.toml`` and one folder per service."""

    root: Path
    services: tuple[Service, ...]

    def remove_keys(self) -> None:
        """A fresh clone: no ``.env.keys`` (nor backups) anywhere."""
        for service in self.services:
            for path in service.folder.glob(".env.keys*"):
                path.unlink()

    def install_keys(self) -> None:
        """Every service already holds its right key (the state after a sync)."""
        self.remove_keys()
        for service in self.services:
            service.keys_file.write_text(keys_file_text(service.key), encoding="utf-8")
            service.keys_file.chmod(0o600)

    def check_keys(self) -> None:
        """Raise ``AssertionError`` unless every service holds its right key."""
        for service in self.services:
            try:
                text = service.keys_file.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise AssertionError(f"{service.keys_file} was not written") from None
            entries = [
                line.partition("=")[2].strip().strip("\"'")
                for line in text.splitlines()
                if line.startswith(KEY_NAME + "=")
            ]
            if entries != [service.key]:
                raise AssertionError(f"{service.keys_file} does not hold the vault's key once")


def build_monorepo(
    root: Path,
    provider: str,
    count: int,
    *,
    values_per_file: int = 3,
    provider_settings: dict[str, str] | None = None,
) -> Monorepo:
    """Write a monorepo of ``count`` services mapped to vault secrets in ``envdrift.toml``.

    The file uses the schema both envdrift versions read (the user guide's). Service
    folders hold an encrypted ``.env.production``: envdrift 11.1.1 skips a mapping whose
    folder has no env file, and ``--check-decryption`` decrypts it.
    """
    if root.exists():
        shutil.rmtree(root)
    services = tuple(
        Service(number, root / "services" / f"svc-{number:05d}") for number in range(1, count + 1)
    )
    toml = [f'[vault]\nprovider = "{provider}"\n']
    if provider_settings:
        toml.append(f"\n[vault.{provider}]\n")
        toml += [f'{key} = "{value}"\n' for key, value in provider_settings.items()]
    toml.append("\n[vault.sync]\n")
    for service in services:
        folder = service.folder.relative_to(root).as_posix()
        toml.append(
            f'\n[[vault.sync.mappings]]\nsecret_name = "{service.secret}"\n'
            f'folder_path = "{folder}"\n'
        )

    def write(service: Service) -> None:
        service.folder.mkdir(parents=True)
        text = encrypted_env_text(service.key, service_values(service.number, values_per_file))
        (service.folder / ENV_FILE).write_text(text, encoding="utf-8")

    root.mkdir(parents=True)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, services))
    (root / "envdrift.toml").write_text("".join(toml), encoding="utf-8")
    return Monorepo(root, services)


def seed_vault(provider: str, env: dict[str, str], numbers: Iterable[int]) -> None:
    """Store each service's bare key in the vault at ``env`` (as the guide's CLI does)."""
    numbers = list(numbers)
    if provider == "aws":
        import boto3

        client = boto3.client(
            "secretsmanager",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

        def store(number: int) -> None:
            try:
                client.create_secret(Name=secret_name(number), SecretString=private_key(number))
            except client.exceptions.ResourceExistsException:
                client.put_secret_value(
                    SecretId=secret_name(number), SecretString=private_key(number)
                )

    elif provider == "hashicorp":
        import hvac

        client = hvac.Client(url=env["VAULT_ADDR"], token=env["VAULT_TOKEN"])

        def store(number: int) -> None:
            client.secrets.kv.v2.create_or_update_secret(
                path=secret_name(number), secret={"value": private_key(number)}
            )

    else:
        raise ValueError(f"no seeding for vault {provider!r}")
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(store, numbers))
