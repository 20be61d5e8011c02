"""The ``envdrift`` console script and ``python -m envdrift``.

``envdrift --version`` is answered here, before Click is imported: Click's import is most
of what that command would cost, and scripts and CI jobs ask it often. Everything else,
``--version`` among other arguments included, goes to ``envdrift.cli.main``.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:] == ["--version"]:
        from envdrift._install import legacy_files_present

        # A mixed install with envdrift 11.x is explained by the CLI, as for any command.
        if not legacy_files_present():
            from envdrift.__about__ import __version__

            sys.stdout.write(f"envdrift {__version__}\n")  # what the Click option prints
            return
    from envdrift.cli import main as cli_main

    cli_main()


if __name__ == "__main__":  # pragma: no cover
    main()
