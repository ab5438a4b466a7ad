"""Social media through the real ``Mastodon.py`` client: one post (or a short thread) per
alert and language, within the instance's character limit, always linking the public page.

Posts carry an ``Idempotency-Key`` per alert, language and part, so a retried or resumed
publish never posts twice. Text that does not fit is split on word boundaries into a
thread; the first post always carries the link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from mastodon import Mastodon, MastodonError

from alerts.channels.base import BroadcastPost
from alerts.errors import ChannelError
from alerts.fakes.mastodon_api import URL_WEIGHT

MAX_THREAD_POSTS = 4


def mastodon_client(*, base_url: str, access_token: str) -> Any:
    """A real Mastodon.py client for ``base_url`` (no version probe, no network at build)."""
    return Mastodon(access_token=access_token, api_base_url=base_url, version_check_mode="none")


def split_post(text: str, link: str, *, limit: int) -> list[str]:
    """Split ``text`` into posts of at most ``limit`` characters; the first ends with ``link``."""
    first_room = limit - URL_WEIGHT - 1  # newline before the link
    marker_room = 8  # " (1/4)" style part markers
    words = text.split()
    parts: list[str] = []
    current = ""
    for word in words:
        room = (first_room if not parts else limit) - marker_room
        if len(word) > room:  # one enormous token: cut it
            word = word[: room - 1] + "…"
        candidate = f"{current} {word}".strip()
        if len(candidate) <= room:
            current = candidate
        else:
            parts.append(current)
            current = word
    parts.append(current)
    if len(parts) == 1:
        return [f"{parts[0]}\n{link}"]
    if len(parts) > MAX_THREAD_POSTS:
        parts = parts[:MAX_THREAD_POSTS]
        parts[-1] = parts[-1][: limit - marker_room - 1] + "…"
    total = len(parts)
    posts = [f"{part} ({i + 1}/{total})" for i, part in enumerate(parts)]
    posts[0] = f"{posts[0]}\n{link}"
    return posts


class MastodonChannel:
    """Posts public warnings to a Mastodon account."""

    name = "mastodon"

    def __init__(
        self, *, client_factory: Callable[[], Any], limit: int = 500, sandbox: bool = False
    ) -> None:
        self._client_factory = client_factory
        self.limit = limit
        self.sandbox = sandbox

    def post(self, post: BroadcastPost) -> list[str]:
        client = self._client_factory()
        posts = split_post(post.text, post.link, limit=self.limit)
        ids: list[str] = []
        reply_to: str | None = None
        for index, text in enumerate(posts):
            key = hashlib.sha256(f"{post.alert_id}|{post.language}|{index}".encode()).hexdigest()
            try:
                status = client.status_post(
                    text,
                    in_reply_to_id=reply_to,
                    language=post.language,
                    visibility="unlisted" if self.sandbox else "public",
                    idempotency_key=key,
                )
            except MastodonError as err:
                raise ChannelError(
                    f"Mastodon refused post {index + 1} of {post.alert_id}: {err}"
                ) from err
            reply_to = str(status["id"])
            ids.append(reply_to)
        return ids
