"""A real Prometheus (Debian's `prometheus` package) scrapes two simulated devices, and
backfills a recording through promtool. Everything listens on loopback and is stopped here."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager

import pytest

from tests.fleet_helpers import stop
from tests.recordings import record
from zmtop.cli.main import main
from zmtop.engine.recording.reader import Recording

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
LOOPBACK = "127.0.0.1"
DEADLINE = 60  # seconds for anything to come up or to happen
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PROMETHEUS is None or PROMTOOL is None,
                       reason="prometheus is not installed (apt-get install -y prometheus)"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]




@contextmanager
def zmtop_metrics(*argv: str):
    """`zmtop metrics` on a free loopback port: its HOST:PORT, read from the line it prints."""
    process = subprocess.Popen([sys.executable, "-m", "zmtop", "metrics", "--listen",
                                f"{LOOPBACK}:0", *argv], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # it prints once bound, or exits
        assert line.startswith("serving http://"), line
        yield urllib.parse.urlsplit(line.split()[1]).netloc
    finally:
        stop(process)


@contextmanager
def prometheus(tmp_path, scrape_targets: list[str], storage):
    """Prometheus on a free loopback port, scraping `scrape_targets` every second: its URL."""
    config = tmp_path / "prometheus.yml"
    jobs = [{"job_name": "zmtop", "scrape_interval": "1s", "scrape_timeout": "1s",
             "static_configs": [{"targets": scrape_targets}]}] if scrape_targets else []
    config.write_text(json.dumps({"global": {"scrape_interval": "1s"},
                                  "scrape_configs": jobs}))  # JSON is YAML
    address = f"{LOOPBACK}:{free_port()}"
    log = open(tmp_path / "prometheus.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={storage}",
         f"--web.listen-address={address}", "--storage.tsdb.retention.time=10y"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://{address}"
        wait_for(lambda: http_ok(f"{url}/-/ready"), "Prometheus to be ready", process)
        yield url
    finally:
        stop(process)
        log.close()


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_for(condition, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"Prometheus exited ({process.returncode}) while waiting for {what}")
        result = condition()
        if result:
            return result
        time.sleep(0.25)
    pytest.fail(f"no {what} within {DEADLINE} s")


def query(url: str, promql: str, at: float | None = None) -> list[dict]:
    params = {"query": promql} | ({"time": f"{at:.3f}"} if at is not None else {})
    with urllib.request.urlopen(f"{url}/api/v1/query?{urllib.parse.urlencode(params)}",
                                timeout=10) as response:
        answer = json.load(response)
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def by_device(results: list[dict]) -> dict[str, float]:
    return {r["metric"]["device"]: float(r["value"][1]) for r in results}


def ps_json(capsys, seed: int, tick: int) -> list[dict]:
    assert main(["ps", "--json", "--seed", str(seed), "--ticks", str(tick)]) == 0
    return json.loads(capsys.readouterr().out)


def test_two_devices_land_in_prometheus(tmp_path, capsys):
    seeds = {"sim:default:1": 1, "sim:default:2": 2}
    with zmtop_metrics("--seed", "1") as first, zmtop_metrics("--seed", "2") as second, \
            prometheus(tmp_path, [first, second], tmp_path / "data") as url:
        wait_for(lambda: len([r for r in query(url, "count_over_time(zmtop_tick[5m])")
                              if float(r["value"][1]) >= 2]) == 2, "two scrapes of both devices")
        at = time.time()
        assert set(by_device(query(url, "zmtop_tick", at))) == set(seeds)
        totals = by_device(query(url, "zmtop_kstats_total_bytes", at))
        parts = by_device(query(url, "sum by (device) (zmtop_kstats_bytes)", at))
        assert totals == parts and all(total > 0 for total in totals.values())
        # the tick and the PSS come from one scrape: one query, one evaluation
        results = query(url, 'zmtop_tick or zmtop_process_pss_bytes{name="bin/component_manager"}', at)
    for device, seed in seeds.items():
        (tick,) = [float(r["value"][1]) for r in results
                   if r["metric"]["device"] == device and r["metric"]["__name__"] == "zmtop_tick"]
        (pss,) = [(int(r["metric"]["koid"]), float(r["value"][1])) for r in results
                  if r["metric"]["device"] == device and "koid" in r["metric"]]
        rows = {row["koid"]: row for row in ps_json(capsys, seed, int(tick)) if row["type"] == "p"}
        assert rows[pss[0]]["name"] == "bin/component_manager"
        assert pss[1] == rows[pss[0]]["pss_bytes"]


def test_a_recording_backfills_through_promtool(tmp_path, capsys):
    path = tmp_path / "run.zmrec"
    record(path, "leak", 20)
    text = tmp_path / "run.om"
    assert main(["export", str(path), "--format", "openmetrics", "-o", str(text)]) == 0
    blocks = tmp_path / "blocks"
    subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(text),
                    str(blocks)], check=True, capture_output=True, timeout=DEADLINE)
    recording = Recording.open(path)
    start, times = recording.metadata.start_time, recording.times()
    with prometheus(tmp_path, [], blocks) as url:
        for tick, time_ns in list(zip(recording.ticks, times))[::5]:
            at = start + (time_ns - times[0]) / 1e9
            snap = recording.snapshot_at(tick)
            assert by_device(query(url, "zmtop_tick", at)) == {"sim:leak:1": tick}
            assert by_device(query(url, "zmtop_kstats_total_bytes", at))["sim:leak:1"] == \
                snap.kmem.total_bytes
            free = query(url, 'zmtop_kstats_bytes{field="free"}', at)
            assert by_device(free)["sim:leak:1"] == snap.kmem.free_bytes
        end = start + (times[-1] - times[0]) / 1e9
        samples = query(url, "count_over_time(zmtop_tick[1h])", end)
        assert by_device(samples) == {"sim:leak:1": len(recording.ticks)}
