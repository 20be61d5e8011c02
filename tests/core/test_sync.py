"""The sync engine (no CLI): outcomes, modes, writes, backups, bad input, concurrency."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from envdrift import DecryptionCheck, Secret, hookimpl
from envdrift.builtins import dotenvx as dotenvx_plugin
from envdrift.config import load_config
from envdrift.dotenvx.keysfile import KEYS_HEADER
from envdrift.session import open_vaults
from envdrift.sync import (
    Drift,
    MappingResult,
    Outcome,
    SyncOptions,
    SyncReport,
    job_shares,
    run_sync,
)

from tests.core.sync_helpers import (
    KEY_A,
    KEY_B,
    KEY_C,
    FakeVerifier,
    LatencyPlugin,
    Project,
    fake_public_key,
    keys_line,
    make_key,
    registry_with,
)
from tests.helpers import assert_no_private_key


@pytest.fixture
def plugin() -> LatencyPlugin:
    return LatencyPlugin()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "repo").mkdir()
    return Project(tmp_path / "repo")


def sync(
    project: Project,
    *plugins: object,
    profile: str | None = None,
    confirm: Any = None,
    **options: Any,
) -> SyncReport:
    config = load_config(project.write_config(), project.root)
    registry = registry_with(*plugins)
    with open_vaults(config, registry) as vaults:
        report = run_sync(
            vaults,
            config.select(profile),
            SyncOptions(**options),
            confirm=confirm,
        )
    for result in report.results:
        assert_no_private_key(result.reason, f"reason of mapping {result.mapping.index}")
        assert_no_private_key(repr(result), "a result's repr")
    return report


def outcomes(report: SyncReport) -> list[str]:
    return [str(r.outcome) for r in report.results]


def new_keys_file(*entries: tuple[str, str]) -> str:
    text = KEYS_HEADER
    for environment, key in entries:
        text += f"\n# .env.{environment}\n{keys_line(environment, key)}"
    return text


def backups(folder: Path) -> list[Path]:
    return sorted(folder.glob(".env.keys.backup.*"))


# -- outcomes --------------------------------------------------------------------------


def test_first_run_creates_keys_files_like_dotenvx(project: Project, plugin: LatencyPlugin) -> None:
    project.secret("app-key", KEY_A)
    project.secret("auth-key", f'DOTENV_PRIVATE_KEY_STAGING="{KEY_B}"\n')
    app, auth = project.service("services/app"), project.service("services/auth")
    project.map("app-key", "services/app")
    project.map("auth-key", "services/auth", environment="staging")
    report = sync(project, plugin)
    assert outcomes(report) == ["created", "created"]
    assert report.exit_code == 0
    assert (app / ".env.keys").read_text() == new_keys_file(("production", KEY_A))
    assert (auth / ".env.keys").read_text() == new_keys_file(("staging", KEY_B))
    assert stat.S_IMODE((app / ".env.keys").stat().st_mode) == 0o600
    assert backups(app) == []


def test_a_rerun_changes_nothing(project: Project, plugin: LatencyPlugin) -> None:
    project.secret("app-key", KEY_A)
    app = project.service("services/app")
    project.map("app-key", "services/app")
    sync(project, plugin)
    before = (app / ".env.keys").stat()
    report = sync(project, plugin)
    assert outcomes(report) == ["unchanged"]
    after = (app / ".env.keys").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not rewritten


def test_a_key_differing_only_in_case_is_unchanged(project: Project, plugin: LatencyPlugin) -> None:
    project.secret("app-key", KEY_A)
    project.service("app", keys=keys_line("production", KEY_A.upper()))
    project.map("app-key", "app")
    assert outcomes(sync(project, plugin)) == ["unchanged"]


def test_new_keys_are_appended_and_every_other_byte_kept(
    project: Project, plugin: LatencyPlugin
) -> None:
    project.secret("app-key", KEY_A)
    existing = f"# my notes\r\nexport OTHER='x'\r\n{keys_line('staging', KEY_B)}"
    app = project.service("app", keys=existing)
    project.map("app-key", "app")
    assert outcomes(sync(project, plugin)) == ["created"]
    text = (app / ".env.keys").read_bytes().decode()
    assert text == existing + "\n# .env.production\n" + keys_line("production", KEY_A)
    assert backups(app) == []  # nothing was replaced


def test_force_replaces_a_differing_key_after_a_0600_backup(
    project: Project, plugin: LatencyPlugin
) -> None:
    project.secret("app-key", KEY_A)
    existing = f'# keep me\nDOTENV_PRIVATE_KEY_PRODUCTION="{KEY_B}" # old\n{keys_line("ci", KEY_C)}'
    app = project.service("app", keys=existing)
    os.chmod(app / ".env.keys", 0o644)
    project.map("app-key", "app")
    report = sync(project, plugin, force=True)
    assert outcomes(report) == ["updated"]
    assert (app / ".env.keys").read_text() == existing.replace(KEY_B, KEY_A)
    assert stat.S_IMODE((app / ".env.keys").stat().st_mode) == 0o600
    (backup,) = backups(app)
    assert re.fullmatch(r"\.env\.keys\.backup\.\d{8}T\d{6}Z", backup.name)
    assert backup.read_text() == existing
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert report.results[0].backup == backup


def test_backups_never_overwrite_each_other(project: Project, plugin: LatencyPlugin) -> None:
    app = project.service("app", keys=keys_line("production", KEY_C))
    project.map("app-key", "app")
    for key in (KEY_A, KEY_B, KEY_C):  # three updates, most likely within one second
        project.secret("app-key", key)
        assert outcomes(sync(project, plugin, force=True)) == ["updated"]
    contents = sorted(path.read_text() for path in backups(app))
    expected = [keys_line("production", k) for k in (KEY_C, KEY_A, KEY_B)]
    assert contents == sorted(expected)


def test_a_mismatch_without_force_is_an_error_and_writes_nothing(
    project: Project, plugin: LatencyPlugin
) -> None:
    project.secret("app-key", KEY_A)
    project.secret("other-key", KEY_C)
    app = project.service("app", keys=keys_line("production", KEY_B))
    project.service("other")
    project.map("app-key", "app")
    project.map("other-key", "other")
    report = sync(project, plugin)
    assert outcomes(report) == ["error", "created"]
    assert "differs from the vault's; run `envdrift sync --force`" in report.results[0].reason
    assert report.exit_code == 1
    assert (app / ".env.keys").read_text() == keys_line("production", KEY_B)
    assert backups(app) == []


def test_ci_never_asks(project: Project, plugin: LatencyPlugin) -> None:
    project.secret("app-key", KEY_A)
    project.service("app", keys=keys_line("production", KEY_B))
    project.map("app-key", "app")
    asked: list[int] = []
    report = sync(project, plugin, ci=True, confirm=lambda r: asked.append(1) or True)
    assert (outcomes(report), asked) == (["error"], [])


def test_interactive_runs_ask_in_config_order(project: Project, plugin: LatencyPlugin) -> None:
    for name, folder in [("k1", "one"), ("k2", "two"), ("k3", "three")]:
        project.secret(name, KEY_A)
        project.service(folder, keys=keys_line("production", KEY_B))
        project.map(name, folder)
    asked: list[str] = []

    def confirm(result: MappingResult) -> bool:
        asked.append(result.mapping.folder_path)
        assert result.local_key is not None
        assert result.vault_key is not None
        return result.mapping.folder_path != "two"

    report = sync(project, plugin, confirm=confirm)
    assert asked == ["one", "two", "three"]
    assert outcomes(report) == ["updated", "skipped", "updated"]
    assert report.exit_code == 0  # declining is the user's choice, not a failure
    assert (project.root / "two" / ".env.keys").read_text() == keys_line("production", KEY_B)


def test_a_file_changed_while_waiting_for_an_answer_is_not_overwritten(
    project: Project, plugin: LatencyPlugin
) -> None:
    project.secret("app-key", KEY_A)
    app = project.service("app", keys=keys_line("production", KEY_B))
    project.map("app-key", "app")

    def confirm(result: MappingResult) -> bool:
        (app / ".env.keys").write_text(keys_line("production", KEY_C))  # someone else wrote
        return True

    report = sync(project, plugin, confirm=confirm)
    assert outcomes(report) == ["error"]
    assert "changed on disk during the run" in report.results[0].reason
    assert (app / ".env.keys").read_text() == keys_line("production", KEY_C)
    assert backups(app) == []


# -- verify ----------------------------------------------------------------------------


def test_verify_reports_every_kind_of_drift_and_writes_nothing(
    project: Project, plugin: LatencyPlugin
) -> None:
    for name in ("same", "differs", "missing-locally"):
        project.secret(name, KEY_A)
    project.service("same", keys=keys_line("production", KEY_A))
    project.service("differs", keys=keys_line("production", KEY_B))
    project.service("missing-locally")
    project.service("no-secret")
    for name in ("same", "differs", "missing-locally"):
        project.map(name, name)
    project.map("not-in-vault", "no-secret")
    report = sync(project, plugin, verify=True)
    # A secret missing from the vault is an error (nothing to compare), of kind
    # missing_secret.
    assert outcomes(report) == ["unchanged", "drift", "drift", "error"]
    assert [r.drift for r in report.results] == [
        None,
        Drift.MISMATCH,
        Drift.MISSING_KEY,
        Drift.MISSING_SECRET,
    ]
    assert "not found" in report.results[3].reason
    assert report.exit_code == 1
    assert not (project.root / "missing-locally" / ".env.keys").exists()
    assert (project.root / "differs" / ".env.keys").read_text() == keys_line("production", KEY_B)


def test_verify_in_sync_exits_0(project: Project, plugin: LatencyPlugin) -> None:
    project.secret("k", KEY_A)
    project.service("app", keys=keys_line("production", KEY_A))
    project.map("k", "app")
    assert sync(project, plugin, verify=True).exit_code == 0


# -- bad input: one mapping fails, the others complete ----------------------------------


def test_vault_errors_stay_on_their_mapping(project: Project, plugin: LatencyPlugin) -> None:
    project.secret("good", KEY_A)
    project.secret("bad-shape", "hunter2")
    project.secret("other-env", keys_line("staging", KEY_B))
    project.secret("echo-1", keys_line("production", KEY_C))
    names = ["good", "missing", "down-1", "denied-1", "boom-1", "bad-shape", "other-env"]
    names.append("echo-1")
    for index, name in enumerate(names):
        project.service(f"s{index}")
        project.map(name, f"s{index}")
    report = sync(project, plugin)
    assert outcomes(report) == ["created"] + ["error"] * 7
    reasons = [r.reason for r in report.results]
    assert "secret 'missing' not found in vault 'files'" in reasons[1]
    assert "is not answering" in reasons[2]
    assert "refused 'denied-1'" in reasons[3]
    assert reasons[4].endswith("failed on secret 'boom-1': RuntimeError: plugin bug (test)")
    assert "a 7-character value that is not a key" in reasons[5]
    assert "hunter2" not in reasons[5]
    assert "holds DOTENV_PRIVATE_KEY_STAGING, not DOTENV_PRIVATE_KEY_PRODUCTION" in reasons[6]
    # An untranslated error's text is not envdrift's to trust: key-shaped runs are masked.
    assert (
        "failed on secret 'echo-1': ValueError: cannot parse {'value': "
        "'DOTENV_PRIVATE_KEY_PRODUCTION=***" in reasons[7]
    )
    assert KEY_C not in reasons[7]
    assert report.exit_code == 1
    assert (project.root / "s0" / ".env.keys").exists()
    assert not any((project.root / f"s{i}" / ".env.keys").exists() for i in range(1, 8))


def test_folder_problems(project: Project, plugin: LatencyPlugin, tmp_path: Path) -> None:
    project.secret("k", KEY_A)
    (project.root / "file").write_text("not a folder")
    (tmp_path / "outside").mkdir()
    (project.root / "link").symlink_to(tmp_path / "outside")
    project.service("ok")
    project.map("k", "missing")
    project.map("k", "file")
    project.map("k", "../outside", environment="a")
    project.map("k", "link", environment="b")
    project.map("k", "ok")
    report = sync(project, plugin)
    assert outcomes(report) == ["error", "error", "error", "error", "created"]
    reasons = [r.reason for r in report.results]
    assert reasons[0] == (
        "folder_path 'missing' does not exist (envdrift.toml mapping 1); create it or fix the path"
    )
    assert reasons[1] == "folder_path 'file' is not a directory (envdrift.toml mapping 2)"
    for reason in reasons[2:4]:
        assert "leads outside the project root" in reason
        assert "set [vault.sync] allow_outside_root = true if that is intended" in reason
    assert not (tmp_path / "outside" / ".env.keys").exists()
    assert plugin.calls == ["k"]  # broken mappings are not even fetched


def test_outside_root_when_allowed(project: Project, plugin: LatencyPlugin, tmp_path: Path) -> None:
    project.secret("k", KEY_A)
    (tmp_path / "outside").mkdir()
    project.map("k", "../outside")
    assert outcomes(sync(project, plugin, allow_outside_root=True)) == ["created"]
    project.sync_extra = "allow_outside_root = true"
    assert outcomes(sync(project, plugin)) == ["unchanged"]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.mkdir(), "is a directory, not a file"),
        (lambda p: p.write_bytes(b"DOTENV_PRIVATE_KEY_X=\xff\n"), "is not valid UTF-8 (line 1)"),
    ],
)
def test_an_unreadable_keys_file_fails_its_mapping_only(
    project: Project, plugin: LatencyPlugin, make: Any, expected: str
) -> None:
    project.secret("k", KEY_A)
    bad = project.service("bad")
    make(bad / ".env.keys")
    project.service("good")
    project.map("k", "bad")
    project.map("k", "good")
    report = sync(project, plugin, force=True)
    assert outcomes(report) == ["error", "created"]
    assert expected in report.results[0].reason
    assert backups(bad) == []


def test_a_failed_write_leaves_no_half_written_file(
    project: Project, plugin: LatencyPlugin, tmp_path: Path
) -> None:
    project.secret("k", KEY_A)
    app = project.service("app")
    # The keys file is a symlink into a folder that does not exist: the write must fail.
    (app / ".env.keys").symlink_to(project.root / "gone" / ".env.keys")
    project.map("k", "app")
    report = sync(project, plugin)
    assert outcomes(report) == ["error"]
    assert report.results[0].reason.startswith(f"cannot write {app / '.env.keys'}")
    assert sorted(p.name for p in app.iterdir()) == [".env.keys"]  # no temp file left


# -- several mappings, one file ----------------------------------------------------------


def test_mappings_sharing_a_folder_write_one_file_once(
    project: Project, plugin: LatencyPlugin
) -> None:
    project.secret("prod", KEY_A)
    project.secret("staging", KEY_B)
    app = project.service("app", keys=keys_line("production", KEY_C))
    project.map("prod", "app")
    project.map("staging", "./app", environment="staging")
    report = sync(project, plugin, force=True)
    assert outcomes(report) == ["updated", "created"]
    assert (app / ".env.keys").read_text() == (
        keys_line("production", KEY_A) + "\n# .env.staging\n" + keys_line("staging", KEY_B)
    )
    assert len(backups(app)) == 1


def test_two_mappings_writing_one_key_both_fail(project: Project, plugin: LatencyPlugin) -> None:
    project.secret("a", KEY_A)
    project.secret("b", KEY_B)
    app = project.service("app")
    project.map("a", "app")
    project.map("b", "app/.")
    report = sync(project, plugin)
    assert outcomes(report) == ["error", "error"]
    assert "mappings 1, 2 all write DOTENV_PRIVATE_KEY_PRODUCTION" in report.results[0].reason
    assert not (app / ".env.keys").exists()


def test_symlinked_keys_files_are_one_file(project: Project, plugin: LatencyPlugin) -> None:
    project.secret("a", KEY_A)
    project.secret("b", KEY_B)
    shared = project.service("shared", keys="# shared keys\n")
    for folder in ("one", "two"):
        (project.service(folder) / ".env.keys").symlink_to(shared / ".env.keys")
    project.map("a", "one")
    project.map("b", "two", environment="staging")
    report = sync(project, plugin)
    assert outcomes(report) == ["created", "created"]
    assert (project.root / "one" / ".env.keys").is_symlink()  # written through the link
    text = (shared / ".env.keys").read_text()
    assert keys_line("production", KEY_A) in text
    assert keys_line("staging", KEY_B) in text
    project.mappings[1]["environment"] = "production"
    report = sync(project, plugin)
    assert outcomes(report) == ["error", "error"]
    assert "mappings 1, 2 all write DOTENV_PRIVATE_KEY_PRODUCTION" in report.results[1].reason


# -- concurrency -----------------------------------------------------------------------


def test_fetches_are_concurrent_bounded_and_reported_in_order(project: Project) -> None:
    plugin = LatencyPlugin(latency=0.02)
    for index in range(40):
        project.secret(f"key-{index}", make_key(str(index)))
        project.service(f"svc/{index}")
        project.map(f"key-{index}", f"svc/{index}")
    report = sync(project, plugin, jobs=8)
    assert outcomes(report) == ["created"] * 40
    assert [r.mapping.index for r in report.results] == list(range(1, 41))
    assert plugin.max_in_flight == 8
    assert sorted(plugin.calls) == sorted(f"key-{i}" for i in range(40))
    for index in (0, 17, 39):
        text = (project.root / f"svc/{index}/.env.keys").read_text()
        assert keys_line("production", make_key(str(index))) in text

    serial = LatencyPlugin(latency=0.0)
    assert outcomes(sync(project, serial, jobs=1)) == ["unchanged"] * 40
    assert serial.max_in_flight == 1


def test_jobs_bound_the_calls_in_flight_across_vaults(project: Project) -> None:
    plugin = LatencyPlugin(latency=0.02)
    for index in range(12):
        vault_name = f"v{index % 4}"
        project.secret(f"key-{index}", make_key(str(index)), vault_name=vault_name)
        project.service(f"svc/{index}")
        project.map(f"key-{index}", f"svc/{index}", vault_name=vault_name)
    assert outcomes(sync(project, plugin, jobs=2)) == ["created"] * 12
    assert len(plugin.instances) == 4
    assert plugin.max_in_flight == 2


@pytest.mark.parametrize(
    ("sizes", "jobs", "shares"),
    [
        ([40], 8, [8]),
        ([3], 8, [3]),
        ([30, 10], 8, [6, 2]),
        ([100, 1, 1], 3, [1, 1, 1]),
        ([100, 1, 1], 4, [2, 1, 1]),
        ([5, 5, 5, 5], 2, [1, 1, 1, 1]),
    ],
)
def test_job_shares_add_up_to_at_most_jobs(sizes: list[int], jobs: int, shares: list[int]) -> None:
    assert job_shares(sizes, jobs) == shares


def test_each_vault_name_gets_its_own_instance(project: Project) -> None:
    plugin = LatencyPlugin()
    project.secret("k", KEY_A, vault_name="east")
    project.secret("k", KEY_B, vault_name="west")
    project.service("east")
    project.service("west")
    project.map("k", "east", vault_name="east")
    project.map("k", "west", vault_name="west")
    assert outcomes(sync(project, plugin)) == ["created", "created"]
    assert len(plugin.instances) == 2
    assert plugin.closed == 2
    assert KEY_B in (project.root / "west" / ".env.keys").read_text()


def test_profiles_select_mappings(project: Project, plugin: LatencyPlugin) -> None:
    project.secret("shared", KEY_A)
    project.secret("local", KEY_B)
    app = project.service("app")
    project.map("shared", "app")
    project.map("local", "app", profile="local")
    assert outcomes(sync(project, plugin)) == ["created"]
    assert outcomes(sync(project, plugin, profile="local")) == ["unchanged", "created"]
    assert keys_line("local", KEY_B) in (app / ".env.keys").read_text()


# -- check decryption ------------------------------------------------------------------


def encrypted_env(private_key: str, environment: str = "production") -> str:
    suffix = environment.upper()
    return (
        f'DOTENV_PUBLIC_KEY_{suffix}="{fake_public_key(private_key)}"\n\n'
        f'# .env.{environment}\nDB_URL="encrypted:AAAA"\nAPI_KEY="encrypted:BBBB"\n'
    )


def test_check_decryption_proves_each_key_against_its_files(
    project: Project, plugin: LatencyPlugin
) -> None:
    verifier = FakeVerifier()
    project.secret("good", KEY_A)
    project.secret("stale", KEY_B)
    good, stale = project.service("good"), project.service("stale")
    project.service("empty")
    (good / ".env.production").write_text(encrypted_env(KEY_A))
    (good / ".env.staging").write_text(encrypted_env(KEY_C, "staging"))  # another environment
    (good / ".env.production.example").write_text(encrypted_env(KEY_C))  # a template
    (stale / ".env.production").write_text(encrypted_env(KEY_C))  # encrypted with another key
    project.map("good", "good")
    project.map("stale", "stale")
    project.map("good", "empty", environment="other")
    report = sync(project, plugin, verifier, check_decryption=True)
    # Checked before writing: the stale key is not written where it opens nothing.
    assert outcomes(report) == ["created", "error", "created"]
    assert not (stale / ".env.keys").exists()
    first, second, third = report.results
    assert second.reason == (
        "the vault's DOTENV_PRIVATE_KEY_PRODUCTION does not decrypt .env.production; nothing "
        "was written. If the local key is the right one, store it with "
        "`envdrift vault-push --force`"
    )
    assert [(c.path.name, c.ok, c.checked) for c in first.decryption or []] == [
        (".env.production", True, 2)
    ]
    assert first.ok
    assert second.decryption_ok is False
    assert second.decryption is not None
    assert second.decryption[0].failed == ("DB_URL", "API_KEY")
    assert not second.ok
    assert third.decryption_error == (
        "no env file in 'empty' is encrypted for environment 'other' (none that an installed "
        "verifier recognises); nothing to check"
    )
    assert report.counts()["decryption_failed"] == 2
    assert report.exit_code == 1
    assert sorted(verifier.seen) == sorted(
        [(".env.production", fake_public_key(KEY_A)), (".env.production", fake_public_key(KEY_B))]
    )


def test_a_file_no_verifier_understands(project: Project, plugin: LatencyPlugin) -> None:
    project.secret("k", KEY_A)
    app = project.service("app")
    (app / ".env.production").write_text('DOTENV_PUBLIC_KEY_PRODUCTION="something-else"\n')
    project.map("k", "app")
    report = sync(project, plugin, FakeVerifier(), check_decryption=True, verify=True)
    assert report.results[0].decryption_error == (
        "no env file in 'app' is encrypted for environment 'production' (none that an "
        "installed verifier recognises); nothing to check"
    )


class AgeVerifier:
    """A third-party format: ``.env.<environment>.age`` files whose first line is
    ``# age-encrypted for <public>``; the key opens them when its fake public key matches."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []

    @hookimpl
    def envdrift_verify_decryption(
        self, path: Path, text: str, private_key: Secret, environment: str | None
    ) -> DecryptionCheck | None:
        self.asked.append((path.name, environment))
        header = re.match(r"# age-encrypted for (\S+)\n", text)
        if header is None or (environment and path.name != f".env.{environment}.age"):
            return None
        ok = header.group(1) == fake_public_key(private_key.reveal())
        return DecryptionCheck(path, ok=ok, checked=1, reason="" if ok else "another key")


