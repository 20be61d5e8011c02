"""Hostile paths, permissions and sizes: refused or handled clearly, nothing written outside.

The tests run as root here, and root ignores permission bits. The permission tests
therefore run envdrift in a child that keeps uid 0 but drops ``CAP_DAC_OVERRIDE`` (and
its relatives) with ``setpriv``: a root process without them obeys file modes like
anyone else, which is what a developer's own account does. Where ``setpriv`` is missing
they are skipped. (With its capabilities, root can write into a 0500 folder and over a
0400 file; envdrift refuses the latter itself, because the file says read-only.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from envdrift import FormatError
from envdrift._fs import atomic_write
from envdrift.dotenvx.envfile import EnvFile
from envdrift.dotenvx.keysfile import KeysFile

from tests.core.run_helpers import team_project
from tests.core.sync_helpers import KEY_A, KEY_B, Project, keys_line
from tests.helpers import sync_rows

SETPRIV = shutil.which("setpriv")
DROP = "-dac_override,-dac_read_search,-fowner"
ENVDRIFT = [sys.executable, "-m", "envdrift"]
needs_setpriv = pytest.mark.skipif(SETPRIV is None, reason="setpriv (util-linux) is missing")


project = team_project


def files_project(project: Project) -> Project:
    """Two services on the ``files`` vault: ``app`` and ``other``."""
    project.secret("app-key", KEY_A)
    project.secret("other-key", KEY_B)
    project.service("app")
    project.service("other")
    project.map("app-key", "app")
    project.map("other-key", "other")
    return project


def reasons(result: Result) -> dict[str, str]:
    return {row[0]: row[4] for row in sync_rows(result) if len(row) > 4}


def outside_untouched(tmp_path: Path) -> list[str]:
    """Everything under ``tmp_path`` outside the project, with sizes (to compare)."""
    return sorted(
        f"{p.relative_to(tmp_path)}:{p.stat().st_size if p.is_file() else 'dir'}"
        for p in tmp_path.rglob("*")
        if "repo" not in p.relative_to(tmp_path).parts[:1]
    )


# -- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize("escape", ["../outside", "app/../../outside", "link-out"])
def test_a_folder_leaving_the_project_is_refused(
    project: Project, tmp_path: Path, envdrift_cli: Callable[..., Result], escape: str
) -> None:
    files_project(project)
    (tmp_path / "outside").mkdir()
    (project.root / "link-out").symlink_to(tmp_path / "outside")
    project.map("app-key", escape, environment="staging")
    project.write_config()
    before = outside_untouched(tmp_path)
    result = envdrift_cli("sync")
    assert result.exit_code == 1
    assert "leads outside the project root" in reasons(result)[escape]
    assert "allow_outside_root = true" in reasons(result)[escape]
    assert outside_untouched(tmp_path) == before  # nothing written outside
    assert (project.root / "app" / ".env.keys").exists()  # the other mappings went on


def test_a_keys_file_symlinked_outside_the_project_is_refused(
    project: Project, tmp_path: Path, envdrift_cli: Callable[..., Result]
) -> None:
    files_project(project)
    elsewhere = tmp_path / "elsewhere" / ".env.keys"
    elsewhere.parent.mkdir()
    elsewhere.write_text("# someone else's file\n")
    (project.root / "app" / ".env.keys").symlink_to(elsewhere)
    project.write_config()
    result = envdrift_cli("sync")
    assert result.exit_code == 1
    assert f"is a symlink to {elsewhere}, outside the project root" in reasons(result)["app"]
    assert elsewhere.read_text() == "# someone else's file\n"
    assert not list(elsewhere.parent.glob(".envdrift-tmp-*"))
    # When the user says so, the link is written through.
    allowed = envdrift_cli("sync", "--allow-outside-root")
    assert allowed.exit_code == 0, allowed.output
    assert keys_line("production", KEY_A) in elsewhere.read_text()
    assert (project.root / "app" / ".env.keys").is_symlink()


def test_a_directory_where_the_keys_file_should_be(
    project: Project, envdrift_cli: Callable[..., Result]
) -> None:
    files_project(project)
    (project.root / "app" / ".env.keys").mkdir()
    project.write_config()
    result = envdrift_cli("sync")
    assert result.exit_code == 1
    assert (
        reasons(result)["app"]
        == f"keys file {project.root / 'app' / '.env.keys'} is a directory, not a file"
    )
    assert (project.root / "other" / ".env.keys").exists()


def test_a_file_where_a_folder_should_be(
    project: Project, envdrift_cli: Callable[..., Result]
) -> None:
    files_project(project)
    (project.root / "app").rmdir()
    (project.root / "app").write_text("not a folder\n")
    project.write_config()
    result = envdrift_cli("sync")
    assert result.exit_code == 1
    assert reasons(result)["app"].startswith("folder_path 'app' is not a directory")
    assert (project.root / "app").read_text() == "not a folder\n"


def test_a_read_only_keys_file_is_not_replaced(
    project: Project, envdrift_cli: Callable[..., Result]
) -> None:
    files_project(project)
    keys = project.root / "app" / ".env.keys"
    keys.write_text(keys_line("production", KEY_B))
    keys.chmod(0o400)
    project.write_config()
    result = envdrift_cli("sync", "--force")
    assert result.exit_code == 1
    assert "read-only (mode 0400); make it writable (chmod u+w)" in reasons(result)["app"]
    assert keys.read_text() == keys_line("production", KEY_B)


def test_atomic_write_refuses_a_read_only_file(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_text("old")
    target.chmod(0o444)
    with pytest.raises(PermissionError, match=r"read-only \(mode 0444\); make it writable"):
        atomic_write(target, b"new")  # even as root, which passes every access check
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def _as_unprivileged(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``envdrift ARGS`` as root without the capabilities that bypass file modes."""
    assert SETPRIV is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVDRIFT_", "DOTENV_"))}
    return subprocess.run(
        [
            SETPRIV,
            "--bounding-set",
            DROP,
            "--inh-caps",
            DROP,
            sys.executable,
            "-m",
            "envdrift",
            *args,
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@needs_setpriv
def test_no_write_permission_fails_that_mapping_only(project: Project, tmp_path: Path) -> None:
    files_project(project)
    project.write_config()
    (project.root / "app").chmod(0o500)
    try:
        result = _as_unprivileged(project.root, "sync")
    finally:
        (project.root / "app").chmod(0o700)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("app "))
    keys, app = project.root / "app" / ".env.keys", project.root / "app"
    assert f"cannot write {keys}: its folder {app} is read-only; make it writable" in row
    assert "nothing was changed in that file" in row
    assert not (project.root / "app" / ".env.keys").exists()
    assert (project.root / "other" / ".env.keys").exists()


@needs_setpriv
def test_unreadable_and_read_only_keys_files_as_an_ordinary_user(project: Project) -> None:
    files_project(project)
    project.write_config()
    unreadable = project.root / "app" / ".env.keys"
    unreadable.write_text(keys_line("production", KEY_B))
    unreadable.chmod(0o000)
    read_only = project.root / "other" / ".env.keys"
    read_only.write_text(keys_line("production", KEY_B))  # already the vault's key
    read_only.chmod(0o400)
    result = _as_unprivileged(project.root, "sync", "--force")
    assert result.returncode == 1
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:3]}
    assert "cannot read keys file" in rows["app"]
    assert "permission denied; check its owner and mode" in rows["app"]
    assert "unchanged" in rows["other"]  # already right: nothing to write
    project.secret("other-key", KEY_A)  # the vault's key changes: now it must be written
    changed = _as_unprivileged(project.root, "sync", "--force")
    row = next(line for line in changed.stdout.splitlines() if line.startswith("other "))
    assert "read-only (mode 0400); make it writable (chmod u+w)" in row
    assert read_only.read_text() == keys_line("production", KEY_B)
    assert "Traceback" not in result.stderr + changed.stderr


