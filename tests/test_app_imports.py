"""Imported and polled data in the monitor: gaps said plainly, poll errors shown and cleared."""

from __future__ import annotations

import sys

from zmtop.engine.formats.capture import capture_json
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import FRACTION_ONE
from zmtop.engine.sources.detect import load_source
from zmtop.engine.sources.poll import PollSource
from zmtop.tui.app import ZmtopApp
from zmtop.tui.screens.process import ProcessScreen, ProcessSummary
from zmtop.tui.widgets.handle_table import HandleTable, HandleVmoTable
from zmtop.tui.widgets.process_tables import VmapsTable
from zmtop.tui.widgets.source_notice import SourceNotice
from zmtop.tui.widgets.task_table import TaskTable


def capture_file(tmp_path):
    path = tmp_path / "capture.json"
    path.write_text(capture_json(Simulation("default", 1, 1.0).snapshot))
    return path


def notice(app) -> str:
    widget = app.screen.query_one(SourceNotice)
    return widget.render().plain if widget.display else ""


async def test_a_capture_says_what_it_lacks(tmp_path):
    source = load_source(capture_file(tmp_path))
    app = ZmtopApp(source, autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        said = notice(app)
        assert "this capture has no jobs: processes shown under a synthetic root" in said
        assert "this capture has no handles" in said
        table = app.screen.query_one(TaskTable)
        proc = next(iter(source.snapshot.processes.values()))
        hash_h = [c.key for c in table.columns].index("#h")
        assert table.cells(proc.koid)[hash_h].text == ""  # not a count of 0
        assert [c.text for c in table.cells(proc.koid)[1:4]] == ["", "", ""]  # PSS..SHARED
        table.move_to(proc.koid)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProcessScreen)
        vmaps = app.screen.query_one(VmapsTable)
        assert not vmaps.keys and "this capture has no mappings" in vmaps.render_line(1).text
        summary = app.screen.query_one(ProcessSummary).render().plain
        assert "handles n/a  threads n/a" in summary and "PSS n/a" in summary
        assert "this capture has no threads" in notice(app)
        await pilot.press("H")
        handles = app.screen.query_one(HandleTable)
        assert handles.display and "this capture has no handles" in handles.render_line(1).text
        only = app.screen.query_one(HandleVmoTable)
        assert "does not say which VMOs are reached by handle" in only.render_line(1).text


async def test_a_simulation_has_no_notice(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)):
        assert not app.screen.query_one(SourceNotice).display


async def test_a_failing_poll_shows_its_error_until_the_next_success(tmp_path):
    capture, flag = capture_file(tmp_path), tmp_path / "fail"
    script = tmp_path / "poll.py"
    script.write_text(
        "import pathlib, sys\n"
        f"if pathlib.Path({str(flag)!r}).exists():\n"
        "    sys.exit('device went away')\n"
        f"sys.stdout.write(pathlib.Path({str(capture)!r}).read_text())\n")
    source = PollSource(f"{sys.executable} {script}", 1.0, timeout=20)
    app = ZmtopApp(source, autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert "poll failed" not in notice(app)
        flag.touch()
        await pilot.press("full_stop")
        await pilot.pause()
        assert source.error and "device went away" in source.error
        assert f"poll failed: {source.error}" in notice(app)
        flag.unlink()
        await pilot.press("full_stop")
        await pilot.pause()
        assert source.error is None
        assert "poll failed" not in notice(app)
        assert "the polled data has no jobs" in notice(app)


async def test_task_order_on_a_capture_is_by_koid_not_file_order():
    from real_capture import CAPTURE

    source = load_source(CAPTURE)
    listed = list(source.snapshot.processes)
    assert listed != sorted(listed)  # the file's order is not the koids'
    app = ZmtopApp(source, autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        assert table.keys[1:] == sorted(listed)
        await pilot.press("r")  # TASK▼
        assert table.keys[1:] == sorted(listed, reverse=True)


async def test_a_captures_vmos_have_attributed_figures_and_their_holders():
    """On the real capture: a process's VMO table gives each VMO's scaled bytes (it showed
    0B on every row beside an A.PSS of 3.2M), and a VMO's Processes pane lists the
    processes its `procs` counts, with what the capture does not say left blank."""
    from real_capture import CAPTURE

    from zmtop.tui.screens.vmo import VmoScreen, VmoSummary
    from zmtop.tui.widgets.process_tables import ProcessVmoTable
    from zmtop.tui.widgets.vmo_tables import HoldersTable

    source = load_source(CAPTURE)
    snap = source.snapshot
    proc = next(p for p in snap.processes.values() if p.name == "setui_service.cm")
    app = ZmtopApp(source, autostart=False)
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.screen.query_one(TaskTable)
        table.move_to(proc.koid)
        await pilot.press("enter")
        await pilot.pause()
        vmos = app.screen.query_one("#process-vmos", ProcessVmoTable)
        scaled = [c.key for c in vmos.columns].index("ascaled")
        shown = [vmos.cells(key)[scaled].text for key in vmos.keys]
        assert shown.count("0B") < len(shown) // 2
        key = next(k for k in vmos.keys if snap.vmos[k[0]].committed_bytes >= 16384)
        vmo = snap.vmos[key[0]]
        assert vmos.cells(key)[scaled].text == vmos.cells(key)[scaled + 1].text  # = A.TOTAL
        assert vmo.scaled_fixed == vmo.committed_bytes * FRACTION_ONE
        vmos.focus()
        vmos.move_to(key)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, VmoScreen)
        assert f"procs {vmo.process_count}" in app.screen.query_one(VmoSummary).render().plain
        holders = app.screen.query_one(HoldersTable)
        assert len(holders.keys) == vmo.process_count and proc.koid in holders.keys
        handles, maps, legacy = (c.text for c in holders.cells(proc.koid)[1:4])
        assert handles == maps == legacy == ""  # not known, not 0
