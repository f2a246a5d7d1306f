"""Every scenario, every tick: conservation, consistency with the kernel, honest change lists.

ZMTOP_TICKS sets how many ticks each scenario runs (default 600: every scenario's kinds of event
and pressure level come round several times by then, the oom scenario's kills 10 times);
ZMTOP_ORACLE_EVERY how often the page-by-page oracle checks a whole snapshot (default every 100
ticks). Each scenario's ticks are checked in segments of ZMTOP_SEGMENT_TICKS (default 200), each
its own test, so that pytest-xdist's workers share a scenario. `make test-long` runs 2,000.
"""

from __future__ import annotations

import os

import msgspec
import pytest
from oracle import assert_changes_accurate, assert_snapshot_matches

from zmtop.engine.sim.scenarios import SCENARIOS, Scale
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import FRACTION_ONE, PAGE_SIZE
from zmtop.engine.snapshot.tables import encode_hook

pytestmark = pytest.mark.slow

TICKS = int(os.environ.get("ZMTOP_TICKS", "600"))
ORACLE_EVERY = int(os.environ.get("ZMTOP_ORACLE_EVERY", "100"))
SCALE_TICKS = 3  # 100,000 VMOs: a few ticks show the rules hold at size


def check_kmem(snapshot) -> None:
    kmem = snapshot.kmem
    assert min(msgspec.structs.astuple(kmem)) >= 0, kmem
    kheap = kmem.total_heap_bytes - kmem.free_heap_bytes
    assert kmem.total_bytes == (kmem.free_bytes + kmem.vmo_bytes + kheap + kmem.free_heap_bytes
                                + kmem.wired_bytes + kmem.mmu_overhead_bytes + kmem.ipc_bytes
                                + kmem.other_bytes)
    assert kmem.vmo_bytes == sum(v.committed_bytes for v in snapshot.vmos.values())


def check_records(snapshot, kernel, previous) -> None:
    """Records mirror kernel objects; the new ones have no negative figure."""
    assert snapshot.jobs.keys() == kernel.jobs.keys()
    assert snapshot.processes.keys() == kernel.processes.keys()
    assert snapshot.vmos.keys() == kernel.vmos.keys()
    records = snapshot.vmos
    stale = [vmo.koid for vmo, record in zip(kernel.vmos.values(), map(records.get, kernel.vmos))
             if record.committed_bytes != vmo.own.bit_count() * PAGE_SIZE
             or record.num_children != len(vmo.children)
             or record.num_mappings != len(vmo.mappings)]
    assert not stale, f"VMO records out of date: {stale[:10]}"
    unplain = [koid for koid, vmo in kernel.vmos.items() if vmo.plain != (
        vmo.paged and vmo.parent is None and not vmo.children and not vmo.mappings)]
    assert not unplain, f"VMOs' plain flag out of date: {unplain[:10]}"
    for koid, job in kernel.jobs.items():
        record = snapshot.jobs[koid]
        assert record.jobs == tuple(j.koid for j in job.jobs), koid
        assert record.processes == tuple(p.koid for p in job.processes), koid
    for koid, process in kernel.processes.items():
        record = snapshot.processes[koid]
        assert record.job_koid == process.job.koid
        assert [t.koid for t in record.threads] == [t.koid for t in process.threads], koid
    changes = snapshot.changes
    fresh = [snapshot.vmos[k] for k in changes.vmos] + [snapshot.processes[k]
                                                         for k in changes.processes]
    if previous is None:
        fresh = list(snapshot.vmos.values()) + list(snapshot.processes.values())
    for record in fresh:
        figures = [f for f in msgspec.structs.astuple(record) if type(f) is int]
        assert min(figures) >= 0, record
    koids = list(snapshot.jobs) + list(snapshot.processes) + list(snapshot.vmos)
    koids += [t.koid for p in snapshot.processes.values() for t in p.threads]
    assert len(koids) == len(set(koids)), "koids are not unique"


def check_pss_adds_up(snapshot) -> None:
    """Attributed PSS of all processes = scaled figures of all VMOs processes reference,
    short by less than one fixed-point unit per (process, VMO) division."""
    processes = sum(p.pss_fixed for p in snapshot.processes.values())
    vmos = sum(v.scaled_fixed for v in snapshot.vmos.values() if v.process_count)
    refs = sum(len({r.vmo_koid for r in p.vmo_refs}) for p in snapshot.processes.values())
    assert 0 <= vmos - processes <= refs
    assert all(v.scaled_fixed == 0 for v in snapshot.vmos.values() if not v.process_count)


def check_against_oracle(snapshot, kernel) -> None:
    truth = assert_snapshot_matches(snapshot, kernel)
    pss = sum(p.pss_fixed for p in snapshot.processes.values())
    bound = sum(len(truth.vmos[v].reached) + 1 for p in truth.processes.values() for v in p.vmos)
    assert 0 <= truth.process_reachable * FRACTION_ONE - pss <= bound


def plain(snapshot):
    """The snapshot with its tables read out once into dicts, for the many checks' reads."""
    return msgspec.structs.replace(snapshot, jobs=dict(snapshot.jobs.items()),
                                   processes=dict(snapshot.processes.items()),
                                   vmos=dict(snapshot.vmos.items()))


def check_ticks(sim: Simulation, previous, first: int, last: int, ticks: int,
                oracle_every: int):
    """Check ticks first..last of a run of `ticks`; sim is at tick first - 1 (previous is its
    snapshot, read out) or, for first 0, fresh. Returns the last tick's snapshot, read out."""
    for tick in range(first, last + 1):
        snapshot = plain(sim.snapshot if tick == 0 else sim.step())
        assert snapshot.tick == tick
        check_kmem(snapshot)
        check_records(snapshot, sim.kernel, previous)
        check_pss_adds_up(snapshot)
        if previous is not None:
            assert_changes_accurate(previous, snapshot)
        if oracle_every and (tick % oracle_every == 0 or tick == ticks):
            check_against_oracle(snapshot, sim.kernel)
        previous = snapshot
    return previous


