"""The column chooser, htop's setup (F2): a table's columns, each on or off, in order.

It edits a ColumnChoice and calls back after each change, which the table shows at once
(the chooser sits at the bottom, over the table's rows, not its header) and config.toml
keeps.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import SelectionList
from textual.widgets.selection_list import Selection

from zmtop.tui import bindings, glossary
from zmtop.viewmodels.column_choice import ColumnChoice

TITLE_WIDTH = 12  # the widest title, GROWTH/MIN, and two spaces


class ColumnsScreen(ModalScreen):
    """Space, Enter or a click shows or hides the highlighted column; [ and ] (or - and
    +, shift+up and shift+down) move it; Escape closes."""

    BINDINGS = bindings.COLUMNS

    def __init__(self, choice: ColumnChoice, title: str, changed: Callable[[], None]) -> None:
        super().__init__()
        self.choice = choice
        self.title = title
        self.changed = changed  # called after each change: show it, keep it

    def compose(self) -> ComposeResult:
        listing: SelectionList[str] = SelectionList(*self._selections(), id="columns")
        listing.border_title = f"Columns: {self.title}"
        listing.border_subtitle = "space: show/hide · [ ]: move · esc: close"
        yield listing

    @property
    def listing(self) -> SelectionList[str]:
        return self.query_one(SelectionList)

    def _selections(self) -> list[Selection[str]]:
        choice = self.choice
        return [Selection(self._prompt(title), title, title not in choice.hidden)
                for title in choice.order]

    def _prompt(self, title: str) -> Text:
        where = "first" if title == self.choice.order[0] else "last"
        means = glossary.explain(title)
        if self.choice.pinned(title):
            means = f"(always shown, {where}) {means}"
        return Text.assemble((title.ljust(TITLE_WIDTH), "bold"), means)

    def on_selection_list_selection_toggled(
            self, event: SelectionList.SelectionToggled[str]) -> None:
        title = event.selection.value
        if self.choice.toggle(title):
            self.changed()
        else:
            self.listing.select(title)
            self.notify(f"{title} is always shown", timeout=3)

    def action_move(self, step: int) -> None:
        """Move the highlighted column up (-1) or down (1)."""
        listing = self.listing
        at = listing.highlighted
        if at is None:
            return
        title = self.choice.order[at]
        if not self.choice.move(title, step):
            if self.choice.pinned(title):
                self.notify(f"{title} stays where it is", timeout=3)
            return
        listing.clear_options()
        listing.add_options(self._selections())
        listing.highlighted = at + step
        self.changed()
