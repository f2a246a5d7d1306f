"""The batch commands: what they print, their determinism, and their one-line errors."""

import json
import subprocess
import sys

import pytest

from zmtop.cli.main import main
from zmtop.engine.formats import psutils
from zmtop.engine.sim.simulation import Simulation


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def sim_at_3():
    sim = Simulation("default", 1)
    for _ in range(3):
        sim.step()
    return sim


def test_ps_prints_what_the_model_says(capsys, sim_at_3):
    code, out, err = run(capsys, "ps", "--ticks", "3")
    assert code == 0 and err == ""
    assert out == psutils.ps_text(sim_at_3.snapshot)
    lines = out.splitlines()
    assert lines[0] == lines[-1] and lines[0].startswith("TASK")
    assert lines[1].startswith("j: ") and lines[1].endswith(" root")


def test_source_options_go_before_or_after_the_command(capsys):
    _, before, _ = run(capsys, "--scenario", "leak", "--seed", "4", "ps")
    _, after, _ = run(capsys, "ps", "--scenario", "leak", "--seed", "4")
    _, other, _ = run(capsys, "ps")
    assert before == after != other


@pytest.mark.parametrize("argv", [
    ("ps", "-J"), ("ps", "-T"), ("ps", "--units", "M"), ("kstats", "-n", "3", "-t"),
    ("vmos", "--hidden"),
])
def test_same_seed_and_ticks_give_byte_identical_output(capsys, argv):
    _, first, _ = run(capsys, *argv, "--ticks", "5", "--seed", "7")
    _, second, _ = run(capsys, *argv, "--ticks", "5", "--seed", "7")
    assert first == second and first


def test_vmaps_and_vmos_of_a_process(capsys, sim_at_3):
    snap = sim_at_3.snapshot
    koid = next(p.koid for p in snap.processes.values() if p.name == "blobfs.cm")
    code, out, _ = run(capsys, "vmaps", str(koid), "--ticks", "3")
    assert code == 0 and out == psutils.vmaps_text(snap, koid)
    assert out.startswith("/A ") and f"'proc:{koid}'" in out.splitlines()[0]
    code, out, _ = run(capsys, "vmos", str(koid), "--ticks", "3")
    assert code == 0 and out == psutils.vmos_text(snap, koid)


def test_kstats_prints_one_block_per_tick(capsys):
    code, out, _ = run(capsys, "kstats", "-n", "4", "-t")
    assert code == 0
    assert out.count("mem total") == 4
    stamps = [line for line in out.splitlines() if line.startswith("--- ")]
    assert stamps == [f"--- 2026-01-01T00:00:0{i}.000Z ---" for i in range(4)]


def test_json_uses_the_real_field_names(capsys):
    _, out, _ = run(capsys, "kstats", "--json", "-n", "2")
    blocks = json.loads(out)
    assert len(blocks) == 2
    assert set(blocks[0]) == {"total_bytes", "free_bytes", "wired_bytes", "total_heap_bytes",
                              "free_heap_bytes", "vmo_bytes", "mmu_overhead_bytes",
                              "ipc_bytes", "other_bytes"}
    _, out, _ = run(capsys, "ps", "--json")
    records = json.loads(out)
    assert records[0]["type"] == "j" and records[0]["parent"] == "kernel/vmo"
    process = next(r for r in records if r["type"] == "p")
    assert {"private_bytes", "shared_bytes", "pss_bytes"} <= set(process)
    _, out, _ = run(capsys, "vmos", "--hidden", "--json")
    assert all("committed_bytes" in v and "share_count" in v for v in json.loads(out))


@pytest.mark.parametrize("argv, message", [
    (("vmaps", "999999"), "no process with koid 999999"),
    (("vmos", "999999"), "no process with koid 999999"),
    (("vmos",), "vmos takes a process koid or --hidden"),
    (("ps", "--scenario", "nope"), "unknown scenario 'nope'"),
    (("ps", "--job", "5"), "no job with koid 5"),
    (("ps", "--units", "q"), "--units takes one of"),
    (("--units", "kB"), "--units takes one of"),
    (("replay", "x.zmrec", "--units", "K"), "--units takes one of"),
    (("ps", "--seed", "x"), "invalid int value"),
    (("kstats", "-n", "0"), "-n takes a count"),
    (("ps", "--ticks", "-1"), "--ticks must be 0 or more"),
    (("frobnicate",), "invalid choice"),
])
def test_errors_are_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("zmtop: ") and message in err


def test_python_dash_m_entry_point():
    done = subprocess.run([sys.executable, "-m", "zmtop", "ps", "-J"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("TASK")
    done = subprocess.run([sys.executable, "-m", "zmtop", "vmaps", "1"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_version_prints_the_installed_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"zmtop {version('zmtop')}\n"


def test_keys_lists_every_binding_id_for_the_keymap(capsys):
    from zmtop.tui.bindings import binding_ids

    with pytest.raises(SystemExit) as exit_:
        main(["--keys"])
    assert exit_.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(binding_ids())
    assert any(line.split() == ["table.sort", "s,f6"] for line in lines)
