"""`goldentime up`: the whole system on one machine.

:class:`LocalSystem` starts the embedded broker when no Kafka is configured, creates the topics
and the database schema, then supervises the dispatch worker(s) and the console; :func:`run`
adds the demo scenario, prints the console URL on a line of its own once the console answers,
and stops every child, then the broker, on SIGINT or SIGTERM. Integration tests and benchmarks
use :class:`LocalSystem` directly, so they exercise exactly what operators run.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType

import httpx

from goldentime.broker import EmbeddedBroker, ensure_topics, wait_until_ready
from goldentime.db import create_schema, engine_for
from goldentime.errors import SupervisorError
from goldentime.procutil import free_port, port_open
from goldentime.settings import Settings, child_environment
from ops.supervisor import ChildSpec, Supervisor, python_argv

Echo = Callable[[str], None]


def _print(line: str) -> None:
    print(line, flush=True)


class LocalSystem:
    """Broker (embedded unless configured), topics, schema, workers and console."""

    def __init__(
        self,
        settings: Settings,
        *,
        port: int | None = None,
        workers: int | None = None,
        echo: Echo = _print,
    ) -> None:
        self.settings = settings
        self.echo = echo
        self.workers = workers or settings.dispatch.workers
        console_port = settings.console.port if port is None else port
        self.console_port = console_port or free_port(settings.console.host)
        self.url = f"http://{settings.console.host}:{self.console_port}"
        self.broker: EmbeddedBroker | None = None
        self.bootstrap = settings.broker.bootstrap_servers or ""
        self.env: dict[str, str] = {
            **child_environment(settings),
            "GOLDENTIME_CONSOLE_PORT": str(self.console_port),
            "DATABASE_URL": settings.effective_database_url,
            "GOLDENTIME_DATA_DIR": str(settings.data.dir),
        }
        self.supervisor = Supervisor(log_dir=settings.data.dir / "logs", echo=echo)

    def _ensure_topics(self) -> None:
        ensure_topics(
            self.bootstrap,
            partitions=self.settings.broker.partitions,
            replication_factor=self.settings.broker.replication_factor,
        )

    def start(self, *, stop: threading.Event | None = None) -> LocalSystem:
        """Start everything; return once the console answers and a worker holds the calls."""
        if port_open(self.settings.console.host, self.console_port):
            raise SupervisorError(
                f"port {self.console_port} is already in use; "
                "pass --port or set GOLDENTIME_CONSOLE_PORT"
            )
        if self.settings.broker.embedded:
            self.broker = EmbeddedBroker(
                port=self.settings.broker.embedded_port,
                log_file=self.settings.data.dir / "logs" / "broker.log",
            ).start()
            self.bootstrap = self.broker.bootstrap_servers
            self.env |= {
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "GOLDENTIME_BROKER_FLAVOR": "tansu",
            }
            self.echo(
                f"[supervisor] embedded broker (Tansu) on {self.bootstrap}; tools run by hand "
                f"against it (sensors replay, video serve) need KAFKA_BOOTSTRAP_SERVERS="
                f"{self.bootstrap} GOLDENTIME_BROKER_FLAVOR=tansu"
            )
        self.supervisor.set_env({**os.environ, **self.env})
        try:
            wait_until_ready(self.bootstrap)
            self._ensure_topics()
            create_schema(engine_for(self.settings))
            for index in range(self.workers):
                self.supervisor.add(
                    ChildSpec(f"dispatch-{index + 1}", python_argv("worker", "dispatch"))
                )
            self.supervisor.add(ChildSpec("console", python_argv("console")))
            self.supervisor.start_all()
            self._wait_for_console(stop or threading.Event())
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_console(self, stop: threading.Event) -> None:
        deadline = time.monotonic() + self.settings.process.startup_timeout_s
        while time.monotonic() < deadline and not stop.is_set():
            self.supervisor.poll()
            try:
                response = httpx.get(f"{self.url}/api/health", timeout=1.0)
                if response.status_code == 200 and response.json().get("dispatch_ready"):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.1)
        if not stop.is_set():
            raise SupervisorError(
                f"console at {self.url} not ready (console up, dispatch worker holding the "
                f"call partitions) within {self.settings.process.startup_timeout_s:.0f}s "
                f"(GOLDENTIME_STARTUP_TIMEOUT_S); see "
                f"{self.settings.data.dir / 'logs'}"
            )

    def tick(self) -> None:
        """One round of supervision: restart crashed children, revive the broker."""
        self.supervisor.poll()
        if self.broker is not None and not self.broker.running():
            # It comes back empty (memory storage). Its clients are killed while it is down,
            # so none can commit offsets of the old topics into the new ones (records would
            # be skipped), and restarted on the new broker; the console's outbox relay sends
            # everything accepted and not yet processed again at its start.
            self.echo(
                "[supervisor] embedded broker died; restarting it empty, then every broker "
                "client (accepted records are sent again from the intake outbox)"
            )
            broker = self.broker

            def restart_broker() -> None:
                broker.start()
                self._ensure_topics()

            self.supervisor.respawn_all(between=restart_broker)

    def stop(self) -> None:
        """Children first (the console drains, workers finish and commit their batches in
        hand, while the broker still runs), then the broker."""
        self.supervisor.stop_all()
        if self.broker is not None:
            self.broker.stop()

    def force_stop(self) -> None:
        """SIGKILL every child and the broker now (the operator's second Ctrl-C)."""
        self.supervisor.kill_all()
        if self.broker is not None:
            self.broker.kill()

    def __enter__(self) -> LocalSystem:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _start_demo_children(
    system: LocalSystem,
    settings: Settings,
    fake_ports: list[int],
    echo: Echo,
    *,
    crowd_scenario: str | None = None,
) -> None:
    """Alert-channel fakes, the sensors worker with two replays, and the call replay."""
    from alerts.demo import fakes_argv
    from sensors import scenario

    sup = system.supervisor
    sup.add(
        ChildSpec(
            "alert-fakes",
            fakes_argv(
                host=settings.console.host,
                twilio_port=fake_ports[0],
                sandbox_port=fake_ports[1],
                mastodon_port=fake_ports[2],
            ),
        )
    )
    sup.add(ChildSpec("sensors", python_argv("sensors", "worker")))
    sup.add(ChildSpec("demo", python_argv("demo", "--url", system.url), restart=False))
    names = ["alert-fakes", "sensors", "demo"]
    if crowd_scenario is not None:  # a surge scenario's crowd through the same intake
        argv = python_argv("demo", "--url", system.url, "--scenario", crowd_scenario, "--no-crews")
        sup.add(ChildSpec("demo-scenario", argv, restart=False))
        names.append("demo-scenario")
    # A caller streaming a fake phone camera to one incident (console.caller_media_demo).
    caller_argv = [sys.executable, "-m", "console.caller_media_demo", "--url", system.url]
    sup.add(ChildSpec("caller-media", caller_argv, restart=False))
    sup.add(
        ChildSpec(
            "replay-jamsu",
            python_argv("sensors", "replay", str(scenario.SHIPPED), "--now", "--speed", "60"),
            restart=False,
        )
    )
    sup.add(
        ChildSpec(
            "replay-sajik",
            python_argv("sensors", "replay", str(scenario.SAJIK_SHIPPED), "--now", "--speed", "30"),
            restart=False,
        )
    )
    for name in (*names, "caller-media", "replay-jamsu", "replay-sajik"):
        sup.start(name)
    echo(
        "[supervisor] demo: calls, a fire video, a Han river flood at Jamsu bridge and a "
        "fire in 사직터널 (road closure and re-routing), a caller's phone video (fake camera, "
        "when chromium is installed); Twilio and Mastodon are loopback fakes"
    )


def run(
    settings: Settings,
    *,
    port: int | None = None,
    demo: bool = True,
    workers: int | None = None,
    echo: Echo = _print,
    stop: threading.Event | None = None,
    partner_demo: bool = False,
    scenario: str | None = None,
) -> int:
    """Run until ``stop`` is set or SIGINT/SIGTERM arrives; return the exit code.

    With ``partner_demo``, a second centre (경기, see :mod:`exchange.demo`) runs beside this one.
    ``scenario``: a surge scenario whose crowd the demo also plays (``crowd-crush``).
    """
    stop = stop or threading.Event()
    partner: LocalSystem | None = None
    if partner_demo:
        from exchange.demo import partner_pair

        host = settings.console.host
        port = port or settings.console.port or free_port(host)
        settings, partner_settings = partner_pair(
            settings,
            seoul_port=port,
            partner_port=free_port(host),
            schema_dir=settings.exchange.eido_schema_dir,
        )
        partner = LocalSystem(partner_settings, workers=1, echo=lambda line: echo(f"[경기] {line}"))
    system = LocalSystem(settings, port=port, workers=workers, echo=echo)
    if threading.current_thread() is threading.main_thread():

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            name = signal.Signals(signum).name
            if stop.is_set():
                echo(f"[supervisor] {name} again: forcing the stop (SIGKILL)")
                system.force_stop()
                if partner is not None:
                    partner.force_stop()
                return
            echo(f"[supervisor] {name}: stopping in order (again to force)")
            stop.set()

        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)

    fake_ports: list[int] = []
    if demo:
        from alerts.demo import demo_environment

        host = settings.console.host
        fake_ports = [free_port(host) for _ in range(3)]
        system.env |= demo_environment(
            public_base_url=system.url,
            twilio_url=f"http://{host}:{fake_ports[0]}",
            sandbox_url=f"http://{host}:{fake_ports[1]}",
            mastodon_url=f"http://{host}:{fake_ports[2]}",
        )
    try:
        system.start(stop=stop)
        if stop.is_set():
            return 0
        echo(system.url)
        echo(
            f"[supervisor] console ready; logs in {settings.data.dir / 'logs'}; "
            "Ctrl-C stops everything"
        )
        if demo:
            video_port = free_port(settings.console.host)
            system.supervisor.add(
                ChildSpec("video", python_argv("video", "serve", "--port", str(video_port)))
            )
            system.supervisor.start("video")
            echo(
                f"[supervisor] video relay (demo cameras) on "
                f"http://{settings.console.host}:{video_port}"
            )
            _start_demo_children(system, settings, fake_ports, echo, crowd_scenario=scenario)
        if partner is not None:
            _start_partner_demo(system, partner, stop=stop, echo=echo)
        while not stop.is_set():
            system.tick()
            if partner is not None:
                partner.tick()
            stop.wait(0.2)
        return 0
    finally:
        if partner is not None:
            partner.stop()
        system.stop()
        echo("[supervisor] stopped")


def _start_partner_demo(
    system: LocalSystem, partner: LocalSystem, *, stop: threading.Event, echo: Echo
) -> None:
    """The 경기 centre (its dispatcher and crews simulated) and the exchange scenario."""
    partner.start(stop=stop)
    echo(f"[supervisor] partner centre 경기 on {partner.url} (its own broker and database)")
    partner.supervisor.add(
        ChildSpec("demo", python_argv("demo", "--url", partner.url, "--calls", "0"), restart=False)
    )
    partner.supervisor.start("demo")
    system.supervisor.add(
        ChildSpec(
            "partner-demo",
            python_argv("eido", "demo-exchange", "--seoul", system.url, "--partner", partner.url),
            restart=False,
        )
    )
    system.supervisor.start("partner-demo")
