"""One VMO: its clone chain up to the root, its children, and every process holding it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container

from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import Snapshot, Vmo
from zmtop.tui import bindings
from zmtop.tui.screens.base import MonitorScreen
from zmtop.tui.widgets import cells
from zmtop.tui.widgets.line_table import LineTable
from zmtop.tui.widgets.summary import Summary
from zmtop.tui.widgets.vmo_tables import FamilyTable, HoldersTable


def vmo_kind(vmo: Vmo) -> str:
    kinds = ["paged" if vmo.is_paged else "physical"]
    if vmo.is_clone:
        kinds.append(f"clone of {vmo.parent_koid}")
    return ", ".join(kinds)


class VmoSummary(Summary):
    """The VMO's own figures, legacy and attributed."""

    def __init__(self, vmo: Vmo) -> None:
        super().__init__()
        self.vmo = vmo
        self.gone = False

    def render(self) -> Text:
        v, unit = self.vmo, self.app.unit
        text = self.title_line(f"VMO {v.koid}", safe_name(v.name) or "-", vmo_kind(v),
                               "FREED" if self.gone else None)
        rows = (
            ("legacy", (("size", cells.size(v.size_bytes, unit)),
                        ("alloc", cells.size(v.committed_bytes, unit)),
                        ("#map", str(v.num_mappings)), ("#shr", str(v.share_count)))),
            ("attributed", (("private", cells.size(v.private_bytes, unit)),
                            ("scaled", cells.fixed_size(v.scaled_fixed, unit)),
                            ("total", cells.size(v.total_bytes, unit)),
                            ("procs", str(v.process_count)))),
        )
        return self.append_rows(text, rows)


class VmoScreen(MonitorScreen):
    """Enter on a VMO opens it, on a process opens the process; Escape goes back."""

    CRUMB = "VMO"
    BINDINGS = bindings.BACK
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    def __init__(self, koid: int) -> None:
        super().__init__()
        self.koid = koid

    @property
    def crumb(self) -> str:
        return f"VMO {self.koid}"

    def compose(self) -> ComposeResult:
        snap = self.app.snapshot
        yield from self.compose_header()
        yield VmoSummary(snap.vmos[self.koid])
        with Container(id="panes"):
            yield FamilyTable(snap, self.koid, unit=self.app.unit)
            yield HoldersTable(snap, self.koid, unit=self.app.unit,
                               missing=self.app.source.missing)
        yield from self.compose_footer()

    def show_snapshot(self, snap: Snapshot) -> None:
        summary = self.query_one(VmoSummary)
        vmo = snap.vmos.get(self.koid)
        if vmo is None:  # freed: keep its last figures
            summary.gone = True
            summary.refresh()
            return
        summary.vmo = vmo
        summary.refresh()
        self.query_one(FamilyTable).update(snap)
        self.query_one(HoldersTable).update(snap)

    def catch_up(self, snap: Snapshot) -> None:
        self.show_snapshot(snap)
        if self.koid in snap.vmos:
            for table in self.query(LineTable):
                if isinstance(table, FamilyTable | HoldersTable):  # the screen's only tables
                    table.snap = snap
                    table.rebuild()

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        if isinstance(event.table, HoldersTable):
            if event.key in self.app.snapshot.processes:
                self.app.open_process(event.key)
        elif event.key != self.koid and event.key in self.app.snapshot.vmos:
            self.app.open_vmo(event.key)
