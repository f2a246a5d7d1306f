"""Replay: the monitor over a recording, with a timeline, seeking, and a diff of two marks.

Every screen is the live one; only the clock and the keys differ. Playing or stepping one
tick on hands the next snapshot to the app like a live tick (its changes are relative to
what is shown). Any other move (back, a jump, a seek) rebuilds the per-tick view state
instead: a snapshot's changes are relative to the tick before it in the recording, not to
what was on screen; the sparkline and kernel graphs take their samples from the
recording. The clock steps on the event loop, so a seek never races a step.
"""

from __future__ import annotations

import asyncio
import bisect
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.widgets import Input

from zmtop.engine.formats.events import recorded_events
from zmtop.engine.snapshot.records import Snapshot
from zmtop.tui import bindings
from zmtop.tui.app import HISTORY, ZmtopApp
from zmtop.tui.monitor import ReplayMonitorApp
from zmtop.tui.widgets.timeline import Timeline
from zmtop.viewmodels.event_log import EventLog
from zmtop.viewmodels.growth import Growth
from zmtop.viewmodels.kstats_history import KstatsHistory
from zmtop.viewmodels.task_rows import Figures

if TYPE_CHECKING:
    from zmtop.engine.recording.reader import Recording
    from zmtop.engine.sources.source import Seekable

REPLAY_ACTIONS = {"play", "move", "edge", "goto", "mark", "diff"}


