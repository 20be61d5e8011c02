"""Reading and writing KV secrets on a real OpenBao server: paths, mounts, versions, fields."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from envdrift import ConfigError, FormatError, NotFoundError, Secret, VaultError
from envdrift.testing.contract import SAMPLE_KEY
from envdrift_hashicorp import HashicorpVault

from tests.servers.openbao import OpenBao, bao_binary

MakeVault = Callable[..., HashicorpVault]


def test_reads_what_the_user_guides_vault_kv_put_writes(
    vault_env: OpenBao, make_vault: MakeVault, tmp_path: Path, uid: str
) -> None:
    # The guide's command, verbatim, run by a `vault` that is OpenBao's CLI.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "vault").symlink_to(bao_binary())
    keys = tmp_path / "services" / "myapp" / ".env.keys"
    keys.parent.mkdir(parents=True)
    # What dotenvx 2.x appends to .env.keys: unquoted values (shared/notes/dotenvx-format.md).
    keys.write_text(
        f"#/ private keys /\n\n# .env.production\nDOTENV_PRIVATE_KEY_PRODUCTION={SAMPLE_KEY}\n"
    )
    command = (
        f"vault kv put secret/{uid}/myapp-dotenvx-key \\\n"
        '  value="$(cat services/myapp/.env.keys | grep DOTENV_PRIVATE_KEY_PRODUCTION'
        " | cut -d'=' -f2)\""
    )
    subprocess.run(
        ["bash", "-c", command],
        cwd=tmp_path,
        env={**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"},
        check=True,
        capture_output=True,
    )
    assert make_vault().fetch(f"{uid}/myapp-dotenvx-key").reveal() == SAMPLE_KEY


def test_round_trip_is_visible_to_the_vault_cli(
    vault_env: OpenBao, make_vault: MakeVault, uid: str
) -> None:
    vault = make_vault()
    vault.store(f"{uid}-key", Secret(SAMPLE_KEY))
    assert vault_env.cli("kv", "get", "-field=value", f"secret/{uid}-key") == SAMPLE_KEY


def test_nested_paths(vault_env: OpenBao, make_vault: MakeVault, uid: str) -> None:
    vault_env.kv_put(f"secret/apps/{uid}/api/prod-key", value="nested")
    vault = make_vault()
    assert vault.fetch(f"apps/{uid}/api/prod-key").reveal() == "nested"
    vault.store(f"apps/{uid}/web/prod-key", Secret("web"))
    assert vault.list(f"apps/{uid}/") == [f"apps/{uid}/api/prod-key", f"apps/{uid}/web/prod-key"]
    assert vault.list(f"apps/{uid}/w") == [f"apps/{uid}/web/prod-key"]


def test_another_kv2_mount(vault_env: OpenBao, make_vault: MakeVault, uid: str) -> None:
    vault_env.kv_put(f"team/{uid}", value="team-value")
    vault = make_vault({"mount": "/team/"})
    assert "mount 'team'" in vault.describe()
    assert vault.fetch(uid).reveal() == "team-value"
    with pytest.raises(NotFoundError, match="team/data/"):
        vault.fetch(f"nothing-here-{uid}")


@pytest.mark.parametrize("configured", [None, 1, "1"], ids=["detected", "int", "str"])
def test_kv_version_1_detected_or_configured(
    vault_env: OpenBao, make_vault: MakeVault, uid: str, configured: object
) -> None:
    vault_env.api("POST", f"legacy/{uid}/k", {"value": "v1-value", "note": "kept"})
    options = (
        {"mount": "legacy"} if configured is None else {"mount": "legacy", "kv_version": configured}
    )
    vault = make_vault(options)
    assert vault.fetch(f"{uid}/k").reveal() == "v1-value"
    vault.store(f"{uid}/k", Secret("new"))
    assert vault_env.api("GET", f"legacy/{uid}/k")["data"] == {"value": "new", "note": "kept"}
    assert vault.list(f"{uid}/") == [f"{uid}/k"]
    with pytest.raises(NotFoundError) as info:
        vault.fetch(f"{uid}/missing")
    assert f"legacy/{uid}/missing" in str(info.value)
    assert "vault kv list legacy/" in str(info.value)


def test_field_selection(vault_env: OpenBao, make_vault: MakeVault, uid: str) -> None:
    vault_env.kv_put(f"secret/{uid}", key="the-key", owner="team-a")
    vault = make_vault({"field": "key"})
    assert vault.fetch(uid).reveal() == "the-key"
    vault.store(uid, Secret("rotated"))
    assert vault_env.kv_get(f"secret/{uid}") == {"key": "rotated", "owner": "team-a"}


def test_missing_field_names_the_fields_not_their_values(
    vault_env: OpenBao, make_vault: MakeVault, uid: str
) -> None:
    vault_env.kv_put(f"secret/{uid}", key="hidden-value-1", owner="hidden-value-2")
    with pytest.raises(FormatError) as info:
        make_vault().fetch(uid)
    message = str(info.value)
    assert "no field 'value'" in message
    assert "key, owner" in message
    assert "[vault.hashicorp] field" in message
    assert "hidden-value" not in message


def test_a_lone_dotenv_private_key_field_is_read_and_written(
    vault_env: OpenBao, make_vault: MakeVault, uid: str
) -> None:
    vault_env.kv_put(f"secret/{uid}", DOTENV_PRIVATE_KEY_PRODUCTION=SAMPLE_KEY)
    vault = make_vault()
    # Labelled, so that sync can refuse it for a mapping of another environment.
    assert vault.fetch(uid).reveal() == f"DOTENV_PRIVATE_KEY_PRODUCTION={SAMPLE_KEY}"
    vault.store(uid, Secret("ab" * 32))
    assert vault_env.kv_get(f"secret/{uid}") == {"DOTENV_PRIVATE_KEY_PRODUCTION": "ab" * 32}


def test_storing_what_was_fetched_from_a_lone_field_restores_it(
    vault_env: OpenBao, make_vault: MakeVault, uid: str
) -> None:
    # rotate's rollback: fetch the previous value, store another, then store it back.
    vault_env.kv_put(f"secret/{uid}", DOTENV_PRIVATE_KEY_PRODUCTION=SAMPLE_KEY)
    vault = make_vault()
    previous = vault.fetch(uid)
    vault.store(uid, Secret("ab" * 32))
    vault.store(uid, previous)
    assert vault_env.kv_get(f"secret/{uid}") == {"DOTENV_PRIVATE_KEY_PRODUCTION": SAMPLE_KEY}
    assert vault.fetch(uid) == previous


def test_store_keeps_other_fields_and_adds_a_version(
    vault_env: OpenBao, make_vault: MakeVault, uid: str
) -> None:
    vault_env.kv_put(f"secret/{uid}", value="old", rotated_by="alice")
    make_vault().store(uid, Secret("new"))
    assert vault_env.kv_get(f"secret/{uid}") == {"value": "new", "rotated_by": "alice"}
    assert vault_env.kv_get(f"secret/{uid}", version=1)["value"] == "old"


def test_check_and_set_refuses_to_overwrite_a_concurrent_write(
    vault_env: OpenBao, make_vault: MakeVault, uid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault_env.kv_put(f"secret/{uid}", value="v1")
    vault = make_vault()
    read = vault._read_for_update

    def read_then_someone_else_writes(*args: object) -> object:
        answer = read(*args)  # type: ignore[arg-type]
        vault_env.kv_put(f"secret/{uid}", value="from-a-colleague")
        return answer

    monkeypatch.setattr(vault, "_read_for_update", read_then_someone_else_writes)
    with pytest.raises(VaultError, match=r"changed while envdrift was writing it") as info:
        vault.store(uid, Secret("mine"))
    assert "expected version 1" in str(info.value)
    assert vault_env.kv_get(f"secret/{uid}") == {"value": "from-a-colleague"}


def test_check_and_set_on_create_refuses_a_concurrent_create(
    vault_env: OpenBao, make_vault: MakeVault, uid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = make_vault()
    read = vault._read_for_update

    def read_then_someone_else_creates(*args: object) -> object:
        answer = read(*args)  # type: ignore[arg-type]
        vault_env.kv_put(f"secret/{uid}", value="first")
        return answer

    monkeypatch.setattr(vault, "_read_for_update", read_then_someone_else_creates)
    with pytest.raises(VaultError, match="expected version 0"):
        vault.store(uid, Secret("mine"))
    assert vault_env.kv_get(f"secret/{uid}") == {"value": "first"}


def test_deleted_latest_version_is_not_found_and_can_be_written_again(
    vault_env: OpenBao, make_vault: MakeVault, uid: str
) -> None:
    vault_env.kv_put(f"secret/{uid}", value="gone")
    vault_env.api("DELETE", f"secret/data/{uid}")  # what `vault kv delete` does
    vault = make_vault()
    with pytest.raises(NotFoundError, match=f"secret/data/{uid}"):
        vault.fetch(uid)
    vault.store(uid, Secret("back"))
    assert vault.fetch(uid).reveal() == "back"


def test_list_walks_folders_only_where_the_prefix_leads(
    vault_env: OpenBao, make_vault: MakeVault, uid: str
) -> None:
    for path in ("a/one", "a/deep/two", "ab", "b/three"):
        vault_env.kv_put(f"secret/{uid}/{path}", value="x")
    vault = make_vault()
    assert vault.list(f"{uid}/a") == [f"{uid}/a/deep/two", f"{uid}/a/one", f"{uid}/ab"]
    assert vault.list(f"{uid}/b/") == [f"{uid}/b/three"]
    assert vault.list(f"{uid}/nothing/") == []
    assert f"{uid}/b/three" in vault.list("")


def test_missing_secret_names_mount_path_and_vault_kv_list(
    vault_env: OpenBao, make_vault: MakeVault, uid: str
) -> None:
    with pytest.raises(NotFoundError) as info:
        make_vault().fetch(f"apps/{uid}/prod-key")
    message = str(info.value)
    assert f"secret 'apps/{uid}/prod-key' not found" in message
    assert "mount 'secret'" in message
    assert f"secret/data/apps/{uid}/prod-key" in message
    assert f"vault kv list secret/apps/{uid}/" in message


def test_a_name_that_repeats_the_mount_gets_a_hint(
    vault_env: OpenBao, make_vault: MakeVault
) -> None:
    with pytest.raises(NotFoundError, match="did you mean 'myapp-dotenvx-key'"):
        make_vault().fetch("secret/myapp-dotenvx-key")


def test_a_mount_that_does_not_exist_says_so(vault_env: OpenBao, make_vault: MakeVault) -> None:
    with pytest.raises(NotFoundError) as info:
        make_vault({"mount": "no-such-mount"}).fetch("k")
    assert "no secrets engine mounted at 'no-such-mount/'" in str(info.value)
    assert "vault secrets list" in str(info.value)


def test_a_mount_that_is_not_kv_is_a_config_error(
    vault_env: OpenBao, make_vault: MakeVault
) -> None:
    with pytest.raises(ConfigError, match="'cubbyhole' secrets engine, not KV"):
        make_vault({"mount": "cubbyhole"}).fetch("k")


def test_a_folder_configured_as_the_mount_is_explained(
    vault_env: OpenBao, make_vault: MakeVault
) -> None:
    with pytest.raises(ConfigError) as info:
        make_vault({"mount": "secret/apps"}).fetch("k")
    message = str(info.value)
    assert "'secret/apps/' is not a mount but a folder inside the mount 'secret/'" in message
    assert 'mount = "secret"' in message
    assert "start secret names with 'apps/'" in message


@pytest.mark.parametrize("name", ["/abs", "trailing/", "a//b", "../up", "a/./b", "", "tab\there"])
def test_names_that_are_not_vault_paths_are_refused(
    vault_env: OpenBao, make_vault: MakeVault, name: str
) -> None:
    with pytest.raises(ConfigError, match="not a Vault path"):
        make_vault().fetch(name)


def test_names_with_url_characters_are_quoted(
    vault_env: OpenBao, make_vault: MakeVault, uid: str
) -> None:
    vault = make_vault()
    name = f"{uid}/odd name?x=1#frag"
    vault.store(name, Secret("odd"))
    assert vault.fetch(name).reveal() == "odd"
    assert vault.list(f"{uid}/") == [name]


def test_fetch_many_shares_one_client_across_threads(
    vault_env: OpenBao, make_vault: MakeVault, uid: str
) -> None:
    names = [f"{uid}/many/{i:03d}" for i in range(40)]
    for name in names:
        vault_env.kv_put(f"secret/{name}", value=f"value-{name}")
    results = make_vault().fetch_many([*names, f"{uid}/many/missing"], jobs=16)
    assert {n: r.reveal() for n, r in results.items() if isinstance(r, Secret)} == {
        n: f"value-{n}" for n in names
    }
    assert isinstance(results[f"{uid}/many/missing"], NotFoundError)
