"""UI budgets, measured in a 160x50 tmux with benchmarks/tuibench.py: first frame, CPU
at 1 s ticks, RSS, key-to-repaint latency (at xl too); and, headless, the UI's own work per tick at scale,
the time from `v` to the All VMOs screen drawn at scale, and the all-in tick (engine and UI)
at scale and xl."""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from benchmarks import CAPTURE, TUIBENCH, median_ms
from benchmarks.engine_bench import WARMUP_TICKS

KEYS = " ".join(["Down"] * 12 + ["Up"] * 8 + ["End", "Home"])


def tuibench(name: str, args: list[str], seconds: float, keys: str = "", *,
             repeat: int = 1, warmup: float = 3, module: str = "zmtop") -> dict:
    """tuibench.py's result for `python -m MODULE ARGS` (zmtop's by default) in a 160x50
    tmux, `seconds` of steady window."""
    command = [sys.executable, str(TUIBENCH), "--name", name, "--marker", "TASK",
               "--seconds", str(seconds), "--warmup", str(warmup), "--timeout", "90",
               "--repeat", str(repeat), *(["--keys", keys] if keys else []),
               "--", sys.executable, "-m", module, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _key_latencies(result: dict) -> list[float]:
    return [key["ms"] for key in result.get("keys", []) if key.get("ms") is not None]


@asynccontextmanager
async def _monitor(sim: Any) -> AsyncIterator[tuple[Any, Any]]:
    """The monitor over `sim` and its pilot, headless in 160x50 and laid out, with the
    collector set as the monitor sets it once its first frame is up (restored after)."""
    from zmtop.cli.main import settle_heap
    from zmtop.tui.app import ZmtopApp

    thresholds = gc.get_threshold()
    settle_heap()
    try:
        app = ZmtopApp(sim, autostart=False)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            yield app, pilot
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


async def _scale_ticks(ticks: int) -> tuple[float, float]:
    """CPU time per tick of `deliver` plus the repaint it causes, less an idle pause; and
    apart, the release of the previous snapshot (its size is the engine's data layout)."""
    from zmtop.engine.sim.simulation import Simulation

    sim = Simulation("scale", 1)
    idle, work, release = [], [], []
    async with _monitor(sim) as (app, pilot):
        for _ in range(ticks):
            start = time.thread_time()
            await pilot.pause()
            idle.append(time.thread_time() - start)
            snap = sim.step()
            previous = app.snapshot
            start = time.thread_time()
            app.deliver(snap)
            await pilot.pause()
            work.append(time.thread_time() - start)
            start = time.thread_time()
            del previous
            release.append(time.thread_time() - start)
    return median_ms(work) - median_ms(idle), median_ms(release)


async def _all_in_ticks(scenario: str, ticks: int) -> list[float]:
    """CPU seconds per tick of everything a tick costs the monitor with the job tree sorted
    by PSS: the simulation's step, `deliver` and the repaint it causes, the previous
    snapshot released, less an idle pause; after the engine's warm-up ticks."""
    from zmtop.engine.sim.simulation import Simulation
    from zmtop.tui.widgets.task_table import TaskTable

    sim = Simulation(scenario, 1)
    for _ in range(WARMUP_TICKS):
        sim.step()
    idle, ticked = [], []
    async with _monitor(sim) as (app, pilot):
        app.screen.query_one(TaskTable).sort_by("pss")
        for _ in range(ticks):
            start = time.thread_time()
            await pilot.pause()
            idle.append(time.thread_time() - start)
            start = time.thread_time()
            app.deliver(sim.step())
            await pilot.pause()
            ticked.append(time.thread_time() - start)
    pause = statistics.median(idle)
    return [tick - pause for tick in ticked]


def all_in_rows() -> list[tuple[str, float, str, str]]:
    """The all-in tick at scale and at xl: the issue's budgets are on these lines."""
    rows = []
    for scenario, ticks, budget in (("scale", 40, "<= 10"), ("xl", 15, "<= 50")):
        samples = asyncio.run(_all_in_ticks(scenario, ticks))
        rows.append((f"ui {scenario}: all-in tick (step, deliver, repaint; tree by PSS), "
                     "median", median_ms(samples), "ms", budget))
    return rows


async def _open_system_vmos(runs: int) -> float:
    """Wall time from `v` on the job tree to the All VMOs screen drawn, at scale."""
    from zmtop.engine.sim.simulation import Simulation
    from zmtop.tui.app import ZmtopApp
    from zmtop.tui.screens.system_vmos import SystemVmosScreen

    app = ZmtopApp(Simulation("scale", 1), autostart=False)
    samples = []
    async with app.run_test(size=(160, 50)) as pilot:
        for _ in range(runs):
            await pilot.pause()
            start = time.perf_counter()
            await pilot.press("v")
            await pilot.pause()
            assert isinstance(app.screen, SystemVmosScreen)
            samples.append(time.perf_counter() - start)
            await pilot.press("escape")
    return median_ms(samples)


async def _whole_repaints(presses: int) -> float:
    """CPU time of End or Home on the default job tree, which repaint every line of it,
    less an idle pause; each press after a tick."""
    from zmtop.engine.sim.simulation import Simulation

    sim = Simulation("default", 1)
    idle, pressed = [], []
    async with _monitor(sim) as (app, pilot):
        for i in range(presses):
            app.deliver(sim.step())
            await pilot.pause()
            start = time.thread_time()
            await pilot.pause()
            idle.append(time.thread_time() - start)
            start = time.thread_time()
            await pilot.press("end" if i % 2 == 0 else "home")
            await pilot.pause()
            pressed.append(time.thread_time() - start)
    return median_ms(pressed) - median_ms(idle)


def _headless_rows() -> list[tuple[str, float, str, str]]:
    """The lines measured without tmux: the UI's own work in ticks and keys."""
    return [("ui default: a whole repaint of the tree (End, Home), CPU, median",
             asyncio.run(_whole_repaints(40)), "ms", ""), *_scale_rows()]


def _scale_rows() -> list[tuple[str, float, str, str]]:
    ui_work, release = asyncio.run(_scale_ticks(40))
    opened = asyncio.run(_open_system_vmos(5))
    return [
        ("ui scale: UI work per tick beyond Simulation.step, median", ui_work, "ms", "<= 5"),
        ("ui scale: releasing the previous snapshot, median", release, "ms", ""),
        ("ui scale: open All VMOs (100k rows), median", opened, "ms", "<= 200"),
        *all_in_rows(),
    ]


def run() -> list[tuple[str, float, str, str]]:
    if shutil.which("tmux") is None:  # tuibench.py drives the app in a tmux
        return [("ui: skipped, tmux not found", 0.0, "", ""), *_headless_rows()]
    starts = tuibench("zmtop-start", [], 1, repeat=5, warmup=0.5)["summary"]
    live = tuibench("zmtop-default", [], 30, KEYS)
    scale = tuibench("zmtop-scale", ["--scenario", "scale"], 15, KEYS)
    imported = tuibench("zmtop-capture", ["--from", str(CAPTURE)], 5, "Down")
    # xl: `s` sorts the tree by PSS (its key lays out 10,000 rows), then the same moves
    xl = tuibench("zmtop-xl", ["--scenario", "xl"], 15, f"s {KEYS}", warmup=5)
    return [
        ("ui capture: first frame of the real capture", imported["first_frame_ms"], "ms",
         "<= 300 beyond start-up"),
        ("ui default: first frame, median of 5 starts", starts["first_frame_ms"]["median"],
         "ms", "<= 250"),
        ("ui default: first frame, slowest of 5 starts", starts["first_frame_ms"]["max"],
         "ms", ""),
        ("ui default: CPU at 1 s ticks", live["cpu_pct"], "%", "<= 0.5"),
        ("ui default: RSS", live["peak_rss_mb"], "MB", "<= 50"),
        ("ui default: key to repaint, p95", _p95(_key_latencies(live)), "ms", "<= 16"),
        ("ui scale: CPU at 1 s ticks (engine included)", scale["cpu_pct"], "%", ""),
        ("ui scale: key to repaint, p95", _p95(_key_latencies(scale)), "ms", "<= 50"),
        ("ui xl: key to repaint, p95 (tree by PSS)", _p95(_key_latencies(xl)), "ms", "<= 50"),
        *_headless_rows(),
        ("ui: host CPU used by others during the window", live["other_host_cpu_pct"], "%", ""),
    ]
