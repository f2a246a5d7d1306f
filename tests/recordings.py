"""Recordings the tests replay, written from the simulation."""

from __future__ import annotations

from pathlib import Path

from zmtop.engine.recording.format import KEYFRAME_EVERY
from zmtop.engine.recording.writer import Recorder, metadata_for
from zmtop.engine.sim.simulation import Simulation


def record(path: Path, scenario: str, ticks: int, *, skip: int = 0,
           keyframe_every: int = KEYFRAME_EVERY) -> Path:
    """`scenario` (seed 1, 1 s ticks) recorded to `path`: the snapshot after `skip` ticks,
    then `ticks` more."""
    sim = Simulation(scenario, 1, 1.0)
    for _ in range(skip):
        sim.step()
    with Recorder(path, metadata_for(sim), keyframe_every=keyframe_every) as recorder:
        recorder.append(sim.snapshot)
        for _ in range(ticks):
            recorder.append(sim.step())
    return path
