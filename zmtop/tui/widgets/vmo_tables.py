"""Tables of VMOs: every VMO in the system, one VMO's clone family, and who holds it.

VMO columns follow `vmos` (koid parent #chld #map #shr size alloc name) with the
attributed figures of RFC-0254 beside them: private, scaled (PSS share) and total bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, NamedTuple

from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import FRACTION_ONE, Snapshot, Vmo
from zmtop.tui.widgets import cells
from zmtop.tui.widgets.line_table import Cell, Column, LineTable

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

VMO_SORTS: dict[str, Callable[[Vmo], SupportsRichComparison]] = {
    "koid": attrgetter("koid"),
    "parent": attrgetter("parent_koid"),
    "chld": attrgetter("num_children"),
    "map": attrgetter("num_mappings"),
    "shr": attrgetter("share_count"),
    "size": attrgetter("size_bytes"),
    "alloc": attrgetter("committed_bytes"),
    "apriv": attrgetter("private_bytes"),
    "ascaled": attrgetter("scaled_fixed"),
    "atotal": attrgetter("total_bytes"),
    "name": lambda v: v.name.casefold(),
}


def vmo_columns(unit: str) -> list[Column]:
    w = cells.size_width(unit)
    return [
        Column("koid", "KOID", 7, descending=False),
        Column("parent", "PARENT", 7, descending=False, optional=True),
        Column("chld", "#CHLD", 5, optional=True),
        Column("map", "#MAP", 4),
        Column("shr", "#SHR", 4),
        Column("size", "SIZE", w),
        Column("alloc", "ALLOC", w),
        Column("apriv", "A.PRIV", w, optional=True),
        Column("ascaled", "A.SCALED", max(w, 8)),
        Column("atotal", "A.TOTAL", w, optional=True),
        Column("name", "NAME", 0, "left", descending=False),
    ]


def vmo_cells(vmo: Vmo, unit: str) -> list[Cell]:
    """One VMO as `vmos` prints it (clone parent or '-', 'phys' for physical VMOs)."""
    dim = "line-table--dim"
    return [
        Cell(str(vmo.koid)),
        Cell(str(vmo.parent_koid), "") if vmo.is_clone else Cell("-", dim),
        Cell(str(vmo.num_children)),
        Cell(str(vmo.num_mappings), "" if vmo.num_mappings else dim),
        Cell(str(vmo.share_count)),
        Cell(cells.size(vmo.size_bytes, unit)),
        Cell(cells.size(vmo.committed_bytes, unit) if vmo.is_paged else "phys"),
        Cell(cells.size(vmo.private_bytes, unit)),
        Cell(cells.fixed_size(vmo.scaled_fixed, unit)),
        Cell(cells.size(vmo.total_bytes, unit)),
        Cell(safe_name(vmo.name) or "-"),
    ]


def vmo_search_text(vmo: Vmo) -> str:
    """The raw name (escaping would only slow a scan of 100,000 rows) and the koid."""
    return f"{vmo.name.casefold()}\0{vmo.koid}"


class SystemVmoTable(LineTable[int]):
    """Every VMO of the system (or of `only`, some of its koids), or only the hidden ones
    (mapped by no process)."""

    def __init__(self, snap: Snapshot, *, unit: str = "",
                 only: frozenset[int] | None = None, title: str = "VMOs",
                 id: str = "system-vmos") -> None:
        self.snap = snap
        self.unit = unit
        self.hidden_only = False
        self.only = only
        self.heading = title
        super().__init__(vmo_columns(unit), sort="koid", title=title, id=id)
        self.rebuild()

    def update(self, snap: Snapshot) -> None:
        """Re-sort only if rows came, went, or may have moved; else redraw what shows."""
        old, self.snap = self.snap, snap
        c = snap.changes
        moved = self.sort_key != "koid" or self.hidden_only
        if c.removed_vmos or (c.vmos and (moved or any(k not in old.vmos for k in c.vmos))):
            self.rebuild()
        else:
            self.refresh()

    def rebuild(self) -> None:
        """Sort the records themselves by attribute (C speed), then take their koids; in
        koid order, the koids alone."""
        column = next(c for c in self.columns if c.key == self.sort_key)
        descending = column.descending != self.sort_reverse
        self.title = f"Hidden {self.heading}" if self.hidden_only else self.heading
        only, table = self.only, self.snap.vmos
        if self.sort_key == "koid" and not self.hidden_only:
            self.set_keys(sorted(table if only is None else only & table.keys(),
                                 reverse=descending))
            return
        vmos = table.values() if only is None else [table[k] for k in only if k in table]
        records = [v for v in vmos if v.num_mappings == 0] if self.hidden_only else list(vmos)
        records.sort(key=VMO_SORTS["koid"])
        if self.sort_key != "koid":
            records.sort(key=VMO_SORTS[self.sort_key], reverse=descending)
        elif descending:
            records.reverse()
        self.set_keys([v.koid for v in records])

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.set_columns(vmo_columns(unit))

    def cells(self, key: int) -> Sequence[Cell]:
        return vmo_cells(self.snap.vmos[key], self.unit)

    def search_text(self, key: int) -> str:
        return vmo_search_text(self.snap.vmos[key])


def clone_chain(snap: Snapshot, koid: int) -> list[int]:
    """The VMO and its clone ancestors, root first."""
    chain = [koid]
    parent = snap.vmos[koid].parent_koid
    while parent and parent in snap.vmos and parent not in chain:
        chain.append(parent)
        parent = snap.vmos[parent].parent_koid
    return chain[::-1]


def clone_children(snap: Snapshot, koid: int) -> list[int]:
    return [k for k, v in snap.vmos.items() if v.parent_koid == koid and v.is_clone]


class FamilyTable(LineTable[int]):
    """A VMO's clone chain up to its root, then its direct children."""

    def __init__(self, snap: Snapshot, koid: int, *, unit: str = "") -> None:
        self.snap = snap
        self.koid = koid
        self.unit = unit
        self.relation: dict[int, str] = {}
        super().__init__(self._columns(), sort="rel", title="Clone family", id="family")
        self.rebuild()

    def _columns(self) -> list[Column]:
        return [Column("rel", "REL", 6, "left", descending=False), *vmo_columns(self.unit)]

    def update(self, snap: Snapshot) -> None:
        self.snap = snap
        if snap.changes.vmos or snap.changes.removed_vmos:
            self.rebuild()
        else:
            self.refresh()

    def rebuild(self) -> None:
        snap = self.snap
        if self.koid not in snap.vmos:
            self.relation = {}
            self.set_keys([])
            return
        chain = clone_chain(snap, self.koid)
        relation = {k: "anc" for k in chain}
        relation[chain[0]] = "root"
        relation[self.koid] = "this"
        for k in clone_children(snap, self.koid):
            relation[k] = "child"
        self.relation = relation
        order = {k: i for i, k in enumerate(relation)}
        column = next(c for c in self.columns if c.key == self.sort_key)
        descending = column.descending != self.sort_reverse
        key: Callable[[int], SupportsRichComparison]
        if self.sort_key == "rel":
            key = order.__getitem__
        else:
            value = VMO_SORTS[self.sort_key]
            key = lambda k: (value(snap.vmos[k]), order[k])  # noqa: E731
        self.set_keys(sorted(relation, key=key, reverse=descending))

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.set_columns(self._columns())

    def cells(self, key: int) -> Sequence[Cell]:
        rel = self.relation[key]
        return [Cell(rel, "line-table--strong" if rel == "this" else "line-table--dim"),
                *vmo_cells(self.snap.vmos[key], self.unit)]

    def search_text(self, key: int) -> str:
        return vmo_search_text(self.snap.vmos[key])