# -- sizes --------------------------------------------------------------------------------


def _peak_rss_mib(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``envdrift ARGS`` in a child; return it and its peak resident memory (MiB).

    The peak is the child's own ``VmHWM``: ``getrusage`` would also count the memory of
    the (forked) test process that started it, since Linux keeps it across ``exec``.
    """
    program = (
        "import re, sys\n"
        "from envdrift.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "status = open('/proc/self/status').read()\n"
        "print(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return done, peak_kib / 1024


def test_a_50_mb_env_file_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / ".env.production"
    with big.open("wb") as handle:
        line = b"KEY_%06d=" + b"x" * 1012 + b"\n"  # 1 KiB
        for index in range(50 * 1024):
            handle.write(line.replace(b"%06d", b"%06d" % index))
    assert big.stat().st_size >= 50 << 20
    with pytest.raises(FormatError, match=r"is 50\.\d MiB, over the limit of 10\.0 MiB for an env"):
        EnvFile.read(big)
    done, peak = _peak_rss_mib(tmp_path, "decrypt", ".env.production")
    assert done.returncode == 1
    assert "over the limit of 10.0 MiB for an env file" in done.stderr
    assert "Traceback" not in done.stderr
    assert peak < 100, peak  # the 50 MB were never read (envdrift itself needs ~40 MiB)
    # --verify-vault reads the file as decrypt does.
    (tmp_path / "vault").mkdir()
    (tmp_path / "envdrift.toml").write_text(
        '[vault]\nprovider = "files"\n\n[vault.files]\npath = "vault"\n\n'
        '[[vault.sync.mappings]]\nsecret_name = "app-key"\nfolder_path = "."\n'
    )
    done, peak = _peak_rss_mib(tmp_path, "decrypt", ".env.production", "--verify-vault", "--ci")
    assert done.returncode == 1
    assert "over the limit of 10.0 MiB for an env file" in done.stderr
    assert "Traceback" not in done.stderr
    assert peak < 100, peak


def test_an_oversized_keys_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / ".env.keys"
    path.write_bytes(b"# " + b"x" * (2 << 20) + b"\n")
    with pytest.raises(FormatError, match=r"keys file .* is 2\.0 MiB, over the limit of 1\.0 MiB"):
        KeysFile.read(path)


def test_a_1_mb_vault_value_is_refused_with_a_message(
    project: Project, envdrift_cli: Callable[..., Result]
) -> None:
    files_project(project)
    project.secret("app-key", "x" * (1 << 20))
    project.write_config()
    result = envdrift_cli("sync")
    assert result.exit_code == 1
    assert "is 1.0 MiB, over the limit of 64.0 KiB" in reasons(result)["app"]
    assert (project.root / "other" / ".env.keys").exists()


def test_an_oversized_config_file_is_refused(
    tmp_path: Path, envdrift_cli: Callable[..., Result]
) -> None:
    config = tmp_path / "envdrift.toml"
    config.write_bytes(b"#" * (11 << 20))
    result = envdrift_cli("sync", "-c", str(config))
    assert result.exit_code == 2
    assert "is 11.0 MiB, over the limit of 10.0 MiB; is this the right file?" in result.stderr


def test_peak_memory_is_bounded_for_a_big_sync(tmp_path: Path) -> None:
    # A vault value of 1 MiB for each of 20 mappings: refused one by one, memory flat.
    project = Project(tmp_path, provider="files")
    for index in range(20):
        project.secret(f"k{index}", "y" * (1 << 20))
        project.service(f"s{index}")
        project.map(f"k{index}", f"s{index}")
    project.write_config()
    done, peak = _peak_rss_mib(tmp_path, "sync")
    assert done.returncode == 1
    assert done.stdout.count("over the limit of 64.0 KiB") == 20
    assert peak < 100, peak
