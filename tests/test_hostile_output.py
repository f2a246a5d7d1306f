"""Output that cannot be written: a full disk, a file that fills up, a closed pipe, a
directory given as the file. Every case is one line on stderr and exit status 2 (a closed
pipe: quiet, 141), never a traceback, never output cut short with exit status 0. And
`--record` is not silently ignored where it records nothing."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest

from zmtop.cli.main import main
from zmtop.engine.recording.reader import Recording

FULL = "zmtop: cannot write output: No space left on device\n"
TOO_LARGE = "zmtop: cannot write output: File too large\n"
TIMEOUT = 60


def zmtop(*argv, unbuffered=False, limit=None, cwd=None, **streams):
    """Run `python -m zmtop ARGV` (`-u`: unbuffered); `limit` caps the size of any file it
    writes (RLIMIT_FSIZE), so a write past it is cut short, then fails: a disk filling up."""
    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    command = [sys.executable, *(["-u"] if unbuffered else []), "-m", "zmtop", *map(str, argv)]
    return subprocess.run(command, stderr=subprocess.PIPE, text=True, timeout=TIMEOUT, cwd=cwd,
                          preexec_fn=cap if limit else None, **streams)


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "rec.zmrec"
    assert main(["record", str(path), "--scenario", "churn", "--seed", "2", "--ticks", "6"]) == 0
    return path


@pytest.mark.parametrize("unbuffered", [False, True])
@pytest.mark.parametrize("argv", [
    ("ps",), ("kstats", "-n", "2", "--json"), ("kzx", "ps"), ("digest",),
    ("export", "--format", "memgraph"), ("--version",), ("--help",),
])
def test_a_full_disk_is_one_line_and_exit_2(argv, unbuffered):
    with open("/dev/full", "w") as full:
        done = zmtop(*argv, unbuffered=unbuffered, stdout=full)
    assert (done.returncode, done.stderr) == (2, FULL)


@pytest.mark.parametrize("unbuffered", [False, True])
@pytest.mark.parametrize("argv", [("ps",), ("export", "--format", "capture")])
def test_a_disk_that_fills_up_is_not_output_cut_short_with_status_0(tmp_path, argv,
                                                                    unbuffered):
    whole = zmtop(*argv, stdout=subprocess.PIPE)
    assert whole.returncode == 0 and len(whole.stdout) > 4000
    out = tmp_path / "out.txt"
    with open(out, "w") as file:
        done = zmtop(*argv, unbuffered=unbuffered, limit=4000, stdout=file)
    assert (done.returncode, done.stderr) == (2, TOO_LARGE)
    assert whole.stdout.startswith(out.read_text())


@pytest.mark.parametrize("unbuffered", [False, True])
@pytest.mark.parametrize("argv", [("ps",), ("export", "--format", "memgraph"), ("--help",)])
def test_a_closed_pipe_ends_quietly(argv, unbuffered):
    command = [sys.executable, *(["-u"] if unbuffered else []), "-m", "zmtop", *argv]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        child.stdout.close()  # the reader is gone before zmtop writes a byte
        try:
            err = child.stderr.read()
            code = child.wait(timeout=TIMEOUT)
        finally:
            child.kill()
    assert (code, err) == (141, b"")


def test_a_pipeline_into_head_prints_the_first_line_only():
    done = subprocess.run(["sh", "-c", f"'{sys.executable}' -m zmtop kzx ps | head -1"],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.stdout.count("\n") == 1 and done.stderr == ""


@pytest.mark.parametrize("argv", [
    ("export", "--format", "csv", "-o", "{dir}"),
    ("treemap", "-o", "{dir}"),
    ("treemap", "-o", "/dev/full"),
    ("export", "--format", "memgraph", "-o", "missing/out.json"),
    ("record", "{dir}"),
    ("record", "/dev/full"),
    ("record", "missing/out.zmrec"),
])
def test_a_file_that_cannot_be_written_is_one_line_naming_it(tmp_path, argv):
    (tmp_path / "adir").mkdir()
    argv = [a.format(dir="adir") for a in argv]
    done = zmtop(*argv, cwd=tmp_path, stdout=subprocess.PIPE)
    name = argv[-1]
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"zmtop: {name}: ") and done.stderr.count("\n") == 1


@pytest.mark.parametrize("argv", [("export", "--format", "capture"), ("treemap",)])
def test_a_file_that_fills_up_is_one_line_naming_it(tmp_path, argv):
    out = tmp_path / "out"
    done = zmtop(*argv, "-o", out, limit=4000)
    assert (done.returncode, done.stderr) == (2, f"zmtop: {out}: File too large\n")


def test_a_replay_is_not_recorded_again(recording, tmp_path, capsys):
    out = tmp_path / "out.zmrec"
    assert main(["--from", str(recording), "--record", str(out)]) == 2
    assert main(["--record", str(out), "replay", str(recording)]) == 2
    message = f"zmtop: --record: a replay is not recorded again ({recording} is a recording)\n"
    assert capsys.readouterr().err == message * 2
    assert not out.exists()


def test_record_is_refused_with_a_batch_command(tmp_path, capsys):
    out = tmp_path / "out.zmrec"
    assert main(["--record", str(out), "ps"]) == 2
    assert capsys.readouterr() == ("", "zmtop: --record records the live monitor, not 'ps' "
                                       "(to record headless: zmtop record FILE)\n")
    assert not out.exists()


def test_record_from_a_recording_records_its_ticks_again(recording, tmp_path, capsys):
    whole, part = tmp_path / "whole.zmrec", tmp_path / "part.zmrec"
    assert main(["record", "--from", str(recording), str(whole)]) == 0
    assert main(["record", "--from", str(recording), "--at", "2", "--ticks", "3",
                 str(part)]) == 0
    original = Recording.open(recording)
    again, sliced = Recording.open(whole), Recording.open(part)
    assert again.ticks == original.ticks and sliced.ticks == [2, 3, 4, 5]
    assert again.metadata.scenario == "churn" and again.metadata.seed == 2
    assert again.metadata == sliced.metadata == original.metadata
    for tick in (2, 5):
        assert again.snapshot_at(tick) == sliced.snapshot_at(tick) == original.snapshot_at(tick)
    assert capsys.readouterr().err == ""


def test_record_from_a_recording_past_its_end_writes_nothing(recording, tmp_path, capsys):
    out = tmp_path / "out.zmrec"
    assert main(["record", "--from", str(recording), "--at", "4", "--ticks", "3", str(out)]) == 2
    assert capsys.readouterr().err == (f"zmtop: {recording}: --ticks 3 from tick 4 runs past "
                                       f"the last tick 6\n")
    assert not out.exists()


def test_record_from_a_recording_onto_itself_keeps_it(recording, tmp_path, capsys,
                                                      monkeypatch):
    before = recording.read_bytes()
    same = os.path.relpath(recording, tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["record", "--from", str(recording), same]) == 2
    assert capsys.readouterr().err == (f"zmtop: {same}: this is the --from recording; "
                                       f"record to another file\n")
    assert recording.read_bytes() == before
