"""The monitor over other sources: recording what it shows, replaying a recording, and the
simulation booted in a forked child."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from tests.recordings import record
from zmtop.cli.boot import boot
from zmtop.cli.forked_boot import ForkedBoot
from zmtop.engine.recording.reader import Recording
from zmtop.engine.recording.writer import Recorder, metadata_for
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.sources.replay import ReplaySource
from zmtop.errors import CliError
from zmtop.tui.app import ZmtopApp
from zmtop.tui.widgets.header import KstatsHeader
from zmtop.viewmodels.task_rows import job_totals


async def test_recording_what_the_monitor_shows(tmp_path):
    path = tmp_path / "live.zmrec"
    sim = Simulation("default", 1, 1.0)
    recorder = Recorder(path, metadata_for(sim))
    app = ZmtopApp(sim, autostart=False, recorder=recorder)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.recording
        assert "REC" in app.screen.query_one(KstatsHeader).text
        await pilot.press("full_stop", "full_stop", "full_stop")
    assert recorder.closed
    recording = Recording.open(path)
    assert recording.ticks == [0, 1, 2, 3]
    assert recording.snapshot_at(3).kmem == app.snapshot.kmem


async def test_a_failing_recording_stops_and_says_so(tmp_path):
    sim = Simulation("default", 1, 1.0)
    recorder = Recorder(tmp_path / "x.zmrec", metadata_for(sim))
    app = ZmtopApp(sim, autostart=False, recorder=recorder)
    async with app.run_test(size=(100, 30)) as pilot:
        recorder.close()  # the next append fails
        await pilot.press("full_stop")
        assert not app.recording and app.recorder is None
        assert "REC" not in app.screen.query_one(KstatsHeader).text
        assert app.snapshot.tick == 1


async def test_replaying_a_recording_steps_through_its_ticks(tmp_path):
    path = record(tmp_path / "r.zmrec", "default", 2)
    source = ReplaySource(Recording.open(path))
    app = ZmtopApp(source, tick_seconds=source.tick_seconds, autostart=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("full_stop", "full_stop", "full_stop")
        assert app.snapshot.tick == 2  # stays at the end
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "MainScreen"  # Enter on the root job folds it


@pytest.fixture
def boots_here(monkeypatch):
    """Records the boots this process does (a forked child records in its own copy), and
    thaws the heap a boot freezes (as the monitor does) after the test."""
    calls = []

    def spy(*args):
        calls.append(args)
        return boot(*args)

    monkeypatch.setattr("zmtop.cli.forked_boot.boot", spy)
    yield calls
    gc.unfreeze()


async def test_a_forked_boot_shows_the_childs_snapshot_then_goes_on_as_booted(boots_here):
    source = ForkedBoot("default", 1, 1.0, 2, wait=30)
    twin = boot("default", 1, 1.0, 2)
    app = ZmtopApp(source, autostart=False)
    assert not boots_here  # the snapshot to start with is the child's
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.snapshot == twin.snapshot
        childs = app.snapshot
        assert "tick 2" in app.screen.query_one(KstatsHeader).text
        await pilot.pause()
        await app.workers.wait_for_complete()  # booted here after the first frame
        assert boots_here == [("default", 1, 1.0, 2, childs)]
        assert source.snapshot == app.snapshot and source.snapshot is not app.snapshot
        # The two copies hold one set of records: the child's copy took the booted ones.
        own = source.snapshot
        assert all(own.processes[koid] is record for koid, record in childs.processes.items())
        assert all(own.jobs[koid] is record for koid, record in childs.jobs.items())
        assert app.ring.oldest() is source.snapshot  # the child's copy is not kept for `d`
        assert app.growth.history.last is source.snapshot  # nor for the trends
        await pilot.press("full_stop")
        assert app.snapshot == twin.step()
        # Nothing but the copy itself (and getrefcount's argument) holds its VMO table: the
        # trends' window kept it.
        holders = sys.getrefcount(childs.vmos)
        assert holders == 2
        kept = app.growth.history.kept[0]
        assert kept.tick == 2 and all(kept.committed(koid) == vmo.committed_bytes
                                      for koid, vmo in childs.vmos.items())
        assert {koid: list(app.figures.total(koid)) for koid in app.snapshot.jobs} == \
            job_totals(app.snapshot)
        assert "tick 3" in app.screen.query_one(KstatsHeader).text


async def test_after_the_first_frame_comes_once_and_before_the_boot_here(boots_here):
    """The monitor settles its heap (zmtop.cli.settle_heap) there: the collector stays off
    through start-up, and is back on before the booted copy is built."""
    boots_seen = []
    app = ZmtopApp(ForkedBoot("default", 1, 1.0, 0, wait=30), autostart=False,
                   after_first_frame=lambda: boots_seen.append(len(boots_here)))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("full_stop")
    assert boots_seen == [0] and len(boots_here) == 1


def test_a_forked_boot_keeps_the_childs_vmo_table_encoded_until_read(boots_here):
    """The first frame reads no VMO, and the booted copy takes over before anything does:
    decoded, the table would be 2.5 MB of records held beside the booted copy's."""
    snap = ForkedBoot("default", 1, 1.0, 0, wait=30).snapshot
    assert not snap.vmos.decoded
    assert dict(snap.vmos) == dict(boot("default", 1, 1.0, 0).snapshot.vmos)
    assert snap.vmos.decoded and not boots_here


