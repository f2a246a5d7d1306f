"""One digest bucket (Enter on a Digest row): the processes that hold its VMOs, and the
VMOs themselves, as of the tick the digest is for."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Container

from zmtop.engine.analysis.digest import Bucket
from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import Snapshot
from zmtop.tui import bindings
from zmtop.tui.screens.base import MonitorScreen
from zmtop.tui.widgets import cells
from zmtop.tui.widgets.line_table import Cell, Column, LineTable
from zmtop.tui.widgets.vmo_tables import SystemVmoTable

SORTS = {"koid": 0, "vmos": 1, "bytes": 2, "name": 3}  # index in a row's (koid, vmos, bytes, name)


def bucket_holders(snap: Snapshot, vmos: frozenset[int]) -> list[tuple[int, int, int, str]]:
    """(koid, VMO count, committed bytes, name) of each process that holds or maps some of
    `vmos`: the bucket's VMOs it reaches and their bytes, each VMO counted whole."""
    out = []
    for proc in snap.processes.values():
        held = {ref.vmo_koid for ref in proc.vmo_refs} & vmos
        if held:
            size = sum(snap.vmos[koid].committed_bytes for koid in held)
            out.append((proc.koid, len(held), size, proc.name))
    return out


class BucketProcessTable(LineTable[int]):
    """The processes holding a bucket's VMOs, most bytes first."""

    def __init__(self, snap: Snapshot, vmos: frozenset[int], *, unit: str = "") -> None:
        self.unit = unit
        self.rows = {row[0]: row for row in bucket_holders(snap, vmos)}
        super().__init__(self._columns(), sort="bytes", title="Processes",
                         id="bucket-processes")
        self.rebuild()

    def _columns(self) -> list[Column]:
        return [Column("koid", "PROCESS", 9, "left", descending=False),
                Column("vmos", "#VMO", 5),
                Column("bytes", "BYTES", cells.size_width(self.unit)),
                Column("name", "NAME", 0, "left", descending=False)]

    def rebuild(self) -> None:
        column = next(c for c in self.columns if c.key == self.sort_key)
        index, rows = SORTS[self.sort_key], self.rows
        value = ((lambda k: rows[k][3].casefold()) if self.sort_key == "name"
                 else (lambda k: rows[k][index]))
        self.set_keys(sorted(sorted(rows), key=value,
                             reverse=column.descending != self.sort_reverse))

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.set_columns(self._columns())

    def cells(self, key: int) -> Sequence[Cell]:
        koid, count, size, name = self.rows[key]
        return [Cell(f"p: {koid}"), Cell(str(count)), Cell(cells.size(size, self.unit)),
                Cell(safe_name(name))]

    def search_text(self, key: int) -> str:
        return f"{self.rows[key][3].casefold()}\0{key}"


class BucketScreen(MonitorScreen):
    """A fixed view of the digest's tick: Enter on a process opens it, on a VMO the VMO
    (each if it is still there); Escape goes back to the digest."""

    BINDINGS = bindings.BACK
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    def __init__(self, bucket: Bucket, snap: Snapshot) -> None:
        super().__init__()
        self.bucket = bucket
        self.snap = snap

    @property
    def crumb(self) -> str:
        return f"bucket {self.bucket.name}"

    def compose(self) -> ComposeResult:
        unit, vmos, name = self.app.unit, frozenset(self.bucket.vmos), self.bucket.name
        yield from self.compose_header()
        with Container(id="panes"):
            processes = BucketProcessTable(self.snap, vmos, unit=unit)
            processes.border_title = f"{name}: processes"
            yield processes
            yield SystemVmoTable(self.snap, unit=unit, only=vmos, title=f"{name}: VMOs",
                                 id="bucket-vmos")
        yield from self.compose_footer()

    def show_snapshot(self, snap: Snapshot) -> None:
        """The bucket stays as the digest found it; only the header follows the clock."""

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        app, koid = self.app, event.key
        if isinstance(event.table, BucketProcessTable):
            if koid in app.snapshot.processes:
                app.open_process(koid)
            else:
                app.notify(f"process {koid} is gone at tick {app.snapshot.tick}",
                           severity="warning")
        elif koid in app.snapshot.vmos:
            app.open_vmo(koid)
        else:
            app.notify(f"VMO {koid} is gone at tick {app.snapshot.tick}", severity="warning")
