"""Every source through the batch commands: imports, polls, and the views built on them."""

import json
import sys

import pytest
from real_capture import BUCKETS, CAPTURE

from zmtop.cli.main import main
from zmtop.engine.analysis.digest import digest, digest_text, load_buckets
from zmtop.engine.formats import kzx, psutils
from zmtop.engine.formats.capture import capture_json
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.sources.memgraph_reader import to_memgraph


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def snap():
    return Simulation("default", 1).snapshot


@pytest.fixture
def files(tmp_path, snap):
    capture = tmp_path / "capture.json"
    capture.write_text(capture_json(snap))
    memgraph = tmp_path / "memgraph.json"
    memgraph.write_text(to_memgraph(snap))
    return capture, memgraph


def test_from_detects_a_capture_and_a_memgraph_by_content(capsys, files, snap):
    capture, memgraph = files
    code, out, _ = run(capsys, "ps", "--from", memgraph)
    assert code == 0 and out == psutils.ps_text(snap)
    code, out, _ = run(capsys, "digest", "--from", capture)
    assert code == 0 and out == digest_text(digest(snap, load_buckets()))


def test_at_is_refused_for_a_one_moment_import(capsys, files):
    code, _, err = run(capsys, "ps", "--from", files[0], "--at", 3)
    assert code == 2 and "--at needs a recording" in err


def test_digest_of_the_real_capture_in_all_three_shapes(capsys):
    code, text, _ = run(capsys, "digest", "--from", CAPTURE, "--buckets", BUCKETS)
    assert code == 0 and "Undigested" in text and "Kernel" in text and "Free" in text
    _, csv, _ = run(capsys, "digest", "--from", CAPTURE, "--buckets", BUCKETS, "--csv")
    assert all(len(line.split(",")) == 3 for line in csv.splitlines())
    _, out, _ = run(capsys, "digest", "--from", CAPTURE, "--buckets", BUCKETS, "--json")
    sizes = {b["name"]: b["size"] for b in json.loads(out)["buckets"]}
    assert sizes and all(isinstance(size, int) for size in sizes.values())


def test_poll_runs_the_command_and_reads_what_it_prints(capsys, files, snap):
    command = f"{sys.executable} -c \"import sys; sys.stdout.write(open(sys.argv[1]).read())\" "
    code, out, err = run(capsys, "ps", "--poll", command + str(files[1]))
    assert code == 0 and out == psutils.ps_text(snap), err


@pytest.mark.parametrize("argv, message", [
    (("ps", "--poll", "false"), "--poll 'false': exit status 1"),
    (("ps", "--poll", "'unbalanced"), "--poll: No closing quotation"),
    (("ps", "--poll", "/no/such/tool"), "No such file or directory"),
    (("ps", "--poll", "echo {"), "--poll 'echo {'"),
    (("ps", "--from", "x", "--poll", "true"), "choose one"),
    (("digest", "--buckets", "/no/such.json"), "/no/such.json"),
])
def test_bad_sources_are_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


def test_export_round_trips_through_import(capsys, tmp_path, snap):
    out_file = tmp_path / "export.json"
    assert run(capsys, "export", "--format", "capture", "-o", out_file)[0] == 0
    _, via_import, _ = run(capsys, "digest", "--from", out_file)
    _, direct, _ = run(capsys, "digest")
    assert via_import == direct
    _, csv, _ = run(capsys, "export", "--format", "csv")
    sec, koid, name, private, scaled, total = csv.splitlines()[0].split(",")  # ffx: no header
    assert int(koid) in Simulation("default", 1).snapshot.processes
    _, memgraph, _ = run(capsys, "export", "--format", "memgraph")
    assert json.loads(memgraph)[-1]["type"] == "__META"


@pytest.mark.slow
def test_kzx_commands_print_the_console_formats(capsys, snap):
    koid = next(iter(snap.processes))
    for words, expected in [
        (["ps"], kzx.ps_text(snap)), (["ps", "help"], kzx.PS_HELP),
        (["jobs"], kzx.jobs_text(snap)), (["vmos", "hidden"], kzx.vmos_text(snap, "hidden")),
        (["vmos", "all", "-uk"], kzx.vmos_text(snap, "all", "k")),
        (["vmos", koid], kzx.vmos_text(snap, koid)), (["ht", koid], kzx.ht_text(snap, koid)),
        (["koid", koid], kzx.koid_text(snap, koid)), (["asd", "kernel"], kzx.asd_text(snap, "kernel")),
        (["asd", "k"], kzx.asd_text(snap, "kernel")), (["asd", koid], kzx.asd_text(snap, koid)),
        (["mwd", 1], kzx.mwd_text(snap, 1)),
    ]:
        code, out, err = run(capsys, "kzx", *words)
        assert code == 0 and out == expected, (words, err)
    code, out, _ = run(capsys, "kzx", "ps", "--json", "--ticks", 2)
    assert code == 0 and isinstance(json.loads(out), list)


@pytest.mark.parametrize("words, message", [
    ((), "kzx needs a command"), (("frob",), "unknown command 'frob'"),
    (("ht", "abc"), "the process must be a number"), (("ht", 5), "process 5 not found"),
    (("vmos",), "takes one"), (("vmos", "all", "-uMM"), "-u takes one unit letter"),
    (("koid", "--", "-1"), "the koid must be 0 to 18446744073709551615, not '-1'"),
    (("ht", 2**64), "the process must be 0 to 18446744073709551615"),
    (("mwd", 2**44), "the limit must be 0 to 17592186044415, not '17592186044416'"),
])
def test_kzx_errors_are_one_line(capsys, words, message):
    code, out, err = run(capsys, "kzx", *words)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


def test_treemap_writes_one_self_contained_page(capsys, tmp_path):
    page = tmp_path / "mem.html"
    assert run(capsys, "treemap", "-o", page)[0] == 0
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert "https://" not in html and "http://" not in html
    code, _, err = run(capsys, "treemap", "-o", tmp_path / "no" / "dir" / "x.html")
    assert code == 2 and "No such file or directory" in err


@pytest.mark.parametrize("argv", [("export", "--format", "csv", "-o"), ("treemap", "-o"),
                                  ("record",), ("replay",), ("ps", "--from"), ("--record",),
                                  ("digest", "--buckets")])
def test_an_empty_file_name_is_refused_in_one_line(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv, "")
    assert code == 2 and out == "" and err == "zmtop: a FILE argument is empty: it names no file\n"
    assert list(tmp_path.iterdir()) == []
