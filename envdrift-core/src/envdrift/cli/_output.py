"""All terminal output goes through ``Output``: one place decides streams and styles,
and builds every command's ``--format json`` document."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

__all__ = ["JSON_VERSION", "Output", "json_document"]

#: Version of the ``--format json`` documents (``docs/sync-json.md``).
JSON_VERSION = 1


def json_document(
    command: str, body: Mapping[str, Any], *, exit_code: int, error: str | None = None
) -> dict[str, Any]:
    """Every command's JSON document: ``version`` and ``command``, the command's own
    fields, then ``error`` (``None`` on success) and ``exit_code``."""
    return {
        "version": JSON_VERSION,
        "command": command,
        **body,
        "error": error,
        "exit_code": exit_code,
    }


class Output:
    """Writes results to stdout and diagnostics to stderr.

    Args:
        json_mode: Results are one JSON document on stdout; human lines go to stderr
            so that stdout stays machine-readable.
    """

    def __init__(self, *, json_mode: bool = False) -> None:
        self.json_mode = json_mode

    def line(self, text: str = "") -> None:
        """Print a human-readable result line (stderr in JSON mode)."""
        click.echo(text, err=self.json_mode)

    def write(self, text: str) -> None:
        """Write ``text`` to stdout byte for byte, as UTF-8, with no newline added.

        Not ``click.echo``: it strips ANSI escape sequences when stdout is not a terminal
        and translates newlines on Windows, and both change a decrypted value.
        """
        sys.stdout.flush()  # whatever was printed before comes first
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:  # a text-only stream someone put in place: no bytes to write
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        buffer.write(text.encode("utf-8"))
        buffer.flush()

    def info(self, text: str) -> None:
        """Print a diagnostic line to stderr."""
        click.echo(text, err=True)

    def warn(self, text: str) -> None:
        """Print ``Warning: …`` to stderr."""
        click.echo(f"Warning: {text}", err=True)

    def error(self, text: str) -> None:
        """Print ``Error: …`` to stderr."""
        click.echo(f"Error: {text}", err=True)

    def notes(self, notes: Iterable[str], warnings: Iterable[str] = ()) -> None:
        """Print ``notes`` as diagnostics, then ``warnings`` (as ``GitProtection.messages``
        gives them)."""
        for note in notes:
            self.info(note)
        for warning in warnings:
            self.warn(warning)

    def json(self, document: Any) -> None:
        """Print one JSON document on stdout."""
        import json  # not at the top: every --help imports this module, few runs print JSON

        click.echo(json.dumps(document, indent=2, sort_keys=False))

    def document(
        self, command: str, body: Mapping[str, Any], *, exit_code: int, error: str | None = None
    ) -> None:
        """Print ``command``'s JSON document (``json_document``) on stdout."""
        self.json(json_document(command, body, exit_code=exit_code, error=error))

    @contextlib.contextmanager
    def json_errors(self, command: str, body: Callable[[], Mapping[str, Any]]) -> Iterator[None]:
        """In JSON mode, an ``EnvdriftError`` leaving the block still prints a document
        (``body()`` plus the error and its exit code) before it propagates."""
        from envdrift.errors import EnvdriftError

        try:
            yield
        except EnvdriftError as exc:
            if self.json_mode:
                self.document(command, body(), exit_code=exc.exit_code, error=str(exc))
            raise

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        """Print aligned columns."""
        widths = [len(h) for h in headers]
        for row in rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
        for row in [headers, *rows]:
            self.line(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )

    def status(self, text: str) -> None:
        """Replace the transient status line on stderr (a terminal only; no newline)."""
        click.echo(f"\r\x1b[2K{text}", err=True, nl=False)

    def clear_status(self) -> None:
        """Erase the transient status line."""
        click.echo("\r\x1b[2K", err=True, nl=False)

    def confirm(self, question: str) -> bool:
        """Ask a yes/no question on stderr (default no); only call when stdin is a terminal."""
        return click.confirm(question, default=False, err=True)

    @staticmethod
    def stdin_is_tty() -> bool:
        """Whether someone can answer a question."""
        return sys.stdin.isatty()

    @staticmethod
    def stderr_is_tty() -> bool:
        """Whether a progress indicator would reach a person."""
        return sys.stderr.isatty()
