"""Textual's floor on this machine (benchmarks/floor_app.py, in the same 160x50 tmux as
ui_bench), what the monitor's first-frame and idle-CPU budgets are set against: the first
frame of an app of one Static, and the CPU of an app that does nothing but repaint as many
lines a second as the monitor repaints a tick."""

from __future__ import annotations

import shutil

from benchmarks.ui_bench import tuibench

# The monitor's repaint at 1 s ticks at default, counted: 3 header lines and about 16 job
# tree rows a tick (the figures that moved).
ROWS_A_TICK = 16
WINDOW_SECONDS = 30


def run() -> list[tuple[str, float, str, str]]:
    if shutil.which("tmux") is None:  # tuibench.py drives the app in a tmux
        return [("textual floor: skipped, tmux not found", 0.0, "", "")]
    hello = tuibench("floor-hello", ["hello"], 1, repeat=5, warmup=0.5,
                     module="benchmarks.floor_app")["summary"]
    rows = []
    for repainted, label in ((0, "a 1 s timer, nothing repainted"),
                             (1, "header and 1 table row repainted a second"),
                             (ROWS_A_TICK, f"header and {ROWS_A_TICK} table rows repainted "
                                           "a second (the monitor's)")):
        result = tuibench(f"floor-{repainted}", ["table", str(repainted)], WINDOW_SECONDS,
                          module="benchmarks.floor_app")
        rows.append((f"textual floor: CPU, {label}", result["cpu_pct"], "%", ""))
    return [("textual floor: first frame of a one-Static app, median of 5 starts",
             hello["first_frame_ms"]["median"], "ms", ""), *rows]
