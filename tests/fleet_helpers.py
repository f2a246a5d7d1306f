"""What the fleet tests share: the oom recording they export, and stopping a server."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.recordings import record


def record_oom(path: Path) -> Path:
    """The oom scenario's ticks 30 to 70 (through its OOM kill at tick 46) recorded to `path`."""
    return record(path, "oom", 40, skip=30)


def stop(process: subprocess.Popen, seconds: float = 10) -> None:
    """Terminate, then kill if it does not end within `seconds`."""
    process.terminate()
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
