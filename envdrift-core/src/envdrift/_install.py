"""What pip installed, and what to tell a user about it.

- ``installed_distributions``: every envdrift distribution with its version
  (``envdrift --version --verbose``);
- ``install_command``: a ``pip install`` for a missing backend that cannot downgrade or
  replace envdrift, pointing back at the checkout or wheel folder when envdrift-core was
  installed from a local path;
- ``docs_url``: a page of the documentation, from the URL in the installed metadata (pip
  users have no ``docs/`` folder);
- ``mixed_install``: files of envdrift 11.x and of envdrift-core in one ``envdrift``
  package folder, explained in one line instead of an ImportError.

Only ``legacy_files_present`` runs on every start (a few ``stat`` calls, and no import
beyond ``os``); the rest runs on an error path or on request.
"""

from __future__ import annotations

import os

from envdrift.__about__ import __version__

TYPE_CHECKING = False  # as in envdrift/__init__.py: `envdrift --version` imports no typing
if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "CORE",
    "FIRST_PARTY_BACKENDS",
    "docs_url",
    "install_command",
    "installed_distributions",
    "legacy_files_present",
    "mixed_install",
]

CORE = "envdrift-core"
UMBRELLA = "envdrift"
#: Our own backends, by vault name: each is its own distribution, maybe not installed.
FIRST_PARTY_BACKENDS = {name: f"envdrift-{name}" for name in ("aws", "azure", "hashicorp")}
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
#: Files that only envdrift 11.x puts in the ``envdrift`` package folder and ours can never
#: have: our ``cli/`` package would shadow 11.x's ``cli.py`` (and 11.x's ``sync/`` shadows
#: our ``sync.py``), so sharing the folder breaks both. Do not name a module of ours so.
LEGACY_FILES = ("cli.py", "cli_commands")
#: Where the docs live when the installed metadata does not say (a source checkout run
#: without installing): the README's pointer, which a checkout does have.
FALLBACK_DOCS = "the docs/ folder of envdrift's repository"


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def installed_distributions() -> dict[str, str]:
    """Every installed distribution whose name starts with ``envdrift``, with its version."""
    from importlib.metadata import distributions

    found: dict[str, str] = {}
    for dist in distributions():
        name = _canonical(dist.metadata["Name"] or "")
        if name.startswith("envdrift"):
            found.setdefault(name, dist.version)
    return dict(sorted(found.items()))


def _local_source(distribution: str) -> tuple[Path, bool] | None:
    """Where pip installed ``distribution`` from, when that was a local path.

    Returns the path (a project folder or a wheel file) and whether the install is
    editable, from the ``direct_url.json`` pip records (PEP 610); ``None`` for an install
    from a package index.
    """
    import json
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import distribution as find
    from pathlib import Path
    from urllib.parse import unquote, urlparse

    try:
        text = find(distribution).read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    url = urlparse(str(record.get("url", "")))
    if url.scheme != "file":
        return None
    editable = bool(record.get("dir_info", {}).get("editable", False))
    return Path(unquote(url.path)), editable


def install_command(distribution: str, *, explain: bool = True) -> str:
    """A ``pip install`` that adds ``distribution`` next to the installed envdrift-core.

    It names the distribution itself, pinned to core's version (envdrift's distributions
    release in lockstep), never the ``envdrift[extra]`` form: where envdrift-core did not
    come from the package index, that form makes pip fetch another ``envdrift`` (11.x on
    PyPI) and replace or downgrade this one. With ``explain``, a local source is said.
    """
    import shlex  # only on error paths: envdrift --version imports nothing beyond os

    version = _version(CORE) or __version__
    pinned = shlex.quote(f"{distribution}=={version}")
    source = _local_source(CORE)
    if source is None:
        return f"pip install {pinned}"
    path, editable = source
    if path.suffix == ".whl":
        command = f"pip install --find-links {shlex.quote(str(path.parent))} {pinned}"
        note = f"envdrift-core was installed from the local wheel {path}"
    elif (path.parent / distribution / "pyproject.toml").is_file():
        flag = "-e " if editable else ""
        command = f"pip install {flag}{shlex.quote(str(path.parent / distribution))}"
        note = f"envdrift-core was installed from the local checkout {path.parent}"
    else:
        command = f"pip install {pinned}"
        note = (
            f"envdrift-core was installed from the local path {path}: if {distribution} "
            "is not on your package index, install it from where envdrift-core came from"
        )
    return f"{command} ({note})" if explain else command


def docs_url(page: str) -> str:
    """The web address of a documentation page (``"configuration"``), for messages.

    It comes from the ``Documentation`` URL in envdrift-core's installed metadata, so
    the message names what a pip user can open.
    """
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata(CORE).get_all("Project-URL") or []
    except PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "documentation" and url.strip():
            return f"{url.strip().rstrip('/')}/{page}/"
    return f"{FALLBACK_DOCS} ({page}.md)"


def legacy_files_present(package_dir: str | Path = PACKAGE_DIR) -> bool:
    """envdrift 11.x's files share the ``envdrift`` package folder with ours."""
    return any(os.path.exists(os.path.join(package_dir, name)) for name in LEGACY_FILES)


def mixed_install(package_dir: str | Path = PACKAGE_DIR) -> str | None:
    """One line naming the two installs and the commands that fix it, or ``None``."""
    umbrella = _version(UMBRELLA)
    legacy = umbrella is not None and _major(umbrella) < _major(__version__)
    if not legacy and not legacy_files_present(package_dir):
        return None
    core = _version(CORE)
    if core is None:
        return None
    old = f"envdrift {umbrella}" if legacy else "files of envdrift 11.x"
    import shlex

    keep = install_command(CORE, explain=False)
    back = shlex.quote(f"envdrift=={umbrella}") if legacy else "'envdrift<12'"
    return (
        f"{old} and envdrift-core {core} are installed over each other in "
        f"{package_dir}, which breaks both; fix it with: pip uninstall -y envdrift "
        f"envdrift-core, then {keep} (or pip install {back} to go back to 11.x)"
    )


def _major(version: str) -> int:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0
