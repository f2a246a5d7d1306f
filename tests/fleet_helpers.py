"""What the fleet tests share: the oom recording they export, and stopping a server."""

from __future__ import annotations

import subprocess
from pathlib import Path

from zmtop.engine.recording.writer import Recorder, metadata_for
from zmtop.engine.sim.simulation import Simulation


def record_oom(path: Path) -> Path:
    """The oom scenario's ticks 30 to 70 (through its OOM kill at tick 46) recorded to `path`."""
    sim = Simulation("oom", 1)
    for _ in range(30):
        sim.step()
    with Recorder(path, metadata_for(sim)) as recorder:
        recorder.append(sim.snapshot)
        for _ in range(40):
            recorder.append(sim.step())
    return path


def stop(process: subprocess.Popen, seconds: float = 10) -> None:
    """Terminate, then kill if it does not end within `seconds`."""
    process.terminate()
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
