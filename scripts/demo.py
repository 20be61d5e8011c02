"""envdrift's main job, end to end, against local vault servers.

For each vault (HashiCorp Vault via the OpenBao dev server, AWS Secrets Manager via
moto_server, Azure Key Vault via the project's HTTPS test server driven by the real
Azure SDK) this runs the user guide's team workflow in a scratch monorepo of three
services, printing each command and its output as a user would see them:

encrypt → vault-push → a new teammate's clone (no .env.keys) → sync → decrypt →
decrypt --verify-vault (passes) → a teammate re-encrypts with a stray key →
--verify-vault (fails, with repair steps) → the repair → rotate → sync --force in
another clone.

It ends with a one-screen summary, stops every server it started, and exits 1 if any
step did not behave as shown. Run it with ``scripts/demo.sh``.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.azure_keyvault import keyvault_server
from tests.servers.moto import moto_server
from tests.servers.openbao import openbao_server

REPO = Path(__file__).resolve().parent.parent

ENVDRIFT = str(Path(sys.executable).with_name("envdrift"))
SERVICES = {
    "app": {"DATABASE_URL": "postgres://app@db/app", "STRIPE_KEY": "sk_test_app"},
    "auth": {"JWT_SECRET": "auth-signing-secret", "SESSION_TTL": "3600"},
    "api": {"UPSTREAM_URL": "https://api.internal", "API_TOKEN": "tok-api-42"},
}
BOLD, GREEN, RED, DIM, RESET = (
    ("\033[1m", "\033[32m", "\033[31m", "\033[2m", "\033[0m")
    if sys.stdout.isatty()
    else ("", "", "", "", "")
)


@dataclass
class Provider:
    """One vault: its name, the ``[vault.<name>]`` table and the environment it needs."""

    name: str
    label: str
    table: str
    env: dict[str, str]


@dataclass
class Outcome:
    provider: str
    step: str
    ok: bool
    detail: str = ""


@dataclass
class Demo:
    outcomes: list[Outcome] = field(default_factory=list)

    def run(
        self,
        provider: Provider,
        step: str,
        args: Sequence[str],
        cwd: Path,
        *,
        expect_exit: int = 0,
        expect: Sequence[str] = (),
        shell: bool = False,
    ) -> str:
        """Run one command as a user would, show it, and record whether it behaved."""
        shown = " ".join(shlex.quote(a) for a in args) if not shell else args[0]
        print(f"{BOLD}$ {shown}{RESET}")
        env = {**os.environ, **provider.env}
        argv = list(args)
        if not shell and argv[0] == "envdrift":
            argv[0] = ENVDRIFT
        proc = subprocess.run(
            argv if not shell else ["bash", "-c", args[0]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        for line in (proc.stdout + proc.stderr).rstrip("\n").splitlines():
            print(f"    {line}")
        problems = []
        if proc.returncode != expect_exit:
            problems.append(f"exit {proc.returncode}, expected {expect_exit}")
        output = proc.stdout + proc.stderr
        problems += [f"missing {text!r}" for text in expect if text not in output]
        ok = not problems
        mark = f"{GREEN}✓{RESET}" if ok else f"{RED}✗ {'; '.join(problems)}{RESET}"
        print(f"    {DIM}→ exit {proc.returncode}{RESET} {mark}\n")
        self.outcomes.append(Outcome(provider.name, step, ok, "; ".join(problems)))
        return output

    def check(self, provider: Provider, step: str, ok: bool, detail: str) -> None:
        mark = f"{GREEN}✓{RESET}" if ok else f"{RED}✗{RESET}"
        print(f"    {mark} {detail}\n")
        self.outcomes.append(Outcome(provider.name, step, ok, "" if ok else detail))


def write_monorepo(root: Path, provider: Provider) -> None:
    """Three services with plaintext .env.production files and the guide's envdrift.toml."""
    mappings = "".join(
        f'\n[[vault.sync.mappings]]\nsecret_name = "{name}-dotenvx-key"\n'
        f'folder_path = "services/{name}"\n'
        for name in SERVICES
    )
    (root / "envdrift.toml").write_text(
        f'[vault]\nprovider = "{provider.name}"\n\n{provider.table}\n{mappings}'
    )
    (root / ".gitignore").write_text(".env.keys\n.env.keys.backup.*\n")
    for name, values in SERVICES.items():
        folder = root / "services" / name
        folder.mkdir(parents=True)
        (folder / ".env.production").write_text(
            "".join(f'{key}="{value}"\n' for key, value in values.items())
        )


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=demo", "-c", "user.email=demo@example.invalid", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def _key(keys_file: Path) -> str | None:
    """The production key in a keys file (compared, never printed)."""
    if not keys_file.exists():
        return None
    for line in keys_file.read_text().splitlines():
        if line.startswith("DOTENV_PRIVATE_KEY_PRODUCTION="):
            return line.partition("=")[2]
    return None


