"""Drilling down: process, VMO, all VMOs, help and the palette, and back again."""

from __future__ import annotations

import pytest
from msgspec import structs

from zmtop.engine.snapshot.records import Changes
from zmtop.tui.screens.help import HelpScreen
from zmtop.tui.screens.main import MainScreen
from zmtop.tui.screens.process import ProcessScreen, ProcessSummary
from zmtop.tui.screens.system_vmos import SystemVmosScreen
from zmtop.tui.screens.vmo import VmoScreen, VmoSummary
from zmtop.tui.widgets.process_tables import ProcessVmoTable, VmapsTable
from zmtop.tui.widgets.task_table import TaskTable
from zmtop.tui.widgets.vmo_tables import (
    FamilyTable,
    HoldersTable,
    SystemVmoTable,
    vmo_holders,
)


def named(snap, name: str):
    return next(p for p in snap.processes.values() if p.name == name)


async def open_process(app, pilot, name: str = "bin/component_manager"):
    proc = named(app.snapshot, name)
    app.screen.query_one(TaskTable).move_to(proc.koid)
    await pilot.press("enter")
    await pilot.pause()
    return proc


async def test_enter_on_a_process_shows_its_vmaps_and_vmos(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        proc = await open_process(app, pilot)
        screen = app.screen
        assert isinstance(screen, ProcessScreen) and screen.koid == proc.koid
        vmaps, vmos = screen.query_one(VmapsTable), screen.query_one(ProcessVmoTable)
        assert len(vmaps.keys) == len(proc.maps)
        assert len(vmos.keys) == len(proc.vmo_refs)
        assert vmaps.has_focus
        summary = screen.query_one(ProcessSummary).render().plain
        for text in (f"p: {proc.koid}", "handles", str(proc.handle_count), "threads",
                     "PSS", "PRIVATE", "SHARED", "USS", "RSS"):
            assert text in summary
        first = vmaps.render_line(1).text
        assert first.startswith("/A") and f"proc:{proc.koid}" in first
        await pilot.press("full_stop")  # still live
        assert screen.query_one(ProcessSummary).process is app.snapshot.processes[proc.koid]


@pytest.mark.slow
async def test_process_tables_sort(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_process(app, pilot)
        vmaps = app.screen.query_one(VmapsTable)
        await pilot.press("s", "s", "s")  # tree -> range -> perm -> size
        assert vmaps.sort_key == "size"
        sizes = [vmaps.entries[k].size for k in vmaps.keys]
        assert sizes == sorted(sizes, reverse=True)
        await pilot.press("tab")
        vmos = app.screen.query_one(ProcessVmoTable)
        assert vmos.has_focus
        for _ in range(7):  # order -> koid, parent, #chld, #map, #shr, size, alloc
            await pilot.press("s")
        assert vmos.sort_key == "alloc"
        allocs = [app.snapshot.vmos[k[0]].committed_bytes for k in vmos.keys]
        assert allocs == sorted(allocs, reverse=True)


async def test_enter_on_a_vmo_shows_holders_and_their_shares(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        proc = await open_process(app, pilot)
        await pilot.press("tab")
        vmos = app.screen.query_one(ProcessVmoTable)
        koid = vmos.cursor_key[0]
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, VmoScreen) and screen.koid == koid
        vmo = app.snapshot.vmos[koid]
        holders = screen.query_one(HoldersTable)
        assert proc.koid in holders.keys
        share = holders.holders[proc.koid].attributed_fixed
        assert share == vmo.scaled_fixed // vmo.process_count
        assert f"VMO {koid}" in screen.query_one(VmoSummary).render().plain
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ProcessScreen)
        assert app.screen.query_one(ProcessVmoTable).cursor_key[0] == koid


async def test_enter_on_a_mapping_opens_its_vmo_and_legacy_share(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        proc = await open_process(app, pilot)
        vmaps = app.screen.query_one(VmapsTable)
        key = next(k for k in vmaps.keys if vmaps.entries[k].type == "M")
        vmaps.move_to(key)
        await pilot.press("enter")
        await pilot.pause()
        entry = vmaps.entries[key]
        assert isinstance(app.screen, VmoScreen) and app.screen.koid == entry.vmo_koid
        holder = app.screen.query_one(HoldersTable).holders[proc.koid]
        vmo = app.snapshot.vmos[entry.vmo_koid]
        maps = [m for m in proc.maps if m.type == "M" and m.vmo_koid == entry.vmo_koid]
        assert holder.mappings == len(maps)
        assert holder.legacy_bytes == sum(m.committed_bytes // vmo.share_count for m in maps)


@pytest.mark.slow
async def test_vmo_view_shows_clone_chain_and_children(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        snap = app.snapshot
        clone = next(v for v in snap.vmos.values()
                     if v.is_clone and not snap.vmos[v.parent_koid].is_clone
                     and vmo_holders(snap, v.parent_koid))
        parent = snap.vmos[clone.parent_koid]
        app.jump_to_koid(clone.koid)
        await pilot.pause()
        family = app.screen.query_one(FamilyTable)
        assert family.keys[:2] == [parent.koid, clone.koid]
        assert family.relation[parent.koid] == "root"
        assert family.relation[clone.koid] == "this"
        # the parent's own view lists the clone among its children
        family.move_to(parent.koid)
        await pilot.press("enter")
        await pilot.pause()
        family = app.screen.query_one(FamilyTable)
        assert app.screen.koid == parent.koid
        assert family.relation[clone.koid] == "child"
        children = [k for k, r in family.relation.items() if r == "child"]
        assert len(children) == parent.num_children
        await pilot.press("tab", "enter")  # a holding process opens the process screen
        await pilot.pause()
        assert isinstance(app.screen, ProcessScreen)
        for _ in range(3):
            await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_escape_goes_back_keeping_the_selection(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        proc = await open_process(app, pilot, "netstack.cm")
        await pilot.press("full_stop", "full_stop", "escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one(TaskTable).cursor_key == proc.koid
        assert app.screen.query_one(TaskTable).figures.snap is app.snapshot


async def test_a_process_that_exits_keeps_its_last_figures(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        proc = await open_process(app, pilot, "netstack.cm")
        snap = app.snapshot
        job = snap.jobs[proc.job_koid]
        jobs = {**snap.jobs, job.koid: structs.replace(
            job, processes=tuple(k for k in job.processes if k != proc.koid))}
        gone = {k: v for k, v in snap.processes.items() if k != proc.koid}
        changes = Changes(jobs=frozenset({job.koid}), removed_processes=frozenset({proc.koid}))
        app.deliver(structs.replace(snap, tick=snap.tick + 1, jobs=jobs, processes=gone,
                                    changes=changes))
        await pilot.pause()
        summary = app.screen.query_one(ProcessSummary)
        assert summary.exited and "EXITED" in summary.render().plain
        assert summary.process is proc


@pytest.mark.slow
async def test_system_vmos_hidden_sort_and_search(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, SystemVmosScreen)
        table = app.screen.query_one(SystemVmoTable)
        snap = app.snapshot
        assert table.keys == sorted(snap.vmos)
        await pilot.press("h")
        assert table.keys == [k for k in sorted(snap.vmos) if snap.vmos[k].num_mappings == 0]
        assert table.border_title == "Hidden VMOs"
        await pilot.press("h")
        await pilot.press(*"s" * 5)  # koid -> parent, #chld, #map, #shr, size
        assert table.sort_key == "size"
        sizes = [snap.vmos[k].size_bytes for k in table.keys]
        assert sizes == sorted(sizes, reverse=True)
        await pilot.press("slash", *"vdso", "enter")
        assert "vdso" in snap.vmos[table.cursor_key].name
        await pilot.press("full_stop")
        assert table.snap is app.snapshot
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, VmoScreen)
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_help_lists_every_key(make_app):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(f"{what} {means}" for _, lines in app.screen.sections()
                         for what, means in lines)
        for words in ("Quit", "Pause", "Step", "Faster", "Slower", "Units", "Theme", "Search",
                      "Filter", "Next match", "Collapse", "Expand all", "Hidden only",
                      "Back", "Command palette", "Reverse", "Sort", "f1 Help",
                      "#h total number of handles", "PSS against A.PSS", "memory bar"):
            assert words in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


@pytest.mark.slow
async def test_palette_jumps_to_a_koid(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        proc = named(app.snapshot, "netstack.cm")
        await pilot.press("c")  # hidden in a collapsed job
        await pilot.press("ctrl+p", *str(proc.koid))
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one(TaskTable).cursor_key == proc.koid
        vdso = next(v.koid for v in app.snapshot.vmos.values() if v.name == "vdso/stable")
        app.jump_to_koid(vdso)
        await pilot.pause()
        assert isinstance(app.screen, VmoScreen) and app.screen.koid == vdso
        app.jump_to_koid(proc.koid)  # from deep inside, back to the tree
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


@pytest.mark.slow
async def test_palette_switches_scenario_and_pauses(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_process(app, pilot)
        await pilot.press("ctrl+p", *"scenario: leak")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.source.scenario_name == "leak"
        assert app.snapshot.source == "sim:leak:1" and app.snapshot.tick == 0
        assert isinstance(app.screen, MainScreen)
        table = app.screen.query_one(TaskTable)
        assert table.figures is app.figures and table.figures.snap is app.snapshot
        await pilot.press("ctrl+p", *"pause")
        await pilot.pause(0.3)
        await pilot.press("enter")
        assert app.paused


async def test_units_toggle_reaches_every_screen(make_app):
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        proc = await open_process(app, pilot)
        await pilot.press("u")
        assert app.unit == "k"
        await pilot.press("u", "u", "u")
        assert app.unit == "B"
        assert f"{proc.pss_bytes:,}B" in app.screen.query_one(ProcessSummary).render().plain
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.query_one(TaskTable).unit == "B"


@pytest.mark.slow
async def test_drill_down_survives_resizing(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_process(app, pilot)
        assert "-narrow" in app.screen.classes
        for size in ((20, 5), (300, 100), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.press("tab", "down", "full_stop")
        await pilot.resize_terminal(200, 50)
        await pilot.pause()
        assert "-wide" in app.screen.classes
        await pilot.press("tab", "enter")
        await pilot.pause()
        await pilot.resize_terminal(20, 5)
        await pilot.press("full_stop", "escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)

