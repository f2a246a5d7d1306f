"""What the palette and the README say of each scenario's size is what it boots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zmtop.engine.sim.scenarios import SCENARIOS
from zmtop.engine.sim.simulation import Simulation

README = Path(__file__).resolve().parent.parent / "README.md"
FIGURE = re.compile(r"(~?)([\d,]+) (processes|VMOs)\b")
SIZED = [name for name, scenario in SCENARIOS.items() if FIGURE.search(scenario.description)]


def test_some_scenarios_say_their_size():
    assert {"default", "scale"} <= set(SIZED)


@pytest.mark.slow
@pytest.mark.parametrize("name", SIZED)
def test_a_scenarios_stated_size_is_what_it_boots_and_the_readme_says_it_too(name):
    snap = Simulation(name, 1, 1.0).snapshot
    counts = {"processes": len(snap.processes), "VMOs": len(snap.vmos)}
    scenarios = README.read_text().split("\nScenarios: ", 1)[1].split("\n\n", 1)[0]
    said = scenarios.split(f"`{name}`", 1)[1].split("`,", 1)[0]
    for about, figure, noun in FIGURE.findall(SCENARIOS[name].description):
        stated, real = int(figure.replace(",", "")), counts[noun]
        if about:  # rounded: within 5%
            assert abs(real - stated) <= stated / 20, (noun, real)
        else:
            assert real == stated, (noun, real)
        assert f"{about}{figure}" in said, (name, f"{about}{figure} {noun}")
