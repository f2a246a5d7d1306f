"""memory_monitor captures (reference 4.3): import to a Snapshot, export from one, and the
summary attribution memory_monitor and `ffx profile memory` print (reference 4.4).

A capture knows processes, the VMO koids each references, and VMOs (name, parent, committed,
size). What it does not hold is left 0 or empty in the Snapshot and named in `missing`:
- "jobs": one synthetic root job "root" holds every process; its koid is one above any koid.
- "threads", "mappings" (`maps=()`, `num_mappings=0`), "handles" (`handle_count=0`).
- "via": a capture does not say whether a VMO is reached by handle or mapping; each listed
  VMO becomes one `VmoRef(via_handle=False)`, so no handle rights are shown as if known.
- "task_stats": ps's legacy PRIVATE/SHARED/PSS need mappings; they are 0.
- "vmo_flags": flags are inferred: every VMO paged, a clone if it has a parent.
Process `uss_bytes`, `rss_bytes` and `pss_fixed` hold the summary's private, total and scaled
(memory_monitor's own attribution); Vmo `share_count` is the summary's share count and
`process_count` the processes listing the VMO. A VMO's attributed figures follow from the
same data: the kernel of a capture counted each page for one VMO (RFC-0254's old rule), so
a VMO reaches its committed bytes alone, and they are its private, scaled and total bytes
once some process reaches it (`records.leaf_figures`); a VMO no process reaches is nobody's
share. The summary then divides them among the processes that reach the VMO.

engine.sources.capture_reader parses captures; this module exports them and computes the summary.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from itertools import chain, compress
from operator import attrgetter, floordiv
from typing import Any, NamedTuple

from msgspec import structs

from zmtop.engine.formats.csvout import csv_text
from zmtop.engine.formats.names import json_safe
from zmtop.engine.snapshot.records import FRACTION_ONE, Snapshot, leaf_figures, pager_fields

# Kmem field per capture Kernel key, in the capture's order.
KERNEL_FIELDS = {
    "total": "total_bytes", "free": "free_bytes", "wired": "wired_bytes",
    "total_heap": "total_heap_bytes", "free_heap": "free_heap_bytes", "vmo": "vmo_bytes",
    "mmu": "mmu_overhead_bytes", "ipc": "ipc_bytes", "other": "other_bytes",
}
VMO_COLUMNS = ("koid", "name", "parent_koid", "committed_bytes", "allocated_bytes")
SOURCE_PREFIX = "capture:"


class Sizes(NamedTuple):
    """A summary's figures for one process (memory_monitor's Sizes)."""

    private: int
    scaled: int
    total: int


NOTHING = Sizes(0, 0, 0)


# --- summary attribution ---------------------------------------------------------------------


def reached_vmos(listed: Iterable[int], parent_of: dict[int, int]) -> set[int]:
    """The VMOs of `listed` that `parent_of` (koid -> parent koid) holds and all their
    ancestors it holds: what a process pays for."""
    return reach_with_parents(listed, parent_of)[0]


def reach_with_parents(listed: Iterable[int],
                       parent_of: dict[int, int]) -> tuple[set[int], set[int]]:
    """`reached_vmos`, and the parent koids met on the way, held or not. Whole sets step up
    one generation at a time."""
    known = parent_of.keys()
    reached = known & set(listed)
    met: set[int] = set()
    step = reached
    while step:
        parents = set(map(parent_of.__getitem__, step))
        met |= parents
        step = (known & parents) - reached
        reached |= step
    return reached, met


def process_vmo_sets(snap: Snapshot) -> dict[int, set[int]]:
    """Per process, the VMOs it references and all their ancestors present in the snapshot."""
    vmos = snap.vmos
    parent_of = dict(zip(vmos, map(attrgetter("parent_koid"), vmos.values())))
    return {pkoid: reached_vmos(map(attrgetter("vmo_koid"), proc.vmo_refs), parent_of)
            for pkoid, proc in snap.processes.items()}


def capture_vmos(snap: Snapshot) -> set[int]:
    """The VMOs a memory_monitor capture of this system lists: all of an imported capture's,
    else those processes reference and their ancestors (what memory_monitor would collect)."""
    if snap.source.startswith(SOURCE_PREFIX):
        return set(snap.vmos)
    return set().union(*process_vmo_sets(snap).values())


def summarize(snap: Snapshot) -> dict[int, Sizes]:
    """memory_monitor's Summary: a process pays for every VMO it reaches up the parent chain;
    private if no other process reaches it, scaled by the number of processes that do.
    Processes reaching no VMO are left out, as memory_monitor does."""
    sets = process_vmo_sets(snap)
    shares = Counter(chain.from_iterable(sets.values()))
    vmos = snap.vmos
    return {pkoid: sizes_of([vmos[k].committed_bytes for k in reached],
                          list(map(shares.__getitem__, reached)))
            for pkoid, reached in sets.items() if reached}


# Speed: sums in C (compress, map); bench: "capture: load + digest + render" (import_bench).
def sizes_of(committed: list[int], shares: list[int]) -> Sizes:
    """A process's Sizes from the committed bytes of the VMOs it reaches and how many
    processes reach each."""
    return Sizes(sum(compress(committed, map((1).__eq__, shares))),
                 sum(map(floordiv, committed, shares)), sum(committed))


def to_csv(snap: Snapshot) -> str:
    """`ffx profile memory --csv`: `sec,koid,name,private,scaled,total` per process, no header,
    seconds truncated, largest private first (then koid), no kernel row (ffx keeps it apart);
    a name is escaped, and quoted only if it must be (formats.csvout)."""
    sec = snap.time_ns // 1_000_000_000
    summary = summarize(snap)
    order = sorted(summary, key=lambda k: (-summary[k].private, k))
    return csv_text((sec, k, snap.processes[k].name, summary[k].private, summary[k].scaled,
                     summary[k].total) for k in order)


# --- export ----------------------------------------------------------------------------------


def to_capture(snap: Snapshot) -> dict[str, Any]:
    """The capture memory_monitor would print for this system (JsonPrinter::PrintCapture).

    Kernel carries the extended stats' pager fields when anything is pager-backed (the
    discardable ones are not modelled). Processes list their distinct VMO koids in
    first-reference order; Vmos hold the captured VMOs by koid; VmoNames are sorted by how
    often processes reference each name, descending
    (ties by name, where memory_monitor's order is a hash table's).
    """
    kmem = snap.kmem
    listed = {pkoid: list(dict.fromkeys(r.vmo_koid for r in proc.vmo_refs))
              for pkoid, proc in snap.processes.items()}
    uses = Counter(snap.vmos[k].name for koids in listed.values() for k in koids)
    kept = sorted(capture_vmos(snap))
    for koid in kept:
        uses.setdefault(snap.vmos[koid].name, 0)
    names = sorted(uses, key=lambda n: (-uses[n], n))
    index = {name: i for i, name in enumerate(names)}
    return {
        "Time": snap.time_ns,
        "Kernel": {key: getattr(kmem, attr) for key, attr in KERNEL_FIELDS.items()}
                  | pager_fields(kmem),
        "Processes": [["koid", "name", "vmos"]] + [
            [pkoid, snap.processes[pkoid].name, listed[pkoid]] for pkoid in sorted(listed)],
        "VmoNames": names,
        "Vmos": [list(VMO_COLUMNS)] + [
            [v.koid, index[v.name], v.parent_koid, v.committed_bytes, v.size_bytes]
            for v in (snap.vmos[k] for k in kept)],
    }


def capture_json(snap: Snapshot) -> str:
    """`to_capture` as memory_monitor writes it: compact JSON (rapidjson's Writer), UTF-8."""
    return json_safe(json.dumps(to_capture(snap), ensure_ascii=False, separators=(",", ":")))


def with_summary(snap: Snapshot) -> Snapshot:
    """The snapshot with each process's summary in its attributed fields, and each VMO's
    figures as the summary sees them (see the module's docstring): for imports, whose data
    has no page-level truth."""
    summary = summarize(snap)
    processes = {
        pkoid: structs.replace(proc, uss_bytes=summary[pkoid].private,
                               rss_bytes=summary[pkoid].total,
                               pss_fixed=summary[pkoid].scaled * FRACTION_ONE)
        if pkoid in summary else proc
        for pkoid, proc in snap.processes.items()
    }
    reached = set().union(*process_vmo_sets(snap).values())
    vmos = {koid: structs.replace(vmo, **dict(zip(
                ("private_bytes", "scaled_fixed", "total_bytes"),
                leaf_figures(vmo.committed_bytes, koid in reached))))
            for koid, vmo in snap.vmos.items()}
    return structs.replace(snap, processes=processes, vmos=vmos)
