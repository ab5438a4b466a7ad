"""NENA's EIDO schema (NENA-STA-021.1), read from a configured directory and made usable.

The published schema is an OpenAPI 3.0 document (``openapi.yaml``) whose schema objects refer
to each other (``#/components/schemas/...``) and into the NIEM component files beside it
(``NIEMComponents/nc.yaml#/...``). It is not shipped with Golden Time (its repository carries
no licence): settings field ``exchange.eido_schema_dir`` (env ``GOLDENTIME_EIDO_SCHEMA_DIR``)
names the directory holding ``openapi.yaml``. References are resolved with ``referencing``
(the library ``jsonschema`` uses), each file retrieved and parsed only when a reference first
needs it.

The published text has defects a strict validator trips over. They are normalised while the
files are read, and every one is recorded in :attr:`EidoSchema.normalised` so a caller can say
what was changed:

- a numeric keyword written as a string (``minItems: 1,`` in AgentType parses as ``"1,"``):
  the number it plainly means;
- a reference path with an empty segment (``NIEMComponents//j.yaml``): the path without it.

OpenAPI 3.0 schema objects are JSON Schema draft 4 in all that matters here (boolean
``exclusiveMinimum``, ``required`` lists), so documents are validated with jsonschema's
draft 4 validator; ``date-time`` and ``uri`` formats are checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

from goldentime.errors import ConfigError

SCHEMA_FILE = "openapi.yaml"
ROOT_SCHEMA = "EmergencyIncidentDataObjectType"
SCHEMA_SOURCE = (
    "github.com/NENA911/EIDO-JSON (Schema/openapi.yaml and Schema/NIEMComponents/); on this "
    "machine a copy is in ../shared/standards/eido/Schema"
)
NUMERIC_KEYWORDS = frozenset(
    {
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minProperties",
        "maxProperties",
        "minimum",
        "maximum",
        "multipleOf",
    }
)
_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,;.]?\s*$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S*$")


@dataclass(frozen=True, slots=True)
class Normalisation:
    """One defect of the published schema and what it was read as."""

    file: str
    pointer: str
    found: str
    used: str

    def __str__(self) -> str:
        return f"{self.file}#{self.pointer}: {self.found} read as {self.used}"


@dataclass(slots=True)
class _Loader:
    directory: Path
    normalised: list[Normalisation] = field(default_factory=list)

    def path_of(self, uri: str) -> Path:
        parts = urlsplit(uri)
        if parts.scheme != "file":
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs class
        raw = unquote(parts.path)
        clean = re.sub(r"/{2,}", "/", raw)
        if clean != raw:
            self.normalised.append(
                Normalisation(file=Path(clean).name, pointer="", found=raw, used=clean)
            )
        path = Path(clean)
        if not path.resolve().is_relative_to(self.directory):
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs class
        return path

    def retrieve(self, uri: str) -> Resource[Any]:
        path = self.path_of(uri)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise NoSuchResource(ref=uri) from err  # type: ignore[call-arg]
        contents = yaml.safe_load(text)
        self._normalise(contents, file=path.name, pointer="")
        return DRAFT4.create_resource(contents)

    def _normalise(self, node: Any, *, file: str, pointer: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{pointer}/{_escape(str(key))}"
                if key in NUMERIC_KEYWORDS and isinstance(value, str):
                    match = _NUMBER.match(value)
                    if match:
                        number = float(match.group(1))
                        node[key] = int(number) if number.is_integer() else number
                        self.normalised.append(
                            Normalisation(
                                file=file, pointer=here, found=repr(value), used=str(node[key])
                            )
                        )
                    continue
                if key == "$ref" and isinstance(value, str) and "//" in value.split("#", 1)[0]:
                    fixed = re.sub(r"/{2,}", "/", value.split("#", 1)[0])
                    fixed += ("#" + value.split("#", 1)[1]) if "#" in value else ""
                    node[key] = fixed
                    self.normalised.append(
                        Normalisation(file=file, pointer=here, found=value, used=fixed)
                    )
                    continue
                self._normalise(value, file=file, pointer=here)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                self._normalise(item, file=file, pointer=f"{pointer}/{i}")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(_DATE_TIME.match(value))


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.match(value))


def format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_is_date_time)
    checker.checks("uri")(_is_uri)
    return checker


class EidoSchema:
    """The EIDO schema of one directory: a validator of whole EIDO documents.

    Raises :class:`~goldentime.errors.ConfigError` when the directory has no readable
    ``openapi.yaml`` (the message says where to get it).
    """

    def __init__(self, directory: Path) -> None:
        root = directory.resolve()
        self.directory = root
        self._loader = _Loader(directory=root)
        base = (root / SCHEMA_FILE).as_uri()
        if not (root / SCHEMA_FILE).is_file():
            raise ConfigError(
                f"no EIDO schema at {root / SCHEMA_FILE}: set GOLDENTIME_EIDO_SCHEMA_DIR (settings "
                f"field eido_schema_dir) to a directory holding NENA's {SCHEMA_FILE} and "
                f"NIEMComponents/ (from {SCHEMA_SOURCE})"
            )
        try:
            document = self._loader.retrieve(base)
        except (NoSuchResource, yaml.YAMLError) as err:
            raise ConfigError(f"cannot read the EIDO schema {root / SCHEMA_FILE}: {err}") from err
        schemas = document.contents.get("components", {}).get("schemas", {})
        if ROOT_SCHEMA not in schemas:
            raise ConfigError(f"{root / SCHEMA_FILE} has no components.schemas.{ROOT_SCHEMA}")
        empty: Registry[Any] = Registry(retrieve=self._loader.retrieve)  # type: ignore[call-arg]
        registry = empty.with_resource(base, document)
        self._validator = Draft4Validator(
            {"$ref": f"{base}#/components/schemas/{ROOT_SCHEMA}"},
            registry=registry,
            format_checker=format_checker(),
        )

    @property
    def normalised(self) -> list[Normalisation]:
        """Defects of the published files normalised so far (files are read on first use)."""
        return list(self._loader.normalised)

    def errors(self, document: Any) -> list[tuple[str, str]]:
        """``(path, rule)`` of each violation, in document order; empty when valid."""
        found = []
        for error in self._validator.iter_errors(document):
            found.extend(_leaves(error))
        return sorted(set(found))


def _leaves(error: Any) -> list[tuple[str, str]]:
    """The most specific errors under ``error`` (allOf/anyOf wrappers say little)."""
    if error.context:
        out: list[tuple[str, str]] = []
        for sub in error.context:
            out.extend(_leaves(sub))
        return out
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    rule = f"{error.validator}: {error.message}"
    return [(path, rule)]
