"""The kstats header: kernel memory counters, a usage bar, pressure, free-memory history.

It draws from the app's state (snapshot, history, paused, speed, recording) so every
screen's header shows the same tick; the lines are packed to the width, so at 80 columns
the counters simply take two lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from engine.psutils import safe_name
from engine.sizes import format_size
from engine.snapshot import Kmem

SPARKS = "▁▂▃▄▅▆▇█"
PRESSURE_CLASS = {
    "Normal": "header--pressure-normal",
    "Warning": "header--pressure-warning",
    "Critical": "header--pressure-critical",
    "Imminent-OOM": "header--pressure-imminent",
    "OOM": "header--pressure-oom",
}
BAR_PARTS = ("vmo", "heap", "wired", "other")


def kstats_fields(kmem: Kmem) -> list[tuple[str, int]]:
    """`kstats -m`'s columns, in its order."""
    return [
        ("total", kmem.total_bytes),
        ("free", kmem.free_bytes),
        ("VMOs", kmem.vmo_bytes),
        ("kheap", kmem.total_heap_bytes - kmem.free_heap_bytes),
        ("kfree", kmem.free_heap_bytes),
        ("wired", kmem.wired_bytes),
        ("mmu", kmem.mmu_overhead_bytes),
        ("ipc", kmem.ipc_bytes),
        ("other", kmem.other_bytes),
    ]


def bar_parts(kmem: Kmem) -> list[tuple[str, int]]:
    """Used memory by kind, for the bar: VMOs, kernel heap, wired, and the rest."""
    return [
        ("vmo", kmem.vmo_bytes),
        ("heap", kmem.total_heap_bytes),
        ("wired", kmem.wired_bytes),
        ("other", kmem.mmu_overhead_bytes + kmem.ipc_bytes + kmem.other_bytes),
    ]


def sparkline(values: Sequence[int], width: int) -> str:
    """The last `width` values as block characters, scaled between their min and max."""
    values = list(values)[-width:] if width > 0 else []
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARKS[3] * len(values)
    top = len(SPARKS) - 1
    return "".join(SPARKS[(v - low) * top // (high - low)] for v in values)


def uptime(time_ns: int) -> str:
    seconds = time_ns // 1_000_000_000
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class KstatsHeader(Widget):
    """Counters and state of the whole system, from the app's current snapshot."""

    COMPONENT_CLASSES = {
        "header--title",
        "header--label",
        "header--value",
        "header--paused",
        "header--recording",
        "header--spark",
        "header--bar-free",
        *(f"header--bar-{part}" for part in BAR_PARTS),
        *PRESSURE_CLASS.values(),
    }

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def render(self) -> Text:
        return Text("\n").join(self._lines(self.size.width))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh(layout=True)

    def show_current(self) -> None:
        """Repaint for the app's current state; lay out again only if the height changed."""
        self.refresh(layout=len(self._lines(self.size.width)) != self.size.height)

    def _s(self, name: str):
        return self.get_component_rich_style(name, partial=True)

    def _lines(self, width: int) -> list[Text]:
        app = self.app
        snap = app.snapshot
        width = max(width, 1)
        lines = [self._status_line(app, snap)]
        lines += self._pack(self._counter_items(snap.kmem, app.exact), width)
        lines.append(self._meter_line(snap.kmem, app.free_history, width))
        for line in lines:
            line.truncate(width, overflow="ellipsis")
        return lines

    def _status_line(self, app, snap) -> Text:
        line = Text()
        line.append(" zmtop ", self._s("header--title"))
        line.append(f" {safe_name(snap.source)}  ", self._s("header--label"))
        line.append(f"tick {snap.tick}", self._s("header--value"))
        line.append("  up ", self._s("header--label"))
        line.append(uptime(snap.time_ns), self._s("header--value"))
        line.append(f"  ×{app.speed:g}  ", self._s("header--label"))
        line.append(f" {snap.pressure} ", self._s(PRESSURE_CLASS.get(snap.pressure, "header--value")))
        if app.paused:
            line.append("  ")
            line.append(" ❚❚ PAUSED ", self._s("header--paused"))
        if app.recording:
            line.append("  ")
            line.append(" ● REC ", self._s("header--recording"))
        return line

    def _counter_items(self, kmem: Kmem, exact: bool) -> list[Text]:
        label, value = self._s("header--label"), self._s("header--value")
        items = []
        for name, nbytes in kstats_fields(kmem):
            item = Text()
            item.append(f"{name} ", label)
            item.append(format_size(nbytes, "B" if exact else "M"), value)
            items.append(item)
        return items

    @staticmethod
    def _pack(items: list[Text], width: int) -> list[Text]:
        """Lay items out left to right, two spaces apart, starting a new line when full."""
        lines: list[Text] = []
        line = Text(" ")
        for item in items:
            if line.cell_len > 1 and line.cell_len + 2 + item.cell_len > width:
                lines.append(line)
                line = Text(" ")
            elif line.cell_len > 1:
                line.append("  ")
            line.append_text(item)
        lines.append(line)
        return lines

    def _meter_line(self, kmem: Kmem, history: Sequence[int], width: int) -> Text:
        total = max(kmem.total_bytes, 1)
        used = total - kmem.free_bytes
        bar_width = max(min(40, width // 2 - 12), 4)
        line = Text(" ")
        line.append("mem ", self._s("header--label"))
        filled = 0
        for part, nbytes in bar_parts(kmem):
            cells = round(nbytes * bar_width / total)
            cells = min(max(cells, 1 if nbytes else 0), bar_width - filled)
            line.append("█" * cells, self._s(f"header--bar-{part}"))
            filled += cells
        line.append("▪" * (bar_width - filled), self._s("header--bar-free"))
        line.append(f" {used * 100 / total:4.1f}% used", self._s("header--value"))
        spark_width = width - line.cell_len - 8
        if spark_width >= 4:
            line.append("   free ", self._s("header--label"))
            line.append(sparkline(history, spark_width), self._s("header--spark"))
        return line
