from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from goldentime.errors import ConfigError
from goldentime.settings import (
    Settings,
    child_environment,
    describe,
    load_settings,
)
from goldentime.settings_sources import env_var, group_fields
from ops.commands.system import config

# Every environment variable the flat settings model read, by its flat field name, and where
# the field lives now: the variable names are a contract (docs, deploy files, scripts).
ENV_CONTRACT = {
    "KAFKA_BOOTSTRAP_SERVERS": "broker.bootstrap_servers",
    "GOLDENTIME_BROKER_FLAVOR": "broker.flavor",
    "GOLDENTIME_TOPIC_PARTITIONS": "broker.partitions",
    "GOLDENTIME_TOPIC_REPLICATION_FACTOR": "broker.replication_factor",
    "GOLDENTIME_KAFKA_SESSION_TIMEOUT_S": "broker.session_timeout_s",
    "GOLDENTIME_KAFKA_FETCH_MAX_WAIT_MS": "broker.fetch_max_wait_ms",
    "GOLDENTIME_BROKER_PORT": "broker.embedded_port",
    "DATABASE_URL": "database.url",
    "GOLDENTIME_DATA_DIR": "data.dir",
    "GOLDENTIME_SEOUL_DATA_DIR": "data.seoul_dir",
    "GOLDENTIME_NETWORK": "routing.network",
    "GOLDENTIME_GRAPH": "routing.graph_path",
    "GOLDENTIME_CALL_CLOCK_AHEAD_MAX_S": "intake.clock_ahead_max_s",
    "GOLDENTIME_CALL_CLOCK_BEHIND_MAX_S": "intake.clock_behind_max_s",
    "GOLDENTIME_INTAKE_LOCK_WAIT_S": "intake.lock_wait_s",
    "GOLDENTIME_INTAKE_PUBLISH_WAIT_S": "intake.publish_wait_s",
    "GOLDENTIME_INTAKE_REDELIVER_AFTER_S": "intake.redeliver_after_s",
    "GOLDENTIME_INTAKE_RELAY_INTERVAL_S": "intake.relay_interval_s",
    "GOLDENTIME_CONSOLE_HOST": "console.host",
    "GOLDENTIME_CONSOLE_PORT": "console.port",
    "GOLDENTIME_AUTH": "console.auth",
    "GOLDENTIME_DISPATCH_WORKERS": "dispatch.workers",
    "GOLDENTIME_RUN_CARDS_FILE": "dispatch.run_cards_file",
    "GOLDENTIME_MCI_ER_CAPACITIES": "dispatch.mci_er_capacities",
    "GOLDENTIME_APP_ID": "process.app_id",
    "GOLDENTIME_STARTUP_TIMEOUT_S": "process.startup_timeout_s",
    "GOLDENTIME_METRICS_PORT": "process.metrics_port",
    "GOLDENTIME_LOG_LEVEL": "logging.level",
    "GOLDENTIME_LOG_FORMAT": "logging.format",
    "GOLDENTIME_PUBLIC_BASE_URL": "alerts.public_base_url",
    "GOLDENTIME_TWILIO_ACCOUNT_SID": "alerts.twilio_account_sid",
    "GOLDENTIME_TWILIO_AUTH_TOKEN": "alerts.twilio_auth_token",
    "GOLDENTIME_TWILIO_SENDER": "alerts.twilio_sender",
    "GOLDENTIME_TWILIO_API_BASE_URL": "alerts.twilio_api_base_url",
    "GOLDENTIME_TWILIO_SANDBOX_ACCOUNT_SID": "alerts.twilio_sandbox_account_sid",
    "GOLDENTIME_TWILIO_SANDBOX_AUTH_TOKEN": "alerts.twilio_sandbox_auth_token",
    "GOLDENTIME_TWILIO_SANDBOX_API_BASE_URL": "alerts.twilio_sandbox_api_base_url",
    "GOLDENTIME_MASTODON_BASE_URL": "alerts.mastodon_base_url",
    "GOLDENTIME_MASTODON_TOKEN": "alerts.mastodon_token",
    "GOLDENTIME_MASTODON_SANDBOX_BASE_URL": "alerts.mastodon_sandbox_base_url",
    "GOLDENTIME_MASTODON_SANDBOX_TOKEN": "alerts.mastodon_sandbox_token",
    "GOLDENTIME_ALERT_SMS_RATE_PER_S": "alerts.sms_rate_per_s",
    "GOLDENTIME_ALERT_DEMO_SUBSCRIBERS": "alerts.demo_subscribers",
    "GOLDENTIME_EXCHANGE_AGENCY_ID": "exchange.agency_id",
    "GOLDENTIME_EXCHANGE_CENTRE_NAME": "exchange.centre_name",
    "GOLDENTIME_EXCHANGE_PARTNERS": "exchange.partners",
    "GOLDENTIME_EXCHANGE_UNLOCATED_LAT": "exchange.unlocated_lat",
    "GOLDENTIME_EXCHANGE_UNLOCATED_LON": "exchange.unlocated_lon",
    "GOLDENTIME_EIDO_SCHEMA_DIR": "exchange.eido_schema_dir",
    "GOLDENTIME_CALLER_MEDIA_LINK_TTL_S": "caller_media.link_ttl_s",
    "GOLDENTIME_CALLER_MEDIA_CALL_ACCURACY_M": "caller_media.call_accuracy_m",
    "GOLDENTIME_CALLER_MEDIA_RECORDING_RETENTION_DAYS": "caller_media.recording_retention_days",
    "GOLDENTIME_WEBRTC_ICE_SERVERS": "caller_media.webrtc_ice_servers",
    "GOLDENTIME_DEMO_SPEED": "demo.speed",
    "GOLDENTIME_DEMO_CALLS": "demo.calls",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [*ENV_CONTRACT, "GOLDENTIME_CONFIG"]:
        monkeypatch.delenv(var, raising=False)


def _toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "goldentime.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("GOLDENTIME_CONFIG", str(path))
    return path


def test_defaults_mean_embedded_broker_and_sqlite(tmp_path: Path) -> None:
    settings = load_settings(data={"dir": tmp_path})
    assert settings.broker.embedded
    assert not settings.broker.tansu_compat
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'goldentime.db'}"
    with pytest.raises(ConfigError, match="KAFKA_BOOTSTRAP_SERVERS"):
        settings.broker.bootstrap()


