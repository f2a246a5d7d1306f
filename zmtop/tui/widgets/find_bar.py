"""The one-line prompt under a table for incremental search (`/`) and the filter (`\\`)."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import Input

from zmtop.tui import bindings
from zmtop.tui.widgets.line_table import counted


class FindBar(Input):
    """Reports each edit, and whether the prompt was accepted (Enter) or cancelled (Escape)."""

    BINDINGS = bindings.FIND_BAR

    class Edited(Message):
        def __init__(self, mode: str, text: str) -> None:
            super().__init__()
            self.mode = mode
            self.text = text

    class Closed(Message):
        def __init__(self, mode: str, text: str, accepted: bool) -> None:
            super().__init__()
            self.mode = mode
            self.text = text
            self.accepted = accepted

    def __init__(self) -> None:
        super().__init__(id="find-bar")
        self.mode = "search"
        self.cursor_blink = False
        self.display = False

    def open(self, mode: str, text: str = "") -> None:
        self.mode = mode
        self.placeholder = "search: name or koid" if mode == "search" else "filter: name or koid"
        self.border_title = "Search" if mode == "search" else "Filter"
        self.value = text
        self.border_subtitle = ""
        self.display = True
        self.focus()

    def show_count(self, count: int) -> None:
        """Say how many rows the text matches, as it is typed."""
        if not self.value:
            self.border_subtitle = ""
        else:
            self.border_subtitle = counted(count, "match", "matches") if count else "not found"

    def _on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.display:
            self.post_message(self.Edited(self.mode, event.value))

    def _on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close(True)

    def on_blur(self) -> None:
        """Leaving the prompt (Tab, a click elsewhere) keeps what was typed."""
        if self.display:
            self._close(True)

    def action_cancel(self) -> None:
        self._close(False)

    def _close(self, accepted: bool) -> None:
        self.display = False
        self.post_message(self.Closed(self.mode, self.value, accepted))
