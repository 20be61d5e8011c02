"""Benchmarks: envdrift side by side with envdrift 11.1.1 (PyPI) and the dotenvx CLI.

Run ``python -m benchmarks.compare --help`` from the repository root (or ``nox -s bench``).
``harness`` runs, times and measures commands; ``fixtures`` writes the monorepos, files and
vault contents the scenarios start from; ``tools`` finds ours and installs the competitors;
``servers`` starts the local vault servers; ``compare`` holds the scenarios and the command
line; ``report`` writes ``docs/benchmarks.md``; ``profiling`` serves ``--profile``.
"""
