"""Prometheus's view of a source: `zmtop metrics` steps the source on its clock and serves the
newest snapshot at /metrics; the live monitor's `--metrics` serves the snapshots it shows.

The HTTP server (wsgiref's, with prometheus-client's WSGI app and encoders) answers from a
thread that sleeps until a request comes, one request at a time. A scrape reads the newest
snapshot fed and builds the metrics from it; a snapshot is immutable, so the clock never
waits for a scrape, nor a scrape for the clock. A GET of the metrics formats only the
samples that changed since the last scrape (openmetrics.Exposition); any other request is
prometheus-client's WSGI app's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import socket
import sys
import threading
from typing import TYPE_CHECKING, Any, NamedTuple, cast
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from zmtop.cli.options import host_port
from zmtop.errors import CliError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from wsgiref.types import StartResponse, WSGIEnvironment

    from prometheus_client.core import Metric

    from zmtop.engine.analysis.digester import Digester
    from zmtop.engine.formats.openmetrics import MetricSet, Series
    from zmtop.engine.snapshot.records import Snapshot
    from zmtop.engine.sources.source import Source

# gzip's fastest level: a tenth more bytes than prometheus-client's level 9, at a quarter of
# its CPU (fleet_bench: "the same, scraped as Prometheus asks")
GZIP_LEVEL = 1
# Seconds a client may stay silent: one that sends nothing holds up the next scrape no longer
# than this (a scraper sends its request as soon as it connects)
TIMEOUT = 1


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
        from prometheus_client import CollectorRegistry, make_wsgi_app

        from zmtop.engine.formats.openmetrics import TOP, Exposition

        self.given_device = device
        self.device = device or ""
        self.top = top or TOP
        self._fed: _Fed | None = None
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        self._other_requests = make_wsgi_app(registry)
        self._exposition = Exposition()
        host, port = address
        try:
            self._httpd = _Server(host, port, self._answer)
        except OSError as error:
            raise CliError(f"{host_port(host, port)}: cannot listen: "
                           f"{error.strerror or error}") from None
        self._closing = False
        self._thread = threading.Thread(target=self._serve, name="metrics", daemon=True)
        self._thread.start()
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
        metrics, series = self._newest()
        metrics.add_series(series)
        return metrics.families()

    def _newest(self) -> tuple[MetricSet, list[list[Series]]]:
        """The families, and the newest snapshot's samples (none before one is fed)."""
        from zmtop.engine.formats.openmetrics import MetricSet

        fed = self._fed
        metrics = MetricSet(self.device if fed is None else fed.device, self.top)
        if fed is None:
            return metrics, [[] for _ in metrics.all]
        return metrics, metrics.series(fed.snap, fed.totals,
                                       fed.digester.digest(fed.snap, fed.extended))

    def _answer(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        """A GET of the metrics, as prometheus-client's WSGI app answers it (the format the
        Accept header asks, gzipped if accepted), its text kept from scrape to scrape."""
        from prometheus_client.exposition import choose_encoder, gzip_accepted

        if (environ["REQUEST_METHOD"] != "GET" or environ.get("QUERY_STRING")
                or environ["PATH_INFO"] == "/favicon.ico"):
            return self._other_requests(environ, start_response)
        encoder, content_type = choose_encoder(environ.get("HTTP_ACCEPT", ""))
        metrics, series = self._newest()
        text = self._exposition.text(metrics.all, series, encoder, content_type)
        headers = [("Content-Type", content_type)]
        if gzip_accepted(environ.get("HTTP_ACCEPT_ENCODING", "")):
            text = gzip.compress(text, GZIP_LEVEL)
            headers.append(("Content-Encoding", "gzip"))
        start_response("200 OK", headers)
        return [text]

    def _serve(self) -> None:
        """Answer requests until closed, asleep in between: socketserver's serve_forever
        would wake twice a second to look for a shutdown (fleet_bench: "metrics CPU cost")."""
        while not self._closing:
            self._httpd.handle_request()

    def close(self) -> None:
        """Stop serving: the serving thread is woken by a connection of our own."""
        self._closing = True
        address = cast("tuple[str, int]", self._httpd.server_address[:2])  # bound as such
        with contextlib.suppress(OSError), socket.create_connection(address, timeout=5):
            pass
        self._thread.join(5)
        self._httpd.server_close()


class _QuietHandler(WSGIRequestHandler):
    """A request, not logged (the monitor owns the terminal); a client silent for TIMEOUT
    seconds is dropped, so that the next one is answered."""

    timeout = TIMEOUT

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(WSGIServer):
    """wsgiref's WSGI server for `app`, bound to HOST:PORT in the address family HOST
    resolves to (an IPv6 address too). It answers a request at a time, in the thread that
    waits for them: a thread started per request, as prometheus-client's server does, costs
    0.3 ms a scrape (fleet_bench: "--metrics CPU per scrape")."""

    def __init__(self, host: str, port: int, app: Callable) -> None:
        family, _, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        self.address_family = family
        super().__init__((str(address[0]), port), _QuietHandler)
        self.set_app(app)

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket],
                     client_address: Any) -> None:
        """A connection that failed (its client gone, or silent) is not printed."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


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
