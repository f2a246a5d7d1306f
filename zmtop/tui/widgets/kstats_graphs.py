"""Every kstats field with its history over the session, as braille area graphs.

A Line-API widget: each field takes `rows` lines (as many as the height allows, at least
one), its label and current value on the left, the graph in the middle (two samples per
cell, four dot levels per line, newest at the right) and the visible range on the right.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from zmtop.tui.widgets.cells import size, size_width
from zmtop.tui.widgets.line_table import fit

if TYPE_CHECKING:
    from textual import getters

    from zmtop.tui.monitor import MonitorApp

BRAILLE = 0x2800
LEFT_DOTS = (0x40, 0x04, 0x02, 0x01)  # dots 7, 3, 2, 1: bottom to top
RIGHT_DOTS = (0x80, 0x20, 0x10, 0x08)  # dots 8, 6, 5, 4
LABEL_WIDTH = 7


def _levels(values: Sequence[int], dots: int) -> list[int]:
    """Each value as a height of 1..dots dots, scaled between the values' min and max."""
    low, high = min(values), max(values)
    if high == low:
        return [max(dots // 2, 1)] * len(values)
    return [1 + (v - low) * (dots - 1) // (high - low) for v in values]


def braille_graph(values: Sequence[int], width: int, rows: int) -> list[str]:
    """The last `2 * width` values as a filled area graph `rows` lines high, top line first."""
    values = list(values)[-2 * width:] if width > 0 else []
    lines = [[BRAILLE] * width for _ in range(rows)]
    if not values:
        return ["".join(map(chr, line)) for line in lines]
    levels = _levels(values, 4 * rows)
    start = 2 * width - len(values)  # right-aligned: the newest sample at the right edge
    for i, level in enumerate(levels):
        column, dots = divmod(start + i, 2)
        bits = RIGHT_DOTS if dots else LEFT_DOTS
        for row in range(rows):
            filled = min(max(level - 4 * (rows - 1 - row), 0), 4)
            for bit in bits[:filled]:
                lines[row][column] |= bit
    return ["".join(map(chr, line)) for line in lines]


class KstatsGraphs(Widget):
    """The app's per-field kstats history, drawn fresh each tick (nine fields, a few lines)."""

    if TYPE_CHECKING:
        app = getters.app(MonitorApp)

    COMPONENT_CLASSES = {"kstats-graphs--label", "kstats-graphs--value",
                         "kstats-graphs--graph", "kstats-graphs--range"}

    def __init__(self, *, unit: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self.unit = unit

    def on_mount(self) -> None:
        self.border_title = "Kernel memory"

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.refresh()

    def _s(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def _bytes(self, nbytes: int) -> str:
        return size(nbytes, self.unit)

    def render_line(self, y: int) -> Strip:
        """Fields stacked, `rows` lines each; side by side when the height cannot hold them."""
        base = self.rich_style
        width, height = self.size.width, max(self.size.height, 1)
        fields = list(self.app.kstats_history.fields.items())
        rows = max(height // len(fields), 1)
        columns = -(-len(fields) // height)
        block = width // columns
        strips = []
        for column in range(columns):
            index, row = divmod(y, rows)
            index += column * height
            if index < len(fields):
                name, values = fields[index]
                strips.append(self._block(name, values, block, rows, row, base))
        return Strip.join(strips).adjust_cell_length(width, base)

    def _block(self, name: str, values: Sequence[int], width: int, rows: int, row: int,
               base: Style) -> Strip:
        """Line `row` of one field's block: label, value, graph and (if it fits) range."""
        value_width = size_width(self.unit)
        range_width = 2 * value_width + 4
        graph_width = width - LABEL_WIDTH - value_width - range_width - 3
        if graph_width < 8:
            range_width, graph_width = -1, width - LABEL_WIDTH - value_width - 2
        if graph_width < 2:
            return Strip.blank(width, base)
        shown = list(values)[-2 * graph_width:]
        low, high = min(shown), max(shown)
        if rows == 1:
            span = f"{self._bytes(low)}–{self._bytes(high)}"
        else:
            span = {0: f"max {self._bytes(high)}", rows - 1: f"min {self._bytes(low)}"}.get(row, "")
        segments = [
            Segment(" " + fit(name if row == 0 else "", LABEL_WIDTH - 1, "left"),
                    base + self._s("kstats-graphs--label")),
            Segment(fit(self._bytes(values[-1]) if row == 0 else "", value_width, "right") + "  ",
                    base + self._s("kstats-graphs--value")),
            Segment(braille_graph(shown, graph_width, rows)[row],
                    base + self._s("kstats-graphs--graph")),
        ]
        if range_width > 0:
            segments.append(Segment(" " + fit(span, range_width, "right"),
                                    base + self._s("kstats-graphs--range")))
        return Strip(segments).adjust_cell_length(width, base)
