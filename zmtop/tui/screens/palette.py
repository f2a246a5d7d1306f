"""Command palette entries: jump to a koid, switch scenario or theme, pause and step."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from zmtop.tui.monitor import MonitorApp


class ZmtopCommands(Provider):
    """Commands for the monitor; typing a number offers to jump to that koid."""

    if TYPE_CHECKING:
        @property
        def app(self) -> MonitorApp: ...

    def _entries(self) -> list[tuple[str, Callable[[], object], str]]:
        from zmtop.engine.sim.scenarios import SCENARIOS

        app = self.app
        commands: list[tuple[str, Callable[[], object], str]] = [
            ("Pause / resume", app.action_toggle_pause, "stop or restart the clock (space)"),
            ("Step one tick", app.action_step, "advance the simulation once (.)"),
            ("Faster", app.action_faster, "tick more often (+)"),
            ("Slower", app.action_slower, "tick less often (-)"),
            ("Exact bytes / human sizes", app.action_toggle_units, "units toggle (u)"),
            ("All VMOs", app.action_system_vmos, "every VMO in the system (v)"),
            ("Digest", app.action_digest, "memory by bucket, as memory_monitor digests it (D)"),
            ("Watchdog MB…", app.action_watchdog,
             "flag processes at or over a size, like k zx mwd (W); or type: watchdog 32"),
            ("Kernel memory", app.action_kernel,
             "kstats graphs, kernel address space, hidden VMOs, handles (K)"),
            ("Memory map", app.action_treemap, "physical memory as a zoomable treemap (M)"),
            ("Events", app.action_events,
             "process starts and exits, OOM kills, pressure changes, watchdog (E)"),
            ("Leak suspects", app.action_leaks,
             "processes growing steadily over the window, and their VMOs (L)"),
            ("Help", app.action_help, "every key (?)"),
        ]
        if app.can_record:
            commands.append(("Record / stop recording", app.action_toggle_record,
                             "to a time-stamped file (R); or type: record FILE"))
        for name, scenario in SCENARIOS.items():
            commands.append((f"Scenario: {name}", partial(app.switch_scenario, name),
                             scenario.description or f"restart on the {name} scenario"))
        for name in app.zmtop_themes:
            commands.append((f"Theme: {name}", partial(setattr, app, "theme", name),
                             "switch the colour theme"))
        return commands

    async def discover(self) -> Hits:
        yield DiscoveryHit("Jump to koid…", self._hint, help="type a koid number")
        for name, callback, help_text in self._entries():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        number = query.strip().removeprefix("koid").strip()
        if number.isdigit():
            koid = int(number)
            yield Hit(1.0, f"Jump to koid {koid}", partial(self.app.jump_to_koid, koid),
                      help=self.app.describe_koid(koid))
        words = query.split()
        if len(words) == 2 and "watchdog".startswith(words[0].lower()) and len(words[0]) > 1:
            from zmtop.tui.screens.watchdog import parse_mb

            mb = parse_mb(words[1])
            if mb is not None:
                yield Hit(1.0, f"Watchdog at {mb} MiB" if mb else "Watchdog off",
                          partial(self.app.set_watchdog, mb), help="like k zx mwd")
        if len(words) > 1 and words[0].lower() == "record" and self.app.can_record:
            path = query.split(maxsplit=1)[1].strip()
            yield Hit(1.0, f"Record to {path}", partial(self.app.start_recording, path),
                      help="record every tick to this file; R stops")
        matcher = self.matcher(query)
        for name, callback, help_text in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)

    def _hint(self) -> None:
        self.app.notify("Open the palette and type a koid number to jump to it.")
