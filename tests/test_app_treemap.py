"""The memory map: a zoomable treemap of physical memory, by keyboard and mouse."""

from __future__ import annotations

import pytest

from zmtop.engine.formats.treemap import Node, build_tree, label
from zmtop.engine.formats.treemap_layout import Tile
from zmtop.tui.screens.main import MainScreen
from zmtop.tui.screens.treemap import TreemapScreen
from zmtop.tui.widgets.treemap_view import TreemapView, kind, neighbour


async def open_map(app, pilot, ticks: int = 0) -> TreemapView:
    for _ in range(ticks):
        await pilot.press("full_stop")
    await pilot.press("M")
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert isinstance(app.screen, TreemapScreen)
    return app.screen.query_one(TreemapView)


def text(view: TreemapView) -> list[str]:
    return [view.render_line(y).text for y in range(view.size.height)]


def test_neighbour_prefers_overlapping_rectangles():
    a, b, c, d = (Node(n, "p", n, 1) for n in "abcd")
    cells = [Tile(a, 0, 0, 10, 10, 1), Tile(b, 10, 0, 10, 4, 1), Tile(c, 10, 4, 10, 6, 1),
             Tile(d, 0, 10, 20, 3, 1)]
    assert neighbour(cells, cells[0], 1, 0).node is c  # both overlap; c is nearer the middle
    assert neighbour(cells, cells[1], 0, 1).node is c
    assert neighbour(cells, cells[1], -1, 0).node is a
    assert neighbour(cells, cells[0], 0, 1).node is d
    assert neighbour(cells, cells[0], -1, 0) is None


async def test_the_map_shows_physical_memory_with_labels(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        view = await open_map(app, pilot, ticks=2)
        assert view.has_focus and view.path == []
        root = build_tree(app.snapshot)
        lines = text(view)
        assert lines[0].startswith(label(root))
        top = view.top
        assert {c.node.id for c in top} <= {c.id for c in root.children}
        assert view.selected == top[0].node.id == "kernel/free"  # the largest first
        assert kind(top[0].node) == "free"
        assert label(top[0].node) in lines[1]
        width, height = view.size.width, view.size.height - 1
        for c in view.cells:
            assert 0 <= c.x and c.x + c.w <= width and 0 <= c.y and c.y + c.h <= height
        assert any(c.depth == 2 and c.node.type == "j" for c in view.cells)  # root job inside


@pytest.mark.slow
async def test_zoom_in_and_out_with_the_keyboard(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        view = await open_map(app, pilot)
        view.select("kernel/vmo")
        await pilot.press("enter")
        assert view.path == ["kernel/vmo"]
        root_job = view.zoomed.children[0]
        assert view.selected == root_job.id and root_job.name == "root job"
        await pilot.press("enter")
        assert view.path == ["kernel/vmo", root_job.id]
        assert f"› {label(root_job)}" in text(view)[0]
        big = view.selected_cell.node
        assert big.area == max(c.area for c in root_job.children)
        process = next(c for c in view.top if c.node.type == "p").node
        view.select(process.id)
        await pilot.press("enter")
        assert view.zoomed is not None and view.zoomed.id == process.id
        assert all(c.node.type in ("vmo", "") for c in view.top)
        await pilot.press("enter")  # a VMO group has nothing inside: no zoom
        assert view.zoomed.id == process.id
        await pilot.press("backspace")
        assert view.path == ["kernel/vmo", root_job.id] and view.selected == process.id
        await pilot.press("escape", "escape")
        assert view.path == [] and view.selected == "kernel/vmo"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_arrows_move_the_selection_among_visible_rectangles(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        view = await open_map(app, pilot)
        view.select("kernel/vmo")
        await pilot.press("enter", "enter")
        seen = {view.selected}
        for key in ("right", "down", "down", "left", "up", "right", "right"):
            before = view.selected_cell
            await pilot.press(key)
            after = view.selected_cell
            assert after in view.top
            if after is not before:
                dx = {"right": 1, "left": -1}.get(key, 0)
                dy = {"down": 1, "up": -1}.get(key, 0)
                assert neighbour(view.top, before, dx, dy) is after
            seen.add(view.selected)
        assert len(seen) >= 3
        selected = view.selected_cell
        row = view.render_line(1 + selected.y)
        backgrounds = {segment.style.bgcolor for segment in row if segment.style}
        selected_style = view.get_component_rich_style("treemap--selected", partial=True)
        assert selected_style.bgcolor in backgrounds


async def test_mouse_selects_zooms_and_the_breadcrumb_zooms_out(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        view = await open_map(app, pilot)
        vmo = next(c for c in view.top if c.node.id == "kernel/vmo")
        at = (vmo.x + 1, vmo.y + 1)  # the content starts one cell in, then the breadcrumb
        await pilot.click(TreemapView, offset=(at[0] + 1, at[1] + 2))
        assert view.selected == "kernel/vmo" and view.path == []
        await pilot.double_click(TreemapView, offset=(at[0] + 1, at[1] + 2))
        assert view.path == ["kernel/vmo"]
        await pilot.click(TreemapView, offset=(2, 1))  # "All physical memory" in the breadcrumb
        assert view.path == [] and view.selected == "kernel/vmo"


@pytest.mark.slow
async def test_resize_and_new_snapshots_keep_the_zoom(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        view = await open_map(app, pilot)
        view.select("kernel/vmo")
        await pilot.press("enter", "enter")
        path = list(view.path)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        width, height = view.size.width, view.size.height - 1
        assert width < 100
        assert all(c.x + c.w <= width and c.y + c.h <= height for c in view.cells)
        for _ in range(3):
            await pilot.press("full_stop")
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert view.path == path
        assert view.root is not None and view.root.area == app.snapshot.kmem.total_bytes
        gone = build_tree(app.snapshot)
        gone.children[1].children = []  # the root job went: zoom back up to what exists
        view.set_tree(gone)
        assert view.path == ["kernel/vmo"]


async def test_labels_escape_control_characters(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_map(app, pilot)
        root = Node("kernel/physmem", "kernel", "All physical memory", 100)
        root.children = [Node("p/1", "p", "evil\x1b[2Jname", 100, koid=1)]
        view.set_tree(root)
        await pilot.pause()
        lines = "\n".join(text(view))
        assert "\x1b" not in lines and "evil\\x1b[2Jname" in lines


async def test_an_unnamed_job_says_what_it_runs_dimmed(make_app):
    """Zircon leaves a component's job unnamed: its rectangle names the component, in
    parentheses and in its own style, as the job tree does; the exported page keeps ps's
    empty name."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        view = await open_map(app, pilot)
        view.select("kernel/vmo")
        await pilot.press("enter", "enter")  # into the root job
        snap = app.snapshot
        netstack = next(p for p in snap.processes.values() if p.name == "netstack.cm")
        job = next(c for c in view.cells if c.node.koid == netstack.job_koid
                   and c.node.type == "j")
        assert job.node.name == "" and label(job.node).startswith("UNNAMED")
        caption = view.caption(job.node)[0]
        assert caption.startswith("(netstack.cm) (")
        row = view.render_line(job.y + 1)
        runs = view._style(kind(job.node), "runs")
        drawn = "".join(s.text for s in row if s.style == runs)
        assert caption[:job.w - 2] in drawn
        view.select(job.node.id)
        assert view.border_subtitle.startswith("(netstack.cm) (")
