"""The ``envdrift`` command line.

Subcommands are listed here by module path and imported only when run (Click's LazyGroup
recipe), so ``envdrift --help`` imports no plugin, no SDK and no pydantic; it lists them
by the summaries generated from their help into ``SUMMARIES``, importing none of them.

``--debug`` works before or after the subcommand; a misspelt command gets a
did-you-mean. Before anything else, ``main`` checks that no envdrift 11.x files share
the package folder (``envdrift._install``); 11.x's own console script, run over our
files, reaches ``app`` below and gets the same one-line explanation.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable
from itertools import pairwise
from typing import Any, NoReturn

import click

from envdrift.__about__ import __version__

__all__ = ["cli", "main"]

#: Longest command summary in ``envdrift --help`` before Click shortens it.
_SUMMARY_LIMIT = 200

#: ``ctx.meta`` key: the group's own arguments, for ``--version --verbose``.
_ARGV = "envdrift.argv"

#: name -> "module:attribute" of each subcommand, in the order ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "sync": "envdrift.cli.sync:sync",
    "encrypt": "envdrift.cli.encrypt:encrypt",
    "decrypt": "envdrift.cli.decrypt:decrypt",
    "vault-push": "envdrift.cli.vault_push:vault_push",
    "rotate": "envdrift.cli.rotate:rotate",
    "run": "envdrift.cli.run:run",
    "get": "envdrift.cli.get:get",
    "set": "envdrift.cli.set_:set_",
    "pull": "envdrift.cli.pull:pull",
    "lock": "envdrift.cli.lock:lock",
    "check-keys": "envdrift.cli.check_keys:check_keys",
    "plugins": "envdrift.cli.plugins:plugins",
}

#: name -> the command's line in ``envdrift --help`` (``command_summary``), generated from
#: the commands by ``scripts/docs_cog.py`` so that ``--help`` imports none of them (their
#: modules and options are ~5 ms of its ~55). tests/test_docs.py fails when it is stale.
# [[[cog command_summaries() ]]]
SUMMARIES: dict[str, str] = {
    "sync": "Fetch each mapping's private key from the vault into its folder's .env.keys.",
    "encrypt": "Encrypt the plaintext values of FILES (default: .env) like `dotenvx encrypt`.",
    "decrypt": "Decrypt FILES (default: .env) in place, like `dotenvx decrypt`.",
    "vault-push": "Store each mapping's local key (from .env.keys) in the vault as the bare key.",
    "rotate": "Rotate FILE's key pair and the vault's copy of the private key, safely.",
    "run": "Run CMD with the decrypted values of the env files in its environment.",
    "get": "Print KEY's decrypted value (like `dotenvx get KEY`).",
    "set": "Set KEY to VALUE in each FILE, encrypted for the file's public key.",
    "pull": "Sync every mapping's key, then decrypt its env files in place.",
    "lock": "Check every local key against the vault, then encrypt every mapped env file.",
    "check-keys": (
        "Exit 1 when any of FILES holds a private key; name each such file, never the key."
    ),
    "plugins": "List installed plugins, their distributions, vaults and load errors.",
}
# [[[end]]]


def command_summary(command: click.Command) -> str:
    """``command``'s line in ``envdrift --help``: the first sentence of its help, whole."""
    return command.get_short_help_str(limit=_SUMMARY_LIMIT)


def _enable_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``--debug`` (before or after the subcommand): tracebacks and envdrift's debug log."""
    obj = ctx.find_root().ensure_object(dict)
    if not value or obj.get("debug"):
        return
    obj["debug"] = True
    import logging

    # Only envdrift's own loggers: SDK debug logs can print response bodies (secrets).
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
    logger = logging.getLogger("envdrift")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def debug_option() -> click.Option:
    """The ``--debug`` flag; the group has it, and every subcommand gets one too."""
    return click.Option(
        ["--debug"],
        is_flag=True,
        expose_value=False,
        callback=_enable_debug,
        help="Show tracebacks and debug logging (never secrets).",
    )


def _debugging(ctx: click.Context) -> bool:
    obj = ctx.find_root().obj
    return bool(obj.get("debug")) if isinstance(obj, dict) else False


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"envdrift {__version__}")
    if "--verbose" in ctx.meta.get(_ARGV, ()):
        from envdrift._install import installed_distributions

        for name, version in installed_distributions().items():
            click.echo(f"  {name} {version}")
    ctx.exit()


#: Marks a command callback that already applies the config policy.
_POLICY_SET = "__envdrift_config_policy__"