class Holder(NamedTuple):
    """A process's hold on one VMO: handles, mappings, and its share of the pages."""

    koid: int
    name: str
    handles: int
    mappings: int
    legacy_bytes: int  # per mapping: pages in range, divided by #shr when shared
    attributed_fixed: int  # the VMO's scaled bytes divided among its processes


def vmo_holders(snap: Snapshot, koid: int) -> list[Holder]:
    """Every process that maps or holds a handle to the VMO, oldest first."""
    vmo = snap.vmos.get(koid)
    if vmo is None:
        return []
    share = vmo.scaled_fixed // max(vmo.process_count, 1)
    shr = max(vmo.share_count, 1)
    out = []
    for proc in snap.processes.values():
        refs = [r for r in proc.vmo_refs if r.vmo_koid == koid]  # by handle or mapping
        maps = [m for m in proc.maps if m.type == "M" and m.vmo_koid == koid]
        if not refs and not maps:
            continue
        handles = sum(1 for r in refs if r.via_handle)
        legacy = sum(m.committed_bytes // shr for m in maps)
        out.append(Holder(proc.koid, safe_name(proc.name), handles, len(maps), legacy, share))
    return out


HOLDER_SORTS: dict[str, Callable[[Holder], SupportsRichComparison]] = {
    "koid": lambda h: h.koid,
    "handles": lambda h: h.handles,
    "maps": lambda h: h.mappings,
    "legacy": lambda h: h.legacy_bytes,
    "attributed": lambda h: h.attributed_fixed,
    "name": lambda h: h.name.casefold(),
}


class HoldersTable(LineTable[int]):
    """The processes that map or hold a VMO, with each one's share of its pages. What the
    data lacks (`missing`, as Source.missing names it) shows blank, not as 0: a capture
    lists a process's VMOs without saying by handle or mapping."""

    def __init__(self, snap: Snapshot, koid: int, *, unit: str = "",
                 missing: frozenset[str] = frozenset()) -> None:
        self.snap = snap
        self.koid = koid
        self.unit = unit
        self.handles_known = not missing & {"handles", "via"}
        self.maps_known = "mappings" not in missing
        self.holders: dict[int, Holder] = {}
        super().__init__(self._columns(), sort="koid", title="Processes", id="holders")
        self.rebuild()

    def _columns(self) -> list[Column]:
        w = cells.size_width(self.unit)
        return [
            Column("koid", "PROCESS", 9, "left", descending=False),
            Column("handles", "HANDLES", 7),
            Column("maps", "MAPS", 4),
            Column("legacy", "LEGACY", w + 1),
            Column("attributed", "ATTRIB", w + 1),
            Column("name", "NAME", 0, "left", descending=False),
        ]

    def update(self, snap: Snapshot) -> None:
        self.snap = snap
        c = snap.changes
        if c.processes or c.removed_processes or self.koid in c.vmos:
            self.rebuild()
        else:
            self.refresh()

    def rebuild(self) -> None:
        self.holders = {h.koid: h for h in vmo_holders(self.snap, self.koid)}
        column = next(c for c in self.columns if c.key == self.sort_key)
        value = HOLDER_SORTS[self.sort_key]
        keys = sorted(self.holders, key=lambda k: (value(self.holders[k]), k),
                      reverse=column.descending != self.sort_reverse)
        self.set_keys(keys)

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.set_columns(self._columns())

    def cells(self, key: int) -> Sequence[Cell]:
        h = self.holders[key]
        handles, maps, dim = self.handles_known, self.maps_known, "line-table--dim"
        return [
            Cell(f"p: {h.koid}"),
            Cell(str(h.handles) if handles else "", "" if h.handles else dim),
            Cell(str(h.mappings) if maps else "", "" if h.mappings else dim),
            Cell(cells.size(h.legacy_bytes, self.unit) if maps else ""),
            Cell(cells.size(h.attributed_fixed // FRACTION_ONE, self.unit)),
            Cell(h.name),
        ]

    def search_text(self, key: int) -> str:
        return f"{self.holders[key].name.casefold()}\0{key}"
