"""Metrics for Prometheus: a scrape says what the tools say, an export holds every tick, and
an address that cannot be served on is one line."""

from __future__ import annotations

import gzip
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
from prometheus_client.parser import text_string_to_metric_families as prometheus_text

from tests.fleet_helpers import record_oom
from zmtop.cli import metrics
from zmtop.cli.main import main
from zmtop.cli.metrics import MetricsServer
from zmtop.engine.analysis.digest import digest, load_buckets
from zmtop.engine.analysis.digester import Digester
from zmtop.engine.formats.openmetrics import (
    COUNTED,
    SEVERITY,
    EventCounts,
    Exposition,
    Families,
    MetricSet,
)
from zmtop.engine.formats.psutils import walk_tasks
from zmtop.engine.recording.reader import Recording
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import kstats_fields

LOOPBACK = "127.0.0.1"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def scrape(url: str) -> dict[str, list]:
    """Every sample of a scrape by metric name (Prometheus's text format, as it asks)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    samples: dict[str, list] = {}
    for family in prometheus_text(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def by_koid(samples) -> dict[int, float]:
    return {int(s.labels["koid"]): s.value for s in samples}


@pytest.fixture
def served():
    """A MetricsServer on a free loopback port over the default simulation, fed 5 ticks."""
    sim = Simulation("oom", 3)
    server = MetricsServer((LOOPBACK, 0), top=10)
    server.watch(sim)
    fed = [sim.snapshot]
    for _ in range(5):
        fed.append(sim.step())
        server.feed(fed[-1])
    yield server, sim, fed
    server.close()


def test_a_scrape_says_what_the_tools_say(served):
    server, sim, fed = served
    snap = sim.snapshot
    samples = scrape(server.url)
    assert devices(samples) == {"sim:oom:3"}
    assert samples["zmtop_tick"][0].value == snap.tick == 5
    total = samples["zmtop_kstats_total_bytes"][0].value
    parts = {s.labels["field"]: s.value for s in samples["zmtop_kstats_bytes"]}
    assert total == snap.kmem.total_bytes == sum(parts.values())
    assert parts == dict(kstats_fields(snap.kmem)[1:])
    assert samples["zmtop_pressure_level"][0].value == SEVERITY[snap.pressure]
    rows = {r.koid: r for r in walk_tasks(snap) if r.type == "p"}
    pss = by_koid(samples["zmtop_process_pss_bytes"])
    assert len(pss) == 10 and min(pss.values()) >= sorted(
        (r.pss_bytes for r in rows.values()), reverse=True)[9]
    assert all(pss[k] == rows[k].pss_bytes for k in pss)
    assert by_koid(samples["zmtop_process_private_bytes"]) == {
        k: rows[k].private_bytes for k in pss}
    assert by_koid(samples["zmtop_process_shared_bytes"]) == {k: rows[k].shared_bytes for k in pss}
    assert by_koid(samples["zmtop_process_attributed_pss_bytes"]) == pytest.approx(
        {k: snap.processes[k].attributed_pss for k in pss})
    names = {int(s.labels["koid"]): s.labels["name"] for s in samples["zmtop_process_pss_bytes"]}
    assert names == {k: rows[k].name for k in pss}
    expected = digest(snap, load_buckets(), {})
    assert {s.labels["bucket"]: s.value for s in samples["zmtop_digest_bytes"]} == {
        row.name: row.size for row in expected.rows()}
    happened = Counter(e.kind for s in fed for e in s.events)
    for kind, name, _ in COUNTED:
        assert samples[f"{name}_total"][0].value == happened[kind]
    assert happened["process-start"] > 0


def test_each_snapshot_is_counted_once(served):
    server, sim, fed = served
    before = scrape(server.url)["zmtop_process_starts_total"][0].value
    server.feed(sim.snapshot)  # a recording at its end, or a capture, hands it again
    assert scrape(server.url)["zmtop_process_starts_total"][0].value == before


# What Prometheus 2 asks (OpenMetrics), and what other clients may ask.
ACCEPTS = ["", "text/plain;version=1.0.0;escaping=allow-utf-8", "application/openmetrics-text",
           "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
           "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
           "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8"]


def test_the_kept_text_is_the_encoders_tick_by_tick():
    """Formatting only what changed since the last text gives prometheus-client's text, byte
    for byte, in each format, tick after tick: processes come and go from the top, a label
    needs escaping (a quote, a backslash, a line break), the digest's family is there or
    not."""
    sim = Simulation("churn", 2)
    digester, counts, exposition = Digester(load_buckets()), EventCounts(), Exposition()
    for tick in range(12):
        snap = sim.step()
        counts.add(snap)
        digester.follow(snap)
        device, kept = 'lab "1" \\\n', digester.digest(snap) if tick % 4 else None
        samples, families = MetricSet(device, 8), MetricSet(device, 8)
        samples.add(snap, counts.totals, kept)
        series = families.series(snap, counts.totals, kept)
        for accept in ACCEPTS:
            encoder, content_type = choose_encoder(accept)
            assert exposition.text(families.all, series, encoder, content_type) == encoder(
                Families(samples.families())), (tick, accept)


def fetch(url: str, method: str = "GET", **headers: str) -> tuple[dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(response.headers), response.read()


@pytest.mark.parametrize("accept", ACCEPTS)
def test_a_scrape_is_prometheus_clients_text(served, accept):
    """Over HTTP, in the format asked, gzipped when accepted: prometheus-client's text of
    the newest snapshot's families, scrape after scrape."""
    server, sim, _ = served
    encoder, content_type = choose_encoder(accept)
    for _ in range(3):
        server.feed(sim.step())
        plain_headers, plain = fetch(server.url, Accept=accept)
        zipped_headers, zipped = fetch(server.url, Accept=accept, **{"Accept-Encoding": "gzip"})
        assert plain == gzip.decompress(zipped) == encoder(Families(list(server.collect())))
        assert plain_headers["Content-Type"] == zipped_headers["Content-Type"] == content_type
        assert zipped_headers["Content-Encoding"] == "gzip"


