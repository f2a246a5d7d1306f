"""`python -m zmtop.screenshots DIR`: SVGs of every screen and theme, from the real app.

Each scene drives the app headless on the default scenario, seed 1, stepped by hand to a
fixed tick, so the pictures (and the snapshot tests that reuse these scenes) are stable.
"""

from __future__ import annotations

import asyncio
import functools
import io
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, cast

from textual.pilot import Pilot

from zmtop.engine.sources.source import Source, is_seekable

if TYPE_CHECKING:
    from zmtop.tui.monitor import MonitorApp

TICKS = 3


class Scene(NamedTuple):
    name: str
    size: tuple[int, int]
    theme: str
    setup: Callable[[Pilot], Awaitable[None]]
    source: Callable[[], Source] | None = None  # default: the simulation


def _app(pilot: Pilot) -> MonitorApp:
    """The scene's app: a ZmtopApp (see `scene_app`)."""
    return cast("MonitorApp", pilot.app)


async def step_ticks(pilot: Pilot) -> None:
    """The scenes' TICKS ticks, stepped by hand."""
    for _ in range(TICKS):
        await pilot.press("full_stop")


async def select_process(pilot: Pilot, name: str) -> None:
    """Select the job tree's row of the process named `name`."""
    from zmtop.tui.widgets.task_table import TaskTable

    snap = _app(pilot).snapshot
    koid = next(p.koid for p in snap.processes.values() if p.name == name)
    pilot.app.screen.query_one(TaskTable).move_to(koid)


async def main_screen(pilot: Pilot) -> None:
    await step_ticks(pilot)
    await select_process(pilot, "driver_host:sys")


async def filtered(pilot: Pilot) -> None:
    await step_ticks(pilot)
    await pilot.press("s", "backslash", *"driver_host", "enter")


async def process(pilot: Pilot) -> None:
    await step_ticks(pilot)
    await select_process(pilot, "bin/component_manager")
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press("down", "down", "down")


async def vmo(pilot: Pilot) -> None:
    await step_ticks(pilot)
    snap = _app(pilot).snapshot
    koid = next(v.koid for v in snap.vmos.values()
                if v.is_clone and snap.vmos[v.parent_koid].num_children > 2)
    _app(pilot).jump_to_koid(koid)
    await pilot.pause()


async def system_vmos(pilot: Pilot) -> None:
    await step_ticks(pilot)
    await pilot.press("v")
    await pilot.pause()
    await pilot.press("s", "s", "s", "s", "s", "s", "home")  # by ALLOC, largest first