def _with_config_policy(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command under ``envdrift.strict``'s policy: the config's warnings are
    printed once, as ``Warning: …``, and its ``--ci`` (or ``ENVDRIFT_STRICT=1``) makes
    them errors. Every command gets this here, so a new one cannot forget it."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        from envdrift.cli._output import Output
        from envdrift.strict import config_policy

        with config_policy(ci=kwargs.get("ci") is True, warn=Output().warn):
            return callback(*args, **kwargs)

    setattr(run, _POLICY_SET, True)
    return run


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGV] = tuple(args)
        return super().parse_args(ctx, args)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        known = not name or name.startswith("-") or name in COMMANDS
        if not known and not ctx.resilient_parsing:
            from envdrift._suggest import did_you_mean

            ctx.fail(f"No such command {name!r}.{did_you_mean(name, COMMANDS)}")
        return super().resolve_command(ctx, args)

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
        if not any(param.name == "debug" for param in command.params):
            command.params.append(debug_option())
        if command.callback is not None and not hasattr(command.callback, _POLICY_SET):
            command.callback = _with_config_policy(command.callback)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Each command's own first sentence, wrapped rather than cut at the terminal's
        # width (Click's default ends it with "..."). A command SUMMARIES does not know
        # (added since it was generated, or hidden) is imported to ask it.
        rows = []
        for name in self.list_commands(ctx):
            summary = SUMMARIES.get(name)
            if summary is None:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                summary = command_summary(command)
            rows.append((name, summary))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def _usage_error_document(self, ctx: click.Context, exc: click.UsageError) -> None:
        """A usage error of a command asked for ``--format json`` (or ``--json``): print
        its JSON document, without the command's own fields, so that stdout still parses.
        Click then prints the usage text on stderr and exits 2, as always."""
        args = list(ctx.meta.get(_ARGV, ()))
        name = next((arg for arg in args if not arg.startswith("-")), "")
        if name not in COMMANDS:
            return
        own = args[args.index(name) + 1 :]
        own = own[: own.index("--")] if "--" in own else own
        wanted = "--json" in own or "--format=json" in own or ("--format", "json") in pairwise(own)
        command = self.get_command(ctx, name) if wanted else None
        if command is None or not any(p.name == "output_format" for p in command.params):
            return
        from envdrift.cli._output import Output

        Output().document(name, {}, exit_code=exc.exit_code, error=exc.format_message())

    def invoke(self, ctx: click.Context) -> Any:
        from envdrift.errors import EnvdriftError

        try:
            return super().invoke(ctx)
        except EnvdriftError as exc:
            if _debugging(ctx):
                raise
            from envdrift.cli._output import Output

            Output().error(str(exc))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            if _debugging(ctx):
                raise
            click.echo("Error: interrupted", err=True)
            ctx.exit(130)
        except click.UsageError as exc:
            self._usage_error_document(ctx, exc)
            raise
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            # A bug (ours or a plugin's): one line, not a traceback that may hold values.
            if _debugging(ctx):
                raise
            from envdrift.cli._output import Output
            from envdrift.secrets import scrub

            Output().error(
                f"unexpected {type(exc).__name__}: {scrub(str(exc))} "
                "(a bug: run again with --debug for the traceback, and please report it)"
            )
            ctx.exit(1)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_show_version,
    help="Show the version and exit.",
)
@click.option(
    "--verbose",
    is_flag=True,
    expose_value=False,
    help="With --version: also list every installed envdrift distribution and its version.",
)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Keep dotenvx private keys in your vault and in sync with every checkout.

    Run `envdrift COMMAND --help` for a command's options.
    """
    ctx.ensure_object(dict).setdefault("debug", False)


cli.params.append(debug_option())


def _explain_mixed_install() -> NoReturn:
    """Print the one line about envdrift 11.x files among ours, and exit 2."""
    from envdrift._install import mixed_install

    message = mixed_install() or (
        "envdrift 11.x and envdrift-core are installed over each other; fix it with: "
        "pip uninstall -y envdrift envdrift-core, then reinstall the one you want"
    )
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def app() -> NoReturn:
    """envdrift 11.x's console-script target (``envdrift.cli:app``), never ours.

    11.x's script reaches this package only when 11.x was installed over envdrift-core:
    our ``cli/`` package shadows its ``cli.py``. Explain that instead of an ImportError.
    """
    _explain_mixed_install()


def main() -> None:
    """Console-script entry point."""
    from envdrift._install import legacy_files_present

    if legacy_files_present():
        _explain_mixed_install()
    try:
        cli(prog_name="envdrift")
    except SystemExit as exc:
        if exc.code == 130:
            # Ctrl-C: the command has reported and finished its writes; what may still
            # run is a vault request it abandoned (a hung vault can take its whole
            # timeout). Exit now instead of joining those threads at shutdown.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        raise


if __name__ == "__main__":  # pragma: no cover
    main()
