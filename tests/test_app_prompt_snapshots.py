"""SVG snapshots of the screens the other snapshot files leave out: the memory hogs, the
watchdog's prompt, the kill question, the replay's go-to prompt, the command palette and the
column chooser.

The scenes are zmtop.screenshots' (default scenario or the oom recording, seed 1, stepped by
hand); the prompts' cursors are kept from blinking so that each picture is the same every run.
After a deliberate change of look: `pytest tests/test_app_prompt_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from zmtop.screenshots import Scene, replay_source, scene_app, select_process, step_ticks

pytestmark = pytest.mark.slow


async def _still_cursor(pilot: Pilot) -> None:
    """The prompt's input shown with its cursor on, not blinking."""
    await pilot.pause()
    pilot.app.screen.query_one(Input).cursor_blink = False
    await pilot.pause()


async def watchdog_prompt(pilot: Pilot) -> None:
    await step_ticks(pilot)
    await pilot.press("W")
    await _still_cursor(pilot)


async def hogs(pilot: Pilot) -> None:
    await step_ticks(pilot)
    await pilot.press("W")
    await pilot.pause()
    await pilot.press("ctrl+a", "ctrl+k", "2", "enter")
    await pilot.pause()


async def goto_prompt(pilot: Pilot) -> None:
    await pilot.press("colon")
    await _still_cursor(pilot)
    await pilot.press(*"0:42")
    await pilot.pause()


async def palette(pilot: Pilot) -> None:
    """The palette with "scen" typed: its matches, once the search has finished."""
    await step_ticks(pilot)
    await pilot.press("ctrl+p")
    await _still_cursor(pilot)
    await pilot.press(*"scen")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def kill_prompt(pilot: Pilot) -> None:
    await step_ticks(pilot)
    await select_process(pilot, "netstack.cm")
    await pilot.press("k")
    await pilot.pause()


async def column_chooser(pilot: Pilot) -> None:
    """F2 with A.PSS moved up a place and ΔPSS hidden: the tree's header shows both."""
    await step_ticks(pilot)
    await pilot.press("f2")
    await pilot.pause()
    await pilot.press(*["down"] * 4, "left_square_bracket", "down", "down", "space")
    await pilot.pause()


PROMPT_SCENES = [
    Scene("kill-prompt", (80, 24), "zmtop-dark", kill_prompt),
    Scene("hogs", (120, 36), "zmtop-dark", hogs),
    Scene("watchdog-prompt", (120, 36), "zmtop-dark", watchdog_prompt),
    Scene("goto-prompt", (120, 36), "zmtop-dark", goto_prompt, replay_source),
    Scene("palette", (120, 36), "zmtop-dark", palette),
    Scene("columns", (120, 36), "zmtop-dark", column_chooser),
]


@pytest.mark.parametrize("scene", PROMPT_SCENES, ids=[s.name for s in PROMPT_SCENES])
def test_screen(scene, snap_compare):
    assert snap_compare(scene_app(scene), terminal_size=scene.size, run_before=scene.setup)
