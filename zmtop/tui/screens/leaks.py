"""Leak suspects (L): the processes growing steadily over the trend window, fastest first,
each followed by the VMOs it reaches whose committed bytes grew.

A suspect's growth is its attributed PSS's robust slope; its fit and the share of ticks
that grew say how steady it is (engine.analysis.trend has the rule). Enter on a process
opens it; on a VMO, the VMO. The list is worked out again each tick while it shows.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult

from zmtop.engine.analysis.trend import MIN_SAMPLES, Suspect
from zmtop.engine.formats.names import safe_name
from zmtop.engine.formats.trends import VMOS_SHOWN, rule_text, window_text
from zmtop.engine.snapshot.records import Snapshot
from zmtop.tui import bindings
from zmtop.tui.screens.base import MonitorScreen
from zmtop.tui.widgets import cells
from zmtop.tui.widgets.line_table import Cell, Column, LineTable, counted

Row = tuple[str, int, int]  # ("p", process koid, 0), ("v", vmo koid, process), ("more", 0, process)
SORTS = {"koid": lambda s: s.koid, "growth": lambda s: s.trend.per_minute,
         "fit": lambda s: s.trend.fit, "grew": lambda s: s.trend.grew,
         "name": lambda s: s.name.casefold()}  # "pss": see SuspectTable._pss_order


class SuspectTable(LineTable[Row]):
    """Suspects, each with its growing VMOs under it; sorts order the suspects."""

    def __init__(self, found: list[Suspect], *, unit: str = "") -> None:
        self.found = {s.koid: s for s in found}
        self.unit = unit
        super().__init__(self._columns(), sort="growth", title="Leak suspects", id="leaks")
        self.rebuild()

    def _columns(self) -> list[Column]:
        w = max(cells.size_width(self.unit) + 1, 11)
        return [Column("koid", "KOID", 8, descending=False), Column("growth", "GROWTH/MIN", w),
                Column("pss", "PSS/MIN", w), Column("fit", "FIT", 5), Column("grew", "GREW", 5),
                Column("name", "NAME", 0, "left", descending=False)]

    def update(self, found: list[Suspect]) -> None:
        self.found = {s.koid: s for s in found}
        self.rebuild()

    def rebuild(self) -> None:
        order = self._pss_order if self.sort_key == "pss" else SORTS[self.sort_key]
        descending = next(c.descending for c in self.columns if c.key == self.sort_key)
        ranked = sorted(self.found.values(), key=order, reverse=descending != self.sort_reverse)
        rows: list[Row] = []
        for suspect in ranked:
            rows.append(("p", suspect.koid, 0))
            rows += [("v", vmo.koid, suspect.koid) for vmo in suspect.vmos[:VMOS_SHOWN]]
            if len(suspect.vmos) > VMOS_SHOWN:
                rows.append(("more", 0, suspect.koid))
        self.set_keys(rows)

    def _pss_order(self, suspect: Suspect) -> float:
        """A suspect's place under PSS/MIN: its legacy PSS's growth (none counts as 0)."""
        return self.app.growth.history.per_minute(suspect.koid, "pss") or 0.0

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.set_columns(self._columns())

    def subtitle(self) -> str:
        return f"{len(self.found)} over {window_text(self.app.growth.history)}"

    def cells(self, key: Row) -> Sequence[Cell]:
        kind, koid, owner = key
        unit = self.unit
        if kind == "p":
            suspect = self.found[koid]
            pss = self.app.growth.history.per_minute(koid, "pss")
            return [Cell(str(koid), "line-table--strong"),
                    cells.growth(suspect.trend.per_minute, unit), cells.growth(pss, unit),
                    Cell(f"{suspect.trend.fit:.2f}"), Cell(f"{suspect.trend.grew:.0%}"),
                    Cell(safe_name(suspect.name), "line-table--strong")]
        vmos = self.found[owner].vmos
        if kind == "more":
            rest = vmos[VMOS_SHOWN:]
            return [Cell(""), cells.growth(sum(v.per_minute for v in rest), unit), Cell(""),
                    Cell(""), Cell(""),
                    Cell(f"  and {counted(len(rest), 'more VMO')} (Enter: the process)", "line-table--dim")]
        vmo = next(v for v in vmos if v.koid == koid)
        kept = " (file pages)" if vmo.pager_backed else ""
        return [Cell(str(koid), "line-table--dim"), cells.growth(vmo.per_minute, unit),
                Cell(""), Cell(""), Cell(""), Cell(f"  vmo {safe_name(vmo.name)}{kept}")]

    def search_text(self, key: Row) -> str:
        kind, koid, owner = key
        if kind == "p":
            return f"{self.found[koid].name.casefold()}\0{koid}"
        name = next((v.name for v in self.found[owner].vmos if v.koid == koid), "")
        return f"{name.casefold()}\0{koid}"


class LeaksScreen(MonitorScreen):
    """Enter opens a suspect's process, or a VMO; Escape goes back."""

    CRUMB = "Leak suspects"
    BINDINGS = bindings.BACK

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield SuspectTable(self.app.growth.suspects(), unit=self.app.unit)
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self._say_why_empty()

    def show_snapshot(self, snap: Snapshot) -> None:
        self.query_one(SuspectTable).update(self.app.growth.suspects())
        self._say_why_empty()

    def _say_why_empty(self) -> None:
        table = self.query_one(SuspectTable)
        history = self.app.growth.history
        kind = self.app.source.info.kind
        if kind in ("capture", "memgraph"):
            table.empty_text = f"a single {kind} has no trend: poll a series of them (--poll)"
        elif len(history) < MIN_SAMPLES:
            table.empty_text = (f"no trend yet: {len(history)} of {MIN_SAMPLES} ticks "
                                "(the window fills as ticks pass)")
        else:
            table.empty_text = f"no suspect: nothing shows {rule_text()}"
        table.refresh()

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        kind, koid, owner = event.key
        snap = self.app.snapshot
        if kind == "v" and koid in snap.vmos:
            self.app.open_vmo(koid)
        elif (owner or koid) in snap.processes:
            self.app.open_process(owner or koid)
