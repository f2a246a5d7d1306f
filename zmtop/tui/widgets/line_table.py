"""A table drawn with Textual's Line API: only the visible lines are ever rendered.

Subclasses give the row keys (`rebuild`) and each row's cells (`cells`); the table keeps
the cursor on its key when rows move, sorts on a key or a header click, searches, and
caches rendered lines. It remembers the cells painted on each screen line, so a tick
repaints only the lines whose text changed.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Self, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from zmtop.tui import bindings
from zmtop.tui.widgets.box_lines import BoxStylesCache

if TYPE_CHECKING:
    from textual import getters

    from zmtop.tui.monitor import MonitorApp


# Rendered lines kept for reuse: two screens of the table (at least CACHED_LINES), enough for
# the cursor and a page back and forth; a tick repaints only the lines it changed. A line
# holds its cells and a Strip with caches of its own, about 4 KB: 256 of them, filled within
# half a minute of ticks changing rows, held 0.8 MB more than these at default. Memory: bench
# "ui default: RSS" (ui_bench).
CACHED_LINES = 64


class Column(NamedTuple):
    key: str
    title: str
    width: int  # 0: the one flexible column, which takes the remaining width
    align: str = "right"
    descending: bool = True  # sorts largest first on its first press
    optional: bool = False  # dropped when the table is too narrow for every column


class Frame(NamedTuple):
    """What every line of one repaint shares (see `LineTable.render_lines`)."""

    scroll_x: int
    scroll_y: int
    width: int  # the content's
    total: int  # a line's: the width, or the columns' if wider (scrolled sideways)
    base: Style  # the widget's own look


class Cell(NamedTuple):
    text: str
    style: str = ""  # a component class name, or "" for the row's own style


FLEX_MIN = 16  # the flexible column's width that other columns give way to
FLEX_FLOOR = 5  # and its least, once only the first column is left: `NAME▲`

K = TypeVar("K", bound=Hashable)  # a table's row key


def counted(count: int, noun: str, plural: str = "") -> str:
    """`1 row`, `2,048 rows`: a count and its noun, plural unless the count is one."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def span(column: Column) -> int:
    """The cells a fixed column takes: its width, or its title and a sort arrow if wider."""
    return max(column.width, cell_len(column.title) + 1)


def spans(text: str, needle: str) -> list[tuple[int, int]]:
    """Where a search's `needle` (case-folded) shows in `text`: (start, end) of each match,
    each counted from the end of the one before."""
    folded = text.casefold()
    if len(folded) != len(text):  # a letter folds to several: mark the whole text
        return [(0, len(text))] if needle in folded else []
    out, at = [], 0
    while (found := folded.find(needle, at)) >= 0:
        out.append((found - at, found - at + len(needle)))
        at = found + len(needle)
    return out


def fit(text: str, width: int, align: str) -> str:
    """Pad or cut `text` to exactly `width` cells; cut text ends in an ellipsis."""
    # Speed: bench "ui default: CPU at 1 s ticks" (ui_bench): printable ASCII, most cells,
    # takes a cell a character, without Rich's lookup.
    length = len(text) if text.isascii() and text.isprintable() else cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…" if width > 0 else ""
    pad = " " * (width - length)
    return pad + text if align == "right" else text + pad