def test_every_field_reads_its_unchanged_environment_variable() -> None:
    fields = {f"{group}.{name}": env_var(info) for group, name, info in group_fields(Settings)}
    assert {var: dotted for dotted, var in fields.items()} == ENV_CONTRACT


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("GOLDENTIME_BROKER_FLAVOR", "tansu")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/gt")
    monkeypatch.setenv("GOLDENTIME_CONSOLE_PORT", "9000")
    monkeypatch.setenv("GOLDENTIME_GRAPH", "/tmp/roads.graphml")
    monkeypatch.setenv("GOLDENTIME_ALERT_DEMO_SUBSCRIBERS", "true")
    monkeypatch.setenv("GOLDENTIME_MCI_ER_CAPACITIES", '{"권역응급의료센터": 12}')
    partners = [{"id": "gyeonggi.119.kr", "name": "경기", "token_in": "t"}]
    monkeypatch.setenv("GOLDENTIME_EXCHANGE_PARTNERS", json.dumps(partners))
    settings = load_settings()
    assert not settings.broker.embedded and settings.broker.tansu_compat
    assert settings.broker.bootstrap() == "k1:9092,k2:9092"
    assert settings.effective_database_url == "postgresql+psycopg://u@db/gt"
    assert settings.console.port == 9000
    assert settings.routing.graph_path == Path("/tmp/roads.graphml")
    assert settings.alerts.demo_subscribers is True
    assert settings.dispatch.mci_er_capacities == {"권역응급의료센터": 12}
    assert [p.id for p in settings.exchange.partners] == ["gyeonggi.119.kr"]


def test_keywords_win_over_environment_field_by_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDENTIME_CONSOLE_HOST", "0.0.0.0")
    monkeypatch.setenv("GOLDENTIME_CONSOLE_PORT", "9000")
    settings = load_settings(console={"port": 0})
    assert (settings.console.host, settings.console.port) == ("0.0.0.0", 0)


