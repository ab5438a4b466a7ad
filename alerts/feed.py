"""The public CAP Atom feed and the public JSON list (live alerts only, never exercises).

Each entry links the alert's CAP XML at its stable URL (``/alerts/{id}.xml``), with the
``application/cap+xml`` type CAP aggregators look for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree

from alerts.alert_store import AlertRow
from alerts.capxml import format_time, parse

ATOM_NS = "http://www.w3.org/2005/Atom"


def _sub(parent: Any, tag: str, text: str | None = None, **attrs: str) -> Any:
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def atom_feed(rows: list[AlertRow], *, base_url: str, now: datetime) -> bytes:
    """An Atom 1.0 feed of the given published alerts, newest first."""
    base = base_url.rstrip("/")
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    _sub(feed, "id", f"{base}/alerts/feed.atom")
    _sub(feed, "title", "서울 119 재난 경보 / Seoul 119 public warnings")
    newest = max((r.published_at for r in rows if r.published_at), default=now)
    _sub(feed, "updated", format_time(newest))
    _sub(feed, "link", rel="self", href=f"{base}/alerts/feed.atom")
    author = _sub(feed, "author")
    _sub(author, "name", "서울종합방재센터 119 / Seoul 119 Control Centre")
    for row in rows:
        alert = parse(row.cap_xml.encode())
        info = alert.info_for("ko") or alert.infos[0]
        english = alert.info_for("en")
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"urn:goldentime:alert:{row.id}")
        title = f"[{alert.msg_type.value}] {info.headline or info.event}"
        _sub(entry, "title", title)
        _sub(entry, "updated", format_time(alert.sent))
        _sub(entry, "published", format_time(alert.sent))
        summary = info.description or ""
        if english is not None and english.headline:
            summary = f"{summary} / {english.headline}"
        _sub(entry, "summary", summary)
        _sub(
            entry,
            "link",
            rel="alternate",
            type="application/cap+xml",
            href=f"{base}/alerts/{row.id}.xml",
        )
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def public_entry(row: AlertRow, *, base_url: str) -> dict[str, Any]:
    """One current public alert, in Korean and English, for the public page."""
    alert = parse(row.cap_xml.encode())
    base = base_url.rstrip("/")
    by_language: dict[str, Any] = {}
    for info in alert.infos:
        by_language[info.language[:2]] = {
            "event": info.event,
            "headline": info.headline,
            "instruction": info.instruction,
            "areas": [a.area_desc for a in info.areas],
        }
    first = alert.infos[0]
    return {
        "id": row.id,
        "msg_type": alert.msg_type.value,
        "sent": format_time(alert.sent),
        "expires": format_time(first.expires) if first.expires else None,
        "severity": first.severity.value,
        "urgency": first.urgency.value,
        "references": list(alert.references),
        "cap_url": f"{base}/alerts/{row.id}.xml",
        "page_url": f"{base}/alerts/{row.id}",
        "ko": by_language.get("ko"),
        "en": by_language.get("en"),
    }
