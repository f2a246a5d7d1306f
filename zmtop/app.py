"""The live monitor: consumes snapshots from the engine's Driver and shows them.

The app owns the view state shared by every screen (current snapshot, job-tree figures,
free-memory history, units); the Driver owns the clock and steps any source (simulation,
poll, replay). Each snapshot is applied inside `batch_update()` to the top monitor screen
only; screens underneath catch up when they come back. Start-up imports stay lean:
screens other than the job tree load on first use.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from engine.driver import Driver, Source
from engine.snapshot import Snapshot
from zmtop import config
from zmtop.kstats_history import KstatsHistory
from zmtop.recording import RecordingControls
from zmtop.watchdog import Watchdog
from zmtop.widgets.task_rows import Figures

HISTORY = 512  # free-memory samples kept for the sparkline


class UnknownTheme(ValueError):
    pass


def _palette():
    from zmtop.screens.palette import ZmtopCommands

    return ZmtopCommands


class ZmtopApp(RecordingControls, App):
    """htop for Zircon memory. `autostart=False` leaves the clock off so tests step by hand."""

    CSS_PATH = str(config.THEMES_DIR / "zmtop.tcss")
    TITLE = "zmtop"
    COMMANDS = App.COMMANDS | {_palette}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("space", "toggle_pause", "Pause", id="app.pause"),
        Binding("full_stop", "step", "Step", id="app.step"),
        Binding("plus,equals_sign", "faster", "Faster", show=False, id="app.faster"),
        Binding("minus", "slower", "Slower", show=False, id="app.slower"),
        Binding("u", "toggle_units", "Units", show=False, id="app.units"),
        Binding("t", "next_theme", "Theme", show=False, id="app.theme"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("D", "digest", "Digest", show=False, id="app.digest"),
        Binding("W", "watchdog", "Watchdog", show=False, id="app.watchdog"),
        Binding("K", "kernel", "Kernel", show=False, id="app.kernel"),
        Binding("M", "treemap", "Memory map", show=False, id="app.treemap"),
    ]

    recording: reactive[bool] = reactive(False)
    """True while a recorder is open (`--record`, `R`); the header shows it."""

    def __init__(self, source: Source, tick_seconds: float = 1.0, theme: str | None = None,
                 *, autostart: bool = True, config_path: Path | None = None,
                 recorder=None) -> None:
        super().__init__()
        themes = config.load_themes()
        for t in themes:
            self.register_theme(t)
        self.zmtop_themes = [t.name for t in themes]
        self.config_path = config_path
        self.settings = config.load(config_path)
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
        self.exact = False
        self.recorder = recorder
        self.watchdog = Watchdog()
        self.set_reactive(ZmtopApp.recording, recorder is not None)
        self._use_source(source)

    def _use_source(self, source: Source) -> None:
        """Take a source: a new clock, figures and history."""
        self.source = source
        self.driver = Driver(source, self.tick_seconds)
        self.snapshot: Snapshot = source.snapshot
        self.figures = Figures(source.snapshot)
        self.kstats_history = KstatsHistory(source.snapshot.kmem)
        self.free_history: deque[int] = deque([source.snapshot.kmem.free_bytes],
                                              maxlen=HISTORY)
        self._record(source.snapshot)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(config.variable_defaults())

    def refresh_css(self, animate: bool = True) -> None:
        if self._css_refresh_queued:  # the one the constructor's theme queued: see there
            self._css_refresh_queued = False
            return
        super().refresh_css(animate)

    def get_default_screen(self) -> Screen:
        from zmtop.screens.main import MainScreen

        return MainScreen()

    def on_mount(self) -> None:
        prepare = getattr(self.source, "prepare", None)  # see zmtop.forked_boot
        if prepare is not None:
            self.call_after_refresh(self.run_worker, prepare, name="prepare", thread=True)
        if self.autostart:
            self.start_clock()

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

    def deliver(self, snap: Snapshot) -> None:
        """Take a new snapshot (the Driver's callback, and single steps)."""
        self._record(snap)
        self.snapshot = snap
        self.figures.advance(snap)
        self.free_history.append(snap.kmem.free_bytes)
        self.kstats_history.append(snap.kmem)
        with self.batch_update():
            screen = self.monitor_screen
            if screen is not None:
                screen.show_snapshot(snap)
            self.refresh_headers()

    @property
    def monitor_screen(self):
        """The topmost screen that shows snapshots (it may sit under a modal)."""
        from zmtop.screens.base import MonitorScreen

        return next((s for s in reversed(self.screen_stack) if isinstance(s, MonitorScreen)),
                    None)

    def refresh_headers(self) -> None:
        screen = self.monitor_screen
        if screen is not None and screen.header.is_mounted:
            screen.header.show_current()
            screen.notice.update_from(self.source)

    def _record(self, snap: Snapshot) -> None:
        """Append to the recording, if any; a write error stops it and says so, once."""
        if self.recorder is None:
            return
        from engine.record import RecordingError

        try:
            self.recorder.append(snap)
        except (RecordingError, ValueError) as error:
            self.recorder = None
            self.recording = False
            self.notify(str(error), title="Recording stopped", severity="error", timeout=10)

    def on_unmount(self) -> None:
        if self.recorder is not None:
            self.recorder.close()

    def watch_recording(self) -> None:
        self.refresh_headers()

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
        from zmtop.screens.base import MonitorScreen

        self.exact = not self.exact
        for screen in self.screen_stack:
            if isinstance(screen, MonitorScreen):
                screen.set_exact(self.exact)

    def action_next_theme(self) -> None:
        names = self.zmtop_themes
        index = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(index + 1) % len(names)]
        self.notify(f"theme {self.theme}", timeout=2)

    def action_help(self) -> None:
        from zmtop.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_digest(self) -> None:
        from zmtop.screens.digest import DigestScreen

        if not isinstance(self.screen, DigestScreen):
            self.push_screen(DigestScreen())

    def action_watchdog(self) -> None:
        """Ask for the watchdog's threshold, then list the processes at or over it."""
        from zmtop.screens.watchdog import WatchdogPrompt

        self.push_screen(WatchdogPrompt(), self.set_watchdog)

    def set_watchdog(self, mb: int | None) -> None:
        """Flag processes at or over `mb` MiB (0: off) and, when on, list them."""
        from zmtop.screens.watchdog import HogsScreen

        if mb is None:
            return
        self.watchdog.set(mb)
        screen = self.monitor_screen
        if screen is not None:
            screen.catch_up(self.snapshot)
        if mb and not isinstance(self.screen, HogsScreen):
            self.push_screen(HogsScreen())
        elif not mb:
            self.notify("watchdog off", timeout=2)

    def action_kernel(self) -> None:
        from zmtop.screens.kernel import KernelScreen

        if not isinstance(self.screen, KernelScreen):
            self.push_screen(KernelScreen())

    def action_treemap(self) -> None:
        from zmtop.screens.treemap import TreemapScreen

        if not isinstance(self.screen, TreemapScreen):
            self.push_screen(TreemapScreen())

    def action_system_vmos(self) -> None:
        from zmtop.screens.system_vmos import SystemVmosScreen

        if not isinstance(self.screen, SystemVmosScreen):
            self.push_screen(SystemVmosScreen())

    # -- palette ----------------------------------------------------------------------

    def main_screen(self):
        """Close every screen above the job tree and return it."""
        from zmtop.screens.main import MainScreen

        while not isinstance(self.screen_stack[-1], MainScreen):
            self.pop_screen()
        return self.screen_stack[-1]

    def describe_koid(self, koid: int) -> str:
        from engine.names import safe_name

        snap = self.snapshot
        for kind, table in (("job", snap.jobs), ("process", snap.processes), ("VMO", snap.vmos)):
            if koid in table:
                return f"{kind} {safe_name(table[koid].name)}"
        return f"nothing has koid {koid} at tick {snap.tick}"

    def jump_to_koid(self, koid: int) -> None:
        """Select a job or process in the tree, or open a VMO."""
        snap = self.snapshot
        if koid in snap.jobs or koid in snap.processes:
            self.main_screen().select(koid)
        elif koid in snap.vmos:
            from zmtop.screens.vmo import VmoScreen

            self.push_screen(VmoScreen(koid))
        else:
            self.notify(f"nothing has koid {koid} at tick {snap.tick}", severity="warning")

    def switch_scenario(self, name: str) -> None:
        """Restart on a simulated scenario (same seed and tick), keeping speed and pause."""
        from engine.simulation import Simulation

        old = self.driver
        old.stop()
        self._use_source(Simulation(name, getattr(self.source, "seed", 1), self.tick_seconds))
        self.driver.speed, self.driver.paused = old.speed, old.paused
        self.main_screen().catch_up(self.snapshot)
        self.refresh_headers()
        if self.autostart:
            self.start_clock()
        self.notify(f"scenario {name}", timeout=2)


def run_app(source: Source, tick_seconds: float = 1.0, theme: str | None = None, *,
            record: str | None = None, replay=None) -> None:
    """Run the monitor until the user quits (the CLI's entry point).

    `record` names a file to record every shown tick to. `replay` is the Recording behind
    a replay source: the monitor then runs as a ReplayApp (timeline, seeking, diff).
    """
    from zmtop.errors import CliError

    recorder = None
    if record is not None:
        from engine.record import Metadata, Recorder, RecordingError

        try:
            recorder = Recorder(record, Metadata.for_source(source))
        except RecordingError as error:
            raise CliError(str(error)) from None
    try:
        if replay is not None:
            from zmtop.replay_app import ReplayApp

            app = ReplayApp(source, tick_seconds=tick_seconds, theme=theme,
                            config_path=config.default_path())
        else:
            app = ZmtopApp(source, tick_seconds=tick_seconds, theme=theme,
                           config_path=config.default_path(), recorder=recorder)
    except UnknownTheme as error:
        if recorder is not None:
            recorder.close()
        raise CliError(str(error)) from None
    app.run()
