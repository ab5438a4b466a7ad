"""The public pages citizens open from an SMS or a post: current alerts, and one alert.

Rendered on the server (no script, no login, no external resources) so they open on any
phone, in Korean first and English below; every alert links its CAP XML.
"""

from __future__ import annotations

import html
from typing import Any

STYLE = """
body{margin:0;font:16px/1.5 system-ui,"Noto Sans KR",sans-serif;background:#fff;color:#111}
header{background:#b3121a;color:#fff;padding:.8rem 1rem}header h1{margin:0;font-size:1.25rem}
main{max-width:720px;margin:0 auto;padding:1rem}nav a{color:#fff;margin-right:1rem}
article{border:2px solid #b3121a;border-radius:8px;padding:.8rem 1rem;margin:0 0 1rem}
article.cancel{border-color:#555}.meta{color:#444;font-size:.9rem}
h2{font-size:1.15rem;margin:.2rem 0}section{margin:.6rem 0}
.en{border-top:1px solid #ccc;padding-top:.5rem}.none{color:#333;font-size:1.1rem}
a{color:#0645ad}
"""

MSG_TYPE_LABEL = {
    "Alert": "경보 Alert",
    "Update": "갱신 Update",
    "Cancel": "취소 Cancel",
}


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='ko'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        "<header><h1>서울 119 재난 경보 · Seoul 119 public warnings</h1>"
        "<nav><a href='/alerts'>현재 경보 Current alerts</a>"
        "<a href='/alerts/feed.atom'>CAP Atom feed</a></nav></header>"
        f"<main>{body}</main></body></html>"
    )


def _language_block(lang: str, part: dict[str, Any] | None) -> str:
    if not part:
        return ""
    label = "지역" if lang == "ko" else "Area"
    what = "행동 요령" if lang == "ko" else "What to do"
    return (
        f"<section lang='{lang}' class='{lang}'>"
        f"<h2>{html.escape(part.get('headline') or part.get('event') or '')}</h2>"
        f"<p><strong>{what}:</strong> {html.escape(part.get('instruction') or '')}</p>"
        f"<p><strong>{label}:</strong> {html.escape(', '.join(part.get('areas') or []))}</p>"
        "</section>"
    )


def alert_article(entry: dict[str, Any], *, link_title: bool) -> str:
    kind = str(entry["msg_type"])
    heading = MSG_TYPE_LABEL.get(kind, kind)
    title = html.escape(heading)
    if link_title:
        title = f"<a href='/alerts/{html.escape(entry['id'])}'>{title}</a>"
    expires = f" · 만료 Expires {html.escape(entry['expires'])}" if entry.get("expires") else ""
    return (
        f"<article class='{'cancel' if kind == 'Cancel' else 'alert'}' "
        f"data-alert-id='{html.escape(entry['id'])}'>"
        f"<p class='meta'>{title} · 발송 Sent {html.escape(entry['sent'])}{expires} · "
        f"{html.escape(entry['severity'])}/{html.escape(entry['urgency'])}</p>"
        + _language_block("ko", entry.get("ko"))
        + _language_block("en", entry.get("en"))
        + f"<p class='meta'><a href='{html.escape(entry['cap_url'])}'>CAP XML</a></p></article>"
    )


def current_alerts_page(entries: list[dict[str, Any]]) -> str:
    """``/alerts``: every current (published, unexpired, not cancelled) live alert."""
    if entries:
        body = "".join(alert_article(e, link_title=True) for e in entries)
    else:
        body = (
            "<p class='none' lang='ko'>현재 발령 중인 경보가 없습니다.</p>"
            "<p class='none' lang='en'>There are no current alerts.</p>"
        )
    return _page("현재 경보 · Current alerts — Seoul 119", body)


def alert_page(entry: dict[str, Any]) -> str:
    """``/alerts/{id}``: one published alert (also after it expired or was cancelled)."""
    return _page("경보 · Alert — Seoul 119", alert_article(entry, link_title=False))