def run_checked(scenario: str, ticks: int, oracle_every: int) -> Simulation:
    sim = Simulation(scenario, seed=1)
    check_ticks(sim, None, 0, ticks, ticks, oracle_every)
    return sim


# The slowest first, so that pytest-xdist starts them early.
SCENARIO_NAMES = sorted((s for s in SCENARIOS if s not in ("scale", "xl")),
                        key=lambda s: s not in ("oom", "churn"))
SEGMENT_TICKS = int(os.environ.get("ZMTOP_SEGMENT_TICKS", "200"))
# (scenario, first tick, last tick): ticks 0..TICKS of every scenario, each tick in one segment.
SEGMENTS = [(scenario, first, TICKS if first + SEGMENT_TICKS >= TICKS
             else first + SEGMENT_TICKS - 1)
            for scenario in SCENARIO_NAMES for first in range(0, max(TICKS, 1), SEGMENT_TICKS)]

# Per worker, where the last segment of each scenario checked stopped: the simulation and its
# snapshot, read out. The next segment of that scenario on this worker goes on from there
# rather than stepping a fresh simulation again from tick 0 (the runs are deterministic).
_stopped_at: dict[str, tuple[Simulation, object]] = {}


def simulation_before(scenario: str, first: int):
    """A simulation at tick first - 1 and that tick's snapshot read out; fresh for first 0."""
    sim, previous = _stopped_at.pop(scenario, (None, None))
    if sim is None or sim.tick >= first:
        sim, previous = Simulation(scenario, seed=1), None
    if first == 0:
        return sim, None
    while sim.tick < first - 1:
        sim.step()
    if previous is None or previous.tick != first - 1:
        previous = plain(sim.snapshot)
    return sim, previous


@pytest.mark.parametrize("scenario, first, last", SEGMENTS,
                         ids=[f"{s}-{first:04}-{last:04}" for s, first, last in SEGMENTS])
def test_scenario_invariants(scenario, first, last):
    sim, previous = simulation_before(scenario, first)
    previous = check_ticks(sim, previous, first, last, TICKS, ORACLE_EVERY)
    if last < TICKS:
        _stopped_at[scenario] = (sim, previous)


def test_scale_invariants():
    sim = run_checked("scale", SCALE_TICKS, oracle_every=0)
    check_against_oracle(sim.snapshot, sim.kernel)  # once: about 5 s at this size


class SmallScale(Scale):
    """The builder of `scale` and `xl` at a size a test affords."""

    process_count = 120
    vmo_count = 10_000


def test_scale_builder(monkeypatch):
    """The scale builder reaches its process and VMO counts exactly, and each tick changes
    5% of the VMOs with every rule holding (what `xl` relies on at 10,000 and 500,000)."""
    monkeypatch.setitem(SCENARIOS, "small-scale", SmallScale)
    sim = Simulation("small-scale", seed=1)
    assert (len(sim.kernel.processes), len(sim.kernel.vmos)) == (120, 10_000)
    previous = check_ticks(sim, None, 0, 3, 3, oracle_every=3)
    assert len(previous.changes.vmos) == 10_000 // 20
    assert (len(previous.processes), len(previous.vmos)) == (120, 10_000)


def test_scale_ticks_reach_every_scratch_vmo(monkeypatch):
    """Each tick picks its 5% of VMOs from a random start, wrapping past the end of the
    scratch VMOs, and spread over every process holding them; over enough ticks every one
    of them changes, the last ones too."""
    monkeypatch.setitem(SCENARIOS, "small-scale", SmallScale)
    sim = Simulation("small-scale", seed=1)
    kernel, scratch = sim.kernel, sim.scenario.scratch
    holder = {vmo.row: vmo.holders() for vmo in scratch}
    holders = set().union(*holder.values())
    kernel.page_moves.clear()
    touched: set[int] = set()
    for _ in range(200):  # the scenario alone: the rows whose pages it moved
        sim.scenario.step()
        assert len(kernel.page_moves) == len(kernel.vmos) // 20
        assert set().union(*map(holder.__getitem__, kernel.page_moves)) == holders
        touched.update(kernel.page_moves)
        kernel.page_moves.clear()
    assert touched == set(holder)


def test_scale_with_under_20_vmos_left_changes_none(monkeypatch):
    """5% of fewer than 20 VMOs is none: a tick then picks nothing (kills can leave a
    scratch VMO among so few)."""
    monkeypatch.setitem(SCENARIOS, "small-scale", SmallScale)
    sim = Simulation("small-scale", seed=1)
    kernel = sim.kernel
    kernel.vmos = {vmo.koid: vmo for vmo in sim.scenario.scratch[:19]}
    kernel.page_moves.clear()
    sim.scenario.step()
    assert not kernel.page_moves


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_deterministic(scenario):
    """Same scenario, seed and ticks: identical snapshots, byte for byte once encoded.

    JSON rather than msgpack: the fixed-point figures outgrow msgpack's 64-bit ints."""
    ticks = min(TICKS, 100)
    finals = []
    for _ in range(2):
        sim = Simulation(scenario, seed=7)
        for _ in range(ticks):
            sim.step()
        finals.append(sim.snapshot)
    assert finals[0] == finals[1]
    encoded = [msgspec.json.encode(final, enc_hook=encode_hook) for final in finals]
    assert encoded[0] == encoded[1]
