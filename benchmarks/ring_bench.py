"""Live marks budgets: what the snapshot ring holds at its default depth, and its CPU."""

from __future__ import annotations

import gc
import time
import tracemalloc

from zmtop.engine.sim.simulation import Simulation
from zmtop.tui.widgets.cells import shown_change
from zmtop.viewmodels.snapshot_ring import DEPTH, SnapshotRing
from zmtop.viewmodels.task_rows import Figures

Row = tuple[str, float, str, str]
ROWS = 40  # job tree rows on a screen, each asking shown_change once a tick


def ring_cost(scenario: str = "default", ticks: int = DEPTH + 60) -> tuple[float, float]:
    """MB the ring and two marks hold beyond the tick shown after `ticks` ticks (marks A
    and B at the oldest ticks still in reach: the most held), and the ring's and ΔPSS
    rule's seconds per tick."""
    sim = Simulation(scenario, 1)
    figures = Figures(sim.snapshot)
    ring, spent = SnapshotRing(), 0.0
    gc.collect()
    tracemalloc.start()
    marks = []
    for i in range(ticks):
        snap = sim.step()
        figures.advance(snap)
        if i in (ticks - DEPTH, ticks - DEPTH + 1):
            marks.append(snap)
        start = time.perf_counter()
        ring.append(snap)
        for koid in list(figures.deltas)[:ROWS]:
            shown_change(figures.delta(koid))
        spent += time.perf_counter() - start
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    ring.kept.clear()
    marks.clear()
    gc.collect()
    freed = held - tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return freed / 2**20, spent / ticks


def run() -> list[Row]:
    mb, seconds = ring_cost()
    return [
        (f"live marks: ring ({DEPTH} ticks) and two marks held, default", mb, "MB", "<= 20"),
        ("live marks: ring and ΔPSS rule CPU at 1 s ticks", seconds * 100, "%", "<= 0.1"),
    ]
