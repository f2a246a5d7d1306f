"""The kernel's memory: every kstats field over time, its address space, hidden VMOs, handles."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal

from engine.snapshot import Snapshot
from zmtop.screens.base import MonitorScreen
from zmtop.widgets.aspace_tree import AspaceTree
from zmtop.widgets.kernel_tables import HandleTotalsTable, HiddenVmoTable
from zmtop.widgets.kstats_graphs import KstatsGraphs
from zmtop.widgets.line_table import LineTable


class KernelScreen(MonitorScreen):
    """Graphs and handle totals on top; the kernel aspace tree beside the hidden VMOs below."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="screen.back")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    def compose(self) -> ComposeResult:
        snap, exact = self.app.snapshot, self.app.exact
        yield from self.compose_header()
        with Horizontal(id="kernel-top"):
            yield KstatsGraphs(exact=exact, id="kstats-graphs")
            yield HandleTotalsTable(snap)
        with Horizontal(id="kernel-bottom"):
            yield AspaceTree(snap, exact=exact)
            yield HiddenVmoTable(snap, exact=exact)
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.query_one(AspaceTree).focus()

    def show_snapshot(self, snap: Snapshot) -> None:
        self.query_one(KstatsGraphs).refresh()
        self.query_one(HandleTotalsTable).update(snap)
        self.query_one(AspaceTree).update(snap)
        self.query_one(HiddenVmoTable).update(snap)

    def set_exact(self, exact: bool) -> None:
        super().set_exact(exact)
        self.query_one(KstatsGraphs).set_exact(exact)

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        if isinstance(event.table, HiddenVmoTable) and event.key > 0:
            from zmtop.screens.vmo import VmoScreen

            self.app.push_screen(VmoScreen(event.key))


def kernel_keys() -> list[Binding]:
    """The kernel screen's keys, for the help screen."""
    return AspaceTree.BINDINGS + KernelScreen.BINDINGS + [
        Binding("enter", "", "Fold or unfold (address space); open a VMO (hidden VMOs)"),
        Binding("tab", "", "Next pane"),
    ]
