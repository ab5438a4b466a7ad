"""CAP XML: serialise an :class:`~alerts.cap.Alert` and parse one back, safely.

Parsing never resolves entities, never touches the network and refuses any document with a
DTD (``<!DOCTYPE``/``<!ENTITY``), which is how XXE and billion-laughs attacks arrive. Both
CAP 1.1 and CAP 1.2 documents are read, with or without a namespace prefix.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from lxml import etree
from pydantic import ValidationError

from alerts.cap import (
    CAP11_NS,
    CAP12_NS,
    Alert,
    Area,
    Circle,
    Info,
    NamedValue,
    Polygon,
    Resource,
)
from alerts.errors import CapInvalidError, CapRefusedError

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
_DTD_MARKERS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def format_time(value: datetime) -> str:
    """CAP dateTime: seconds precision with a numeric offset (``+09:00``), never ``Z``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("CAP times must be timezone-aware")
    # isoformat() of an aware datetime always writes a numeric offset (UTC as +00:00).
    return value.replace(microsecond=0).isoformat()


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def safe_parse_xml(data: bytes) -> Any:
    """Parse XML bytes with every external access off; refuse DTDs and entities."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CapRefusedError(f"document is {len(data)} bytes, more than {MAX_DOCUMENT_BYTES}")
    if _DTD_MARKERS.search(data):
        raise CapRefusedError("document declares a DTD or entities (possible XXE attack): refused")
    try:
        root = etree.fromstring(data, parser=_safe_parser())
    except etree.XMLSyntaxError as err:
        raise CapRefusedError(f"not well-formed XML: {err}") from err
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise CapRefusedError("document declares a DTD: refused")
    return root


def cap_version(root: Any) -> str:
    """``1.2`` or ``1.1`` from the root element's namespace; CapInvalidError otherwise."""
    qname = etree.QName(root)
    if qname.localname != "alert":
        raise CapInvalidError([f"root element is <{qname.localname}>, not <alert>"])
    if qname.namespace == CAP12_NS:
        return "1.2"
    if qname.namespace == CAP11_NS:
        return "1.1"
    raise CapInvalidError([f"root namespace {qname.namespace!r} is not CAP 1.1 or 1.2"])


# --- serialise ---------------------------------------------------------------------------


def _sub(parent: Any, ns: str, tag: str, text: str | None) -> None:
    if text is not None:
        etree.SubElement(parent, f"{{{ns}}}{tag}").text = text


def _named(parent: Any, ns: str, tag: str, pairs: tuple[NamedValue, ...]) -> None:
    for pair in pairs:
        element = etree.SubElement(parent, f"{{{ns}}}{tag}")
        _sub(element, ns, "valueName", pair.name)
        _sub(element, ns, "value", pair.value)


def _time(value: datetime | None) -> str | None:
    return None if value is None else format_time(value)


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _area(parent: Any, ns: str, area: Area) -> None:
    element = etree.SubElement(parent, f"{{{ns}}}area")
    _sub(element, ns, "areaDesc", area.area_desc)
    for polygon in area.polygons:
        text = " ".join(f"{_number(lat)},{_number(lon)}" for lat, lon in polygon.points)
        _sub(element, ns, "polygon", text)
    for circle in area.circles:
        text = f"{_number(circle.lat)},{_number(circle.lon)} {_number(circle.radius_km)}"
        _sub(element, ns, "circle", text)
    _named(element, ns, "geocode", area.geocodes)
    if area.altitude is not None:
        _sub(element, ns, "altitude", _number(area.altitude))
        if area.ceiling is not None:
            _sub(element, ns, "ceiling", _number(area.ceiling))


def _info(parent: Any, ns: str, info: Info) -> None:
    element = etree.SubElement(parent, f"{{{ns}}}info")
    _sub(element, ns, "language", info.language)
    for category in info.categories:
        _sub(element, ns, "category", category.value)
    _sub(element, ns, "event", info.event)
    for response in info.response_types:
        _sub(element, ns, "responseType", response.value)
    _sub(element, ns, "urgency", info.urgency.value)
    _sub(element, ns, "severity", info.severity.value)
    _sub(element, ns, "certainty", info.certainty.value)
    _sub(element, ns, "audience", info.audience)
    _named(element, ns, "eventCode", info.event_codes)
    _sub(element, ns, "effective", _time(info.effective))
    _sub(element, ns, "onset", _time(info.onset))
    _sub(element, ns, "expires", _time(info.expires))
    for tag, text in (
        ("senderName", info.sender_name),
        ("headline", info.headline),
        ("description", info.description),
        ("instruction", info.instruction),
        ("web", info.web),
        ("contact", info.contact),
    ):
        _sub(element, ns, tag, text)
    _named(element, ns, "parameter", info.parameters)
    for resource in info.resources:
        res = etree.SubElement(element, f"{{{ns}}}resource")
        _sub(res, ns, "resourceDesc", resource.resource_desc)
        _sub(res, ns, "mimeType", resource.mime_type)
        _sub(res, ns, "size", None if resource.size is None else str(resource.size))
        _sub(res, ns, "uri", resource.uri)
        _sub(res, ns, "derefUri", resource.deref_uri)
        _sub(res, ns, "digest", resource.digest)
    for area in info.areas:
        _area(element, ns, area)


