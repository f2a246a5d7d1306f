"""The diff of two marked moments: what grew, appeared and went, and the kstats deltas."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container
from textual.widget import Widget

from zmtop.engine.analysis.diff import Diff
from zmtop.engine.snapshot.records import Snapshot
from zmtop.tui import bindings
from zmtop.tui.monitor import ReplayMonitorApp
from zmtop.tui.screens.base import MonitorScreen
from zmtop.tui.widgets.diff_tables import (
    KstatsDiffTable,
    ProcessDiffTable,
    VmoDiffTable,
)
from zmtop.tui.widgets.find_bar import FindBar
from zmtop.tui.widgets.key_footer import KeyFooter
from zmtop.tui.widgets.line_table import LineTable


class DiffSummary(Widget):
    """One line: the two ticks, the time between them, and how many records moved."""

    COMPONENT_CLASSES = {"summary--title", "summary--label", "summary--value"}

    def __init__(self, d: Diff) -> None:
        super().__init__()
        self.diff = d

    def render(self) -> Text:
        d = self.diff
        title, label, value = (self.get_component_rich_style(f"summary--{name}", partial=True)
                               for name in ("title", "label", "value"))
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" Diff ", title)
        text.append(f" tick {d.tick_a} → tick {d.tick_b}", value)
        text.append(f"  ({d.seconds:g} s)", label)
        for records, lists in (("processes", (d.processes, d.processes_appeared,
                                              d.processes_went)),
                               ("VMOs", (d.vmos, d.vmos_appeared, d.vmos_went))):
            text.append(f"   {records} ", label)
            for count, what in zip(map(len, lists), ("moved", "new", "gone")):
                text.append(f"{count}", value)
                text.append(f" {what} ", label)
        return text


class DiffScreen(MonitorScreen):
    """A fixed comparison: ticks that pass underneath do not change it. Escape goes back."""

    CRUMB = "Diff"
    BINDINGS = bindings.BACK
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]

    def __init__(self, d: Diff, b: Snapshot) -> None:
        super().__init__()
        self.diff = d
        self.b = b  # the snapshot of tick B, kept while the diff shows

    def compose(self) -> ComposeResult:
        unit = self.app.unit
        yield from self.compose_header()
        yield DiffSummary(self.diff)
        with Container(id="panes"):
            yield ProcessDiffTable(self.diff, unit=unit)
            yield VmoDiffTable(self.diff, unit=unit)
        yield KstatsDiffTable(self.diff, unit=unit)
        yield FindBar()  # no timeline: the replay keys rest while the diff shows
        yield KeyFooter()

    def show_snapshot(self, snap: Snapshot) -> None:
        """The diff stays; only the header follows the clock."""

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        """A process row opens the process as it was at tick B (a replay goes there
        first); a VMO row opens the VMO at tick B in a replay, live if it is still there."""
        app, b, koid = self.app, self.b, event.key
        if isinstance(event.table, ProcessDiffTable):
            if koid not in b.processes:
                app.notify(f"process {koid} is gone at tick {b.tick}: it exited between the "
                           "marks", severity="warning")
            elif isinstance(app, ReplayMonitorApp):
                app.seek(b.tick)
                app.open_process(koid)
            else:
                app.open_process(koid, b if b is not app.snapshot else None)
        elif isinstance(event.table, VmoDiffTable):
            if isinstance(app, ReplayMonitorApp):
                app.seek(b.tick)
            if koid in app.snapshot.vmos:
                app.open_vmo(koid)
            else:
                app.notify(f"VMO {koid} is gone at tick {app.snapshot.tick}", severity="warning")
