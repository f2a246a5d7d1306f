"""The live monitor: consumes snapshots from the engine's Driver and shows them.

The app owns the view state shared by every screen (current snapshot, job-tree figures,
free-memory history, units); the Driver owns the clock and steps any source (simulation,
poll, replay). Each snapshot is applied inside `batch_update()` to the top monitor screen
only; screens underneath catch up when they come back. Start-up imports stay lean:
screens other than the job tree load on first use.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from textual.app import App
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from zmtop.engine.analysis.trend import WINDOW
from zmtop.engine.snapshot.records import Snapshot
from zmtop.engine.sources.driver import Driver
from zmtop.tui import bindings, config
from zmtop.tui.kill import KillControls
from zmtop.tui.marks import MarkControls
from zmtop.tui.monitor import MonitorApp
from zmtop.tui.recording import RecordingControls
from zmtop.tui.widgets.cells import UNIT_CYCLE
from zmtop.tui.widgets.task_table import column_choices
from zmtop.viewmodels.event_log import EventLog
from zmtop.viewmodels.growth import Growth
from zmtop.viewmodels.kstats_history import KstatsHistory
from zmtop.viewmodels.snapshot_ring import SnapshotRing
from zmtop.viewmodels.task_rows import Figures
from zmtop.viewmodels.watchdog import Watchdog

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.css.stylesheet import StylesheetParseError
    from textual.driver import Driver as TerminalDriver

    from zmtop.engine.recording.reader import Recording
    from zmtop.engine.recording.writer import Recorder
    from zmtop.engine.sources.source import Source, SourceInfo
    from zmtop.tui.screens.base import MonitorScreen
    from zmtop.tui.screens.main import MainScreen

HISTORY = 512  # free-memory samples kept for the sparkline


class MetricsFeed(Protocol):
    """What `--metrics` serves from (cli.metrics.MetricsServer): told each source the monitor
    takes (a scenario switch is a new one), then fed each snapshot it shows."""

    def watch(self, source: Source) -> None: ...

    def feed(self, snap: Snapshot) -> None: ...


class UnknownTheme(ValueError):
    pass


class BrokenCss(ValueError):
    """The app's CSS does not parse: the message is its first error, on one line."""


def _first_css_error(error: StylesheetParseError) -> str:
    """A StylesheetParseError's first error as `FILE:LINE:COLUMN: message`, and how many more."""
    from rich.text import Text

    errors = [problem for rule in error.errors.rules for problem in rule.errors]
    token, message = errors[0]
    line, column = (token.referenced_by or token).location
    summary = Text.from_markup(getattr(message, "summary", str(message))).plain
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{token.read_from[0]}:{line + 1}:{column + 1}: {summary}{more}"


def _palette():
    from zmtop.tui.screens.palette import ZmtopCommands

    return ZmtopCommands


