"""Help: every key, gathered from the bindings themselves so it cannot go stale."""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from zmtop.tui import bindings

KEY_WIDTH = 20  # the cells before a description: its keys, indented and padded
MOUSE = [("click", "select a row; click a column title to sort by it (again: reverse)"),
         ("double click", "open the row"), ("wheel", "scroll")]


class HelpScreen(ModalScreen):
    """A scrollable list of keys; any of Escape, q or ? closes it."""

    BINDINGS = bindings.HELP

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self.keys_text(), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "zmtop keys"

    def on_resize(self) -> None:
        width = self.query_one("#help").scrollable_content_region.width
        self.query_one("#help-text", Static).update(self.keys_text(width))

    def keys_text(self, width: int = 0) -> Text:
        """Every key and what it does; a description longer than `width` allows wraps
        under itself, not under the keys (0: no wrapping)."""
        text = Text()
        for title, keys in bindings.help_sections():
            text.append(f"{title}\n", "bold")
            for binding in keys:
                if not isinstance(binding, Binding):
                    continue  # every table in bindings.py holds Bindings, not tuples
                shown = " ".join(self.app.get_key_display(Binding(k.strip(), ""))
                                 for k in binding.key.split(","))
                self._entry(text, shown, binding.description, width)
            text.append("\n")
        text.append("Mouse\n", "bold")
        for what, does in MOUSE:
            self._entry(text, what, does, width)
        return text

    @staticmethod
    def _entry(text: Text, keys: str, does: str, width: int) -> None:
        text.append(f"  {keys:<{KEY_WIDTH - 2}}", "bold")
        lines = textwrap.wrap(does, max(width - KEY_WIDTH, 20)) if width else [does]
        text.append(("\n" + " " * KEY_WIDTH).join(lines) + "\n")
