"""The kernel screen: kstats graphs over ticks, the kernel aspace tree, hidden VMOs, handles."""

from __future__ import annotations

from collections import Counter

import pytest

from zmtop.engine.formats.kernel_aspace import kernel_aspace, kernel_only_vmos
from zmtop.engine.formats.kzx import handle_counts
from zmtop.engine.formats.psutils import hidden_vmos
from zmtop.tui.screens.kernel import KernelScreen
from zmtop.tui.screens.main import MainScreen
from zmtop.tui.screens.vmo import VmoScreen
from zmtop.tui.widgets.aspace_tree import AspaceTree
from zmtop.tui.widgets.header import kstats_fields
from zmtop.tui.widgets.kernel_tables import PS_COLUMN, HandleTotalsTable, HiddenVmoTable
from zmtop.tui.widgets.kstats_graphs import BRAILLE, KstatsGraphs, braille_graph

FULL = chr(0x28FF)


async def open_kernel(app, pilot, ticks: int = 0) -> KernelScreen:
    for _ in range(ticks):
        await pilot.press("full_stop")
    await pilot.press("K")
    await pilot.pause()
    assert isinstance(app.screen, KernelScreen)
    return app.screen


def test_braille_graph_fills_from_the_bottom_newest_at_the_right():
    assert braille_graph([], 3, 1) == [chr(BRAILLE) * 3]
    top, bottom = braille_graph([0, 1, 2, 3, 4, 5, 6, 7], 6, 2)
    assert len(top) == len(bottom) == 6
    assert top[:2] == bottom[:2] == chr(BRAILLE) * 2  # 8 samples fill the right 4 cells
    assert bottom[-1] == FULL and top[-1] == chr(0x28FF & ~0x01)  # 7 of 8 dots, then all 8
    assert bottom[2] == chr(BRAILLE | 0x40 | 0x80 | 0x20) and top[2] == chr(BRAILLE)
    flat = braille_graph([5, 5, 5, 5], 2, 1)[0]
    assert flat == chr(BRAILLE | 0x40 | 0x04 | 0x80 | 0x20) * 2  # a flat line: half height


@pytest.mark.slow
async def test_graphs_follow_every_kstats_field_over_ticks(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_kernel(app, pilot, ticks=2)
        for _ in range(5):
            await pilot.press("full_stop")
        history = app.kstats_history.fields
        expected = kstats_fields(app.snapshot.kmem)
        assert [name for name, _ in expected] == list(history)
        for name, value in expected:
            assert len(history[name]) == 8 and history[name][-1] == value
        graphs = screen.query_one(KstatsGraphs)
        lines = [graphs.render_line(y).text for y in range(graphs.size.height)]
        for (name, _), line in zip(expected, lines):
            assert line.split()[0] == name
            assert any(BRAILLE < ord(c) <= 0x28FF for c in line)


async def test_graphs_sit_side_by_side_when_short(make_app):
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        screen = await open_kernel(app, pilot, ticks=3)
        graphs = screen.query_one(KstatsGraphs)
        assert graphs.size.height < 9
        text = " ".join(graphs.render_line(y).text for y in range(graphs.size.height))
        for name, _ in kstats_fields(app.snapshot.kmem):
            assert f" {name} " in f" {text} "


@pytest.mark.slow
async def test_aspace_tree_folds_and_unfolds(make_app):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_kernel(app, pilot)
        tree = screen.query_one(AspaceTree)
        assert tree.has_focus
        nodes = kernel_aspace(app.snapshot)
        assert len(tree.keys) == len(nodes)  # mappings start folded: no VMO lines
        assert [tree.lines[k].kind for k in tree.keys[:3]] == ["as", "vmar", "map"]
        image = next(k for k in tree.keys if tree.lines[k].name == "kernel image")
        tree.move_to(image)
        await pilot.press("enter")
        assert len(tree.keys) == len(nodes) - 4  # its four sections
        await pilot.press("enter")
        physmap = tree.keys[2]
        tree.move_to(physmap)
        await pilot.press("right")
        assert tree.keys[tree.keys.index(physmap) + 1] == physmap + 1
        vmo_line = tree.lines[physmap + 1]
        assert vmo_line.kind == "vmo" and vmo_line.committed == 0  # a reserved region's VMO
        await pilot.press("down", "left")  # from the VMO line up to its mapping
        assert tree.cursor_key == physmap
        await pilot.press("left")
        assert physmap + 1 not in tree.keys
        row = tree.render_line(1 + tree.keys.index(0)).text
        assert "as" in row and "ffffff8000000000" in row and "kernel" in row


@pytest.mark.slow
async def test_hidden_list_is_kernel_only_then_unmapped_vmos(make_app):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_kernel(app, pilot, ticks=3)
        table = screen.query_one(HiddenVmoTable)
        allocs = [table.record(k).committed_bytes for k in table.keys]
        assert table.sort_key == "alloc" and allocs == sorted(allocs, reverse=True)
        table.sort_by("koid")  # vmos --hidden's order: the kernel's own, then by koid
        for _ in range(4):  # a full scan first, then tick by tick from the changes
            snap = app.snapshot
            kernel = [v for _, v in kernel_only_vmos(snap)]
            expected = kernel + hidden_vmos(snap)
            assert [table.record(k) for k in table.keys] == expected
            assert all(v.koid == 0 for v in kernel) and kernel
            assert table.subtitle().endswith(f"{len(kernel)} kernel-only")
            await pilot.press("full_stop")
        table.focus()
        await pilot.press("s", "s", "s", "s")  # koid -> parent -> chld -> size -> alloc
        assert table.sort_key == "alloc"
        allocs = [table.record(k).committed_bytes for k in table.keys]
        assert allocs == sorted(allocs, reverse=True)
        user = next(k for k in table.keys if k > 0)
        table.move_to(user)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, VmoScreen) and app.screen.koid == user


async def test_handle_totals_are_the_sum_over_processes(make_app):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_kernel(app, pilot)
        table = screen.query_one(HandleTotalsTable)
        for _ in range(4):  # processes come, go and change: the cache must follow
            snap = app.snapshot
            by_type = Counter(h.type for p in snap.processes.values() for h in p.handles)
            assert table.totals == by_type
            by_column = Counter()
            for proc in snap.processes.values():
                by_column.update(handle_counts(proc))
            for column, count in by_column.items():
                if column != "h":
                    assert sum(n for t, n in table.totals.items()
                               if PS_COLUMN.get(t, "#??") == f"#{column}") == count
            assert table.subtitle().startswith(f"{by_column['h']:,} in")
            await pilot.press("full_stop")
        counts = [table.totals[k] for k in table.keys]
        assert counts == sorted(counts, reverse=True)


@pytest.mark.slow
async def test_palette_opens_the_kernel_screen_and_escape_goes_back(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+p", *"kernel memory")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, KernelScreen)
        await pilot.press("u", "u", "u", "u")  # auto, k, M, G, then bytes
        assert "B" in app.screen.query_one(KstatsGraphs).render_line(0).text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
