"""Replay in the monitor: the timeline, every control, marks, and the diff screen."""

from __future__ import annotations

import asyncio

import pytest

from tests.recordings import record
from zmtop.engine.analysis.diff import diff
from zmtop.engine.formats.psutils import walk_tasks
from zmtop.engine.recording.reader import Recording
from zmtop.engine.snapshot.records import Event
from zmtop.engine.sources.replay import ReplaySource
from zmtop.tui.replay_app import ReplayApp
from zmtop.tui.screens.diff import DiffScreen
from zmtop.tui.screens.goto import parse_position
from zmtop.tui.screens.main import MainScreen
from zmtop.tui.widgets.diff_tables import (
    KstatsDiffTable,
    ProcessDiffTable,
    VmoDiffTable,
)
from zmtop.tui.widgets.header import KstatsHeader
from zmtop.tui.widgets.key_footer import KeyFooter
from zmtop.tui.widgets.task_table import TaskTable
from zmtop.tui.widgets.timeline import Timeline, column_of, event_columns, tick_at
from zmtop.viewmodels.task_rows import Figures

LAST = 48  # the oom scenario: pressure changes from tick 16, an OOM kill at 46


@pytest.fixture(scope="module")
def recording_path(tmp_path_factory):
    return record(tmp_path_factory.mktemp("replay") / "oom.zmrec", "oom", LAST,
                  keyframe_every=16)


@pytest.fixture
def make_replay(recording_path):
    def make(**options) -> ReplayApp:
        options.setdefault("autostart", False)
        return ReplayApp(ReplaySource(Recording.open(recording_path)), **options)

    return make


def timeline_lines(app) -> list[str]:
    return app.screen.query_one(Timeline).render().plain.split("\n")


async def go_to(pilot, text: str) -> None:
    await pilot.press("colon")
    await pilot.pause()
    await pilot.press(*text, "enter")
    await pilot.pause()


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_opens_paused_on_the_first_tick_with_a_timeline(make_replay):
    app = make_replay()
    async with app.run_test(size=(120, 36)):
        assert app.snapshot.tick == 0 and app.paused
        status, track = timeline_lines(app)
        for text in ("REPLAY", "paused", f"tick 0 / {LAST}", f"0:00:00 / 0:00:{LAST}", "×1"):
            assert text in status
        assert track[1] == "●"
        assert "✖" in track and "◆" in track and "+" in track
        assert "PAUSED" in app.screen.query_one(KstatsHeader).text


async def test_step_forward_and_back(make_replay):
    app = make_replay()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("full_stop", "full_stop")
        assert app.snapshot.tick == 2
        assert f"tick 2 / {LAST}" in timeline_lines(app)[0]
        await pilot.press("comma")
        assert app.snapshot.tick == 1
        await pilot.press("comma", "comma")
        assert app.snapshot.tick == 0
        assert app.source.at_start


async def test_jumps_and_ends(make_replay):
    app = make_replay()
    async with app.run_test(size=(120, 36)) as pilot:
        ticks = []
        for key in ("right_square_bracket", "right_square_bracket", "left_square_bracket",
                    "left_square_bracket", "right_curly_bracket", "right_square_bracket",
                    "left_curly_bracket"):
            await pilot.press(key)
            ticks.append(app.snapshot.tick)
        assert ticks == [10, 20, 10, 0, LAST, LAST, 0]


async def test_the_tables_keep_their_keys_in_a_replay(make_replay):
    """The arrows fold, home, end and g move in the tree, as live; seeking has its own."""
    app = make_replay()
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.screen.query_one(TaskTable)
        await pilot.press("end")
        assert table.cursor_key == table.keys[-1] and app.snapshot.tick == 0
        await pilot.press("g")
        assert table.cursor_key == table.keys[0] and app.snapshot.tick == 0
        shown = len(table.keys)
        await pilot.press("left")
        assert len(table.keys) < shown and app.snapshot.tick == 0
        await pilot.press("right")
        assert len(table.keys) == shown
        footer = app.screen.query_one(KeyFooter).render().plain
        for key in ("Play", ". Step", ", Back", ": Go to tick"):
            assert key in footer


