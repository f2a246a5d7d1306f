"""The main screen: the job tree under the kstats header."""

from __future__ import annotations

from textual.app import ComposeResult

from zmtop.engine.snapshot.records import Snapshot
from zmtop.tui import bindings
from zmtop.tui.screens.base import MonitorScreen
from zmtop.tui.widgets.line_table import LineTable
from zmtop.tui.widgets.task_table import TaskTable


class MainScreen(MonitorScreen):
    """Jobs and processes; Enter opens a process, or folds a job."""

    CRUMB = "Job tree"
    BINDINGS = bindings.MAIN
    NOTICE_GAPS = ("jobs", "task_stats", "handles", "names")

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield TaskTable(self.app.figures, unit=self.app.unit,
                        choices=self.app.column_choices, id="tasks")
        yield from self.compose_footer()

    @property
    def table(self) -> TaskTable:
        return self.query_one(TaskTable)

    def show_snapshot(self, snap: Snapshot) -> None:
        self.table.update(self.app.figures)

    def catch_up(self, snap: Snapshot) -> None:
        self.table.figures = self.app.figures
        self.table.rebuild()

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        table = self.table
        if event.key in table.figures.snap.jobs:
            table.toggle(event.key)
        elif event.key in table.figures.snap.processes:  # not a row kept after its exit
            self.app.open_process(event.key)

    def action_kill(self) -> None:
        """Kill the job or process under the cursor, once confirmed."""
        key = self.table.cursor_key
        snap = self.app.snapshot
        if key is not None and (key in snap.jobs or key in snap.processes):  # not exited
            self.app.ask_kill(key)

    def action_columns(self) -> None:
        """Choose the tree's columns (htop's F2 setup): those of the view shown, memory
        or handle counts by type (H)."""
        from zmtop.tui.screens.columns import ColumnsScreen

        table = self.table
        view = "job tree, handle counts (H)" if table.by_type else "job tree"
        self.app.push_screen(ColumnsScreen(table.choice, view, self._columns_changed))

    def _columns_changed(self) -> None:
        self.table.apply_choice()
        self.app.save_columns()

    def action_clear(self) -> None:
        """Drop the filter and the search highlight."""
        table = self.table
        if table.filter_text:
            table.set_filter("")
        table.find("")

    def select(self, koid: int) -> None:
        """Put the cursor on a job or process, unfolding and unfiltering as needed."""
        self.table.reveal(koid)
        self.table.focus()
