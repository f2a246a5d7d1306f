"""Physical memory as a zoomable treemap: physmem, kernel, VMOs, jobs, processes, VMOs.

Building the whole tree (engine.formats.treemap.build_tree) costs about 10 ms on the default
scenario but 230-420 ms on the scale one, so it runs in a thread worker, one at a time:
a snapshot that arrives meanwhile waits, and only the newest waiting one is built next.
Laying out the visible levels is quick (12 ms at most on the scale scenario) and happens
on the UI thread, on each new tree and on resize. The worker has a fixed description:
by default Textual would repr() the snapshot, which costs more than the build.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult

from zmtop.engine.formats.treemap import Node, build_tree
from zmtop.engine.snapshot.records import Snapshot
from zmtop.tui import bindings
from zmtop.tui.screens.base import MonitorScreen
from zmtop.tui.widgets.treemap_view import TreemapView
from zmtop.viewmodels.task_rows import job_runs


class TreemapScreen(MonitorScreen):
    """Enter zooms into the selected rectangle; Escape zooms out, and leaves at the top."""

    CRUMB = "Memory map"
    BINDINGS = bindings.TREEMAP

    def __init__(self) -> None:
        super().__init__()
        self._building = False
        self._waiting: Snapshot | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield TreemapView(id="treemap")
        yield from self.compose_footer()

    @property
    def view(self) -> TreemapView:
        return self.query_one(TreemapView)

    def on_mount(self) -> None:
        self.view.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "find"  # nothing to search: the map has no table

    def show_snapshot(self, snap: Snapshot) -> None:
        if self._building:
            self._waiting = snap
        else:
            self._building = True
            self._build(snap)

    @work(thread=True, group="treemap", exit_on_error=False, description="build the treemap")
    def _build(self, snap: Snapshot) -> None:
        root = build_tree(snap)
        runs = {koid: job_runs(snap, koid) for koid, job in snap.jobs.items() if not job.name}
        self.app.call_from_thread(self._built, root, runs)

    def _built(self, root: Node, runs: dict[int, str]) -> None:
        self._building = False
        self.view.set_tree(root, runs)
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self.show_snapshot(waiting)

    def action_back(self) -> None:
        if not self.view.zoom_out():
            self.app.pop_screen()
