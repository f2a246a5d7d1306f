"""A process's handles as `k zx ht` lists them, and the VMOs it reaches only by handle."""

from __future__ import annotations

from collections.abc import Sequence

from zmtop.engine.formats.kzx import type_name
from zmtop.engine.snapshot.records import RIGHT_KEYS, Process, Snapshot, VmoRef
from zmtop.tui.widgets.line_table import Cell, Column, LineTable
from zmtop.tui.widgets.process_tables import ProcessVmoTable

HANDLE_SORTS = {
    "order": lambda h, i: i,
    "koid": lambda h, i: h.koid,
    "handle": lambda h, i: h.value,
    "rights": lambda h, i: h.rights,
    "type": lambda h, i: type_name(h.type),
    "names": lambda h, i: h.rights,
}


def rights_names(rights: int) -> str:
    """The `k zx ht` rights keys whose bit is set, e.g. "dup tr r w map"."""
    return " ".join(key for i, key in enumerate(RIGHT_KEYS) if rights >> i & 1)


class HandleTable(LineTable[int]):
    """One row per handle: koid, handle value and rights in hex, kernel type, rights keys."""

    def __init__(self, process: Process) -> None:
        self.process = process
        super().__init__([
            Column("order", "#", 4, descending=False),
            Column("koid", "KOID", 7, descending=False),
            Column("handle", "HANDLE", 10, descending=False),
            Column("rights", "RIGHTS", 10),
            Column("type", "TYPE", 13, "left", descending=False),
            Column("names", "RIGHTS (k zx ht)", 0, "left"),
        ], sort="order", title="handles (k zx ht)", id="handles")
        self.rebuild()

    def set_unit(self, unit: str) -> None:
        """No sizes here: nothing to redraw."""

    def update(self, process: Process) -> None:
        if process is not self.process:
            self.process = process
            self.rebuild()

    def rebuild(self) -> None:
        handles = self.process.handles
        column = next(c for c in self.columns if c.key == self.sort_key)
        value = HANDLE_SORTS[self.sort_key]
        self.set_keys(sorted(range(len(handles)), key=lambda i: (value(handles[i], i), i),
                             reverse=column.descending != self.sort_reverse))

    def cells(self, key: int) -> Sequence[Cell]:
        h = self.process.handles[key]
        return [Cell(str(key + 1), "line-table--dim"), Cell(str(h.koid)),
                Cell(f"{h.value:#x}"), Cell(f"{h.rights:#x}"), Cell(type_name(h.type)),
                Cell(rights_names(h.rights), "line-table--dim")]

    def search_text(self, key: int) -> str:
        h = self.process.handles[key]
        return f"{type_name(h.type)}\0{h.koid}\0{h.value:#x}"


def handle_only(process: Process) -> list[VmoRef]:
    """The process's VMO handles to VMOs it does not map (memory it holds but cannot see)."""
    mapped = {e.vmo_koid for e in process.maps if e.type == "M"}
    return [r for r in process.vmo_refs if r.via_handle and r.vmo_koid not in mapped]


class HandleVmoTable(ProcessVmoTable):
    """The process's handle-only VMOs, with their handle rights."""

    def __init__(self, process: Process, snap: Snapshot, *, unit: str = "") -> None:
        super().__init__(process, snap, unit=unit, title="handle-only VMOs",
                         id="handle-vmos")

    def listed_refs(self) -> Sequence[VmoRef]:
        return handle_only(self.process)