def workflow(demo: Demo, provider: Provider, workdir: Path) -> None:
    """The user guide's team workflow against one vault."""
    print(f"{BOLD}=== {provider.label} ==={RESET}\n")
    repo = workdir / provider.name / "monorepo"
    repo.mkdir(parents=True)
    write_monorepo(repo, provider)
    git(repo, "init", "-q", "-b", "main")
    files = [f"services/{name}/.env.production" for name in SERVICES]
    run = demo.run

    run(provider, "encrypt", ["envdrift", "encrypt", *files], repo, expect=["encrypted"])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Add encrypted environments")
    run(provider, "vault-push", ["envdrift", "vault-push"], repo, expect=["3 created"])

    # A new teammate: a fresh clone, without any .env.keys.
    clone = workdir / provider.name / "teammate"
    git(workdir, "clone", "-q", str(repo), str(clone))
    run(provider, "sync (new clone)", ["envdrift", "sync"], clone, expect=["3 created"])
    same = all(
        _key(clone / f"services/{n}/.env.keys") == _key(repo / f"services/{n}/.env.keys")
        for n in SERVICES
    )
    demo.check(provider, "keys reproduced", same, "the clone's .env.keys hold the same keys")
    run(
        provider,
        "decrypt",
        ["envdrift", "decrypt", "services/app/.env.production", "--stdout"],
        clone,
        expect=[SERVICES["app"]["DATABASE_URL"]],
    )
    verify = ["envdrift", "decrypt", "services/app/.env.production", "--verify-vault", "--ci"]
    run(provider, "verify-vault passes", verify, clone, expect=["ok: the key in"])

    # A teammate re-encrypts app's file with a stray key (a fresh pair, not the vault's).
    stray = clone / "services/app"
    (stray / ".env.production").write_text(
        "".join(f'{k}="{v}"\n' for k, v in SERVICES["app"].items())
    )
    (stray / ".env.keys").unlink()
    run(
        provider,
        "stray re-encrypt",
        ["envdrift", "encrypt", "services/app/.env.production"],
        clone,
        expect=["encrypted"],
    )
    run(
        provider,
        "verify-vault fails",
        verify,
        clone,
        expect_exit=1,
        expect=[
            "encrypted with a different key",
            "1. git restore services/app/.env.production",
            "2. envdrift sync --force",
            "3. envdrift encrypt services/app/.env.production",
        ],
    )
    # The repair, exactly as printed.
    run(provider, "repair 1", ["git restore services/app/.env.production"], clone, shell=True)
    run(provider, "repair 2", ["envdrift", "sync", "--force"], clone, expect=["updated"])
    run(provider, "repair 3", ["envdrift", "encrypt", "services/app/.env.production"], clone)
    run(provider, "verify-vault after repair", verify, clone, expect=["ok: the key in"])

    # Rotation in the first checkout; the teammate pulls and syncs.
    run(
        provider,
        "rotate",
        ["envdrift", "rotate", "services/auth/.env.production"],
        repo,
        expect=["verified", "envdrift sync --force"],
    )
    git(repo, "commit", "-q", "-am", "Rotate auth's key")
    run(provider, "pull rotated file", ["git pull -q"], clone, shell=True)
    run(provider, "sync --force", ["envdrift", "sync", "--force"], clone, expect=["updated"])
    run(
        provider,
        "verify rotated",
        ["envdrift", "decrypt", "services/auth/.env.production", "--verify-vault", "--ci"],
        clone,
        expect=["ok: the key in"],
    )
    run(provider, "sync --verify", ["envdrift", "sync", "--verify"], clone)


@contextlib.contextmanager
def servers(workdir: Path) -> Iterator[list[Provider]]:
    """Start the three local servers and describe how envdrift reaches each."""
    with contextlib.ExitStack() as stack:
        started = time.perf_counter()
        bao = stack.enter_context(openbao_server(workdir / "openbao"))
        moto = stack.enter_context(moto_server(log_dir=workdir))
        (workdir / "keyvault").mkdir()
        keyvault = stack.enter_context(
            keyvault_server(workdir / "keyvault", client_secrets={"demo-app": "demo-secret"})
        )
        print(
            f"{DIM}started OpenBao, moto_server and the Key Vault test server "
            f"in {time.perf_counter() - started:.1f} s{RESET}\n"
        )
        yield [
            Provider(
                "hashicorp",
                f"HashiCorp Vault (OpenBao dev server at {bao.address})",
                f'[vault.hashicorp]\nurl = "{bao.address}"',
                {"VAULT_TOKEN": bao.root_token},
            ),
            Provider(
                "aws",
                f"AWS Secrets Manager (moto_server at {moto})",
                '[vault.aws]\nregion = "eu-west-1"',
                {
                    "AWS_ENDPOINT_URL": moto,
                    "AWS_ACCESS_KEY_ID": "demo",
                    "AWS_SECRET_ACCESS_KEY": "demo",
                },
            ),
            Provider(
                "azure",
                f"Azure Key Vault (HTTPS test server on port {keyvault.port}, real Azure SDK)",
                f'[vault.azure]\nvault_url = "https://localhost:{keyvault.port}/"',
                {
                    **keyvault.credential_env("demo-app"),
                    # A local Key Vault is not <name>.vault.azure.net: relax the SDK's
                    # challenge-resource check, as users of emulators do.
                    "ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE": "0",
                },
            ),
        ]


def main() -> int:
    started = time.perf_counter()
    demo = Demo()
    workdir = Path(tempfile.mkdtemp(prefix="envdrift-demo-"))
    try:
        with servers(workdir) as providers:
            for provider in providers:
                workflow(demo, provider, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - started
    failed = [o for o in demo.outcomes if not o.ok]
    print(f"{BOLD}=== Summary ==={RESET}")
    for provider in dict.fromkeys(o.provider for o in demo.outcomes):
        mine = [o for o in demo.outcomes if o.provider == provider]
        bad = [o for o in mine if not o.ok]
        status = (
            f"{GREEN}all {len(mine)} steps as shown{RESET}"
            if not bad
            else (
                f"{RED}{len(bad)} of {len(mine)} steps did not behave: "
                + ", ".join(f"{o.step} ({o.detail})" for o in bad)
                + RESET
            )
        )
        print(f"  {provider:<10} {status}")
    print(
        f"  {len(demo.outcomes) - len(failed)}/{len(demo.outcomes)} steps passed "
        f"in {elapsed:.1f} s; every server stopped."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
