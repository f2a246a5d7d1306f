"""Enter on the Digest and on the Diff opens what the footer promises: a bucket's processes
and VMOs, and a diff row's process as it was at tick B."""

from __future__ import annotations

from tests.recordings import record
from zmtop.engine.recording.reader import Recording
from zmtop.engine.sources.replay import ReplaySource
from zmtop.tui.replay_app import ReplayApp
from zmtop.tui.screens.bucket import BucketProcessTable, BucketScreen, bucket_holders
from zmtop.tui.screens.diff import DiffScreen
from zmtop.tui.screens.digest import DigestScreen
from zmtop.tui.screens.process import ProcessScreen, ProcessSummary
from zmtop.tui.screens.vmo import VmoScreen
from zmtop.tui.widgets.diff_tables import ProcessDiffTable
from zmtop.tui.widgets.digest_table import DigestTable
from zmtop.tui.widgets.vmo_tables import SystemVmoTable


async def test_enter_on_a_bucket_lists_its_processes_and_vmos_and_opens_them(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("D")
        await pilot.pause()
        digest = app.screen.query_one(DigestTable)
        key = digest.keys[0]  # the largest bucket
        bucket = digest.rows[key][1]
        assert bucket.vmos
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BucketScreen)
        processes = app.screen.query_one(BucketProcessTable)
        vmos = app.screen.query_one(SystemVmoTable)
        assert vmos.keys == sorted(bucket.vmos)
        holders = bucket_holders(app.snapshot, frozenset(bucket.vmos))
        assert processes.keys == [h[0] for h in sorted(holders, key=lambda h: -h[2])]
        top = processes.keys[0]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProcessScreen) and app.screen.koid == top
        await pilot.press("escape")
        await pilot.pause()
        vmos.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, VmoScreen) and app.screen.koid == vmos.keys[0]
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, DigestScreen)
        digest.move_to(next(k for k in digest.keys if k[0] == "Kernel"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DigestScreen)  # no VMOs: a notice, no screen


async def test_enter_on_a_live_diff_row_opens_the_process_as_of_mark_b(make_app):
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("m", "full_stop", "full_stop", "m")
        b = app.snapshot
        await pilot.press("full_stop", "full_stop", "d")
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        table = app.screen.query_one(ProcessDiffTable)
        koid = next(k for k in table.keys if table.rows[k].state != "gone")
        table.move_to(koid)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProcessScreen) and app.screen.koid == koid
        assert app.screen.pinned is b and app.snapshot.tick == b.tick + 2
        summary = app.screen.query_one(ProcessSummary)
        assert summary.process is b.processes[koid]
        assert f"AT TICK {b.tick}" in summary.render().plain
        await pilot.press("full_stop")  # time passes; the screen stays at tick B
        assert summary.process is b.processes[koid]


async def test_enter_on_a_replay_diff_row_goes_to_tick_b_and_opens_the_process(tmp_path):
    path = record(tmp_path / "churn.zmrec", "churn", 6)
    app = ReplayApp(ReplaySource(Recording.open(path)), autostart=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("m", "full_stop", "full_stop", "full_stop", "m", "full_stop", "d")
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen) and app.snapshot.tick == 4
        table = app.screen.query_one(ProcessDiffTable)
        koid = next(k for k in table.keys if table.rows[k].state != "gone")
        table.move_to(koid)
        await pilot.press("enter")
        await pilot.pause()
        assert app.snapshot.tick == 3
        assert isinstance(app.screen, ProcessScreen) and app.screen.koid == koid
        assert app.screen.pinned is None  # the replay stands at tick B
