"""Booting the built-in simulation for a command, in this process or a forked one."""

from __future__ import annotations

from zmtop.errors import CliError


def boot(scenario: str, seed: int, tick_seconds: float, ticks: int = 0, twin=None):
    """The simulation stepped to `ticks`; an unknown scenario is a CliError. `twin`, that
    tick's snapshot decoded from another boot, takes the booted copy's equal records in
    place of its own (see Accountant.twin)."""
    from zmtop.engine.sim.simulation import Simulation, UnknownScenario

    try:
        sim = Simulation(scenario, seed, tick_seconds, twin)
    except UnknownScenario as error:
        raise CliError(str(error)) from None
    for _ in range(ticks):
        sim.step()
    sim.accountant.twin = None
    return sim