def test_a_late_child_is_stopped_and_the_system_booted_here(boots_here):
    source = ForkedBoot("default", 1, 1.0, 0, wait=0)
    assert source.snapshot == boot("default", 1, 1.0, 0).snapshot
    assert boots_here == [("default", 1, 1.0, 0, None)]


def test_a_forked_boot_of_an_unknown_scenario_says_so():
    with pytest.raises(CliError, match="unknown scenario 'nope'"):
        _ = ForkedBoot("nope", 1, 1.0, 0, wait=30).snapshot


def test_a_forked_boot_whose_child_fails_boots_here_and_fails_the_same(monkeypatch):
    def broken(*_):
        raise RuntimeError("boot failed")

    monkeypatch.setattr("zmtop.cli.forked_boot.boot", broken)
    with pytest.raises(RuntimeError, match="boot failed"):
        _ = ForkedBoot("default", 1, 1.0, 0, wait=30).snapshot


# The monitor's start-up in a fresh interpreter, up to the fork: what is loaded by then.
FORK_PROBE = """
import sys
from zmtop.cli import forked_boot
from zmtop.cli.main import main
from zmtop.errors import CliError

def probe(*_):
    raise CliError(" ".join(name + (" loaded" if name in sys.modules else " not loaded")
                            for name in ("textual", "zmtop.engine.analysis.trend")))

forked_boot.ForkedBoot = probe
sys.exit(main([]))
"""


def test_the_live_monitor_forks_its_boot_before_textual_and_the_trends_load():
    """Loaded first, Textual left the child no time: it was always late, and killed. The
    trends, loaded for --window's default, held the fork back too (statistics, dataclasses:
    some 20 ms the child does not need)."""
    done = subprocess.run([sys.executable, "-c", FORK_PROBE], capture_output=True, text=True,
                          timeout=60)
    assert done.stderr.strip() == ("zmtop: textual not loaded "
                                   "zmtop.engine.analysis.trend not loaded")


# The monitor's start-up in a fresh interpreter, up to the app's reading the source's first
# snapshot (in its constructor): is ssl loaded?
TLS_PROBE = """
import sys
from zmtop.cli import forked_boot
from zmtop.cli.main import main
from zmtop.errors import CliError

def probe(source):
    loaded = [name for name in ("textual", "asyncio", "ssl") if sys.modules.get(name)]
    raise CliError("loaded: " + " ".join(loaded))

forked_boot.ForkedBoot.snapshot = property(probe)
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(("args", "loaded"), [
    ([], "textual asyncio"),
    (["--metrics", "127.0.0.1:0"], "textual asyncio ssl"),  # prometheus_client needs it
])
def test_the_live_monitor_loads_tls_only_for_metrics(args, loaded):
    """asyncio loads ssl, which the monitor never uses, unless told it is absent: libssl
    and libcrypto cost some 4 MB of RSS."""
    done = subprocess.run([sys.executable, "-c", TLS_PROBE, *args], capture_output=True,
                          text=True, timeout=60)
    assert done.stderr.strip() == f"zmtop: loaded: {loaded}"
