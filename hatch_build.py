"""The umbrella distribution's lockstep pins, derived from envdrift's one version.

hatchling runs this metadata hook when it builds ``envdrift`` from the checkout (wheel or
sdist): the version comes from ``envdrift-core/src/envdrift/__about__.py`` and the
dependencies pin core and each backend to exactly that version. A build from the sdist
reads all three fields back from PKG-INFO instead and does not call the hook.
"""

from __future__ import annotations

from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface

BACKENDS = ("aws", "azure", "hashicorp")


class LockstepPins(MetadataHookInterface):
    """``envdrift`` needs ``envdrift-core==VERSION``; each extra pins its backends alike."""

    def update(self, metadata: dict[str, Any]) -> None:
        version = metadata["version"]
        extras = {name: [f"envdrift-{name}=={version}"] for name in BACKENDS}
        every_backend = [pin for pins in extras.values() for pin in pins]
        metadata["dependencies"] = [f"envdrift-core=={version}"]
        metadata["optional-dependencies"] = {**extras, "vault": every_backend, "all": every_backend}
