"""memory_monitor capture import/export and the summary attribution (reference 4.3, 4.4)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.capture import capture_json, summarize, to_capture, to_csv
from engine.digest import digest, load_buckets
from engine.imports import ImportedSource, SourceError, load_source, parse_source
from engine.simulation import Simulation
from engine.snapshot import FRACTION_ONE

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
CAPTURE = FIXTURES / "fuchsia-capture-2021.json"
needs_fixture = pytest.mark.skipif(
    not CAPTURE.exists(), reason=f"real capture fixture not found at {CAPTURE} "
    "(CI clones the repo beside shared/)")


@pytest.fixture(scope="module")
def real():
    return load_source(CAPTURE)


@needs_fixture
def test_real_capture_shape(real):
    snap = real.snapshot
    assert isinstance(real, ImportedSource) and real.kind == "capture"
    assert len(snap.processes) == 90
    assert snap.time_ns == 95724504776
    k = snap.kmem
    assert (k.total_bytes, k.free_bytes, k.wired_bytes, k.total_heap_bytes, k.free_heap_bytes,
            k.vmo_bytes, k.mmu_overhead_bytes, k.ipc_bytes, k.other_bytes) == (
        8588750848, 7670870016, 104148992, 18223104, 1268640, 784666624, 9363456, 114688, 0)
    assert real.kernel_extended["vmo_pager_total"] == 71155712
    assert real.kernel_extended["vmo_pager_newest"] == 5988352
    assert real.kernel_extended["vmo_pager_oldest"] == 56188928
    assert {"jobs", "threads", "mappings", "via", "task_stats"} <= real.missing
    root = snap.jobs[snap.root_job]
    assert root.name == "root" and set(root.processes) == set(snap.processes)
    assert snap.root_job not in snap.vmos and snap.root_job not in snap.processes
    vdso = snap.vmos[1058]  # in every process
    assert vdso.process_count == 90 and vdso.share_count == 90
    assert all(p.maps == () and p.threads == () for p in snap.processes.values())


def _oracle_summary(doc: dict) -> dict[int, tuple[int, int, int]]:
    """memory_monitor's Summary, straight from the JSON."""
    names = doc["VmoNames"]
    vmos = {r[0]: (names[r[1]], r[2], r[3]) for r in doc["Vmos"][1:]}
    reach = {}
    for koid, _, listed in doc["Processes"][1:]:
        seen = set()
        for v in listed:
            while v in vmos and v not in seen:
                seen.add(v)
                v = vmos[v][1]
        reach[koid] = seen
    share = {}
    for seen in reach.values():
        for v in seen:
            share[v] = share.get(v, 0) + 1
    out = {}
    for koid, seen in reach.items():
        if seen:
            c = [(vmos[v][2], share[v]) for v in seen]
            out[koid] = (sum(b for b, n in c if n == 1), sum(b // n for b, n in c),
                         sum(b for b, _ in c))
    return out


@needs_fixture
def test_real_summary_matches_oracle(real):
    expected = _oracle_summary(json.loads(CAPTURE.read_text()))
    got = summarize(real.snapshot)
    assert {k: tuple(v) for k, v in got.items()} == expected
    for koid, (private, scaled, total) in expected.items():
        proc = real.snapshot.processes[koid]
        assert (proc.uss_bytes, proc.pss_fixed, proc.rss_bytes) == (
            private, scaled * FRACTION_ONE, total)


@needs_fixture
def test_csv_is_ffx_layout(real):
    lines = to_csv(real.snapshot).splitlines()
    assert len(lines) == len(summarize(real.snapshot))
    assert lines[0] == "95,3999,driver_host:sys,434606080,435581905,438697984"
    for line in lines:
        assert re.fullmatch(r"95,\d+,[^\n]*,\d+,\d+,\d+", line)


def test_wrapped_capture_brings_buckets():
    doc = {"Capture": to_capture(Simulation("default", 1).snapshot),
           "Buckets": [{"name": "Blobs", "process": "", "vmo": "blob-.*", "event_code": 3}]}
    src = parse_source(json.dumps(doc).encode(), "wrapped")
    assert [b.name for b in src.buckets] == ["Blobs"] and src.buckets[0].event_code == 3


def test_round_trip_keeps_digest_and_summary():
    sim = Simulation("default", 1)
    for _ in range(3):
        sim.step()
    snap = sim.snapshot
    capture = to_capture(snap)
    imported = parse_source(json.dumps(capture).encode(), "rt").snapshot
    buckets = load_buckets()
    assert digest(imported, buckets) == digest(snap, buckets)
    assert summarize(imported) == summarize(snap)
    assert to_csv(imported) == to_csv(snap)
    for koid, sizes in summarize(snap).items():
        proc = imported.processes[koid]
        assert (proc.uss_bytes, proc.rss_bytes, proc.pss_fixed // FRACTION_ONE) == (
            sizes.private, sizes.total, sizes.scaled)
        assert proc.name == snap.processes[koid].name


def test_export_layout():
    snap = Simulation("default", 1).snapshot
    capture = to_capture(snap)
    assert json.loads(capture_json(snap)) == capture and '{"Time":0,"Kernel":{"total":' in (
        capture_json(snap))
    assert list(capture) == ["Time", "Kernel", "Processes", "VmoNames", "Vmos"]
    assert capture["Processes"][0] == ["koid", "name", "vmos"]
    assert capture["Vmos"][0] == ["koid", "name", "parent_koid", "committed_bytes",
                                  "allocated_bytes"]
    uses = {}
    names = capture["VmoNames"]
    vmo_name = {row[0]: names[row[1]] for row in capture["Vmos"][1:]}
    for _, _, listed in capture["Processes"][1:]:
        for koid in listed:
            uses[vmo_name[koid]] = uses.get(vmo_name[koid], 0) + 1
    counts = [uses.get(n, 0) for n in names]
    assert counts == sorted(counts, reverse=True) and len(set(names)) == len(names)


def _small(**changes) -> bytes:
    doc = {"Time": 5, "Kernel": {k: 0 for k in ("total", "free", "wired", "total_heap",
                                                 "free_heap", "vmo", "mmu", "ipc", "other")},
           "Processes": [["koid", "name", "vmos"], [10, "p", [1, 2]]],
           "VmoNames": ["a", "b"],
           "Vmos": [["koid", "name", "parent_koid", "committed_bytes", "allocated_bytes"],
                    [1, 0, 0, 4096, 8192], [2, 1, 1, 0, 8192]]}
    doc.update(changes)
    return json.dumps(doc, indent=1).encode()


def test_small_capture_fields():
    snap = parse_source(_small(), "s").snapshot
    parent, child = snap.vmos[1], snap.vmos[2]
    assert parent.num_children == 1 and child.parent_koid == 1 and child.is_clone
    assert parent.size_bytes == 8192 and parent.committed_bytes == 4096
    assert snap.root_job == 11 and snap.processes[10].job_koid == 11


@pytest.mark.parametrize("changes, message", [
    ({"Processes": [["koid", "name", "vmos"], [10, "p", [1, "x"]]]},
     "Processes[1][2][1]: expected an integer, got a string"),
    ({"Processes": [["koid", "name", "vmos"], [10, "p", [3]]]},
     "Processes[1][2][0]: VMO 3 is not in Vmos"),
    ({"Vmos": [["koid", "name", "parent_koid", "committed_bytes"]]},
     'Vmos[0]: missing column "allocated_bytes"'),
    ({"Vmos": [["koid", "name", "parent_koid", "committed_bytes", "allocated_bytes"],
               [1, 5, 0, 0, 0]]}, "Vmos[1][1]: name index 5 is past VmoNames"),
    ({"Vmos": [["koid", "name", "parent_koid", "committed_bytes", "allocated_bytes"],
               [1, 0, 2, 0, 0], [2, 0, 1, 0, 0]]}, "Vmos: VMO 1 is its own ancestor"),
    ({"Kernel": {"total": 1}}, 'Kernel: missing "free"'),
    ({"Time": -1}, "Time: -1 is out of range"),
])
def test_bad_shapes_name_the_json_path(tmp_path, changes, message):
    path = tmp_path / "bad.json"
    path.write_bytes(_small(**changes))
    with pytest.raises(SourceError) as err:
        load_source(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_bad_json_names_line_and_column(tmp_path):
    path = tmp_path / "cut.json"
    path.write_bytes(b'{"Time": 1,\n "Kernel": {,}}')
    with pytest.raises(SourceError, match=r"cut\.json: line 2 column 13: invalid JSON"):
        load_source(path)


def test_unknown_content_and_missing_file(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b"hello")
    with pytest.raises(SourceError, match="not a memory_monitor capture"):
        load_source(path)
    with pytest.raises(SourceError, match="cannot read"):
        load_source(tmp_path / "absent.json")


def test_recording_is_only_detected(tmp_path):
    from engine.imports import Recording
    from engine.record import MAGIC

    path = tmp_path / "rec.zmtop"
    path.write_bytes(MAGIC + b"\x00rest")
    assert load_source(path) == Recording(path)


def test_step_keeps_the_snapshot_and_clears_changes():
    src = parse_source(_small(), "s")
    first = src.snapshot
    assert first.changes.processes == {10}
    again = src.step()
    assert again.processes == first.processes and not again.changes.processes
    assert src.step() is again
