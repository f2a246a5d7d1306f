"""Textual's own floor, for floor_bench: the least a Textual app does that shows what the
monitor shows, with no simulation and no view models behind it.

`python -m benchmarks.floor_app hello`: one Static (the first frame of any Textual app).
`python -m benchmarks.floor_app table ROWS`: the monitor's layout (a 3-line header, a table
in a round border filling the screen, a footer line) that each second repaints the header
and ROWS table rows through the Line API, on zmtop's own terminal driver.
"""

from __future__ import annotations

import sys

from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from zmtop.tui.quiet_driver import QuietDriver

HEADER_LINES = 3  # as .header is high
NAME_CELLS = 40  # a row: its name, then eight figures
NAME = Style(color="bright_white", bold=True)
FIGURE = Style(color="green")


class Lines(Widget):
    """Lines of text that change with `tick`; `repaint` refreshes `count` of them."""

    def __init__(self, classes: str) -> None:
        super().__init__(classes=classes)
        self.tick = 0

    def repaint(self, count: int) -> None:
        self.tick += 1
        width, height = self.size
        for i in range(count):
            self.refresh(Region(0, (self.tick * 7 + i * 3) % max(1, height), width, 1))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        figures = "".join(f"{(self.tick * (y + column + 1)) % 99_991:>12,}" for column in range(8))
        text = (f" TASK {y:5d}  component-{y:03d}.cm".ljust(NAME_CELLS) + figures)[:width]
        text = text.ljust(width)
        return Strip([Segment(text[:NAME_CELLS], NAME), Segment(text[NAME_CELLS:], FIGURE)])


class Floor(App[None]):
    CSS = """
    .header { background: $panel; height: 3; }
    .table { border: round $primary; height: 1fr; }
    """

    def __init__(self, mode: str, rows: int) -> None:
        super().__init__(driver_class=QuietDriver)
        self.mode, self.rows = mode, rows

    def compose(self) -> ComposeResult:
        if self.mode == "hello":
            yield Static("TASK hello")
            return
        yield Lines("header")
        yield Lines("table")
        yield Static("q Quit  s Sort  / Search")

    def on_mount(self) -> None:
        if self.mode != "hello":
            self.set_interval(1.0, self.step)

    def step(self) -> None:
        header, table = self.query(Lines)
        header.repaint(HEADER_LINES if self.rows else 0)
        table.repaint(self.rows)


if __name__ == "__main__":
    Floor(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0).run()
