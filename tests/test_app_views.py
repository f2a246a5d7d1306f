"""Top-level views switch and drill-downs stack, with a breadcrumb of the path."""

from __future__ import annotations

import pytest

from zmtop.tui.screens.help import HelpScreen
from zmtop.tui.screens.kernel import KernelScreen
from zmtop.tui.screens.main import MainScreen
from zmtop.tui.screens.process import ProcessScreen
from zmtop.tui.screens.treemap import TreemapScreen
from zmtop.tui.screens.vmo import VmoScreen
from zmtop.tui.widgets.breadcrumb import Breadcrumb

VIEW_KEYS = {"D": "DigestScreen", "K": "KernelScreen", "M": "TreemapScreen",
             "E": "EventsScreen", "L": "LeaksScreen", "v": "SystemVmosScreen"}


def crumbs(app) -> str:
    bar = app.screen.query_one(Breadcrumb)
    return bar.render().plain.strip() if bar.display else ""


async def test_views_switch_rather_than_stack(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("K", "D", "K", "D", "K", "D", "M")
        await pilot.pause()
        assert [type(s).__name__ for s in app.screen_stack] == ["MainScreen",
                                                                   "TreemapScreen"]
        assert crumbs(app) == "Job tree › Memory map"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and crumbs(app) == ""


async def drill_into_a_vmo(app, pilot) -> tuple[int, int]:
    """Open a process, then a VMO over it: their koids."""
    process = next(iter(app.snapshot.processes))
    vmo = next(iter(app.snapshot.vmos))
    app.open_process(process)
    await pilot.pause()
    app.open_vmo(vmo)
    await pilot.pause()
    return process, vmo


@pytest.mark.parametrize("key", sorted(VIEW_KEYS))
async def test_view_keys_work_from_every_screen(make_app, key):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        process, vmo = await drill_into_a_vmo(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press(key)
        await pilot.pause()
        assert type(app.screen).__name__ == VIEW_KEYS[key]
        assert len(app.screen_stack) == 2  # the job tree and the view


async def test_drill_downs_stack_and_the_breadcrumb_shows_the_path(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("K")
        await pilot.pause()
        kernel = app.screen
        process, vmo = await drill_into_a_vmo(app, pilot)
        name = app.snapshot.processes[process].name
        assert crumbs(app) == f"Job tree › Kernel › process {process} {name} › VMO {vmo}"
        await pilot.click(Breadcrumb, offset=(12, 0))  # on "Kernel"
        await pilot.pause()
        assert app.screen is kernel and isinstance(app.screen, KernelScreen)
        app.open_process(process)
        await pilot.pause()
        await pilot.press("K")  # an open view comes back as it was, the drill-down closes
        await pilot.pause()
        assert app.screen is kernel
        await pilot.press("M")
        await pilot.pause()
        assert isinstance(app.screen, TreemapScreen)
        assert not any(isinstance(s, (KernelScreen, ProcessScreen, VmoScreen))
                       for s in app.screen_stack)
