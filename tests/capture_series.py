"""A poll over a series of captures: a scenario's ticks written as capture files, and a
command that prints the next one each time it runs (as a device polled would)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from zmtop.engine.formats.capture import to_capture
from zmtop.engine.sim.simulation import Simulation

PRINTER = ("import pathlib, sys; d = pathlib.Path(sys.argv[1]); c = d / 'n'; "
           "n = int(c.read_text()) if c.exists() else 0; c.write_text(str(n + 1)); "
           "sys.stdout.write((d / f'{n}.json').read_text())")


def capture_series_command(directory: Path, scenario: str, ticks: int) -> str:
    """Write ticks 0 to `ticks` - 1 of `scenario` (seed 1) as captures in `directory`; the
    command line that prints them in turn."""
    sim = Simulation(scenario, 1, 1.0)
    for tick in range(ticks):
        snap = sim.snapshot if tick == 0 else sim.step()
        (directory / f"{tick}.json").write_text(json.dumps(to_capture(snap)))
    return shlex.join([sys.executable, "-c", PRINTER, str(directory)])
