"""Tables as htop users read them: whole titles, columns that fit and keep still, tree
lines and the flat list, clicks that open what they chose."""

from __future__ import annotations

import pytest

from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.sources.detect import parse_source
from zmtop.tui.widgets.find_bar import FindBar
from zmtop.tui.widgets.line_table import LineTable
from zmtop.tui.widgets.task_table import TaskTable
from zmtop.tui.widgets.vmo_tables import SystemVmoTable
from zmtop.viewmodels.task_rows import Figures, job_runs
from zmtop.viewmodels.tree_order import TreeOrder


def lines(table, count: int = 200) -> list[str]:
    return [table.render_line(y).text for y in range(min(count, table.size.height))]


def header(table) -> str:
    return table.render_line(0).text


@pytest.mark.parametrize("size", [(160, 50), (80, 24)])
async def test_a_sorted_title_keeps_every_letter_beside_its_arrow(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        tables: list[LineTable] = [app.screen.query_one(TaskTable)]
        await pilot.press("v")
        tables.append(app.screen.query_one(SystemVmoTable))
        for table in tables:
            shown = {c.key for _, c, _ in table._layout(table.scrollable_content_region.width)}
            for column in table.columns:
                if column.key not in shown:
                    continue
                table.sort_by(column.key)
                arrow = "▲" if table._ascending(column) else "▼"
                assert f"{column.title}{arrow}" in header(table), column.title


@pytest.mark.slow
async def test_the_handle_column_holds_the_root_jobs_count_at_scale(make_app):
    app = make_app("scale")
    async with app.run_test(size=(160, 50)):
        table = app.screen.query_one(TaskTable)
        count = table.figures.handles(app.snapshot.root_job)[0]
        assert count >= 100_000
        root = lines(table, 2)[1]
        assert f" {count} " in root and "…" not in root


@pytest.mark.parametrize(("size", "keys"), [((80, 24), ("H",)), ((60, 15), ()),
                                            ((60, 15), ("H",)), ((50, 15), ())])
async def test_name_is_the_last_column_to_go(make_app, size, keys):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press(*keys)
        table = app.screen.query_one(TaskTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width
        top = lines(table, 2)
        assert "NAME" in top[0] and "root" in top[1]
        assert top[0].startswith("TASK")


async def test_folding_moves_no_column(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.screen.query_one(TaskTable)
        unfolded = header(table)
        deepest = max(slot.depth for slot in table.slots.values())
        await pilot.press("c")  # only the root's children show: the shallowest rows
        assert max(slot.depth for slot in table.slots.values()) == 1 < deepest
        assert header(table) == unfolded
        await pilot.press("e")
        assert header(table) == unfolded


def test_tree_lines_are_drawn_as_htop_does():
    """At each depth above a row: `│ ` if that ancestor has a sibling still to come, then
    `├─` if the row has, else `└─`; read off the flat rows by depth."""
    snap = Simulation("default", 1).snapshot
    order = TreeOrder(Figures(snap), sort="pss")
    rows = order.rows()
    depths = [slot.depth for slot in rows]

    def more_after(i: int, depth: int) -> bool:  # a row at `depth` before one above it
        later = next((d for d in depths[i + 1:] if d <= depth), -1)
        return later == depth

    for i, slot in enumerate(rows):
        above = [max(j for j in range(i) if depths[j] == d) for d in range(1, slot.depth)]
        want = "".join("│ " if more_after(at, d) else "  "
                       for d, at in enumerate(above, 1))
        if slot.depth:
            want += "├─" if more_after(i, slot.depth) else "└─"
        assert order.lines(slot.koid) == want
    assert {order.lines(slot.koid)[-2:] for slot in rows if slot.depth} == {"├─", "└─"}


async def test_the_tree_has_lines_and_fold_markers(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.screen.query_one(TaskTable)
        root = app.snapshot.root_job
        child = app.snapshot.jobs[root].jobs[0]
        assert table.cells(root)[0].text == f"▾ j: {root}"
        assert table.cells(child)[0].text.endswith(f"─▾ j: {child}")
        process = next(k for k in table.keys if table.slots[k].depth == 2
                       and table.slots[k].kind == "p")
        assert table.cells(process)[0].text.startswith(("│ ├── p: ", "│ └── p: ",
                                                        "  ├── p: ", "  └── p: "))
        table.move_to(child)
        await pilot.press("left")
        assert table.cells(child)[0].text.endswith(f"─▸ j: {child}")
        last = [k for k in table.keys if table.slots[k].depth == 1][-1]
        assert table.cells(last)[0].text.startswith("└─")


async def test_f5_lists_every_process_flat_in_the_sort_order(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.screen.query_one(TaskTable)
        snap = app.snapshot
        await pilot.press("f5")
        assert table.keys == sorted(snap.processes)
        assert table.cells(table.keys[0])[0].text == f"p: {table.keys[0]}"
        table.sort_by("pss")
        pss = [snap.processes[k].pss_bytes for k in table.keys]
        assert pss == sorted(pss, reverse=True) and len(pss) == len(snap.processes)
        await pilot.press("f5")
        assert snap.root_job in table.keys


async def test_a_double_click_opens_the_row_its_first_click_chose(make_app, monkeypatch):
    """A live sort may move rows between the two clicks: the second opens what the first
    selected, not the row that moved under the pointer."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        first_click = LineTable.on_click

        def click_then_tick(self, event) -> None:
            first_click(self, event)
            if event.chain == 1:
                self.set_keys(self.keys[::-1])  # as a tick re-sorting the rows would

        monkeypatch.setattr(LineTable, "on_click", click_then_tick)
        chosen = table.keys[1]
        assert chosen in app.snapshot.processes
        await pilot.double_click(TaskTable, offset=(4, 3))
        await pilot.pause()
        assert type(app.screen).__name__ == "ProcessScreen"
        assert app.screen.koid == chosen


async def test_one_row_is_one_row(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        await pilot.press("f5", "backslash", *"component_manager", "enter")
        assert [app.snapshot.processes[k].name for k in table.keys] == ["bin/component_manager"]
        assert table.border_subtitle.startswith("1 row ·")


def marked(table, key) -> list[str]:
    """The text of a row drawn in the search match's style."""
    match = table._look("line-table--match").bgcolor
    y = table.keys.index(key) - round(table.scroll_y) + 1
    return [s.text for s in table.render_line(y) if s.style and s.style.bgcolor == match]


async def test_search_marks_the_match_inside_the_name_and_counts_as_you_type(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        bar = app.screen.query_one(FindBar)
        snap = app.snapshot
        await pilot.press("slash", *"NetSt")
        names = [p.name for p in (*snap.processes.values(), *snap.jobs.values())]
        found = sum("netst" in name.casefold() for name in names)
        assert found > 1 and bar.border_subtitle == f"{found} matches"
        first = table.cursor_key
        name = table.figures.name(table.slots[first].kind, first)
        at = name.casefold().index("netst")
        assert marked(table, first) == [name[at:at + 5]]  # on the cursor's row too
        await pilot.press("down")
        other = next(k for k in table.keys if k != table.cursor_key
                     and "netst" in table.search_text(k))
        assert marked(table, other) == ["netst"]
        await pilot.press(*"ack.c")
        assert bar.border_subtitle in {"1 match", f"{found} matches"}
        await pilot.press(*"zzz")
        assert bar.border_subtitle == "not found"
        await pilot.press(*["backspace"] * 13)
        assert bar.border_subtitle == ""
        koid = str(snap.root_job)
        await pilot.press(*koid)
        assert marked(table, snap.root_job) == [koid]  # a koid is marked in TASK
        assert bar.border_subtitle.endswith(("match", "matches"))



def test_an_unnamed_job_is_named_by_its_first_process_or_child_job():
    """Imports have unnamed jobs over unnamed jobs: each says what the first one below runs."""
    def task(kind: str, koid: int, parent: str, name: str) -> str:
        figures = ', "private_bytes": 1, "shared_bytes": 0, "pss_bytes": 1' if kind == "p" else ""
        return (f'{{"id": "{kind}/{koid}", "type": "{kind}", "koid": {koid}, '
                f'"parent": "{parent}", "name": "{name}"{figures}}}')

    records = [task("j", 1, "kernel/vmo", "root"), task("j", 2, "j/1", ""),
               task("j", 3, "j/2", ""), task("p", 4, "j/3", "foo.cm"),
               task("j", 5, "j/1", ""), task("j", 6, "j/5", "named"),
               task("p", 7, "j/6", "bar"), task("j", 8, "j/1", "")]
    snap = parse_source(f"[{', '.join(records)}]".encode(), "plain").snapshot
    assert [job_runs(snap, koid) for koid in (2, 3, 5, 6, 8)] == [
        "foo.cm", "foo.cm", "named", "bar", ""]
    figures = Figures(snap)
    assert (figures.runs(2), figures.runs(8)) == ("(foo.cm)", "")


@pytest.mark.parametrize("keys", [(), ("K",), ("v",)])
async def test_no_scrollbar_thumb_is_left_after_shrinking_to_60x15(make_app, keys):
    """A table too wide for its pane scrolled sideways, and its scrollbar's thumb (`▊`)
    stood alone in the last row like a stray character; tables now fit their panes."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press(*keys)
        await pilot.resize_terminal(60, 15)
        await pilot.pause()
        screen = [strip.text for strip in app.screen._compositor.render_strips()]
        assert not set("▉▊▋▌▍▎▏") & set("".join(screen))
        for table in app.screen.query(LineTable):
            if table.region.width:  # not hidden at this width (the kernel's handle totals)
                assert table.virtual_size.width <= table.scrollable_content_region.width


async def test_a_page_down_and_back_draws_no_line_anew_in_a_tall_terminal(make_app):
    """A table keeps two screens of rendered lines, however tall the terminal: coming back
    from the next page finds the lines of the first one drawn already, bar the two the
    cursor moved between."""
    app = make_app()
    async with app.run_test(size=(160, 100)) as pilot:
        table = app.screen.query_one(TaskTable)
        assert len(table.keys) > table.size.height  # a second page to go to
        await pilot.press("pagedown")
        await pilot.pause()
        misses = table._cache.misses
        await pilot.press("pageup")
        await pilot.pause()
        assert table._cache.misses - misses <= 2
