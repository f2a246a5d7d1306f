"""Kill in the monitor (`k`, F9): the confirmation, the kill through the source, and the
refusals (the root job, a critical process, a recording, an import)."""

from __future__ import annotations

from tests.recordings import record
from zmtop.engine.formats.capture import capture_json
from zmtop.engine.recording.reader import Recording
from zmtop.engine.sim.simulation import KILL_RETCODE, Simulation
from zmtop.engine.snapshot.records import KILL
from zmtop.engine.sources.detect import load_source
from zmtop.engine.sources.replay import ReplaySource
from zmtop.tui.app import ZmtopApp
from zmtop.tui.replay_app import ReplayApp
from zmtop.tui.screens.kill import KillPrompt
from zmtop.tui.screens.main import MainScreen
from zmtop.tui.screens.process import ProcessScreen, ProcessSummary
from zmtop.tui.widgets.task_table import TaskTable


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def named(app, name: str) -> int:
    return next(p.koid for p in app.snapshot.processes.values() if p.name == name)


async def test_k_asks_then_kills_the_selected_process_at_once_while_paused(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        koid = named(app, "netstack.cm")
        table.move_to(koid)
        await pilot.press("space", "k")  # paused: the kill's step is taken at once
        assert isinstance(app.screen, KillPrompt)
        assert app.screen.question == f"Kill process {koid} netstack.cm? y/n"
        tick = app.snapshot.tick
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.snapshot.tick == tick + 1 and koid not in app.snapshot.processes
        texts = [e.event.text for e in app.events.at(app.snapshot.tick)]
        assert f"killed process {koid} (netstack.cm)" in texts
        assert f"netstack.cm killed (retcode {KILL_RETCODE})" in texts
        assert table.cells(koid)[-1].text.startswith("netstack.cm")  # kept 3 ticks, in red
        assert table.slots[koid].kind != "p"


async def test_a_running_monitor_kills_at_its_next_tick_and_cancel_kills_nothing(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        keep, kill = named(app, "cobalt.cm"), named(app, "netstack.cm")
        table.move_to(keep)
        await pilot.press("k", "escape", "k", "n")
        table.move_to(kill)
        await pilot.press("f9", "enter")
        assert kill in app.snapshot.processes  # asked: applied at the next step
        await pilot.press("full_stop")
        assert keep in app.snapshot.processes and kill not in app.snapshot.processes


async def test_a_job_is_killed_with_its_processes_from_the_tree(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        snap = app.snapshot
        job = next(j for j in snap.jobs.values() if j.name == "zircon-drivers")
        processes = snap.job_processes(job.koid)
        app.screen.query_one(TaskTable).move_to(job.koid)
        await pilot.press("space", "k")
        assert app.screen.question == (f"Kill job {job.koid} zircon-drivers and its "
                                       f"{len(processes)} processes? y/n")
        await pilot.press("enter")
        assert job.koid not in app.snapshot.jobs
        assert not set(processes) & app.snapshot.processes.keys()
        assert [e.event.kind for e in app.events.at(app.snapshot.tick)].count(KILL) == 1


async def test_f9_on_the_process_screen_kills_it_and_the_screen_says_exited(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        koid = named(app, "netstack.cm")
        app.open_process(koid)
        await pilot.pause()
        await pilot.press("space", "f9", "y")
        await pilot.pause()
        assert isinstance(app.screen, ProcessScreen) and koid not in app.snapshot.processes
        assert "EXITED" in app.screen.query_one(ProcessSummary).render().plain


async def test_the_root_job_and_critical_processes_are_refused_without_a_question(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        table.move_to(app.snapshot.root_job)
        await pilot.press("k")
        assert isinstance(app.screen, MainScreen)
        assert notices(app)[-1] == "kill: not the root job (that would halt the system)"
        table.move_to(named(app, "bin/component_manager"))
        await pilot.press("k")
        assert isinstance(app.screen, MainScreen)
        assert "is critical to the root job" in notices(app)[-1]


async def test_k_and_j_no_longer_move_the_cursor(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(TaskTable)
        table.move_to(named(app, "netstack.cm"))
        cursor = table.cursor
        await pilot.press("j")
        assert table.cursor == cursor
        await pilot.press("down", "up")
        assert table.cursor == cursor


async def test_a_replay_refuses_a_kill_with_a_notice(tmp_path):
    path = record(tmp_path / "default.zmrec", "default", 1)
    app = ReplayApp(ReplaySource(Recording.open(path)), autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        koid = named(app, "netstack.cm")
        app.screen.query_one(TaskTable).move_to(koid)
        await pilot.press("k")
        assert isinstance(app.screen, MainScreen)
        assert notices(app)[-1] == ("kill: not possible on this recording "
                                    "(only the simulation kills)")
        await pilot.press("full_stop")
        assert koid in app.snapshot.processes


async def test_an_import_refuses_a_kill_with_a_notice(tmp_path):
    path = tmp_path / "capture.json"
    path.write_text(capture_json(Simulation("default", 1).snapshot))
    app = ZmtopApp(load_source(path), autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_process(next(iter(app.snapshot.processes)))
        await pilot.pause()
        await pilot.press("k")
        assert isinstance(app.screen, ProcessScreen)
        assert notices(app)[-1] == "kill: not possible on this capture (only the simulation kills)"
