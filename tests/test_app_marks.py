"""Live marks and their diff: `m`, `m`, `d`, the snapshot ring's reach, and its depth."""

from __future__ import annotations

import pytest

from zmtop.engine.analysis.diff import diff
from zmtop.tui.screens.diff import DiffScreen
from zmtop.tui.screens.main import MainScreen
from zmtop.viewmodels.snapshot_ring import SnapshotRing


def messages(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def step(pilot, ticks: int) -> None:
    for _ in range(ticks):
        await pilot.press("full_stop")


async def test_live_marks_diff_the_marked_ticks(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await step(pilot, 2)
        await pilot.press("m")
        a = app.snapshot
        assert any(f"mark A at tick {a.tick}" in m and "reach back 600 ticks (0:10:00)" in m
                   for m in messages(app))
        await step(pilot, 3)
        await pilot.press("m")
        b = app.snapshot
        await step(pilot, 2)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        assert app.screen.diff == diff(a, b)
        assert (app.screen.diff.tick_a, app.screen.diff.tick_b) == (a.tick, b.tick)
        await pilot.press("escape", "m", "full_stop", "d")  # only A: against the tick shown
        await pilot.pause()
        assert (app.screen.diff.tick_a, app.screen.diff.tick_b) == (b.tick + 2, b.tick + 3)


async def test_a_mark_beyond_the_rings_reach_is_dropped(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.ring = SnapshotRing(depth=3, stride=1)
        await pilot.press("m")
        marked = app.snapshot.tick
        await step(pilot, 3)
        assert [m.tick for m in app.marks] == [marked]
        await step(pilot, 1)
        assert app.marks == []
        assert any(f"tick {marked} dropped: older than 3 ticks" in m for m in messages(app))
        await pilot.press("d")  # nothing marked: the oldest tick kept, 3 back
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        assert (app.screen.diff.tick_a, app.screen.diff.tick_b) == (marked + 1, marked + 4)


async def test_nothing_to_diff_on_the_first_tick(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        assert isinstance(app.screen, MainScreen)
        assert any("mark a second tick" in m for m in messages(app))


def test_the_ring_keeps_one_snapshot_a_stride_within_its_depth(make_app):
    source = make_app().source
    ring = SnapshotRing(depth=20, stride=5)
    for _ in range(60):
        ring.append(source.step())
    ticks = [snap.tick for snap in ring.kept]
    now = source.snapshot.tick
    assert now - 20 <= ticks[0] < now - 20 + 5  # as far back as the depth allows
    assert {b - a for a, b in zip(ticks, ticks[1:])} == {5}


@pytest.mark.parametrize(("scenario", "kind"), [("default", "process-start"),
                                                ("oom", "oom-kill")])
async def test_a_start_or_a_kill_flashes_no_row_for_a_share_moving(make_app, scenario, kind):
    """A start or an exit moves every sharer's part of the shared VMOs by bytes or a page:
    rows that moved by less than CHANGE_SHOWN show no change and no colour."""
    from zmtop.tui.widgets import cells
    from zmtop.tui.widgets.task_table import TaskTable

    app = make_app(scenario)
    async with app.run_test(size=(120, 40)) as pilot:
        await step(pilot, 1)  # past the boot's starts
        while not any(e.kind == kind for e in app.snapshot.events):
            await step(pilot, 1)
        table = app.screen.query_one(TaskTable)
        figures, quiet = app.figures, []
        for key in table.keys:
            if key not in figures.snap.jobs and key not in figures.snap.processes:
                continue  # an exited row
            delta = figures.delta(key)
            row = table.cells(key)
            if 0 < abs(delta) < cells.CHANGE_SHOWN:
                quiet.append(key)
                assert (row[1].style, row[5].text) == ("", ""), key
            elif abs(delta) >= cells.CHANGE_SHOWN:
                assert row[5].text[0] in "▲▼", key
        assert quiet  # the start or the kill did move other rows by bytes
