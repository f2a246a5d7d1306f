"""treemap.py's hierarchy and size format, and the self-contained page."""

import re

import pytest

from zmtop.engine.formats.sizes import treemap_size
from zmtop.engine.formats.treemap import (
    UNNAMED_NAME,
    build_tree,
    label,
    treemap_html,
)
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import (
    VMO_TYPE_PAGED,
    Changes,
    Job,
    Kmem,
    Process,
    Snapshot,
    Vmo,
    VmoRef,
)

K = 1024
M = 1024 * K


def vmo(koid, name, committed, share):
    return Vmo(koid, name, committed, 0, 0, share, share, committed, VMO_TYPE_PAGED, 1, 0, 0, 0)


def small():
    refs = (VmoRef(1, True), VmoRef(1, False), VmoRef(2, False), VmoRef(3, False),
            VmoRef(4, True), VmoRef(5, False), VmoRef(6, False))
    proc = Process(10, 100, "app", (), (), refs, 0, 0, 0, 0, 0, 0, 0, 0)
    bare = Process(11, 101, "bare", (), (), (), 0, 0, 30 * K, 10 * K, 4 * K, 0, 0, 0)
    vmos = {1: vmo(1, "lib", 90 * K, 3), 2: vmo(2, "lib", 10 * K, 1),
            3: vmo(3, "", 8 * K, 2), 4: vmo(4, "buf", 9 * K, 2), 5: vmo(5, "", 7 * K, 1),
            6: vmo(6, "solo", 5 * K, 1)}
    return Snapshot(
        tick=0, time_ns=0, source="test", pressure="Normal", root_job=100,
        kmem=Kmem(1024 * M, 900 * M, 20 * M, 10 * M, 3 * M, 60 * M, 1 * M, 0, 2 * M),
        jobs={100: Job(100, 0, "root", False, (101,), (10,)),
              101: Job(101, 100, "svc", False, (), (11,))},
        processes={10: proc, 11: bare}, vmos=vmos, changes=Changes())


def find(node, node_id):
    if node.id == node_id:
        return node
    for child in node.children:
        hit = find(child, node_id)
        if hit is not None:
            return hit
    return None


@pytest.mark.parametrize("n, text", [
    (0, "0B"), (1023, "1023B"), (1024, "1k"), (1536, "1536B"), (10000, "9.8k"),
    (10 * M, "10M"), (10 * M + 1, "10.0M"), (1023 * K + 940, "1023.9k"),
    (1023 * K + 1000, "1024.0k"),
    (1024 * K - 1, "1024.0k"), (8 * 1024 * M, "8G"),
])
def test_treemap_size_is_treemap_pys(n, text):
    assert treemap_size(n) == text


def test_process_vmos_dedup_share_and_aggregate_by_name():
    app = find(build_tree(small()), "p/10")
    areas = {c.name: c.area for c in app.children}
    # lib: mapped 90k/3 + mapped 10k/1; buf: handle-only 9k/(2+1); unnamed stay apart
    assert areas == {"lib[2]": 30 * K + 10 * K, UNNAMED_NAME: 7 * K, "buf": 3 * K, "solo": 5 * K}
    unnamed = [c for c in app.children if c.name == UNNAMED_NAME]
    assert sorted(c.area for c in unnamed) == [4 * K, 7 * K]
    assert app.area == sum(c.area for c in app.children)
    assert label(unnamed[0]) == f"UNNAMED [koid {unnamed[0].koid}] (4k)"


def test_process_without_vmo_refs_splits_private_and_proportional_shared():
    bare = find(build_tree(small()), "p/11")
    assert [(c.name, c.area) for c in bare.children] == [("Private", 30 * K),
                                                        ("Proportional shared", 4 * K)]


def test_kernel_nodes_and_unknown():
    root = build_tree(small())
    assert root.name == "All physical memory" and root.area == 1024 * M
    assert [c.id for c in root.children] == ["kernel/free", "kernel/vmo", "kernel/heap",
                                             "kernel/wired", "kernel/mmu", "kernel/other"]
    kvmo = root.children[1]
    root_job, unknown = kvmo.children
    assert root_job.name == "root job" and unknown.name == "unknown (kernel & unmapped)"
    assert unknown.area == kvmo.area - root_job.area
    heap = root.children[2]
    assert sum(c.area for c in heap.children) == heap.area


def test_task_areas_sum_to_their_children_on_a_simulation():
    root = build_tree(Simulation("churn", 3).snapshot)

    def check(node):
        if node.type in ("j", "p"):
            assert node.area == sum(c.area for c in node.children)
        for child in node.children:
            check(child)

    check(find(root, "kernel/vmo").children[0])


def test_page_is_self_contained_and_escapes_names():
    html = treemap_html(small())
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html and "<script src" not in html
    snap = small()
    snap.processes[10] = Process(10, 100, "</script><b>", (), (), (), 0, 0, 0, 0, 0, 0, 0, 0)
    assert "</script><b>" not in treemap_html(snap)
