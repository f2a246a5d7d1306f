"""Squarified treemap layout into whole terminal cells, for a zoomable TUI treemap.

Pure: a treemap.Node hierarchy in, rectangles out. Children are laid out largest first;
nodes with no positive area, and rectangles that round to nothing, are left out. Only the
visible `depth` levels below the zoomed node are laid out, plus deeper levels inside any
rectangle still roomy enough to show them (so a big job is never a blank block); cost follows
the screen, not the tree. A nested level goes inside its parent's cell below a one-row caption.
"""

from __future__ import annotations

from typing import NamedTuple

from zmtop.engine.formats.treemap import Node


class Tile(NamedTuple):
    node: Node
    x: int
    y: int
    w: int
    h: int
    depth: int  # 1 for the zoomed node's children
    nested: bool = False  # its children are laid out inside it, below its caption


ROOMY = (24, 8)  # a rectangle this wide and tall opens one more level, whatever the depth


def _worst(total: float, smallest: float, largest: float, side: float) -> float:
    s2, w2 = total * total, side * side
    return max(w2 * largest / s2, s2 / (w2 * smallest))


def squarify(nodes: list[Node], x: float, y: float, w: float, h: float
             ) -> list[tuple[Node, float, float, float, float]]:
    """Float rectangles for `nodes` (largest first) filling (x, y, w, h), one row at a time."""
    items = [n for n in nodes if n.area > 0]
    total = sum(n.area for n in items)
    if not total or w <= 0 or h <= 0:
        return []
    scale = w * h / total
    out = []
    i = 0
    while i < len(items):
        side = min(w, h)
        start, row, lo, hi, current = i, 0.0, float("inf"), 0.0, float("inf")
        while i < len(items):
            a = items[i].area * scale
            ratio = _worst(row + a, min(lo, a), max(hi, a), side)
            if i > start and ratio > current:
                break
            row, lo, hi, current = row + a, min(lo, a), max(hi, a), ratio
            i += 1
        thick = row / side
        offset = 0.0
        for n in items[start:i]:
            length = n.area * scale / thick
            if w >= h:
                out.append((n, x, y + offset, thick, length))
            else:
                out.append((n, x + offset, y, length, thick))
            offset += length
        if w >= h:
            x, w = x + thick, w - thick
        else:
            y, h = y + thick, h - thick
    return out


def layout(node: Node, x: int, y: int, w: int, h: int, depth: int = 1) -> list[Tile]:
    """Cells for `node`'s descendants `depth` levels down, inside the w x h box at (x, y)."""
    cells: list[Tile] = []
    _layout(node, x, y, w, h, 1, depth, cells)
    return cells


def _layout(node: Node, x: int, y: int, w: int, h: int, level: int, depth: int,
            cells: list[Tile]) -> None:
    kids = sorted(node.children, key=lambda n: n.area, reverse=True)
    for child, fx, fy, fw, fh in squarify(kids, x, y, w, h):
        x0, y0, x1, y1 = round(fx), round(fy), round(fx + fw), round(fy + fh)
        if x1 <= x0 or y1 <= y0:
            continue
        cw, ch = x1 - x0, y1 - y0
        roomy = cw >= ROOMY[0] and ch >= ROOMY[1]
        nested = bool(child.children) and cw > 1 and ch > 1 and (level < depth or roomy)
        cells.append(Tile(child, x0, y0, cw, ch, level, nested))
        if nested:
            _layout(child, x0, y0 + 1, cw, ch - 1, level + 1, depth, cells)
