"""The squarified terminal-cell layout."""

from hypothesis import given
from hypothesis import strategies as st

from zmtop.engine.formats.treemap import Node
from zmtop.engine.formats.treemap_layout import layout


def tree(areas):
    root = Node("r", "", "root")
    for i, area in enumerate(areas):
        child = Node(f"c{i}", "p", f"c{i}", koid=i)
        child.children = [Node(f"c{i}/a", "vmo", "a", area // 2 + 1),
                          Node(f"c{i}/b", "vmo", "b", area - area // 2)]
        child.area = sum(c.area for c in child.children)
        root.children.append(child)
    return root


@given(st.lists(st.integers(1000, 10**6), min_size=1, max_size=12),
       st.integers(20, 200), st.integers(10, 60))
def test_top_level_cells_tile_the_box_without_overlap(areas, w, h):
    cells = [c for c in layout(tree(areas), 3, 2, w, h) if c.depth == 1]
    assert sum(c.w * c.h for c in cells) == w * h
    seen = set()
    for c in cells:
        assert c.x >= 3 and c.y >= 2 and c.x + c.w <= 3 + w and c.y + c.h <= 2 + h
        squares = {(x, y) for x in range(c.x, c.x + c.w) for y in range(c.y, c.y + c.h)}
        assert not squares & seen
        seen |= squares


def test_larger_nodes_get_more_cells_and_nested_cells_sit_below_a_caption():
    cells = layout(tree([800_000, 100_000, 100_000]), 0, 0, 100, 40, depth=2)
    top = {c.node.id: c for c in cells if c.depth == 1}
    assert top["c0"].w * top["c0"].h > 5 * top["c1"].w * top["c1"].h
    for c in cells:
        if c.depth == 2:
            parent = top[c.node.id.split("/")[0]]
            assert parent.x <= c.x and c.x + c.w <= parent.x + parent.w
            assert parent.y + 1 <= c.y and c.y + c.h <= parent.y + parent.h


def test_a_roomy_rectangle_opens_one_more_level_and_a_cramped_one_does_not():
    big = layout(tree([10**6]), 0, 0, 100, 40, depth=1)
    assert big[0].nested and {c.depth for c in big} == {1, 2}
    small = layout(tree([10**6]), 0, 0, 20, 6, depth=1)
    assert not small[0].nested and {c.depth for c in small} == {1}


def test_empty_and_zero_area_nodes_get_no_cells():
    root = tree([5000])
    root.children.append(Node("z", "p", "zero", 0))
    assert [c.node.id for c in layout(root, 0, 0, 10, 10)] == ["c0"]
    assert layout(Node("x", "", "leaf", 10), 0, 0, 10, 10) == []