def test_other_requests_are_prometheus_clients(served):
    """OPTIONS and other methods are answered as prometheus-client's WSGI app answers them."""
    server, _, _ = served
    headers, text = fetch(server.url, "OPTIONS")
    assert headers["Allow"] == "OPTIONS,GET" and text == b""
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch(server.url, "POST")
    assert refused.value.code == 405


def voluntary_switches(thread: threading.Thread) -> int:
    """How many times `thread` has gone to sleep (Linux's count for it)."""
    status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    return int(next(line for line in status.splitlines()
                    if line.startswith("voluntary_ctxt_switches:")).split()[1])


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_the_server_sleeps_until_a_request_comes(served):
    """Idle, the serving thread does not wake (socketserver's serve_forever wakes twice a
    second to look for a shutdown); a scrape wakes it, and so does closing."""
    server, _, _ = served
    scrape(server.url)
    before = voluntary_switches(server._thread)
    time.sleep(1.2)  # socketserver's loop would wake 2 or 3 times meanwhile
    assert voluntary_switches(server._thread) - before <= 1  # its sleep after the scrape
    before = voluntary_switches(server._thread)
    scrape(server.url)
    deadline = time.monotonic() + 10  # it sleeps again once it has closed the connection
    while voluntary_switches(server._thread) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert voluntary_switches(server._thread) > before
    server.close()
    assert not server._thread.is_alive()


def test_a_silent_client_is_dropped_quietly(served, monkeypatch, capfd):
    """A client that connects and says nothing holds the server only until its timeout; the
    next scrape is answered, and nothing reaches the terminal."""
    monkeypatch.setattr(metrics._QuietHandler, "timeout", 0.2)
    server, sim, _ = served
    host, port = server.url.removeprefix("http://").removesuffix("/metrics").split(":")
    with socket.create_connection((host, int(port))):
        assert scrape(server.url)["zmtop_tick"][0].value == sim.snapshot.tick
    assert capfd.readouterr() == ("", "")


async def test_the_live_monitor_serves_the_tick_it_shows():
    from zmtop.tui.app import ZmtopApp

    server = MetricsServer((LOOPBACK, 0))
    try:
        app = ZmtopApp(Simulation("default", 1), autostart=False, metrics=server)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("full_stop", "full_stop")
            samples = scrape(server.url)
            assert samples["zmtop_tick"][0].value == app.snapshot.tick == 2
            assert samples["zmtop_kstats_total_bytes"][0].value == app.snapshot.kmem.total_bytes
    finally:
        server.close()


def devices(samples) -> set[str]:
    return {s.labels["device"] for name in samples for s in samples[name]}


@pytest.mark.parametrize("given", [None, "lab-7"])
async def test_the_device_follows_a_scenario_switch(given):
    """After the palette switches scenario, the series carry the new source's name (unless
    a device was named), its figures, its digest and its own event counts."""
    from zmtop.tui.app import ZmtopApp
    from zmtop.tui.widgets.header import KstatsHeader

    server = MetricsServer((LOOPBACK, 0), device=given)
    try:
        app = ZmtopApp(Simulation("oom", 1), autostart=False, metrics=server)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press(*["full_stop"] * 3)
            assert devices(scrape(server.url)) == {given or "sim:oom:1"}
            await pilot.press("ctrl+p", *"scenario: leak")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause()
            fed = [app.snapshot]
            await pilot.press("full_stop")
            fed.append(app.snapshot)
            assert app.snapshot.source == "sim:leak:1" and app.snapshot.tick == 1
            assert "sim:leak:1" in app.screen.query_one(KstatsHeader).text
            samples = scrape(server.url)
            assert devices(samples) == {given or "sim:leak:1"}
            assert samples["zmtop_tick"][0].value == 1
            assert samples["zmtop_kstats_total_bytes"][0].value == app.snapshot.kmem.total_bytes
            assert {s.labels["bucket"]: s.value for s in samples["zmtop_digest_bytes"]} == {
                row.name: row.size for row in digest(app.snapshot, load_buckets()).rows()}
            assert samples["zmtop_process_starts_total"][0].value == sum(
                e.kind == "process-start" for snap in fed for e in snap.events) > 0
    finally:
        server.close()


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return record_oom(tmp_path_factory.mktemp("om") / "oom.zmrec")


