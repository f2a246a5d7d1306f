"""Seeded mutations of captures and memgraph files: the importers raise only SourceError (one
line), and whatever they accept is a snapshot every exporter and the digest can walk."""

from __future__ import annotations

import json
import random

import pytest
from msgspec import structs
from real_capture import BUCKETS, CAPTURE, trim_capture

from zmtop.engine.analysis.digest import digest, digest_text, load_buckets
from zmtop.engine.formats.capture import to_capture, to_csv
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.sources.detect import parse_source
from zmtop.engine.sources.imported import ImportedSource
from zmtop.engine.sources.json_input import SourceError
from zmtop.engine.sources.memgraph_reader import to_memgraph

CASES = 1000
ODD = [None, True, -1, 1 << 70, 1.5, "x", "", [], {}, [1, "a"], {"k": 0}, 0]
NOISE = b'{}[]",:-.0123456789eE aZ\\\n\t\x00\xff\xc3'


def _capture_base() -> tuple[bytes, bytes]:
    doc = {"Capture": trim_capture(json.loads(CAPTURE.read_bytes()), 4),
           "Buckets": json.loads(BUCKETS.read_bytes())}
    data = json.dumps(doc).encode()
    return data, data


def _memgraph_base() -> tuple[bytes, bytes]:
    """memgraph's raw layout with an unescaped name, and the same as strict JSON."""
    snap = Simulation("default", 1).snapshot
    small = sorted(snap.processes.values(), key=lambda p: len(p.vmo_refs))[:3]
    child = next(j for j in snap.jobs.values() if j.parent_koid == snap.root_job)
    procs = {p.koid: structs.replace(p, job_koid=child.koid if i else snap.root_job)
             for i, p in enumerate(small)}
    odd = small[0].koid
    procs[odd] = structs.replace(procs[odd], name='we"ird\tname')
    jobs = {snap.root_job: structs.replace(snap.jobs[snap.root_job], jobs=(child.koid,),
                                           processes=(odd,)),
            child.koid: structs.replace(child, jobs=(), processes=tuple(procs)[1:])}
    vmos = {r.vmo_koid: snap.vmos[r.vmo_koid] for p in procs.values() for r in p.vmo_refs}
    text = to_memgraph(structs.replace(snap, jobs=jobs, processes=procs, vmos=vmos))
    raw = text.replace('we\\"ird\\tname', 'we"ird\tname')  # memgraph does not escape
    return raw.encode(), text.encode()


def _mutate(data: bytes, strict: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    n = len(data)
    at = rng.randrange(n)
    if kind == 0:  # flip bytes
        out = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            out[rng.randrange(n)] = rng.randrange(256)
        return bytes(out)
    if kind == 1:  # insert noise
        return data[:at] + bytes(rng.choice(NOISE) for _ in range(rng.randint(1, 3))) + data[at:]
    if kind == 2:  # delete a span
        return data[:at] + data[at + rng.randint(1, 40):]
    if kind == 3:  # truncate
        return data[:at]
    if kind == 4:  # duplicate a span
        return data[:at] + data[at:at + rng.randint(1, 60)] + data[at:]
    return _swap_type(strict, rng)


def _swap_type(data: bytes, rng: random.Random) -> bytes:
    """Replace one node of the decoded document with a value of another shape."""
    doc = json.loads(data)
    parent, key = None, None
    node = doc
    for _ in range(rng.randint(1, 6)):
        if isinstance(node, dict) and node:
            parent, key = node, rng.choice(list(node))
        elif isinstance(node, list) and node:
            parent, key = node, rng.randrange(len(node))
        else:
            break
        node = parent[key]
    if parent is None:
        return json.dumps(rng.choice(ODD)).encode()
    if isinstance(parent, dict) and rng.random() < 0.2:
        del parent[key]
    else:
        parent[key] = rng.choice(ODD)
    return json.dumps(doc).encode()


def _exercise(result) -> None:
    if not isinstance(result, ImportedSource):
        return
    snap = result.snapshot
    digest_text(digest(snap, result.buckets or load_buckets(), result.kernel_extended))
    to_memgraph(snap)
    to_capture(snap)
    to_csv(snap)


@pytest.mark.parametrize("base", [_capture_base, _memgraph_base], ids=["capture", "memgraph"])
def test_mutations_raise_only_source_error(base):
    data, strict = base()
    _exercise(parse_source(data, "base"))  # the unmutated base loads
    accepted = rejected = 0
    for seed in range(CASES):
        rng = random.Random(seed)
        mutated = _mutate(data, strict, rng)
        try:
            _exercise(parse_source(mutated, "fuzz"))
            accepted += 1
        except SourceError as e:
            assert "\n" not in str(e) and str(e), (seed, str(e))
            rejected += 1
        except Exception as e:  # noqa: BLE001 - the point of the test
            pytest.fail(f"seed {seed}: {type(e).__name__}: {e}")
    assert rejected > CASES // 4 and accepted > 0


def test_mutations_parsed_against_the_base_fail_or_load_as_a_fresh_parse():
    """A poll parses each capture against the last good one: that must neither accept what
    a fresh parse refuses (nor say it differently) nor give other records."""
    data, strict = _capture_base()
    base = parse_source(data, "base")
    for seed in range(CASES):
        mutated = _mutate(data, strict, random.Random(seed))
        try:
            fresh = parse_source(mutated, "fuzz")
        except SourceError as e:
            with pytest.raises(SourceError) as again:
                parse_source(mutated, "fuzz", base)
            assert str(again.value) == str(e), seed
            continue
        snap = parse_source(mutated, "fuzz", base).snapshot
        want = fresh.snapshot
        assert (snap.processes, snap.vmos, snap.jobs) == (want.processes, want.vmos, want.jobs)
        assert list(snap.vmos) == list(want.vmos), seed
