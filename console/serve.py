"""Serve the console with an orderly stop: `goldentime console`.

On the first SIGTERM or SIGINT the console stops accepting: state-changing requests get 503
with ``Retry-After`` for :data:`DRAIN_S` (``console.intake.DrainGuard``), reads go on; then
uvicorn's graceful shutdown finishes the requests in flight (at most
:data:`GRACEFUL_TIMEOUT_S`, live streams included), and the lifespan closes the intake outbox
and the publishers. A second signal stops at once.
"""

from __future__ import annotations

import logging
import time
from types import FrameType

import uvicorn
from fastapi import FastAPI

from console.intake import DurableIntake

log = logging.getLogger(__name__)

DRAIN_S = 1.0
GRACEFUL_TIMEOUT_S = 3


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose first stop signal drains the intake before shutting down."""

    def __init__(self, config: uvicorn.Config, *, intake: DurableIntake) -> None:
        super().__init__(config)
        self._intake = intake
        self._exit_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._exit_at is None and not self.should_exit:
            self._intake.draining = True
            self._exit_at = time.monotonic() + DRAIN_S
            log.info("stopping: new calls and commands get 503 with Retry-After")
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._exit_at is not None and time.monotonic() >= self._exit_at:
            self.should_exit = True
        return await super().on_tick(counter)


def serve(app: FastAPI, *, host: str, port: int) -> None:
    """Run ``app`` (made by ``console.app.create_app``) until stopped."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_TIMEOUT_S,
    )
    DrainingServer(config, intake=app.state.intake).run()
