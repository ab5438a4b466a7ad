"""STA-024 messages: malformed ones refused with a reason; partners admitted by token only."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from exchange.link import bearer, partner_for
from exchange.protocol import RefusedError, parse
from goldentime.settings import ExchangePartner

PARTNERS = [
    ExchangePartner(id="gyeonggi.119.kr", name="경기", token_in=SecretStr("gg-secret")),
    ExchangePartner(id="seoul.112.kr", name="서울 112", token_in=SecretStr("police-secret")),
]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "exactly one member"),
        ('{"subscribe": {}, "event": {}}', "exactly one member"),
        ('{"hello": {}}', "unknown message kind 'hello'"),
        ('{"subscribe": []}', "subscribe: must be an object"),
        ('{"subscribe": {}}', "subscribe.requestId: missing"),
        ('{"subscribe": {"requestId": 5}}', "subscribe.requestId: wrong type int"),
        ('{"requestForService": {"requestId": "r1", "messageId": "m1"}}', "eido: missing"),
        (
            '{"responseToRequest": {"requestId": "r", "responseCode": true, '
            '"responseText": "x", "messageId": "m"}}',
            "responseCode: wrong type bool",
        ),
    ],
)
def test_malformed_messages_are_refused_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(RefusedError, match=reason):
        parse(raw)


def test_a_well_formed_answer_is_read_under_its_sta024_name() -> None:
    message = parse(
        '{"responseToRequest": {"requestId": "r", "responseCode": 200, '
        '"responseText": "accepted", "messageId": "m"}}'
    )
    assert message.kind == "response" and message.body["responseCode"] == 200


def test_only_a_configured_partner_token_is_admitted() -> None:
    assert partner_for("gg-secret", PARTNERS) is PARTNERS[0]
    assert partner_for("police-secret", PARTNERS) is PARTNERS[1]
    assert partner_for("gg-secret ", PARTNERS) is None
    assert partner_for("", PARTNERS) is None
    assert partner_for(None, PARTNERS) is None
    assert partner_for("gg-secret", []) is None
    assert bearer("Bearer gg-secret") == "gg-secret"
    assert bearer("Basic gg-secret") is None
    assert bearer(None) is None
