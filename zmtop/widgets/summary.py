"""The figures bar on top of a drill-down: a title line, then rows of labelled values."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class Summary(Widget):
    """Base of ProcessSummary and VmoSummary; styles come from component classes."""

    COMPONENT_CLASSES = {"summary--title", "summary--label", "summary--value", "summary--gone"}

    def style_of(self, name: str):
        return self.get_component_rich_style(f"summary--{name}", partial=True)

    def append_rows(self, text: Text, rows) -> Text:
        """Rows of (title, ((label, shown value), ...)), one line each."""
        label, value = self.style_of("label"), self.style_of("value")
        for title, fields in rows:
            text.append(f"\n {title:<10}", label)
            for name, shown in fields:
                text.append(f" {name} ", label)
                text.append(f"{shown:<8}", value)
        return text
