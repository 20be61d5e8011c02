"""Opt in to envdrift's test fixtures (plugin_registry, files_vault, envdrift_cli)."""

pytest_plugins = ["envdrift.testing.fixtures"]
