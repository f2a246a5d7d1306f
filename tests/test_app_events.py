"""The event log screen (E), the notice of an OOM kill or level change, new rows in green,
and the replay timeline's description of the tick shown."""

from __future__ import annotations

import pytest

from tests.recordings import record
from zmtop.engine.recording.reader import Recording
from zmtop.engine.sources.replay import ReplaySource
from zmtop.tui.replay_app import ReplayApp
from zmtop.tui.screens.events import EventsScreen, EventTable
from zmtop.tui.screens.process import ProcessScreen
from zmtop.tui.widgets.source_notice import SourceNotice
from zmtop.tui.widgets.task_table import TaskTable
from zmtop.tui.widgets.timeline import Timeline

KILL = 46  # the oom scenario, seed 1: memory_hog.cm starts at tick 1, its job is killed here
HOG = 7180


def notice(app) -> str:
    widget = app.screen.query_one(SourceNotice)
    return widget.render().plain if widget.display else ""


def rows(app) -> list[str]:
    table = app.screen.query_one(EventTable)
    return [" ".join(c.text for c in table.cells(key)) for key in table.keys]


async def steps(pilot, count: int) -> None:
    for _ in range(count):
        pilot.app.action_step()
    await pilot.pause()


async def test_the_log_lists_live_events_and_enter_opens_the_process(make_app):
    app = make_app("oom")
    async with app.run_test(size=(120, 40)) as pilot:
        await steps(pilot, 2)
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, EventsScreen)
        table = app.screen.query_one(EventTable)
        assert rows(app)[-1] == f"1 0:00:01 process-start {HOG} memory_hog.cm started"
        assert table.cursor == len(table.keys) - 1  # the newest, at the bottom
        await steps(pilot, 1)
        assert table.cursor == len(table.keys) - 1
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProcessScreen) and app.screen.koid == HOG


async def test_an_oom_kill_and_a_level_change_are_said_then_logged(make_app):
    app = make_app("oom")
    async with app.run_test(size=(120, 40)) as pilot:
        assert notice(app) == ""
        await steps(pilot, 17)
        assert notice(app).strip() == "memory pressure Warning"
        await steps(pilot, KILL - 17)
        assert notice(app).strip() == "OOM: killed job 7177 (hog)"
        await steps(pilot, 10)
        assert "OOM" not in notice(app)
        await pilot.press("E")
        await pilot.pause()
        assert f"{KILL} 0:00:{KILL} oom-kill 7177 OOM: killed job 7177 (hog)" in rows(app)
        table = app.screen.query_one(EventTable)
        table.move_to(next(k for k in table.keys if app.events[k].event.koid == HOG
                           and app.events[k].event.kind == "process-exit"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EventsScreen)  # it is gone: said, not opened
        assert f"koid {HOG} is gone" in [n.message for n in app._notifications][-1]


async def test_new_process_rows_are_green_for_three_ticks(make_app):
    app = make_app("oom")
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        booted = next(iter(app.snapshot.processes))
        assert table.cells(booted)[0].style == "task-table--process"  # there from the start
        await steps(pilot, 1)
        assert table.cells(HOG)[0].style == table.cells(HOG)[-1].style == "task-table--new"
        await steps(pilot, 2)
        assert table.cells(HOG)[0].style == "task-table--new"
        await steps(pilot, 1)
        assert table.cells(HOG)[0].style == "task-table--process"


@pytest.fixture(scope="module")
def recording_path(tmp_path_factory):
    return record(tmp_path_factory.mktemp("events") / "oom.zmrec", "oom", KILL + 4)


async def test_in_a_replay_enter_goes_to_the_events_tick(recording_path):
    app = ReplayApp(ReplaySource(Recording.open(recording_path)), autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("E")
        await pilot.pause()
        assert f"{KILL} 0:00:{KILL} oom-kill 7177 OOM: killed job 7177 (hog)" in rows(app)
        table = app.screen.query_one(EventTable)
        table.move_to(next(k for k in table.keys if app.events[k].event.kind == "oom-kill"))
        await pilot.press("enter")
        await pilot.pause()
        assert app.snapshot.tick == KILL and isinstance(app.screen, EventsScreen)
        status = app.screen.query_one(Timeline).render().plain.split("\n")[0]
        assert "✖ OOM: killed job 7177 (hog) +2 more" in status
        assert notice(app).strip() == "OOM: killed job 7177 (hog)"
        table.move_to(next(k for k in table.keys if app.events[k].tick == 1))
        await pilot.press("enter")
        await pilot.pause()
        assert app.snapshot.tick == 1
        assert isinstance(app.screen, ProcessScreen) and app.screen.koid == HOG


async def test_a_replay_logs_the_watchdogs_crossings_as_it_plays_once_each(recording_path):
    app = ReplayApp(ReplaySource(Recording.open(recording_path)), autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.set_watchdog(64)
        await pilot.pause()

        def crossings() -> list[tuple[int, str]]:
            return [(e.tick, e.event.kind) for e in app.events.entries
                    if e.event.kind.startswith("watchdog")]

        for _ in range(KILL + 2):
            app.action_move(1)
        over = crossings()
        assert [kind for _, kind in over] == ["watchdog-over", "watchdog-under"]
        assert over[1][0] == KILL  # gone with its job
        ticks = [e.tick for e in app.events.entries]
        assert ticks == sorted(ticks)
        app.seek(over[0][0] - 3)  # back, and through the crossing again: logged once
        for _ in range(6):
            app.action_move(1)
        assert crossings() == over


async def test_an_exited_process_stays_red_for_three_ticks_where_it_was(make_app):
    app = make_app("oom")
    async with app.run_test(size=(120, 40)) as pilot:
        await steps(pilot, KILL - 1)
        table = app.screen.query_one(TaskTable)
        before = table.keys.index(HOG)
        await steps(pilot, 1)
        assert HOG not in app.snapshot.processes and 7177 not in app.snapshot.jobs
        assert table.slots[HOG].kind == "x" and table.keys[-1] == HOG  # its job went too
        cells = table.cells(HOG)
        assert cells[0].text == f"└── p: {HOG}" and cells[-1].text == "memory_hog.cm"
        assert {c.style for c in cells} == {"task-table--exited", ""}
        await pilot.press("end", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, ProcessScreen)  # gone: nothing to open
        await steps(pilot, 2)
        assert table.slots[HOG].kind == "x"
        await steps(pilot, 1)
        assert HOG not in table.keys and before >= 0
