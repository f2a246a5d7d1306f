"""The main screen with the keyboard and mouse: clock controls, tree, sort, search, filter."""

from __future__ import annotations

import asyncio

import pytest
from rich.segment import Segment
from textual import events
from textual._styles_cache import StylesCache
from textual.geometry import Region
from textual.widget import Widget

from zmtop.engine.formats.psutils import walk_tasks
from zmtop.engine.formats.sizes import format_size
from zmtop.engine.sources.driver import PACE_SAMPLES, Pace
from zmtop.tui.screens.main import MainScreen
from zmtop.tui.widgets.box_lines import THUMB, BoxStylesCache, KeptStylesCache
from zmtop.tui.widgets.header import KstatsHeader
from zmtop.tui.widgets.key_footer import KeyFooter
from zmtop.tui.widgets.task_table import TaskTable
from zmtop.viewmodels.task_rows import shape_changed
from zmtop.viewmodels.tree_order import flatten


def lines(table, count: int = 200) -> list[str]:
    return [table.render_line(y).text for y in range(min(count, table.size.height))]


def header_text(app) -> str:
    return app.screen.query_one(KstatsHeader).text


async def test_opens_on_the_job_tree_with_every_task(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)):
        table = app.screen.query_one(TaskTable)
        snap = app.snapshot
        assert isinstance(app.screen, MainScreen)
        assert table.keys == [r.koid for r in walk_tasks(snap)]
        assert table.cursor_key == snap.root_job
        text = header_text(app)
        for label in ("total", "free", "VMOs", "kheap", "kfree", "wired", "mmu", "ipc",
                      "other", "tick 0", "Normal", "up 0:00:00"):
            assert label in text
        top = lines(table, 3)
        assert top[0].split()[:6] == ["TASK▲", "PSS", "PRIVATE", "SHARED", "A.PSS", "ΔPSS"]
        assert f"j: {snap.root_job}" in top[1]


