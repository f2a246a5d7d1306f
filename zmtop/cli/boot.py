"""Booting the built-in simulation for a command, in this process or a forked one."""

from __future__ import annotations

from zmtop.errors import CliError


def boot(scenario: str, seed: int, tick_seconds: float, ticks: int = 0, template=None):
    """The simulation stepped to `ticks`; an unknown scenario is a CliError. `template`, a
    snapshot of that tick from another boot, lends the booted copy its equal records."""
    from zmtop.engine.sim.simulation import Simulation, UnknownScenario

    try:
        sim = Simulation(scenario, seed, tick_seconds, template)
    except UnknownScenario as error:
        raise CliError(str(error)) from None
    for _ in range(ticks):
        sim.step()
    sim.accountant.template = None
    return sim
