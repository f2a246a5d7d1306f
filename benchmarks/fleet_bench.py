"""Fleet budgets: a /metrics scrape over HTTP at default and at scale, what serving metrics
costs the live monitor (measured in a 160x50 tmux with benchmarks/tuibench.py, and as the CPU
time a scrape costs the serving process), and a default hour exported as a Perfetto trace."""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from benchmarks.ui_bench import tuibench
from zmtop.cli.main import main
from zmtop.cli.metrics import MetricsServer
from zmtop.engine.recording.writer import Recorder, metadata_for
from zmtop.engine.sim.simulation import Simulation

Row = tuple[str, float, str, str]
SCRAPE_SECONDS = 15  # a usual Prometheus scrape interval (its example config's)
CPU_RUNS = 5  # runs of the monitor with and without --metrics, interleaved; medians kept
CPU_WINDOW = 20  # seconds of each run's steady window
# What Prometheus 2 asks of a target: OpenMetrics, gzipped.
PROMETHEUS_HEADERS = {"Accept": "application/openmetrics-text;version=1.0.0,application/"
                      "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
                      "*/*;q=0.1", "Accept-Encoding": "gzip"}
# A scraper in a process of its own, whose CPU is not the server's: a scrape per line read.
SCRAPER = """import json, sys, urllib.request
request = urllib.request.Request(sys.argv[1], headers=json.loads(sys.argv[2]))
for _ in sys.stdin:
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    print(flush=True)
"""


def _scrapes(scenario: str, runs: int, ticks: int = 1) -> tuple[float, float, float]:
    """Median ms of a scrape `ticks` ticks after the last (as Prometheus sees each one),
    ms of the first scrape (whose digest reads every VMO), and median µs of feeding the
    server a tick (what the monitor pays each tick)."""
    sim = Simulation(scenario, 1)
    server = MetricsServer(("127.0.0.1", 0), top=50)
    try:
        server.watch(sim)
        first = _scrape(server.url)
        scrapes, feeds = [], []
        for _ in range(runs):
            for _ in range(ticks):
                snap = sim.step()
                start = time.perf_counter()
                server.feed(snap)
                feeds.append(time.perf_counter() - start)
            scrapes.append(_scrape(server.url))
    finally:
        server.close()
    return statistics.median(scrapes) * 1e3, first * 1e3, statistics.median(feeds) * 1e6


def _scrape(url: str) -> float:
    """Seconds to fetch `url`."""
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
    return time.perf_counter() - start


def _scrape_cpu(headers: dict[str, str], runs: int) -> float:
    """Median ms of CPU time this process spends to take a new default tick (`feed`) and
    answer a scrape of it that another process makes: what --metrics costs the monitor per
    scrape, without the machine's noise that the tmux figures carry."""
    sim = Simulation("default", 1)
    server = MetricsServer(("127.0.0.1", 0), top=50)
    scraper = subprocess.Popen([sys.executable, "-c", SCRAPER, server.url, json.dumps(headers)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert scraper.stdin is not None and scraper.stdout is not None
    costs = []
    try:
        server.watch(sim)
        for _ in range(runs):
            snap = sim.step()
            start = time.process_time()
            server.feed(snap)
            scraper.stdin.write("\n")
            scraper.stdin.flush()
            scraper.stdout.readline()
            costs.append(time.process_time() - start)
    finally:
        scraper.stdin.close()
        scraper.wait(30)
        server.close()
    return statistics.median(costs[1:]) * 1e3  # the first scrape's digest reads every VMO


def _scrape_each_second(url: str, stop: threading.Event, done: list[float]) -> None:
    """Scrape `url` once a second until `stop` (before the monitor listens, nothing answers)."""
    while not stop.wait(1.0):
        try:
            done.append(_scrape(url))
        except OSError:
            pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _metrics_cpu() -> tuple[float, float, int]:
    """% of a core the live monitor (default scenario, 1 s ticks) uses without --metrics, and
    with it while this bench scrapes it once a second: medians of CPU_RUNS runs each,
    interleaved, as the machine is shared; and the scrapes made."""
    plain, served, scrapes = [], [], 0
    for _ in range(CPU_RUNS):
        plain.append(tuibench("zmtop-default", [], CPU_WINDOW)["cpu_pct"])
        address = f"127.0.0.1:{_free_port()}"
        stop, done = threading.Event(), []
        scraper = threading.Thread(target=_scrape_each_second,
                                   args=(f"http://{address}/metrics", stop, done))
        scraper.start()
        try:
            served.append(tuibench("zmtop-metrics", ["--metrics", address], CPU_WINDOW)["cpu_pct"])
        finally:
            stop.set()
            scraper.join()
        scrapes += len(done)
    return statistics.median(plain), statistics.median(served), scrapes


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
    default_ms, _, feed_us = _scrapes("default", 15)
    cpu_ms, prometheus_cpu_ms = _scrape_cpu({}, 101), _scrape_cpu(PROMETHEUS_HEADERS, 101)
    scale_ms, scale_first_ms, _ = _scrapes("scale", 5)
    scale_late_ms, _, _ = _scrapes("scale", 3, SCRAPE_SECONDS)
    with tempfile.TemporaryDirectory() as directory:
        hour = _perfetto_hour(directory)
    rows = [
        ("default: /metrics scrape over HTTP, new tick each, median", default_ms, "ms", "<= 20"),
        ("scale: /metrics scrape with --top 50, new tick each, median", scale_ms, "ms", "<= 100"),
        (f"scale: /metrics scrape {SCRAPE_SECONDS} ticks after the last, median",
         scale_late_ms, "ms", ""),
        ("scale: the first /metrics scrape (its digest reads every VMO)", scale_first_ms,
         "ms", ""),
        ("default: --metrics feed per tick, median", feed_us, "µs", "-"),
        ("default: --metrics CPU per scrape (feed, then a scrape), process time, median",
         cpu_ms, "ms", "< 2"),
        ("default: the same, scraped as Prometheus asks (OpenMetrics, gzip)", prometheus_cpu_ms,
         "ms", "< 2"),
    ]
    if shutil.which("tmux") is None:  # tuibench.py drives the monitor in a tmux
        rows.append(("metrics CPU cost: skipped, tmux not found", 0.0, "", ""))
    else:
        plain, served, scrapes = _metrics_cpu()
        rows += [
            (f"default: monitor CPU at 1 s ticks, median of {CPU_RUNS}", plain, "%", ""),
            (f"default: the same with --metrics scraped each second ({scrapes} scrapes)",
             served, "%", ""),
            ("metrics CPU cost (--metrics scraped each second, default, 1 s ticks)",
             served - plain, "pts", "<= 0.2"),
        ]
    return rows + [("default: Perfetto export of a 3,600-tick recording", hour, "s", "<= 10")]
