"""``update_keys_file``: the one way any command writes ``.env.keys``.

Every writer (sync, encrypt, rotate) takes the same lock, re-reads under it and applies
only its own change, refuses a symlink that leads out of the project, and never changes
the mode of a file it reached through a link.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from envdrift._fs import locked
from envdrift.dotenvx.crypto import generate_keypair, public_key_of
from envdrift.dotenvx.keysfile import KeysFile, update_keys_file
from envdrift.dotenvx.operations import decrypt_file, encrypt_file
from envdrift.errors import FormatError
from envdrift.secrets import Secret

KEY_A = "6755a988593b8dfce7ff6a505d8003277f078712b806e3aaf329f9d446895aab"
KEY_B = "8c630f513a30b6843f4952a3581a6e67d54b598538b91a2b546f9b912eb67151"


def setter(name: str, value: str) -> Callable[[KeysFile], str]:
    """An edit that sets ``name`` to ``value``."""
    return lambda keys: keys.set(name, Secret(value))


def test_concurrent_writers_keep_every_key(tmp_path: Path) -> None:
    keys_path = tmp_path / ".env.keys"
    names = [f"DOTENV_PRIVATE_KEY_T{thread}_{n}" for thread in range(8) for n in range(15)]

    def write(thread: int) -> None:
        for name in names[thread * 15 : (thread + 1) * 15]:
            update_keys_file(keys_path, setter(name, KEY_A), root=tmp_path)

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(KeysFile.read(keys_path).names()) == sorted(names)


def test_encrypt_waits_for_a_sync_and_uses_the_key_it_wrote(tmp_path: Path) -> None:
    # A sync holds the folder's lock while it writes the vault's key; an encrypt that
    # started meanwhile must encrypt for that key, not overwrite it with a new one.
    env = tmp_path / ".env.ci"
    env.write_text("TOKEN=abc\n")
    (tmp_path / ".git").mkdir()  # the project
    synced = generate_keypair()
    outcome: list[object] = []
    with locked(tmp_path):
        thread = threading.Thread(target=lambda: outcome.append(encrypt_file(env)))
        thread.start()
        thread.join(0.3)
        assert thread.is_alive(), "encrypt did not wait for the keys file's lock"
        (tmp_path / ".env.keys").write_text(
            f"DOTENV_PRIVATE_KEY_CI={synced.private_key.reveal()}\n"
        )
    thread.join(10)
    assert outcome, "encrypt failed"
    assert KeysFile.read(tmp_path / ".env.keys").get("DOTENV_PRIVATE_KEY_CI") == (
        synced.private_key
    )
    assert synced.public_key in env.read_text()
    assert decrypt_file(env, write=False).text.endswith("TOKEN=abc\n")


def test_a_symlink_out_of_the_project_is_refused_and_its_target_untouched(
    tmp_path: Path,
) -> None:
    project, outside = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    outside.mkdir()
    (project / ".git").mkdir()
    target = outside / "keys"
    target.write_text("OTHER=1\n")
    os.chmod(target, 0o644)
    (project / ".env.keys").symlink_to(target)
    (project / ".env").write_text("A=1\n")
    with pytest.raises(FormatError, match=r"is a symlink to .*outside the project root"):
        encrypt_file(project / ".env")
    assert target.read_text() == "OTHER=1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert (project / ".env").read_text() == "A=1\n"  # not encrypted for a key nowhere
    with pytest.raises(FormatError, match="outside the project root"):
        update_keys_file(project / ".env.keys", setter("X", KEY_A), root=project)
    allowed = update_keys_file(
        project / ".env.keys",
        setter("X", KEY_A),
        root=project,
        allow_outside_root=True,
    )
    assert allowed.real_path == target.resolve()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # a link's target keeps its mode


def test_a_link_inside_the_project_is_written_through_keeping_the_target_mode(
    tmp_path: Path,
) -> None:
    target = tmp_path / "shared.keys"
    target.write_text("A=1\n")
    os.chmod(target, 0o640)
    (tmp_path / "svc").mkdir()
    link = tmp_path / "svc" / ".env.keys"
    link.symlink_to(target)
    update = update_keys_file(link, setter("DOTENV_PRIVATE_KEY", KEY_A), root=tmp_path)
    assert update.written
    assert link.is_symlink()
    assert target.read_text() == f"A=1\n\nDOTENV_PRIVATE_KEY={KEY_A}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_read_only_keys_file_is_neither_backed_up_nor_written(tmp_path: Path) -> None:
    keys_path = tmp_path / ".env.keys"
    keys_path.write_text(f"DOTENV_PRIVATE_KEY={KEY_A}\n")
    os.chmod(keys_path, 0o400)
    with pytest.raises(PermissionError, match="read-only"):
        update_keys_file(
            keys_path,
            setter("DOTENV_PRIVATE_KEY", KEY_B),
            root=tmp_path,
            backup_stamp="20260101T000000Z",
        )
    assert [p.name for p in tmp_path.iterdir()] == [".env.keys"]


def test_backup_only_when_a_key_is_replaced_and_nothing_when_unchanged(tmp_path: Path) -> None:
    keys_path = tmp_path / ".env.keys"
    stamp = "20260101T000000Z"
    first = update_keys_file(keys_path, setter("A", KEY_A), root=tmp_path, backup_stamp=stamp)
    added = update_keys_file(keys_path, setter("B", KEY_B), root=tmp_path, backup_stamp=stamp)
    same = update_keys_file(keys_path, setter("B", KEY_B), root=tmp_path, backup_stamp=stamp)
    assert (first.backup, added.backup, same.written) == (None, None, False)
    before = keys_path.read_bytes()
    replaced = update_keys_file(keys_path, setter("A", KEY_B), root=tmp_path, backup_stamp=stamp)
    assert replaced.backup is not None
    assert replaced.backup.read_bytes() == before
    assert replaced.keys.get("A") == Secret(KEY_B)


def test_an_edit_that_raises_writes_nothing(tmp_path: Path) -> None:
    keys_path = tmp_path / ".env.keys"
    keys_path.write_text("A=1\n")

    def edit(keys: KeysFile) -> None:
        keys.set("B", Secret("2"))
        raise FormatError("changed my mind")

    with pytest.raises(FormatError, match="changed my mind"):
        update_keys_file(keys_path, edit, root=tmp_path)
    assert keys_path.read_text() == "A=1\n"
    # And the lock was released: the next writer gets it at once.
    update_keys_file(keys_path, setter("B", "2"), root=tmp_path, timeout=1)


def test_encrypt_keeps_a_key_of_another_file_written_meanwhile(tmp_path: Path) -> None:
    # Two encrypts in one folder (.env.ci and .env.dev) each keep the other's new key.
    for name in ("ci", "dev", "qa", "prod"):
        (tmp_path / f".env.{name}").write_text("A=1\n")
    threads = [
        threading.Thread(target=encrypt_file, args=(tmp_path / f".env.{name}",))
        for name in ("ci", "dev", "qa", "prod")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys = KeysFile.read(tmp_path / ".env.keys")
    for name in ("ci", "dev", "qa", "prod"):
        private = keys.get(f"DOTENV_PRIVATE_KEY_{name.upper()}")
        assert private is not None
        assert public_key_of(private) in (tmp_path / f".env.{name}").read_text()
