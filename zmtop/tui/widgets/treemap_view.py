"""Physical memory as nested rectangles of terminal cells, zoomable, for the treemap screen.

The view shows one zoomed node: a breadcrumb line, then the node's children laid out by
engine.formats.treemap_layout (two levels: the children, and their children inside them below a
caption line; deeper inside rectangles with room). Only that much is laid out, so the cost
follows the screen, not the tree.
Each rectangle keeps its last column and row as a gap, so neighbours stay apart even when
they share a colour. The selection is one of the children (the depth-1 rectangles); its
caption line is highlighted.
"""

from __future__ import annotations

from itertools import groupby

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widget import Widget

from zmtop.engine.formats.names import safe_name
from zmtop.engine.formats.sizes import treemap_size
from zmtop.engine.formats.treemap import Node, label
from zmtop.engine.formats.treemap_layout import Tile, layout
from zmtop.tui import bindings
from zmtop.tui.widgets.line_table import fit

DEPTH = 2  # the zoomed node's children, and theirs inside them
KINDS = {"kernel": "kernel", "j": "job", "p": "process", "vmo": "vmo", "": "vmo"}
CRUMB_SEPARATOR = " › "
MIN_LABEL = 4  # narrower rectangles stay blank: a lone "…" says nothing


def kind(node: Node) -> str:
    """The colour class of a node: free memory, kernel, job, process or VMO."""
    return "free" if node.id == "kernel/free" else KINDS.get(node.type, "vmo")


def to_cells(text: str, width: int) -> list[str]:
    """`text` fitted to `width` cells, one string per cell ("" after a wide character)."""
    out: list[str] = []
    for char in fit(text, width, "left"):
        if cell_len(char) == 2:
            out += [char, ""]
        elif cell_len(char) == 0 and out:
            out[-1] += char
        else:
            out.append(char)
    return out


def neighbour(cells: list[Tile], current: Tile, dx: int, dy: int) -> Tile | None:
    """The rectangle next to `current` in a direction: overlapping ones first, then nearest."""
    best, best_score = None, None
    for c in cells:
        if c is current:
            continue
        if dx:
            gap = c.x - (current.x + current.w) if dx > 0 else current.x - (c.x + c.w)
            overlap = min(current.y + current.h, c.y + c.h) - max(current.y, c.y)
            cross = abs(2 * c.y + c.h - 2 * current.y - current.h)
        else:
            gap = c.y - (current.y + current.h) if dy > 0 else current.y - (c.y + c.h)
            overlap = min(current.x + current.w, c.x + c.w) - max(current.x, c.x)
            cross = abs(2 * c.x + c.w - 2 * current.x - current.w)
        if gap < 0:
            continue
        score = (overlap <= 0, gap, cross)
        if best_score is None or score < best_score:
            best, best_score = c, score
    return best


