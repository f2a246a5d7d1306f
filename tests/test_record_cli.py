"""`zmtop record`, `diff`, and `--from FILE --at TICK`: a recording prints like the simulation."""

import json

import pytest

from zmtop.cli.main import main
from zmtop.engine.recording.reader import Recording
from zmtop.engine.sim.simulation import Simulation

TICKS = 12


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "rec.zmrec"
    assert main(["record", str(path), "--scenario", "churn", "--seed", "3",
                 "--ticks", str(TICKS)]) == 0
    return path


def test_record_writes_tick_0_plus_n_quietly(recording, capsys):
    opened = Recording.open(recording)
    assert opened.ticks == list(range(TICKS + 1)) and opened.errors == []
    meta = opened.metadata
    assert (meta.scenario, meta.seed, meta.tick_seconds) == ("churn", 3, 1.0)
    assert meta.zmtop_version


@pytest.mark.parametrize("argv", [
    ("ps",), ("ps", "-T", "--json"), ("vmaps", "PROC"), ("vmos", "PROC"), ("vmos", "--hidden"),
    ("kstats", "-t"),
])
@pytest.mark.parametrize("at", [TICKS, 5])
def test_from_a_recording_prints_what_the_simulation_prints(capsys, recording, argv, at):
    sim = Simulation("churn", 3)
    proc = str(next(iter(sim.snapshot.processes)))
    argv = [proc if a == "PROC" else a for a in argv]
    _, live, _ = run(capsys, *argv, "--scenario", "churn", "--seed", "3", "--ticks", at)
    code, replayed, err = run(capsys, *argv, "--from", recording, "--at", at)
    assert code == 0 and err == "" and replayed == live and live


def test_from_defaults_to_the_last_tick_and_kstats_counts_on(capsys, recording):
    _, live, _ = run(capsys, "ps", "--scenario", "churn", "--seed", "3", "--ticks", TICKS)
    assert run(capsys, "ps", "--from", recording)[1] == live
    _, live, _ = run(capsys, "kstats", "-n", 3, "-t", "--scenario", "churn", "--seed", "3",
                     "--ticks", 4)
    assert run(capsys, "kstats", "-n", 3, "-t", "--from", recording, "--at", 4)[1] == live


@pytest.mark.parametrize("argv, message", [
    (("ps", "--from", "REC", "--at", 99), "REC: no tick 99 (it holds ticks 0 to 12)"),
    (("kstats", "-n", 3, "--from", "REC", "--at", 11),
     "REC: -n 3 from tick 11 runs past the last tick 12"),
    (("ps", "--from", "REC", "--ticks", 3), "--ticks simulates; with --from, pick the tick"),
    (("ps", "--at", 3), "--at needs --from FILE"),
    (("ps", "--from", "MISSING"), "MISSING: cannot read: No such file or directory"),
    (("diff", "REC", 0, 13), "REC: no tick 13"),
    (("record", "NODIR/x.zmrec", "--ticks", 1), "NODIR/x.zmrec: cannot create"),
])
def test_bad_input_is_one_line(capsys, recording, tmp_path, argv, message):
    names = {"REC": str(recording), "MISSING": str(tmp_path / "missing"),
             "NODIR": str(tmp_path / "no" / "dir")}
    argv = [names.get(str(a), str(a)).replace("NODIR", names["NODIR"]) for a in argv]
    message = message.replace("REC", names["REC"]).replace("MISSING", names["MISSING"])
    message = message.replace("NODIR", names["NODIR"])
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"zmtop: {message}") and err.count("\n") == 1


def test_a_cut_recording_warns_and_replays_what_is_complete(capsys, recording, tmp_path):
    cut = tmp_path / "cut.zmrec"
    data = recording.read_bytes()
    cut.write_bytes(data[:len(data) - 10])
    code, out, err = run(capsys, "kstats", "--from", cut)
    assert code == 0 and out.startswith("mem total")
    assert err.startswith(f"zmtop: warning: {cut}: frame at byte ") and "(tick 12)" in err


def test_diff_text_and_json(capsys, recording):
    code, out, _ = run(capsys, "diff", recording, 0, TICKS)
    assert code == 0 and out.startswith(f"tick 0 -> tick {TICKS} ({TICKS} s)\n")
    assert "KSTATS" in out
    code, out, _ = run(capsys, "diff", recording, 0, TICKS, "--json")
    data = json.loads(out)
    assert (data["tick_a"], data["tick_b"]) == (0, TICKS)
    assert [k["field"] for k in data["kstats"]][:2] == ["total_bytes", "free_bytes"]
