"""Handles in the job tree and the process view, and the memory watchdog."""

from __future__ import annotations

import pytest

from zmtop.engine.formats.kzx import handle_counts, memory_hogs
from zmtop.tui.screens.main import MainScreen
from zmtop.tui.screens.process import ProcessScreen
from zmtop.tui.screens.watchdog import HogsScreen, HogTable
from zmtop.tui.widgets.handle_table import HandleTable, HandleVmoTable, handle_only
from zmtop.tui.widgets.process_tables import VmapsTable
from zmtop.tui.widgets.task_table import TaskTable
from zmtop.viewmodels.handle_rows import TYPE_COLUMNS


def column(table: TaskTable, key: str, koid: int) -> str:
    return table.cells(koid)[[c.key for c in table.columns].index(key)].text


async def test_handles_column_and_counts_by_type(make_app):
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("full_stop")
        table = app.screen.query_one(TaskTable)
        snap = app.snapshot
        for proc in snap.processes.values():
            assert column(table, "#h", proc.koid) == str(proc.handle_count)
        root = snap.jobs[snap.root_job]
        total = sum(p.handle_count for p in snap.processes.values())
        assert column(table, "#h", root.koid) == str(total)
        await pilot.press("H")
        assert [c.key for c in table.columns][2:-1] == ["#h", *(f"#{c}" for c in TYPE_COLUMNS)]
        for proc in snap.processes.values():
            counts = handle_counts(proc)
            for c in TYPE_COLUMNS:
                assert column(table, f"#{c}", proc.koid) == str(counts[c])
        vmo_total = sum(handle_counts(p)["vo"] for p in snap.processes.values())
        assert column(table, "#vo", root.koid) == str(vmo_total)
        table.sort_by("#vo")
        top = next(k for k in table.keys if k in snap.processes)
        assert handle_counts(snap.processes[top])["vo"] == max(
            handle_counts(snap.processes[k])["vo"] for k in snap.jobs[
                snap.processes[top].job_koid].processes)
        await pilot.press("H")
        assert "private" in [c.key for c in table.columns]


async def test_process_handle_table_and_handle_only_vmos(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        proc = next(p for p in app.snapshot.processes.values()
                    if p.name == "bin/component_manager")
        app.screen.query_one(TaskTable).move_to(proc.koid)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProcessScreen)
        await pilot.press("H")
        handles = screen.query_one(HandleTable)
        assert handles.display and handles.has_focus
        assert not screen.query_one(VmapsTable).display
        rows = [handles.cells(k) for k in handles.keys]
        assert [(int(r[1].text), int(r[2].text, 16), int(r[3].text, 16)) for r in rows] == [
            (h.koid, h.value, h.rights) for h in proc.handles]
        only = screen.query_one(HandleVmoTable)
        mapped = {e.vmo_koid for e in proc.maps if e.type == "M"}
        assert [k[0] for k in only.keys] == [r.vmo_koid for r in handle_only(proc)]
        assert all(k[0] not in mapped for k in only.keys)
        assert only.keys  # component_manager holds VMOs it does not map
        await pilot.press("H")
        assert screen.query_one(VmapsTable).display and not handles.display


@pytest.mark.slow
async def test_watchdog_flags_exactly_the_memory_hogs(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("full_stop", "W", "ctrl+a", "ctrl+k", *"2", "enter")
        await pilot.pause()
        assert isinstance(app.screen, HogsScreen)
        hogs = {p.koid: pages for p, pages in memory_hogs(app.snapshot, 2)}
        assert hogs and len(hogs) < len(app.snapshot.processes)
        listed = app.screen.query_one(HogTable)
        assert set(listed.keys) == set(hogs)
        assert listed.cells(listed.keys[0])[1].text == str(hogs[listed.keys[0]] // 256)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        table = app.screen.query_one(TaskTable)
        flagged = {k for k in table.keys if table.cells(k)[0].style == "task-table--hog"}
        assert flagged == set(hogs)
        assert all(table.cells(k)[-1].text.startswith("! ") for k in flagged)
        assert f"watchdog 2M: {len(hogs)} over" in table.border_subtitle
        await pilot.press("ctrl+p", *"watchdog off")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.watchdog.mb is None
        assert not any(table.cells(k)[0].style == "task-table--hog" for k in table.keys)
