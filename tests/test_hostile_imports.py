"""Hostile device data and numeric options: size caps, values out of range, failed polls kept
visible, and the two importers agreeing on what is valid."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from zmtop.cli.main import main
from zmtop.engine.recording.reader import Recording
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import POLL_FAILED, Changes, Event
from zmtop.engine.sources import detect
from zmtop.engine.sources.capture_reader import parse_capture
from zmtop.engine.sources.detect import load_source
from zmtop.engine.sources.json_input import LONG_NAMES, SourceError
from zmtop.engine.sources.memgraph_reader import parse_memgraph, to_memgraph
from zmtop.engine.sources.poll import PollSource
from zmtop.engine.sources.run import run_capped
from zmtop.tui.app import ZmtopApp
from zmtop.tui.widgets.source_notice import SourceNotice
from zmtop.tui.widgets.timeline import EVENT_MARKS, event_columns

KERNEL = {"total": 1 << 30, "free": 1 << 29, "wired": 1, "total_heap": 1, "free_heap": 1,
          "vmo": 1, "mmu": 1, "ipc": 1, "other": 1}
HEADER = ["koid", "name", "parent_koid", "committed_bytes", "allocated_bytes"]


def capture(vmos, processes, names=("vmo",)) -> dict:
    return {"Time": 1, "Kernel": KERNEL, "VmoNames": list(names), "Vmos": [HEADER, *vmos],
            "Processes": [["koid", "name", "vmos"], *processes]}


def write(tmp_path, doc, name="capture.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False))
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("zmtop: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def memgraph_doc():
    return json.loads(to_memgraph(Simulation("default", 1).snapshot))


def vmo_records(doc):
    """Every VMO listing in a memgraph document, with its process record."""
    return [(record, vmo) for record in doc if record["type"] == "p"
            for vmo in record.get("vmos", [])]


def relisted(doc, which, **fields):
    """A memgraph document with every listing of VMO `which` changed."""
    out = json.loads(json.dumps(doc))
    for _, vmo in vmo_records(out):
        if vmo["koid"] == which:
            vmo.update(fields)
    return out


# --- 5: names and inputs have size caps --------------------------------------------------------


def test_capture_names_are_cut_to_31_bytes_on_a_character_boundary():
    long = "é" * 100  # 2 bytes each: 15 fit in 31
    source = parse_capture(capture([[5, 0, 0, 4096, 4096]], [[7, "x" * 40, [5]]],
                                   names=[long]), "c")
    assert source.snapshot.vmos[5].name == "é" * 15
    assert source.snapshot.processes[7].name == "x" * 31
    assert LONG_NAMES in source.missing
    fine = parse_capture(capture([[5, 0, 0, 4096, 4096]], [[7, "p", [5]]]), "c")
    assert LONG_NAMES not in fine.missing


def test_memgraph_names_of_every_kind_are_cut(memgraph_doc):
    doc = json.loads(json.dumps(memgraph_doc))
    for record in doc:
        if record["type"] in ("j", "p", "t"):
            record["name"] = "ν" * 40  # 2 bytes each
    for _, vmo in vmo_records(doc):
        vmo["name"] = "a" * 10_000 + "€"
    source = parse_memgraph(json.dumps(doc).encode(), "m")
    snap = source.snapshot
    names = [job.name for job in snap.jobs.values()] + [p.name for p in snap.processes.values()]
    names += [t.name for p in snap.processes.values() for t in p.threads]
    assert names and set(names) == {"ν" * 15}
    assert {v.name for v in snap.vmos.values()} == {"a" * 31}
    assert LONG_NAMES in source.missing


def test_record_from_a_capture_with_a_huge_name_cuts_it_and_says_so_once(capsys, tmp_path):
    path = write(tmp_path, capture([[5, 0, 0, 4096, 4096], [6, 0, 0, 4096, 4096]],
                                   [[7, "p", [5, 6]]], names=["n" * 150_000]))
    out = tmp_path / "rec.zmrec"
    code, _, err = run(capsys, "record", "--from", path, out)
    assert code == 0
    assert err.count("\n") == 1 and "names longer than 31 bytes" in err
    recording = Recording.open(out)
    assert recording.errors == []
    assert {v.name for v in recording.snapshot_at(0).vmos.values()} == {"n" * 31}


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_file_is_refused_before_it_is_read(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    done = subprocess.run([sys.executable, "-m", "zmtop", "ps", "--from", device],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == f"zmtop: {device}: not a regular file\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
@pytest.mark.parametrize("argv", [("ps",), ()])
def test_a_fifo_is_refused_without_blocking(tmp_path, argv):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "zmtop", *argv, "--from", str(fifo)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == f"zmtop: {fifo}: not a regular file\n"


def test_a_file_past_the_maximum_size_is_refused(tmp_path, monkeypatch):
    path = write(tmp_path, capture([[5, 0, 0, 4096, 4096]], [[7, "p", [5]]]))
    monkeypatch.setattr(detect, "MAX_INPUT_BYTES", path.stat().st_size - 1)
    with pytest.raises(SourceError, match=r"capture\.json: larger than 0 MB"):
        load_source(path)
    monkeypatch.setattr(detect, "MAX_INPUT_BYTES", path.stat().st_size)
    assert load_source(path).kind == "capture"


def test_a_poll_printing_without_end_is_stopped_at_the_limit():
    endless = [sys.executable, "-c", "import sys\nwhile True: sys.stdout.write('y' * 65536)"]
    with pytest.raises(SourceError, match="printed more than 1 MB on stdout; stopped it"):
        run_capped(endless, timeout=60, limit=1 << 20)
    code, out, err = run_capped([sys.executable, "-c", "print('hi')"], timeout=60)
    assert (code, out, err) == (0, b"hi\n", b"")


def test_a_poll_that_hangs_is_stopped_at_its_timeout():
    with pytest.raises(subprocess.TimeoutExpired):
        run_capped([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)


def test_a_failing_poll_s_stderr_is_escaped(capsys):
    command = f"{sys.executable} -c \"import sys; sys.exit('gone\\x1b[2J\\x07')\""
    code, _, err = run(capsys, "ps", "--poll", command)
    line = one_error_line(err)
    assert code == 2 and line.endswith("exit status 1: gone\\x1b[2J\\x07")
    assert "\x1b" not in err and "\x07" not in err


# --- 6: numbers out of range -------------------------------------------------------------------


@pytest.mark.parametrize(("doc", "message"), [
    (capture([[2**64 - 1, 0, 0, 1, 1]], [[7, "p", []]]),
     "Vmos[1][0]: 18446744073709551615 is out of range (0 to 2**63-2)"),
    (capture([[5, 0, 0, 1, 1]], [[2**63 - 1, "p", [5]]]),
     "Processes[1][0]: 9223372036854775807 is out of range (0 to 2**63-2)"),
    (capture([[5, 0, 0, 2**62, 1], [6, 0, 0, 2**62, 1]], [[7, "p", [5, 6]]]),
     "Vmos: committed bytes add up to 9223372036854775808, more than zmtop can hold"),
])
def test_capture_values_past_what_a_recording_holds_are_refused(capsys, tmp_path, doc,
                                                                  message):
    code, _, err = run(capsys, "ps", "--from", write(tmp_path, doc))
    assert code == 2 and one_error_line(err).startswith(f"zmtop: {tmp_path}/capture.json: "
                                                         f"{message}")


def test_the_largest_koid_still_records(capsys, tmp_path):
    koid = 2**63 - 2  # the synthetic root job takes the next: 2**63 - 1
    path = write(tmp_path, capture([[koid, 0, 0, 4096, 4096]], [[7, "p", [koid]]]))
    code, _, err = run(capsys, "record", "--from", path, tmp_path / "rec.zmrec")
    assert (code, err) == (0, "")
    assert Recording.open(tmp_path / "rec.zmrec").snapshot_at(0).root_job == 2**63 - 1


def test_memgraph_values_past_range_are_refused_with_their_path(memgraph_doc):
    record, vmo = vmo_records(memgraph_doc)[0]
    doc = relisted(memgraph_doc, vmo["koid"], size_bytes=2**64 - 1)
    with pytest.raises(SourceError, match=r"^\[\d+\]\.vmos\[\d+\]\.size_bytes: 18446744073709551615 "
                                          r"is out of range"):
        parse_memgraph(json.dumps(doc).encode(), "m")
    doc = relisted(memgraph_doc, vmo["koid"], committed_bytes=2**62)
    other = next(v for _, v in vmo_records(memgraph_doc) if v["koid"] != vmo["koid"])
    doc = relisted(doc, other["koid"], committed_bytes=2**62)
    with pytest.raises(SourceError, match="^vmos: committed bytes add up to"):
        parse_memgraph(json.dumps(doc).encode(), "m")


@pytest.mark.parametrize("argv", [
    ("kstats", "--tick", "nan"), ("kstats", "--tick", "inf"), ("kstats", "--tick", "1e308"),
    ("kstats", "-t", "--tick", "1e12"), ("kstats", "--tick", "-1"), ("kstats", "--tick", "x"),
    ("--tick", "nan"), ("--tick", "inf"),  # the monitor
    ("ps", "--ticks", "10000001"), ("ps", "--ticks", "1e3"), ("kstats", "-n", "10000001"),
])
def test_numeric_options_out_of_range_are_one_line(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    line = one_error_line(err)
    assert line.split()[1] in ("--tick", "--ticks", "-n")


def test_numeric_options_at_their_bounds_are_accepted(capsys):
    code, out, _ = run(capsys, "kstats", "-t", "--tick", "3600", "--ticks", "2", "-n", "2")
    assert code == 0 and out.count("---") == 4


# --- 7: a failed poll is a visible gap ---------------------------------------------------------


def flaky_poll(tmp_path, good: int) -> str:
    """A poll command that prints a capture `good` times, then fails each time."""
    path = write(tmp_path, capture([[5, 0, 0, 4096, 4096]], [[7, "p", [5]]]))
    count, script = tmp_path / "count", tmp_path / "poll.py"
    script.write_text(
        "import pathlib, sys\n"
        f"count = pathlib.Path({str(count)!r})\n"
        "n = int(count.read_text()) if count.exists() else 0\n"
        "count.write_text(str(n + 1))\n"
        f"if n >= {good}:\n"
        "    sys.exit('device went away\\x1b[0m')\n"
        f"sys.stdout.write(pathlib.Path({str(path)!r}).read_text())\n")
    return f"{sys.executable} {script}"


def test_record_poll_marks_each_failed_tick_and_warns(capsys, tmp_path):
    out = tmp_path / "rec.zmrec"
    code, _, err = run(capsys, "record", "--poll", flaky_poll(tmp_path, 2), "--ticks", "3",
                       out)
    assert code == 0
    warnings = err.splitlines()
    assert [w.split(":")[2].strip() for w in warnings] == ["tick 2", "tick 3"]
    assert all("device went away\\x1b[0m" in w and "repeats the last good data" in w
               for w in warnings)
    recording = Recording.open(out)
    marked = [(tick, event.kind) for tick, event in recording.events()]
    assert marked == [(2, POLL_FAILED), (3, POLL_FAILED)]
    gap = recording.snapshot_at(2)
    assert gap.events[0].text.endswith("device went away\\x1b[0m")
    assert gap.changes == Changes() and gap.vmos == recording.snapshot_at(1).vmos


def test_kstats_poll_warns_of_each_failed_tick(capsys, tmp_path):
    code, out, err = run(capsys, "kstats", "--poll", flaky_poll(tmp_path, 1), "-n", "3")
    assert code == 0 and out.count("mem total") == 3
    assert [w.split(":")[2].strip() for w in err.splitlines()] == ["tick 1", "tick 2"]


def test_a_poll_that_fails_then_recovers_carries_no_mark(tmp_path):
    source = PollSource(flaky_poll(tmp_path, 1), 1.0, timeout=30)
    failed = source.step()
    assert [e.kind for e in failed.events] == [POLL_FAILED] and source.error
    (tmp_path / "count").write_text("0")
    assert source.step().events == () and source.error is None


def test_the_timeline_marks_a_failed_poll():
    assert POLL_FAILED in EVENT_MARKS
    columns = event_columns([(3, Event("process-exit", 9, "x")), (3, Event(POLL_FAILED, 0, "e"))],
                            0, 10, 11)
    assert columns == {3: POLL_FAILED}


async def test_the_monitor_shows_a_failed_poll_escaped(tmp_path):
    source = PollSource(flaky_poll(tmp_path, 1), 1.0, timeout=30)
    app = ZmtopApp(source, autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("full_stop")
        await pilot.pause()
        widget = app.screen.query_one(SourceNotice)
        said = widget.render().plain
        assert "poll failed:" in said and "device went away\\x1b[0m" in said
        assert "\x1b" not in said


async def test_the_monitor_says_names_were_cut(tmp_path):
    path = write(tmp_path, capture([[5, 0, 0, 4096, 4096]], [[7, "p" * 64, [5]]]))
    app = ZmtopApp(load_source(path), autostart=False)
    async with app.run_test(size=(120, 40)):
        said = app.screen.query_one(SourceNotice).render().plain
        assert "names longer than Zircon's 31 bytes: cut to 31" in said


# --- 10: the importers agree -------------------------------------------------------------------


def test_memgraph_refuses_a_vmo_parent_cycle(capsys, tmp_path, memgraph_doc):
    first, second = [v["koid"] for _, v in vmo_records(memgraph_doc)[:2]]
    doc = relisted(relisted(memgraph_doc, first, parent_koid=second), second, parent_koid=first)
    path = write(tmp_path, doc, "memgraph.json")
    code, _, err = run(capsys, "export", "--format", "capture", "--from", path)
    assert code == 2
    assert one_error_line(err) in (f"zmtop: {path}: vmos: VMO {k} is its own ancestor"
                                   for k in (first, second))


@pytest.mark.parametrize("kind", ["vmo", "p", "t", "j"])
def test_memgraph_refuses_koid_0(capsys, tmp_path, memgraph_doc, kind):
    doc = json.loads(json.dumps(memgraph_doc))
    if kind == "vmo":
        _, vmo = vmo_records(doc)[0]
        doc = relisted(doc, vmo["koid"], koid=0)
    else:
        record = next(r for r in doc if r["type"] == kind and "koid" in r)
        record["koid"] = 0
    path = write(tmp_path, doc, "memgraph.json")
    code, _, err = run(capsys, "ps", "--from", path)
    assert code == 2 and one_error_line(err).endswith(".koid: koid 0 is invalid")


def test_memgraph_refuses_a_thread_listed_twice(memgraph_doc):
    doc = json.loads(json.dumps(memgraph_doc))
    threads = [r for r in doc if r["type"] == "t"]
    threads[1]["koid"] = threads[0]["koid"]
    with pytest.raises(SourceError, match=rf"\.koid: thread {threads[0]['koid']} listed twice"):
        parse_memgraph(json.dumps(doc).encode(), "m")


def test_capture_refuses_process_koid_0():
    with pytest.raises(SourceError, match=r"^Processes\[1\]\[0\]: koid 0 is invalid$"):
        parse_capture(capture([[5, 0, 0, 1, 1]], [[0, "p", [5]]]), "c")


def test_what_memgraph_import_accepts_exports_to_a_capture_zmtop_reads(capsys, tmp_path,
                                                                        memgraph_doc):
    doc = json.loads(json.dumps(memgraph_doc))
    for record in doc:
        if record["type"] == "p":
            record["name"] = "process name longer than thirty-one bytes"
    path = write(tmp_path, doc, "memgraph.json")
    out = tmp_path / "capture.json"
    code, _, err = run(capsys, "export", "--format", "capture", "--from", path, "-o", out)
    assert code == 0 and "names longer than 31 bytes" in err
    again = load_source(out)
    assert LONG_NAMES not in again.missing
    assert {p.name for p in again.snapshot.processes.values()} == {
        "process name longer than thirty"}

