"""UI budgets, measured in a 160x50 tmux with ../shared/tools/tuibench.py: first frame, CPU
at 1 s ticks, RSS, key-to-repaint latency; and opening the All VMOs screen at scale."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
TUIBENCH = SHARED / "tools" / "tuibench.py"
CAPTURE = SHARED / "fixtures" / "fuchsia-capture-2021.json"
KEYS = " ".join(["Down"] * 12 + ["Up"] * 8 + ["End", "Home"])


def _tuibench(name: str, args: list[str], seconds: float, keys: str) -> dict:
    command = [sys.executable, str(TUIBENCH), "--name", name, "--marker", "TASK",
               "--seconds", str(seconds), "--warmup", "3", "--timeout", "90",
               "--keys", keys, "--", sys.executable, "-m", "zmtop", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _key_latencies(result: dict) -> list[float]:
    return [key["ms"] for key in result.get("keys", []) if key.get("ms") is not None]


def run() -> list[tuple[str, float, str, str]]:
    if not TUIBENCH.exists():
        return [(f"ui: skipped, {TUIBENCH} not found", 0.0, "", "")]
    live = _tuibench("zmtop-default", [], 30, KEYS)
    scale = _tuibench("zmtop-scale", ["--scenario", "scale"], 15, KEYS)
    imported = _tuibench("zmtop-capture", ["--from", str(CAPTURE)], 5, "Down")
    return [
        ("ui capture: first frame of the real capture", imported["first_frame_ms"], "ms",
         "<= 300 beyond start-up"),
        ("ui default: first frame", live["first_frame_ms"], "ms", "<= 300"),
        ("ui default: CPU at 1 s ticks", live["cpu_pct"], "%", "<= 1"),
        ("ui default: RSS", live["peak_rss_mb"], "MB", "<= 60"),
        ("ui default: key to repaint, p95", _p95(_key_latencies(live)), "ms", "<= 30"),
        ("ui scale: CPU at 1 s ticks (engine included)", scale["cpu_pct"], "%", ""),
        ("ui scale: key to repaint, p95", _p95(_key_latencies(scale)), "ms", "<= 50"),
        ("ui: host CPU used by others during the window", live["other_host_cpu_pct"], "%", ""),
    ]