def test_file_tables_are_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _toml(
        tmp_path,
        monkeypatch,
        '[console]\nport = 8200\nauth = "demo"\n\n[logging]\nlevel = "debug"\n\n'
        '[dispatch]\nmci_er_capacities = { "A1100010" = 4 }\n',
    )
    settings = load_settings()
    assert (settings.console.port, settings.console.auth) == (8200, "demo")
    assert settings.dispatch.mci_er_capacities == {"A1100010": 4}
    monkeypatch.setenv("GOLDENTIME_CONSOLE_PORT", "8300")
    settings = load_settings()
    assert settings.console.port == 8300, "the environment wins over the file"
    assert settings.console.auth == "demo", "the rest of the table is kept"
    assert settings.logging.level == "debug"
    assert load_settings(console={"port": 8400}).console.port == 8400, "keywords win over both"


def test_flat_key_of_the_old_layout_names_its_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _toml(tmp_path, monkeypatch, 'auth = "demo"\n')
    with pytest.raises(ConfigError, match=r"`auth` is a flat key .* `auth` in table \[console\]"):
        load_settings()
    _toml(tmp_path, monkeypatch, "console_port = 8200\n")
    with pytest.raises(ConfigError, match=r"write `port` in table \[console\]"):
        load_settings()
    _toml(tmp_path, monkeypatch, 'kafka_bootstrap_servers = "k:9092"\n')
    with pytest.raises(ConfigError, match=r"write `bootstrap_servers` in table \[broker\]"):
        load_settings()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("console_prot = 8200\n", r"unknown key `console_prot`; the tables are \[broker\]"),
        ("[console]\nprot = 8200\n", r"console\.prot: Extra inputs are not permitted"),
        ("console = 8200\n", r"`console` must be a table"),
        ("[console\n", "cannot read settings"),
    ],
)
def test_bad_file_is_refused_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, words: str
) -> None:
    _toml(tmp_path, monkeypatch, text)
    with pytest.raises(ConfigError, match=words):
        load_settings()


def test_flat_keyword_names_its_new_place() -> None:
    with pytest.raises(ConfigError, match=r"data_dir: .*now data\.dir \(data=\{'dir': \.\.\.\}\)"):
        load_settings(data_dir="/tmp")


def test_missing_config_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDENTIME_CONFIG", "/nonexistent/gt.toml")
    with pytest.raises(ConfigError, match="no such file"):
        load_settings()


@pytest.mark.parametrize(
    ("var", "value", "words"),
    [
        ("GOLDENTIME_CONSOLE_PORT", "70000", r"console\.port \(GOLDENTIME_CONSOLE_PORT\): .*65535"),
        ("GOLDENTIME_CONSOLE_PORT", "eighty", r"console\.port .*valid integer"),
        ("GOLDENTIME_BROKER_FLAVOR", "rabbitmq", r"broker\.flavor .*'kafka' or 'tansu'"),
        ("KAFKA_BOOTSTRAP_SERVERS", " ", "KAFKA_BOOTSTRAP_SERVERS is set but empty"),
        ("GOLDENTIME_MCI_ER_CAPACITIES", "{oops", r"dispatch\.mci_er_capacities .*not valid JSON"),
        ("GOLDENTIME_MCI_ER_CAPACITIES", '{"x": -1}', r"dispatch\.mci_er_capacities\.x .*0"),
        ("GOLDENTIME_EXCHANGE_PARTNERS", '[{"id": "x"}]', r"exchange\.partners\.0\.id"),
    ],
)
def test_bad_values_are_refused_with_the_dotted_name_and_variable(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, words: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=words):
        load_settings()


def test_concern_models_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.console.port = 1  # type: ignore[misc]


