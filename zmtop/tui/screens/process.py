"""A process's memory: its totals, its vmaps tree and its vmos table, side by side;
`H` swaps in its handle table (`k zx ht`) and the VMOs it holds only by handle."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container

from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import FRACTION_ONE, Process, Snapshot
from zmtop.tui import bindings
from zmtop.tui.screens.base import MonitorScreen
from zmtop.tui.widgets import cells
from zmtop.tui.widgets.handle_table import HandleTable, HandleVmoTable
from zmtop.tui.widgets.line_table import LineTable
from zmtop.tui.widgets.process_tables import ProcessVmoTable, VmapsTable
from zmtop.tui.widgets.source_notice import gap_text
from zmtop.tui.widgets.summary import Summary


class ProcessSummary(Summary):
    """The process's totals: legacy (ps) and attributed (RFC-0254), handles, threads."""

    def __init__(self, process: Process, tick: int | None = None) -> None:
        super().__init__()
        self.process = process
        self.exited = False
        self.tick = tick  # the tick a pinned screen shows, else None

    def render(self) -> Text:
        p, unit = self.process, self.app.unit
        badge = "EXITED" if self.exited else f"AT TICK {self.tick}" if self.tick is not None else None
        text = self.title_line(f"p: {p.koid}", safe_name(p.name), f"job j: {p.job_koid}", badge)
        gaps = self.app.source.missing
        handles = "n/a" if "handles" in gaps else p.handle_count
        threads = "n/a" if "threads" in gaps else len(p.threads)
        text.append(f"  handles {handles}  threads {threads}", self.style_of("label"))

        def shown(nbytes: int, known: bool = True) -> str:
            return cells.size(nbytes, unit) if known else "n/a"

        def growth(figure: str) -> str:
            per_minute = self.app.growth.history.per_minute(p.koid, figure)
            return "no trend" if per_minute is None else cells.growth(per_minute, unit).text

        legacy = "task_stats" not in gaps
        return self.append_rows(text, (
            ("legacy", (("PSS", shown(p.pss_bytes, legacy)),
                        ("PRIVATE", shown(p.private_bytes, legacy)),
                        ("SHARED", shown(p.shared_bytes, legacy)),
                        ("PSS/min", growth("pss") if legacy else "n/a"))),
            ("attributed", (("USS", shown(p.uss_bytes)), ("RSS", shown(p.rss_bytes)),
                            ("PSS", shown(p.pss_fixed // FRACTION_ONE)),
                            ("PSS/min", growth("apss")))),
        ))


class ProcessScreen(MonitorScreen):
    """Enter on a mapping or a VMO opens the VMO; Escape goes back to the job tree.

    Given a snapshot (a diff's tick B), the screen shows the process as it was then, and
    ticks passing leave it so; else it follows the clock."""

    CRUMB = "Process"
    BINDINGS = bindings.PROCESS
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    NOTICE_GAPS = ("task_stats", "threads")

    def __init__(self, koid: int, pinned: Snapshot | None = None) -> None:
        super().__init__()
        self.koid = koid
        self.pinned = pinned
        self.handles_shown = False  # the handle panes in place of vmaps and vmos

    @property
    def crumb(self) -> str:
        process = self.app.snapshot.processes.get(self.koid)
        return f"process {self.koid}" + (f" {safe_name(process.name)}" if process else "")

    def compose(self) -> ComposeResult:
        snap = self.pinned or self.app.snapshot
        process = snap.processes[self.koid]
        yield from self.compose_header()
        yield ProcessSummary(process, self.pinned.tick if self.pinned else None)
        source = self.app.source
        with Container(id="panes"):
            vmaps = VmapsTable(process, unit=self.app.unit)
            vmaps.empty_text = gap_text(source, "mappings")
            yield vmaps
            yield ProcessVmoTable(process, snap, unit=self.app.unit)
            handles = HandleTable(process)
            handles.empty_text = gap_text(source, "handles")
            only = HandleVmoTable(process, snap, unit=self.app.unit)
            only.empty_text = gap_text(source, "via") or gap_text(source, "handles")
            for table in (handles, only):
                table.display = False
                yield table
        yield from self.compose_footer()

    def action_toggle_handles(self) -> None:
        """Swap the vmaps and vmos panes for the handle table and handle-only VMOs."""
        self.handles_shown = not self.handles_shown
        for table in self.query(LineTable):
            table.display = isinstance(table, (HandleTable, HandleVmoTable)) == self.handles_shown
        next(t for t in self.query(LineTable) if t.display).focus()

    def action_kill(self) -> None:
        """Kill this process, once confirmed (the screen then says EXITED)."""
        self.app.ask_kill(self.koid)

    def show_snapshot(self, snap: Snapshot) -> None:
        if self.pinned is not None:  # it shows its tick; only the header follows the clock
            return
        summary = self.query_one(ProcessSummary)
        process = snap.processes.get(self.koid)
        if process is None:  # exited: keep showing its last figures
            summary.exited = True
            summary.refresh()
            return
        summary.process = process
        summary.refresh()
        self.query_one(VmapsTable).update(process)
        self.query_one("#process-vmos", ProcessVmoTable).update(process, snap)
        self.query_one(HandleTable).update(process)
        self.query_one(HandleVmoTable).update(process, snap)

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        if isinstance(event.table, VmapsTable):
            entry = event.table.entries[event.key]
            koid = entry.vmo_koid if entry.type == "M" else 0
        elif isinstance(event.table, HandleTable):
            koid = event.table.process.handles[event.key].koid
        else:
            koid = event.key[0]
        if koid in self.app.snapshot.vmos:
            self.app.open_vmo(koid)
