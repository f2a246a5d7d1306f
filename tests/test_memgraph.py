"""memgraph JSON export in memgraph's printf layout, and the lenient importer (reference 1.1)."""

from __future__ import annotations

import json

import pytest
from msgspec import structs

from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.sources.detect import parse_source
from zmtop.engine.sources.json_input import SourceError
from zmtop.engine.sources.memgraph_reader import RIGHTS, to_memgraph

SIX_RIGHTS = 0
for _, bit in RIGHTS:
    SIX_RIGHTS |= bit


@pytest.fixture(scope="module")
def sim_snapshot():
    sim = Simulation("default", 1)
    sim.step()
    return sim.snapshot


@pytest.fixture(scope="module")
def exported(sim_snapshot):
    return to_memgraph(sim_snapshot)


def test_layout_is_memgraphs(exported, sim_snapshot):
    lines = exported.splitlines(keepends=True)
    assert lines[0] == "[\n" and lines[-1] == "]\n"
    assert lines[-2].startswith('  {"type": "__META", "timestamp": "')
    assert lines[-2].endswith('Z"}\n')
    assert lines[1] == ('  {"id": "kernel/physmem", "type": "kernel", "parent": "", '
                        f'"name": "physmem", "size_bytes": {sim_snapshot.kmem.total_bytes}}},\n')
    kernel_ids = [json.loads(line.rstrip(",\n"))["id"] for line in lines[1:10]]
    assert kernel_ids == ["kernel/" + n for n in (
        "physmem", "free", "vmo", "heap", "heap/allocated", "heap/free", "wired", "mmu", "other")]
    root = sim_snapshot.root_job
    assert lines[10] == (f'  {{"id": "j/{root}", "type": "j", "koid": {root}, '
                         f'"parent": "kernel/vmo", "name": "root"}},\n')
    for line in lines[1:-2]:
        assert line.startswith(("  {", "   \"vmos\": [", "   \"vmo_refs\": [", "      {",
                                "   ],", "   ]},"))
        if line.startswith("  {"):
            assert line.endswith(("},\n", ",\n"))
        if line.startswith("      {"):
            assert line.endswith(("},\n", "} \n"))


def test_json_loads_and_round_trip(exported, sim_snapshot):
    records = json.loads(exported)
    assert records[-1]["type"] == "__META"
    src = parse_source(exported.encode(), "mg")
    snap = src.snapshot
    assert src.kind == "memgraph" and "threads" not in src.missing and "vmos" not in src.missing
    assert snap.jobs == sim_snapshot.jobs and snap.root_job == sim_snapshot.root_job
    assert snap.kmem.free_bytes == sim_snapshot.kmem.free_bytes
    for koid, want in sim_snapshot.processes.items():
        got = snap.processes[koid]
        assert (got.name, got.job_koid, got.threads) == (want.name, want.job_koid, want.threads)
        assert (got.private_bytes, got.shared_bytes, got.pss_bytes) == (
            want.private_bytes, want.shared_bytes, want.pss_bytes)
        assert [(r.vmo_koid, r.via_handle, r.rights & SIX_RIGHTS) for r in want.vmo_refs] == [
            (r.vmo_koid, r.via_handle, r.rights) for r in got.vmo_refs]
    for koid, vmo in snap.vmos.items():
        want = sim_snapshot.vmos[koid]
        assert (vmo.name, vmo.size_bytes, vmo.parent_koid, vmo.num_children, vmo.num_mappings,
                vmo.share_count, vmo.committed_bytes) == (
            want.name, want.size_bytes, want.parent_koid, want.num_children, want.num_mappings,
            want.share_count, want.committed_bytes)


RAW = (
    b'[\n'
    b'  {"id": "kernel/physmem", "type": "kernel", "parent": "", "name": "physmem", "size_bytes": 100},\n'
    b'  {"id": "kernel/free", "type": "kernel", "parent": "kernel/physmem", "name": "free", "size_bytes": 60},\n'
    b'  {"id": "j/1", "type": "j", "koid": 1, "parent": "kernel/vmo", "name": "ro"ot"},\n'
    b'  {"id": "j/2", "type": "j", "koid": 2, "parent": "j/1", "name": "tab\there"},\n'
    b'  {"id": "p/3", "type": "p", "koid": 3, "parent": "j/2", "name": "a\\b "q", x", '
    b'"private_bytes": 4096, "shared_bytes": 0, "pss_bytes": 4096,\n'
    b'   "vmos": [\n'
    b'      {"koid": 7, "name": "new\nline\xff", "size_bytes": 8192, "parent_koid": 0, '
    b'"num_children": 0, "num_mappings": 1, "share_count": 1, "committed_bytes": 4096},\n'
    b'      {"koid": 7, "name": "new\nline\xff", "size_bytes": 8192, "parent_koid": 0, '
    b'"num_children": 0, "num_mappings": 1, "share_count": 1, "committed_bytes": 4096} \n'
    b'   ],\n'
    b'   "vmo_refs": [\n'
    b'      {"vmo_koid": 7, "via": ["HANDLE"], "handle_rights": ["READ", "MAP"]},\n'
    b'      {"vmo_koid": 7, "via": ["MAPPING"]} \n'
    b'   ]},\n'
    b'  {"id": "t/4", "type": "t", "koid": 4, "parent": "p/3", "name": "th}", "state": "BLOCKED"},\n'
    b'  {"type": "__META", "timestamp": "2024-01-01T00:00:00.000Z"}\n'
    b']\n'
)


