"""diff(): growth order, what appeared and went, and every kstats field."""

from msgspec import structs

from zmtop.engine.analysis.diff import diff, diff_json, diff_text
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import FRACTION_ONE, KMEM_V1_FIELDS


def snapshots(ticks=60, start=20):
    sim = Simulation("churn", 2)
    for _ in range(start if ticks else 0):
        sim.step()
    first = sim.snapshot
    for _ in range(ticks):
        sim.step()
    return first, sim.snapshot


def test_processes_and_vmos_are_ordered_by_growth():
    a, b = snapshots()
    d = diff(a, b)
    assert d.processes and d.vmos
    keys = [(-g.pss_delta, -g.attributed_delta, g.koid) for g in d.processes]
    assert keys == sorted(keys)
    assert [(-g.committed_delta, g.koid) for g in d.vmos] == sorted(
        (-g.committed_delta, g.koid) for g in d.vmos)
    for g in d.processes:
        before, after = a.processes[g.koid], b.processes[g.koid]
        assert g.pss_delta == after.pss_bytes - before.pss_bytes
        assert g.attributed_delta == (after.pss_fixed - before.pss_fixed) / FRACTION_ONE
    for g in d.vmos:
        assert g.committed_delta == b.vmos[g.koid].committed_bytes - a.vmos[g.koid].committed_bytes
        assert g.committed_delta != 0


def test_what_appeared_and_went():
    a, b = snapshots()
    d = diff(a, b)
    assert {g.koid for g in d.processes_appeared} == set(b.processes) - set(a.processes)
    assert {g.koid for g in d.processes_went} == set(a.processes) - set(b.processes)
    assert {g.koid for g in d.vmos_appeared} == set(b.vmos) - set(a.vmos)
    assert {g.koid for g in d.vmos_went} == set(a.vmos) - set(b.vmos)
    assert d.processes_went and d.processes_appeared  # churn starts and stops components
    assert all(g.pss_delta == -g.pss_bytes for g in d.processes_went)


def test_kstats_deltas_cover_every_field():
    """Every zx_info_kmem_stats_v1_t field (kstats's; the pager figures are not kstats)."""
    a, b = snapshots()
    d = diff(a, b)
    assert [k.field for k in d.kstats] == list(KMEM_V1_FIELDS)
    assert all(k.delta == getattr(b.kmem, k.field) - getattr(a.kmem, k.field) for k in d.kstats)


def test_a_snapshot_against_itself_is_empty_but_for_kstats():
    a, _ = snapshots(ticks=0)
    d = diff(a, a)
    assert not (d.processes or d.processes_appeared or d.processes_went or d.vmos
                or d.vmos_appeared or d.vmos_went)
    assert all(k.delta == 0 for k in d.kstats)
    assert diff_text(d).startswith("tick 0 -> tick 0 (0 s)\n\nKSTATS\n")
    assert diff_json(d)["kstats"][0] == structs.asdict(d.kstats[0])
