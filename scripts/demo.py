"""A team's first week with envdrift, end to end, against local vault servers.

``scripts/demo.sh [hashicorp|aws|azure|files]`` runs it. Alice sets a monorepo of three
services up (encrypt, vault-push, commit); Bob clones it and works (pull, edit, lock,
run, set/get); Carol makes the classic stray key and repairs it (decrypt --verify-vault
--repair); Alice rotates a key and Bob picks it up (rotate, git pull, sync --force).

Every command a user types is printed, git included, with a one-line "why" before each
step, and the ``envdrift.toml`` and the environment variables each cloud's users set
(marking those that exist only because the server is local). Without an argument the
tour runs on HashiCorp Vault (OpenBao), AWS Secrets Manager (moto_server) and Azure Key
Vault (the project's HTTPS test server, real Azure SDK); the second and third print only
what differs from the first. Exits 1 if any step did not behave as shown.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

TOUR = ("hashicorp", "aws", "azure")
CHOICES = (*TOUR, "files")
SERVICES = {
    "app": {"DATABASE_URL": "postgres://app@db/app", "STRIPE_KEY": "sk_test_app"},
    "auth": {"JWT_SECRET": "auth-signing-secret", "SESSION_TTL": "3600"},
    "api": {"UPSTREAM_URL": "https://api.internal", "API_TOKEN": "tok-api-42"},
}
FILES = [f"services/{name}/.env.production" for name in SERVICES]
BOLD, GREEN, RED, DIM, CYAN, RESET = (
    ("\033[1m", "\033[32m", "\033[31m", "\033[2m", "\033[36m", "\033[0m")
    if sys.stdout.isatty()
    else ("", "", "", "", "", "")
)


@dataclass
class Variable:
    """An environment variable the demo sets, and whether a real user would set it."""

    name: str
    value: str
    note: str
    local_only: bool = False


@dataclass
class Provider:
    """One vault: the ``[vault.<name>]`` table a user writes and the variables they set."""

    name: str
    label: str
    table: str
    variables: list[Variable] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {v.name: v.value for v in self.variables}


class Demo:
    """One provider's week: runs and checks the steps, and prints them.

    The first provider prints as it goes. A later one (``reference`` given) runs at the
    same time, keeps what it would print, and ``replay`` prints only what differs from
    the reference's output once that is complete.
    """

    def __init__(self, workdir: Path, provider: Provider, reference: Demo | None = None) -> None:
        self.workdir = workdir
        self.provider = provider
        self.reference = reference
        self.brief = reference is not None
        self.failures: list[str] = []
        self.steps = 0
        self.outputs: dict[str, str] = {}
        self._kept: list[str | tuple[str, str, str, str, list[str]]] = []

    def print(self, text: str = "") -> None:
        """Print now, or keep it for ``replay`` (a later provider)."""
        if self.brief:
            self._kept.append(text)
        else:
            print(text)

    def why(self, text: str) -> None:
        if not self.brief:
            print(f"{CYAN}# {text}{RESET}")

    def say(self, text: str = "") -> None:
        if not self.brief:
            print(text)

    def replay(self) -> None:
        """Print what this later provider kept: what differs from the reference."""
        differ = 0
        for item in self._kept:
            if isinstance(item, str):
                print(item)
            else:
                differ += self._show(*item)
        assert self.reference is not None
        same = self.steps - differ
        print(
            f"{DIM}{same} of {self.steps} commands printed what they printed on "
            f"{self.reference.provider.name}, the vault's name, keys and times aside"
            f"{'; the others are above' if differ else ''}.{RESET}"
        )

    def run(
        self,
        who: str,
        command: str,
        *,
        expect_exit: int = 0,
        expect: Sequence[str] = (),
        step: str | None = None,
    ) -> str:
        """Run ``command`` (as typed, through sh) in ``who``'s checkout; check it."""
        self.steps += 1
        step = step or f"{who}: {command}"
        key = f"{step} #{sum(k.startswith(step + ' #') for k in self.outputs)}"
        env = {**os.environ, **_git_identity(who), **self.provider.env}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        proc = subprocess.run(
            ["sh", "-c", command],
            cwd=self.workdir / who,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        output = (proc.stdout + proc.stderr).rstrip("\n")
        problems = [f"exit {proc.returncode}, expected {expect_exit}"] * (
            proc.returncode != expect_exit
        )
        problems += [f"missing {text!r}" for text in expect if text not in output]
        self.outputs[key] = self._normal(output)
        if self.brief:
            self._kept.append((who, command, output, key, problems))
        else:
            self._show(who, command, output, key, problems)
        if problems:
            self.failures.append(f"{self.provider.name}: {step} ({'; '.join(problems)})")
        return output

    def check(self, ok: bool, detail: str) -> None:
        if not ok:
            self.failures.append(f"{self.provider.name}: {detail}")
        if not self.brief or not ok:
            mark = f"{GREEN}✓{RESET}" if ok else f"{RED}✗{RESET}"
            self.print(f"    {mark} {detail}")

    def _show(self, who: str, command: str, output: str, key: str, problems: list[str]) -> bool:
        """Print the command and its output (a later provider: the lines that differ);
        whether anything was printed."""
        lines = output.splitlines()
        if self.reference is not None:
            before = set(self.reference.outputs.get(key, "").splitlines())
            lines = [line for line in lines if self._normal(line) not in before]
            if not lines and not problems:
                return False
        print(f"{BOLD}{who}$ {command}{RESET}")
        for line in lines:
            print(f"    {line}")
        if problems:
            print(f"    {RED}✗ {'; '.join(problems)}{RESET}")
        print()
        return True

    def _normal(self, text: str) -> str:
        """``text`` without what differs between providers on the same step."""
        text = text.replace(str(self.workdir), "<tmp>")
        text = re.sub(r"(?:secret '[^']*' in )?vault '[\w-]+'(?: \([^)]*\))?", "<vault>", text)
        text = re.sub(r"\d{8}T\d{6}Z", "<time>", text)
        text = re.sub(r"[0-9a-f]{8,}", "<hex>", text)
        text = re.sub(r"\d+\.\d+ s\b", "<seconds>", text)
        return re.sub(r" +", " ", text)


def _git_identity(who: str) -> dict[str, str]:
    """Each teammate commits as themselves; no user or system git config is read."""
    email = f"{who}@example.invalid"
    return {
        "GIT_AUTHOR_NAME": who.title(),
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": who.title(),
        "GIT_COMMITTER_EMAIL": email,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def config_text(provider: Provider) -> str:
    """The envdrift.toml Alice writes: the vault, then one mapping per service."""
    mappings = "".join(
        f'\n[[vault.sync.mappings]]\nsecret_name = "{name}-dotenvx-key"\n'
        f'folder_path = "services/{name}"\n'
        for name in SERVICES
    )
    return f'[vault]\nprovider = "{provider.name}"\n\n{provider.table}\n{mappings}'


def setup_alice(demo: Demo, provider: Provider) -> None:
    """Alice's monorepo: three services with plaintext .env.production, and the config."""
    for who in ("alice", "bob", "carol"):
        (demo.workdir / who).mkdir(parents=True)
    alice = demo.workdir / "alice"
    for name, values in SERVICES.items():
        folder = alice / "services" / name
        folder.mkdir(parents=True)
        (folder / ".env.production").write_text(
            "".join(f'{key}="{value}"\n' for key, value in values.items())
        )
    (alice / "envdrift.toml").write_text(config_text(provider))
    if demo.brief:
        demo.print(f"{BOLD}envdrift.toml{RESET} (the mappings as above):")
        demo.print("    " + "\n    ".join(provider.table.splitlines()) + "\n")
    else:
        demo.print(f"{BOLD}envdrift.toml{RESET} (Alice writes it once, at the repository root):")
        demo.print("    " + "\n    ".join(config_text(provider).rstrip().splitlines()) + "\n")
    show_variables(demo, provider)


def show_variables(demo: Demo, provider: Provider) -> None:
    demo.print(f"{BOLD}Environment{RESET} (how envdrift reaches {provider.label}):")
    if not provider.variables:
        demo.print("    (none: the files vault is a folder, named in envdrift.toml)")
    for var in provider.variables:
        shown = var.value if len(var.value) < 48 else var.value[:45] + "…"
        tag = f"{DIM}[local server only]{RESET} " if var.local_only else ""
        demo.print(f"    export {var.name}={shlex.quote(shown)}")
        demo.print(f"        {tag}{var.note}")
    demo.print()


def first_week(demo: Demo) -> None:
    """The team's first week against one vault."""
    run, why, provider = demo.run, demo.why, demo.provider
    demo.print(f"{BOLD}=== {provider.label} ==={RESET}\n")
    setup_alice(demo, provider)
    files = " ".join(FILES)

    demo.say(f"{BOLD}-- Day 1: Alice sets the repository up --{RESET}\n")
    run("alice", "git init -q -b main")
    why("Encrypt each service's secrets so they can be committed; no key exists yet, so one")
    why("pair per service is made, its private key in that folder's git-ignored .env.keys.")
    run("alice", f"envdrift encrypt {files}", expect=["encrypted", "created a key pair"])
    why("Store the three private keys in the vault: from now on it is where keys come from.")
    run("alice", "envdrift vault-push", expect=["3 created"])
    why("Commit the config and the encrypted files; .env.keys is ignored (envdrift said so).")
    status = run("alice", "git add -A && git status --short")
    demo.check(".env.keys" not in status, "git add -A offered no .env.keys")
    run("alice", "git commit -q -m 'Encrypted environments and envdrift.toml'")

    demo.say(f"{BOLD}-- Day 2: Bob joins --{RESET}\n")
    why("Bob clones: he gets the encrypted files and the config, and no key.")
    run("bob", "git clone -q ../alice .", step="clone")
    why("One command fetches every service's key from the vault and decrypts its files.")
    run("bob", "envdrift pull", expect=["decrypted"])
    shown = (demo.workdir / "bob/services/api/.env.production").read_text()
    demo.check(SERVICES["api"]["API_TOKEN"] in shown, "Bob reads api's plaintext values")
    why("Bob changes one value, then locks: every local key is checked against the vault,")
    why("then every file encrypted; unchanged values keep their ciphertext, so the diff is")
    why("the one line he changed.")
    run("bob", "sed -i 's/tok-api-42/tok-api-43/' services/api/.env.production")
    run("bob", "envdrift lock", expect=["encrypted"])
    diff = run("bob", "git diff --numstat")
    demo.check(
        diff.split() == ["1", "1", "services/api/.env.production"],
        "git diff: one line changed, in services/api/.env.production",
    )
    run("bob", "git commit -q -am 'Rotate the upstream API token'")
    if not demo.brief:  # the same on every vault: shown once
        day_two_without_the_vault(demo)

    demo.say(f"{BOLD}-- Day 3: Carol makes a stray key, and repairs it --{RESET}\n")
    run("carol", "git clone -q ../alice .", step="clone")
    why("Carol has no .env.keys yet. She rewrites auth's file by hand and encrypts it with a")
    why("brand-new pair (what `dotenvx encrypt` does in a checkout without keys; with envdrift")
    why("it takes --new-key, since the folder is mapped): a key the vault has never seen.")
    run(
        "carol",
        'printf \'JWT_SECRET="auth-signing-secret-v2"\\nSESSION_TTL="3600"\\n\' '
        "> services/auth/.env.production",
    )
    run(
        "carol",
        "envdrift encrypt --new-key services/auth/.env.production",
        expect=["created a key pair"],
    )
    run("carol", "git commit -q -am 'New JWT secret'")
    why("CI (or a pre-commit hook) asks whether the vault's key still opens the committed file.")
    verify = "envdrift decrypt services/auth/.env.production --verify-vault --ci"
    run("carol", verify, expect_exit=1, expect=["encrypted with a different key", "--repair"])
    why("Carol still holds the stray key, so --repair re-encrypts every value for the vault's")
    why("key, her edit kept, and puts the vault's key in her .env.keys (old one backed up).")
    run("carol", "envdrift decrypt services/auth/.env.production --verify-vault --repair")
    run("carol", verify, expect=["ok: the key in"])
    if not demo.brief:
        why("Her edit survived the repair:")
        run("carol", "envdrift get JWT_SECRET -f services/auth/.env.production", expect=["-v2"])

    demo.say(f"{BOLD}-- Day 5: Alice rotates a key; Bob picks it up --{RESET}\n")
    why("Rotate auth's key: a new pair, stored in the vault and read back before any file")
    why("changes; then the file is re-encrypted and Alice commits it.")
    run("alice", "envdrift rotate services/auth/.env.production", expect=["verified"])
    run("alice", 'git commit -q -am "Rotate auth\'s key"')
    why("Bob pulls the rotated file; his old key no longer opens it, so sync --force fetches")
    why("the new one (his old .env.keys kept as a backup); then everything is in sync.")
    run("bob", "git pull -q --no-rebase --no-edit")
    run("bob", "envdrift sync --force", expect=["updated"])
    run("bob", "envdrift sync --verify", expect=["no drift"])
    run(
        "bob",
        "envdrift decrypt services/auth/.env.production --verify-vault --ci",
        expect=["ok: the key in"],
    )


def day_two_without_the_vault(demo: Demo) -> None:
    """Bob's steps that show nothing new on another vault: run and shown once."""
    run, why = demo.run, demo.why
    why("Or keep plaintext off disk: run decrypts in memory for one command.")
    run(
        "bob",
        "envdrift run -f services/app/.env.production -- printenv DATABASE_URL",
        expect=[SERVICES["app"]["DATABASE_URL"]],
    )
    why("A new secret needs no private key: set encrypts it to the file's public key.")
    run(
        "bob",
        "envdrift set SENTRY_DSN https://key@sentry.example/1 -f services/app/.env.production",
        expect=["encrypted, added"],
    )
    run("bob", "envdrift get SENTRY_DSN -f services/app/.env.production", expect=["sentry"])
    run("bob", "git commit -q -am 'Add SENTRY_DSN'")


NEXT_STEPS = """\
{bold}What to run on your own project{reset}
    pip install {install}     # from a checkout (README: Install)
    # envdrift.toml at the repository root: [vault] provider, one [[vault.sync.mappings]]
    # (secret_name, folder_path) per service folder, as shown above
    envdrift encrypt services/*/.env.production   # once; or `envdrift lock` later
    envdrift vault-push                            # the keys into your vault
    git add -A && git commit                       # .env.keys stays out (.gitignore)
    envdrift pull                                  # each teammate, after cloning
    envdrift sync --ci && envdrift decrypt FILE --verify-vault --ci   # in CI
    docs: README.md, docs/guide.md, docs/cli.md
"""


@contextlib.contextmanager
def providers(names: Sequence[str], workdir: Path) -> Iterator[list[Provider]]:
    """Start the local servers ``names`` need and describe how envdrift reaches each."""
    with contextlib.ExitStack() as stack:
        started = time.perf_counter()
        (workdir / ".servers").mkdir()
        found = [_provider(name, workdir, stack) for name in names]
        if any(name != "files" for name in names):
            print(f"{DIM}servers up in {time.perf_counter() - started:.1f} s{RESET}\n")
        yield found


def _provider(name: str, workdir: Path, stack: contextlib.ExitStack) -> Provider:
    if name == "files":
        return Provider(
            "files",
            "the files vault (a folder standing in for a cloud vault)",
            '[vault.files]\npath = "../vault"   # relative to envdrift.toml',
        )
    if name == "hashicorp":
        from tests.servers.openbao import openbao_server

        bao = stack.enter_context(openbao_server(workdir / ".servers" / "openbao"))
        return Provider(
            "hashicorp",
            f"HashiCorp Vault (an OpenBao dev server at {bao.address})",
            f'[vault.hashicorp]\nurl = "{bao.address}"   # yours: https://vault.example.com:8200',
            [
                Variable(
                    "VAULT_TOKEN",
                    bao.root_token,
                    'your token (`vault login`), or auth = "jwt" in CI; here the dev '
                    "server's root token",
                ),
            ],
        )
    if name == "aws":
        from tests.servers.moto import moto_server

        endpoint = stack.enter_context(moto_server(log_dir=workdir / ".servers"))
        return Provider(
            "aws",
            f"AWS Secrets Manager (moto_server at {endpoint})",
            '[vault.aws]\nregion = "eu-west-1"',
            [
                Variable(
                    "AWS_ACCESS_KEY_ID",
                    "demo",
                    "your credentials (or AWS_PROFILE, or an OIDC role in CI); moto takes any",
                ),
                Variable("AWS_SECRET_ACCESS_KEY", "demo", "likewise"),
                Variable(
                    "AWS_ENDPOINT_URL",
                    endpoint,
                    "points boto3 at the local moto_server instead of AWS",
                    local_only=True,
                ),
            ],
        )
    from tests.servers.azure_keyvault import keyvault_server

    folder = workdir / ".servers" / "keyvault"
    folder.mkdir(parents=True)
    server = stack.enter_context(
        keyvault_server(folder, client_secrets={"demo-app": "demo-secret"})
    )
    env = server.credential_env("demo-app")
    local = {"AZURE_AUTHORITY_HOST", "REQUESTS_CA_BUNDLE"}
    notes = {
        "AZURE_CLIENT_ID": "your service principal (or none of these three after `az login`)",
        "AZURE_TENANT_ID": "likewise",
        "AZURE_CLIENT_SECRET": "likewise",
        "AZURE_AUTHORITY_HOST": "sends the token request to the local server, not Entra ID",
        "REQUESTS_CA_BUNDLE": "trusts the local server's self-signed certificate",
    }
    variables = [Variable(k, v, notes[k], k in local) for k, v in env.items()]
    variables.append(
        Variable(
            "ENVDRIFT_AZURE_VERIFY_CHALLENGE_RESOURCE",
            "0",
            "localhost is not <name>.vault.azure.net: skip the SDK's name check",
            local_only=True,
        )
    )
    return Provider(
        "azure",
        f"Azure Key Vault (the project's HTTPS test server on port {server.port})",
        f'[vault.azure]\nvault_url = "https://localhost:{server.port}/"'
        "   # yours: https://<name>.vault.azure.net/",
        variables,
    )


def main(argv: Sequence[str]) -> int:
    if len(argv) > 1 or (argv and argv[0] not in CHOICES):
        print(f"usage: scripts/demo.sh [{'|'.join(CHOICES)}]", file=sys.stderr)
        return 2
    names = list(argv) or list(TOUR)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="envdrift-demo-"))
    try:
        with providers(names, workdir) as found:
            first = Demo(workdir / found[0].name, found[0])
            later = [Demo(workdir / p.name, p, reference=first) for p in found[1:]]
            # Every vault's week runs at once; the later ones print after the first.
            with ThreadPoolExecutor(max_workers=len(found)) as pool:
                for future in [pool.submit(first_week, demo) for demo in (first, *later)]:
                    future.result()
            for demo in later:
                print(
                    f"\n{DIM}The same week on another vault: only what differs from "
                    f"{first.provider.name} is shown.{RESET}"
                )
                demo.replay()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - started
    install = " ".join(["./envdrift-core"] + [f"./envdrift-{n}" for n in names if n != "files"])
    print(NEXT_STEPS.format(bold=BOLD, reset=RESET, install=install))
    demos = [first, *later]
    failures = [failure for demo in demos for failure in demo.failures]
    if failures:
        print(f"{RED}{len(failures)} step(s) did not behave as shown:{RESET}")
        for failure in failures:
            print(f"    {failure}")
        return 1
    steps = sum(demo.steps for demo in demos)
    print(
        f"{GREEN}{steps} commands on {', '.join(names)} behaved as shown{RESET} "
        f"in {elapsed:.1f} s; every server stopped."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
