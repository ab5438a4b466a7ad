from __future__ import annotations

from pathlib import Path

import pytest

from goldentime.errors import ConfigError
from goldentime.settings import Settings, describe, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "KAFKA_BOOTSTRAP_SERVERS",
        "DATABASE_URL",
        "GOLDENTIME_CONFIG",
        "GOLDENTIME_CONSOLE_PORT",
        "GOLDENTIME_BROKER_FLAVOR",
        "GOLDENTIME_DATA_DIR",
    ):
        monkeypatch.delenv(var, raising=False)


def test_defaults_mean_embedded_broker_and_sqlite(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.embedded_broker
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'goldentime.db'}"
    with pytest.raises(ConfigError, match="KAFKA_BOOTSTRAP_SERVERS"):
        settings.bootstrap()


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/gt")
    monkeypatch.setenv("GOLDENTIME_CONSOLE_PORT", "9000")
    settings = load_settings()
    assert not settings.embedded_broker
    assert settings.bootstrap() == "k1:9092,k2:9092"
    assert settings.effective_database_url == "postgresql+psycopg://u@db/gt"
    assert settings.console_port == 9000


def test_file_is_read_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "goldentime.toml"
    config.write_text('console_port = 8200\nlog_level = "debug"\n', encoding="utf-8")
    monkeypatch.setenv("GOLDENTIME_CONFIG", str(config))
    assert load_settings().console_port == 8200
    monkeypatch.setenv("GOLDENTIME_CONSOLE_PORT", "8300")
    settings = load_settings()
    assert settings.console_port == 8300
    assert settings.log_level == "debug"


def test_unknown_key_in_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "goldentime.toml"
    config.write_text("console_prot = 8200\n", encoding="utf-8")
    monkeypatch.setenv("GOLDENTIME_CONFIG", str(config))
    with pytest.raises(ConfigError, match="console_prot"):
        load_settings()


def test_missing_config_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDENTIME_CONFIG", "/nonexistent/gt.toml")
    with pytest.raises(ConfigError, match="no such file"):
        load_settings()


@pytest.mark.parametrize(
    ("var", "value", "words"),
    [
        ("GOLDENTIME_CONSOLE_PORT", "70000", "less than or equal to 65535"),
        ("GOLDENTIME_CONSOLE_PORT", "eighty", "valid integer"),
        ("GOLDENTIME_BROKER_FLAVOR", "rabbitmq", "'kafka' or 'tansu'"),
        ("KAFKA_BOOTSTRAP_SERVERS", " ", "empty"),
    ],
)
def test_bad_values_are_refused_with_the_variable(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, words: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=words):
        load_settings()


def test_every_field_has_env_default_and_description() -> None:
    rows = describe(load_settings())
    assert {r["name"] for r in rows} == set(Settings.model_fields)
    for row in rows:
        assert row["env"], row["name"]
        assert row["description"], row["name"]


def test_explicit_settings_travel_to_children_as_env(tmp_path: Path) -> None:
    from goldentime.settings import child_environment

    settings = load_settings(data_dir=tmp_path, auth="demo", dispatch_workers=2)
    env = child_environment(settings)
    assert env == {
        "GOLDENTIME_DATA_DIR": str(tmp_path),
        "GOLDENTIME_AUTH": "demo",
        "GOLDENTIME_DISPATCH_WORKERS": "2",
    }
    assert load_settings(**{}).auth == "required"


def test_secrets_are_redacted_by_config_and_kept_for_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from click.testing import CliRunner

    from goldentime.settings import child_environment
    from ops.commands.system import config

    monkeypatch.setenv("GOLDENTIME_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GOLDENTIME_TWILIO_AUTH_TOKEN", "twilio-secret-1")
    monkeypatch.setenv("GOLDENTIME_MASTODON_TOKEN", "mastodon-secret-2")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://gt:db-secret-4@db/gt")
    partners = [{"id": "gyeonggi.119.kr", "name": "경기", "token_in": "partner-secret-3"}]
    monkeypatch.setenv("GOLDENTIME_EXCHANGE_PARTNERS", json.dumps(partners))
    settings = load_settings()
    assert settings.twilio_auth_token is not None
    assert settings.twilio_auth_token.get_secret_value() == "twilio-secret-1"
    for args in ([], ["--json"]):
        result = CliRunner().invoke(config, args)
        assert result.exit_code == 0, result.output
        for secret in ("twilio-secret-1", "mastodon-secret-2", "partner-secret-3", "db-secret-4"):
            assert secret not in result.output, (args, secret)
        assert "**********" in result.output
    rows = {r["name"]: r for r in json.loads(CliRunner().invoke(config, ["--json"]).output)}
    assert rows["twilio_auth_token"]["value"] == "**********"
    assert rows["twilio_sender"]["value"] is None
    assert rows["database_url"]["value"] == "postgresql+psycopg://gt:***@db/gt"
    assert rows["exchange_partners"]["value"][0]["token_in"] == "**********"
    assert rows["exchange_partners"]["value"][0]["id"] == "gyeonggi.119.kr"
    env = child_environment(load_settings(twilio_auth_token="twilio-secret-1"))
    assert env["GOLDENTIME_TWILIO_AUTH_TOKEN"] == "twilio-secret-1", "children get the value"
    assert load_settings().effective_database_url.endswith(":db-secret-4@db/gt")
