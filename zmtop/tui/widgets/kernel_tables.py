"""The kernel screen's tables: hidden VMOs (`k zx vmos hidden`) and handle-table totals.

Hidden VMOs are the kernel-only ones (koid 0, from the kernel's aspace) and every VMO no
process maps. Handle totals sum each process's handle table by object type; a process's
counts are kept while its record is unchanged, so a tick pays only for the processes it
touched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from zmtop.engine.formats.kernel_aspace import kernel_only_vmos
from zmtop.engine.formats.kzx import PS_COLUMNS, type_name
from zmtop.engine.formats.names import safe_name
from zmtop.engine.formats.psutils import hidden_vmos
from zmtop.engine.snapshot.records import Process, Snapshot, Vmo
from zmtop.tui.widgets import cells
from zmtop.tui.widgets.line_table import Cell, Column, LineTable, counted
from zmtop.tui.widgets.vmo_tables import VMO_SORTS, vmo_search_text

PS_COLUMN = {t: f"#{col}" for col, types in PS_COLUMNS for t in types}


class HiddenVmoTable(LineTable[int]):
    """Kernel-only VMOs first (keys -1, -2, ... in boot order), then user VMOs by koid.

    From one tick to the next only the changed VMOs are looked at; any other step (the
    first snapshot, a seek) scans them all.
    """

    def __init__(self, snap: Snapshot, *, unit: str = "") -> None:
        self.unit = unit
        self.kernel: dict[int, Vmo] = {}
        self.user: dict[int, Vmo] = {}
        self.tick: int | None = None
        super().__init__(self._columns(), sort="alloc", title="Hidden VMOs", id="hidden")
        self.update(snap)

    def _columns(self) -> list[Column]:
        w = cells.size_width(self.unit)
        return [
            Column("koid", "KOID", 7, descending=False),
            Column("parent", "PARENT", 7, descending=False, optional=True),
            Column("chld", "#CHLD", 5, optional=True),
            Column("size", "SIZE", w),
            Column("alloc", "ALLOC", w),
            Column("name", "NAME", 0, "left", descending=False),
        ]

    def record(self, key: int) -> Vmo:
        return self.kernel[key] if key < 0 else self.user[key]

    def update(self, snap: Snapshot) -> None:
        self.kernel = {-i: vmo for i, (_, vmo) in enumerate(kernel_only_vmos(snap), 1)}
        if self.tick is not None and snap.tick == self.tick + 1:
            c = snap.changes
            came = went = 0
            for koid in c.removed_vmos:
                went += self.user.pop(koid, None) is not None
            for koid in c.vmos:
                vmo = snap.vmos[koid]
                if vmo.num_mappings == 0:
                    came += koid not in self.user
                    self.user[koid] = vmo
                else:
                    went += self.user.pop(koid, None) is not None
            moved = came or went or self.sort_key != "koid"
        else:
            self.user = {v.koid: v for v in hidden_vmos(snap)}
            moved = True
        self.tick = snap.tick
        if moved:
            self.rebuild()
        else:
            self.refresh()

    def rebuild(self) -> None:
        column = next(c for c in self.columns if c.key == self.sort_key)
        descending = column.descending != self.sort_reverse
        if self.sort_key == "koid":  # kernel-only (koid 0) in boot order, then by koid
            keys = sorted(self.kernel, reverse=True) + sorted(self.user)
        else:
            order = VMO_SORTS[self.sort_key]
            keys = sorted([*self.kernel, *self.user],
                          key=lambda k: (order(self.record(k)), abs(k)))
        self.set_keys(keys[::-1] if descending else keys)

    def subtitle(self) -> str:
        return f"{counted(len(self.kernel) + len(self.user), 'VMO')}, {len(self.kernel)} kernel-only"

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.set_columns(self._columns())

    def cells(self, key: int) -> Sequence[Cell]:
        vmo = self.record(key)
        dim = "line-table--dim"
        return (
            Cell(str(vmo.koid), dim if key < 0 else ""),
            Cell(str(vmo.parent_koid)) if vmo.is_clone else Cell("-", dim),
            Cell(str(vmo.num_children)),
            Cell(cells.size(vmo.size_bytes, self.unit)),
            Cell(cells.size(vmo.committed_bytes, self.unit) if vmo.is_paged else "phys"),
            Cell(safe_name(vmo.name) or "-"),
        )

    def search_text(self, key: int) -> str:
        return vmo_search_text(self.record(key))


def handle_type_totals(processes: Sequence[Process]) -> Counter[str]:
    """Handles by object type (memgraph's names), summed over `processes`."""
    total: Counter[str] = Counter()
    for proc in processes:
        total.update(h.type for h in proc.handles)
    return total


class HandleTotalsTable(LineTable[str]):
    """One row per object type: handles held, the `k zx ps` column, processes holding any."""

    def __init__(self, snap: Snapshot) -> None:
        self.per_process: dict[int, tuple[Process, Counter[str]]] = {}
        self.totals: Counter[str] = Counter()
        self.holders: Counter[str] = Counter()
        super().__init__(self._columns(), sort="handles", title="Handles", id="handles")
        self.update(snap)

    @staticmethod
    def _columns() -> list[Column]:
        return [
            Column("type", "TYPE", 0, "left", descending=False),
            Column("column", "PS", 4, "left", descending=False),
            Column("handles", "HANDLES", 8),
            Column("procs", "PROCS", 5),
        ]

    def update(self, snap: Snapshot) -> None:
        cache = self.per_process
        fresh = {}
        for koid, proc in snap.processes.items():
            cached = cache.get(koid)
            fresh[koid] = cached if cached and cached[0] is proc else (
                proc, handle_type_totals([proc]))
        self.per_process = fresh
        self.totals, self.holders = Counter(), Counter()
        for _, counts in fresh.values():
            self.totals.update(counts)
            self.holders.update(counts.keys())
        self.rebuild()

    def rebuild(self) -> None:
        column = next(c for c in self.columns if c.key == self.sort_key)
        descending = column.descending != self.sort_reverse
        sorts = {"type": type_name, "column": lambda t: PS_COLUMN.get(t, "#??"),
                 "handles": self.totals.__getitem__, "procs": self.holders.__getitem__}
        order = sorts[self.sort_key]
        self.set_keys(sorted(self.totals, key=lambda t: (order(t), t), reverse=descending))

    def subtitle(self) -> str:
        return (f"{sum(self.totals.values()):,} in "
                f"{counted(len(self.per_process), 'process', 'processes')}")

    def set_unit(self, unit: str) -> None:
        """Counts, not sizes: nothing to change."""

    def cells(self, key: str) -> Sequence[Cell]:
        return (
            Cell(type_name(key) if type_name(key) != "???" else f"{key} (???)"),
            Cell(PS_COLUMN.get(key, "#??"), "line-table--dim"),
            Cell(f"{self.totals[key]:,}", "line-table--strong"),
            Cell(f"{self.holders[key]:,}"),
        )

    def search_text(self, key: str) -> str:
        return f"{key} {type_name(key)}".casefold()