class ReplayApp(ZmtopApp, ReplayMonitorApp):
    """The monitor over a ReplaySource; it opens paused on the recording's first tick."""

    BINDINGS = bindings.REPLAY
    can_record = False
    source: Seekable
    replay: Recording

    def __init__(self, source: Seekable, tick_seconds: float | None = None,
                 theme: str | None = None, **options: Any) -> None:
        super().__init__(source, tick_seconds or source.info.tick_seconds, theme, **options)
        self.replay = source.recording
        self.events = EventLog(self.replay.ticks[0], recorded_events(self.replay))
        self.ring = None  # every recorded tick is at hand
        self.driver.pause()
        self._recall_histories(self.snapshot.tick)

    def _recall_histories(self, tick: int) -> None:
        """The sparkline's and the kernel graphs' samples up to `tick`, from the recording,
        as if it had played to there."""
        self._recall_growth(tick)
        kmems = self.replay.kmems_until(tick, HISTORY)
        self.free_history = deque((kmem.free_bytes for kmem in kmems), maxlen=HISTORY)
        self.kstats_history = KstatsHistory(kmems[0])
        for kmem in kmems[1:]:
            self.kstats_history.append(kmem)

    def _recall_growth(self, tick: int) -> None:
        """The trends' window ending at `tick`, from the recorded ticks before it (up to
        damage, if any: the window then starts after it)."""
        from zmtop.engine.recording.format import RecordingError

        growth = Growth(self.window)
        ticks = self.replay.ticks
        end = bisect.bisect_right(ticks, tick)
        figures: Figures | None = None
        for recorded in ticks[max(0, end - self.window):end]:
            try:
                snap = self.replay.snapshot_at(recorded)
            except RecordingError:
                growth, figures = Growth(self.window), None
                continue
            if figures is None:
                figures = Figures(snap)
            else:
                figures.advance(snap)
            growth.add(snap, figures)
        self.growth = growth

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in REPLAY_ACTIONS and (isinstance(self.focused, Input)
                                         or not self.screen.query(Timeline)):
            return False
        return super().check_action(action, parameters)

    # -- the clock ----------------------------------------------------------------------

    def start_clock(self) -> None:
        self.run_worker(self._play(), name="clock", group="clock", exclusive=True)

    async def _play(self) -> None:
        """Step while playing, each tick a period after the one before (the Driver's pace)."""
        loop = asyncio.get_running_loop()
        due = loop.time() + self.driver.period
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            due += self.driver.period
            if not self.paused:
                snap = self._read(self.source.step)
                if snap is not None:
                    self.deliver(snap)
            due = max(due, loop.time())

    def _read(self, read: Callable[[], Snapshot]) -> Snapshot | None:
        """read(), or None after a notice if the recording is damaged there: the playing
        stops, and the ticks before the damage stay shown and reachable."""
        from zmtop.engine.recording.format import RecordingError

        try:
            return read()
        except RecordingError as error:
            if not self.paused:
                self.driver.pause()
                self.refresh_headers()
            self.notify(str(error), severity="error")
            return None

    def log_events(self, snap: Snapshot) -> None:
        """A replay's event log is its recording's, read once; the watchdog's crossings
        are added as the ticks play (a seek only sets where the watchdog stands)."""
        self.events.insert(snap.tick, snap.time_ns, self.watchdog.crossings(snap))

    def deliver(self, snap: Snapshot) -> None:
        """Show the next tick; at the recording's end, stop playing."""
        if snap is not self.snapshot:
            super().deliver(snap)
        if self.source.at_end and not self.paused:
            self.driver.pause()
            self.refresh_headers()

    def refresh_headers(self) -> None:
        super().refresh_headers()
        screen = self.monitor_screen
        if screen is not None:
            for timeline in screen.query(Timeline):
                timeline.refresh()

    def switch_scenario(self, name: str) -> None:
        self.notify("a replay shows its recording; run zmtop to simulate", severity="warning")

    # -- moving -------------------------------------------------------------------------

    def seek(self, tick: int) -> None:
        """Show the recorded tick at or before `tick` (the first, if `tick` is earlier).

        One tick on is a plain delivery; any other move takes the histories from the
        recording and ΔPSS from the tick recorded before the new one.
        """
        ticks = self.replay.ticks
        i = max(0, bisect.bisect_right(ticks, tick) - 1)
        old = self.snapshot
        if ticks[i] == old.tick:
            return
        if i and ticks[i - 1] == old.tick:
            step = self._read(lambda: self.source.seek(ticks[i]))
            if step is not None:
                self.deliver(step)
            return
        snap = self._read(lambda: self.source.seek(ticks[i]))
        if snap is None:
            return
        previous = self._recorded_before(i)
        figures = Figures(previous or snap)
        if previous is not None:
            figures.advance(snap)  # ΔPSS: this tick against the one recorded before it
        self.snapshot, self.figures = snap, figures
        self.watchdog.crossings(snap)  # the next tick's crossings are against this one
        self._recall_histories(snap.tick)
        with self.batch_update():
            screen = self.monitor_screen
            if screen is not None:
                screen.catch_up(snap)
            self.refresh_headers()

    def _recorded_before(self, i: int) -> Snapshot | None:
        """The snapshot recorded before the i-th, for ΔPSS; None for the first, or if that
        one is damaged (the i-th shows all the same, its ΔPSS 0)."""
        from zmtop.engine.recording.format import RecordingError

        if not i:
            return None
        try:
            return self.replay.checked_at(self.replay.ticks[i - 1])
        except RecordingError:
            return None

    def seek_time(self, seconds: float) -> None:
        """Show the last recorded tick at or before a simulated time."""
        times = self.replay.times()
        i = max(0, bisect.bisect_right(times, round(seconds * 1e9)) - 1)
        self.seek(self.replay.ticks[i])

    def action_play(self) -> None:
        """Play or pause; playing at the end starts again from the first tick."""
        if self.paused and self.source.at_end:
            self.seek(self.replay.ticks[0])
        self.action_toggle_pause()

    def action_move(self, ticks: int) -> None:
        """Step `ticks` recorded ticks on (or back, if negative)."""
        recorded = self.replay.ticks
        i = bisect.bisect_left(recorded, self.snapshot.tick)
        self.seek(recorded[max(0, min(i + ticks, len(recorded) - 1))])

    def action_edge(self, end: int) -> None:
        self.seek(self.replay.ticks[-1 if end > 0 else 0])

    def action_goto(self) -> None:
        from zmtop.tui.screens.goto import GotoPrompt

        self.push_screen(GotoPrompt(), self.go_to)

    def go_to(self, answer: str | None) -> None:
        """Seek to what the prompt was given: a tick, or a simulated time."""
        from zmtop.tui.screens.goto import parse_position

        if not answer or not answer.strip():
            return
        try:
            kind, value = parse_position(answer)
        except ValueError as error:
            self.notify(str(error), severity="error")
            return
        if kind == "tick":
            self.seek(int(value))
        else:
            self.seek_time(value)
