"""What screens and widgets may use of the monitor app, without importing it.

The app imports every screen, so a screen cannot import the app (the import graph has no
cycle); it types `self.app` as this interface instead, which ZmtopApp implements:

    if TYPE_CHECKING:
        app = getters.app(MonitorApp)

Only annotations and abstract methods: nothing here runs but class creation.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING

from textual.app import App

if TYPE_CHECKING:
    from collections import deque
    from collections.abc import Callable
    from pathlib import Path

    from textual.screen import Screen

    from zmtop.engine.recording.reader import Recording
    from zmtop.engine.recording.writer import Recorder
    from zmtop.engine.snapshot.records import Snapshot
    from zmtop.engine.sources.driver import Driver
    from zmtop.engine.sources.source import Source
    from zmtop.viewmodels.column_choice import ColumnChoice
    from zmtop.viewmodels.event_log import EventLog
    from zmtop.viewmodels.growth import Growth
    from zmtop.viewmodels.kstats_history import KstatsHistory
    from zmtop.viewmodels.task_rows import Figures
    from zmtop.viewmodels.watchdog import Watchdog


class MonitorApp(App[object]):
    """The monitor's shared view state and the moves a screen asks of it."""

    source: Source
    driver: Driver
    snapshot: Snapshot
    figures: Figures
    growth: Growth  # trends over the window: growth, sparklines, leaks, time to pressure
    kstats_history: KstatsHistory
    free_history: deque[int]
    tick_seconds: float
    unit: str  # the unit of every size shown ("" for each in its own, as ps; `cells.size`)
    watchdog: Watchdog
    events: EventLog  # the events of the ticks shown, or a replay's recording's
    zmtop_themes: list[str]
    replay: Recording | None  # the recording a replay moves through
    recorder: Recorder | None
    recording: bool
    can_record: bool
    column_choices: dict[str, ColumnChoice]  # the job tree's columns, by `[tree]` setting

    @property
    @abstractmethod
    def paused(self) -> bool: ...

    @property
    @abstractmethod
    def speed(self) -> float: ...

    @property
    @abstractmethod
    def speed_label(self) -> str: ...

    @abstractmethod
    def show_view(self, module: str, name: str, make: Callable[[], Screen] | None = None
                  ) -> None: ...

    @abstractmethod
    def open_process(self, koid: int, pinned: Snapshot | None = None) -> None: ...

    @abstractmethod
    def open_vmo(self, koid: int) -> None: ...

    @abstractmethod
    def jump_to_koid(self, koid: int) -> None: ...

    @abstractmethod
    def describe_koid(self, koid: int) -> str: ...

    @abstractmethod
    def ask_kill(self, koid: int) -> None: ...

    @abstractmethod
    def deliver(self, snap: Snapshot) -> None: ...

    @abstractmethod
    def switch_scenario(self, name: str) -> None: ...

    @abstractmethod
    def set_watchdog(self, mb: int | None) -> None: ...

    @abstractmethod
    def start_recording(self, path: str | Path | None = None) -> bool: ...

    @abstractmethod
    def refresh_headers(self) -> None: ...

    @abstractmethod
    def save_columns(self) -> None: ...

    # the palette's commands
    @abstractmethod
    def action_toggle_pause(self) -> None: ...

    @abstractmethod
    def action_step(self) -> None: ...

    @abstractmethod
    def action_faster(self) -> None: ...

    @abstractmethod
    def action_slower(self) -> None: ...

    @abstractmethod
    def action_toggle_units(self) -> None: ...

    @abstractmethod
    def action_system_vmos(self) -> None: ...

    @abstractmethod
    def action_digest(self) -> None: ...

    @abstractmethod
    def action_watchdog(self) -> None: ...

    @abstractmethod
    def action_events(self) -> None: ...

    @abstractmethod
    def action_leaks(self) -> None: ...

    @abstractmethod
    def action_kernel(self) -> None: ...

    @abstractmethod
    def action_treemap(self) -> None: ...

    @abstractmethod
    def action_help(self) -> None: ...

    @abstractmethod
    def action_toggle_record(self) -> None: ...


class ReplayMonitorApp(MonitorApp):
    """A monitor over a recording: what the replay timeline uses of ReplayApp."""

    replay: Recording
    marks: list[Snapshot]  # A, then B

    @abstractmethod
    def seek(self, tick: int) -> None: ...
