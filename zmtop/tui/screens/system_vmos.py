"""Every VMO in the system, or only the hidden ones that no process maps."""

from __future__ import annotations

from textual.app import ComposeResult

from zmtop.engine.snapshot.records import Snapshot
from zmtop.tui import bindings
from zmtop.tui.screens.base import MonitorScreen
from zmtop.tui.widgets.line_table import LineTable
from zmtop.tui.widgets.vmo_tables import SystemVmoTable


class SystemVmosScreen(MonitorScreen):
    """Sortable and searchable at any size: the table draws only the lines on screen."""

    CRUMB = "All VMOs"
    BINDINGS = bindings.SYSTEM_VMOS

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield SystemVmoTable(self.app.snapshot, unit=self.app.unit)
        yield from self.compose_footer()

    @property
    def table(self) -> SystemVmoTable:
        return self.query_one(SystemVmoTable)

    def show_snapshot(self, snap: Snapshot) -> None:
        self.table.update(snap)

    def catch_up(self, snap: Snapshot) -> None:
        self.table.snap = snap
        self.table.rebuild()

    def action_toggle_hidden(self) -> None:
        self.table.hidden_only = not self.table.hidden_only
        self.table.rebuild()

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        if event.key in self.app.snapshot.vmos:
            self.app.open_vmo(event.key)
