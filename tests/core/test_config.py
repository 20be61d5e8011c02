"""Configuration: discovery, the schema, pair.txt, warnings, errors and backend wiring."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from envdrift import ConfigError
from envdrift.config import Config, find_config, load_config

GUIDE_EXAMPLE = """
[vault]
provider = "azure"

[vault.azure]
vault_url = "https://my-keyvault.vault.azure.net/"

[vault.sync]
default_vault_name = "my-keyvault"
env_keys_filename = ".env.keys"

[[vault.sync.mappings]]
secret_name = "myapp-key"
folder_path = "services/myapp"

[[vault.sync.mappings]]
secret_name = "auth-key"
folder_path = "services/auth"
environment = "staging"  # Use DOTENV_PRIVATE_KEY_STAGING

[[vault.sync.mappings]]
secret_name = "prod-key"
folder_path = "services/prod"
vault_name = "production-vault"  # Override default
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def load(tmp_path: Path, text: str, name: str = "envdrift.toml") -> Config:
    return load_config(write(tmp_path / name, text), tmp_path)


def error_of(tmp_path: Path, text: str, name: str = "envdrift.toml") -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text, name)
    assert info.value.exit_code == 2
    return str(info.value)


# -- discovery -------------------------------------------------------------------------


def test_the_user_guides_example_loads(tmp_path: Path) -> None:
    config = load(tmp_path, GUIDE_EXAMPLE)
    assert config.provider == "azure"
    assert config.vault_tables == {"azure": {"vault_url": "https://my-keyvault.vault.azure.net/"}}
    assert config.warnings == ()
    assert [(m.secret_name, m.environment, m.vault_name) for m in config.mappings] == [
        ("myapp-key", "production", "my-keyvault"),
        ("auth-key", "staging", "my-keyvault"),
        ("prod-key", "production", "production-vault"),
    ]
    assert config.mappings[1].key_name == "DOTENV_PRIVATE_KEY_STAGING"
    assert config.mappings[0].folder == tmp_path / "services/myapp"


def test_discovery_walks_up_and_paths_stay_relative_to_the_file(tmp_path: Path) -> None:
    write(tmp_path / "envdrift.toml", GUIDE_EXAMPLE)
    deep = tmp_path / "services" / "auth" / "src"
    deep.mkdir(parents=True)
    config = load_config(None, deep)
    assert config.path == tmp_path / "envdrift.toml"
    assert config.label == "../../../envdrift.toml"
    assert config.mappings[0].folder == tmp_path / "services/myapp"


def test_envdrift_toml_wins_over_pyproject_in_the_same_folder(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.envdrift.vault]\nprovider = 'aws'\n")
    write(tmp_path / "envdrift.toml", "[vault]\nprovider = 'azure'\n")
    assert find_config(tmp_path) == tmp_path / "envdrift.toml"


def test_the_nearest_folder_wins(tmp_path: Path) -> None:
    write(tmp_path / "envdrift.toml", "[vault]\nprovider = 'azure'\n")
    inner = write(tmp_path / "app" / "pyproject.toml", "[tool.envdrift.vault]\nprovider = 'aws'\n")
    assert find_config(tmp_path / "app") == inner
    config = load_config(None, tmp_path / "app")
    assert (config.kind, config.provider, config.root) == ("pyproject.toml", "aws", inner.parent)


def test_a_pyproject_without_tool_envdrift_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "envdrift.toml", "[vault]\nprovider = 'azure'\n")
    write(
        tmp_path / "app" / "pyproject.toml", "[project]\nname = 'x'\ndependencies = ['envdrift']\n"
    )
    write(tmp_path / "lib" / "pyproject.toml", "this is [not toml")
    assert find_config(tmp_path / "app") == tmp_path / "envdrift.toml"
    assert find_config(tmp_path / "lib") == tmp_path / "envdrift.toml"


