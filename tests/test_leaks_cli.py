"""`zmtop leaks` and `zmtop kstats --eta`: the trends in batch, from every kind of source."""

from __future__ import annotations

import json

from tests.capture_series import capture_series_command
from zmtop.cli.main import main
from zmtop.engine.formats.capture import to_capture
from zmtop.engine.sim.simulation import Simulation

KILL = 46  # the oom scenario, seed 1: its runaway's job is killed at this tick


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_leaks_names_the_leaker_with_the_vmos_that_grew(capsys):
    code, out, err = run(capsys, "leaks", "--scenario", "leak", "--ticks", 30, "--json")
    assert code == 0 and not err
    report = json.loads(out)
    assert report["ticks"] == 31 and report["seconds"] == 30.0
    first = report["suspects"][0]
    assert first["name"] == "cobalt.cm" and first["apss_per_minute"] > 1 << 20
    assert 0.8 <= first["fit"] <= 1 and first["grew"] >= 0.5
    assert "cobalt-event-buffer" in {v["name"] for v in first["vmos"]}
    text = run(capsys, "leaks", "--scenario", "leak", "--ticks", 30)[1].splitlines()
    assert text[0].startswith("leak suspects over 31 ticks (0:00:30): attributed PSS growing")
    assert text[2].split()[:2] == [str(first["koid"]), "cobalt.cm"]
    assert text[8].split()[:2] == ["and", str(len(first["vmos"]) - 5)]  # five shown


def test_a_recording_gives_the_window_ending_at_the_tick_asked(capsys, tmp_path):
    path = tmp_path / "leak.zmrec"
    assert run(capsys, "record", path, "--scenario", "leak", "--ticks", 50)[0] == 0
    live = run(capsys, "leaks", "--scenario", "leak", "--ticks", 40, "--window", 20, "--json")
    replayed = run(capsys, "leaks", "--from", path, "--at", 40, "--window", 20, "--json")
    assert replayed == live and json.loads(live[1])["ticks"] == 20


def test_the_default_device_has_its_one_slow_leak_and_the_window_is_stepped(capsys):
    report = json.loads(run(capsys, "leaks", "--json")[1])
    assert report["ticks"] == 60  # the --window steps, the last 60 ticks kept
    assert [s["name"] for s in report["suspects"]] == ["cobalt.cm"]


def test_no_trend_is_one_line_not_zeros(capsys, tmp_path):
    capture = tmp_path / "one.json"
    capture.write_text(json.dumps(to_capture(Simulation("default", 1).snapshot)))
    code, out, err = run(capsys, "leaks", "--from", capture)
    assert (code, out) == (2, "") and err == (
        f"zmtop: {capture}: a single capture has no trend; poll a series of them (--poll) "
        "or record one\n")
    code, out, err = run(capsys, "leaks", "--ticks", 3)
    assert code == 2 and err == "zmtop: 4 ticks make no trend: a trend needs 8 (step more " \
                                "with --ticks)\n"
    code, _, err = run(capsys, "leaks", "--window", 7)
    assert code == 2 and err == "zmtop: --window takes 8 to 3600 ticks, not 7\n"


def test_a_poll_series_of_captures_has_a_trend(capsys, tmp_path):
    command = capture_series_command(tmp_path, "leak", 12)
    code, out, err = run(capsys, "leaks", "--poll", command, "--window", 10, "--ticks", 11,
                         "--tick", 0.01, "--json")
    assert code == 0 and not err
    report = json.loads(out)
    assert report["ticks"] == 10 and report["suspects"][0]["name"] == "cobalt.cm"


def test_kstats_eta_foresees_the_oom_kill(capsys):
    tick = 25
    code, out, _ = run(capsys, "kstats", "--scenario", "oom", "--ticks", tick, "--eta", "--json")
    eta = json.loads(out)["eta"]
    assert code == 0 and eta["free_per_minute"] < 0
    (oom,) = [level["seconds"] for level in eta["levels"] if level["level"] == "OOM"]
    assert abs(oom - (KILL - tick)) <= 0.25 * (KILL - tick)
    text = run(capsys, "kstats", "--scenario", "oom", "--ticks", tick, "--eta")[1]
    last = text.splitlines()[-1]
    assert last.startswith("time to pressure: Critical in ~") and " OOM in ~" in last
    quiet = run(capsys, "kstats", "--scenario", "oom", "--eta")[1].splitlines()[-1]
    assert quiet == "time to pressure: no trend in 1 ticks (0:00:00)"
