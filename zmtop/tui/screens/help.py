"""Help: every key, gathered from the bindings themselves so it cannot go stale."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from zmtop.tui import bindings

MOUSE = [("click", "select a row; click a column title to sort by it (again: reverse)"),
         ("double click", "open the row"), ("wheel", "scroll")]


class HelpScreen(ModalScreen):
    """A scrollable list of keys; any of Escape, q or ? closes it."""

    BINDINGS = bindings.HELP + bindings.VIEWS

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self.keys_text(), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "zmtop keys"

    def keys_text(self) -> Text:
        text = Text()
        for title, keys in bindings.help_sections():
            text.append(f"{title}\n", "bold")
            for binding in keys:
                if not isinstance(binding, Binding):
                    continue  # every table in bindings.py holds Bindings, not tuples
                shown = " ".join(self.app.get_key_display(Binding(k.strip(), ""))
                                 for k in binding.key.split(","))
                text.append(f"  {shown:<18}", "bold")
                text.append(f"{binding.description}\n")
            text.append("\n")
        text.append("Mouse\n", "bold")
        for what, does in MOUSE:
            text.append(f"  {what:<18}", "bold")
            text.append(f"{does}\n")
        return text