def test_a_broken_pyproject_that_holds_our_table_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.envdrift.vault]\nprovider = \n")
    with pytest.raises(ConfigError, match=r"pyproject.toml: invalid TOML: .*line 2"):
        load_config(None, tmp_path)


def test_nothing_found_says_what_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no configuration found in .* or its parents") as info:
        load_config(None, tmp_path)
    assert "-c FILE" in str(info.value)


def test_pyproject_key_paths_carry_the_tool_prefix(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        [[tool.envdrift.vault.sync.mappings]]
        secret_name = "a"
        folder_path = 3
        """,
        name="pyproject.toml",
    )
    assert message == (
        "pyproject.toml: tool.envdrift.vault.sync.mappings[1].folder_path: "
        "expected a string, got an integer"
    )


def test_explicit_pyproject_without_our_table(tmp_path: Path) -> None:
    assert error_of(tmp_path, "[project]\nname='x'\n", "pyproject.toml") == (
        "pyproject.toml: no [tool.envdrift] table"
    )


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda p: None, "config file missing.toml does not exist"),
        (lambda p: (p / "missing.toml").mkdir(), "config file missing.toml is a directory"),
        (lambda p: (p / "missing.toml").write_bytes(b"\xff\xfe[vault]"), "not UTF-8 text"),
    ],
)
def test_unusable_config_files(tmp_path: Path, setup: object, expected: str) -> None:
    setup(tmp_path)  # type: ignore[operator]
    with pytest.raises(ConfigError, match=expected):
        load_config(Path("missing.toml"), tmp_path)


# -- schema errors ---------------------------------------------------------------------


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[vault]\nprovider = "azure"\n[[vault.sync.mappings]\n')
    assert message.startswith("envdrift.toml: invalid TOML: ")
    assert "line 3" in message


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            "[[vault.sync.mappings]]\nsecret_name = 'a'\nfolder_path = 42\n",
            "vault.sync.mappings[1].folder_path: expected a string, got an integer",
        ),
        (
            "[vault.sync.mappings]\nsecret_name = 'a'\nfolder_path = 'x'\n",
            "vault.sync.mappings: expected an array of tables ([[…]]), got a table",
        ),
        (
            "[[vault.sync.mappings]]\nfolder_path = 'x'\n",
            "vault.sync.mappings[1].secret_name: missing (required)",
        ),
        (
            "[[vault.sync.mappings]]\nsecret_name = ''\nfolder_path = 'x'\n",
            "vault.sync.mappings[1].secret_name: must not be empty",
        ),
        (
            "[vault.sync]\nallow_outside_root = 'yes'\n",
            "vault.sync.allow_outside_root: expected true or false, got a string",
        ),
        ("[vault.sync]\nmax_workers = 0\n", "vault.sync.max_workers: must be between 1 and 256"),
        (
            "[vault.sync]\nmax_workers = true\n",
            "vault.sync.max_workers: expected an integer, got a boolean",
        ),
        ("[vault]\nprovider = ['aws']\n", "vault.provider: expected a string, got an array"),
        ("vault = 'azure'\n", "vault: expected a table, got a string"),
        ("[vault]\nsync = 1\n", "vault.sync: expected a table, got an integer"),
        (
            "[[vault.sync.mappings]]\nsecret_name = 'a'\nfolder_path = 'x'\nprofile = 2024-01-01\n",
            "vault.sync.mappings[1].profile: expected a string, got a date or time",
        ),
    ],
)
def test_type_errors_name_file_key_path_and_expected_type(
    tmp_path: Path, toml: str, expected: str
) -> None:
    assert error_of(tmp_path, toml) == f"envdrift.toml: {expected}"


def test_every_problem_is_listed(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        [[vault.sync.mappings]]
        secret_name = 1
        folder_path = "a"

        [[vault.sync.mappings]]
        secret_name = "b"
        """,
    )
    assert message.splitlines() == [
        "envdrift.toml: 2 problems:",
        "  vault.sync.mappings[1].secret_name: expected a string, got an integer",
        "  vault.sync.mappings[2].folder_path: missing (required)",
    ]


