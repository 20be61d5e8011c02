"""The one version of all five envdrift distributions, which release in lockstep.

Every pyproject.toml reads ``__version__`` from this file (hatchling's ``regex`` version
source); the umbrella's exact pins on core and the backends are derived from it too
(``hatch_build.py`` at the repository root). Bump it here and nowhere else.

``PLUGIN_API`` is the plugin API version: core's major version. The plugin API (what
``envdrift.__all__`` exports, the hook specifications and the ``Vault`` interface) only
changes incompatibly in a new major release, so a plugin declares
``envdrift-core>=12,<13``; one that needs something added in 12.N declares
``envdrift-core>=12.N,<13`` (docs/plugins/index.md).
"""

__version__ = "12.0.0"

PLUGIN_API = int(__version__.split(".", 1)[0])