def test_every_field_has_env_default_and_description() -> None:
    rows = describe(load_settings())
    assert {r["name"] for r in rows} == set(ENV_CONTRACT.values())
    for row in rows:
        assert row["env"], row["name"]
        assert row["description"], row["name"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["console.port"]["default"] == 8119
    assert by_name["dispatch.mci_er_capacities"]["default"] == {}


def test_explicit_settings_travel_to_children_as_env(tmp_path: Path) -> None:
    settings = load_settings(
        data={"dir": tmp_path}, console={"auth": "demo"}, dispatch={"workers": 2}
    )
    env = child_environment(settings)
    assert env == {
        "GOLDENTIME_DATA_DIR": str(tmp_path),
        "GOLDENTIME_AUTH": "demo",
        "GOLDENTIME_DISPATCH_WORKERS": "2",
    }
    assert load_settings(**{}).console.auth == "required"


def test_child_environment_round_trips_through_a_child_process(tmp_path: Path) -> None:
    partners = [{"id": "gyeonggi.119.kr", "name": "경기", "token_in": "partner-secret"}]
    settings = load_settings(
        data={"dir": tmp_path},
        console={"port": 0, "auth": "demo"},
        database={"url": "postgresql+psycopg://gt:pw@db/gt"},
        alerts={"twilio_auth_token": "twilio-secret"},
        dispatch={"mci_er_capacities": {"권역응급의료센터": 12}},
        exchange={"partners": partners},
    ).updated(broker={"bootstrap_servers": "127.0.0.1:9092", "flavor": "tansu"})
    env = {k: v for k, v in os.environ.items() if k not in ENV_CONTRACT} | child_environment(
        settings
    )
    probe = (
        "import json; from goldentime.settings import child_environment, load_settings; "
        "s = load_settings(); print(json.dumps([child_environment(s), s.model_dump(mode='json')]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout
    child_env, child_dump = json.loads(out)
    assert child_env == child_environment(settings), "secrets and JSON fields included"
    assert child_dump == settings.model_dump(mode="json")
    assert child_dump["exchange"]["partners"][0]["id"] == "gyeonggi.119.kr"


def test_updated_validates_and_keeps_explicit_fields(tmp_path: Path) -> None:
    settings = load_settings(data={"dir": tmp_path}, console={"auth": "demo"})
    moved = settings.updated(console={"port": 0})
    assert (moved.console.port, moved.console.auth, moved.data.dir) == (0, "demo", tmp_path)
    assert child_environment(moved)["GOLDENTIME_CONSOLE_PORT"] == "0"
    with pytest.raises(ConfigError, match=r"console\.port"):
        settings.updated(console={"port": -1})
    with pytest.raises(ConfigError, match="no settings group"):
        settings.updated(consoel={"port": 0})


def test_secrets_are_redacted_by_config_and_kept_for_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOLDENTIME_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GOLDENTIME_TWILIO_AUTH_TOKEN", "twilio-secret-1")
    monkeypatch.setenv("GOLDENTIME_MASTODON_TOKEN", "mastodon-secret-2")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://gt:db-secret-4@db/gt")
    partners = [{"id": "gyeonggi.119.kr", "name": "경기", "token_in": "partner-secret-3"}]
    monkeypatch.setenv("GOLDENTIME_EXCHANGE_PARTNERS", json.dumps(partners))
    settings = load_settings()
    assert settings.alerts.twilio_auth_token is not None
    assert settings.alerts.twilio_auth_token.get_secret_value() == "twilio-secret-1"
    for args in ([], ["--json"]):
        result = CliRunner().invoke(config, args)
        assert result.exit_code == 0, result.output
        for secret in ("twilio-secret-1", "mastodon-secret-2", "partner-secret-3", "db-secret-4"):
            assert secret not in result.output, (args, secret)
        assert "**********" in result.output
    rows = {r["name"]: r for r in json.loads(CliRunner().invoke(config, ["--json"]).output)}
    assert rows["alerts.twilio_auth_token"]["value"] == "**********"
    assert rows["alerts.twilio_auth_token"]["env"] == "GOLDENTIME_TWILIO_AUTH_TOKEN"
    assert rows["alerts.twilio_sender"]["value"] is None
    assert rows["database.url"]["value"] == "postgresql+psycopg://gt:***@db/gt"
    assert rows["database.url"]["env"] == "DATABASE_URL"
    assert rows["exchange.partners"]["value"][0]["token_in"] == "**********"
    assert rows["exchange.partners"]["value"][0]["id"] == "gyeonggi.119.kr"
    text = CliRunner().invoke(config, []).output
    assert "console.port = 8119" in text and "env GOLDENTIME_CONSOLE_PORT" in text
    env = child_environment(load_settings(alerts={"twilio_auth_token": "twilio-secret-1"}))
    assert env["GOLDENTIME_TWILIO_AUTH_TOKEN"] == "twilio-secret-1", "children get the value"
    assert load_settings().effective_database_url.endswith(":db-secret-4@db/gt")
