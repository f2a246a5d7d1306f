"""Events: the simulation's, those derived for a poll, the watchdog's, the log that keeps
them, the job tree's rows of exited processes, and `zmtop events`."""

from __future__ import annotations

import json
import shlex
import sys

import pytest
from msgspec import structs

from zmtop.cli.main import main
from zmtop.engine.formats.capture import to_capture
from zmtop.engine.formats.events import TimedEvent
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import Event
from zmtop.engine.sources.poll import PollSource
from zmtop.viewmodels.event_log import EventLog
from zmtop.viewmodels.exited_rows import EXITED, ExitedRows
from zmtop.viewmodels.task_rows import Figures, Slot
from zmtop.viewmodels.tree_order import TreeOrder
from zmtop.viewmodels.watchdog import WATCHDOG_OVER, WATCHDOG_UNDER, Watchdog

TICKS = 60  # the oom scenario: pressure up from tick 16, an OOM kill at 46, Normal at 56


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_events_json_lists_the_oom_kill_and_every_pressure_change(capsys):
    code, out, err = run(capsys, "events", "--scenario", "oom", "--ticks", TICKS, "--json")
    assert code == 0 and not err
    events = json.loads(out)
    assert [e["tick"] for e in events] == sorted(e["tick"] for e in events)
    levels = [e["text"] for e in events if e["kind"] == "pressure"]
    assert levels == [f"memory pressure {level}" for level in
                      ("Warning", "Critical", "Imminent-OOM", "OOM", "Normal")]
    (kill,) = [e for e in events if e["kind"] == "oom-kill"]
    assert kill["text"] == f"OOM: killed job {kill['koid']} (hog)"
    assert kill["time_ns"] == kill["tick"] * 1_000_000_000
    exits = [e for e in events if e["kind"] == "process-exit" and e["tick"] == kill["tick"]]
    assert [e["text"] for e in exits] == ["memory_hog.cm killed by OOM (retcode -1025)"]


def test_events_text_is_one_line_per_event_and_a_recording_gives_the_same(capsys, tmp_path):
    code, out, _ = run(capsys, "events", "--scenario", "oom", "--ticks", TICKS)
    lines = out.splitlines()
    assert code == 0 and len(lines) == len(json.loads(
        run(capsys, "events", "--scenario", "oom", "--ticks", TICKS, "--json")[1]))
    tick, time, kind, koid, *text = lines[-1].split()
    assert (tick, time, kind, koid, text) == ("60", "0:01:00", "process-start", koid,
                                              ["sh", "started"])
    path = tmp_path / "oom.zmrec"
    assert run(capsys, "record", path, "--scenario", "oom", "--ticks", TICKS)[0] == 0
    assert run(capsys, "events", "--from", path)[1] == out
    upto = run(capsys, "events", "--from", path, "--at", 20)[1].splitlines()
    assert upto == [line for line in lines if int(line.split()[0]) <= 20]


def test_events_errors_are_one_line(capsys, tmp_path):
    code, out, err = run(capsys, "events", "--scenario", "nope")
    assert code == 2 and not out and err.count("\n") == 1
    assert "unknown scenario" in err


def test_an_import_has_no_events_and_a_poll_series_has_its_starts_exits_and_levels(capsys, tmp_path):
    doc = to_capture(Simulation("default", 1).snapshot)
    header, *rows = doc["Processes"]
    whole, cut = tmp_path / "whole.json", tmp_path / "cut.json"
    whole.write_text(json.dumps(doc))
    low = {**doc["Kernel"], "free": 100 << 20}  # under the critical watermark
    cut.write_text(json.dumps({**doc, "Processes": [header, *rows[1:]], "Kernel": low}))
    assert run(capsys, "events", "--from", whole) == (0, "", "")
    # prints cut.json, then whole.json, then cut.json again...
    counter = tmp_path / "n"
    printer = ("import pathlib, sys; c = pathlib.Path(sys.argv[1]); "
               "n = int(c.read_text()) if c.exists() else 0; c.write_text(str(n + 1)); "
               "sys.stdout.write(pathlib.Path(sys.argv[2 + n % 2]).read_text())")
    command = shlex.join([sys.executable, "-c", printer, str(counter), str(cut), str(whole)])
    source = PollSource(command, 1.0, timeout=20)
    koid, name = rows[0][0], rows[0][1]
    assert source.snapshot.pressure == "Critical"
    started = (Event("process-start", koid, f"{name} started"),
               Event("pressure", 0, "memory pressure Normal"))
    assert source.step().events == started
    assert source.step().events == (Event("process-exit", koid, f"{name} exited"),
                                    Event("pressure", 0, "memory pressure Critical"))
    assert source.step().events == started
    counter.unlink()
    code, out, _ = run(capsys, "events", "--poll", command, "--ticks", 2)
    assert code == 0 and [line.split()[:4] for line in out.splitlines()] == [
        ["1", "0:00:01", "process-start", str(koid)], ["1", "0:00:01", "pressure", "0"],
        ["2", "0:00:02", "process-exit", str(koid)], ["2", "0:00:02", "pressure", "0"]]


