"""The replay timeline: where the replay stands in its recording and what happened when.

Two lines above the footer: the position (play state, tick, simulated time, speed, marks)
and a track with one cell per slice of ticks, each showing the most telling event in its
slice (a failed poll, an OOM kill, a pressure change, then process exits and starts),
the marks A and B, and the position. A legend says what each glyph marks, and the status
line describes the most telling event of the tick shown. A click on the track seeks there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.widget import Widget

from zmtop.engine.formats.events import uptime
from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import POLL_FAILED, Event

if TYPE_CHECKING:
    from textual import getters

    from zmtop.tui.monitor import ReplayMonitorApp

# kind -> (rank, glyph, component class); the higher rank wins a shared cell
EVENT_MARKS = {
    "process-start": (1, "+", "timeline--start"),
    "process-exit": (2, "−", "timeline--exit"),
    "pressure": (3, "◆", "timeline--pressure"),
    "oom-kill": (4, "✖", "timeline--oom"),
    POLL_FAILED: (5, "!", "timeline--gap"),
}
LEGEND = (("process-start", "start"), ("process-exit", "exit"), ("pressure", "pressure"),
          ("oom-kill", "OOM kill"))
# In the legend only when the recording has a tick whose poll failed.
GAP_LEGEND = ((POLL_FAILED, "poll failed"),)
MARK_NAMES = "AB"


def column_of(tick: int, first: int, last: int, width: int) -> int:
    """The track cell of a tick, with the first tick in cell 0 and the last in the last."""
    if last <= first or width <= 1:
        return 0
    return round((tick - first) * (width - 1) / (last - first))


def tick_at(column: int, first: int, last: int, width: int) -> int:
    """The tick a track cell stands for (the inverse of `column_of`)."""
    if last <= first or width <= 1:
        return first
    return first + round(min(max(column, 0), width - 1) * (last - first) / (width - 1))


def event_columns(marks: Iterable[tuple[int, Event]], first: int, last: int,
                  width: int) -> dict[int, str]:
    """The kind of the most telling event in each track cell that has one."""
    out: dict[int, str] = {}
    for tick, event in marks:
        if event.kind not in EVENT_MARKS:
            continue
        column = column_of(tick, first, last, width)
        held = out.get(column)
        if held is None or EVENT_MARKS[event.kind][0] > EVENT_MARKS[held][0]:
            out[column] = event.kind
    return out


class Timeline(Widget):
    """The replay's position and events, from the app's recording, snapshot and marks."""

    if TYPE_CHECKING:
        app = getters.app(ReplayMonitorApp)

    COMPONENT_CLASSES = {
        "timeline--title",
        "timeline--label",
        "timeline--value",
        "timeline--playing",
        "timeline--track",
        "timeline--mark",
        "timeline--position",
        *(style for _, _, style in EVENT_MARKS.values()),
    }

    def __init__(self) -> None:
        super().__init__()
        self._columns: tuple[int, dict[int, str]] | None = None  # width, event columns
        self._legend: tuple[tuple[str, str], ...] | None = None

    def _s(self, name: str):
        return self.get_component_rich_style(name, partial=True)

    def render(self) -> Text:
        width = max(self.size.width, 1)
        status = self._status_line(width)
        status.truncate(width, overflow="ellipsis")
        return Text("\n").join([status, self._track_line(width)])

    def _status_line(self, width: int) -> Text:
        app = self.app
        recording, snap = app.replay, app.snapshot
        label, value = self._s("timeline--label"), self._s("timeline--value")
        line = Text()
        line.append(" REPLAY ", self._s("timeline--title"))
        if app.paused:
            line.append("  ❚❚ paused", label)
        else:
            line.append("  ▶ playing", self._s("timeline--playing"))
        line.append("  tick ", label)
        line.append(f"{snap.tick}", value)
        line.append(f" / {recording.ticks[-1]}", label)
        line.append("  ")
        line.append(uptime(snap.time_ns), value)
        line.append(f" / {uptime(recording.times()[-1])}", label)
        line.append(f"  {app.speed_label}", label)
        for name, mark in zip(MARK_NAMES, app.marks):
            line.append(f"  {name} ", self._s("timeline--mark"))
            line.append(f"{mark.tick}", value)
        line.append_text(self._here(snap.tick))
        legend = Text()
        for kind, name in self._legend_kinds():
            _, glyph, style = EVENT_MARKS[kind]
            legend.append(f"  {glyph}", self._s(style))
            legend.append(f" {name}", label)
        room = width - line.cell_len - legend.cell_len - 1
        if room >= 0:
            line.append(" " * room)
            line.append_text(legend)
        return line

    def _here(self, tick: int) -> Text:
        """The most telling event of `tick`, its glyph and text, and how many more."""
        marked = [e.event for e in self.app.events.at(tick) if e.event.kind in EVENT_MARKS]
        if not marked:
            return Text()
        event = max(marked, key=lambda e: EVENT_MARKS[e.kind][0])
        _, glyph, style = EVENT_MARKS[event.kind]
        here = Text(f"  {glyph} ", self._s(style))
        here.append(safe_name(event.text), self._s("timeline--value"))
        if len(marked) > 1:
            here.append(f" +{len(marked) - 1} more", self._s("timeline--label"))
        return here

    def _legend_kinds(self) -> tuple[tuple[str, str], ...]:
        """LEGEND, and GAP_LEGEND if a poll failed during the recording (worked out once)."""
        if self._legend is None:
            gaps = any(event.kind == POLL_FAILED for _, event in self.app.replay.events())
            self._legend = LEGEND + GAP_LEGEND if gaps else LEGEND
        return self._legend

    def _track_line(self, width: int) -> Text:
        app = self.app
        ticks = app.replay.ticks
        first, last = ticks[0], ticks[-1]
        cells = max(width - 2, 1)
        if self._columns is None or self._columns[0] != cells:
            self._columns = (cells, event_columns(app.replay.events(), first, last, cells))
        glyphs = ["─"] * cells
        styles = ["timeline--track"] * cells
        for column, kind in self._columns[1].items():
            _, glyphs[column], styles[column] = EVENT_MARKS[kind]
        for name, mark in zip(MARK_NAMES, app.marks):
            column = column_of(mark.tick, first, last, cells)
            glyphs[column], styles[column] = name, "timeline--mark"
        column = column_of(app.snapshot.tick, first, last, cells)
        glyphs[column], styles[column] = "●", "timeline--position"
        line = Text(" ")
        for glyph, style in zip(glyphs, styles):
            line.append(glyph, self._s(style))
        line.append(" ")
        return line

    def on_click(self, event: events.Click) -> None:
        """A click on the track goes to the tick under it."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y != 1:
            return
        ticks = self.app.replay.ticks
        self.app.seek(tick_at(offset.x - 1, ticks[0], ticks[-1], max(self.size.width - 2, 1)))
