"""``decrypt --verify-vault [--repair]``: check each file against its vault key, and report.

Kept apart from ``decrypt.py`` (plain decryption) because it talks to vaults: the
verification, the optional repair, and the repair advice printed when neither worked.
"""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING, Any

from envdrift.cli._options import registry_from
from envdrift.cli._output import Output

if TYPE_CHECKING:
    from pathlib import Path

    import click

    from envdrift.cli._vault_flags import VaultFlags
    from envdrift.drift import VaultVerification
    from envdrift.errors import EnvdriftError
    from envdrift.repair import RepairResult
    from envdrift.targets import Target

__all__ = ["VaultCheck"]


class VaultCheck:
    """Verifies (and with ``repair``, repairs) one file after another.

    Text goes out as each file is done; in JSON mode ``finish`` prints one document (the
    file's own for a single file, ``{"files": [...], "exit_code": N}`` for several).
    """

    def __init__(
        self,
        ctx: click.Context,
        *,
        secret: str | None,
        environment: str | None,
        vault_flags: VaultFlags,
        repair: bool,
        json_mode: bool,
    ) -> None:
        self.ctx = ctx
        self.secret = secret
        self.environment = environment
        self.vault_flags = vault_flags
        self.repair = repair
        self.out = Output(json_mode=json_mode)
        self.registry = registry_from(ctx)
        self.documents: list[dict[str, Any]] = []

    def run(self, path: Path) -> int:
        """Check (and maybe repair) ``path``; print the outcome; return its exit code."""
        from envdrift.drift import committed_verifies, verify_vault
        from envdrift.repair import NoLocalKeyError, repair_file

        flags = self.vault_flags
        target = flags.file_target(path, secret=self.secret, environment=self.environment)
        repaired: RepairResult | None = None
        no_key: NoLocalKeyError | None = None
        restorable: bool | None = None
        with flags.open_vaults(target.config, self.registry, self.ctx) as vaults:
            result = verify_vault(path, target, vaults)
            if self.repair and not result.ok:
                try:
                    repaired = repair_file(path, target, vaults)
                except NoLocalKeyError as exc:
                    no_key = exc
            if not result.ok and repaired is None:
                restorable = committed_verifies(path, target, vaults)
        if result.ok:
            return self._ok(path, result)
        if repaired is not None:
            return self._repaired(result, repaired)
        return self._failed(path, target, result, no_key, restorable is not False)

    def failed(self, path: Path, exc: EnvdriftError) -> None:
        """Record a file that could not be checked at all (the caller prints the error)."""
        self.documents.append(
            {"file": str(path), "ok": False, "error": str(exc), "exit_code": exc.exit_code}
        )

    def finish(self, *, multiple: bool) -> None:
        """Print the JSON document, in JSON mode."""
        if not self.out.json_mode or not self.documents:
            return
        if not multiple:
            body = dict(self.documents[0])
            code, error = int(body.pop("exit_code")), body.pop("error", None)
            self.out.document("decrypt", body, exit_code=code, error=error)
            return
        code = max(int(d["exit_code"]) for d in self.documents)
        self.out.document("decrypt", {"files": self.documents}, exit_code=code)

    # -- outcomes ----------------------------------------------------------------------

    def _ok(self, path: Path, result: VaultVerification) -> int:
        self.documents.append({**result.as_dict(), "repair": [], "exit_code": 0})
        count = result.check.checked
        self.out.line(
            f"ok: the key in {result.vault} (secret {result.secret!r}) decrypts {path} "
            f"({count} value{'' if count == 1 else 's'})"
        )
        return 0

    def _repaired(self, result: VaultVerification, repaired: RepairResult) -> int:
        from envdrift.dotenvx.suffix import public_key_name

        out = self.out
        names = repaired.reencrypted
        # A keys file git tracks fails a CI run (the key is in the repository's history).
        code = 1 if repaired.git.tracked and _ci(self.ctx) else 0
        self.documents.append(
            {
                **result.as_dict(),
                "ok": True,
                "repaired": {
                    "reencrypted": names,
                    "kept": repaired.kept,
                    "opened_with": repaired.opened_with,
                    "public_key": repaired.public_key,
                    "keys_file": str(repaired.keys_file),
                    "keys_changed": repaired.keys_changed,
                    "backup": str(repaired.backup) if repaired.backup else None,
                    "gitignore": str(repaired.git.gitignore) if repaired.git.gitignore else None,
                },
                "repair": [],
                "exit_code": code,
            }
        )
        file = repaired.file
        out.info(f"{result.explain()}; repairing")
        count = len(names)
        out.line(
            f"repaired {file}: {count} value{'' if count == 1 else 's'} re-encrypted for the "
            f"key in {repaired.vault} (secret {repaired.secret!r}), every value kept: "
            f"{', '.join(names) or 'none'}"
            + (f"; opened with {', '.join(repaired.opened_with)}" if repaired.opened_with else "")
            + (f"; {repaired.kept} already opened with the vault's key" if repaired.kept else "")
        )
        out.line(f"  {public_key_name(file)} is now {repaired.public_key[:10]}… (the vault's)")
        if repaired.keys_changed:
            backup = repaired.backup
            kept = f" (the previous file is kept in {_shown(backup)})" if backup else ""
            out.line(
                f"  {_shown(repaired.keys_file)}: {repaired.key_name} is the vault's key{kept}"
            )
        out.line(f"  verified: the vault's key decrypts {file}; commit it")
        out.notes(*repaired.git.messages())
        return code

    def _failed(
        self,
        path: Path,
        target: Target,
        result: VaultVerification,
        no_key: EnvdriftError | None,
        restorable: bool,
    ) -> int:
        """Say what failed and how to repair it: ``--repair`` first, then, when the
        committed file opens with the vault's key (``restorable``), the guide's three
        steps, after the warning that step 1 discards uncommitted changes."""
        from envdrift.drift import repair_steps, restore_warning

        flags = self.vault_flags
        sync = target.sync_command(self.registry, provider=flags.provider, flags=flags.flags)
        steps = repair_steps(path, target, sync) if restorable else []
        command = self._repair_command(path)
        self.documents.append(
            {
                **result.as_dict(),
                "repair": steps,
                "repair_keeping_values": command,
                "warning": restore_warning(path) if steps else None,
                "exit_code": 1,
            }
        )
        out = self.out
        out.error(result.explain())
        if no_key is not None:
            out.error(f"{no_key}, so --repair cannot keep its values; nothing was changed")
            out.info(f"Whoever encrypted {path} last holds a key that opens it; they can run:")
        else:
            out.info(
                f"To repair keeping every value (needs a key that opens {path}; whoever "
                "encrypted it last holds one):"
            )
        out.info(f"  {command}")
        if not steps:
            out.info(
                f"The committed {path} does not open with the vault's key either, so "
                "`git restore` cannot repair it: only the key it was encrypted with can "
                "read its values."
            )
            return 1
        if no_key is None:
            out.info(f"If no key you hold opens {path}:")
        out.warn(restore_warning(path))
        out.info("To repair:")
        for number, step in enumerate(steps, 1):
            out.info(f"  {number}. {step}")
        return 1

    def _repair_command(self, path: Path) -> str:
        flags = self.vault_flags
        words = ["envdrift", "decrypt", shlex.quote(str(path)), "--verify-vault", "--repair"]
        given = {
            "--secret": self.secret,
            "--env": self.environment,
            "-c": str(flags.config_file) if flags.config_file is not None else None,
            "-p": flags.provider,
            "--vault-url": flags.vault_url,
            "--region": flags.region,
        }
        for flag, value in given.items():
            if value is not None:
                words += [flag, shlex.quote(value)]
        return " ".join(words)


def _shown(path: Path) -> str:
    return os.path.relpath(path)


def _ci(ctx: click.Context) -> bool:
    return bool(ctx.params.get("ci"))