class TreemapView(Widget, can_focus=True):
    """A treemap.Node tree, zoomed along `path` (node ids below the root)."""

    COMPONENT_CLASSES = {
        "treemap--kernel", "treemap--free", "treemap--job", "treemap--process", "treemap--vmo",
        "treemap--gap", "treemap--selected", "treemap--crumb", "treemap--crumb-current",
        "treemap--runs",
    }
    BINDINGS = bindings.TREEMAP_VIEW

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.root: Node | None = None
        self.runs: dict[int, str] = {}  # unnamed job's koid -> what it runs (job_runs)
        self.path: list[str] = []
        self.selected: str | None = None
        self.cells: list[Tile] = []
        self._strips: list[Strip] | None = None
        self._crumbs: list[tuple[int, int, int]] = []  # x from, x to, path length

    # -- state ------------------------------------------------------------------------

    @property
    def trail(self) -> list[Node]:
        """The root and each zoomed node below it, down to the one shown."""
        nodes = [self.root] if self.root is not None else []
        for node_id in self.path:
            nodes.append(next(c for c in nodes[-1].children if c.id == node_id))
        return nodes

    @property
    def zoomed(self) -> Node | None:
        trail = self.trail
        return trail[-1] if trail else None

    @property
    def top(self) -> list[Tile]:
        """The zoomed node's children as laid out: the rectangles a selection moves among."""
        return [c for c in self.cells if c.depth == 1]

    @property
    def selected_cell(self) -> Tile | None:
        return next((c for c in self.top if c.node.id == self.selected), None)

    def set_tree(self, root: Node, runs: dict[int, str] | None = None) -> None:
        """A new tree (each snapshot): keep the zoom as deep as its nodes still exist.
        `runs` names the unnamed jobs by what they run."""
        self.root = root
        self.runs = runs or {}
        node, path = root, []
        for node_id in self.path:
            child = next((c for c in node.children if c.id == node_id), None)
            if child is None:
                break
            node = child
            path.append(node_id)
        self.path = path
        self.relayout()

    def relayout(self) -> None:
        zoomed = self.zoomed
        width, height = self.size.width, self.size.height - 1
        if zoomed is None or width < 1 or height < 1:
            self.cells = []
        else:
            self.cells = layout(zoomed, 0, 0, width, height, DEPTH)
        if self.selected_cell is None:
            top = self.top
            self.selected = top[0].node.id if top else None
        self._changed()

    def _changed(self) -> None:
        self._strips = None
        cell, zoomed = self.selected_cell, self.zoomed
        self.border_title = "Memory map"
        if cell is not None and zoomed is not None and zoomed.area:
            share = cell.node.area * 100 / zoomed.area
            self.border_subtitle = f"{self.caption(cell.node)[0]} · {share:.1f}%"
        else:
            self.border_subtitle = ""
        self.refresh()

    def runs_of(self, node: Node) -> str:
        """What an unnamed job's rectangle runs ("" for any other rectangle)."""
        return self.runs.get(node.koid, "") if node.type == "j" and not node.name else ""

    def caption(self, node: Node) -> tuple[str, str]:
        """A rectangle's `name (size)` and its name: an unnamed job's says what it runs,
        in parentheses, as the job tree does."""
        runs = self.runs_of(node)
        if runs:
            name = f"({runs})"
            return f"{name} ({treemap_size(node.area)})", name
        return safe_name(label(node)), safe_name(node.name)

    # -- keys and mouse ---------------------------------------------------------------

    def select(self, node_id: str) -> None:
        self.selected = node_id
        self._changed()

    def action_move(self, dx: int, dy: int) -> None:
        current = self.selected_cell
        if current is None:
            return
        target = neighbour(self.top, current, dx, dy)
        if target is not None:
            self.select(target.node.id)

    def action_zoom_in(self) -> None:
        cell = self.selected_cell
        if cell is not None and any(c.area > 0 for c in cell.node.children):
            self.path.append(cell.node.id)
            self.selected = None
            self.relayout()

    def zoom_out(self, levels: int = 1) -> bool:
        """Go up `levels` (selecting where we came from); False when already at the top."""
        if not self.path:
            return False
        levels = min(levels, len(self.path))
        came_from = self.path[-levels]
        del self.path[-levels:]
        self.selected = came_from
        self.relayout()
        return True

    def action_zoom_out(self) -> None:
        self.zoom_out()

    def on_resize(self) -> None:
        self.relayout()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            for start, end, depth in self._crumbs:
                if start <= offset.x < end and depth < len(self.path):
                    self.zoom_out(len(self.path) - depth)
            return
        x, y = offset.x, offset.y - 1
        hit = next((c for c in self.top if c.x <= x < c.x + c.w and c.y <= y < c.y + c.h), None)
        if hit is not None:
            self.select(hit.node.id)
            if event.chain == 2:
                self.action_zoom_in()

    # -- drawing ----------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = None

    def _style(self, *names: str) -> Style:
        style = self.rich_style
        for name in names:
            style += self.get_component_rich_style(f"treemap--{name}", partial=True)
        return style

    def render_line(self, y: int) -> Strip:
        if self._strips is None:
            self._strips = self._paint()
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def _paint(self) -> list[Strip]:
        width, height = self.size.width, self.size.height - 1
        if self.root is None or width < 1 or height < 1:
            return [Strip([Segment(fit(" laying out…", width, "left"), self.rich_style)])]
        styles = [["gap"] * width for _ in range(height)]
        chars = [[" "] * width for _ in range(height)]
        for cell in self.cells:
            self._paint_cell(cell, styles, chars)
        looks: dict[str, Style] = {}
        strips = [self._crumb_strip(width)]
        for row_styles, row_chars in zip(styles, chars):
            segments = []
            for key, run in groupby(range(width), row_styles.__getitem__):
                look = looks.get(key)
                if look is None:
                    look = looks[key] = self._style(*key.split("+"))
                segments.append(Segment("".join(row_chars[i] for i in run), look))
            strips.append(Strip(segments, width))
        return strips

    def _paint_cell(self, cell: Tile, styles: list[list[str]], chars: list[list[str]]) -> None:
        node = cell.node
        key = kind(node)
        w = cell.w - 1 if cell.w > 1 else cell.w
        h = cell.h - 1 if cell.h > 1 else cell.h
        for row in range(cell.y, cell.y + h):
            styles[row][cell.x:cell.x + w] = [key] * w
            chars[row][cell.x:cell.x + w] = [" "] * w
        if cell.depth == 1 and node.id == self.selected:
            styles[cell.y][cell.x:cell.x + w] = [f"{key}+selected"] * w
        if w < MIN_LABEL:
            return
        caption, name = self.caption(node)
        lines = [caption]
        if cell_len(caption) > w and h > 1 and not cell.nested:
            lines = [name or caption, treemap_size(node.area)]
        given = bool(self.runs_of(node))  # dimmed: a name zmtop gave it
        for row, text in zip(range(cell.y, cell.y + h), lines):
            chars[row][cell.x:cell.x + w] = to_cells(text, w)
            if given:
                styles[row][cell.x:cell.x + w] = [f"{style}+runs"
                                                  for style in styles[row][cell.x:cell.x + w]]

    def _crumb_strip(self, width: int) -> Strip:
        trail = self.trail
        crumb, current = self._style("crumb"), self._style("crumb-current")
        segments, spots, x = [], [], 0
        for depth, node in enumerate(trail):
            if depth:
                segments.append(Segment(CRUMB_SEPARATOR, crumb))
                x += len(CRUMB_SEPARATOR)
            text = self.caption(node)[0]
            segments.append(Segment(text, current if depth == len(trail) - 1 else crumb))
            spots.append((x, x + cell_len(text), depth))
            x += cell_len(text)
        self._crumbs = spots
        return Strip(segments).adjust_cell_length(width, crumb).crop(0, width)