async def test_clock_keys_step_pause_and_speed(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("full_stop", "full_stop")
        assert app.snapshot.tick == 2
        assert "tick 2" in header_text(app)
        assert "up 0:00:02" in header_text(app)
        await pilot.press("space")
        assert app.paused and "PAUSED" in header_text(app)
        await pilot.press("space")
        assert not app.paused
        await pilot.press("plus", "plus")
        assert app.speed == 4.0 and "×4" in header_text(app)
        await pilot.press("minus")
        assert app.speed == 2.0
        app.recording = True
        await pilot.pause()
        assert "REC" in header_text(app)


async def test_the_speed_label_says_the_rate_achieved_when_it_falls_short(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(4):
            await pilot.press("plus")
        assert app.speed == 16.0
        now = [0.0]
        app.driver.pace = Pace(lambda: now[0])
        for _ in range(PACE_SAMPLES):
            app.action_step()  # a step by hand while playing counts as a tick delivered
            now[0] += 1 / 13
        app.refresh_headers()
        assert "×16 13/s" in header_text(app)
        await pilot.press("space")
        assert "×16 " in header_text(app) and "/s" not in header_text(app)


async def test_running_clock_delivers_snapshots(make_app):
    app = make_app(autostart=True, tick_seconds=0.01)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(200):
            if app.snapshot.tick >= 3:
                break
            await asyncio.sleep(0.01)
        assert app.snapshot.tick >= 3
        assert len(app.free_history) == app.snapshot.tick + 1
        await pilot.press("space")
        tick = app.snapshot.tick
        await asyncio.sleep(0.05)
        assert app.snapshot.tick == tick


async def test_a_tick_before_a_screen_has_composed_shows_once_it_has(make_app):
    """A fast clock can deliver while the screen on top is still composing (a replay at
    0.02 s ticks did, and raised NoMatches from MainScreen.show_snapshot)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = MainScreen()
        app.push_screen(screen)
        assert not screen.is_mounted
        app.deliver(app.source.step())
        await pilot.pause()
        assert screen.query_one(TaskTable).figures.snap is app.snapshot


async def test_a_tick_while_the_app_shuts_down_is_not_shown(make_app, monkeypatch):
    """The clock can deliver once the app has begun to shut down, while its screens' widgets
    go (a replay at 0.02 s ticks did, and raised NoMatches from MainScreen.show_snapshot)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        close_all = app._close_all

        async def close_all_after_a_tick() -> None:
            await app.screen.query_one(TaskTable).remove()  # as the screens close
            app.deliver(app.source.step())
            await close_all()

        monkeypatch.setattr(app, "_close_all", close_all_after_a_tick)
    assert app.snapshot.tick == 1


async def test_selection_follows_its_koid_when_rows_move(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        await pilot.press("down", "down", "down")
        koid = table.cursor_key
        await pilot.press("s")  # sort by PSS
        assert table.sort_key == "pss"
        assert table.cursor_key == koid
        assert table.keys != [r.koid for r in walk_tasks(app.snapshot)]
        for _ in range(3):
            await pilot.press("full_stop")
            assert table.cursor_key == koid
        await pilot.press("r")
        assert table.sort_reverse and table.cursor_key == koid


@pytest.mark.slow
async def test_a_sorted_tree_keeps_its_order_tick_after_tick(make_app):
    """Sorted by name the tree re-flattens only when names may have changed; by a size,
    every tick. Either way its rows are those a fresh flatten gives."""
    app = make_app()  # the default system: sizes reorder it on most ticks
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        for key in ("name", "pss"):
            table.sort_by(key)
            for _ in range(15):
                await pilot.press("full_stop")
                fresh = flatten(app.figures, table.collapsed, key, table.sort_reverse)
                assert table.keys == [slot.koid for slot in fresh]


@pytest.mark.slow
async def test_sort_cycles_and_header_click_sorts(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        for key in ("pss", "private", "shared", "apss", "delta", "growth", "#h", "name",
                    "task"):
            await pilot.press("s")
            assert table.sort_key == key
        await pilot.press("S")
        assert table.sort_key == "name"
        # the NAME title sits after TASK, five size columns, growth and #h; click it twice:
        # reverse
        x = table.columns[0].width + 1 + sum(c.width + 1 for c in table.columns[1:8]) + 2
        await pilot.click(TaskTable, offset=(x + 1, 1))
        assert table.sort_key == "name" and table.sort_reverse
        await pilot.click(TaskTable, offset=(3, 1))
        assert table.sort_key == "task" and not table.sort_reverse
        names = [table.figures.name(table.slots[k].kind, k) for k in table.keys]
        assert names  # the tree is still whole
        assert len(table.keys) == len(walk_tasks(app.snapshot))


async def test_click_selects_and_double_click_opens(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        await pilot.click(TaskTable, offset=(4, 3))  # row 2: the border, header, then rows
        assert table.cursor == 1
        assert table.cursor_key in app.snapshot.processes
        await pilot.double_click(TaskTable, offset=(4, 3))
        await pilot.pause()
        assert type(app.screen).__name__ == "ProcessScreen"


@pytest.mark.slow
async def test_collapse_expand_and_memory_across_ticks(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        snap = app.snapshot
        job = next(k for k in table.keys if k in snap.jobs and snap.jobs[k].parent_koid
                   and snap.jobs[k].processes)
        table.move_to(job)
        total = len(table.keys)
        await pilot.press("left")
        assert job in table.collapsed and len(table.keys) < total
        assert not set(snap.jobs[job].processes) & set(table.keys)
        await pilot.press("full_stop", "full_stop")
        assert job in table.collapsed and table.cursor_key == job
        await pilot.press("right")
        assert job not in table.collapsed and len(table.keys) == len(walk_tasks(app.snapshot))
        await pilot.press("enter")  # Enter folds a job
        assert job in table.collapsed
        await pilot.press("enter")
        assert job not in table.collapsed
        await pilot.press("down", "left")  # left on a process goes to its job
        assert table.cursor_key == job
        await pilot.press("c")
        depths = {table.slots[k].depth for k in table.keys}
        assert depths <= {0, 1}
        await pilot.press("e")
        assert not table.collapsed and len(table.keys) == len(walk_tasks(app.snapshot))


@pytest.mark.slow
async def test_incremental_search_and_next_previous(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        snap = app.snapshot
        hosts = [k for k in table.keys
                 if "compo" in (snap.processes.get(k) or snap.jobs[k]).name.casefold()]
        await pilot.press("slash", *"compo")
        assert table.cursor_key == hosts[0]
        await pilot.press("enter")
        assert table.has_focus and table.needle == "compo"
        await pilot.press("n")
        assert table.cursor_key == hosts[1]
        await pilot.press("N", "N")
        assert table.cursor_key == hosts[-1]  # wraps around
        assert any("compo" in line for line in lines(table))
        await pilot.press("slash", *"compo", "escape")  # cancel: back where it started
        assert table.cursor_key == hosts[-1] and table.needle == "compo"
        await pilot.press("escape")  # clear the highlight
        assert table.needle == ""


@pytest.mark.slow
async def test_search_cancel_returns_to_the_start(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        start = table.cursor_key
        await pilot.press("slash", *"netstack")
        assert table.cursor_key != start
        await pilot.press("escape")
        assert table.cursor_key == start and table.needle == ""


@pytest.mark.slow
async def test_search_finds_a_process_inside_a_collapsed_job(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        snap = app.snapshot
        await pilot.press("c")
        target = next(p for p in snap.processes.values() if p.name == "memory_monitor.cm")
        assert target.koid not in table.keys
        await pilot.press("slash", *"memory_monitor", "enter")
        assert table.cursor_key == target.koid
        await pilot.press("slash", *str(target.koid), "enter")  # by koid too
        assert table.cursor_key == target.koid


@pytest.mark.slow
async def test_filter_keeps_matches_with_ancestors(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        snap = app.snapshot
        await pilot.press("backslash", *"driver_host", "enter")
        hosts = {p.koid for p in snap.processes.values() if "driver_host" in p.name}
        procs = {k for k in table.keys if k in snap.processes}
        assert procs == hosts
        assert snap.root_job in table.keys
        assert "filter 'driver_host'" in table.border_subtitle
        await pilot.press("full_stop")  # a tick keeps the filter
        assert {k for k in table.keys if k in app.snapshot.processes} == hosts
        await pilot.press("backslash", "backspace", "escape")  # cancel an edit: filter stays
        assert table.filter_text == "driver_host"
        await pilot.press("escape")  # Escape on the tree clears it
        assert table.filter_text == "" and len(table.keys) == len(walk_tasks(app.snapshot))


@pytest.mark.parametrize("size", [(160, 50), (80, 24)])
async def test_u_cycles_one_unit_for_every_size(make_app, size):
    """Auto (each size in its own unit, as ps), then KiB, MiB, GiB, grouped bytes, auto."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        table = app.screen.query_one(TaskTable)
        root = app.snapshot.root_job
        pss = table.figures.total(root)[0]
        auto = lines(table, 2)[1]
        assert format_size(pss) in auto and "MiB" not in header_text(app)
        for unit, name in (("k", "KiB"), ("M", "MiB"), ("G", "GiB")):
            await pilot.press("u")
            assert app.unit == unit and f" {name} " in header_text(app)
            row = lines(table, 2)[1]
            assert f" {format_size(pss, unit)} " in row
            assert all(text.endswith(unit) for text in row.split()[3:5])  # PSS, PRIVATE
        await pilot.press("u")
        assert app.unit == "B" and " bytes " in header_text(app)
        assert f" {pss:,}B " in lines(table, 2)[1]  # digits grouped, and the column holds them
        total = header_text(app).split("total ")[1].split()[0]
        assert total == f"{app.snapshot.kmem.total_bytes:,}B"
        await pilot.press("u")
        assert app.unit == "" and lines(table, 2)[1] == auto


async def test_units_from_the_command_line(make_app):
    app = make_app(unit="M")
    async with app.run_test(size=(120, 40)):
        table = app.screen.query_one(TaskTable)
        assert table.unit == "M" and " MiB " in header_text(app)
        pss = table.figures.total(app.snapshot.root_job)[0]
        assert f" {format_size(pss, 'M')} " in lines(table, 2)[1]


async def test_deltas_line_up_arrows_left_and_sizes_right(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.screen.query_one(TaskTable)
        await pilot.press("full_stop", "full_stop", "full_stop")
        width = next(c.width for c in table.columns if c.key == "delta")
        moved = [table.cells(k)[5].text for k in table.keys if table.cells(k)[5].text]
        assert len(moved) >= 2
        assert {len(text) for text in moved} == {width}
        assert all(text[0] in "▲▼" and text[-1] in "kMGB" for text in moved)


async def test_values_that_changed_are_marked(make_app):
    app = make_app()
    async with app.run_test(size=(140, 60)) as pilot:
        table = app.screen.query_one(TaskTable)
        for _ in range(3):
            await pilot.press("full_stop")
        delta = app.figures.delta
        koid = next(k for k in table.keys if delta(k))
        cells = table.cells(koid)
        arrow = "▲" if delta(koid) > 0 else "▼"
        assert cells[5].text.startswith(arrow)
        assert cells[1].style == ("line-table--rise" if delta(koid) > 0 else "line-table--fall")


def drawn(widget: Widget, cache: StylesCache | None = None) -> list[list[Segment]]:
    """Every line of `widget` as `cache` styles it (by default the widget's own cache)."""
    cache = widget._styles_cache if cache is None else cache
    return [list(strip) for strip in cache.render_widget(widget, widget.outer_size.region)]


def spy_repaints(monkeypatch, widget: Widget) -> list[list[Region] | None]:
    """Each repaint `widget` asks Textual for, as it asks (past its own `refresh`): its
    regions, or None for the whole widget."""
    asked: list[list[Region] | None] = []
    refresh = Widget.refresh

    def record(target, *regions, **kwargs):
        if target is widget:
            asked.append(list(regions) or None)
        return refresh(target, *regions, **kwargs)

    monkeypatch.setattr(Widget, "refresh", record)
    return asked


async def test_a_tick_repaints_exactly_the_rows_whose_text_changed(make_app, monkeypatch):
    """Rows that came or went too: the lines that changed, and the bottom border for the
    row count, not the whole pane (nor the whole screen for a new row count)."""
    app = make_app()
    async with app.run_test(size=(140, 60)) as pilot:
        await pilot.pause()  # laid out
        table = app.screen.query_one(TaskTable)
        asked = spy_repaints(monkeypatch, table)
        border = table.outer_size.height - 1 - table.content_offset.y
        checked = shaped = 0
        for _ in range(30):
            before, count = lines(table), table.border_subtitle
            asked.clear()
            app.action_step()
            repainted = [region for regions in asked for region in regions or [None]]
            checked += 1
            shaped += shape_changed(app.snapshot)
            after = lines(table)
            assert None not in repainted  # no repaint of the whole pane
            thumb = table.scrollable_content_region.width  # the right border's cells
            assert {r.y for r in repainted if r.y != border and r.x != thumb} == {
                y for y in range(1, len(after)) if after[y] != before[y]}
            assert any(r.y == border for r in repainted) == (table.border_subtitle != count)
            assert all(r.height == 1 for r in repainted)
            assert not table.screen._layout_required
        assert checked == 30 and shaped >= 2


async def test_the_tree_draws_its_lines_as_textuals_own_styling_does(make_app):
    """BoxStylesCache's quick content lines are the segments Textual's StylesCache gives,
    focused or not, and a box that is not plain (a tint) takes Textual's own path."""
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(TaskTable)
        assert isinstance(table._styles_cache, BoxStylesCache)
        for _ in range(2):
            assert drawn(table, BoxStylesCache()) == drawn(table, StylesCache())
            table.blur() if table.has_focus else table.focus()  # the border's colours change
            await pilot.pause()
        table.styles.tint = "red 20%"
        await pilot.pause()
        assert drawn(table, BoxStylesCache()) == drawn(table, StylesCache())


async def test_widgets_with_nothing_to_repaint_give_the_lines_textual_would(make_app):
    """A repaint of some lines of the tree asks every widget for all of its lines: those
    with none dirty give their last lines again, which are Textual's own, through ticks,
    units, focus and themes."""
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(TaskTable)
        widgets = [table, app.screen.query_one(KeyFooter), app.screen.query_one(KstatsHeader),
                   app.screen]
        moves = [app.action_step, app.action_toggle_units, table.blur, table.focus,
                 app.action_next_theme, app.action_next_theme, app.action_step]
        kept = 0
        for move in moves:
            move()
            await pilot.pause()
            for widget in widgets:
                cache = widget._styles_cache
                assert isinstance(cache, KeptStylesCache)
                kept += cache._kept is not None
                textuals = as_textual_draws(table) if widget is table else drawn(
                    widget, StylesCache())
                assert drawn(widget) == textuals
        assert kept


def as_textual_draws(table: TaskTable) -> list[list[Segment]]:
    """The table's lines as Textual's own styling draws them, with the scroll thumb in the
    right border on the lines the table says."""
    lines = drawn(table, StylesCache())
    top = table.content_offset.y
    for line in table._thumb():
        lines[top + line][-1] = lines[top + line][-1]._replace(text=THUMB)
    return lines


async def test_the_scroll_thumb_in_the_right_border_follows_the_view(make_app):
    """The thumb is as long as the view is of the rows; it starts on the first line at the
    top, moves down as pages scroll and ends on the last line at the end; the pane reads
    as Textual's styling draws it with the thumb there, and no scrollbar takes a column."""
    app = make_app(autostart=False)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(TaskTable)
        lines, rows = table.scrollable_content_region.height, len(table.keys) + 1
        thumb = table._thumb()
        assert thumb.start == 0 and len(thumb) == round(lines * lines / rows) > 0
        starts = []
        # (the first page down only takes the cursor to the view's last row)
        for key in ("pagedown", "pagedown", "pagedown", "end", "home"):
            await pilot.press(key)
            await pilot.pause()
            starts.append(table._thumb().start)
            assert len(table._thumb()) == len(thumb)
            assert drawn(table) == as_textual_draws(table)
        assert 0 < starts[1] < starts[2] < starts[3] == lines - len(thumb)
        assert starts[4] == 0
        assert table.scrollbar_size_vertical == 0  # no scrollbar's column beside the border


async def test_a_new_row_count_repaints_the_border_cells_whose_thumb_moved(make_app,
                                                                            monkeypatch):
    """Rows that go lengthen the thumb: the right border's cells that change repaint, one
    by one, not the whole pane, which then reads with the thumb where the table says."""
    app = make_app(autostart=False)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(TaskTable)
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        asked = spy_repaints(monkeypatch, table)
        before, scroll = table._thumb(), table.scroll_y
        table.set_keys(table.keys[:60], repaint=False)
        assert table.scroll_y == scroll and table._thumb() != before
        assert None not in asked  # never the whole pane
        border = table.scrollable_content_region.width
        cells = [r for regions in asked for r in regions if r.x == border]
        assert all(r.width == r.height == 1 for r in cells)
        assert {r.y for r in cells} == set(before) ^ set(table._thumb())
        await pilot.pause()
        assert drawn(table) == as_textual_draws(table)


async def test_the_thumb_drags_and_the_wheel_scrolls(make_app):
    """A press on the right border puts the view at that place (the last line: the end),
    the view follows the mouse until it is let go; the wheel scrolls a pane that has no
    scrollbar widget."""
    app = make_app(autostart=False)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(TaskTable)
        x, top = table.outer_size.width - 1, table.content_offset.y
        last = top + table.scrollable_content_region.height - 1
        await pilot.mouse_down(TaskTable, offset=(x, last))
        await pilot.pause()
        assert table.scroll_y == table.max_scroll_y > 0
        await pilot.hover(TaskTable, offset=(x, (top + last) // 2))
        await pilot.pause()
        assert 0 < table.scroll_y < table.max_scroll_y
        await pilot.hover(TaskTable, offset=(x, top))
        await pilot.pause()
        assert table.scroll_y == 0
        await pilot.mouse_up(TaskTable, offset=(x, top))
        await pilot.hover(TaskTable, offset=(x, last))  # let go: the view stays
        await pilot.pause()
        assert table.scroll_y == 0
        table.post_message(events.MouseScrollDown(table, 5, 5, 0, 1, 0, False, False, False))
        await pilot.pause()
        assert table.scroll_y > 0


async def test_a_cursor_move_repaints_its_two_lines_unless_the_view_scrolls(make_app, monkeypatch):
    app = make_app(autostart=False)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(TaskTable)
        asked = spy_repaints(monkeypatch, table)

        def lines_repainted() -> list[list[int] | None]:
            return [sorted(r.y for r in regions) if regions else None for regions in asked]

        await pilot.press("down")
        assert table.cursor == 1 and lines_repainted() == [[1, 2]]  # line 0 is the header
        rows = table.scrollable_content_region.height - 1
        for _ in range(rows - 2):
            await pilot.press("down")
        asked.clear()
        await pilot.press("down")  # past the last line shown: the view scrolls
        assert None in lines_repainted() and round(table.scroll_y) == 1
        asked.clear()
        await pilot.press("up")
        assert lines_repainted() == [[rows - 1, rows]]


async def test_a_tick_repaints_the_header_lines_whose_text_changed(make_app, monkeypatch):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        header = app.screen.query_one(KstatsHeader)
        asked = spy_repaints(monkeypatch, header)
        kept = 0
        for _ in range(20):
            before = header.text.splitlines()
            asked.clear()
            app.action_step()
            repainted = [[r.y for r in regions] if regions else None for regions in asked]
            after = header.text.splitlines()
            assert repainted == [[y for y in range(3) if before[y] != after[y]]]
            kept += len(repainted[0]) < 3
        assert kept  # some ticks leave a line as it was


@pytest.mark.parametrize("scenario", ["default", "churn", "leak"])
async def test_rows_kept_from_tick_to_tick_read_as_rows_formatted_afresh(make_app, scenario):
    """The tree formats a row again only when what it shows changed: whatever it kept
    reads as the row formatted afresh, tick after tick, through a watchdog, units, the
    sparklines, handle counts by type and folds."""
    app = make_app(scenario)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        # on ticks that keep the growth column (worked out again every 5 from the 8th)
        moves = {11: lambda: app.watchdog.set(1), 12: app.action_toggle_units,
                 16: table.action_toggle_sparklines, 17: table.action_toggle_handles,
                 21: table.action_toggle_handles, 26: app.action_toggle_units,
                 22: lambda: table.toggle(app.snapshot.root_job),
                 23: lambda: table.toggle(app.snapshot.root_job)}
        reused = 0
        for tick in range(30):
            before = {key: cells for key, (_, cells) in table._formatted.items()}
            moves.get(tick, lambda: None)()
            app.action_step()
            await pilot.pause()
            shown = [table.cells(key) for key in table.keys]
            reused += sum(cells is before.get(key) for key, cells in zip(table.keys, shown))
            kept, table._formatted = table._formatted, {}
            assert shown == [table.cells(key) for key in table.keys], tick
            table._formatted = kept
        assert reused


async def test_lines_of_rows_that_went_are_drawn_blank(make_app):
    """A tick repaints the lines that changed: those whose rows went are among them."""
    app = make_app()
    async with app.run_test(size=(140, 60)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(TaskTable)
        names = [app.figures.name(table.slots[key].kind, key) for key in table.keys[:20]]
        table.set_keys(table.keys[:20])  # they fit: no scrollbar to come or go
        await pilot.pause()
        table.set_keys(table.keys[:5], repaint=False)
        await pilot.pause()
        top = table.region.y + 2  # under the border and the column titles
        screen = [strip.text for strip in app.screen._compositor.render_strips()]
        shown = "\n".join(screen[top:top + 20])
        assert all(name in shown for name in names[:5])
        assert not any(name in shown for name in names[5:] if name not in names[:5])


@pytest.mark.slow
async def test_resize_small_large_and_back(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(TaskTable)
        assert table.region.width == 80
        first = lines(table, 2)[1]
        assert "root" in first  # the name column still shows at 80 columns
        for size in ((20, 5), (300, 100), (80, 24), (1, 1)):
            await pilot.resize_terminal(*size)
            await pilot.press("full_stop", "down", "end", "home")
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert table.cursor == 0


async def test_quit(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        assert app._exit  # noqa: SLF001 - the app has been asked to exit


async def test_names_are_escaped_before_they_reach_the_terminal(make_app):
    from msgspec import structs

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        snap = app.snapshot
        proc = next(iter(snap.processes.values()))
        evil = structs.replace(proc, name="evil\x1b[2J\x07name")
        app.deliver(structs.replace(snap, tick=1, processes={**snap.processes, proc.koid: evil}))
        table = app.screen.query_one(TaskTable)
        table.move_to(proc.koid)
        await pilot.pause()
        row = next(line for line in lines(table) if f"p: {proc.koid}" in line)
        assert "evil\\x1b[2J\\x07name" in row and "\x1b" not in row
        assert "\\x1b" in app.describe_koid(proc.koid)


async def test_footer_shows_the_screen_keys_and_runs_them_on_click(make_app):
    from zmtop.tui.widgets.key_footer import KeyFooter

    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        footer = app.screen.query_one(KeyFooter)
        text = footer.render().plain
        for words in ("Open", "Sort", "Search", "Filter", "Quit", "Pause", "Help"):
            assert words in text
        x = text.index("Help")
        await pilot.click(KeyFooter, offset=(x, 0))
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"


async def test_an_unnamed_job_says_what_it_runs(make_app):
    """ps leaves a component's job blank, as the device does; the tree names its program."""
    app = make_app()
    async with app.run_test(size=(120, 40)):
        table = app.screen.query_one(TaskTable)
        snap = app.snapshot
        netstack = next(p for p in snap.processes.values() if p.name == "netstack.cm")
        assert snap.jobs[netstack.job_koid].name == ""
        name = table.cells(netstack.job_koid)[-1]
        assert (name.text, name.style) == ("(netstack.cm)", "line-table--dim")
        named = next(j for j in snap.jobs.values() if j.name == "zircon-drivers")
        assert table.cells(named.koid)[-1].text == "zircon-drivers"


@pytest.mark.parametrize("width", [160, 80, 60])
async def test_help_and_the_palette_stay_in_the_footer_at_any_width(make_app, width):
    app = make_app()
    async with app.run_test(size=(width, 24)):
        footer = app.screen.query_one(KeyFooter).render().plain
        assert footer.rstrip().endswith("? Help  ^p palette")
        assert len(footer) <= width and "⏎ Open" in footer


async def test_htops_function_keys(make_app):
    """F1 help, F3 search, F4 filter, F6 sort, F10 quit, as htop has them."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("f1")
        assert isinstance(app.screen, MainScreen)
        bar = app.screen.query_one("FindBar")
        for key, mode in (("f3", "search"), ("f4", "filter")):
            await pilot.press(key)
            assert bar.has_focus and bar.mode == mode
            await pilot.press("escape")
        table = app.screen.query_one(TaskTable)
        before = table.sort_key
        await pilot.press("f6")
        assert table.sort_key != before
        await pilot.press("f10")
        await pilot.pause()
    assert app.return_code == 0


@pytest.mark.parametrize("focus_find_bar", [False, True])
async def test_ctrl_c_quits_even_from_a_prompt(make_app, focus_find_bar):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        if focus_find_bar:
            await pilot.press("slash", "a")
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not app.is_running


async def test_a_column_title_explains_its_column(make_app):
    """Hovering a title shows its glossary line; every column of the tree has one."""
    from zmtop.tui.glossary import explain

    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        for by_type in (False, True):
            if by_type:
                await pilot.press("H")
            assert all(explain(c.title) for c in table.columns)
        await pilot.hover(TaskTable, offset=(25, 1))  # over PSS, inside the border
        await pilot.pause()
        assert table.tooltip == explain("PSS") and "ps" in table.tooltip
        await pilot.hover(TaskTable, offset=(25, 4))  # over a row: no tooltip
        await pilot.pause()
        assert table.tooltip is None


@pytest.mark.parametrize("width, rows", [(160, 3), (80, 3), (60, 4)])
async def test_the_header_keeps_rows_for_the_tree_on_narrow_terminals(make_app, width, rows):
    """At 80 columns the memory bar shares the counters' last line."""
    app = make_app()
    async with app.run_test(size=(width, 24)):
        lines = header_text(app).split("\n")
        assert len(lines) == rows and "mem " in lines[-1] and "% used" in lines[-1]
        for label in ("total", "other", "free"):
            assert label in header_text(app)


async def test_collapse_all_selects_the_collapsed_ancestor_of_the_selection(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        snap = app.snapshot
        drivers = next(j for j in snap.jobs.values() if j.name == "zircon-drivers")
        await pilot.press("slash", *"zircon-drivers", "enter")
        assert table.cursor_key == drivers.koid
        await pilot.press("c")
        top = drivers.parent_koid  # the driver manager's job, under the root job
        assert snap.jobs[top].parent_koid == snap.root_job
        assert table.cursor_key == top and top in table.collapsed