class LineTable(ScrollView, Generic[K], can_focus=True):
    """Rows by key, a pinned header line, a cursor that follows its key."""

    if TYPE_CHECKING:
        app = getters.app(MonitorApp)

    COMPONENT_CLASSES = {
        "line-table--header",
        "line-table--header-sorted",
        "line-table--cursor",
        "line-table--cursor-blurred",
        "line-table--match",
        "line-table--dim",
        "line-table--strong",
        "line-table--rise",
        "line-table--fall",
    }
    BINDINGS = bindings.LINE_TABLE
    filterable = False  # whether the filter prompt (\ or f) narrows this table's rows
    filter_text = ""  # the filter's text, in a filterable table (see `set_filter`)
    _border_only = False  # whether a repaint asked for is of the bottom border alone
    _frame: Frame | None = None  # within `render_lines`, the `Frame` every line shares
    _dragging = False  # whether the mouse holds the scroll thumb (see `on_mouse_down`)

    class Chosen(Message):
        """Enter (or a double click) on a row."""

        def __init__(self, table: LineTable[Any], key: Any) -> None:
            super().__init__()
            self.table = table
            self.key = key  # of the table's key type: a handler narrows by the table

        @property
        def control(self) -> LineTable[Any]:
            return self.table

    def __init__(self, columns: Sequence[Column], *, sort: str, title: str = "",
                 id: str | None = None) -> None:
        super().__init__(id=id)
        # a content line's border sides worked out once a repaint, and the scroll thumb
        self._box = self._styles_cache = BoxStylesCache()
        self.columns = tuple(columns)
        self.sort_key = sort
        self.sort_reverse = False
        self.keys: list[K] = []
        self.cursor = 0
        self.needle = ""  # the search text, highlighted in matching rows
        self.title = title
        self.empty_text = ""  # said in place of rows when there are none (e.g. a data gap)
        self._cache: LRUCache[tuple, Strip] = LRUCache(CACHED_LINES)
        self._columns_cache: tuple[int, list[tuple[int, Column, int]]] | None = None
        self._looks: dict[tuple[str, str, bool], Style] = {}  # see `_look`
        # screen line -> (row key, cells) drawn there, and to draw there
        self._painted: dict[int, tuple[K, tuple[Cell, ...]]] = {}
        self._fresh: dict[int, tuple[K, tuple[Cell, ...]]] = {}
        self._clicked: K | None = None  # the row a click chose: a double click opens it
        self._update_titles()

    # -- for subclasses -----------------------------------------------------------------

    def rebuild(self) -> None:
        """Recompute the row keys (sorted, filtered) and pass them to `set_keys`."""
        raise NotImplementedError

    def cells(self, key: K) -> Sequence[Cell]:
        raise NotImplementedError

    def search_text(self, key: K) -> str:
        """What a search looks in, lower case."""
        raise NotImplementedError

    def subtitle(self) -> str:
        return counted(len(self.keys), "row")

    def set_unit(self, unit: str) -> None:
        """Show sizes in `unit` (see `cells.size`)."""
        raise NotImplementedError

    def set_filter(self, text: str) -> None:
        """Keep the rows that match `text` (a filterable table only)."""
        raise NotImplementedError

    # -- rows and cursor --------------------------------------------------------------

    @property
    def cursor_key(self) -> K | None:
        return self.keys[self.cursor] if self.keys else None

    def index_of(self, key: K) -> int | None:
        """The row of a key (a C-speed scan: cheaper than keeping an index per rebuild)."""
        try:
            return self.keys.index(key)
        except ValueError:
            return None

    def set_keys(self, keys: list[K], *, repaint: bool = True) -> None:
        """Show new rows, keeping the cursor on its key (or its place if the key went).
        `repaint=False` (a tick that only moved rows): repaint only the lines that changed."""
        old = self.cursor_key
        self.keys = keys
        index = self.index_of(old) if old is not None else None
        self.cursor = index if index is not None else min(self.cursor, max(len(keys) - 1, 0))
        self._resize()
        self._update_titles()
        self.scroll_to_cursor()
        if repaint:
            self.refresh()
        else:  # Speed: bench "ui scale: all-in tick (...)" (ui_bench)
            self.refresh_changed()

    def refresh_changed(self) -> None:
        """Repaint only the visible lines whose cells differ from those painted there: a
        tick that moved a few values costs those lines, not the whole pane."""
        region = self.scrollable_content_region
        top = round(self.scroll_y)
        keys, painted, cells = self.keys, self._painted, self.cells
        end = min(region.height, len(keys) - top + 1)  # the lines below show no row
        fresh = {}
        for y in range(1, end):
            key = keys[top + y - 1]
            row = (key, tuple(cells(key)))
            if painted.get(y) != row:
                fresh[y] = row
        gone = [y for y in painted if y >= end]  # rows that went: their lines go blank
        for y in gone:
            del painted[y]
        lines = [*fresh, *(y for y in gone if y < region.height)]
        if lines:
            self.refresh(*(Region(0, y, region.width, 1) for y in lines))
        self._fresh = fresh  # drawn as they are unless something repaints the whole pane

    def refresh(self, *regions: Region, **kwargs) -> Self:
        if not regions:
            # Speed: bench "ui default: CPU at 1 s ticks" (ui_bench): Textual repaints the
            # whole pane for a new subtitle, which only the bottom border shows.
            if self._border_only and self.is_mounted:
                return super().refresh(self._bottom_border(), **kwargs)
            self._fresh = {}
        return super().refresh(*regions, **kwargs)

    def move_to(self, key: K) -> bool:
        index = self.index_of(key)
        if index is None:
            return False
        self.cursor = index
        self.scroll_to_cursor()
        self.refresh()
        return True

    def scroll_to_cursor(self) -> None:
        rows = max(self.scrollable_content_region.height - 1, 1)
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False)

    def _resize(self) -> None:
        first = self.columns[0]
        needed = span(first) + 1 if first.width else 0  # what `_layout` never drops
        size = Size(needed + FLEX_FLOOR, len(self.keys) + 1)
        if size == self.virtual_size:
            return
        # Speed: bench "ui default: CPU at 1 s ticks" (ui_bench): rows that come or go move
        # the thumb only, where setting `virtual_size` lays out and repaints the whole
        # screen; a scrollbar that appears or goes still lays it out (Textual's own check).
        thumb = self._thumb()
        self.set_reactive(LineTable.virtual_size, size)
        if self.is_mounted:
            self._scroll_update(size)  # shows the scrollbars the wheel scrolls by, and the
            self._refresh_thumb(thumb)  # scroll kept in range (which repaints if it moves)

    # Speed: the thumb in the border, not a scrollbar widget: that cut each line of the pane
    # in two for the compositor; bench: "ui default: a whole repaint of the tree (End, Home),
    # CPU, median" (ui_bench), 11.8-12.6 ms with it, 6.5-7.5 without.
    def _thumb(self) -> range:
        """The content lines whose right border shows the scroll thumb: none while every
        row shows."""
        lines, hidden = self.scrollable_content_region.height, self.max_scroll_y
        if not hidden or lines <= 0:
            return range(0)
        length = max(1, round(lines * lines / (lines + hidden)))
        start = round((lines - length) * min(self.scroll_y, hidden) / hidden)
        return range(start, start + length)

    def _refresh_thumb(self, before: range) -> None:
        """Repaint the right border's cells whose thumb came or went since `before`."""
        after = self._thumb()
        if after != before:
            x = self.scrollable_content_region.width  # the right border, as `refresh` counts
            self.refresh(*(Region(x, y, 1, 1) for y in set(before) ^ set(after)))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """As ScrollView's, less the scrollbar widget's repaint: it has no column, and the
        thumb is in the border, which the view's repaint draws."""
        if round(old_value) != round(new_value):
            self.refresh(self.size.region)

    def _layout(self, width: int) -> list[tuple[int, Column, int]]:
        """(index, column, width) of each shown column; the flexible one takes the rest.

        While the width cannot hold them all, fixed columns go, the optional ones first,
        each time the rightmost: the first column and the flexible one (the name) stay,
        the name narrowing to what is left. Only a pane too narrow for those two scrolls
        sideways.
        """
        cached = self._columns_cache
        if cached is not None and cached[0] == width:
            return cached[1]
        shown = list(enumerate(self.columns))
        fixed = [i for i, c in reversed(shown) if c.width and i]
        for i in sorted(fixed, key=lambda i: not self.columns[i].optional):
            if sum(span(c) + 1 for _, c in shown if c.width) + FLEX_MIN <= width:
                break
            shown = [(j, c) for j, c in shown if j != i]
        flex = max(width - sum(span(c) + 1 for _, c in shown if c.width), FLEX_FLOOR)
        layout = [(i, c, span(c) if c.width else flex) for i, c in shown]
        self._columns_cache = (width, layout)
        return layout

    def set_columns(self, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)
        self._columns_cache = None
        self._cache.clear()
        self._resize()
        self.refresh()

    # -- drawing ----------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._looks.clear()

    def on_resize(self) -> None:
        lines = max(CACHED_LINES, 2 * self.size.height)
        if lines > self._cache.maxsize:  # a new cache: Textual's, once full, never grows
            self._cache = LRUCache(lines)
        self.scroll_to_cursor()

    # Speed: the `Frame` measured once a repaint, not a line: the content region alone takes
    # 6 us to work out; bench "ui default: CPU at 1 s ticks" (ui_bench).
    def render_lines(self, crop: Region) -> list[Strip]:
        self._frame = self._measure()
        self._box.thumb = self._thumb()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _measure(self) -> Frame:
        """What every line of a repaint now shares."""
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        return Frame(scroll_x, scroll_y, width, max(width, self.virtual_size.width),
                     self._look())

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y, width, total, base = self._frame or self._measure()
        if y == 0:
            strip = self._header_strip(total, base)
        else:
            index = scroll_y + y - 1
            if index == 0 and not self.keys and self.empty_text:
                self._painted.pop(y, None)
                dim = self._look("line-table--dim")
                return Strip([Segment(fit(f" {self.empty_text}", width, "left"), dim)])
            if index >= len(self.keys):
                self._painted.pop(y, None)
                return Strip.blank(width, base)
            strip = self._row_strip(index, y, total)
        if scroll_x == 0 and strip.cell_length == width:
            return strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def _look(self, name: str = "", cursor: str = "", matched: bool = False) -> Style:
        """The widget's style plus a cell's component style, the cursor and the search
        match (over the cursor, so the cursor's row shows it), combined once per style
        update rather than once per cell."""
        key = (name, cursor, matched)
        look = self._looks.get(key)
        if look is None:
            look = self.rich_style
            for part, wanted in ((name, name), (cursor, cursor),
                                 ("line-table--match", matched)):
                if wanted:
                    look += self._style(part)
            # equal looks are one object: a row's runs merge by identity (`_row_strip`)
            look = next((seen for seen in self._looks.values() if seen == look), look)
            self._looks[key] = look
        return look

    def _header_strip(self, total: int, base: Style) -> Strip:
        key = ("header", total, self.sort_key, self.sort_reverse)
        strip = self._cache.get(key)
        if strip is None:
            header = base + self._style("line-table--header")
            sorted_style = header + self._style("line-table--header-sorted")
            segments = []
            for _, column, width in self._layout(total):
                title = column.title
                style = header
                if column.key == self.sort_key:
                    arrow = "▲" if self._ascending(column) else "▼"
                    title += arrow  # the column's span leaves it room
                    style = sorted_style
                segments += [Segment(fit(title, width, column.align), style), Segment(" ", header)]
            strip = Strip(segments).extend_cell_length(total, header)
            self._cache[key] = strip
        return strip

    def _row_strip(self, index: int, y: int, total: int) -> Strip:
        row_key = self.keys[index]
        fresh = self._fresh.pop(y, None)
        cells = fresh[1] if fresh and fresh[0] == row_key else tuple(self.cells(row_key))
        self._painted[y] = (row_key, cells)
        at_cursor = index == self.cursor
        needle = self.needle
        matched = bool(needle) and needle in self.search_text(row_key)
        key = (cells, at_cursor and self.has_focus, at_cursor, needle if matched else "", total)
        strip = self._cache.get(key)
        if strip is None:
            cursor = ""
            if at_cursor:
                cursor = "line-table--cursor" if self.has_focus else "line-table--cursor-blurred"
            look = self._look
            gap = look("", cursor)
            runs: list[list] = []  # [text, style]: one segment per run of a style

            def add(text: str, style: Style) -> None:
                if not text:
                    return
                if runs and runs[-1][1] is style:  # one object per look (`_look`)
                    runs[-1][0] += text
                else:
                    runs.append([text, style])

            layout = self._layout(total)
            # The match is marked where it shows, in the first column (a koid) or the
            # flexible one (a name); a row that matched on something else marks its name.
            searched = {i for i, column, _ in layout if i == 0 or not column.width}
            marked = matched and any(needle in cells[i].text.casefold() for i in searched)
            length = 0
            for i, column, width in layout:
                cell = cells[i]
                text = fit(cell.text, width, column.align)
                if marked and i in searched:
                    plain, mark = look(cell.style, cursor), look(cell.style, cursor, True)
                    for start, end in spans(text, needle):
                        add(text[:start], plain)
                        add(text[start:end], mark)
                        text = text[end:]
                    add(text, plain)
                else:
                    add(text, look(cell.style, cursor, matched and not marked
                                   and not column.width))
                add(" ", gap)
                length += width + 1
            if length > total:  # a flexible column filled the line: its gap falls outside
                runs[-1][0] = runs[-1][0][:-1]
                length -= 1
            elif length < total:
                add(" " * (total - length), gap)
                length = total
            strip = Strip([Segment(text, style) for text, style in runs if text], length)
            self._cache[key] = strip
        return strip

    def _update_titles(self) -> None:
        """Set the border's titles; an unchanged title must not repaint the whole pane,
        and a new subtitle (a tick's row count) repaints the bottom border alone."""
        subtitle = self.subtitle()
        if self.border_title != self.title:
            self.border_title = self.title
        if self.border_subtitle != subtitle:
            self._border_only = True  # see `refresh`
            try:
                self.border_subtitle = subtitle
            finally:
                self._border_only = False

    def _bottom_border(self) -> Region:
        """The bottom border's line, in the content's coordinates (as `refresh` takes)."""
        x, y = self.content_offset
        width, height = self.outer_size
        return Region(-x, height - 1 - y, width, 1)

    # -- sorting ----------------------------------------------------------------------

    def _ascending(self, column: Column) -> bool:
        return column.descending == self.sort_reverse

    def sort_by(self, key: str) -> None:
        """Sort on a column; the same column again reverses the order."""
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = key, False
        self.rebuild()

    def action_sort_next(self, step: int) -> None:
        keys = [c.key for c in self.columns]
        index = keys.index(self.sort_key) if self.sort_key in keys else -1
        self.sort_key = keys[(index + step) % len(keys)]
        self.sort_reverse = False
        self.rebuild()

    def action_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.rebuild()

    # -- search -----------------------------------------------------------------------

    def search_keys(self) -> list[K]:
        """The rows a search walks, in order (subclasses may search hidden rows too)."""
        return self.keys

    def reveal(self, key: K) -> None:
        """Make a row found by a search visible and put the cursor on it."""
        self.move_to(key)

    def find(self, needle: str, step: int = 1, *, include_current: bool = False) -> bool:
        """Move to the next row (by `step`) whose text holds `needle`; wraps around."""
        self.needle = needle.casefold()
        self.refresh()
        keys = self.search_keys()
        if not self.needle or not keys:
            return False
        if keys is self.keys:
            start = self.cursor
        else:
            start = keys.index(self.cursor_key) if self.cursor_key in keys else 0
        offsets = range(0, len(keys)) if include_current else range(1, len(keys) + 1)
        for offset in offsets:
            key = keys[(start + step * offset) % len(keys)]
            if self.needle in self.search_text(key):
                self.reveal(key)
                return True
        return False

    def count_matches(self, needle: str) -> int:
        """How many rows a search for `needle` finds (hidden rows included, as it walks)."""
        needle = needle.casefold()
        text = self.search_text
        return sum(needle in text(key) for key in self.search_keys()) if needle else 0

    def action_find_next(self, step: int) -> None:
        if self.needle and not self.find(self.needle, step):
            self.notify(f"no match for '{self.needle}'", severity="warning")

    # -- moving -----------------------------------------------------------------------

    def _go(self, index: int) -> None:
        if not self.keys:
            return
        was, top = self.cursor, round(self.scroll_y)
        self.cursor = max(0, min(index, len(self.keys) - 1))
        self.scroll_to_cursor()
        if round(self.scroll_y) != top:
            self.refresh()
        elif self.cursor != was:
            # Speed: bench "ui default: key to repaint, p95" (ui_bench): the cursor's old
            # and new lines, where a whole pane is some 45 lines through Textual's styling.
            region = self.scrollable_content_region
            lines = [row - top + 1 for row in (was, self.cursor)]  # line 0 is the header
            self.refresh(*(Region(0, y, region.width, 1) for y in lines
                           if 0 < y < region.height))

    def action_cursor(self, step: int) -> None:
        self._go(self.cursor + step)

    def action_page(self, step: int) -> None:
        self._go(self.cursor + step * max(self.scrollable_content_region.height - 2, 1))

    def action_edge(self, step: int) -> None:
        self._go(0 if step < 0 else len(self.keys) - 1)

    def action_choose(self) -> None:
        if self.keys:
            self.post_message(self.Chosen(self, self.cursor_key))

    def column_at(self, x: int) -> Column | None:
        """The column under content column `x` (scrolled), if any."""
        left = 0
        total = max(self.scrollable_content_region.width, self.virtual_size.width)
        for _, column, width in self._layout(total):
            if left <= x < left + width + 1:
                return column
            left += width + 1
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        """Over a column title, its glossary line as the tooltip; with the thumb held, the
        thumb follows."""
        if self._dragging:
            self._drag_thumb(max(0, min(event.y - self.content_offset.y,
                                        self.scrollable_content_region.height - 1)))
            return
        from zmtop.tui.glossary import explain  # 9 ms of imports: not at start-up

        offset = event.get_content_offset(self)
        column = None
        if offset is not None and offset.y == 0:
            column = self.column_at(offset.x + round(self.scroll_x))
        self.tooltip = explain(column.title) or None if column is not None else None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        x = offset.x + round(self.scroll_x)
        if offset.y == 0:
            column = self.column_at(x)
            if column is not None:
                self.sort_by(column.key)
            return
        if event.chain > 1:  # the row the first click chose, though a tick moved it since
            if self._clicked is not None and self.move_to(self._clicked):
                self.action_choose()
            return
        index = round(self.scroll_y) + offset.y - 1
        self._clicked = self.keys[index] if index < len(self.keys) else None
        if self._clicked is not None:
            self._go(index)

    def _track_line(self, event: events.MouseEvent) -> int | None:
        """The content line of the right border a mouse event is on, if it is."""
        x, y = self.content_offset
        line = event.y - y
        on_border = event.x == x + self.scrollable_content_region.width
        return line if on_border and 0 <= line < self.scrollable_content_region.height else None

    def _drag_thumb(self, line: int) -> None:
        """Scroll so that the thumb's place answers to `line` of the border."""
        lines = self.scrollable_content_region.height
        self.scroll_to(y=round(self.max_scroll_y * line / max(lines - 1, 1)), animate=False)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """Pressed on the right border of a pane that scrolls: drag the thumb."""
        line = self._track_line(event)
        if line is not None and self.max_scroll_y:
            self._dragging = True
            self.capture_mouse()
            self._drag_thumb(line)
            event.stop()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()
            event.stop()