@pytest.mark.slow
async def test_goto_a_tick_or_a_time(make_replay):
    app = make_replay()
    async with app.run_test(size=(120, 36)) as pilot:
        ticks = []
        for text in ("30", "0:12"):
            await go_to(pilot, text)
            ticks.append(app.snapshot.tick)
        for text in ("20s", "1m", "junk", "0"):  # what the prompt answers
            app.go_to(text)
            ticks.append(app.snapshot.tick)
        await pilot.pause()
        assert ticks == [30, 12, 20, LAST, LAST, 0]
        assert any("neither a tick" in m for m in messages(app))
        await pilot.press("colon")
        await pilot.pause()
        await pilot.press("7", "escape")
        await pilot.pause()
        assert app.snapshot.tick == 0 and isinstance(app.screen, MainScreen)


def test_parse_position():
    assert parse_position(" 120 ") == ("tick", 120)
    assert parse_position("2:00") == ("time", 120)
    assert parse_position("1:02:03") == ("time", 3723)
    assert parse_position("90s") == ("time", 90)
    assert parse_position("1.5m") == ("time", 90)
    assert parse_position("1h") == ("time", 3600)
    for bad in ("", "-3", "2:xx", "5 parsecs"):
        with pytest.raises(ValueError):
            parse_position(bad)


@pytest.mark.slow
async def test_speed(make_replay):
    app = make_replay()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("plus")
        assert app.speed == 2.0 and "×2" in timeline_lines(app)[0]
        await pilot.press(*["plus"] * 6)
        assert app.speed == 16.0
        await pilot.press(*["minus"] * 8)
        assert app.speed == 0.25 and "×0.25" in timeline_lines(app)[0]


