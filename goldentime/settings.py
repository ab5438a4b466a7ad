"""The one settings model: nested concern models, read from environment variables and an
optional TOML file.

`Settings` holds one frozen model per concern (`goldentime.settings_groups`): ``broker``,
``database``, ``data``, ``routing``, ``intake``, ``console``, ``dispatch``, ``process``,
``logging``, ``alerts``, ``exchange``, ``caller_media``, ``demo``; a process reads
``settings.console.port``, ``settings.broker.bootstrap()``. Every field names its environment
variable (unchanged from the flat layout), default and description; `goldentime config` prints
the effective values. Precedence: keyword arguments (``load_settings(console={"port": 0})``),
then environment, then the file named by ``GOLDENTIME_CONFIG`` (one table per concern), then
defaults.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from goldentime.errors import ConfigError
from goldentime.settings_groups import (
    PROJECT_ROOT,
    AlertsSettings,
    BrokerSettings,
    CallerMediaSettings,
    ConsoleSettings,
    DatabaseSettings,
    DataSettings,
    DemoSettings,
    DispatchSettings,
    ExchangePartner,
    ExchangeSettings,
    IntakeSettings,
    LoggingSettings,
    ProcessSettings,
    RoutingSettings,
)
from goldentime.settings_sources import (
    EnvVarSource,
    GroupedTomlSource,
    env_var,
    group_fields,
    moved_to,
)

__all__ = [
    "CONFIG_FILE_ENV",
    "PROJECT_ROOT",
    "REDACTED",
    "AlertsSettings",
    "BrokerSettings",
    "CallerMediaSettings",
    "ConsoleSettings",
    "DataSettings",
    "DatabaseSettings",
    "DemoSettings",
    "DispatchSettings",
    "ExchangePartner",
    "ExchangeSettings",
    "IntakeSettings",
    "LoggingSettings",
    "ProcessSettings",
    "RoutingSettings",
    "Settings",
    "child_environment",
    "describe",
    "load_settings",
]

CONFIG_FILE_ENV = "GOLDENTIME_CONFIG"


class Settings(BaseSettings):
    """Effective configuration of one Golden Time process: one model per concern."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    broker: BrokerSettings = Field(
        default_factory=BrokerSettings, description="The broker and its topics."
    )
    database: DatabaseSettings = Field(
        default_factory=DatabaseSettings, description="The incident database."
    )
    data: DataSettings = Field(
        default_factory=DataSettings, description="Runtime state and the shipped Seoul data."
    )
    routing: RoutingSettings = Field(
        default_factory=RoutingSettings, description="The road network routed on."
    )
    intake: IntakeSettings = Field(
        default_factory=IntakeSettings, description="Call intake and its outbox relay."
    )
    console: ConsoleSettings = Field(
        default_factory=ConsoleSettings, description="The web console."
    )
    dispatch: DispatchSettings = Field(
        default_factory=DispatchSettings, description="The dispatch workers."
    )
    process: ProcessSettings = Field(
        default_factory=ProcessSettings, description="App id, start-up, metrics endpoint."
    )
    logging: LoggingSettings = Field(default_factory=LoggingSettings, description="Log lines.")
    alerts: AlertsSettings = Field(
        default_factory=AlertsSettings, description="Public warnings (SMS, Mastodon)."
    )
    exchange: ExchangeSettings = Field(
        default_factory=ExchangeSettings, description="Centre-to-centre exchange (EIDO)."
    )
    caller_media: CallerMediaSettings = Field(
        default_factory=CallerMediaSettings, description="Video and location from callers."
    )
    demo: DemoSettings = Field(default_factory=DemoSettings, description="The demo scenario.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, EnvVarSource(settings_cls)]
        config_file = os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            sources.append(GroupedTomlSource(settings_cls, path=Path(config_file)))
        return tuple(sources)

    # --- derived ------------------------------------------------------------------------------
    @property
    def effective_database_url(self) -> str:
        """``database.url``, or the SQLite file goldentime.db under ``data.dir`` when unset
        (it spans two concerns, so it lives on the root)."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.data.dir / 'goldentime.db'}"

    def updated(self, **groups: Mapping[str, Any]) -> Settings:
        """A copy with some fields of some concerns replaced, validated, e.g.
        ``settings.updated(console={"port": 0})``; replaced fields count as explicitly set
        (they travel to children through `child_environment`)."""
        changes: dict[str, BaseModel] = {}
        for group, fields in groups.items():
            if group not in type(self).model_fields:
                raise ConfigError(f"no settings group {group!r}")
            current: BaseModel = getattr(self, group)
            kept = {name: getattr(current, name) for name in current.model_fields_set}
            try:
                changes[group] = type(current).model_validate({**kept, **fields})
            except ValidationError as err:
                raise ConfigError(f"invalid settings: {_problems(err, prefix=(group,))}") from err
        return self.model_copy(update=changes)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into one readable ConfigError.

    ``overrides`` are concern tables, e.g. ``load_settings(data={"dir": tmp}, console={"port":
    0})``; they win over the environment field by field.
    """
    config_file = os.environ.get(CONFIG_FILE_ENV)
    if config_file and not Path(config_file).is_file():
        raise ConfigError(f"{CONFIG_FILE_ENV}={config_file}: no such file")
    try:
        return Settings(**overrides)
    except ValidationError as err:
        raise ConfigError(f"invalid settings: {_problems(err)}") from err
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read settings: {err}") from err


def _problems(err: ValidationError, *, prefix: tuple[str, ...] = ()) -> str:
    """Each error as ``dotted.name (ENV_VAR): message``; a flat name of the old layout says
    where it moved."""
    env_of = {f"{group}.{name}": env_var(info) for group, name, info in group_fields(Settings)}
    problems = []
    for error in err.errors():
        loc = prefix + tuple(str(part) for part in error["loc"])
        dotted = ".".join(loc) or "settings"
        moved = moved_to(Settings, loc[0]) if len(loc) == 1 else None
        if moved is not None:
            group, name = moved
            problems.append(
                f"{dotted}: a flat name of the old layout: now {group}.{name} "
                f"({group}={{{name!r}: ...}})"
            )
            continue
        field = ".".join(loc[:2])
        var = env_of.get(field)
        problems.append(f"{dotted}{f' ({var})' if var else ''}: {error['msg']}")
    return "; ".join(problems)


def child_environment(settings: Settings) -> dict[str, str]:
    """Environment variables that give a child process the same explicitly-set settings."""
    env: dict[str, str] = {}
    for group, name, info in group_fields(Settings):
        model: BaseModel = getattr(settings, group)
        value = getattr(model, name)
        var = env_var(info)
        if name in model.model_fields_set and value is not None and var:
            env[var] = _env_value(value)
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
    """One row per field: dotted name, environment variable, effective value (secrets
    redacted), default, description."""
    rows: list[dict[str, Any]] = []
    for group, name, info in group_fields(Settings):
        value = getattr(getattr(settings, group), name)
        dotted = f"{group}.{name}"
        rows.append(
            {
                "name": dotted,
                "env": env_var(info),
                "value": _url_shown(value) if dotted == "database.url" else _shown(value),
                "default": _shown(info.get_default(call_default_factory=True)),
                "description": info.description,
            }
        )
    return rows