def test_a_verifier_for_another_format_is_asked_about_the_folders_files(
    project: Project, plugin: LatencyPlugin
) -> None:
    project.secret("k", KEY_A)
    app = project.service("app")
    (app / ".env.production.age").write_text(f"# age-encrypted for {fake_public_key(KEY_A)}\n")
    (app / ".env.staging.age").write_text(f"# age-encrypted for {fake_public_key(KEY_B)}\n")
    project.map("k", "app")
    age = AgeVerifier()
    report = sync(project, plugin, age, dotenvx_plugin, check_decryption=True)
    (result,) = report.results
    assert [(c.path.name, c.ok, c.checked) for c in result.decryption or []] == [
        (".env.production.age", True, 1)
    ]
    assert result.decryption_error is None
    assert (".env.production.age", "production") in age.asked
    assert outcomes(report) == ["created"]


def test_options_exclude_nonsense() -> None:
    with pytest.raises(ValueError, match="exclude"):
        SyncOptions(verify=True, force=True)
    with pytest.raises(ValueError, match="jobs"):
        SyncOptions(jobs=0)


def test_results_never_show_values(project: Project, plugin: LatencyPlugin) -> None:
    project.secret("k", KEY_A)
    project.service("app", keys=keys_line("production", KEY_B))
    project.map("k", "app")
    report = sync(project, plugin)
    result = report.results[0]
    document = result.as_dict(b"salt", project.root)
    assert_no_private_key(repr(document))
    assert document["vault_value"].startswith("<redacted len=64 sha=")
    assert document["vault_value"] != document["local_value"]
    assert Outcome(document["outcome"]) is Outcome.ERROR
