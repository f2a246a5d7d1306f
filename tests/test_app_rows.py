"""The job tree's rows as data: the numbers agree with ps, and the tree flattens as shown."""

from __future__ import annotations

import pytest

from zmtop.engine.formats.psutils import walk_tasks
from zmtop.engine.sim.simulation import Simulation
from zmtop.tui.widgets.cells import sparkline
from zmtop.tui.widgets.header import kstats_fields
from zmtop.tui.widgets.line_table import fit
from zmtop.viewmodels.task_rows import (
    SORT_KEYS,
    Figures,
    ancestors,
    job_totals,
    keep_matching,
    shape_changed,
)
from zmtop.viewmodels.tree_order import TreeOrder, flatten


@pytest.fixture(scope="module")
def sim_ticks():
    sim = Simulation("default", 1, 1.0)
    snaps = [sim.snapshot] + [sim.step() for _ in range(3)]
    return snaps


def test_job_totals_match_ps(sim_ticks):
    snap = sim_ticks[-1]
    totals = job_totals(snap)
    ps_rows = [r for r in walk_tasks(snap) if r.type == "j"]
    assert len(ps_rows) == len(snap.jobs)
    for row in ps_rows:
        pss, private, apss = totals[row.koid]
        assert (pss, private) == (row.pss_bytes, row.private_bytes)
        procs = [snap.processes[k] for k in snap.job_processes(row.koid)]
        assert apss == sum(p.pss_fixed for p in procs)


def test_unsorted_tree_is_ps_walk_order(sim_ticks):
    snap = sim_ticks[-1]
    rows = flatten(Figures(snap))
    ps = walk_tasks(snap)
    assert [(s.kind, s.koid, s.depth) for s in rows] == [(r.type, r.koid, r.depth) for r in ps]


def test_collapsed_job_hides_its_subtree(sim_ticks):
    snap = sim_ticks[-1]
    figures = Figures(snap)
    job = next(j for j in snap.jobs.values() if j.jobs and j.parent_koid)
    rows = flatten(figures, {job.koid})
    koids = {s.koid for s in rows}
    assert job.koid in koids
    assert not koids & set(snap.job_processes(job.koid))
    assert len(rows) < len(flatten(figures))


def test_filter_keeps_matches_and_their_ancestors(sim_ticks):
    snap = sim_ticks[-1]
    figures = Figures(snap)
    keep = keep_matching(figures, "driver_host")
    rows = flatten(figures, keep=keep)
    hosts = [p.koid for p in snap.processes.values() if "driver_host" in p.name]
    shown = {s.koid for s in rows}
    assert set(hosts) <= shown
    for koid in hosts:
        assert set(ancestors(snap, "p", koid)) <= shown
    assert all(s.koid in keep for s in rows)
    assert len(rows) < len(flatten(figures))


def test_sort_orders_siblings_largest_first(sim_ticks):
    snap = sim_ticks[-1]
    figures = Figures(snap)
    rows = flatten(figures, sort="pss")
    root_children = [s for s in rows if s.depth == 1]
    pss = figures.sort_key("pss")
    values = [pss(s.kind, s.koid) for s in root_children]
    assert values == sorted(values, reverse=True)
    reverse = flatten(figures, sort="pss", reverse=True)
    assert [s.koid for s in reverse if s.depth == 1] == [s.koid for s in root_children][::-1]


def test_deltas_are_pss_changes_since_the_last_tick(sim_ticks):
    figures = Figures(sim_ticks[0])
    for prev, snap in zip(sim_ticks, sim_ticks[1:]):
        before = job_totals(prev)
        figures.advance(snap)
        after = job_totals(snap)
        for koid, proc in snap.processes.items():
            old = prev.processes.get(koid)
            expected = proc.pss_bytes - (old.pss_bytes if old else 0)
            assert figures.delta(koid) == expected
        for koid in snap.jobs:
            assert figures.delta(koid) == after[koid][0] - before.get(koid, (0,))[0]


def test_header_fields_are_kstats_columns(sim_ticks):
    kmem = sim_ticks[0].kmem
    fields = dict(kstats_fields(kmem))
    assert list(fields) == ["total", "free", "VMOs", "kheap", "kfree", "wired", "mmu", "ipc",
                            "other"]
    assert fields["kheap"] == kmem.total_heap_bytes - kmem.free_heap_bytes
    assert sum(v for k, v in fields.items() if k != "total") == kmem.total_bytes


def test_sparkline_scales_between_min_and_max():
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8) == "▁▂▃▄▅▆▇█"
    assert sparkline([5, 5, 5], 10) == "▄▄▄"
    assert sparkline(range(100), 4) == "▁▃▅█"
    assert sparkline([], 4) == ""


def test_fit_pads_aligns_and_cuts():
    assert fit("ab", 4, "right") == "  ab"
    assert fit("ab", 4, "left") == "ab  "
    assert fit("abcdef", 4, "left") == "abc…"
    assert fit("日本語", 5, "left") == "日本…"


@pytest.mark.parametrize("scenario", ["default", "churn"])
def test_totals_moved_tick_by_tick_equal_totals_summed_afresh(scenario):
    """Ticks that keep the tree's shape move job totals incrementally (and single-child
    jobs show their child's); they must stay equal to a full sum, and so must the deltas."""
    sim = Simulation(scenario, 3, 1.0)
    figures = Figures(sim.snapshot)
    before = job_totals(sim.snapshot)
    for _ in range(40):
        figures.advance(sim.step())
        after = job_totals(sim.snapshot)
        assert {koid: list(figures.total(koid)) for koid in sim.snapshot.jobs} == after
        assert {koid: figures.delta(koid) for koid in after} == {
            koid: pss - before.get(koid, (0,))[0] for koid, (pss, _, _) in after.items()}
        before = after


def assert_sorted(order: TreeOrder, figures: Figures, sort: str, reverse: bool) -> None:
    """Each job's children are in the order sorted() gives them."""
    value, descending = figures.sort_key(sort), SORT_KEYS[sort] != reverse

    def key(kid: tuple[str, int]) -> tuple:
        return (kid[0] == "j", kid[1]) if sort == "task" else (value(*kid), kid[1])

    for kids in order.kids.values():
        want = sorted(kids, key=key)
        assert kids == (want[::-1] if descending else want)


@pytest.mark.parametrize("sort", ["pss", "private", "shared", "apss", "delta", "#h", "task"])
@pytest.mark.parametrize("reverse", [False, True])
def test_a_reordered_tree_is_the_tree_laid_out_afresh(sort, reverse):
    """Tick after tick, TreeOrder.reorder gives the rows and tree lines a fresh TreeOrder
    gives, folded jobs and a filter included (the tree laid out afresh when tasks come or
    go, as the job tree does)."""
    sim = Simulation("default", 1)
    figures = Figures(sim.snapshot)
    folded = {sim.snapshot.jobs[sim.snapshot.root_job].jobs[-1]}
    for keep in (None, keep_matching(figures, "a")):
        order = TreeOrder(figures, folded, sort, reverse, keep)
        reordered = 0
        for _ in range(25):
            snap = sim.step()
            figures.advance(snap)
            if shape_changed(snap):
                order = TreeOrder(figures, folded, sort, reverse, keep)
                continue
            reordered += order.reorder(figures)
            fresh = TreeOrder(figures, folded, sort, reverse, keep)
            assert order.keys == fresh.keys
            assert list(map(order.lines, order.keys)) == list(map(fresh.lines, fresh.keys))
            assert_sorted(order, figures, sort, reverse)
        assert reordered or sort not in ("pss", "delta")  # the ticks did move rows
