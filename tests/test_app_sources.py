"""The monitor over other sources: recording what it shows, and replaying a recording."""

from __future__ import annotations

from engine.record import Metadata, Recorder
from engine.replay import Recording, ReplaySource
from engine.simulation import Simulation
from zmtop.app import ZmtopApp
from zmtop.widgets.header import KstatsHeader


async def test_recording_what_the_monitor_shows(tmp_path):
    path = tmp_path / "live.zmrec"
    sim = Simulation("default", 1, 1.0)
    recorder = Recorder(path, Metadata.for_source(sim))
    app = ZmtopApp(sim, autostart=False, recorder=recorder)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.recording
        assert "REC" in app.screen.query_one(KstatsHeader).render().plain
        await pilot.press("full_stop", "full_stop", "full_stop")
    assert recorder.closed
    recording = Recording.open(path)
    assert recording.ticks == [0, 1, 2, 3]
    assert recording.snapshot_at(3).kmem == app.snapshot.kmem


async def test_a_failing_recording_stops_and_says_so(tmp_path):
    sim = Simulation("default", 1, 1.0)
    recorder = Recorder(tmp_path / "x.zmrec", Metadata.for_source(sim))
    app = ZmtopApp(sim, autostart=False, recorder=recorder)
    async with app.run_test(size=(100, 30)) as pilot:
        recorder.close()  # the next append fails
        await pilot.press("full_stop")
        assert not app.recording and app.recorder is None
        assert "REC" not in app.screen.query_one(KstatsHeader).render().plain
        assert app.snapshot.tick == 1


async def test_replaying_a_recording_steps_through_its_ticks(tmp_path):
    path = tmp_path / "r.zmrec"
    sim = Simulation("default", 1, 1.0)
    with Recorder(path, Metadata.for_source(sim)) as recorder:
        recorder.append(sim.snapshot)
        for _ in range(2):
            recorder.append(sim.step())
    source = ReplaySource(Recording.open(path))
    app = ZmtopApp(source, tick_seconds=source.tick_seconds, autostart=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("full_stop", "full_stop", "full_stop")
        assert app.snapshot.tick == 2  # stays at the end
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "MainScreen"  # Enter on the root job folds it
