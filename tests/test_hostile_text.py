"""Hostile text from a device or a file (issue 13): bucket names and pressure levels that
would drive a terminal, bucket patterns that would hang a backtracking regex engine, and
names that would break CSV rows."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time

import pytest
from msgspec import structs

from tests.real_capture import BUCKETS, CAPTURE
from tests.terminal_safety import RAW, raw_in
from zmtop.engine.analysis.digest import (
    digest,
    digest_csv,
    digest_json,
    digest_text,
    load_buckets,
    parse_buckets,
)
from zmtop.engine.formats.capture import to_csv
from zmtop.engine.formats.names import json_safe, safe_name
from zmtop.engine.recording.reader import Recording
from zmtop.engine.recording.writer import Recorder, metadata_for
from zmtop.engine.sim.pressure import LEVELS
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.sources.detect import load_source
from zmtop.engine.sources.json_input import SourceError, cut_name

TAKEOVER = "\x1b]0;title\x07\x1b[2J\x1b[7m"  # set the title, clear the screen, reverse video
SPOOF = "\u202eexe.txt\u200b\u2066x\u2069"  # bidi override, zero-width space, isolate


def wrapped(tmp_path, buckets, rename: dict[int, str] | None = None):
    """The real capture wrapped with `buckets`, as `ffx profile memory --debug-json` writes
    it, with some processes renamed (by row); the file's path."""
    capture = json.loads(CAPTURE.read_text())
    for row, name in (rename or {}).items():
        capture["Processes"][row][1] = name
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"Capture": capture, "Buckets": buckets}))
    return path


def zmtop(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "zmtop", *argv], capture_output=True,
                          timeout=timeout)


# --- 1. terminal takeover through names ------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("\u202eevil", "\\u202eevil"),
    ("a\u202ab\u202cc\u202dd", "a\\u202ab\\u202cc\\u202dd"),
    ("zw\u200b\u200c\u200d\u200e\u200f", "zw\\u200b\\u200c\\u200d\\u200e\\u200f"),
    ("\u2066iso\u2067\u2068\u2069", "\\u2066iso\\u2067\\u2068\\u2069"),
    ("\u2028line\u2029para", "\\u2028line\\u2029para"),
    ("\ufeffbom\u2060wj\u061calm\u00adshy", "\\ufeffbom\\u2060wj\\u061calm\\u00adshy"),
    ("tag\U000e0041", "tag\\U000e0041"),
    ("\u2010\u202f\u2065\u200a\u00a0", "\u2010\u202f\u2065\u200a\u00a0"),  # neighbours
    (TAKEOVER, "\\x1b]0;title\\x07\\x1b[2J\\x1b[7m"),
])
def test_safe_name_escapes_bidi_and_zero_width(name, expected):
    assert safe_name(name) == expected
    assert safe_name(expected) == expected  # idempotent: escaping twice changes nothing


def test_bucket_names_are_escaped_where_the_config_is_read(tmp_path):
    path = wrapped(tmp_path, [{"name": TAKEOVER, "process": ".*", "vmo": "blob.*"},
                              {"name": SPOOF, "vmo": ".*"}])
    source = load_source(path)
    assert [b.name for b in source.buckets] == [safe_name(TAKEOVER), safe_name(SPOOF)]
    config = tmp_path / "buckets.json"
    config.write_text(json.dumps([{"name": TAKEOVER}]))
    assert [b.name for b in load_buckets(config)] == [safe_name(TAKEOVER)]
    d = digest(source.snapshot, source.buckets, source.kernel_extended)
    for text in (digest_text(d), digest_csv(d), digest_json(d)):
        assert raw_in(text) == set()
        assert "\\x1b]0;title" in text


def test_digest_command_prints_no_control_bytes(tmp_path):
    path = wrapped(tmp_path, [{"name": TAKEOVER + SPOOF, "vmo": "blob.*"}],
                   rename={1: "proc" + TAKEOVER})
    for extra in ((), ("--csv",), ("--json",)):
        done = zmtop("digest", "--from", str(path), *extra)
        assert done.returncode == 0, done.stderr
        assert raw_in(done.stdout.decode()) == set()
        assert b"\\x1b]0;title" in done.stdout
    done = zmtop("export", "--from", str(path), "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert raw_in(done.stdout.decode()) == set() and b"proc\\x1b]0;title" in done.stdout


