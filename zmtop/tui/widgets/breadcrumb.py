"""The path of screens from the job tree to the one shown: `Job tree › Kernel › VMO 1234`.

Drawn only above the job tree (where it would say just "Job tree"); clicking a step goes
back to that screen, as `esc` would, one or more times.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widget import Widget

SEPARATOR = " › "


class Breadcrumb(Widget):
    """The crumbs of the monitor screens on the stack, oldest first; the last is bold."""

    COMPONENT_CLASSES = {"breadcrumb--step", "breadcrumb--here"}

    def __init__(self) -> None:
        super().__init__()
        self._spots: list[tuple[int, int, object]] = []  # x from, x to, screen

    def on_mount(self) -> None:
        self.display = len(self._path()) > 1

    def _path(self) -> list:
        return [s for s in self.app.screen_stack if getattr(s, "crumb", "")]

    def render(self) -> Text:
        step = self.get_component_rich_style("breadcrumb--step", partial=True)
        here = self.get_component_rich_style("breadcrumb--here", partial=True)
        path = self._path()
        text = Text(" ", no_wrap=True, overflow="ellipsis")
        spots = []
        for i, screen in enumerate(path):
            if i:
                text.append(SEPARATOR, step)
            start = text.cell_len
            text.append(screen.crumb, here if i == len(path) - 1 else step)
            spots.append((start, text.cell_len, screen))
        self._spots = spots
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, screen in self._spots[:-1]:
            if start <= event.x < end:
                while self.app.screen_stack[-1] is not screen:
                    self.app.pop_screen()
                return
