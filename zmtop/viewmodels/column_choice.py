"""Which columns a table shows, and in what order: the model of htop's column setup (F2).

The first and last columns are pinned (the job tree's TASK and NAME): always shown, the
first always first and the last always last; the ones between can be hidden and moved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class ColumnChoice:
    """Column titles in their order, some hidden; starts in the table's own order."""

    def __init__(self, titles: Sequence[str], hidden: Iterable[str] = ()) -> None:
        self.titles = tuple(titles)  # every column, in the table's own order
        self.order = list(titles)
        self.hidden = set(hidden)

    def pinned(self, title: str) -> bool:
        return title in (self.titles[0], self.titles[-1])

    def shown(self) -> list[str]:
        """The titles shown, in order: what config.toml keeps."""
        return [title for title in self.order if title not in self.hidden]

    def toggle(self, title: str) -> bool:
        """Show a hidden column, or hide a shown one; False for a pinned one."""
        if self.pinned(title):
            return False
        self.hidden ^= {title}
        return True

    def move(self, title: str, step: int) -> bool:
        """Move a column `step` places on (-1: one up); False if it or its new place is
        pinned."""
        at = self.order.index(title)
        to = at + step
        if self.pinned(title) or not 0 < to < len(self.order) - 1:
            return False
        self.order.insert(to, self.order.pop(at))
        return True

    def restore(self, shown: Sequence[str]) -> None:
        """Show the columns `shown` (known titles) in that order and hide the others,
        which are listed after them in the table's own order; pinned ones stay put."""
        first, *middle, last = self.titles
        chosen = [title for title in dict.fromkeys(shown) if title in middle]
        rest = [title for title in middle if title not in chosen]
        self.order = [first, *chosen, *rest, last]
        self.hidden = set(rest)