def serialize(alert: Alert) -> bytes:
    """The alert as CAP XML (UTF-8, with XML declaration), in its version's namespace."""
    ns = CAP12_NS if alert.version == "1.2" else CAP11_NS
    root = etree.Element(f"{{{ns}}}alert", nsmap={None: ns})
    _sub(root, ns, "identifier", alert.identifier)
    _sub(root, ns, "sender", alert.sender)
    _sub(root, ns, "sent", format_time(alert.sent))
    _sub(root, ns, "status", alert.status.value)
    _sub(root, ns, "msgType", alert.msg_type.value)
    _sub(root, ns, "source", alert.source)
    _sub(root, ns, "scope", alert.scope.value)
    _sub(root, ns, "restriction", alert.restriction)
    _sub(root, ns, "addresses", alert.addresses)
    for code in alert.codes:
        _sub(root, ns, "code", code)
    _sub(root, ns, "note", alert.note)
    _sub(root, ns, "references", " ".join(alert.references) if alert.references else None)
    _sub(root, ns, "incidents", alert.incidents)
    for info in alert.infos:
        _info(root, ns, info)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# --- parse -------------------------------------------------------------------------------


class _Reader:
    """Reads children of one CAP element in a given namespace."""

    def __init__(self, element: Any, ns: str) -> None:
        self.element = element
        self.ns = ns

    def all(self, tag: str) -> list[Any]:
        return list(self.element.findall(f"{{{self.ns}}}{tag}"))

    def text(self, tag: str) -> str | None:
        found = self.element.find(f"{{{self.ns}}}{tag}")
        if found is None or found.text is None:
            return None
        return str(found.text).strip()

    def texts(self, tag: str) -> tuple[str, ...]:
        return tuple(str(e.text).strip() for e in self.all(tag) if e.text is not None)

    def named(self, tag: str) -> tuple[NamedValue, ...]:
        pairs = []
        for element in self.all(tag):
            sub = _Reader(element, self.ns)
            pairs.append(
                NamedValue(name=sub.text("valueName") or "", value=sub.text("value") or "")
            )
        return tuple(pairs)


def _float(text: str | None) -> float | None:
    return None if text is None else float(text)


def _points(text: str) -> tuple[tuple[float, float], ...]:
    points = []
    for pair in text.split():
        lat, _, lon = pair.partition(",")
        points.append((float(lat), float(lon)))
    return tuple(points)


def _circle(text: str) -> Circle:
    centre, _, radius = text.strip().rpartition(" ")
    lat, _, lon = centre.strip().partition(",")
    return Circle(lat=float(lat), lon=float(lon), radius_km=float(radius))


def _read_area(reader: _Reader) -> Area:
    return Area(
        area_desc=reader.text("areaDesc") or "",
        polygons=tuple(Polygon(points=_points(t)) for t in reader.texts("polygon")),
        circles=tuple(_circle(t) for t in reader.texts("circle")),
        geocodes=reader.named("geocode"),
        altitude=_float(reader.text("altitude")),
        ceiling=_float(reader.text("ceiling")),
    )


def _read_info(reader: _Reader) -> Info:
    fields: dict[str, Any] = {
        "language": reader.text("language") or "en-US",
        "categories": reader.texts("category"),
        "event": reader.text("event"),
        "response_types": reader.texts("responseType"),
        "urgency": reader.text("urgency"),
        "severity": reader.text("severity"),
        "certainty": reader.text("certainty"),
        "audience": reader.text("audience"),
        "event_codes": reader.named("eventCode"),
        "effective": reader.text("effective"),
        "onset": reader.text("onset"),
        "expires": reader.text("expires"),
        "sender_name": reader.text("senderName"),
        "headline": reader.text("headline"),
        "description": reader.text("description"),
        "instruction": reader.text("instruction"),
        "web": reader.text("web"),
        "contact": reader.text("contact"),
        "parameters": reader.named("parameter"),
        "resources": tuple(
            Resource(
                resource_desc=r.text("resourceDesc") or "",
                mime_type=r.text("mimeType"),
                size=int(r.text("size") or 0) if r.text("size") else None,
                uri=r.text("uri"),
                deref_uri=r.text("derefUri"),
                digest=r.text("digest"),
            )
            for r in (_Reader(e, reader.ns) for e in reader.all("resource"))
        ),
        "areas": tuple(_read_area(_Reader(e, reader.ns)) for e in reader.all("area")),
    }
    return Info.model_validate(fields)


def to_model(root: Any) -> Alert:
    """Build the typed model from a parsed CAP element; CapInvalidError names what is wrong."""
    version = cap_version(root)
    ns = CAP12_NS if version == "1.2" else CAP11_NS
    reader = _Reader(root, ns)
    references = reader.text("references")
    try:
        return Alert(
            identifier=reader.text("identifier") or "",
            sender=reader.text("sender") or "",
            sent=reader.text("sent"),
            status=reader.text("status"),
            msg_type=reader.text("msgType"),
            scope=reader.text("scope"),
            source=reader.text("source"),
            restriction=reader.text("restriction"),
            addresses=reader.text("addresses"),
            codes=reader.texts("code"),
            note=reader.text("note"),
            references=tuple(references.split()) if references else (),
            incidents=reader.text("incidents"),
            infos=tuple(_read_info(_Reader(e, ns)) for e in reader.all("info")),
            version=version,
        )
    except ValidationError as err:
        raise CapInvalidError(
            [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()]
        ) from err
    except ValueError as err:
        raise CapInvalidError([f"malformed value: {err}"]) from err


def parse(data: bytes) -> Alert:
    """Parse CAP XML bytes safely into the typed model."""
    return to_model(safe_parse_xml(data))
