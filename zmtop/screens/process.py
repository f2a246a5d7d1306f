"""A process's memory: its totals, its vmaps tree and its vmos table, side by side."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.widget import Widget

from engine.psutils import safe_name
from engine.snapshot import FRACTION_ONE, Process, Snapshot
from zmtop.screens.base import MonitorScreen
from zmtop.widgets import cells
from zmtop.widgets.line_table import LineTable
from zmtop.widgets.process_tables import ProcessVmoTable, VmapsTable


class ProcessSummary(Widget):
    """The process's totals: legacy (ps) and attributed (RFC-0254), handles, threads."""

    COMPONENT_CLASSES = {"summary--title", "summary--label", "summary--value", "summary--gone"}

    def __init__(self, process: Process) -> None:
        super().__init__()
        self.process = process
        self.exited = False

    def render(self) -> Text:
        p, exact = self.process, self.app.exact
        s = lambda name: self.get_component_rich_style(name, partial=True)  # noqa: E731
        label, value = s("summary--label"), s("summary--value")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" p: {p.koid} ", s("summary--title"))
        text.append(f" {safe_name(p.name)}", s("summary--title"))
        text.append(f"  job j: {p.job_koid}", label)
        if self.exited:
            text.append("  EXITED ", s("summary--gone"))
        text.append(f"  handles {p.handle_count}  threads {len(p.threads)}", label)
        rows = (
            ("legacy", (("PSS", p.pss_bytes), ("PRIVATE", p.private_bytes),
                        ("SHARED", p.shared_bytes))),
            ("attributed", (("USS", p.uss_bytes), ("RSS", p.rss_bytes),
                            ("PSS", p.pss_fixed // FRACTION_ONE))),
        )
        for title, fields in rows:
            text.append(f"\n {title:<10}", label)
            for name, nbytes in fields:
                text.append(f" {name} ", label)
                text.append(f"{cells.size(nbytes, exact):<8}", value)
        return text


class ProcessScreen(MonitorScreen):
    """Enter on a mapping or a VMO opens the VMO; Escape goes back to the job tree."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="screen.back")]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]

    def __init__(self, koid: int) -> None:
        super().__init__()
        self.koid = koid

    def compose(self) -> ComposeResult:
        snap = self.app.snapshot
        process = snap.processes[self.koid]
        yield from self.compose_header()
        yield ProcessSummary(process)
        with Container(id="panes"):
            yield VmapsTable(process, exact=self.app.exact)
            yield ProcessVmoTable(process, snap, exact=self.app.exact)
        yield from self.compose_footer()

    def show_snapshot(self, snap: Snapshot) -> None:
        summary = self.query_one(ProcessSummary)
        process = snap.processes.get(self.koid)
        if process is None:  # exited: keep showing its last figures
            summary.exited = True
            summary.refresh()
            return
        summary.process = process
        summary.refresh()
        self.query_one(VmapsTable).update(process)
        self.query_one(ProcessVmoTable).update(process, snap)

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        if isinstance(event.table, VmapsTable):
            entry = event.table.entries[event.key]
            koid = entry.vmo_koid if entry.type == "M" else 0
        else:
            koid = event.key[0]
        if koid in self.app.snapshot.vmos:
            from zmtop.screens.vmo import VmoScreen

            self.app.push_screen(VmoScreen(koid))
