"""The ``envdrift`` command line.

Subcommands are listed here by module path and imported only when run (Click's LazyGroup
recipe), so ``envdrift --help`` imports no plugin, no SDK and no pydantic.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from envdrift import __version__

__all__ = ["cli", "main"]

#: name -> "module:attribute" of each subcommand, in the order ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "sync": "envdrift.cli.sync:sync",
    "encrypt": "envdrift.cli.encrypt:encrypt",
    "decrypt": "envdrift.cli.decrypt:decrypt",
    "vault-push": "envdrift.cli.vault_push:vault_push",
    "rotate": "envdrift.cli.rotate:rotate",
    "run": "envdrift.cli.run:run",
    "pull": "envdrift.cli.pull:pull",
    "plugins": "envdrift.cli.plugins:plugins",
}

#: One-line help for each subcommand, so ``envdrift --help`` need not import them.
SHORT_HELP: dict[str, str] = {
    "sync": "Fetch each mapping's private key from the vault into its .env.keys.",
    "encrypt": "Encrypt .env files in place (dotenvx-compatible).",
    "decrypt": "Decrypt a .env file; --verify-vault checks the vault key opens it.",
    "vault-push": "Store local private keys in the vault.",
    "rotate": "Rotate an env file's key pair; update and verify the vault first.",
    "pull": "Sync every key, then decrypt every mapped env file in place.",
    "run": "Run a command with env files decrypted in memory (like dotenvx run).",
    "plugins": "List installed plugins, their vaults and load errors.",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):  # pragma: no cover - programming error
            raise TypeError(f"{target} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SHORT_HELP[name]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        from envdrift.errors import EnvdriftError

        try:
            return super().invoke(ctx)
        except EnvdriftError as exc:
            if ctx.params.get("debug"):
                raise
            from envdrift.cli._output import Output

            Output().error(str(exc))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            if ctx.params.get("debug"):
                raise
            click.echo("Error: interrupted", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            # A bug (ours or a plugin's): one line, not a traceback that may hold values.
            if ctx.params.get("debug"):
                raise
            from envdrift.cli._output import Output
            from envdrift.secrets import scrub

            Output().error(
                f"unexpected {type(exc).__name__}: {scrub(str(exc))} "
                "(a bug: run again with --debug for the traceback, and please report it)"
            )
            ctx.exit(1)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", prog_name="envdrift", message="%(prog)s %(version)s"
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging (never secrets).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Keep dotenvx private keys in your vault and in sync with every checkout.

    Run `envdrift COMMAND --help` for a command's options.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if debug:
        import logging

        # Only envdrift's own loggers: SDK debug logs can print response bodies (secrets).
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
        logger = logging.getLogger("envdrift")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="envdrift")


if __name__ == "__main__":  # pragma: no cover
    main()
