"""Textual's styling of a widget's lines, with two quick paths.

Textual styles every line it repaints the same way: it reads the widget's border, outline,
padding, tint and opacity, builds the border's side styles and wraps the content in them. A
plain box (a border left and right, nothing else) does the same for every content line of
one repaint, so `BoxStylesCache` works the two sides out once a repaint and wraps each line
in them: the same segments Textual's own path gives.

And Textual's compositor asks every widget on screen for all its lines at each repaint of
any line, however little changed; a widget with no line to repaint gives the lines it gave
last time, which Textual would give again from its cache, one line at a time.

A plain box also draws its scroll thumb in its right side (`BoxStylesCache.thumb`), where a
scrollbar widget would cut every line of the box in two for the compositor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual._ansi_theme import DEFAULT_TERMINAL_THEME
from textual._border import get_box
from textual._styles_cache import StylesCache
from textual.strip import Strip
from textual.style import Style

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rich.terminal_theme import TerminalTheme
    from textual.color import Color
    from textual.content import Content
    from textual.css.styles import StylesBase
    from textual.filter import LineFilter
    from textual.geometry import Region, Size, Spacing


Label = tuple["Content", "Color", "Color", Style]  # a border's title: text, colours, style


class Sides(NamedTuple):
    """A plain box's content lines, as one repaint draws them."""

    top: int  # the first content line (the top border's height)
    left: Segment
    right: Segment
    thumb: Segment  # the right side where the scroll thumb is
    inner: RichStyle  # the background a short line is padded with


THUMB = "█"  # the scroll thumb, in the right side's colours


def plain_box(styles: StylesBase, opacity: float) -> bool:
    """Whether Textual draws a content line of these styles as its two border sides around
    the content, and nothing else (see StylesCache.render_line)."""
    return (bool(styles.border_left[0]) and bool(styles.border_right[0])
            and opacity == 1.0 and not styles.tint.a and styles.text_opacity == 1.0
            and not any(styles.padding) and not any(kind for kind, _ in styles.outline)
            and (not styles.has_rule("hatch") or styles.hatch == "none"))


class KeptStylesCache(StylesCache):
    """Textual's StylesCache, that gives the lines of its last render again while no line
    is dirty and the widget's size, the lines asked, the filters and the background are
    the same: what Textual's own render would give, from its cache and the filters'."""

    _kept: tuple[tuple, list[Strip]] | None = None  # what `render` gave, and for what

    def set_dirty(self, *regions: Region) -> None:
        super().set_dirty(*regions)
        self._kept = None

    def clear(self) -> None:
        super().clear()
        self._kept = None

    # Speed: bench "ui default: CPU at 1 s ticks" (ui_bench): a repaint of a line of the
    # tree asked the footer, the screen and the tree's other lines for theirs, one at a time
    # through Textual's styling (the tree's 46 lines 72 us, min of 300).
    def render(self, styles: StylesBase, size: Size, base_background: Color,
               background: Color, render_content_line: Callable[[int], Strip],
               filters: Sequence[LineFilter], border_title: Label | None,
               border_subtitle: Label | None, content_size: Size | None = None,
               padding: Spacing | None = None, crop: Region | None = None,
               opacity: float = 1.0, ansi_theme: TerminalTheme = DEFAULT_TERMINAL_THEME,
               native_ansi: bool = False) -> list[Strip]:
        key = (size, crop, tuple(filters), background)
        kept = self._kept
        if kept is not None and kept[0] == key:
            return list(kept[1])
        strips = super().render(styles, size, base_background, background,
                                render_content_line, filters, border_title, border_subtitle,
                                content_size, padding, crop, opacity, ansi_theme, native_ansi)
        self._kept = (key, list(strips))
        return strips


class BoxStylesCache(KeptStylesCache):
    """A KeptStylesCache, with a content line of a plain box drawn from the sides worked
    out at the first content line of each repaint, and the scroll thumb in its right side
    on the content lines `thumb` (counted from the first content line), which the widget
    sets before each render."""

    _measured = False  # whether `_sides` holds this repaint's
    _sides: Sides | None = None  # None: not a plain box
    thumb: range = range(0)

    # Speed: bench "ui default: CPU at 1 s ticks" (ui_bench): Textual works out the border's
    # sides again for every line (some 15 us), and pads a short line into a Strip of its own;
    # a tick repaints some 20 lines of the tree.
    def render(self, *args, **kwargs) -> list[Strip]:
        self._measured = False
        return super().render(*args, **kwargs)

    def render_line(self, styles: StylesBase, y: int, size: Size, content_size: Size,
                    padding: Spacing, base_background: Color, background: Color,
                    render_content_line: Callable[[int], Strip], border_title: Label | None,
                    border_subtitle: Label | None, opacity: float, ansi_theme: TerminalTheme,
                    native_ansi: bool) -> Strip:
        if not self._measured:
            self._sides = self._measure(styles, base_background, background, opacity)
            self._measured = True
        sides = self._sides
        if sides is not None and sides.top <= y and y - sides.top < content_size.height:
            line = render_content_line(y - sides.top)
            right = sides.thumb if y - sides.top in self.thumb else sides.right
            pad = content_size.width - line.cell_length
            if pad < 0:
                line = line.adjust_cell_length(content_size.width, sides.inner)
            elif pad:  # as adjust_cell_length pads, without a Strip between
                return Strip([sides.left, *line, Segment(" " * pad, sides.inner), right],
                             size.width)
            return Strip([sides.left, *line, right], size.width)
        return super().render_line(styles, y, size, content_size, padding, base_background,
                                   background, render_content_line, border_title,
                                   border_subtitle, opacity, ansi_theme, native_ansi)

    def _measure(self, styles: StylesBase, base_background: Color,
                 background: Color, opacity: float) -> Sides | None:
        """The box's sides as Textual's render_line builds them, or None if it is not a
        plain box."""
        if not plain_box(styles, opacity):
            return None
        inner, outer = self.get_inner_outer(base_background, background)
        (kind_left, color_left), (kind_right, color_right) = (styles.border_left,
                                                               styles.border_right)
        left = get_box(kind_left, inner, outer,
                       Style(foreground=base_background + color_left))[1][0]
        right = get_box(kind_right, inner, outer,
                        Style(foreground=base_background + color_right))[1][2]
        return Sides(styles.gutter.top, left, right, Segment(THUMB, right.style),
                     inner.rich_style)
