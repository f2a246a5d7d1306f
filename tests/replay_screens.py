"""`python tests/replay_screens.py FILE`: `zmtop replay FILE` as the command line opens it
(its errors and warnings the same), then, headless, a walk through the replay: ticks stepped
and sought, the job tree's modes, every view and a drill-down. Every line of every screen
seen is printed, for tests/fuzz_hostile.py to judge as it judges a command's output."""

from __future__ import annotations

import asyncio
import sys

from zmtop.cli import main as cli

# Step, seek back and forth, the tree's modes (sparklines, flat list, handle columns), then
# each view in turn, and back to the tree to open the task under the cursor and its first
# VMO or child.
WALK = (".", ".", "}", "{", "T", "f5", "f5", "H", "H",
        "v", "h", "D", "K", "M", "E", "L", *["escape"] * 7,
        "down", "down", "enter", "H", "enter", "escape", "escape")


async def _walk(app) -> list[str]:
    seen = []
    async with app.run_test(size=(140, 40)) as pilot:
        for key in ("", *WALK):
            if key:
                await pilot.press(key)
            await pilot.pause()
            seen.extend(strip.text for strip in app.screen._compositor.render_strips())
    return seen


def _replay_headless(source, theme: str | None, window: int, unit: str) -> None:
    from zmtop.tui.replay_app import ReplayApp

    app = ReplayApp(source, tick_seconds=source.info.tick_seconds, theme=theme,
                    window=window, unit=unit)
    print("\n".join(asyncio.run(_walk(app))))


if __name__ == "__main__":
    cli._replay = _replay_headless
    sys.exit(cli.main(["replay", *sys.argv[1:]]))