async def help_screen(pilot: Pilot) -> None:
    await step_ticks(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


SCENES = [
    Scene("main", (120, 36), "zmtop-dark", main_screen),
    Scene("main-80x24", (80, 24), "zmtop-dark", main_screen),
    Scene("filter", (120, 36), "zmtop-dark", filtered),
    Scene("process", (120, 40), "zmtop-dark", process),
    Scene("process-wide", (180, 45), "zmtop-dark", process),
    Scene("process-80x24", (80, 24), "zmtop-dark", process),
    Scene("vmo", (120, 36), "zmtop-dark", vmo),
    Scene("system-vmos", (120, 36), "zmtop-dark", system_vmos),
    Scene("help", (100, 36), "zmtop-dark", help_screen),
    Scene("theme-light", (120, 36), "zmtop-light", main_screen),
    Scene("theme-contrast", (120, 36), "zmtop-contrast", main_screen),
    Scene("theme-ansi", (120, 36), "zmtop-ansi", main_screen),
    Scene("theme-light-process", (120, 40), "zmtop-light", process),
]


async def digest(pilot: Pilot) -> None:
    await step_ticks(pilot)
    await pilot.press("D")
    await pilot.pause()


async def handles(pilot: Pilot) -> None:
    await process(pilot)
    await pilot.press("H")
    await pilot.pause()


async def event_log(pilot: Pilot) -> None:
    for _ in range(OOM_KILLED):
        _app(pilot).action_step()
    await pilot.press("E")
    await pilot.pause()


OOM_KILLED = 48  # ticks of the oom scenario (seed 1) to its OOM kill and two more
LEAK_TICKS = 30  # ticks of the leak scenario (seed 1): its leaker is the first suspect


def oom_source():
    from zmtop.engine.sim.simulation import Simulation

    return Simulation("oom", 1, 1.0)


async def imported(pilot: Pilot) -> None:
    await select_process(pilot, "bin/component_manager")


def capture_source():
    """The default scenario as booted, exported as a capture and imported back."""
    from zmtop.engine.formats.capture import capture_json
    from zmtop.engine.sim.simulation import Simulation
    from zmtop.engine.sources.detect import parse_source

    return parse_source(capture_json(Simulation("default", 1, 1.0).snapshot).encode(),
                        "capture.json")


def leak_source():
    from zmtop.engine.sim.simulation import Simulation

    return Simulation("leak", 1, 1.0)


async def leak_suspects(pilot: Pilot) -> None:
    for _ in range(LEAK_TICKS):
        _app(pilot).action_step()
    await pilot.press("L")
    await pilot.pause()


async def trends(pilot: Pilot) -> None:
    """The job tree sorted by growth, with each row's PSS sparkline, on the leaker."""
    for _ in range(LEAK_TICKS):
        _app(pilot).action_step()
    await pilot.press("T", *"s" * 6)
    await pilot.pause()
    await select_process(pilot, "cobalt.cm")


# Scenes of the digest, handles, the event log, trends and imports (their own snapshot
# test file).
async def bucket(pilot: Pilot) -> None:
    """The digest's largest bucket opened: its processes and VMOs."""
    await digest(pilot)
    await pilot.press("enter")
    await pilot.pause()


MORE_SCENES = [
    Scene("digest", (120, 36), "zmtop-dark", digest),
    Scene("bucket", (120, 36), "zmtop-dark", bucket),
    Scene("events", (120, 36), "zmtop-dark", event_log, oom_source),
    Scene("leaks", (120, 36), "zmtop-dark", leak_suspects, leak_source),
    Scene("trends", (120, 36), "zmtop-dark", trends, leak_source),
    Scene("process-handles", (120, 40), "zmtop-dark", handles),
    Scene("import-main", (120, 36), "zmtop-dark", imported, capture_source),
]


async def kernel(pilot: Pilot) -> None:
    for _ in range(10 * TICKS):  # enough history for the graphs to show a shape
        await pilot.press("full_stop")
    await pilot.press("K")
    await pilot.pause()


async def treemap(pilot: Pilot) -> None:
    from zmtop.tui.widgets.treemap_view import TreemapView

    await step_ticks(pilot)
    await pilot.press("M")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    pilot.app.screen.query_one("TreemapView", TreemapView).select("kernel/vmo")
    await pilot.press("enter", "enter")  # into VMOs/processes, then the root job


# Scenes of the kernel screen and the memory map (their own snapshot test file).
KERNEL_SCENES = [
    Scene("kernel", (120, 36), "zmtop-dark", kernel),
    Scene("kernel-80x24", (80, 24), "zmtop-dark", kernel),
    Scene("treemap", (120, 36), "zmtop-dark", treemap),
]


REPLAY_TICKS = 60  # the oom scenario: pressure rises from tick 16, an OOM kill at 46


@functools.cache
def _replay_bytes() -> bytes:
    from zmtop.engine.recording.format import Metadata
    from zmtop.engine.recording.writer import Recorder
    from zmtop.engine.sim.simulation import Simulation

    sim = Simulation("oom", 1, 1.0)
    buffer = io.BytesIO()
    recorder = Recorder("oom.zmrec", Metadata(scenario="oom", seed=1), file=buffer)
    recorder.append(sim.snapshot)
    for _ in range(REPLAY_TICKS):
        recorder.append(sim.step())
    return buffer.getvalue()


def replay_source() -> Source:
    """A recording of the oom scenario, made in memory once per process."""
    from zmtop.engine.recording.reader import Recording
    from zmtop.engine.sources.replay import ReplaySource

    return ReplaySource(Recording.from_bytes(_replay_bytes(), "oom.zmrec"))


async def _go_to(pilot: Pilot, text: str) -> None:
    await pilot.press("colon")
    await pilot.pause()  # the prompt has the keys only once it shows
    await pilot.press(*text, "enter")
    await pilot.pause()


async def marked(pilot: Pilot) -> None:
    """Marks A at tick 20 and B at the OOM kill (by its time), and the replay left there."""
    await _go_to(pilot, "20")
    await pilot.press("m")
    await _go_to(pilot, "0:46")
    await pilot.press("m")


async def replay_diff(pilot: Pilot) -> None:
    await marked(pilot)
    await pilot.press("d")
    await pilot.pause()


# Scenes of the replay and the diff of two marks (their own snapshot test file).
REPLAY_SCENES = [
    Scene("replay", (120, 36), "zmtop-dark", marked, replay_source),
    Scene("replay-80x24", (80, 24), "zmtop-dark", marked, replay_source),
    Scene("diff", (120, 40), "zmtop-dark", replay_diff, replay_source),
    Scene("diff-wide", (180, 45), "zmtop-dark", replay_diff, replay_source),
]


def scene_app(scene: Scene):
    """The app a scene runs on: default scenario, seed 1, no clock, no saved settings."""
    from zmtop.engine.sim.simulation import Simulation
    from zmtop.tui.app import ZmtopApp

    source = scene.source() if scene.source else Simulation("default", 1, 1.0)
    if is_seekable(source):
        from zmtop.tui.replay_app import ReplayApp

        return ReplayApp(source, theme=scene.theme, autostart=False)
    return ZmtopApp(source, theme=scene.theme, autostart=False)


async def shoot(scene: Scene, directory: Path) -> Path:
    app = scene_app(scene)
    async with app.run_test(size=scene.size) as pilot:
        await scene.setup(pilot)
        await pilot.pause()
        path = directory / f"{scene.name}.svg"
        path.write_text(app.export_screenshot(title=f"zmtop — {scene.name}"), encoding="utf-8")
    return path


async def shoot_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return [await shoot(scene, directory) for scene in SCENES + MORE_SCENES + KERNEL_SCENES
            + REPLAY_SCENES]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m zmtop.screenshots DIR", file=sys.stderr)
        return 2
    for path in asyncio.run(shoot_all(Path(args[0]))):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
