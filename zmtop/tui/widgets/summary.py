"""The figures bar on top of a drill-down: a title line, then rows of labelled values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widget import Widget

if TYPE_CHECKING:
    from textual import getters

    from zmtop.tui.monitor import MonitorApp


class Summary(Widget):
    """Base of ProcessSummary and VmoSummary; styles come from component classes."""

    if TYPE_CHECKING:
        app = getters.app(MonitorApp)

    COMPONENT_CLASSES = {"summary--title", "summary--label", "summary--value", "summary--gone"}

    def style_of(self, name: str):
        return self.get_component_rich_style(f"summary--{name}", partial=True)

    def title_line(self, heading: str, name: str, detail: str, gone: str | None) -> Text:
        """` heading  name  detail`, then the word `gone` in its style when given."""
        title, label = self.style_of("title"), self.style_of("label")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {heading} ", title)
        text.append(f" {name}", title)
        text.append(f"  {detail}", label)
        if gone:
            text.append(f"  {gone} ", self.style_of("gone"))
        return text

    def append_rows(self, text: Text, rows) -> Text:
        """Rows of (title, ((label, shown value), ...)), one line each."""
        label, value = self.style_of("label"), self.style_of("value")
        for title, fields in rows:
            text.append(f"\n {title:<10}", label)
            for name, shown in fields:
                text.append(f" {name} ", label)
                text.append(f"{shown:<8}", value)
        return text
