"""Plain words for what an imported source lacks, and for a poll that failed.

Imported data (a capture, a memgraph) leaves out jobs, mappings, handles and more; the
engine names the gaps in `source.missing`. Panes say so where the data would appear rather
than showing zeros as facts; a failed or slow poll (`source.error`) is said until the next
poll succeeds. An OOM kill, a pressure change or a watchdog crossing is said for a few ticks
(the app's event log says which).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widget import Widget

if TYPE_CHECKING:
    from textual import getters

    from zmtop.engine.sources.source import Source
    from zmtop.tui.monitor import MonitorApp

# What a gap means, by the name engine/imports.py gives it; "{src}" is the data's kind.
GAPS = {
    "jobs": "{src} has no jobs: processes shown under a synthetic root",
    "task_stats": "{src} has no mappings: ps's PSS, PRIVATE and SHARED are not known; "
                  "A.PSS is memory_monitor's scaled share",
    "handles": "{src} has no handles",
    "threads": "{src} has no threads",
    "mappings": "{src} has no mappings",
    "via": "{src} does not say which VMOs are reached by handle",
    "names": "{src} has names longer than Zircon's 31 bytes: cut to 31",
}


def gap_text(source: Source, gap: str) -> str:
    """What a pane says instead of an empty table, or "" when the source has the data."""
    if gap not in source.missing:
        return ""
    return GAPS[gap].format(src=source.info.noun)


class SourceNotice(Widget):
    """One line per gap this screen would show, plus a failed poll; hidden when all is well."""

    if TYPE_CHECKING:
        app = getters.app(MonitorApp)

    COMPONENT_CLASSES = {"source-notice--gap", "source-notice--error", "source-notice--event"}

    def __init__(self, gaps: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.gaps = gaps
        self.lines: list[tuple[str, str]] = []
        self.display = False

    def on_mount(self) -> None:
        self.update_from(self.app.source)

    def update_from(self, source: Source) -> None:
        """Show the source's gaps, its last poll error (set, or cleared) and a recent event."""
        lines = [("source-notice--event", self.app.events.notice(self.app.snapshot.tick))]
        lines += [("source-notice--gap", gap_text(source, gap)) for gap in self.gaps]
        error = source.error
        if error:
            lines.append(("source-notice--error", f"poll failed: {error}"))
        lines = [(style, text) for style, text in lines if text]
        if lines != self.lines:
            self.lines = lines
            self.display = bool(lines)
            self.refresh(layout=True)

    def render(self) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        for i, (style, text) in enumerate(self.lines):
            out.append("\n" if i else "")
            out.append(f" {text}", self.get_component_rich_style(style, partial=True))
        return out
