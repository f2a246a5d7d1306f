"""The footer: the keys of whatever has focus on this screen, on one line.

One widget drawing one line of text, rather than Textual's Footer with a widget per key,
which costs more to mount than the rest of the first frame. Clicking a key runs it.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.dom import DOMNode
from textual.widget import Widget


class KeyFooter(Widget):
    """`key description` pairs of the active, shown bindings, and ^p for the palette."""

    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description"}

    def __init__(self) -> None:
        super().__init__()
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
        text = Text(no_wrap=True, overflow="ellipsis")
        spots = []
        seen = set()
        palette = self.app.COMMAND_PALETTE_BINDING
        bindings = [(node, b) for node, b, enabled, _ in self.screen.active_bindings.values()
                    if enabled and (b.show or b.key == palette)]
        for node, binding in sorted(bindings, key=lambda nb: nb[1].key == palette):
            if binding.action in seen:
                continue
            seen.add(binding.action)
            start = text.cell_len
            text.append(f" {self.app.get_key_display(binding)} ", key_style)
            text.append(f"{binding.description} ", text_style)
            spots.append((start, text.cell_len, binding.action, node))
        self._spots = spots
        return text

    async def on_click(self, event: events.Click) -> None:
        for start, end, action, node in self._spots:
            if start <= event.x < end:
                await self.app.run_action(action, node)
                return
