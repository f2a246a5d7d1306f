"""The event log (E): process starts and exits, OOM kills and kills, pressure changes, watchdog
crossings and failed polls, with their tick and source time, oldest first, newest at the
bottom as in a log; the cursor on the last row follows new events.

Live it lists the events of the ticks shown (the last 10,000); in a replay, the recording's.
Enter opens the event's process (a job: selects it in the tree); in a replay it first goes
to the event's tick.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult

from zmtop.engine.formats.events import uptime
from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import (
    KILL,
    OOM_KILL,
    POLL_FAILED,
    PRESSURE,
    PROCESS_EXIT,
    PROCESS_START,
    Snapshot,
)
from zmtop.tui import bindings
from zmtop.tui.monitor import ReplayMonitorApp
from zmtop.tui.screens.base import MonitorScreen
from zmtop.tui.widgets.line_table import Cell, Column, LineTable, counted
from zmtop.viewmodels.event_log import EventLog

# kind -> component class of its KIND cell; other kinds take the row's style
KIND_STYLES = {PROCESS_START: "event-table--start", PROCESS_EXIT: "event-table--exit",
               PRESSURE: "event-table--pressure", OOM_KILL: "event-table--oom",
               POLL_FAILED: "event-table--oom", KILL: "event-table--oom"}


class EventTable(LineTable[int]):
    """The log's events by serial number; sorts by tick (its order), kind or koid."""

    COMPONENT_CLASSES = {"event-table--start", "event-table--exit", "event-table--pressure",
                         "event-table--oom"}

    def __init__(self, log: EventLog) -> None:
        self.event_log = log
        super().__init__([Column("tick", "TICK", 7, descending=False),
                          Column("time", "TIME", 9, descending=False),
                          Column("kind", "KIND", 14, "left", descending=False),
                          Column("koid", "KOID", 7, descending=False),
                          Column("text", "EVENT", 0, "left", descending=False)],
                         sort="tick", title="Events", id="events")
        self.rebuild()

    def update(self, log: EventLog) -> None:
        """A new tick: keep the cursor on the newest event if it was there."""
        following = self.sort_key in ("tick", "time") and self.cursor >= len(self.keys) - 1
        self.event_log = log
        self.rebuild()
        if following and self.keys:
            self.action_edge(1 if not self.sort_reverse else -1)

    def rebuild(self) -> None:
        serials = list(self.event_log.serials)
        if self.sort_key == "kind":
            serials.sort(key=lambda s: self.event_log[s].event.kind)
        elif self.sort_key == "koid":
            serials.sort(key=lambda s: self.event_log[s].event.koid)
        self.set_keys(serials[::-1] if self.sort_reverse else serials)

    def set_unit(self, unit: str) -> None:
        return None  # no sizes

    def subtitle(self) -> str:
        return counted(len(self.keys), "event")

    def cells(self, key: int) -> Sequence[Cell]:
        tick, time_ns, event = self.event_log[key]
        return [Cell(str(tick)), Cell(uptime(time_ns)),
                Cell(safe_name(event.kind), KIND_STYLES.get(event.kind, "")),
                Cell(str(event.koid) if event.koid else "", "line-table--dim"),
                Cell(safe_name(event.text))]

    def search_text(self, key: int) -> str:
        event = self.event_log[key].event
        return f"{event.text.casefold()}\0{event.kind}\0{event.koid}"


class EventsScreen(MonitorScreen):
    """Enter opens the event's process, or in a replay goes to its tick first."""

    CRUMB = "Events"
    BINDINGS = bindings.BACK

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield EventTable(self.app.events)
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.query_one(EventTable).action_edge(1)

    def show_snapshot(self, snap: Snapshot) -> None:
        self.query_one(EventTable).update(self.app.events)

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        app = self.app
        tick, _, chosen = app.events[event.key]
        if isinstance(app, ReplayMonitorApp):
            app.seek(tick)
        koid, snap = chosen.koid, app.snapshot
        if koid in snap.processes:
            app.open_process(koid)
        elif koid in snap.jobs:
            app.jump_to_koid(koid)
        elif isinstance(app, ReplayMonitorApp):
            app.notify(f"tick {snap.tick}", timeout=2)
        elif koid:
            app.notify(f"koid {koid} is gone at tick {snap.tick}", severity="warning")