def test_lenient_names_and_dedup():
    src = parse_source(RAW, "raw")
    snap = src.snapshot
    assert snap.jobs[1].name == 'ro"ot' and snap.jobs[2].name == "tab\there"
    proc = snap.processes[3]
    assert proc.name == 'a\\b "q", x'
    assert snap.vmos[7].name == "new\nline\ufffd" and list(snap.vmos) == [7]
    assert [(r.via_handle, r.rights) for r in proc.vmo_refs] == [
        (True, dict(RIGHTS)["READ"] | dict(RIGHTS)["MAP"]), (False, 0)]
    assert proc.threads[0].name == "th}" and proc.threads[0].state == "blocked"
    assert (proc.uss_bytes, proc.rss_bytes) == (4096, 4096)
    assert snap.kmem.total_bytes == 100 and snap.kmem.free_bytes == 60
    assert snap.vmos[7].process_count == 1
    assert "ipc" in src.missing and "kernel" not in src.missing


def test_without_vmos_says_so():
    text = (b'[{"id": "j/1", "type": "j", "koid": 1, "parent": "kernel/vmo", "name": "r"},'
            b'{"id": "p/2", "type": "p", "koid": 2, "parent": "j/1", "name": "p",'
            b' "private_bytes": 1, "shared_bytes": 2, "pss_bytes": 2}]')
    src = parse_source(text, "plain")
    assert {"vmos", "threads", "kernel"} <= src.missing
    proc = src.snapshot.processes[2]
    assert (proc.private_bytes, proc.shared_bytes, proc.scaled_shared_bytes) == (1, 2, 1)


@pytest.mark.parametrize("text, message", [
    (b'[{"id": "p/2", "type": "p", "koid": 2, "parent": "j/1", "name": "p"}]',
     "expected one root job"),
    ((b'[{"type": "j", "koid": 1, "parent": "kernel/vmo", "name": "r"},'
      b'{"type": "p", "koid": 2, "parent": "j/9", "name": "p"}]'),
     "process 2 names job 9, which is not listed"),
    ((b'[{"type": "j", "koid": 1, "parent": "kernel/vmo", "name": "r"},'
      b'{"type": "j", "koid": 5, "parent": "j/6", "name": "a"},'
      b'{"type": "j", "koid": 6, "parent": "j/5", "name": "b"}]'), "not under the root job"),
    (b'[{"type": "j", "koid": "1", "parent": "kernel/vmo", "name": "r"}]',
     "[0].koid: expected an integer, got a string"),
    (b'[{"type": "j", "koid": 1, "parent": "q/1", "name": "r"}]',
     "[0].parent: expected \"j/<koid>\""),
    ((b'[{"type": "j", "koid": 1, "parent": "kernel/vmo", "name": "r"},'
      b'{"type": "p", "koid": 2, "parent": "j/1", "name": "p", "vmos": [{"koid": 1}],'
      b' "vmo_refs": [{"vmo_koid": 9, "via": []}]}]'), "[1].vmo_refs[0].vmo_koid: VMO 9"),
    (b'[\n  {"type": "j",, }\n]', "line 2 column 16: invalid JSON"),
])
def test_bad_memgraph_is_one_line(text, message):
    with pytest.raises(SourceError) as err:
        parse_source(text, "bad")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_memgraph_parsed_against_the_previous_one_shares_what_is_unchanged(sim_snapshot):
    first = parse_source(to_memgraph(sim_snapshot).encode(), "poll")
    listed = next(r.vmo_koid for p in sim_snapshot.processes.values() for r in p.vmo_refs)
    changed = sim_snapshot.vmos[listed]
    vmos = dict(sim_snapshot.vmos) | {changed.koid: structs.replace(
        changed, committed_bytes=changed.committed_bytes + 4096)}
    text = to_memgraph(structs.replace(sim_snapshot, vmos=vmos))
    again = parse_source(text.encode(), "poll", first).snapshot
    old = first.snapshot
    assert again.changes.vmos == {changed.koid} and not again.changes.removed_vmos
    assert all(again.vmos[k] is v for k, v in old.vmos.items() if k != changed.koid)
    assert again.jobs == old.jobs and all(again.jobs[k] is v for k, v in old.jobs.items())
    assert again.changes.processes == {k for k, p in again.processes.items()
                                       if p != old.processes[k]}


def test_simulated_share_counts_are_never_zero(sim_snapshot):
    """share_count() is 1 below two mappings (reference 7): without it, treemap.py gives a
    handle-only VMO twice its area."""
    records = json.loads(to_memgraph(sim_snapshot))
    shares = [v["share_count"] for r in records for v in r.get("vmos", ())]
    assert shares and min(shares) == 1
