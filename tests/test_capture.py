"""memory_monitor capture import/export and the summary attribution (reference 4.3, 4.4)."""

from __future__ import annotations

import copy
import json
import random
import re
import shlex
import sys

import pytest
from real_capture import CAPTURE

from zmtop.engine.analysis.digest import digest, load_buckets
from zmtop.engine.formats.capture import capture_json, summarize, to_capture, to_csv
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import FRACTION_ONE, Changes
from zmtop.engine.sources.detect import load_source, parse_source
from zmtop.engine.sources.imported import ImportedSource
from zmtop.engine.sources.json_input import SourceError
from zmtop.engine.sources.poll import PollSource


@pytest.fixture(scope="module")
def real():
    return load_source(CAPTURE)


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


def test_real_summary_matches_oracle(real):
    expected = _oracle_summary(json.loads(CAPTURE.read_text()))
    got = summarize(real.snapshot)
    assert {k: tuple(v) for k, v in got.items()} == expected
    for koid, (private, scaled, total) in expected.items():
        proc = real.snapshot.processes[koid]
        assert (proc.uss_bytes, proc.pss_fixed, proc.rss_bytes) == (
            private, scaled * FRACTION_ONE, total)


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
    from zmtop.engine.recording.format import MAGIC
    from zmtop.engine.sources.detect import RecordingFile

    path = tmp_path / "rec.zmtop"
    path.write_bytes(MAGIC + b"\x00rest")
    assert load_source(path) == RecordingFile(path)


def test_step_keeps_the_snapshot_and_clears_changes():
    src = parse_source(_small(), "s")
    first = src.snapshot
    assert first.changes.processes == {10}
    again = src.step()
    assert again.processes == first.processes and not again.changes.processes
    assert src.step() is again


# --- parsing the next capture of the same source (a poll) against the previous one -----------


def _reparse(doc: dict, previous: ImportedSource | None = None) -> ImportedSource:
    return parse_source(json.dumps(doc).encode(), "poll", previous)


def _expected_changes(old: dict, new: dict) -> tuple[set, set]:
    """Koids whose records are new or different, and koids that went: the slow way."""
    return {k for k, record in new.items() if old.get(k) != record}, set(old) - set(new)


def test_an_identical_capture_reuses_every_record():
    doc = to_capture(Simulation("default", 1).snapshot)
    first = _reparse(doc)
    again = _reparse(doc | {"Time": doc["Time"] + 1}, first)
    old, new = first.snapshot, again.snapshot
    assert new.time_ns == old.time_ns + 1 and new.changes == Changes()
    assert new.jobs[new.root_job] is old.jobs[old.root_job]
    assert all(new.processes[k] is record for k, record in old.processes.items())
    assert all(new.vmos[k] is record for k, record in old.vmos.items())


def test_a_changed_row_is_rebuilt_and_the_rest_reused():
    doc = to_capture(Simulation("default", 1).snapshot)
    first = _reparse(doc)
    vmos = first.snapshot.vmos
    row = next(r for r in doc["Vmos"][1:]
               if vmos[r[0]].share_count == 1 and vmos[r[0]].process_count == 1)
    koid = row[0]
    row[3] += 4096
    again = _reparse(doc, first)
    old, new = first.snapshot, again.snapshot
    assert new.vmos[koid].committed_bytes == old.vmos[koid].committed_bytes + 4096
    assert new.changes.vmos == {koid} and not new.changes.removed_vmos
    assert all(new.vmos[k] is record for k, record in old.vmos.items() if k != koid)
    payer = next(k for k, p in old.processes.items() if koid in {r.vmo_koid for r in p.vmo_refs})
    assert new.changes.processes == {payer}
    assert new.processes[payer].uss_bytes == old.processes[payer].uss_bytes + 4096
    assert list(new.vmos) == list(old.vmos) and new.vmos == _reparse(doc).snapshot.vmos


def _edit(doc: dict, rng: random.Random) -> dict:
    """A copy of the capture with one random change of the kind a device makes between
    polls, or one that makes it invalid."""
    doc = copy.deepcopy(doc)
    rows, procs, names = doc["Vmos"][1:], doc["Processes"], doc["VmoNames"]
    top = max([r[0] for r in rows] + [p[0] for p in procs[1:]])
    row = rng.choice(rows)
    kind = rng.randrange(15)
    if kind == 0:  # heaps grow and shrink
        for r in rng.sample(rows, 20):
            r[3] = 4096 * rng.randrange(1 << 12)
    elif kind == 1:  # VMOs appear, some of them clones, anywhere in the table
        for i in range(rng.randint(1, 8)):
            parent = rng.choice(rows)[0] if rng.random() < 0.5 else 0
            doc["Vmos"].insert(rng.randrange(1, len(rows)), [top + 1 + i, 0, parent, 4096, 8192])
    elif kind == 2:  # VMOs no process lists go
        listed = {v for p in procs[1:] for v in p[2]}
        unlisted = [r for r in rows if r[0] not in listed]
        for r in rng.sample(unlisted, min(3, len(unlisted))):
            doc["Vmos"].remove(r)
    elif kind == 3:  # a clone gets another parent, or none
        row[2] = rng.choice([0, rng.choice(rows)[0]])
    elif kind == 4:  # the table comes in another order
        rng.shuffle(rows)
        doc["Vmos"][1:] = rows
    elif kind == 5:  # VmoNames reordered, as memory_monitor sorts it by use
        order = rng.sample(range(len(names)), len(names))
        doc["VmoNames"] = [names[i] for i in order]
        moved_to = {old: new for new, old in enumerate(order)}
        for r in rows:
            r[1] = moved_to[r[1]]
    elif kind == 6:  # a name changes in place, the rows keeping their index
        names[row[1]] = "renamed"
    elif kind == 7:  # a process exits, another starts
        procs.pop(rng.randrange(1, len(procs)))
        procs.append([top + 1, "started", [r[0] for r in rng.sample(rows, 5)]])
    elif kind == 8:  # a process maps another VMO, or the parent of a clone it maps
        listed = rng.choice(procs[1:])[2]
        parents = {r[0]: r[2] for r in rows}
        listed.append(next((parents[v] for v in listed if parents.get(v) in parents), row[0]))
    elif kind == 9:  # a process is renamed
        rng.choice(procs[1:])[1] = "renamed"
    elif kind == 10:  # a parent cycle, short or long
        row[2] = row[0] if rng.random() < 0.5 else rng.choice(rows)[0]
    elif kind == 11:  # a value of the wrong kind, or out of range
        row[rng.randrange(5)] = rng.choice([True, 1.0, -1, 1 << 64, "x", None, 0])
    elif kind == 12:  # a koid listed twice
        doc["Vmos"].append(list(row))
    elif kind == 13:  # VmoNames loses its last name, which rows still use
        names.pop()
    else:  # a process lists a VMO that is not there
        procs[1][2].append(top + 9)
    return doc


