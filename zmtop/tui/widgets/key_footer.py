"""The footer: the keys of whatever has focus on this screen, on one line.

One widget drawing one line of text, rather than Textual's Footer with a widget per key,
which costs more to mount than the rest of the first frame. Clicking a key runs it.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.dom import DOMNode
from textual.widget import Widget

from zmtop.tui.widgets.box_lines import KeptStylesCache

PINNED = ("app.help", "command_palette")  # always shown, at the right edge


class KeyFooter(Widget):
    """`key description` pairs of the active, shown bindings; help and the palette stay at
    the right edge when the line is too narrow for every key (the others are cut)."""

    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description"}

    def __init__(self) -> None:
        super().__init__()
        self._styles_cache = KeptStylesCache()  # its last lines again while none changed
        self._spots: list[tuple[int, int, str, DOMNode]] = []  # x from, x to, action, node

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-footer--key", partial=True)
        text_style = self.get_component_rich_style("key-footer--description", partial=True)
        palette = self.app.COMMAND_PALETTE_BINDING
        keys: list[tuple[DOMNode, Binding]] = []
        pinned: list[tuple[DOMNode, Binding]] = []
        seen = set()
        for node, binding, enabled, _ in self.screen.active_bindings.values():
            if not enabled or not (binding.show or binding.key == palette):
                continue
            if binding.action in seen:
                continue
            seen.add(binding.action)
            is_pinned = binding.id in PINNED or binding.key == palette
            (pinned if is_pinned else keys).append((node, binding))
        pieces = [(node, binding, Text.assemble(
            (f" {self.app.get_key_display(binding)} ", key_style),
            (f"{binding.description} ", text_style))) for node, binding in keys + pinned]
        room = self.size.width - sum(piece.cell_len for *_, piece in pieces[len(keys):])
        text = Text(no_wrap=True, overflow="ellipsis")
        spots = []
        for i, (node, binding, piece) in enumerate(pieces):
            if i == len(keys):
                text.append(" " * max(0, room - text.cell_len))
            elif i < len(keys) and text.cell_len + piece.cell_len > room:
                continue
            start = text.cell_len
            text.append_text(piece)
            spots.append((start, text.cell_len, binding.action, node))
        self._spots = spots
        return text

    async def on_click(self, event: events.Click) -> None:
        for start, end, action, node in self._spots:
            if start <= event.x < end:
                await self.app.run_action(action, node)
                return