@pytest.mark.parametrize("environment", ["prod uction", "prod.v2", "ünïcode", "a/b"])
def test_environment_names_must_make_a_key_name(tmp_path: Path, environment: str) -> None:
    message = error_of(
        tmp_path,
        f"[[vault.sync.mappings]]\nsecret_name = 'a'\nfolder_path = 'x'\n"
        f"environment = '{environment}'\n",
    )
    assert "vault.sync.mappings[1].environment" in message
    assert "DOTENV_PRIVATE_KEY_<ENVIRONMENT>" in message


@pytest.mark.parametrize("name", ["keys/.env.keys", "../.env.keys", ".."])
def test_keys_filename_is_a_file_name(tmp_path: Path, name: str) -> None:
    message = error_of(tmp_path, f"[vault.sync]\nenv_keys_filename = '{name}'\n")
    assert "vault.sync.env_keys_filename must be a file name" in message


# -- defaults and warnings -------------------------------------------------------------


def test_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, "[[vault.sync.mappings]]\nsecret_name = 'a'\nfolder_path = '.'\n")
    assert config.provider is None
    assert config.env_keys_filename == ".env.keys"
    assert config.allow_outside_root is False
    assert config.jobs is None
    (mapping,) = config.mappings
    assert (mapping.environment, mapping.vault_name, mapping.profile) == ("production", None, None)
    assert mapping.folder == tmp_path / "."


def test_a_profile_without_environment_uses_the_profiles_name(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [[vault.sync.mappings]]
        secret_name = "local-key"
        folder_path = "."
        profile = "local"

        [[vault.sync.mappings]]
        secret_name = "ci-key"
        folder_path = "."
        profile = "ci"
        environment = "production"
        """,
    )
    assert [m.key_name for m in config.mappings] == [
        "DOTENV_PRIVATE_KEY_LOCAL",
        "DOTENV_PRIVATE_KEY_PRODUCTION",
    ]


def test_unknown_keys_warn_with_did_you_mean(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        vualt = 1
        [vault]
        provder = "aws"
        [vault.sync]
        default_vault = "x"
        [[vault.sync.mappings]]
        secret_name = "a"
        folder_path = "."
        enviroment = "staging"
        """,
    )
    assert config.warnings == (
        "envdrift.toml: unknown key vualt is ignored. Did you mean 'vault'?",
        "envdrift.toml: unknown key vault.provder is ignored. Did you mean 'provider'?",
        "envdrift.toml: unknown key vault.sync.default_vault is ignored. "
        "Did you mean 'default_vault_name'?",
        "envdrift.toml: unknown key vault.sync.mappings[1].enviroment is ignored. "
        "Did you mean 'environment'?",
    )
    assert config.mappings[0].environment == "production"  # the misspelt key did nothing


def test_sections_of_other_envdrift_commands_are_accepted_quietly(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [envdrift]
        schema = "config.settings:Settings"
        [validation]
        check_encryption = true
        [encryption]
        backend = "dotenvx"
        [precommit]
        files = [".env.production"]
        """,
    )
    assert config.warnings == ()


def test_the_1x_mappings_table_warns_that_it_is_ignored(tmp_path: Path) -> None:
    config = load(tmp_path, '[vault.mappings]\na = "b"\n')
    assert config.warnings == (
        "envdrift.toml: [vault.mappings] is not read by this envdrift and is ignored; "
        "write [[vault.sync.mappings]] tables instead",
    )
    assert "mappings" not in config.vault_tables


def test_ephemeral_keys_and_env_file_of_11x_are_read(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [vault.sync]
        ephemeral_keys = true
        [[vault.sync.mappings]]
        secret_name = "a"
        folder_path = "."
        [[vault.sync.mappings]]
        secret_name = "b"
        folder_path = "b"
        ephemeral_keys = false
        env_file = ".env.prod"
        """,
    )
    assert config.warnings == ()
    first, second = config.mappings
    assert (first.ephemeral, first.env_file) == (True, None)
    assert (second.ephemeral, second.env_file) == (False, ".env.prod")
    assert (
        not load(tmp_path, '[[vault.sync.mappings]]\nsecret_name = "a"\nfolder_path = "."\n')
        .mappings[0]
        .ephemeral
    )


