"""Record budgets: file size per hour and per tick, opening, seeking, and recording cost."""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time

from zmtop.engine.recording.format import ANCHOR_EVERY, DELTA, KEYFRAME_EVERY
from zmtop.engine.recording.reader import Recording
from zmtop.engine.recording.writer import Recorder, metadata_for
from zmtop.engine.sim.simulation import Simulation

Row = tuple[str, float, str, str]


def _record(path: str, scenario: str, ticks: int,
            keyframe_every: int = KEYFRAME_EVERY) -> list[float]:
    """Record tick 0 plus `ticks` steps; the seconds each append took.

    The tick before stays referenced during an append, as the monitor keeps it: freeing a
    snapshot is its source's cost (at scale, 3 ms to drop 100k records), not recording's.
    """
    sim = Simulation(scenario, 1)
    times = []
    with Recorder(path, metadata_for(sim), keyframe_every=keyframe_every) as recorder:
        shown = None
        for i in range(ticks + 1):
            snap = sim.snapshot if i == 0 else sim.step()
            start = time.perf_counter()
            recorder.append(snap)
            times.append(time.perf_counter() - start)
            shown = snap  # noqa: F841 - held until the next tick is recorded
    return times


def default_hour(directory: str, ticks: int = 3600) -> list[Row]:
    path = os.path.join(directory, "default.zmrec")
    _record(path, "default", ticks)
    size = os.path.getsize(path)
    start = time.perf_counter()
    recording = Recording.open(path)
    opened = time.perf_counter() - start
    seeks = []
    # 40 random ticks, and the last before each keyframe: the most deltas to apply
    before_keys = [tick for tick in recording.ticks if (tick + 1) % KEYFRAME_EVERY == 0]
    for tick in random.Random(1).sample(recording.ticks, 40) + before_keys:
        recording = Recording.open(path)  # cold: nothing decoded yet
        start = time.perf_counter()
        recording.snapshot_at(tick)
        seeks.append(time.perf_counter() - start)
    start = time.perf_counter()
    for tick in recording.ticks[:KEYFRAME_EVERY]:
        recording.snapshot_at(tick)
    step = (time.perf_counter() - start) / KEYFRAME_EVERY
    return [
        ("default: recording size per hour at 1 s ticks", size / (ticks + 1) * 3600 / 1e6,
         "MB", "<= 3"),
        (f"default: open a {ticks:,}-tick recording", opened * 1000, "ms", "<= 500"),
        ("default: seek to any tick (cold), worst", max(seeks) * 1000, "ms", "<= 50"),
        ("default: seek to any tick (cold), median", statistics.median(seeks) * 1000,
         "ms", ""),
        ("default: step forward one tick, mean", step * 1000, "ms", ""),
    ]


def scale_ticks(directory: str, ticks: int = 8) -> list[Row]:
    """Keyframes every 4 ticks here, to measure a standalone and a chained one."""
    path = os.path.join(directory, "scale.zmrec")
    times = _record(path, "scale", ticks, keyframe_every=4)
    entries = Recording.open(path)._entries  # noqa: SLF001 - the frame sizes are the measure
    keys = [(e.length, times[i]) for i, e in enumerate(entries) if e.kind != DELTA]
    deltas = [(e.length, times[i]) for i, e in enumerate(entries) if e.kind == DELTA]
    chained = statistics.mean(size for size, _ in keys[1:])
    key = (keys[0][0] + chained * (ANCHOR_EVERY - 1)) / ANCHOR_EVERY
    delta = statistics.mean(size for size, _ in deltas)
    per_tick = (key + delta * (KEYFRAME_EVERY - 1)) / KEYFRAME_EVERY
    delta_ms = statistics.median(t for _, t in deltas) * 1000
    key_ms = (keys[0][1] + keys[1][1] * (ANCHOR_EVERY - 1)) / ANCHOR_EVERY * 1000
    per_tick_ms = (key_ms + delta_ms * (KEYFRAME_EVERY - 1)) / KEYFRAME_EVERY
    return [
        ("scale: bytes per tick, keyframes amortized", per_tick / 1000, "KB", "<= 10"),
        ("scale: delta size, mean", delta / 1000, "KB", ""),
        ("scale: keyframe size, standalone", keys[0][0] / 1000, "KB", ""),
        ("scale: keyframe size, chained", chained / 1000, "KB", ""),
        ("scale: recording per tick, keyframes amortized", per_tick_ms, "ms", "<= 2"),
        ("scale: recording a delta tick, median", delta_ms, "ms", ""),
        ("scale: recording a keyframe, standalone", keys[0][1] * 1000, "ms", ""),
        ("scale: recording a keyframe, chained", keys[1][1] * 1000, "ms", ""),
    ]


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as directory:
        return default_hour(directory) + scale_ticks(directory)
