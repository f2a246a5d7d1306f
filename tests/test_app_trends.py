"""Trends in the monitor: the job tree's growth column and sparklines, the leak suspects
screen (L), and the header's time to pressure; live, in a replay, on a poll and on an
import."""

from __future__ import annotations

from tests.capture_series import capture_series_command
from tests.recordings import record
from zmtop.engine.formats.capture import capture_json
from zmtop.engine.recording.reader import Recording
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.sources.detect import parse_source
from zmtop.engine.sources.poll import PollSource
from zmtop.engine.sources.replay import ReplaySource
from zmtop.tui.app import ZmtopApp
from zmtop.tui.replay_app import ReplayApp
from zmtop.tui.screens.leaks import LeaksScreen, SuspectTable
from zmtop.tui.screens.process import ProcessScreen, ProcessSummary
from zmtop.tui.screens.vmo import VmoScreen
from zmtop.tui.widgets import cells
from zmtop.tui.widgets.header import KstatsHeader
from zmtop.tui.widgets.task_table import TaskTable

LEAKER = "cobalt.cm"  # the leak scenario's leaking process


async def steps(pilot, count: int) -> None:
    for _ in range(count):
        pilot.app.action_step()
    await pilot.pause()


def koid_of(app, name: str) -> int:
    return next(p.koid for p in app.snapshot.processes.values() if p.name == name)


def cell(table: TaskTable, koid: int, column: str):
    return table.cells(koid)[[c.key for c in table.columns].index(column)]


async def open_leaks(pilot) -> SuspectTable:
    await pilot.press("L")
    await pilot.pause()
    assert isinstance(pilot.app.screen, LeaksScreen)
    return pilot.app.screen.query_one(SuspectTable)


async def test_growth_shows_once_the_window_has_a_trend_and_sorts_the_leaker_first(make_app):
    app = make_app("leak")
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        leaker = koid_of(app, LEAKER)
        await steps(pilot, 6)
        assert cell(table, leaker, "growth").text == ""  # 7 ticks: no trend yet
        await steps(pilot, 24)
        growth = cell(table, leaker, "growth")
        assert growth.text.startswith("+") and growth.style == "line-table--rise"
        root = app.snapshot.root_job
        assert app.growth.per_minute("j", root) > app.growth.per_minute("p", leaker) > 1 << 20
        while table.sort_key != "growth":
            await pilot.press("s")
        await pilot.pause()
        assert table.keys[:3] == [root, app.snapshot.processes[leaker].job_koid, leaker]
        await pilot.press("T")
        await pilot.pause()
        spark = cell(table, leaker, "spark").text
        assert len(spark) == 10 and spark[0] == "▁" and spark[-1] == "█"
        await pilot.press("T")
        assert "spark" not in [c.key for c in table.columns]


async def test_the_leak_screen_ranks_the_leaker_and_opens_it_or_its_vmo(make_app):
    app = make_app("leak")
    async with app.run_test(size=(120, 40)) as pilot:
        await steps(pilot, 30)
        table = await open_leaks(pilot)
        first = table.keys[0]
        assert first == ("p", koid_of(app, LEAKER), 0)
        vmo_rows = [k for k in table.keys if k[0] == "v"]
        assert vmo_rows and all(owner == first[1] for _, _, owner in vmo_rows)
        assert table.subtitle() == "1 over 31 ticks (0:00:30)"
        rows = list(table.keys)
        for _ in table.columns:  # every column sorts; one suspect keeps its rows
            await pilot.press("s")
            assert table.keys == rows, table.sort_key
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProcessScreen) and app.screen.koid == first[1]
        legacy, attributed = app.screen.query_one(ProcessSummary).render().plain.splitlines()[1:]
        history = app.growth.history
        for line, figure in ((legacy, "pss"), (attributed, "apss")):
            shown = cells.growth(history.per_minute(first[1], figure), False).text
            assert line.rstrip().endswith(f"PSS/min {shown}") and shown.startswith("+")
        await pilot.press("escape")
        await pilot.pause()
        table.move_to(vmo_rows[0])
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, VmoScreen) and app.screen.koid == vmo_rows[0][1]


async def test_the_header_says_when_pressure_comes_and_nothing_before_a_trend(make_app):
    app = make_app("oom")
    async with app.run_test(size=(120, 40)) as pilot:
        header = app.screen.query_one(KstatsHeader)
        await steps(pilot, 3)
        assert " in ~" not in header.text
        await steps(pilot, 22)
        first_line = header.text.splitlines()[0]
        assert "Critical in ~" in first_line and "OOM in ~" in first_line


async def test_a_replay_takes_the_window_before_the_tick_it_goes_to(tmp_path):
    path = record(tmp_path / "leak.zmrec", "leak", 50, keyframe_every=16)
    app = ReplayApp(ReplaySource(Recording.open(path)), autostart=False, window=20)
    async with app.run_test(size=(120, 40)) as pilot:
        app.seek(40)
        await pilot.pause()
        assert list(app.growth.history.ticks) == list(range(21, 41))
        table = await open_leaks(pilot)
        assert table.keys[0] == ("p", koid_of(app, LEAKER), 0)


async def test_an_import_says_it_has_no_trend():
    source = parse_source(capture_json(Simulation("default", 1, 1.0).snapshot).encode(),
                          "capture.json")
    app = ZmtopApp(source, autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await steps(pilot, 10)
        koid = koid_of(app, "bin/component_manager")
        assert cell(app.screen.query_one(TaskTable), koid, "growth").text == ""
        table = await open_leaks(pilot)
        assert not table.keys
        assert table.empty_text == "a single capture has no trend: poll a series of them (--poll)"


async def test_a_poll_series_grows_a_trend(tmp_path):
    command = capture_series_command(tmp_path, "leak", 12)
    app = ZmtopApp(PollSource(command, 1.0, timeout=20), autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await steps(pilot, 10)
        table = await open_leaks(pilot)
        assert table.keys[0] == ("p", koid_of(app, LEAKER), 0)
