"""The keep-alive transport under the real twilio client, against the loopback fake:
connections are reused, a connection the server dropped is reopened, failures are
TwilioException (so the SMS channel reconciles before retrying)."""

from __future__ import annotations

import socket

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from alerts.channels.http_transport import KeepAliveHttpClient
from alerts.channels.twilio_sms import twilio_client
from alerts.fakes.twilio_api import FakeTwilioApi

pytestmark = pytest.mark.integration


def test_keep_alive_reuses_and_reopens_dropped_connections() -> None:
    with FakeTwilioApi() as fake:
        client = twilio_client(
            account_sid=fake.account_sid, auth_token=fake.auth_token, base_url=fake.base_url
        )
        transport = client.http_client
        assert isinstance(transport, KeepAliveHttpClient)
        first = client.messages.create(to="+821012345678", from_="+8215881190", body="하나")
        connection = next(iter(transport._connections().values()))
        client.messages.create(to="+821012345679", from_="+8215881190", body="둘")
        assert next(iter(transport._connections().values())) is connection  # reused
        # The server closes this connection after answering; the next call must not fail.
        transport.request("GET", f"{fake.base_url}/_fake/messages", headers={"Connection": "close"})
        third = client.messages.create(to="+821012345670", from_="+8215881190", body="셋")
        listed = client.messages.list(to="+821012345678", from_="+8215881190")
        assert [m.sid for m in listed] == [first.sid]
        assert [m.body for m in fake.messages()] == ["하나", "둘", "셋"]
        assert third.status == "queued"
        with pytest.raises(TwilioRestException) as refused:
            twilio_client(
                account_sid=fake.account_sid, auth_token="wrong", base_url=fake.base_url
            ).messages.create(to="+821012345678", from_="+8215881190", body="x")
        assert refused.value.status == 401


def test_unreachable_server_is_a_twilio_exception() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    transport = KeepAliveHttpClient(timeout=2.0)
    with pytest.raises(TwilioException, match="failed"):
        transport.request("POST", f"http://127.0.0.1:{port}/x", data={"a": "b"})
    with pytest.raises(TwilioException, match="not an http"):
        transport.request("GET", "ftp://example.org/x")
    with pytest.raises(ValueError, match="timeout"):
        KeepAliveHttpClient(timeout=0)