class ZmtopApp(MarkControls, RecordingControls, KillControls, MonitorApp):
    """htop for Zircon memory. `autostart=False` leaves the clock off so tests step by hand."""

    CSS_PATH = str(config.THEMES_DIR / "zmtop.tcss")
    TITLE = "zmtop"
    COMMANDS = App.COMMANDS | {_palette}
    BINDINGS = bindings.APP + bindings.VIEWS
    replay: Recording | None = None  # the recording a ReplayApp moves through

    closing_error: str | None = None  # the recording's close failed as the app ended
    recording: reactive[bool] = reactive(False)
    """True while a recorder is open (`--record`, `R`); the header shows it."""

    def __init__(self, source: Source, tick_seconds: float = 1.0, theme: str | None = None,
                 *, autostart: bool = True, config_path: Path | None = None,
                 recorder: Recorder | None = None, window: int = WINDOW, unit: str = "",
                 metrics: MetricsFeed | None = None,
                 after_first_frame: Callable[[], None] | None = None) -> None:
        super().__init__()
        themes = config.load_themes()
        for t in themes:
            self.register_theme(t)
        self.zmtop_themes = [t.name for t in themes]
        self.settings, unread = config.load(config_path)
        self.config_path = None if unread else config_path  # a file not read is not written
        if theme is not None and theme not in self.available_themes:
            raise UnknownTheme(f"unknown theme '{theme}' (choose from "
                               f"{', '.join(self.zmtop_themes)} or a Textual theme)")
        saved = self.settings.get("theme")
        chosen = theme or (saved if saved in self.available_themes else config.DEFAULT_THEME)
        # Setting the theme queues a CSS refresh (a second parse of every rule) for after
        # start-up; giving the stylesheet the theme's variables now makes it unneeded.
        self._css_refresh_queued = chosen != self.theme
        self.theme = chosen
        self.stylesheet.set_variables(self.get_css_variables())
        self.tick_seconds = tick_seconds
        self.autostart = autostart
        self.unit = unit
        self.recorder: Recorder | None = recorder
        self.watchdog = Watchdog()
        self.window = window
        self.metrics = metrics  # `--metrics` serves what it is fed (cli.metrics)
        self.after_first_frame = after_first_frame  # called once the first frame is up
        self.set_reactive(ZmtopApp.recording, recorder is not None)
        keymap, keymap_problem = config.keymap(self.settings, set(bindings.binding_ids()))
        self.set_keymap(keymap)
        self.column_choices = column_choices()
        chosen, columns_problem = config.tree_columns(
            self.settings, {name: choice.titles for name, choice in self.column_choices.items()})
        for name, titles in chosen.items():
            self.column_choices[name].restore(titles)
        self._config_problems = [f"{config_path}: {problem}" for problem in
                                 (unread, keymap_problem, columns_problem) if problem]
        self._parse_css()
        self._use_source(source)

    # Speed: bench "ui default: first frame" (ui_bench): parsed here, the CSS is parsed while a
    # forked boot's child may still be booting (the source's snapshot waits for it), not after.
    def _parse_css(self) -> None:
        """Parse the app's CSS now, with the theme's variables: Textual's own parse as the app
        starts finds its rules cached. Broken CSS is a BrokenCss, not Textual's error panel."""
        from textual.css.stylesheet import StylesheetError, StylesheetParseError
        from textual.css.tokenizer import TokenError

        try:
            self.stylesheet.read_all(self.css_path)
            self.stylesheet.parse()
        except StylesheetParseError as error:
            raise BrokenCss(_first_css_error(error)) from None
        except TokenError as error:
            raise BrokenCss(f"{error.read_from[0]}:{error.start[0]}:{error.start[1]}: "
                            f"{error}") from None
        except StylesheetError as error:
            raise BrokenCss(str(error)) from None

    def _use_source(self, source: Source) -> None:
        """Take a source: a new clock, figures, history and ring, and no marks."""
        self.source = source
        self.driver = Driver(source, self.tick_seconds)
        self.snapshot: Snapshot = source.snapshot
        self.figures = Figures(source.snapshot)
        self.growth = Growth(self.window)
        self.growth.add(source.snapshot, self.figures)
        self.kstats_history = KstatsHistory(source.snapshot.kmem)
        self.free_history: deque[int] = deque([source.snapshot.kmem.free_bytes],
                                              maxlen=HISTORY)
        self.events = EventLog(source.snapshot.tick)
        self.log_events(source.snapshot)
        self.ring: SnapshotRing | None = SnapshotRing()
        self.ring.append(source.snapshot)
        self.marks: list[Snapshot] = []
        self._record(source.snapshot)
        if self.metrics is not None:
            self.metrics.watch(source)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(config.variable_defaults())

    def refresh_css(self, animate: bool = True) -> None:
        if self._css_refresh_queued:  # the one the constructor's theme queued: see there
            self._css_refresh_queued = False
            return
        super().refresh_css(animate)

    def get_driver_class(self) -> type[TerminalDriver]:
        """Textual's driver for this terminal; on Linux, one whose input thread sleeps."""
        from textual.drivers.linux_driver import LinuxDriver

        from zmtop.tui.quiet_driver import QuietDriver

        driver = super().get_driver_class()
        return QuietDriver if driver is LinuxDriver else driver

    def get_default_screen(self) -> Screen[None]:
        from zmtop.tui.screens.main import MainScreen

        return MainScreen()

    def on_mount(self) -> None:
        for problem in self._config_problems:
            self.notify(problem, severity="warning", timeout=10)
        if self.after_first_frame is not None:  # before the worker below starts
            self.call_after_refresh(self.after_first_frame)
        # A forked boot finishes its own copy of the simulation here (zmtop.cli.forked_boot).
        self.call_after_refresh(self.run_worker, self.source.prepare, name="prepare", thread=True)
        if self.autostart:
            self.start_clock()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "prepare" and event.state == WorkerState.SUCCESS:
            self._adopt_prepared()

    # Memory: bench "ui default: RSS" (ui_bench): the child's copy of the first snapshot
    # (6.7 MB at default) is not kept for the ring's depth, nor by the trends' window,
    # beside the booted one.
    def _adopt_prepared(self) -> None:
        """The source is ready (a forked boot has booted its own copy): the ring and the
        trends keep the source's own snapshot of the tick it started at, not the copy
        shown first."""
        own = self.source.snapshot
        self.growth.history.adopt(own)
        if self.ring is not None:
            self.ring.adopt(own)

    def start_clock(self) -> None:
        self.run_worker(self.driver.run(self.deliver), name="clock", group="clock",
                        exclusive=True)

    # -- snapshots --------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self.driver.paused

    @property
    def speed(self) -> float:
        return self.driver.speed

    @property
    def speed_label(self) -> str:
        """`×16`, and the ticks a second really achieved when they fall short (`×16 13/s`)."""
        achieved = self.driver.shortfall()
        short = "" if achieved is None else f" {achieved:.0f}/s"
        return f"×{self.speed:g}{short}"

    def deliver(self, snap: Snapshot) -> None:
        """Take a new snapshot (the Driver's callback, and single steps)."""
        self._record(snap)
        if self.metrics is not None:
            self.metrics.feed(snap)
        self.snapshot = snap
        self.log_events(snap)
        if not self.paused:
            self.driver.pace.tick()
        self.figures.advance(snap)
        self.growth.add(snap, self.figures)
        self.free_history.append(snap.kmem.free_bytes)
        self.kstats_history.append(snap.kmem)
        if self.ring is not None:
            self.ring.append(snap)
            self.forget_old_marks()
        with self.batch_update():
            screen = self.monitor_screen
            if screen is not None:
                screen.show_snapshot(snap)
            self.refresh_headers()

    def log_events(self, snap: Snapshot) -> None:
        """Add a shown tick's events, and the watchdog's crossings, to the event log."""
        self.events.add(snap.tick, snap.time_ns, snap.events + self.watchdog.crossings(snap))

    @property
    def monitor_screen(self) -> MonitorScreen | None:
        """The topmost screen that shows snapshots (it may sit under a modal); None while
        that one is still composing (a fast clock's tick can come first, and the screen's
        tables are then built from the app's state as it is by then), and once the app has
        begun to shut down (its screens' widgets go while a tick may still come)."""
        from zmtop.tui.screens.base import MonitorScreen

        if not self.is_running:
            return None
        screen = next((s for s in reversed(self.screen_stack) if isinstance(s, MonitorScreen)),
                      None)
        return screen if screen is not None and screen.is_mounted else None

    def refresh_headers(self) -> None:
        screen = self.monitor_screen
        if screen is not None and screen.header.is_mounted:
            screen.header.show_current()
            screen.notice.update_from(self.source)

    def _record(self, snap: Snapshot) -> None:
        """Append to the recording, if any; a write error stops it and says so, once."""
        if self.recorder is None:
            return
        from zmtop.engine.recording.format import RecordingError

        try:
            self.recorder.append(snap)
        except (RecordingError, ValueError) as error:
            self.recorder = None
            self.recording = False
            self.notify(str(error), title="Recording stopped", severity="error", timeout=10)

    def on_unmount(self) -> None:
        """Close the recording; a failure (its last keyframe) is said once the app is gone."""
        from zmtop.engine.recording.format import RecordingError

        if self.recorder is not None:
            try:
                self.recorder.close()
            except RecordingError as error:
                self.closing_error = str(error)

    def watch_recording(self) -> None:
        self.refresh_headers()

    def save_columns(self) -> None:
        """Keep the job tree's columns (the F2 chooser's, and T's) in config.toml."""
        self.settings["tree"] = {name: choice.shown()
                                 for name, choice in self.column_choices.items()}
        config.save(self.config_path, self.settings)

    def watch_theme(self, name: str) -> None:
        if self.is_running and self.settings.get("theme") != name:
            self.settings["theme"] = name
            config.save(self.config_path, self.settings)

    # -- controls ---------------------------------------------------------------------

    def action_toggle_pause(self) -> None:
        self.driver.toggle_pause()
        self.refresh_headers()

    def action_step(self) -> None:
        self.deliver(self.driver.step_once())

    def action_faster(self) -> None:
        self.driver.faster()
        self.refresh_headers()

    def action_slower(self) -> None:
        self.driver.slower()
        self.refresh_headers()

    def action_toggle_units(self) -> None:
        from zmtop.tui.screens.base import MonitorScreen

        """Sizes in their own units, then all in KiB, MiB, GiB, bytes, and round again."""
        cycle = UNIT_CYCLE
        self.unit = cycle[(cycle.index(self.unit) + 1) % len(cycle)] if self.unit in cycle else ""
        for screen in self.screen_stack:
            if isinstance(screen, MonitorScreen):
                screen.set_unit(self.unit)

    def action_next_theme(self) -> None:
        names = self.zmtop_themes
        index = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(index + 1) % len(names)]
        self.notify(f"theme {self.theme}", timeout=2)

    def show_view(self, module: str, name: str, make: Callable[[], Screen] | None = None
                  ) -> None:
        """Switch to the top-level view `name` of zmtop.tui.screens.`module` (loaded on
        first use; `make` builds it if not the bare class): views do not stack, only
        drill-downs do. One already open is brought back with its state; otherwise the
        screens over the job tree close and the view opens on it."""
        view = getattr(import_module(f"zmtop.tui.screens.{module}"), name)
        if isinstance(self.screen, view) and make is None:
            return
        stack = self.screen_stack
        if make is None and any(isinstance(s, view) for s in stack):
            while not isinstance(self.screen_stack[-1], view):
                self.pop_screen()
            return
        self.main_screen()
        self.push_screen((make or view)())

    def action_help(self) -> None:
        from zmtop.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_digest(self) -> None:
        self.show_view("digest", "DigestScreen")

    def action_watchdog(self) -> None:
        """Ask for the watchdog's threshold, then list the processes at or over it."""
        from zmtop.tui.screens.watchdog import WatchdogPrompt

        self.push_screen(WatchdogPrompt(), self.set_watchdog)

    def set_watchdog(self, mb: int | None) -> None:
        """Flag processes at or over `mb` MiB (0: off) and, when on, list them."""
        if mb is None:
            return
        self.watchdog.set(mb)
        self.watchdog.crossings(self.snapshot)  # those over it now are not crossings
        screen = self.monitor_screen
        if screen is not None:
            screen.catch_up(self.snapshot)
        if mb:
            self.show_view("watchdog", "HogsScreen")
        elif not mb:
            self.notify("watchdog off", timeout=2)

    def action_events(self) -> None:
        self.show_view("events", "EventsScreen")

    def action_leaks(self) -> None:
        self.show_view("leaks", "LeaksScreen")

    def action_kernel(self) -> None:
        self.show_view("kernel", "KernelScreen")

    def action_treemap(self) -> None:
        self.show_view("treemap", "TreemapScreen")

    def action_system_vmos(self) -> None:
        self.show_view("system_vmos", "SystemVmosScreen")

    # -- palette ----------------------------------------------------------------------

    def main_screen(self) -> MainScreen:
        """Close every screen above the job tree and return it."""
        from zmtop.tui.screens.main import MainScreen

        while not isinstance(top := self.screen_stack[-1], MainScreen):
            self.pop_screen()
        return top

    def describe_koid(self, koid: int) -> str:
        from zmtop.engine.formats.names import safe_name

        snap = self.snapshot
        for kind, table in (("job", snap.jobs), ("process", snap.processes), ("VMO", snap.vmos)):
            if koid in table:
                return f"{kind} {safe_name(table[koid].name)}"
        return f"nothing has koid {koid} at tick {snap.tick}"

    def open_process(self, koid: int, pinned: Snapshot | None = None) -> None:
        """Drill into a process: its vmaps, VMOs and handles (as of `pinned`, if given)."""
        from zmtop.tui.screens.process import ProcessScreen

        self.push_screen(ProcessScreen(koid, pinned))

    def open_vmo(self, koid: int) -> None:
        """Drill into a VMO: its clone family and the processes that hold it."""
        from zmtop.tui.screens.vmo import VmoScreen

        self.push_screen(VmoScreen(koid))

    def jump_to_koid(self, koid: int) -> None:
        """Select a job or process in the tree, or open a VMO."""
        snap = self.snapshot
        if koid in snap.jobs or koid in snap.processes:
            self.main_screen().select(koid)
        elif koid in snap.vmos:
            self.open_vmo(koid)
        else:
            self.notify(f"nothing has koid {koid} at tick {snap.tick}", severity="warning")

    def switch_scenario(self, name: str) -> None:
        """Restart on a simulated scenario (same seed and tick), keeping speed and pause."""
        from zmtop.engine.sim.simulation import Simulation

        old = self.driver
        old.stop()
        self._use_source(Simulation(name, _seed_of(self.source.info), self.tick_seconds))
        self.driver.speed, self.driver.paused = old.speed, old.paused
        self.main_screen().catch_up(self.snapshot)
        self.refresh_headers()
        if self.autostart:
            self.start_clock()
        self.notify(f"scenario {name}", timeout=2)


def _seed_of(info: SourceInfo) -> int:
    """The seed a switched-to scenario runs with: the simulation's own, else 1."""
    return 1 if info.seed is None else info.seed
