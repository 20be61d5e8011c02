"""Plugins shipped inside envdrift-core, registered by ``envdrift.plugins.BUILTIN_PLUGINS``.

Each is written as an ordinary plugin module (hook implementations only), so it is also
the model a third-party plugin copies.
"""
