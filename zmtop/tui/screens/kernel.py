"""The kernel's memory: every kstats field over time, its address space, hidden VMOs, handles."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal

from zmtop.engine.snapshot.records import Snapshot
from zmtop.tui import bindings
from zmtop.tui.screens.base import MonitorScreen
from zmtop.tui.widgets.aspace_tree import AspaceTree
from zmtop.tui.widgets.kernel_tables import HandleTotalsTable, HiddenVmoTable
from zmtop.tui.widgets.kstats_graphs import KstatsGraphs
from zmtop.tui.widgets.line_table import LineTable


class KernelScreen(MonitorScreen):
    """Graphs and handle totals on top; the kernel aspace tree beside the hidden VMOs below.
    Under 120 columns the graphs take the whole top row (beside the handle totals each was
    a few cells wide)."""

    CRUMB = "Kernel"
    BINDINGS = bindings.BACK
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    def compose(self) -> ComposeResult:
        snap, unit = self.app.snapshot, self.app.unit
        yield from self.compose_header()
        with Horizontal(id="kernel-top"):
            yield KstatsGraphs(unit=unit, id="kstats-graphs")
            yield HandleTotalsTable(snap)
        with Horizontal(id="kernel-bottom"):
            yield AspaceTree(snap, unit=unit)
            yield HiddenVmoTable(snap, unit=unit)
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.query_one(AspaceTree).focus()

    def show_snapshot(self, snap: Snapshot) -> None:
        self.query_one(KstatsGraphs).refresh()
        self.query_one(HandleTotalsTable).update(snap)
        self.query_one(AspaceTree).update(snap)
        self.query_one(HiddenVmoTable).update(snap)

    def set_unit(self, unit: str) -> None:
        super().set_unit(unit)
        self.query_one(KstatsGraphs).set_unit(unit)

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        if isinstance(event.table, HiddenVmoTable) and event.key > 0:
            self.app.open_vmo(event.key)
