"""The tree `memgraph -vt | scripts/memory/treemap.py` draws, built straight from a Snapshot.

Rules are treemap.py's (reference section 1.2): kernel nodes keep their Kmem sizes, jobs and
processes are the sums of their children, a process with VMO references gets one node per
distinct VMO (mapped: committed / share_count; handle-only: committed / (share_count + 1),
truncated), same-named VMOs fold into one `name[n]` node (unnamed ones stay apart as
`<unnamed>`), and "unknown (kernel & unmapped)" is kernel/vmo minus the root job.
`treemap_html` renders it as one self-contained page (treemap_page.PAGE: inline CSS and JS,
nothing fetched).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from zmtop.engine.formats.names import safe_name
from zmtop.engine.formats.sizes import treemap_size
from zmtop.engine.formats.treemap_page import PAGE
from zmtop.engine.snapshot.records import Process, Snapshot

UNNAMED_NAME = "<unnamed>"


class Node:
    """One box of the treemap: type is "kernel", "j", "p", "vmo" or "" (untagged)."""

    __slots__ = ("area", "children", "id", "koid", "name", "type")

    def __init__(self, id: str, type: str, name: str, area: int = 0, koid: int = 0) -> None:
        self.id = id
        self.type = type
        self.koid = koid
        self.name = name
        self.area = area
        self.children: list[Node] = []


def label(node: Node) -> str:
    """`name (size)`, as the webtreemap boxes show it (unnamed VMOs as `UNNAMED [koid N]`)."""
    name = f"UNNAMED [koid {node.koid}]" if node.name in ("", UNNAMED_NAME) else node.name
    return f"{name} ({treemap_size(node.area)})"


def _process_node(snap: Snapshot, proc: Process) -> Node:
    node = Node(f"p/{proc.koid}", "p", safe_name(proc.name), koid=proc.koid)
    if not proc.vmo_refs:
        pss = proc.pss_bytes
        for suffix, name, area in (("priv", "Private", proc.private_bytes),
                                   ("shared", "Proportional shared",
                                    max(0, pss - proc.private_bytes))):
            if area:
                node.children.append(Node(f"{node.id}/{suffix}", "", name, area))
        node.area = sum(c.area for c in node.children)
        return node
    mapped: dict[int, bool] = {}
    for ref in proc.vmo_refs:
        mapped[ref.vmo_koid] = mapped.get(ref.vmo_koid, False) or not ref.via_handle
    by_name: dict[str, list[Node]] = defaultdict(list)
    for koid, is_mapped in mapped.items():
        vmo = snap.vmos[koid]
        share = vmo.share_count if is_mapped else vmo.share_count + 1
        area = int(vmo.committed_bytes / share) if share else vmo.committed_bytes
        name = safe_name(vmo.name) or UNNAMED_NAME
        by_name[name].append(Node(f"{node.id}/vmo/{koid}", "vmo", name, area, koid))
    for name, vmos in by_name.items():
        if len(vmos) == 1 or name == UNNAMED_NAME:
            node.children.extend(vmos)
        else:
            node.children.append(Node(f"{node.id}/vmo/{name}", "vmo", f"{name}[{len(vmos)}]",
                                      sum(v.area for v in vmos)))
    node.area = sum(c.area for c in node.children)
    return node


def _job_node(snap: Snapshot, koid: int) -> Node:
    job = snap.jobs[koid]
    node = Node(f"j/{koid}", "j", safe_name(job.name), koid=koid)
    node.children = [_process_node(snap, snap.processes[p]) for p in job.processes]
    node.children += [_job_node(snap, j) for j in job.jobs]
    node.area = sum(c.area for c in node.children)
    return node


def build_tree(snap: Snapshot) -> Node:
    """The root "All physical memory" node, children in memgraph record order."""
    k = snap.kmem
    root = Node("kernel/physmem", "kernel", "All physical memory", k.total_bytes)
    vmo = Node("kernel/vmo", "kernel", "VMOs/processes", k.vmo_bytes)
    heap = Node("kernel/heap", "kernel", "heap", k.total_heap_bytes)
    heap.children = [
        Node("kernel/heap/allocated", "kernel", "heap/allocated",
             k.total_heap_bytes - k.free_heap_bytes),
        Node("kernel/heap/free", "kernel", "heap/free", k.free_heap_bytes),
    ]
    root.children = [
        Node("kernel/free", "kernel", "free", k.free_bytes), vmo, heap,
        Node("kernel/wired", "kernel", "wired", k.wired_bytes),
        Node("kernel/mmu", "kernel", "mmu", k.mmu_overhead_bytes),
        Node("kernel/other", "kernel", "other", k.other_bytes),
    ]
    root_job = _job_node(snap, snap.root_job)
    root_job.name = "root job"
    vmo.children = [root_job, Node("kernel/vmo/unknown", "kernel", "unknown (kernel & unmapped)",
                                   k.vmo_bytes - root_job.area)]
    return root


def _compact(node: Node, names: dict[str, int]) -> list[Any]:
    """[name index, type letter, koid, area, children?]: the page's data, small for 45k nodes."""
    index = names.setdefault(node.name, len(names))
    out: list[Any] = [index, node.type[:1], node.koid, node.area]
    if node.children:
        out.append([_compact(c, names) for c in node.children])
    return out


def treemap_html(snap: Snapshot) -> str:
    """One self-contained HTML page: zoomable treemap plus treemap.py's table, no fetches."""
    names: dict[str, int] = {}
    tree = _compact(build_tree(snap), names)
    data = json.dumps({"names": list(names), "tree": tree, "source": snap.source,
                       "tick": snap.tick}, separators=(",", ":"))
    return PAGE.replace("/*DATA*/null", data.replace("<", "\\u003c"))
