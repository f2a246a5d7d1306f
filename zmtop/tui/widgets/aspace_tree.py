"""The kernel's address space (`k zx asd kernel`) as a collapsible tree.

Rows are the dump's lines: `as`, `vmar` and `map` nodes, each mapping with its `vmo` (or
physical `object`) line beneath it. Siblings sort on the chosen column; the default is the
dump's own address order. The dump's shape depends only on the model's constants, so a row
key is its line's position (node i is 2i, its VMO line 2i + 1) and stays put across ticks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from zmtop.engine.formats.kernel_aspace import AspaceNode, kernel_aspace
from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import PAGE_SIZE, Snapshot
from zmtop.tui import bindings
from zmtop.tui.widgets import cells
from zmtop.tui.widgets.line_table import Cell, Column, LineTable

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison


class Line(NamedTuple):
    """One row: a dump node, or the VMO line under a mapping."""

    key: int
    kind: str  # as, vmar, map, vmo or object
    depth: int
    addr: int
    base: int | None
    size: int
    committed: int
    ref: int
    name: str
    children: tuple[int, ...] = ()


SORTS: dict[str, Callable[[Line], SupportsRichComparison]] = {
    "tree": lambda line: line.key,
    "base": lambda line: line.base or 0,
    "end": lambda line: (line.base or 0) + line.size,
    "size": lambda line: line.size,
    "committed": lambda line: line.committed,
    "ref": lambda line: line.ref,
    "addr": lambda line: line.addr,
    "name": lambda line: line.name.casefold(),
}
KIND_STYLES = {"as": "line-table--strong", "vmar": "line-table--strong",
               "vmo": "line-table--dim", "object": "line-table--dim"}


def aspace_lines(nodes: Sequence[AspaceNode]) -> dict[int, Line]:
    """Every row by key, each node knowing its children's keys."""
    children: dict[int, list[int]] = {}
    stack: list[tuple[int, int]] = []  # (depth, key) of the open ancestors
    for i, node in enumerate(nodes):
        while stack and stack[-1][0] >= node.depth:
            stack.pop()
        if stack:
            children[stack[-1][1]].append(2 * i)
        children[2 * i] = [2 * i + 1] if node.kind == "map" else []
        stack.append((node.depth, 2 * i))
    lines: dict[int, Line] = {}
    for i, node in enumerate(nodes):
        committed = (node.pages if node.kind == "map" else 0) * PAGE_SIZE
        lines[2 * i] = Line(2 * i, node.kind, node.depth, node.addr, node.base, node.size,
                            committed, node.ref, safe_name(node.name), tuple(children[2 * i]))
        vmo = node.vmo
        if vmo is not None:
            physical = vmo.phys_base is not None
            lines[2 * i + 1] = Line(2 * i + 1, "object" if physical else "vmo", node.depth + 1,
                                    vmo.addr, vmo.phys_base, vmo.size, vmo.pages * PAGE_SIZE,
                                    vmo.ref,
                                    "physical" if physical else
                                    f"k{vmo.koid} parent k{vmo.parent_koid}")
    return lines


class AspaceTree(LineTable[int]):
    """Mappings start folded (their VMO line hidden); Enter or arrows fold and unfold."""

    BINDINGS = bindings.ASPACE_TREE

    def __init__(self, snap: Snapshot, *, unit: str = "") -> None:
        self.unit = unit
        self.lines = aspace_lines(kernel_aspace(snap))
        self.collapsed = {k for k, line in self.lines.items() if line.kind == "map"}
        super().__init__(self._columns(), sort="tree", title="Kernel address space",
                         id="aspace")
        self.rebuild()

    def _columns(self) -> list[Column]:
        w = cells.size_width(self.unit)
        depth = max(line.depth for line in self.lines.values())
        return [
            Column("tree", "OBJECT", 2 * depth + 8, "left", descending=False),
            Column("base", "BASE", 16, descending=False),
            Column("end", "END", 16, descending=False, optional=True),
            Column("size", "SIZE", w),
            Column("committed", "COMMIT", max(w, 6)),
            Column("ref", "REF", 3, optional=True),
            Column("addr", "KERNEL OBJECT", 16, descending=False, optional=True),
            Column("name", "NAME", 0, "left", descending=False),
        ]

    def update(self, snap: Snapshot) -> None:
        self.lines = aspace_lines(kernel_aspace(snap))
        self.rebuild()

    def rebuild(self) -> None:
        column = next(c for c in self.columns if c.key == self.sort_key)
        descending = column.descending != self.sort_reverse
        order = SORTS[self.sort_key]
        keys: list[int] = []

        def walk(key: int) -> None:
            keys.append(key)
            if key not in self.collapsed:
                kids = sorted((self.lines[k] for k in self.lines[key].children), key=order,
                              reverse=descending)
                for kid in kids:
                    walk(kid.key)

        walk(0)
        self.set_keys(keys)

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.set_columns(self._columns())

    def cells(self, key: int) -> Sequence[Cell]:
        line = self.lines[key]
        style = KIND_STYLES.get(line.kind, "")
        marker = ("▸ " if key in self.collapsed else "▾ ") if line.children else "  "
        base = line.base if line.kind != "object" else None  # an object has no range
        return (
            Cell(f"{'  ' * line.depth}{marker}{line.kind}", style),
            Cell("" if line.base is None else f"{line.base:016x}", style),
            Cell(f"{base + line.size - 1:016x}" if base is not None and line.size else ""),
            Cell(cells.size(line.size, self.unit)),
            Cell(cells.size(line.committed, self.unit)),
            Cell(str(line.ref)),
            Cell(f"{line.addr:016x}", "line-table--dim"),
            Cell(line.name, style),
        )

    def search_text(self, key: int) -> str:
        line = self.lines[key]
        return f"{line.kind} {line.name}".casefold()

    def on_line_table_chosen(self, event: LineTable.Chosen) -> None:
        event.stop()
        if self.lines[event.key].children:
            self.toggle(event.key)

    def toggle(self, key: int) -> None:
        self.collapsed ^= {key}
        self.rebuild()

    def action_collapse(self) -> None:
        """Fold the row under the cursor, or go up to its parent."""
        key = self.cursor_key
        if key is None:
            return
        if self.lines[key].children and key not in self.collapsed:
            self.toggle(key)
            return
        parent = next((k for k, line in self.lines.items() if key in line.children), None)
        if parent is not None:
            self.move_to(parent)

    def action_expand(self) -> None:
        key = self.cursor_key
        if key is not None and key in self.collapsed:
            self.toggle(key)
