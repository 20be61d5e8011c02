"""The built-in ``files`` vault: the contract, paths and modes, refused names, clear errors."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest
from envdrift import (
    ConfigError,
    NotFoundError,
    PluginRegistry,
    Secret,
    UnavailableError,
    Vault,
    VaultContext,
)
from envdrift.builtins import files
from envdrift.builtins.files import FilesVault
from envdrift.retry import Deadline
from envdrift.testing import VaultContract

from tests.core.hostile import returns_within


class TestFilesVaultContract(VaultContract):
    plugin_module = "envdrift.builtins.files"
    entry_point_name = None  # built in: envdrift.plugins.BUILTIN_PLUGINS registers it
    sdk_modules = ("pydantic", "boto3", "hvac", "azure")

    @pytest.fixture
    def vault(self, tmp_path: Path) -> Vault:
        (tmp_path / "secrets").mkdir()
        return PluginRegistry().make_vault(
            "files", {"path": "secrets"}, VaultContext(base_dir=tmp_path)
        )


def test_path_is_relative_to_the_config_folder(tmp_path: Path) -> None:
    vault = FilesVault({"path": "keys"}, VaultContext(base_dir=tmp_path))
    assert vault.root == tmp_path / "keys"


def store_with_umask_0(vault: FilesVault, name: str) -> None:
    """Store ``name`` while the umask takes no permission away."""
    old = os.umask(0)
    try:
        vault.store(name, Secret("v"))
    finally:
        os.umask(old)


def test_store_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    store_with_umask_0(FilesVault({"path": "."}, VaultContext(base_dir=tmp_path)), "k")
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600


@pytest.mark.parametrize("name", ["../outside", "/etc/passwd", "a/../../b", "", "a//b", "."])
def test_names_that_escape_are_refused(tmp_path: Path, name: str) -> None:
    vault = FilesVault({"path": "inner"}, VaultContext(base_dir=tmp_path))
    with pytest.raises(ConfigError, match="not allowed"):
        vault.store(name, Secret("v"))
    assert not (tmp_path / "outside").exists()


def test_symlink_escape_is_refused(tmp_path: Path) -> None:
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "link").symlink_to(tmp_path)
    vault = FilesVault({"path": "inner"}, VaultContext(base_dir=tmp_path))
    with pytest.raises(ConfigError, match="escapes"):
        vault.fetch("link/x")


def test_missing_path_option_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[vault.files\] path"):
        FilesVault({}, VaultContext(base_dir=tmp_path))


def test_unknown_option_gets_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Did you mean 'path'"):
        FilesVault({"pth": "x"}, VaultContext(base_dir=tmp_path))


def test_vault_name_is_an_error_for_a_backend_without_that_notion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no notion of a vault name"):
        FilesVault({"path": "."}, VaultContext(base_dir=tmp_path, vault_name="prod"))


def test_folders_it_creates_are_0700_whatever_the_umask(tmp_path: Path) -> None:
    vault = FilesVault({"path": "vault"}, VaultContext(base_dir=tmp_path))
    store_with_umask_0(vault, "team/app/key")
    for folder in ("vault", "vault/team", "vault/team/app"):
        assert stat.S_IMODE((tmp_path / folder).stat().st_mode) == 0o700, folder


def test_a_secret_that_is_a_directory_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "app-key").mkdir()
    vault = FilesVault({"path": "."}, VaultContext(base_dir=tmp_path))
    with pytest.raises(ConfigError, match=r"app-key is a directory; remove it or choose another"):
        vault.store("app-key", Secret("v"))
    with pytest.raises(NotFoundError, match="is a directory"):
        vault.fetch("app-key")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("k" * 300, "the name is too long for the file system; choose a shorter secret name"),
        ("plain/inner", "a part of its path is a file, not a folder; rename that file"),
    ],
)
def test_os_errors_are_one_line_that_says_what_to_fix(
    tmp_path: Path, name: str, expected: str
) -> None:
    (tmp_path / "plain").write_text("a file")
    vault = FilesVault({"path": "."}, VaultContext(base_dir=tmp_path))
    for call in (lambda: vault.store(name, Secret("v")), lambda: vault.fetch(name)):
        with pytest.raises(ConfigError) as info:
            call()
        assert expected in str(info.value)
        assert "\n" not in str(info.value)


def test_a_fifo_secret_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "app-key")
    vault = FilesVault({"path": "."}, VaultContext(base_dir=tmp_path))
    with pytest.raises(ConfigError, match=r"named pipe \(FIFO\), not a regular file"):
        returns_within(5, lambda: vault.fetch("app-key"))


@pytest.mark.parametrize(("timeout", "deadline"), [(0.2, None), (30.0, 0.2)])
def test_a_read_that_hangs_ends_with_the_timeout_or_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, timeout: float, deadline: float | None
) -> None:
    # A file on a hung network file system: the read itself never returns.
    (tmp_path / "app-key").write_text("v")
    release = threading.Event()
    monkeypatch.setattr(files, "read_limited", lambda path, limit: release.wait(60))
    context = VaultContext(base_dir=tmp_path, timeout=timeout, deadline=Deadline(deadline))
    vault = FilesVault({"path": "."}, context)
    started = time.monotonic()
    try:
        with pytest.raises(UnavailableError, match=r"reading secret 'app-key' .*no answer after"):
            returns_within(10, lambda: vault.fetch("app-key"))
    finally:
        release.set()
    assert time.monotonic() - started < 5


def test_in_a_git_work_tree_the_ignore_file_is_no_secret(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # what marks a work tree; git itself is not needed
    vault = FilesVault({"path": "vault"}, VaultContext(base_dir=tmp_path))
    vault.store("a/b", Secret("k" * 64))
    assert (tmp_path / "vault/.gitignore").read_text().splitlines()[1:] == [
        "/a/b",
        "/.envdrift-tmp-*",
    ]
    assert vault.list() == ["a/b"]
    with pytest.raises(ConfigError, match=r"'\.gitignore' is not allowed"):
        vault.store(".gitignore", Secret("x"))


def test_outside_a_git_work_tree_no_ignore_file_is_written(tmp_path: Path) -> None:
    FilesVault({"path": "vault"}, VaultContext(base_dir=tmp_path)).store("k", Secret("v"))
    assert sorted(p.name for p in (tmp_path / "vault").iterdir()) == ["k"]
