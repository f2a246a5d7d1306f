"""Engine budgets: scale tick, accounting per changed VMO, default boot, `zmtop ps`, the
default tick's CPU, and the all-in tick and `zmtop ps` of the xl scenario."""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from benchmarks import median_ms
from zmtop.cli.main import settle_heap
from zmtop.engine.sim.simulation import Simulation

Row = tuple[str, float, str, str]


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


@contextmanager
def _monitor_heap() -> Iterator[None]:
    """The collector as the monitor sets it once started (settle_heap), restored after."""
    thresholds = gc.get_threshold()
    settle_heap()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


# Ticks stepped before an all-in tick is timed: past the pager's oldest age (30 ticks), so
# that every cost of a steady tick is in.
WARMUP_TICKS = 35


def all_in_ticks(sim: Simulation, ticks: int,
                 clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """Seconds per tick of everything the engine does for the monitor: the scenario moves,
    the accountant builds the snapshot, and the snapshot before it is released (the monitor
    holds one at a time), under the monitor's collector settings, after WARMUP_TICKS.
    `clock` reads the seconds: wall time, or the calling thread's CPU time."""
    samples = []
    for _ in range(WARMUP_TICKS):
        sim.step()
    with _monitor_heap():
        previous = sim.snapshot
        for _ in range(ticks):
            start = clock()
            sim.step()
            previous = sim.snapshot  # the one before goes
            samples.append(clock() - start)
        del previous
    return samples


def default_all_in(ticks: int = 300) -> list[Row]:
    ms = median_ms(all_in_ticks(Simulation("default", 1), ticks))
    return [("default: all-in engine tick (step, previous released), median", ms, "ms", "")]


def default_tick_cpu(ticks: int = 300) -> list[Row]:
    """The CPU the monitor's tick thread spends stepping the default system at 1 s ticks:
    a mean, not a median, since the rare heavy tick (a program starting) costs CPU too."""
    seconds = statistics.mean(all_in_ticks(Simulation("default", 1), ticks, time.thread_time))
    return [("default: engine tick CPU (tick thread), mean", seconds * 1000, "ms",
             "<= 5 with UI (0.5 %)")]


def scale_all_in(ticks: int = 30) -> list[Row]:
    ms = median_ms(all_in_ticks(Simulation("scale", 1), ticks))
    return [("scale: all-in engine tick (step, previous released), median", ms, "ms",
             "<= 10 with UI")]


# Runs the command it is given and prints its wall seconds and peak RSS in KiB. A child
# inherits the peak RSS of the process it was forked from, so the bench (which holds whole
# systems) forks this small one, which forks the command.
_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _run_measured(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a command, its output discarded."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True,
                          text=True, check=True)
    wall, rss_kib = done.stdout.split()
    return float(wall), int(rss_kib) / 1024


def xl(ticks: int = 15) -> list[Row]:
    """The xl scenario: its all-in tick, and `zmtop ps` end to end (boot included)."""
    wall, rss = _run_measured([sys.executable, "-m", "zmtop", "ps", "--scenario", "xl"])
    start = time.perf_counter()
    sim = Simulation("xl", 1)
    boot = time.perf_counter() - start
    samples = all_in_ticks(sim, ticks)
    return [
        ("xl: boot to first snapshot", boot * 1000, "ms", ""),
        ("xl: all-in engine tick (step, previous released), median", median_ms(samples),
         "ms", "<= 50 with UI"),
        ("xl: `zmtop ps --scenario xl` end to end", wall, "s", "<= 15"),
        ("xl: `zmtop ps --scenario xl` peak RSS", rss, "MB", "<= 1,500"),
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


def run() -> list[Row]:
    return (default_boot() + ps_end_to_end() + default_all_in() + default_tick_cpu()
            + scale_tick() + scale_all_in() + xl())
