"""Fleet budgets: a /metrics scrape over HTTP at default and at scale, what serving metrics
costs the live monitor, and a default hour exported as a Perfetto trace."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import urllib.request

from zmtop.cli.main import main
from zmtop.cli.metrics import MetricsServer
from zmtop.engine.recording.writer import Recorder, metadata_for
from zmtop.engine.sim.simulation import Simulation

Row = tuple[str, float, str, str]
SCRAPE_SECONDS = 15  # a usual Prometheus scrape interval (its example config's)


def _scrapes(scenario: str, runs: int) -> tuple[float, float]:
    """Median ms of a scrape of a new tick (as Prometheus sees each one), and median µs of
    feeding the server a tick (what the monitor pays each tick)."""
    sim = Simulation(scenario, 1)
    server = MetricsServer(("127.0.0.1", 0), top=50)
    try:
        server.watch(sim)
        scrapes, feeds = [], []
        for _ in range(runs):
            snap = sim.step()
            start = time.perf_counter()
            server.feed(snap)
            feeds.append(time.perf_counter() - start)
            start = time.perf_counter()
            with urllib.request.urlopen(server.url, timeout=30) as response:
                response.read()
            scrapes.append(time.perf_counter() - start)
    finally:
        server.close()
    return statistics.median(scrapes) * 1e3, statistics.median(feeds) * 1e6


def _perfetto_hour(directory: str, ticks: int = 3600) -> float:
    """Seconds to export a default recording of `ticks` steps as a Perfetto trace."""
    path = os.path.join(directory, "hour.zmrec")
    sim = Simulation("default", 1)
    with Recorder(path, metadata_for(sim)) as recorder:
        recorder.append(sim.snapshot)
        for _ in range(ticks):
            recorder.append(sim.step())
    start = time.perf_counter()
    assert main(["export", path, "--format", "perfetto", "-o",
                 os.path.join(directory, "hour.pftrace")]) == 0
    return time.perf_counter() - start


def run() -> list[Row]:
    default_ms, feed_us = _scrapes("default", 15)
    scale_ms, _ = _scrapes("scale", 5)
    points = (feed_us / 1e6 + default_ms / 1e3 / SCRAPE_SECONDS) * 100  # per 1 s tick
    with tempfile.TemporaryDirectory() as directory:
        hour = _perfetto_hour(directory)
    return [
        ("default: /metrics scrape over HTTP, new tick each, median", default_ms, "ms", "<= 20"),
        ("scale: /metrics scrape with --top 50, new tick each, median", scale_ms, "ms", "<= 100"),
        ("default: --metrics feed per tick, median", feed_us, "µs", "-"),
        (f"default: --metrics CPU at 1 s ticks, {SCRAPE_SECONDS} s scrapes (feed + scrape)",
         points, "pts", "<= 0.2"),
        ("default: Perfetto export of a 3,600-tick recording", hour, "s", "<= 10"),
    ]
