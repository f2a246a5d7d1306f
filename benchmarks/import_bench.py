"""Import budgets: loading the real capture fixture, and `zmtop digest` on it end to end."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from engine.digest import digest, digest_text, load_buckets
from engine.imports import load_source, parse_source
from engine.memgraph import to_memgraph
from engine.poll import PollSource
from engine.simulation import Simulation

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
CAPTURE = FIXTURES / "fuchsia-capture-2021.json"
BUCKETS = FIXTURES / "fuchsia-capture-2021-buckets.json"


def _median_ms(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def _digest_end_to_end() -> None:
    source = load_source(CAPTURE)
    digest_text(digest(source.snapshot, load_buckets(BUCKETS), source.kernel_extended))


def capture(runs: int = 7) -> list[tuple[str, float, str, str]]:
    if not CAPTURE.exists():
        return [(f"capture: fixture missing ({CAPTURE})", 0.0, "", "skipped")]
    return [
        ("capture: load real capture (90 procs, 6k VMOs), median",
         _median_ms(lambda: load_source(CAPTURE), runs), "ms", ""),
        ("capture: load + digest + render, median",
         _median_ms(_digest_end_to_end, runs), "ms", ""),
        ("capture: `zmtop digest --from` it, end to end, median",
         _median_ms(lambda: subprocess.run(
             [sys.executable, "-m", "zmtop", "digest", "--from", str(CAPTURE),
              "--buckets", str(BUCKETS)], check=True, stdout=subprocess.DEVNULL), runs),
         "ms", "<= 500"),
    ]


def poll(runs: int = 7) -> list[tuple[str, float, str, str]]:
    """What a poll tick costs beyond the command's own time (here `cat` of the capture)."""
    if not CAPTURE.exists():
        return [(f"poll: fixture missing ({CAPTURE})", 0.0, "", "skipped")]
    command = ["cat", str(CAPTURE)]
    source = PollSource(" ".join(command), tick_seconds=2.0)
    own = _median_ms(lambda: subprocess.run(command, check=True, capture_output=True), runs)
    tick = _median_ms(source.step, runs)
    return [("poll: a tick beyond the command's own time, median", tick - own, "ms",
             "<= 20")]


def memgraph(runs: int = 5) -> list[tuple[str, float, str, str]]:
    snap = Simulation("default", 1).snapshot
    text = to_memgraph(snap)
    data = text.encode()
    return [
        ("memgraph: export default snapshot, median", _median_ms(lambda: to_memgraph(snap), runs),
         "ms", ""),
        ("memgraph: import it back, median", _median_ms(lambda: parse_source(data, "b"), runs),
         "ms", ""),
    ]


def run() -> list[tuple[str, float, str, str]]:
    return capture() + poll() + memgraph()
