"""Serve the demo's provider fakes in one process until SIGTERM/SIGINT.

``python -m alerts.fakes.serve --twilio-port A --sandbox-port B --mastodon-port C`` starts the
live Twilio fake, the sandbox Twilio fake (exercises) and the Mastodon fake with the demo
credentials of :mod:`alerts.demo`. ``goldentime up`` runs it as a supervised child.
"""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from alerts.demo import (
    DEMO_MASTODON_TOKEN,
    DEMO_SANDBOX_SID,
    DEMO_SANDBOX_TOKEN,
    DEMO_TWILIO_SID,
    DEMO_TWILIO_TOKEN,
)
from alerts.fakes.mastodon_api import FakeMastodonApi
from alerts.fakes.twilio_api import FakeTwilioApi


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Demo fakes: Twilio (live, sandbox), Mastodon")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--twilio-port", type=int, required=True)
    parser.add_argument("--sandbox-port", type=int, required=True)
    parser.add_argument("--mastodon-port", type=int, required=True)
    args = parser.parse_args(argv)
    twilio = FakeTwilioApi(
        host=args.host,
        port=args.twilio_port,
        account_sid=DEMO_TWILIO_SID,
        auth_token=DEMO_TWILIO_TOKEN,
    ).start()
    sandbox = FakeTwilioApi(
        host=args.host,
        port=args.sandbox_port,
        account_sid=DEMO_SANDBOX_SID,
        auth_token=DEMO_SANDBOX_TOKEN,
    ).start()
    mastodon = FakeMastodonApi(port=args.mastodon_port, token=DEMO_MASTODON_TOKEN).start()
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(
        f"fake Twilio {twilio.base_url}, sandbox {sandbox.base_url}, Mastodon {mastodon.base_url}",
        flush=True,
    )
    stop.wait()
    for fake in (twilio, sandbox, mastodon):
        fake.stop()


if __name__ == "__main__":
    main()
