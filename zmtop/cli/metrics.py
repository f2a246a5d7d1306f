"""Prometheus's view of a source: `zmtop metrics` steps the source on its clock and serves the
newest snapshot at /metrics; the live monitor's `--metrics` serves the snapshots it shows.

The HTTP server (prometheus-client's) answers from a background thread. A scrape reads the
newest snapshot fed and builds the metrics from it; a snapshot is immutable, so the clock
never waits for a scrape, nor a scrape for the clock.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, NamedTuple

from zmtop.cli.options import host_port
from zmtop.errors import CliError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from prometheus_client.core import Metric

    from zmtop.engine.analysis.digester import Digester
    from zmtop.engine.snapshot.records import Snapshot
    from zmtop.engine.sources.source import Source


class _Fed(NamedTuple):
    """The newest snapshot fed, with what its scrape needs: the event counts so far, the
    kernel counters, the device label and the digester of its source."""

    snap: Snapshot
    totals: dict[str, int]
    extended: dict[str, int]
    device: str
    digester: Digester


class MetricsServer:
    """Serves the metrics of the newest snapshot `feed` was given, at http://HOST:PORT/metrics.

    Binding is done first, so that a port in use or an address that cannot be bound is a
    CliError before any source opens; `watch` then names the source (its buckets, its kernel
    counters), and every snapshot it makes is fed; a source watched in its place (the
    monitor's scenario switch) starts its counts again. `device` labels every series (if not
    given, the watched source's name, e.g. `sim:default:1`); the `top` processes, largest
    PSS first, get series of their own.
    """

    def __init__(self, address: tuple[str, int], *, device: str | None = None,
                 top: int | None = None) -> None:
        from prometheus_client import CollectorRegistry, start_http_server

        from zmtop.engine.formats.openmetrics import TOP

        self.given_device = device
        self.device = device or ""
        self.top = top or TOP
        self._fed: _Fed | None = None
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        host, port = address
        try:
            self._httpd, self._thread = start_http_server(port, host, registry)
        except OSError as error:
            raise CliError(f"{host_port(host, port)}: cannot listen: "
                           f"{error.strerror or error}") from None
        self.url = f"http://{host_port(host, self._httpd.server_port)}/metrics"

    def watch(self, source: Source) -> None:
        """Serve `source`'s snapshots: the one it stands at now, then each one fed."""
        from zmtop.engine.analysis.digest import load_buckets
        from zmtop.engine.analysis.digester import Digester
        from zmtop.engine.formats.openmetrics import EventCounts

        self._source = source
        self._counts = EventCounts()
        self._digester = Digester(source.buckets or load_buckets())
        self.device = self.given_device or source.snapshot.source
        self.feed(source.snapshot)

    def feed(self, snap: Snapshot) -> None:
        """Take the newest snapshot (every one the source makes: events are counted here,
        and the digest notes what changed)."""
        self._counts.add(snap)
        self._digester.follow(snap)
        self._fed = _Fed(snap, dict(self._counts.totals), self._source.kernel_extended,
                         self.device, self._digester)

    def collect(self) -> Iterable[Metric]:
        """The metrics of the newest snapshot (prometheus-client's collector interface)."""
        from zmtop.engine.formats.openmetrics import MetricSet

        fed = self._fed
        if fed is None:
            return []
        metrics = MetricSet(fed.device, self.top)
        metrics.add(fed.snap, fed.totals, fed.digester.digest(fed.snap, fed.extended))
        return metrics.families()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


def run_metrics(args: argparse.Namespace) -> str:
    """Step the source on its clock (a recording plays from its first tick, or --at) and
    serve it until interrupted."""
    from zmtop.cli.sources import open_source
    from zmtop.engine.sources.driver import Driver

    server = MetricsServer(args.listen, device=args.device, top=args.top)
    try:
        source = open_source(args, replay_from_start=True)
        server.watch(source)
        print(f"serving {server.url}", flush=True)
        asyncio.run(Driver(source, source.info.tick_seconds).run(server.feed))
    finally:
        server.close()
    return ""