def test_the_watchdog_says_when_a_process_crosses_its_threshold():
    sim, watchdog = Simulation("oom", 1, 1.0), Watchdog()
    watchdog.set(64)
    assert watchdog.crossings(sim.snapshot) == ()  # the first call sets where things stand
    seen: list[tuple[int, Event]] = []
    for _ in range(TICKS):
        snap = sim.step()
        seen += [(snap.tick, e) for e in watchdog.crossings(snap)]
    kinds = [(e.kind, e.text) for _, e in seen]
    assert kinds[0] == (WATCHDOG_OVER, "watchdog: memory_hog.cm over 64 MiB")
    assert (WATCHDOG_UNDER, "watchdog: memory_hog.cm gone") in kinds
    watchdog.set(None)
    assert watchdog.crossings(sim.step()) == ()


def timed(tick: int, kind: str, koid: int = 0, text: str = "") -> TimedEvent:
    return TimedEvent(tick, tick * 10, Event(kind, koid, text or kind))


def test_the_log_keeps_its_limit_and_each_event_its_serial():
    log = EventLog(0, limit=100)
    for tick in range(1, 251):
        log.add(tick, tick, [Event("process-start", tick, "")])
    assert len(log.entries) <= 100 and log[log.serials[-1]].tick == 250
    assert all(log[serial].event.koid == serial + 1 for serial in log.serials)


def test_new_processes_are_those_started_in_the_last_ticks_after_the_origin():
    log = EventLog(0, [timed(0, "process-start", 1), timed(4, "process-start", 2),
                       timed(5, "process-exit", 3)])
    assert log.new_processes(0) == frozenset()  # there at the start: not new
    assert log.new_processes(4) == log.new_processes(6) == {2}
    assert log.new_processes(7) == frozenset() and log.new_processes(3) == frozenset()


@pytest.mark.parametrize(("tick", "said"), [
    (9, ""), (10, "memory pressure OOM"), (11, "OOM: killed job 7"), (15, "OOM: killed job 7"),
    (16, "memory pressure Normal"), (18, "memory pressure Normal"),
    (21, "watchdog: \\x1b[2J over"), (22, "")])
def test_the_notice_says_the_most_telling_recent_event(tick, said):
    log = EventLog(0, [timed(10, "pressure", text="memory pressure OOM"),
                       timed(11, "oom-kill", 7, "OOM: killed job 7"),
                       timed(11, "process-exit", 8),
                       timed(16, "pressure", text="memory pressure Normal"),
                       timed(17, "watchdog-over", 9, "watchdog: \x1b[2J over")])
    assert log.notice(tick) == said


def test_an_exited_process_row_goes_under_its_job_unless_folded():
    snap = Simulation("default", 1).snapshot
    koid, process = next((k, p) for k, p in snap.processes.items()
                         if len(snap.jobs[p.job_koid].processes) > 1)
    job = snap.jobs[process.job_koid]
    after = structs.replace(
        snap, processes={k: p for k, p in snap.processes.items() if k != koid},
        jobs={**snap.jobs, job.koid: structs.replace(
            job, processes=tuple(p for p in job.processes if p != koid))})
    rows = ExitedRows()
    assert not rows.update(snap, frozenset())
    assert rows.update(after, frozenset({koid})) and rows.records == {koid: process}
    placed = TreeOrder(Figures(after), exited=rows).rows()
    at = [slot.koid for slot in placed].index(job.koid)
    assert placed[at + 1] == Slot(EXITED, koid, placed[at].depth + 1, 0)
    assert koid not in TreeOrder(Figures(after), {job.koid}, exited=rows).keys
    assert not rows.update(after, frozenset({koid}))  # kept while the log says so
    assert rows.update(after, frozenset()) and rows.records == {}