def test_export_holds_every_tick_with_its_time(capsys, recording):
    code, out, err = run(capsys, "export", str(recording), "--format", "openmetrics", "--top", "5")
    assert code == 0 and err == ""
    assert out.endswith("# EOF\n")
    rec = Recording.open(recording)
    start = rec.metadata.start_time
    times = rec.times()
    families = {f.name: f for f in openmetrics(out)}
    ticks = {float(s.timestamp): s.value for s in families["zmtop_tick"].samples}
    assert sorted(ticks.values()) == rec.ticks
    totals = {float(s.timestamp): s.value for s in families["zmtop_kstats_total_bytes"].samples}
    parts: dict[float, float] = Counter()
    for sample in families["zmtop_kstats_bytes"].samples:
        parts[float(sample.timestamp)] += sample.value
    for tick, time_ns in zip(rec.ticks, times):
        stamp = pytest.approx(start + (time_ns - times[0]) / 1e9, abs=1e-3)
        at = next(t for t in ticks if t == stamp)
        assert ticks[at] == tick
        assert totals[at] == parts[at] == rec.snapshot_at(tick).kmem.total_bytes
    pss = families["zmtop_process_pss_bytes"].samples
    last = rec.snapshot_at(rec.ticks[-1])
    final = max(float(s.timestamp) for s in pss)
    assert {int(s.labels["koid"]): s.value for s in pss if float(s.timestamp) == final} == {
        p.koid: p.pss_bytes for p in sorted(last.processes.values(),
                                             key=lambda p: -p.pss_bytes)[:5]}
    kills = families["zmtop_oom_kills"].samples
    assert kills[-1].value == sum(e.kind == "oom-kill" for _, e in rec.events()) > 0


def test_export_of_a_simulation_is_byte_identical(capsys):
    argv = ("export", "--format", "openmetrics", "--ticks", "3", "--scenario", "churn")
    _, first, _ = run(capsys, *argv)
    _, second, _ = run(capsys, *argv)
    assert first == second and first.count("zmtop_tick{") == 4


@pytest.fixture
def taken_port():
    with socket.socket() as holder:
        holder.bind((LOOPBACK, 0))
        holder.listen(1)
        yield holder.getsockname()[1]


@pytest.mark.parametrize("command", [("metrics", "--listen"), ("serve", "--listen"),
                                     ("--metrics",)])
def test_a_port_in_use_is_one_line(capsys, taken_port, command):
    code, out, err = run(capsys, *command, f"{LOOPBACK}:{taken_port}")
    assert code == 2 and out == ""
    assert err == f"zmtop: {LOOPBACK}:{taken_port}: cannot listen: Address already in use\n"


@pytest.mark.parametrize("command", [("metrics", "--listen"), ("serve", "--listen")])
def test_an_address_not_this_machines_is_one_line(capsys, command):
    code, _, err = run(capsys, *command, "192.0.2.1:9100")  # TEST-NET-1: nobody's
    assert code == 2
    assert err == "zmtop: 192.0.2.1:9100: cannot listen: Cannot assign requested address\n"


@pytest.mark.parametrize("argv, message", [
    (("metrics", "--listen", "9100"), "an address is HOST:PORT, the port 0 to 65535, not '9100'"),
    (("metrics", "--listen", "h:70000"), "an address is HOST:PORT, the port 0 to 65535, not 'h:70000'"),
    (("metrics", "--listen", "h:1", "--top", "0"), "--top takes 1 to 100000 processes, not 0"),
    (("export", "--format", "perfetto"), "a Perfetto trace is binary: name its file with -o FILE"),
    (("export", "--format", "csv", "--top", "3"), "--top is for the openmetrics and perfetto formats, not csv"),
    (("--metrics", "h:1", "ps"), "--metrics serves the live monitor, not 'ps' (for a source alone: zmtop metrics --listen HOST:PORT)"),
])
def test_bad_options_are_one_line(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert (code, err) == (2, f"zmtop: {message}\n")


def test_metrics_refuses_a_replay(capsys, recording):
    code, _, err = run(capsys, "--metrics", f"{LOOPBACK}:0", "--from", str(recording))
    assert code == 2 and err.startswith("zmtop: --metrics serves the live monitor, not a replay")
