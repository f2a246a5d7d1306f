"""Treemap budgets on the scale scenario: TUI layout, HTML page build time and page size."""

from __future__ import annotations

import gc
import statistics
import time

from zmtop.engine.formats.treemap import build_tree, treemap_html
from zmtop.engine.formats.treemap_layout import layout
from zmtop.engine.sim.simulation import Simulation


def _median_ms(func, runs: int) -> float:
    samples = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def run() -> list[tuple[str, float, str, str]]:
    snap = Simulation("scale", 1).snapshot  # booted once: about 1.5 s
    root_job = build_tree(snap).children[1].children[0]
    layout_ms = _median_ms(lambda: layout(root_job, 0, 0, 200, 60, depth=3), 9)
    html_ms = _median_ms(lambda: treemap_html(snap), 3)
    size_mb = len(treemap_html(snap).encode()) / 1e6
    return [
        ("scale: TUI layout, root job 3 levels in 200x60, median", layout_ms, "ms", "<= 50"),
        ("scale: treemap_html (tree + page), median", html_ms, "ms", "<= 2000"),
        ("scale: treemap page size", size_mb, "MB", "<= 5"),
    ]
