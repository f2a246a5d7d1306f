"""The replay's "go to" prompt (`g`): a tick ("120") or a simulated time ("2:00", "90s")."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Input

from zmtop.tui import bindings

_CLOCK = re.compile(r"(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)")
_UNIT = re.compile(r"(\d+(?:\.\d*)?)\s*(s|m|h)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def parse_position(text: str) -> tuple[str, float]:
    """("tick", n) for a bare number; ("time", seconds) for m:ss, h:mm:ss or 90s, 2m, 1h."""
    text = text.strip().lower()
    if text.isdigit():
        return "tick", int(text)
    clock = _CLOCK.fullmatch(text)
    if clock:
        hours, minutes, seconds = clock.groups()
        return "time", int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    unit = _UNIT.fullmatch(text)
    if unit:
        return "time", float(unit.group(1)) * _UNIT_SECONDS[unit.group(2)]
    raise ValueError(f"'{text}' is neither a tick (120) nor a time (2:00, 90s)")


class GotoPrompt(ModalScreen[str | None]):
    """Enter answers with the text typed; Escape with None."""

    BINDINGS = bindings.GOTO

    def compose(self) -> ComposeResult:
        prompt = Input(placeholder="tick (120) or time (2:00, 90s)", id="goto-input")
        prompt.border_title = "Go to"
        prompt.cursor_blink = False
        yield prompt

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
