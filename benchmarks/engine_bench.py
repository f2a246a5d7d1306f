"""Engine budgets: scale tick, accounting per changed VMO, default boot, `zmtop ps`."""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time

from benchmarks import median_ms
from zmtop.engine.sim.simulation import Simulation


def scale_tick(ticks: int = 15) -> list[tuple[str, float, str, str]]:
    sim = Simulation("scale", 1)
    gc.freeze()  # as the monitor does once started: the booted system is long-lived
    step, accounting, changed = [], [], []
    accountant = sim.accountant
    original = accountant.snapshot

    def timed(*args, **kwargs):
        start = time.perf_counter()
        snap = original(*args, **kwargs)
        accounting.append(time.perf_counter() - start)
        return snap

    accountant.snapshot = timed
    for _ in range(ticks):
        start = time.perf_counter()
        snap = sim.step()
        step.append(time.perf_counter() - start)
        changed.append(len(snap.changes.vmos))
    per_vmo = statistics.median(a / c for a, c in zip(accounting, changed)) * 1e6
    return [
        ("scale: one tick (scenario + accounting), median", median_ms(step), "ms", "<= 10"),
        ("scale: accounting per tick, median", median_ms(accounting), "ms", ""),
        ("scale: VMOs changed per tick, median", statistics.median(changed), "", "~5,000"),
        ("scale: accounting per changed VMO", per_vmo, "us", "<= 1"),
    ]


def default_boot(runs: int = 5) -> list[tuple[str, float, str, str]]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        Simulation("default", 1)
        samples.append(time.perf_counter() - start)
    return [("default: boot to first snapshot, median", median_ms(samples), "ms", "<= 100")]


def ps_end_to_end(runs: int = 5) -> list[tuple[str, float, str, str]]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "zmtop", "ps"], check=True,
                       stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return [("default: `zmtop ps` end to end, median", median_ms(samples), "ms", "<= 500")]


def run() -> list[tuple[str, float, str, str]]:
    return default_boot() + ps_end_to_end() + scale_tick()
