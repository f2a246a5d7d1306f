"""The memory watchdog: a prompt for its threshold, and the processes at or over it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Input

from zmtop.engine.formats.kzx import PAGES_PER_MB
from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import PAGE_SIZE, Snapshot
from zmtop.tui import bindings
from zmtop.tui.screens.base import MonitorScreen
from zmtop.tui.widgets import cells
from zmtop.tui.widgets.line_table import Cell, Column, LineTable

if TYPE_CHECKING:
    from textual import getters

    from zmtop.tui.monitor import MonitorApp


def parse_mb(text: str) -> int | None:
    """A threshold in whole MiB ("32", "32M"); 0 or "off" turns the watchdog off."""
    text = text.strip().lower().removesuffix("m").removesuffix("mb").strip()
    if text in ("", "off", "0"):
        return 0
    if not text.isdigit() or int(text) > 1 << 30:
        return None
    return int(text)


class WatchdogPrompt(ModalScreen[int]):
    """Asks for the threshold in MiB; dismissed with it (0: off), or nothing on Escape."""

    if TYPE_CHECKING:
        app = getters.app(MonitorApp)

    BINDINGS = bindings.WATCHDOG_PROMPT

    def compose(self) -> ComposeResult:
        current = self.app.watchdog.mb
        field = Input(str(current or 32), placeholder="MiB (0 or off: no watchdog)",
                      id="watchdog-mb")
        field.border_title = "Watchdog: flag processes at or over (MiB)"
        yield field

    def on_input_submitted(self, event: Input.Submitted) -> None:
        mb = parse_mb(event.value)
        if mb is None:
            self.notify(f"not a size in MiB: '{event.value}'", severity="warning")
            return
        self.dismiss(mb)


class HogTable(LineTable[int]):
    """Processes at or over the threshold, as `k zx mwd` lists them, with their sizes."""

    SORTS = {"koid": 0, "mb": 1, "committed": 1, "pss": 2, "name": 3}

    def __init__(self, snap: Snapshot, hogs: dict[int, int], *, unit: str = "") -> None:
        self.snap, self.hogs, self.unit = snap, hogs, unit
        super().__init__(self._columns(), sort="committed", title="Memory hogs", id="hogs")
        self.rebuild()

    def _columns(self) -> list[Column]:
        w = cells.size_width(self.unit)
        return [Column("koid", "KOID", 7, descending=False), Column("mb", "MiB", 6),
                Column("committed", "COMMITTED", max(w, 10)), Column("pss", "PSS", w),
                Column("name", "NAME", 0, "left", descending=False)]

    def update(self, snap: Snapshot, hogs: dict[int, int]) -> None:
        self.snap, self.hogs = snap, hogs
        self.rebuild()

    def _row(self, koid: int) -> tuple:
        proc = self.snap.processes[koid]
        return koid, self.hogs[koid], proc.pss_bytes, safe_name(proc.name).casefold()

    def rebuild(self) -> None:
        column = next(c for c in self.columns if c.key == self.sort_key)
        index = self.SORTS[self.sort_key]
        keys = sorted(self.hogs, key=lambda k: (self._row(k)[index], k),
                      reverse=column.descending != self.sort_reverse)
        self.set_keys(keys)

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.set_columns(self._columns())

    def subtitle(self) -> str:
        mb = self.app.watchdog.mb if self.is_attached else None
        return f"{len(self.keys)} at or over {mb} MiB" if mb else "watchdog off"

    def cells(self, key: int) -> Sequence[Cell]:
        proc, pages = self.snap.processes[key], self.hogs[key]
        return [Cell(str(key)), Cell(str(pages // PAGES_PER_MB), "line-table--strong"),
                Cell(cells.size(pages * PAGE_SIZE, self.unit)),
                Cell(cells.size(proc.pss_bytes, self.unit)), Cell(safe_name(proc.name))]

    def search_text(self, key: int) -> str:
        return f"{self.snap.processes[key].name.casefold()}\0{key}"


class HogsScreen(MonitorScreen):
    """Enter opens a process; W changes the threshold; Escape goes back."""

    CRUMB = "Memory hogs"
    BINDINGS = bindings.BACK

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        snap = self.app.snapshot
        yield HogTable(snap, self.app.watchdog.hogs(snap), unit=self.app.unit)
        yield from self.compose_footer()

    def show_snapshot(self, snap: Snapshot) -> None:
        self.query_one(HogTable).update(snap, self.app.watchdog.hogs(snap))

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        if event.key in self.app.snapshot.processes:
            self.app.open_process(event.key)
