"""Help: every key, gathered from the bindings themselves so it cannot go stale, then a
glossary of every column and colour (zmtop.tui.glossary)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from zmtop.tui import bindings, glossary

MOUSE = [("click", "select a row; click a column title to sort by it (again: reverse)"),
         ("double click", "open the row"), ("wheel", "scroll"),
         ("right border", "press or drag by the scroll thumb: scroll to that place"),
         ("hover", "a column's title: what the column means")]
KEY_WIDTH = 20  # the cells before a description (its keys, indented): it wraps beside them

Section = tuple[str, list[tuple[str, str]]]


class HelpScreen(ModalScreen):
    """A scrollable list of keys and the glossary; any of Escape, q, ? or F1 closes it."""

    BINDINGS = bindings.HELP + bindings.VIEWS

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self._render_sections(), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "zmtop keys and glossary"

    def sections(self) -> list[Section]:
        """Titles and their (what, meaning) lines: keys, mouse, columns, colours."""
        shown = []
        for title, keys in bindings.help_sections():
            lines = []
            for binding in keys:
                if not isinstance(binding, Binding):
                    continue  # every table in bindings.py holds Bindings, not tuples
                lines.append((" ".join(self.app.get_key_display(Binding(k.strip(), ""))
                                       for k in binding.key.split(",")),
                              binding.description))
            shown.append((title, lines))
        shown.append(("Mouse", MOUSE))
        shown.append(("Columns (hover over a column's title for its line)",
                      list(glossary.COLUMNS.items())))
        shown.append(("Colours and marks", glossary.COLOURS))
        return shown

    def _render_sections(self) -> Group:
        parts: list[Text | Table] = []
        for title, lines in self.sections():
            parts.append(Text(title, "bold"))
            grid = Table.grid(padding=(0, 1))
            grid.add_column(width=KEY_WIDTH - 1, no_wrap=True, style="bold")
            grid.add_column(ratio=1)
            for what, means in lines:
                grid.add_row(f"  {what}", means)
            parts += [grid, Text("")]
        return Group(*parts)
