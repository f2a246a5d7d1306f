"""The kstats header: kernel memory counters, a usage bar, pressure, free-memory history.

It draws from the app's state (snapshot, history, paused, speed, recording) so every
screen's header shows the same tick; the lines are packed to the width, so at 80 columns
the counters simply take two lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from zmtop.engine.formats.events import uptime
from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import Kmem, kstats_fields
from zmtop.tui.widgets.box_lines import KeptStylesCache
from zmtop.tui.widgets.cells import UNIT_NAMES, size, sparkline

if TYPE_CHECKING:
    from textual import getters

    from zmtop.tui.monitor import MonitorApp

PRESSURE_CLASS = {
    "Normal": "header--pressure-normal",
    "Warning": "header--pressure-warning",
    "Critical": "header--pressure-critical",
    "Imminent-OOM": "header--pressure-imminent",
    "OOM": "header--pressure-oom",
}
BAR_PARTS = ("vmo", "heap", "wired", "other")


def bar_parts(kmem: Kmem) -> list[tuple[str, int]]:
    """Used memory by kind, for the bar: VMOs, kernel heap, wired, and the rest."""
    return [
        ("vmo", kmem.vmo_bytes),
        ("heap", kmem.total_heap_bytes),
        ("wired", kmem.wired_bytes),
        ("other", kmem.mmu_overhead_bytes + kmem.ipc_bytes + kmem.other_bytes),
    ]


METER_BESIDE = 40  # cells the memory bar needs to share the counters' last line
Piece = tuple[str, str]  # text and its component class ("": the header's own style)


class KstatsHeader(Widget):
    """Counters and state of the whole system, from the app's current snapshot.

    Drawn with the Line API: each line is built as segments once per shown state, not
    as Rich text to be parsed again on every repaint.
    """

    if TYPE_CHECKING:
        app = getters.app(MonitorApp)

    COMPONENT_CLASSES = {
        "header--title",
        "header--label",
        "header--value",
        "header--paused",
        "header--recording",
        "header--spark",
        "header--eta",
        "header--bar-free",
        *(f"header--bar-{part}" for part in BAR_PARTS),
        *PRESSURE_CLASS.values(),
    }

    def __init__(self) -> None:
        super().__init__()
        self._styles_cache = KeptStylesCache()  # its last lines again while none changed
        self._shown: tuple[int, list[Strip]] | None = None  # (width, lines) on screen
        self._looks: dict[tuple[str, tuple[int, int] | None], Style] = {}

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._current(width))

    def render_line(self, y: int) -> Strip:
        lines = self._current(self.size.width)
        return lines[y] if y < len(lines) else Strip.blank(self.size.width, self._look(""))

    @property
    def text(self) -> str:
        """What the header says, one line per row."""
        return "\n".join(line.text.rstrip() for line in self._current(self.size.width))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._shown = None
        self._looks.clear()
        self.refresh(layout=True)

    def show_current(self) -> None:
        """Repaint for the app's current state (every change of what the header shows
        comes through here): the lines that changed; lay out again if the height did."""
        before, self._shown = self._shown, None
        width, height = self.size
        lines = self._current(width)
        if len(lines) != height:
            self.refresh(layout=True)
        elif before is None or before[0] != max(width, 1):
            self.refresh()
        else:
            # Speed: bench "ui default: CPU at 1 s ticks" (ui_bench): a tick moves the tick
            # count and some figures, not always every line.
            changed = [y for y, (old, new) in enumerate(zip(before[1], lines)) if old != new]
            if changed:
                self.refresh(*(Region(0, y, width, 1) for y in changed))

    def _current(self, width: int) -> list[Strip]:
        """The lines built at the last `show_current`, however often layout and rendering
        ask for them."""
        width = max(width, 1)
        if self._shown is None or self._shown[0] != width:
            lines = self._lines(width)
            self._shown = (width, [self._strip(line, width, y) for y, line in enumerate(lines)])
        return self._shown[1]

    def _look(self, name: str, offset: tuple[int, int] | None = None) -> Style:
        """A piece's style, with the offset Textual's selection reads when given; kept
        until the styles change (pieces move a few places, but the keep is bounded)."""
        key = (name, offset)
        look = self._looks.get(key)
        if look is None:
            if len(self._looks) > 1024:
                self._looks.clear()
            look = self.rich_style
            if name:
                look += self.get_component_rich_style(name, partial=True)
            if offset is not None:
                look += Style.from_meta({"offset": offset})
            self._looks[key] = look
        return look

    def _strip(self, pieces: list[Piece], width: int, y: int) -> Strip:
        """Line `y` as segments, padded to `width`, or cut to it with an ellipsis in the
        style of the piece it replaces. Each piece carries its offset, as Textual's text
        does, for selection (and so that like-styled pieces stay apart, as before)."""
        look = self._look
        cut = sum(cell_len(text) for text, _ in pieces) > width
        segments = []
        used = x = 0
        for text, name in pieces:
            if not text:
                continue
            length = cell_len(text)
            last = cut and used + length >= width
            if last:
                text = set_cell_size(text, width - 1 - used) + "…"
            segments.append(Segment(text, look(name, (x, y))))
            if last:
                return Strip(segments, width)
            used += length
            x += len(text)
        if used < width:  # padded as Textual pads text: the background alone
            segments.append(Segment(" " * (width - used), Style(bgcolor=look("").bgcolor)))
        return Strip(segments, width)

    def _lines(self, width: int) -> list[list[Piece]]:
        app = self.app
        snap = app.snapshot
        lines = [self._status_line(app, snap)]
        lines += self._pack(self._counter_items(snap.kmem, app.unit), width)
        room = width - sum(cell_len(text) for text, _ in lines[-1]) - 2
        if len(lines) > 2 and room >= METER_BESIDE:  # a narrow terminal keeps a row
            lines[-1] += [("  ", "")] + self._meter_line(snap.kmem, app.free_history, room)[1:]
        else:
            lines.append(self._meter_line(snap.kmem, app.free_history, width))
        return lines

    @staticmethod
    def _status_line(app, snap) -> list[Piece]:
        line = [
            (" zmtop ", "header--title"),
            (f" {safe_name(snap.source)}  ", "header--label"),
            (f"tick {snap.tick}", "header--value"),
            ("  up ", "header--label"),
            (uptime(snap.time_ns), "header--value"),
            (f"  {app.speed_label}  ", "header--label"),
            *([(f"{UNIT_NAMES[app.unit]}  ", "header--label")] if app.unit else []),
            (f" {snap.pressure} ", PRESSURE_CLASS.get(snap.pressure, "header--value")),
        ]
        eta = app.growth.eta()
        if eta:
            line += [("  ", ""), (eta, "header--eta")]
        if app.paused:
            line += [("  ", ""), (" ❚❚ PAUSED ", "header--paused")]
        if app.recording:
            line += [("  ", ""), (" ● REC ", "header--recording")]
        return line

    @staticmethod
    def _counter_items(kmem: Kmem, unit: str) -> list[list[Piece]]:
        return [[(f"{name} ", "header--label"), (size(nbytes, unit or "M"), "header--value")]
                for name, nbytes in kstats_fields(kmem)]

    @staticmethod
    def _pack(items: list[list[Piece]], width: int) -> list[list[Piece]]:
        """Lay items out left to right, two spaces apart, starting a new line when full."""
        lines: list[list[Piece]] = []
        line: list[Piece] = [(" ", "")]
        used = 1
        for item in items:
            length = sum(cell_len(text) for text, _ in item)
            if used > 1 and used + 2 + length > width:
                lines.append(line)
                line, used = [(" ", "")], 1
            elif used > 1:
                line.append(("  ", ""))
                used += 2
            line += item
            used += length
        lines.append(line)
        return lines

    @staticmethod
    def _meter_line(kmem: Kmem, history: Sequence[int], width: int) -> list[Piece]:
        total = max(kmem.total_bytes, 1)
        used = total - kmem.free_bytes
        bar_width = max(min(40, width // 2 - 12), 4)
        line = [(" ", ""), ("mem ", "header--label")]
        filled = 0
        for part, nbytes in bar_parts(kmem):
            cells = round(nbytes * bar_width / total)
            cells = min(max(cells, 1 if nbytes else 0), bar_width - filled)
            line.append(("█" * cells, f"header--bar-{part}"))
            filled += cells
        line.append(("▪" * (bar_width - filled), "header--bar-free"))
        line.append((f" {used * 100 / total:4.1f}% used", "header--value"))
        spark_width = width - sum(cell_len(text) for text, _ in line) - 8
        if spark_width >= 4:
            line.append(("   free ", "header--label"))
            line.append((sparkline(history, spark_width), "header--spark"))
        return line