async def until(condition, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_space_plays_and_pauses(make_replay):
    app = make_replay(autostart=True, tick_seconds=30)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("space")
        assert not app.paused and "playing" in timeline_lines(app)[0]
        await pilot.press("space")
        assert app.paused and "paused" in timeline_lines(app)[0]


async def test_playing_steps_and_stops_at_the_end(make_replay):
    """Driven by the actions: a pilot waits for an idle screen, which a replay never is."""
    app = make_replay(autostart=True, tick_seconds=0.02)
    async with app.run_test(size=(120, 36)):
        app.action_play()
        await until(lambda: app.snapshot.tick >= 2)
        app.action_play()
        await until(lambda: not app.driver.stepping)  # a step under way is still shown
        tick = app.snapshot.tick
        await asyncio.sleep(0.1)
        assert app.paused and app.snapshot.tick == tick
        app.seek(LAST - 2)
        app.action_play()
        await until(lambda: app.paused)
        assert app.snapshot.tick == LAST and len(app.free_history) == LAST + 1
        app.action_play()  # at the end: play again from the start
        assert not app.paused and app.snapshot.tick == 0


@pytest.mark.slow
async def test_a_seek_rebuilds_the_view_state(make_replay, recording_path):
    app = make_replay()
    recording = Recording.open(recording_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await go_to(pilot, "30")
        await go_to(pilot, "12")
        snap = app.snapshot
        assert snap.tick == 12
        expected = Figures(recording.snapshot_at(11))
        expected.advance(recording.snapshot_at(12))
        assert app.figures.snap is snap
        assert app.figures.deltas == expected.deltas and app.figures.totals == expected.totals
        # the graphs hold what playing from the start to here would have gathered
        played = [recording.snapshot_at(t).kmem for t in range(13)]
        assert list(app.free_history) == [kmem.free_bytes for kmem in played]
        assert list(app.kstats_history.fields["free"]) == [k.free_bytes for k in played]
        table = app.screen.query_one(TaskTable)
        assert table.figures is app.figures
        assert table.keys == [r.koid for r in walk_tasks(snap)]
        await pilot.press("full_stop")  # one on is a plain tick: history grows
        assert len(app.free_history) == 14 and app.snapshot.tick == 13


async def test_drill_down_follows_the_replay(make_replay):
    app = make_replay()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("right_curly_bracket")
        cobalt = next(p.koid for p in app.snapshot.processes.values()
                      if p.name == "cobalt.cm")
        app.jump_to_koid(cobalt)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ProcessScreen"
        await pilot.press("left_curly_bracket", "right_square_bracket", "full_stop")
        assert app.snapshot.tick == 11
        assert "tick 11" in app.screen.query_one(KstatsHeader).text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.query_one(TaskTable).figures.snap is app.snapshot


async def test_keys_rest_while_a_prompt_has_them(make_replay):
    app = make_replay()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("slash", "colon", "full_stop", "m", "d", "space")
        assert app.screen.query_one("FindBar").value == ":.md "
        assert app.snapshot.tick == 0 and app.paused


async def test_a_click_on_the_track_seeks(make_replay):
    app = make_replay()
    async with app.run_test(size=(120, 36)) as pilot:
        timeline = app.screen.query_one(Timeline)
        await pilot.click(Timeline, offset=(1 + column_of(30, 0, LAST, 118), 1))
        assert app.snapshot.tick == 30
        assert timeline.render().plain.split("\n")[1].index("●") == 1 + column_of(
            30, 0, LAST, 118)


def test_track_columns_keep_the_most_telling_event():
    events = [(0, Event("process-start", 1, "")), (0, Event("process-exit", 2, "")),
              (50, Event("oom-kill", 3, "")), (50, Event("pressure", 0, "")),
              (100, Event("pressure", 0, ""))]
    assert event_columns(events, 0, 100, 11) == {0: "process-exit", 5: "oom-kill",
                                                 10: "pressure"}
    assert [column_of(t, 0, 100, 11) for t in (0, 50, 100)] == [0, 5, 10]
    assert [tick_at(c, 0, 100, 11) for c in (-3, 0, 5, 10, 99)] == [0, 0, 50, 100, 100]
    assert column_of(7, 7, 7, 20) == 0 and tick_at(4, 7, 7, 20) == 7


@pytest.mark.slow
async def test_marks_and_the_diff_screen(make_replay, recording_path):
    app = make_replay()
    recording = Recording.open(recording_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        assert any("mark two ticks" in m for m in messages(app))
        await go_to(pilot, "10")
        await pilot.press("m", "m")
        assert any("already mark A" in m for m in messages(app))
        await go_to(pilot, "47")
        await pilot.press("m")
        status, track = timeline_lines(app)
        assert "A 10" in status and "B 47" in status
        assert track[1 + column_of(10, 0, LAST, 118)] == "A"
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        expected = diff(recording.snapshot_at(10), recording.snapshot_at(47))
        assert screen.diff == expected
        processes = screen.query_one(ProcessDiffTable)
        every = expected.processes + expected.processes_appeared + expected.processes_went
        assert sorted(processes.keys) == sorted(g.koid for g in every)
        assert processes.keys[0] == max(every, key=lambda g: g.pss_delta).koid
        gone = [g.koid for g in expected.processes_went]
        assert gone and "gone" in processes.cells(gone[0])[1].text
        vmos = screen.query_one(VmoDiffTable)
        assert len(vmos.keys) == (len(expected.vmos) + len(expected.vmos_appeared)
                                  + len(expected.vmos_went))
        kstats = screen.query_one(KstatsDiffTable)
        assert kstats.keys[:2] == ["total_bytes", "free_bytes"]
        processes.focus()
        await pilot.press("s")  # sortable like every table: the next column
        assert processes.sort_key == "apss"
        await pilot.press("full_stop", "space")  # the replay keys rest under the diff
        assert app.snapshot.tick == 47 and app.paused
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await pilot.press("left_curly_bracket", "m")  # a third mark starts a new pair
        assert "A 0" in timeline_lines(app)[0] and "B " not in timeline_lines(app)[0]
        await go_to(pilot, "5")
        await pilot.press("d")  # only A: against the tick shown
        await pilot.pause()
        assert (app.screen.diff.tick_a, app.screen.diff.tick_b) == (0, 5)


async def test_a_replay_is_not_recorded_again(make_replay):
    app = make_replay()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("R")
        assert app.recorder is None and not app.recording


@pytest.mark.parametrize("argv", [("replay", "{path}", "--units", "G"),
                                  ("--units", "G", "--from", "{path}")])
def test_units_reach_the_monitor_from_the_command_line(recording_path, monkeypatch, argv):
    from zmtop.cli.main import main

    seen = {}
    monkeypatch.setattr("zmtop.tui.launch.run_app", lambda source, **options: seen.update(options))
    assert main([arg.format(path=recording_path) for arg in argv]) == 0
    assert seen["unit"] == "G"
