"""Where the nested settings come from: environment variables and a TOML file of tables.

The environment keeps the flat variable names of the first layout (``KAFKA_BOOTSTRAP_SERVERS``,
``GOLDENTIME_AUTH``, ...): `EnvVarSource` reads each nested field's own variable (named in the
field's ``env``) and builds the nested dict. The TOML file holds one table per concern
(``[console] auth = "demo"``); a flat key of the old layout is refused with the table it
belongs in.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from goldentime.errors import ConfigError

# Flat field names of the old layout whose environment stem differs from the name.
_OLD_NAMES = {"graph_path": "GRAPH"}


def env_var(info: FieldInfo) -> str | None:
    """The environment variable a settings field is read from (its ``env``)."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    var = extra.get("env")
    return var if isinstance(var, str) else None


def group_fields(root: type[BaseModel]) -> Iterator[tuple[str, str, FieldInfo]]:
    """(group, field, info) of every nested settings field, in declaration order."""
    for group, group_info in root.model_fields.items():
        model = group_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            for name, info in model.model_fields.items():
                yield group, name, info


def old_flat_names(root: type[BaseModel]) -> dict[str, str]:
    """Flat names of the old layout (``console_port``) -> dotted name (``console.port``)."""
    names: dict[str, str] = {}
    for group, name, info in group_fields(root):
        var = env_var(info)
        if var is None:
            continue
        stem = var.removeprefix("GOLDENTIME_").lower()
        names[stem] = f"{group}.{name}"
        names[f"{group}_{name}"] = f"{group}.{name}"
    for old, stem in _OLD_NAMES.items():
        names[old] = names[stem.lower()]
    return names


def moved_to(root: type[BaseModel], key: str) -> tuple[str, str] | None:
    """(group, field) where a flat key of the old layout now lives; None for other keys."""
    dotted = old_flat_names(root).get(key.lower())
    if dotted is None:
        return None
    group, name = dotted.split(".", 1)
    return group, name


class EnvVarSource(PydanticBaseSettingsSource):
    """Reads each nested field from its own environment variable (names unchanged).

    Variable names match case-insensitively, as the flat model did; complex fields (maps,
    lists) hold JSON.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ builds the whole nested dict

    def __call__(self) -> dict[str, Any]:
        environ = {key.upper(): value for key, value in os.environ.items()}
        values: dict[str, dict[str, Any]] = {}
        for group, name, info in group_fields(self.settings_cls):
            var = env_var(info)
            if var is None or var.upper() not in environ:
                continue
            raw = environ[var.upper()]
            if self.field_is_complex(info):
                try:
                    value: Any = json.loads(raw)
                except json.JSONDecodeError as err:
                    raise ConfigError(f"{group}.{name} ({var}): not valid JSON: {err}") from err
            else:
                value = raw
            values.setdefault(group, {})[name] = value
        return values


class GroupedTomlSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by ``GOLDENTIME_CONFIG``: one table per concern."""

    def __init__(self, settings_cls: type[BaseSettings], *, path: Path) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the tables

    def __call__(self) -> dict[str, Any]:
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise ConfigError(f"{self.path}: cannot read settings: {err}") from err
        tables = self.settings_cls.model_fields
        for key, value in data.items():
            if key in tables:
                if not isinstance(value, dict):
                    raise ConfigError(f"{self.path}: `{key}` must be a table: [{key}]")
                continue
            moved = moved_to(self.settings_cls, key)
            if moved is not None:
                raise ConfigError(
                    f"{self.path}: `{key}` is a flat key of the old layout: "
                    f"write `{moved[1]}` in table [{moved[0]}]"
                )
            raise ConfigError(
                f"{self.path}: unknown key `{key}`; the tables are "
                + ", ".join(f"[{name}]" for name in tables)
            )
        return data
