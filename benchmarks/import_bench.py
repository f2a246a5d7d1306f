"""Import budgets: loading the real capture fixture, `zmtop digest` on it end to end, a poll
tick over it (unchanged, and with 1% of the VMOs changed), and a memgraph round trip."""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import BUCKETS, CAPTURE
from zmtop.engine.analysis.digest import digest, digest_text, load_buckets
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.sources.detect import load_source, parse_source
from zmtop.engine.sources.memgraph_reader import to_memgraph
from zmtop.engine.sources.poll import PollSource


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


def _next_polls(count: int) -> list[bytes]:
    """The capture as a device's next polls would print it: the time moves on and 1% of the
    VMOs grow or shrink each time."""
    doc = json.loads(CAPTURE.read_bytes())
    rows = doc["Vmos"][1:]
    rng = random.Random(1)
    out = []
    for _ in range(count):
        doc["Time"] += 2_000_000_000
        for row in rng.sample(rows, len(rows) // 100):
            row[3] = max(0, row[3] + 4096 * rng.randint(-4, 4))
        out.append(json.dumps(doc, separators=(",", ":")).encode())
    return out


def _changing_tick_ms(runs: int) -> float:
    """A poll tick of `cat` over a file that changes between ticks, beyond `cat`'s time."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "capture.json"
        path.write_bytes(CAPTURE.read_bytes())
        command = ["cat", str(path)]
        source = PollSource(" ".join(command), tick_seconds=2.0)
        own = _median_ms(lambda: subprocess.run(command, check=True, capture_output=True), runs)
        samples = []
        for data in _next_polls(runs):
            path.write_bytes(data)
            start = time.perf_counter()
            source.step()
            samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000 - own


def poll(runs: int = 7) -> list[tuple[str, float, str, str]]:
    """What a poll tick costs beyond the command's own time (here `cat` of the capture)."""
    command = ["cat", str(CAPTURE)]
    source = PollSource(" ".join(command), tick_seconds=2.0)
    own = _median_ms(lambda: subprocess.run(command, check=True, capture_output=True), runs)
    tick = _median_ms(source.step, runs)
    return [("poll: a tick beyond the command's own time, median", tick - own, "ms",
             "<= 20"),
            ("poll: the same, with 1% of the VMOs changed each tick, median",
             _changing_tick_ms(runs), "ms", "<= 20")]


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