@pytest.mark.parametrize("seed", range(6))
def test_parsing_against_the_previous_capture_matches_a_fresh_parse(seed):
    """Record for record, in the same order, with the changes a comparison finds, each
    unchanged record the previous object; a bad capture fails as a fresh parse does and
    leaves the previous one usable."""
    rng = random.Random(seed)
    sim = Simulation("default", seed + 1)
    good = to_capture(sim.snapshot)
    previous = _reparse(good)
    for _ in range(12):
        if rng.random() < 0.25:
            sim.step()
            good = to_capture(sim.snapshot)
        doc = _edit(good, rng)
        try:
            fresh = _reparse(doc)
        except SourceError as error:
            with pytest.raises(SourceError) as again:
                _reparse(doc, previous)
            assert str(again.value) == str(error)
            continue
        parsed = _reparse(doc, previous)
        old, new, want = previous.snapshot, parsed.snapshot, fresh.snapshot
        for table in ("jobs", "processes", "vmos"):
            before, after = getattr(old, table), getattr(new, table)
            assert after == getattr(want, table) and list(after) == list(getattr(want, table))
            changed, removed = _expected_changes(before, after)
            assert getattr(new.changes, table) == changed
            assert getattr(new.changes, f"removed_{table}") == removed
            assert all((record is before.get(k)) == (k not in changed)
                       for k, record in after.items())
        assert new.root_job == want.root_job and new.kmem == want.kmem
        good, previous = doc, parsed


def test_a_poll_parses_each_tick_against_the_last_good_one(tmp_path):
    doc = to_capture(Simulation("default", 1).snapshot)
    path = tmp_path / "capture.json"
    path.write_text(json.dumps(doc))
    printer = "import sys; sys.stdout.write(open(sys.argv[1]).read())"
    source = PollSource(shlex.join([sys.executable, "-c", printer, str(path)]), 1.0, timeout=20)
    first = source.snapshot
    second = source.step()
    assert second.changes == Changes() and second.tick == 1
    assert all(second.vmos[k] is record for k, record in first.vmos.items())
    row = doc["Vmos"][1]
    row[3] += 4096
    path.write_text(json.dumps(doc))
    third = source.step()
    assert third.changes.vmos == {row[0]} and third.vmos[row[0]].committed_bytes == row[3]
    path.write_text("{")
    assert source.step().vmos is third.vmos and "invalid JSON" in source.error
    path.write_text(json.dumps(doc))
    fifth = source.step()
    assert source.error is None and fifth.changes == Changes()
    assert all(fifth.vmos[k] is record for k, record in third.vmos.items())


def test_simulated_capture_carries_the_pager_fields_to_the_digest():
    """memory_monitor's extended Kernel fields: a capture exported from the simulation
    has vmo_pager_*, so its digest has the [Addl]Pager rows, and an import keeps them."""
    snap = Simulation("default", 1).snapshot
    kernel = to_capture(snap)["Kernel"]
    assert list(kernel)[-3:] == ["vmo_pager_total", "vmo_pager_newest", "vmo_pager_oldest"]
    assert kernel["vmo_pager_total"] == snap.kmem.vmo_pager_total_bytes > 0
    source = parse_source(capture_json(snap).encode(), "sim")
    assert source.snapshot.kmem == snap.kmem
    names = [b.name for b in digest(source.snapshot, load_buckets(),
                                     source.kernel_extended).rows()]
    assert names[-3:] == ["[Addl]PagerTotal", "[Addl]PagerNewest", "[Addl]PagerOldest"]
    assert [b.name for b in digest(snap, load_buckets()).rows()][-3:] == names[-3:]


def test_real_capture_keeps_its_pager_fields(real):
    kmem = real.snapshot.kmem
    assert (kmem.vmo_pager_total_bytes, kmem.vmo_pager_newest_bytes,
            kmem.vmo_pager_oldest_bytes) == (71155712, 5988352, 56188928)
