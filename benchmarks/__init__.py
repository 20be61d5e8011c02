"""Benchmarks: envdrift side by side with envdrift 11.1.1 (PyPI) and the dotenvx CLI.

Run ``.venv/bin/python benchmarks/compare.py --help`` (or ``nox -s bench``). The modules:

* ``harness``: running one command, timing it and measuring its memory; alternating tools.
* ``fixtures``: monorepos, ``.env`` files and vault contents the scenarios start from.
* ``tools``: ours, the competitors (installed under ``.bench/``) and what each can do.
* ``servers``: the local vault servers behind latency proxies.
* ``compare``: the scenarios, the command line and the report (``docs/benchmarks.md``).
"""