async def test_digest_screen_shows_bucket_names_escaped(tmp_path):
    from zmtop.tui.app import ZmtopApp
    from zmtop.tui.widgets.digest_table import DigestTable

    source = load_source(wrapped(tmp_path, [{"name": "x" + TAKEOVER, "vmo": ".*"}]))
    app = ZmtopApp(source, autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("D")
        await pilot.pause()
        table = app.screen.query_one(DigestTable)
        lines = [table.render_line(y).text for y in range(table.size.height)]
        assert any("x\\x1b]0;title\\x07" in line for line in lines)
        assert all(raw_in(line) == set() for line in lines)


def test_a_forged_pressure_level_is_shown_escaped(tmp_path):
    sim = Simulation("default", 1)
    path = tmp_path / "forged.zmrec"
    with Recorder(path, metadata_for(sim), keyframe_every=2) as recorder:
        recorder.append(sim.snapshot)
        recorder.append(structs.replace(sim.step(), pressure=TAKEOVER))  # a delta
        recorder.append(structs.replace(sim.step(), pressure=SPOOF))  # a keyframe
        recorder.append(sim.step())
    recording = Recording.open(path)
    assert recording.errors == []
    shown = [recording.snapshot_at(tick).pressure for tick in recording.ticks]
    assert shown[1:3] == [safe_name(TAKEOVER), safe_name(SPOOF)]
    assert shown[0] in LEVELS and shown[3] in LEVELS  # known levels pass as they are
    assert all(raw_in(level) == set() for level in shown)


# --- 2. ReDoS through bucket patterns --------------------------------------------------------


def test_a_catastrophic_pattern_finishes_fast(tmp_path):
    """`(a+)+$` against 40 a's and a b backtracks for centuries in Python's re; RE2 is
    linear. Bounded by the subprocess's timeout."""
    path = wrapped(tmp_path, [{"name": "Evil", "process": "(a+)+$", "vmo": "(x+x+)+y"},
                              {"name": "A", "process": "a+"}],
                   rename={1: "a" * 40 + "b", 2: "a" * 40})
    start = time.monotonic()
    done = zmtop("digest", "--from", str(path), timeout=30)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 30
    assert done.stdout.startswith(b"A: ") and b"\nEvil: 0B\n" in done.stdout


def test_matching_stays_a_full_match():
    (evil, part) = parse_buckets([{"name": "E", "process": "(a+)+$", "vmo": "(x+x+)+y"},
                                  {"name": "P", "process": ["net", "dhcpd"], "vmo": "b|c.*"}], "$")
    assert evil.process.fullmatch("a" * 40) and not evil.process.fullmatch("ab")
    assert evil.vmo.fullmatch("xxy") and not evil.vmo.fullmatch("xy")
    for _ in range(2):  # the second time from the cache, the same answers
        assert part.process.fullmatch("net") and part.process.fullmatch("dhcpd")
        assert not part.process.fullmatch("netstack") and not part.process.fullmatch("xnet")
        assert part.vmo.fullmatch("cat") and not part.vmo.fullmatch("ab")


@pytest.mark.parametrize(("pattern", "reason"), [
    ("(?=a)b", "invalid perl operator"),  # a look-ahead: Python's re takes it, RE2 does not
    ("(a)\\1", "invalid escape sequence"),  # a backreference
    ("a{1001}", "invalid repetition size"),
    ("(" * 5000, "missing )"),
], ids=["look-ahead", "backreference", "repetition", "unclosed"])
def test_a_pattern_re2_refuses_is_a_one_line_error(tmp_path, pattern, reason):
    path = wrapped(tmp_path, [{"name": "Fine", "vmo": "x"},
                              {"name": "Bad" + TAKEOVER, "process": pattern}])
    with pytest.raises(SourceError) as err:
        load_source(path)
    message = str(err.value)
    assert message.startswith(f"{path}: Buckets[1].process: invalid regex in bucket ")
    assert '"Bad\\x1b]0;title' in message and reason in message
    assert raw_in(message) == set() and "\n" not in message and len(message) < 400
    config = tmp_path / "buckets.json"
    config.write_text(json.dumps([{"name": "B", "vmo": pattern}]))
    with pytest.raises(SourceError, match=r'buckets\.json: \$\[0\]\.vmo: invalid regex in bucket "B"'):
        load_buckets(config)


def test_a_refused_pattern_exits_2_with_one_line(tmp_path):
    config = tmp_path / "buckets.json"
    config.write_text(json.dumps([{"name": "B", "process": "(?<!x)" + TAKEOVER}]))
    done = zmtop("digest", "--from", str(CAPTURE), "--buckets", str(config))
    assert done.returncode == 2 and done.stdout == b""
    err = done.stderr.decode()
    assert err.startswith(f"zmtop: {config}: $[0].process: invalid regex in bucket \"B\" (")
    assert err.count("\n") == 1 and raw_in(err) == set()


def test_the_real_and_default_configs_compile_under_re2():
    assert len(load_buckets(BUCKETS)) > 0 and len(load_buckets()) > 0


# --- 11. CSV ---------------------------------------------------------------------------------


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_digest_csv_quotes_only_what_must_be():
    names = ["plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "esc" + TAKEOVER]
    snap = Simulation("default", 1).snapshot
    config = [{"name": name, "vmo": f"nothing{i}"} for i, name in enumerate(names)]
    d = digest(snap, parse_buckets(config, "$"))
    text = digest_csv(d)
    sec = snap.time_ns // 1_000_000_000
    assert text.startswith(f'{sec},plain,0\n{sec},"a,b",0\n{sec},"say ""hi""",0\n'
                           f"{sec},two\\x0alines,0\n{sec},cr\\x0dhere,0\n")
    parsed = rows(text)
    assert len(parsed) == len(d.rows()) == text.count("\n")
    assert [row[1] for row in parsed[:len(names)]] == [safe_name(name) for name in names]
    assert all(len(row) == 3 for row in parsed) and raw_in(text) == set()


def test_capture_csv_keeps_every_row_whole(tmp_path):
    hostile = {1: "a,b", 2: 'q"uote', 3: "new\nline", 4: TAKEOVER + SPOOF}
    source = load_source(wrapped(tmp_path, [], rename=hostile))
    plain = to_csv(load_source(CAPTURE).snapshot).splitlines(keepends=True)
    text = to_csv(source.snapshot)
    parsed = rows(text)
    assert len(parsed) == len(plain) == text.count("\n")
    assert all(len(row) == 6 for row in parsed) and raw_in(text) == set()
    names = {row[2] for row in parsed}
    # Imported names are cut to Zircon's 31 bytes first (json_input.cut_name), then escaped.
    assert {"a,b", 'q"uote', "new\\x0aline", safe_name(cut_name(TAKEOVER + SPOOF))} <= names
    assert {'"a,b"', '"q""uote"'} <= {line.split(",", 2)[2].rsplit(",", 3)[0] for line in
                                     text.splitlines()}
    renamed = {str(koid) for koid in _koids(hostile)}
    assert [line for line in text.splitlines(keepends=True)
            if line.split(",")[1] not in renamed] == [
        line for line in plain if line.split(",")[1] not in renamed]


def _koids(rename: dict[int, str]) -> list[int]:
    capture = json.loads(CAPTURE.read_text())
    return [capture["Processes"][row][0] for row in rename]


def test_capture_json_escapes_what_json_leaves_raw():
    from zmtop.engine.formats.names import json_safe

    text = json.dumps({"name": "a\u200bb\u202e\x7f"}, ensure_ascii=False)
    safe = json_safe(text)
    assert json.loads(safe) == json.loads(text)
    assert not any(c in safe for c in "\u200b\u202e\x7f")


def test_memgraph_export_escapes_what_json_leaves_raw():
    from zmtop.engine.sources.memgraph_reader import to_memgraph

    snap = Simulation("default", 1).snapshot
    koid = next(iter(snap.processes))
    procs = {k: structs.replace(p, name=TAKEOVER + SPOOF) if k == koid else p
             for k, p in snap.processes.items()}
    text = to_memgraph(structs.replace(snap, processes=procs))
    assert not raw_in(text)
    names = {r.get("koid"): r["name"] for r in json.loads(text) if r.get("type") == "p"}
    assert names[koid] == TAKEOVER + SPOOF


def test_every_invisible_character_is_escaped_in_text_and_json():
    """By Unicode's own tables: nothing that must not reach a terminal stays raw, and JSON
    escaping gives the same string back."""
    text = "".join(sorted(RAW))
    assert not raw_in(safe_name(text).replace("\n", ""))
    written = json_safe(json.dumps(text, ensure_ascii=False))
    assert not raw_in(written) and json.loads(written) == text


# --- 4. enumerated fields read from a file ----------------------------------------------------


def test_a_thread_state_ps_does_not_know_prints_as_its_question_marks():
    """ps prints `???` for a state it has no name for: a forged one, or memgraph's own
    `<UNKNOWN>`; the JSON says `<UNKNOWN>` as memgraph does."""
    from zmtop.engine.formats.jsonout import tasks_json
    from zmtop.engine.formats.psutils import ps_text
    from zmtop.engine.snapshot.records import THREAD_STATES
    from zmtop.engine.sources.memgraph_reader import parse_memgraph, to_memgraph

    records = json.loads(to_memgraph(Simulation("default", 1).snapshot))
    threads = [r for r in records if r.get("type") == "t"]
    threads[0]["state"], threads[1]["state"] = TAKEOVER, "<UNKNOWN>"
    snap = parse_memgraph(json.dumps(records).encode(), "mg.json").snapshot
    text = ps_text(snap, threads=True)
    assert not raw_in(text)
    lines = {line.split()[1]: line for line in text.splitlines() if line.lstrip().startswith("t:")}
    for thread in threads[:2]:
        assert lines[str(thread["koid"])].split()[2] == "???"
    short = {memgraph: ps for ps, memgraph in THREAD_STATES.items()}[threads[2]["state"]]
    assert lines[str(threads[2]["koid"])].split()[2] == short  # a known state as it is
    states = {row["koid"]: row["state"] for row in tasks_json(snap, threads=True)
              if row["type"] == "t"}
    assert [states[t["koid"]] for t in threads[:3]] == ["<UNKNOWN>", "<UNKNOWN>",
                                                        threads[2]["state"]]


@pytest.fixture
def forged_event(tmp_path):
    """A recording whose tick 1 logs an event of a kind zmtop never writes."""
    from zmtop.engine.snapshot.records import Event

    sim = Simulation("default", 1)
    path = tmp_path / "forged.zmrec"
    with Recorder(path, metadata_for(sim)) as recorder:
        recorder.append(sim.snapshot)
        recorder.append(structs.replace(sim.step(), events=(Event(TAKEOVER, 0, "forged"),)))
    return path


def test_an_event_kind_from_a_recording_is_printed_escaped(forged_event):
    done = zmtop("events", "--from", str(forged_event))
    assert done.returncode == 0 and not raw_in(done.stdout.decode())
    assert safe_name(TAKEOVER) in done.stdout.decode()


async def test_an_event_kind_from_a_recording_is_shown_escaped(forged_event):
    from zmtop.engine.sources.replay import ReplaySource
    from zmtop.tui.replay_app import ReplayApp
    from zmtop.tui.screens.events import EventTable

    app = ReplayApp(ReplaySource(Recording.open(forged_event)), autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.action_move(1)
        await pilot.press("E")
        await pilot.pause()
        table = app.screen.query_one(EventTable)
        lines = [table.render_line(y).text for y in range(table.size.height)]
        assert any(safe_name(TAKEOVER)[:10] in line for line in lines)  # the column cuts it
        assert all(raw_in(line) == set() for line in lines)


# --- 5. every string a record holds, forged at once --------------------------------------------


@pytest.fixture(scope="module")
def forged_everywhere(tmp_path_factory):
    """A recording whose tick 1 holds hostile text in every string of its records: a job's,
    a process's, a thread's and a VMO's name, a thread's state, a map entry's name, a
    handle's type, the source, and an event's kind and text. Its path, the process's koid
    and the VMO's."""
    from zmtop.engine.snapshot.records import Event

    sim = Simulation("default", 1)
    first = sim.snapshot
    snap = sim.step()
    koid = next(k for k, p in snap.processes.items() if p.threads and p.handles and
                any(e.vmo_koid for e in p.maps))
    proc = snap.processes[koid]
    vmo = next(e.vmo_koid for e in proc.maps if e.vmo_koid)
    evil = TAKEOVER + SPOOF
    proc = structs.replace(
        proc, name=evil,
        threads=(structs.replace(proc.threads[0], name=evil, state=evil), *proc.threads[1:]),
        maps=tuple(structs.replace(e, name=evil) for e in proc.maps),
        handles=tuple(structs.replace(h, type=evil) for h in proc.handles))
    job = snap.jobs[proc.job_koid]
    forged = structs.replace(
        snap, source=evil, processes={**snap.processes, koid: proc},
        jobs={**snap.jobs, job.koid: structs.replace(job, name=evil)},
        vmos={**snap.vmos, vmo: structs.replace(snap.vmos[vmo], name=evil)},
        events=(Event(evil, koid, evil),))
    path = tmp_path_factory.mktemp("forged") / "everywhere.zmrec"
    with Recorder(path, metadata_for(sim), keyframe_every=1) as recorder:
        recorder.append(first)
        recorder.append(forged)
    return path, koid, vmo


@pytest.mark.parametrize("argv", [
    ["ps", "-T"], ["vmaps", "{process}"], ["vmos", "{process}"], ["vmos", "--hidden"],
    ["kzx", "ps"], ["kzx", "jobs"], ["kzx", "ht", "{process}"], ["kzx", "vmos", "all"],
    ["kzx", "koid", "{vmo}"], ["kzx", "asd", "{process}"], ["events"], ["digest"],
    ["export", "--format", "memgraph"], ["export", "--format", "capture"],
], ids=" ".join)
def test_no_command_prints_a_forged_string_raw(forged_everywhere, argv, capsys):
    from zmtop.cli.main import main

    path, process, vmo = forged_everywhere
    argv = [arg.format(process=process, vmo=vmo) for arg in argv]
    assert main([*argv, "--from", str(path), "--at", "1"]) == 0
    out, err = capsys.readouterr()
    assert out and not raw_in(out) and not raw_in(err)


@pytest.mark.slow
async def test_no_screen_shows_a_forged_string_raw(forged_everywhere):
    """The replay at the forged tick, every view and drill-down on the forged records: no
    line of the whole screen holds a character a terminal acts on."""
    from zmtop.engine.sources.replay import ReplaySource
    from zmtop.tui.replay_app import ReplayApp

    path, process, vmo = forged_everywhere
    app = ReplayApp(ReplaySource(Recording.open(path)), autostart=False)
    seen = []
    async with app.run_test(size=(160, 50)) as pilot:

        async def look(where: str) -> None:
            await pilot.pause()
            lines = [strip.text for strip in app.screen._compositor.render_strips()]
            assert not any(map(raw_in, lines)), where
            seen.append(where)

        app.action_move(1)
        await look("job tree")
        for key in ("T", "F5", "F5", "H", "H"):  # sparklines, the flat list, handle columns
            await pilot.press(key)
            await look(f"job tree {key}")
        for key in ("v", "h", "D", "K", "M", "E", "L"):
            await pilot.press(key)
            await look(key)
        await pilot.press("escape")
        app.open_process(process)
        await look("process")
        await pilot.press("H")
        await look("process H")
        app.open_vmo(vmo)
        await look("VMO")
    assert len(seen) == 16
