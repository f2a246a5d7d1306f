"""Trend budgets: the upkeep a tick costs (series kept, the shown rows' growth, the header's
time to pressure) at default and at scale, and opening the leak suspects screen at scale."""

from __future__ import annotations

import asyncio
import time

from benchmarks import median_ms
from zmtop.engine.sim.simulation import Simulation
from zmtop.viewmodels.growth import Growth
from zmtop.viewmodels.task_rows import Figures
from zmtop.viewmodels.tree_order import flatten

Row = tuple[str, float, str, str]
ROWS = 40  # job tree rows on a screen, each showing its growth once a tick
WINDOW = 60


def upkeep(scenario: str, ticks: int = WINDOW + 40) -> float:
    """Median seconds a tick spends on trends once the window is full."""
    sim = Simulation(scenario, 1)
    figures = Figures(sim.snapshot)
    growth = Growth(WINDOW)
    growth.add(sim.snapshot, figures)
    shown = [(slot.kind, slot.koid) for slot in flatten(figures)[:ROWS]]
    samples = []
    for _ in range(ticks):
        snap = sim.step()
        figures.advance(snap)
        start = time.perf_counter()
        growth.add(snap, figures)
        for kind, koid in shown:
            growth.per_minute(kind, koid)
        growth.eta()
        samples.append(time.perf_counter() - start)
    return median_ms(samples[WINDOW:]) / 1000


async def open_screen(key: str, runs: int) -> tuple[float, float]:
    """Median CPU and wall milliseconds from `key` on the job tree to its screen drawn, at
    scale with a full window, a new tick before each (nothing worked out yet). The wall
    time includes the test pilot's own waits, some 60 ms here."""
    from zmtop.tui.app import ZmtopApp

    sim = Simulation("scale", 1)
    app = ZmtopApp(sim, autostart=False)
    cpu, wall = [], []
    async with app.run_test(size=(160, 50)) as pilot:
        for _ in range(WINDOW):
            app.deliver(sim.step())
        for _ in range(runs):
            app.deliver(sim.step())
            await pilot.pause()
            start, started = time.perf_counter(), time.thread_time()
            await pilot.press(key)
            await pilot.pause()
            cpu.append(time.thread_time() - started)
            wall.append(time.perf_counter() - start)
            await pilot.press("escape")
    return median_ms(cpu), median_ms(wall)


def run() -> list[Row]:
    default, scale = upkeep("default"), upkeep("scale")
    leaks_cpu, leaks_wall = asyncio.run(open_screen("L", 5))
    help_wall = asyncio.run(open_screen("question_mark", 5))[1]
    return [
        ("trends: upkeep per tick (series, 40 rows' growth, ETA), default", default * 1e3,
         "ms", "<= 1"),
        ("trends: upkeep per tick, scale", scale * 1e3, "ms", "<= 5"),
        ("trends: upkeep's CPU at 1 s ticks, default", default * 100, "%", "<= 0.1"),
        ("trends: open leak suspects at scale, CPU, median", leaks_cpu, "ms", "<= 100"),
        ("trends: open leak suspects at scale, wall (pilot), median", leaks_wall, "ms", ""),
        ("trends: open help at scale (no data), wall (pilot), median", help_wall, "ms", ""),
    ]
