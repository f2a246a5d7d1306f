"""A process's memory as `vmaps` and `vmos` show it: its address-space tree and its VMOs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import MapEntry, Process, Snapshot, VmoRef
from zmtop.tui.widgets import cells
from zmtop.tui.widgets.line_table import Cell, Column, LineTable
from zmtop.tui.widgets.vmo_tables import (
    VMO_SORTS,
    vmo_cells,
    vmo_columns,
    vmo_search_text,
)

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

MAP_SORTS: dict[str, Callable[[MapEntry], SupportsRichComparison]] = {
    "range": lambda e: e.base,
    "perm": lambda e: e.perms,
    "size": lambda e: e.size,
    "res": lambda e: e.committed_bytes,
    "vmo": lambda e: e.vmo_koid,
    "name": lambda e: e.name.casefold(),
}
MAP_STYLES = {"A": "line-table--strong", "R": "line-table--dim", "M": ""}


MapKey = tuple[str, int, int, int]  # a mapping's kind, base, depth and VMO


def map_key(entry: MapEntry) -> MapKey:
    """A mapping's identity across ticks: its kind, place and depth (not its list index)."""
    return (entry.type, entry.base, entry.depth, entry.vmo_koid)


def span(entry: MapEntry) -> str:
    end = entry.base + entry.size
    digits = 12 if end <= 1 << 48 else 16
    return f"{entry.base:0{digits}x}-{end:0{digits}x}"


class VmapsTable(LineTable[MapKey]):
    """The aspace (/A), root VMAR (/R), VMARs (R) and mappings (M), in tree order."""

    def __init__(self, process: Process, *, unit: str = "") -> None:
        self.process = process
        self.unit = unit
        self.entries: dict[MapKey, MapEntry] = {}
        super().__init__(self._columns(), sort="tree", title="vmaps", id="vmaps")
        self.rebuild()

    def _columns(self) -> list[Column]:
        w = cells.size_width(self.unit)
        depth = max((e.depth for e in self.process.maps), default=2)
        return [
            Column("tree", "MAP", max(depth, 2) + 1, "left", descending=False),
            Column("range", "RANGE", 25, "left", descending=False),
            Column("perm", "PRM", 3, "left"),
            Column("size", "SIZE", w),
            Column("res", "RES", w),
            Column("vmo", "VMO", 6, descending=False),
            Column("name", "NAME", 0, "left", descending=False),
        ]

    def update(self, process: Process) -> None:
        if process is not self.process:
            self.process = process
            self.rebuild()

    def rebuild(self) -> None:
        entries = {map_key(e): e for e in self.process.maps}
        self.entries = entries
        column = next(c for c in self.columns if c.key == self.sort_key)
        descending = column.descending != self.sort_reverse
        keys = list(entries)
        if self.sort_key == "tree":
            if descending:
                keys.reverse()
        else:
            value = MAP_SORTS[self.sort_key]
            keys.sort(key=lambda k: value(entries[k]), reverse=descending)
        self.set_keys(keys)

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.set_columns(self._columns())

    def cells(self, key: MapKey) -> Sequence[Cell]:
        e = self.entries[key]
        tree = f"/{e.type}" if e.depth < 2 else " " * (e.depth - 2) + e.type
        mapping = e.type == "M"
        return [
            Cell(tree, MAP_STYLES[e.type]),
            Cell(span(e), "line-table--dim"),
            Cell(cells.perms(e.perms) if mapping else ""),
            Cell(cells.size(e.size, self.unit)),
            Cell(cells.size(e.committed_bytes, self.unit) if mapping else ""),
            Cell(str(e.vmo_koid) if mapping else ""),
            Cell(safe_name(e.name), MAP_STYLES[e.type]),
        ]

    def search_text(self, key: MapKey) -> str:
        e = self.entries[key]
        return f"{safe_name(e.name).casefold()}\0{e.vmo_koid or ''}"


class ProcessVmoTable(LineTable[tuple[int, int]]):
    """One row per ZX_INFO_PROCESS_VMOS entry (handles, then mappings), as `vmos` lists."""

    def __init__(self, process: Process, snap: Snapshot, *, unit: str = "",
                 title: str = "vmos", id: str = "process-vmos") -> None:
        self.process = process
        self.snap = snap
        self.unit = unit
        self.refs: dict[tuple[int, int], tuple[str, int]] = {}
        super().__init__(self._columns(), sort="order", title=title, id=id)
        self.rebuild()

    def _columns(self) -> list[Column]:
        return [Column("order", "RIGHTS", 6, descending=False), *vmo_columns(self.unit)]

    def update(self, process: Process, snap: Snapshot) -> None:
        self.snap = snap
        if process is not self.process:
            self.process = process
            self.rebuild()
        else:
            self.refresh()

    def rebuild(self) -> None:
        refs: dict[tuple[int, int], tuple[str, int]] = {}
        seen: dict[int, int] = {}
        for ref in self.listed_refs():
            n = seen[ref.vmo_koid] = seen.get(ref.vmo_koid, -1) + 1
            rights = cells.rights(ref.rights) if ref.via_handle else "-"
            refs[(ref.vmo_koid, n)] = (rights, len(refs))
        self.refs = refs
        column = next(c for c in self.columns if c.key == self.sort_key)
        descending = column.descending != self.sort_reverse
        if self.sort_key == "order":
            keys = sorted(refs, key=lambda k: refs[k][1], reverse=descending)
        else:
            value, vmos = VMO_SORTS[self.sort_key], self.snap.vmos
            keys = sorted(refs, key=lambda k: (value(vmos[k[0]]), refs[k][1]), reverse=descending)
        self.set_keys(keys)

    def listed_refs(self) -> Sequence[VmoRef]:
        return self.process.vmo_refs

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.set_columns(self._columns())

    def cells(self, key: tuple[int, int]) -> Sequence[Cell]:
        rights = self.refs[key][0]
        return [Cell(rights, "" if rights != "-" else "line-table--dim"),
                *vmo_cells(self.snap.vmos[key[0]], self.unit)]

    def search_text(self, key: tuple[int, int]) -> str:
        return vmo_search_text(self.snap.vmos[key[0]])
