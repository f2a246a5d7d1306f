"""The tables of a diff between two ticks: processes, VMOs and kstats, most growth first.

Rows are engine.analysis.diff's records as they are; each table only sorts and draws them. A row's
STATE says whether its record appeared or went between the two ticks (blank: it grew or
shrank).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, TypeVar

from zmtop.engine.analysis.diff import Diff, KmemDelta, ProcessGrowth, VmoGrowth
from zmtop.engine.formats.names import safe_name
from zmtop.tui.widgets import cells
from zmtop.tui.widgets.line_table import Cell, Column, LineTable

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

STATES = {"grew": Cell(""), "new": Cell("new", "line-table--rise"),
          "gone": Cell("gone", "line-table--fall")}


G = TypeVar("G", ProcessGrowth, VmoGrowth)  # what grew: a process or a VMO
K = TypeVar("K", int, str)  # a row's key
R = TypeVar("R")  # a row


class Row(NamedTuple, Generic[G]):
    state: str  # a key of STATES
    growth: G


def _rows(changed: list[G], appeared: list[G], went: list[G]) -> dict[int, Row[G]]:
    rows = {g.koid: Row("grew", g) for g in changed}
    rows.update((g.koid, Row("new", g)) for g in appeared)
    rows.update((g.koid, Row("gone", g)) for g in went)
    return rows


class GrowthTable(LineTable[K], Generic[K, R]):
    """Rows by key, sorted by the SORTS value of the sort column, ties by key."""

    SORTS: ClassVar[dict[str, Callable[[Any], SupportsRichComparison]]] = {}  # of a row (R)

    def __init__(self, rows: dict[K, R], *, sort: str, title: str, unit: str,
                 id: str | None = None) -> None:
        self.rows: dict[K, R] = rows
        self.unit = unit
        super().__init__(self.make_columns(unit), sort=sort, title=title, id=id)
        self.rebuild()

    def make_columns(self, unit: str) -> list[Column]:
        raise NotImplementedError

    def rebuild(self) -> None:
        column = next(c for c in self.columns if c.key == self.sort_key)
        value, rows = self.SORTS[self.sort_key], self.rows
        keys = sorted(rows)
        keys.sort(key=lambda k: value(rows[k]), reverse=column.descending != self.sort_reverse)
        self.set_keys(keys)

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.set_columns(self.make_columns(unit))


class TaskGrowthTable(GrowthTable[int, Row[G]]):
    """Rows of processes or VMOs: KOID and STATE lead, the figures follow, NAME ends; a
    search looks at names and koids."""

    SORTS: ClassVar[dict[str, Callable[[Row[Any]], SupportsRichComparison]]] = {
        "koid": lambda r: r.growth.koid,
        "state": lambda r: r.state,
        "name": lambda r: r.growth.name.casefold(),
    }

    @staticmethod
    def framed(figures: list[Column]) -> list[Column]:
        return [Column("koid", "KOID", 7, descending=False),
                Column("state", "STATE", 5, "left", descending=False),
                *figures,
                Column("name", "NAME", 0, "left", descending=False)]

    def search_text(self, key: int) -> str:
        return f"{self.rows[key].growth.name.casefold()}\0{key}"


class ProcessDiffTable(TaskGrowthTable[ProcessGrowth]):
    """Processes by legacy PSS growth, then attributed PSS growth (as `zmtop diff`)."""

    SORTS: ClassVar[dict[str, Callable[[Row[ProcessGrowth]], SupportsRichComparison]]] = {
        **TaskGrowthTable.SORTS,
        "pss": lambda r: r.growth.pss_bytes,
        "delta": lambda r: (r.growth.pss_delta, r.growth.attributed_delta),
        "apss": lambda r: r.growth.attributed_pss,
        "adelta": lambda r: (r.growth.attributed_delta, r.growth.pss_delta),
    }

    def __init__(self, d: Diff, *, unit: str = "") -> None:
        rows = _rows(d.processes, d.processes_appeared, d.processes_went)
        super().__init__(rows, sort="delta", title="Processes", unit=unit, id="diff-processes")

    def make_columns(self, unit: str) -> list[Column]:
        w = cells.size_width(unit)
        return self.framed([
            Column("pss", "PSS", w),
            Column("delta", "ΔPSS", w + 1),
            Column("apss", "A.PSS", w, optional=True),
            Column("adelta", "ΔA.PSS", w + 1),
        ])

    def cells(self, key: int) -> Sequence[Cell]:
        state, g = self.rows[key]
        unit = self.unit
        return [Cell(str(g.koid)), STATES[state], Cell(cells.size(g.pss_bytes, unit)),
                cells.change(g.pss_delta, unit),
                Cell(cells.size(round(g.attributed_pss), unit)),
                cells.change(round(g.attributed_delta), unit), Cell(safe_name(g.name))]


class VmoDiffTable(TaskGrowthTable[VmoGrowth]):
    """VMOs by committed bytes growth."""

    SORTS: ClassVar[dict[str, Callable[[Row[VmoGrowth]], SupportsRichComparison]]] = {
        **TaskGrowthTable.SORTS,
        "alloc": lambda r: r.growth.committed_bytes,
        "delta": lambda r: r.growth.committed_delta,
    }

    def __init__(self, d: Diff, *, unit: str = "") -> None:
        rows = _rows(d.vmos, d.vmos_appeared, d.vmos_went)
        super().__init__(rows, sort="delta", title="VMOs", unit=unit, id="diff-vmos")

    def make_columns(self, unit: str) -> list[Column]:
        w = cells.size_width(unit)
        return self.framed([Column("alloc", "ALLOC", w), Column("delta", "ΔALLOC", w + 1)])

    def cells(self, key: int) -> Sequence[Cell]:
        state, g = self.rows[key]
        return [Cell(str(g.koid)), STATES[state], Cell(cells.size(g.committed_bytes, self.unit)),
                cells.change(g.committed_delta, self.unit), Cell(safe_name(g.name) or "-")]


class KstatsDiffTable(GrowthTable[str, tuple[int, KmemDelta]]):
    """Every kernel memory counter before and after; FIELD order is kstats' own."""

    SORTS: ClassVar[dict[str, Callable[[tuple[int, KmemDelta]], SupportsRichComparison]]] = {
        "field": lambda r: r[0],
        "before": lambda r: r[1].before,
        "after": lambda r: r[1].after,
        "delta": lambda r: r[1].delta,
    }

    def __init__(self, d: Diff, *, unit: str = "") -> None:
        rows: dict[str, tuple[int, KmemDelta]] = {
            k.field: (i, k) for i, k in enumerate(d.kstats)}
        super().__init__(rows, sort="field", title="kstats", unit=unit, id="diff-kstats")

    def make_columns(self, unit: str) -> list[Column]:
        w = cells.size_width(unit)
        return [
            Column("field", "FIELD", 20, "left", descending=False),
            Column("before", "BEFORE", w),
            Column("after", "AFTER", w),
            Column("delta", "Δ", w + 1),
        ]

    def cells(self, key: str) -> Sequence[Cell]:
        k = self.rows[key][1]
        return [Cell(k.field), Cell(cells.size(k.before, self.unit)),
                Cell(cells.size(k.after, self.unit)),
                Cell(cells.change(k.delta, self.unit).text)]  # free rising is no alarm

    def search_text(self, key: str) -> str:
        return key.casefold()
