"""Shared fixtures: a monitor on a fresh simulation with the clock off, stepped by hand."""

from __future__ import annotations

import pytest

from zmtop.engine.sim.simulation import Simulation


@pytest.fixture
def make_app():
    """Build a ZmtopApp on `scenario`/`seed` that never ticks by itself and saves no config."""
    from zmtop.tui.app import ZmtopApp

    def make(scenario: str = "default", seed: int = 1, **options) -> ZmtopApp:
        options.setdefault("autostart", False)
        options.setdefault("tick_seconds", 1.0)
        return ZmtopApp(Simulation(scenario, seed, 1.0), **options)

    return make