def test_activate_to_is_an_error_not_a_silent_downgrade(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(
            tmp_path,
            """
            [[vault.sync.mappings]]
            secret_name = "a"
            folder_path = "."
            activate_to = ".env"
            """,
        )
    assert str(caught.value).startswith(
        "envdrift.toml: vault.sync.mappings[1].activate_to is not supported by this envdrift: "
        "it copied decrypted secrets to another file"
    )
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("bad", ["/etc/passwd", "../.env", "a/../../b", "C:.env"])
def test_env_file_stays_inside_the_folder(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="env_file must name a file inside folder_path"):
        load(
            tmp_path,
            f"""
            [[vault.sync.mappings]]
            secret_name = "a"
            folder_path = "."
            env_file = "{bad}"
            """,
        )


def test_backend_tables_pass_through_untouched(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [vault.hashicorp]
        url = "http://127.0.0.1:8200"
        mount = "kv"
        nested = { a = 1 }
        [vault.azrue]
        vault_url = "x"
        """,
    )
    assert config.vault_tables["hashicorp"] == {
        "url": "http://127.0.0.1:8200",
        "mount": "kv",
        "nested": {"a": 1},
    }
    assert config.section_warnings(lambda: ["files", "hashicorp"]) == [
        "envdrift.toml: [vault.azrue] matches no installed vault and is ignored. "
        "Did you mean 'azure'?"
    ]


def test_only_our_own_backends_tables_pass_without_their_plugin(tmp_path: Path) -> None:
    # [vault.aws] waits for `pip install envdrift-aws` (asking for the vault says how);
    # no plugin of ours provides gcp, so its table is as unknown as any other.
    config = load(tmp_path, "[vault.aws]\nregion = 'eu-west-1'\n[vault.gcp]\nproject = 'p'\n")
    assert config.section_warnings(lambda: ["files"]) == [
        "envdrift.toml: [vault.gcp] matches no installed vault and is ignored."
    ]
    assert config.section_warnings(lambda: ["files", "gcp"]) == []  # a plugin provides it


def test_max_workers_is_the_jobs_default(tmp_path: Path) -> None:
    assert load(tmp_path, "[vault.sync]\nmax_workers = 4\n").jobs == 4


# -- pair.txt --------------------------------------------------------------------------


def test_pair_txt(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """\ufeff# Comments start with #
        myapp-dotenvx-key=services/myapp

           auth-service-key = services/auth-service
        # With explicit vault name (Azure)
        production-vault/prod-key=services/prod
        """,
        name="pair.txt",
    )
    assert config.kind == "pair.txt"
    assert config.provider is None
    assert [(m.secret_name, m.folder_path, m.vault_name, m.origin) for m in config.mappings] == [
        ("myapp-dotenvx-key", "services/myapp", None, "line 2"),
        ("auth-service-key", "services/auth-service", None, "line 4"),
        ("prod-key", "services/prod", "production-vault", "line 6"),
    ]
    assert all(m.environment == "production" for m in config.mappings)
    assert config.mappings[0].folder == tmp_path / "services/myapp"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("just-a-secret", "pair.txt:3: expected 'secret-name=folder-path'"),
        ("=services/app", "pair.txt:3: expected"),
        ("secret=", "pair.txt:3: expected"),
        ("/secret=services/app", "pair.txt:3: expected 'vault-name/secret-name=folder-path'"),
        ("vault/=services/app", "pair.txt:3: expected 'vault-name/secret-name=folder-path'"),
        ("hunter2-s3cret", "pair.txt:3: expected"),
        ("DB_PASSWORD/=hunter2-s3cret", "pair.txt:3: expected"),
    ],
)
def test_a_bad_pair_line_names_its_number_not_its_content(
    tmp_path: Path, line: str, expected: str
) -> None:
    message = error_of(tmp_path, f"# header\n\n{line}\nok=fine\n", name="pair.txt")
    assert message.startswith(expected)
    assert "(the line is not shown)" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "name", [".env", ".env.production", ".env.keys", ".ENV.local", "prod.keys", ".envrc"]
)
def test_an_env_or_keys_file_is_refused_as_config_unread(tmp_path: Path, name: str) -> None:
    secret = "DOTENV_PRIVATE_KEY=" + "ab" * 32
    message = error_of(tmp_path, f"{secret}\n", name=name)
    assert message == (
        f"{name} is an env or keys file, not a configuration; pass -c envdrift.toml, "
        "a pyproject.toml or a pair.txt"
    )


@pytest.mark.parametrize(
    "line",
    [
        "DOTENV_PRIVATE_KEY_CI=" + "ab" * 32,
        'export DOTENV_PUBLIC_KEY="02' + "cd" * 32 + '"',
        'TOKEN="encrypted:BHx3secret"',
    ],
)
def test_a_renamed_env_or_keys_file_is_refused_without_quoting_it(
    tmp_path: Path, line: str
) -> None:
    message = error_of(tmp_path, f"# keys\n{line}\n", name="settings.txt")
    assert message.startswith("settings.txt:2: holds a dotenvx key or an encrypted value")
    assert line.split("=", 1)[1].strip('"') not in message


def test_toml_nested_too_deeply_is_a_config_error(tmp_path: Path) -> None:
    deep = "x = " + "[" * 5000 + "\n"
    message = error_of(tmp_path, deep)
    assert message == "envdrift.toml: invalid TOML: arrays or tables nested too deeply to read"
    # Not named *.toml and not readable as TOML: it is read as a pair.txt, no crash.
    assert load(tmp_path, deep, name="envdrift.conf").kind == "pair.txt"


def test_a_toml_file_not_named_toml_is_still_toml(tmp_path: Path) -> None:
    config = load(tmp_path, GUIDE_EXAMPLE, name="envdrift.conf")
    assert (config.kind, len(config.mappings)) == ("envdrift.toml", 3)


# -- selection -------------------------------------------------------------------------

PROFILES = """
[[vault.sync.mappings]]
secret_name = "shared"
folder_path = "."
environment = "shared"

[[vault.sync.mappings]]
secret_name = "local-key"
folder_path = "."
profile = "local"

[[vault.sync.mappings]]
secret_name = "ci-key"
folder_path = "."
profile = "ci"
"""


def test_selection_by_profile(tmp_path: Path) -> None:
    config = load(tmp_path, PROFILES)
    assert [m.secret_name for m in config.select(None)] == ["shared"]
    assert [m.secret_name for m in config.select("local")] == ["shared", "local-key"]
    assert [m.secret_name for m in config.select("ci")] == ["shared", "ci-key"]


def test_an_unknown_profile_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"has profile 'locl'. Did you mean 'local'\? Profiles"):
        load(tmp_path, PROFILES).select("locl")


def test_an_empty_selection_is_an_error(tmp_path: Path) -> None:
    only_tagged = "[[vault.sync.mappings]]\nsecret_name='a'\nfolder_path='.'\nprofile='dev'\n"
    with pytest.raises(ConfigError, match=r"selects nothing; pass --profile \(dev\)"):
        load(tmp_path, only_tagged).select(None)
    with pytest.raises(ConfigError, match=r"no mappings; add \[\[vault.sync.mappings\]\]"):
        load(tmp_path, "[vault]\nprovider='files'\n").select(None)
