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
- "vmo_attribution": the per-VMO RFC-0254 figures are 0.
Process `uss_bytes`, `rss_bytes` and `pss_fixed` hold the summary's private, total and scaled
(memory_monitor's own attribution); Vmo `share_count` is the summary's share count and
`process_count` the processes listing the VMO.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, NamedTuple

from msgspec import structs

from engine.imports import ImportedSource, SourceError, count, counts, expect, member
from engine.pressure import LEVELS, Watermarks, raw_level
from engine.snapshot import (
    FRACTION_ONE,
    VMO_IS_COW_CLONE,
    VMO_TYPE_PAGED,
    Changes,
    Job,
    Kmem,
    Process,
    Snapshot,
    Vmo,
    VmoRef,
)

# Kmem field per capture Kernel key, in the capture's order.
KERNEL_FIELDS = {
    "total": "total_bytes", "free": "free_bytes", "wired": "wired_bytes",
    "total_heap": "total_heap_bytes", "free_heap": "free_heap_bytes", "vmo": "vmo_bytes",
    "mmu": "mmu_overhead_bytes", "ipc": "ipc_bytes", "other": "other_bytes",
}
EXTENDED_FIELDS = ("vmo_pager_total", "vmo_pager_newest", "vmo_pager_oldest",
                   "vmo_discardable_locked", "vmo_discardable_unlocked", "vmo_reclaim_disabled")
VMO_COLUMNS = ("koid", "name", "parent_koid", "committed_bytes", "allocated_bytes")
SOURCE_PREFIX = "capture:"
MISSING = frozenset({"jobs", "threads", "mappings", "handles", "via", "task_stats",
                     "vmo_flags", "vmo_attribution"})


class Sizes(NamedTuple):
    """A summary's figures for one process (memory_monitor's Sizes)."""

    private: int
    scaled: int
    total: int


# --- summary attribution ---------------------------------------------------------------------


def process_vmo_sets(snap: Snapshot) -> dict[int, set[int]]:
    """Per process, the VMOs it references and all their ancestors present in the snapshot."""
    vmos = snap.vmos
    out: dict[int, set[int]] = {}
    for pkoid, proc in snap.processes.items():
        reached: set[int] = set()
        for ref in proc.vmo_refs:
            koid = ref.vmo_koid
            while koid in vmos and koid not in reached:
                reached.add(koid)
                koid = vmos[koid].parent_koid
        out[pkoid] = reached
    return out


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
    shares = Counter(koid for reached in sets.values() for koid in reached)
    vmos = snap.vmos
    out: dict[int, Sizes] = {}
    for pkoid, reached in sets.items():
        if not reached:
            continue
        private = scaled = total = 0
        for koid in reached:
            committed = vmos[koid].committed_bytes
            total += committed
            if shares[koid] == 1:
                private += committed
                scaled += committed
            else:
                scaled += committed // shares[koid]
        out[pkoid] = Sizes(private, scaled, total)
    return out


def to_csv(snap: Snapshot) -> str:
    """`ffx profile memory --csv`: `sec,koid,name,private,scaled,total` per process, no header,
    seconds truncated, largest private first (then koid), no kernel row (ffx keeps it apart)."""
    sec = snap.time_ns // 1_000_000_000
    summary = summarize(snap)
    order = sorted(summary, key=lambda k: (-summary[k].private, k))
    return "".join(
        f"{sec},{k},{snap.processes[k].name},{summary[k].private},{summary[k].scaled},"
        f"{summary[k].total}\n" for k in order
    )


# --- export ----------------------------------------------------------------------------------


def to_capture(snap: Snapshot) -> dict[str, Any]:
    """The capture memory_monitor would print for this system (JsonPrinter::PrintCapture).

    Processes list their distinct VMO koids in first-reference order; Vmos hold the captured
    VMOs by koid; VmoNames are sorted by how often processes reference each name, descending
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
        "Kernel": {key: getattr(kmem, attr) for key, attr in KERNEL_FIELDS.items()},
        "Processes": [["koid", "name", "vmos"]] + [
            [pkoid, snap.processes[pkoid].name, listed[pkoid]] for pkoid in sorted(listed)],
        "VmoNames": names,
        "Vmos": [list(VMO_COLUMNS)] + [
            [v.koid, index[v.name], v.parent_koid, v.committed_bytes, v.size_bytes]
            for v in (snap.vmos[k] for k in kept)],
    }


def capture_json(snap: Snapshot) -> str:
    """`to_capture` as memory_monitor writes it: compact JSON (rapidjson's Writer), UTF-8."""
    return json.dumps(to_capture(snap), ensure_ascii=False, separators=(",", ":"))


# --- import ----------------------------------------------------------------------------------


def parse_capture(doc: Any, label: str) -> ImportedSource:
    """A decoded capture, plain or wrapped as `{"Capture": ..., "Buckets": ...}`."""
    expect(doc, dict, "$")
    buckets = None
    prefix = ""
    if "Capture" in doc:
        if "Buckets" in doc:
            from engine.digest import parse_buckets

            buckets = parse_buckets(doc["Buckets"], "Buckets")
        doc = expect(doc["Capture"], dict, "Capture")
        prefix = "Capture."
    kernel = expect(member(doc, "Kernel", prefix + "$"), dict, prefix + "Kernel")
    kmem = Kmem(**{attr: count(member(kernel, key, prefix + "Kernel"), f"{prefix}Kernel.{key}")
                   for key, attr in KERNEL_FIELDS.items()})
    extended = {key: count(kernel[key], f"{prefix}Kernel.{key}")
                for key in EXTENDED_FIELDS if key in kernel}
    time_ns = count(member(doc, "Time", prefix + "$"), prefix + "Time")
    names = _names(doc, prefix)
    rows = _vmo_rows(doc, prefix, len(names))
    processes = _process_rows(doc, prefix, rows)
    snap = _snapshot(label, time_ns, kmem, processes, rows, names)
    return ImportedSource(snap, "capture", MISSING, buckets, extended)


def _names(doc: dict, prefix: str) -> list[str]:
    path = prefix + "VmoNames"
    names = expect(member(doc, "VmoNames", prefix + "$"), list, path)
    for i, name in enumerate(names):
        expect(name, str, f"{path}[{i}]")
    return names


def _header(table: list, path: str, columns: tuple[str, ...]) -> list[int]:
    """Column index of each wanted column, from the table's header row."""
    if not table:
        raise SourceError(f"{path}: missing the header row")
    header = expect(table[0], list, f"{path}[0]")
    for i, cell in enumerate(header):
        expect(cell, str, f"{path}[0][{i}]")
    for column in columns:
        if column not in header:
            raise SourceError(f"{path}[0]: missing column \"{column}\"")
    return [header.index(column) for column in columns]


def _vmo_rows(doc: dict, prefix: str, name_count: int) -> dict[int, tuple[int, int, int, int, int]]:
    """koid -> (koid, name index, parent, committed, size), checked."""
    path = prefix + "Vmos"
    table = expect(member(doc, "Vmos", prefix + "$"), list, path)
    columns = _header(table, path, VMO_COLUMNS)
    width = len(table[0])
    out: dict[int, tuple[int, int, int, int, int]] = {}
    for i in range(1, len(table)):
        row = expect(table[i], list, f"{path}[{i}]")
        if len(row) != width:
            raise SourceError(f"{path}[{i}]: {len(row)} values for {width} columns")
        koid, name, parent, committed, size = counts(row, columns, f"{path}[{i}]")
        if koid == 0:
            raise SourceError(f"{path}[{i}][{columns[0]}]: koid 0 is invalid")
        if name >= name_count:
            raise SourceError(f"{path}[{i}][{columns[1]}]: name index {name} is past VmoNames")
        if koid in out:
            raise SourceError(f"{path}[{i}][{columns[0]}]: VMO {koid} listed twice")
        out[koid] = (koid, name, parent, committed, size)
    _check_acyclic(out, path)
    return out


def _check_acyclic(rows: dict[int, tuple[int, int, int, int, int]], path: str) -> None:
    done: set[int] = set()
    for start in rows:
        chain: set[int] = set()
        koid = start
        while koid in rows and koid not in done:
            if koid in chain:
                raise SourceError(f"{path}: VMO {koid} is its own ancestor")
            chain.add(koid)
            koid = rows[koid][2]
        done |= chain


def _process_rows(doc: dict, prefix: str, vmos: dict) -> list[tuple[int, str, list[int]]]:
    path = prefix + "Processes"
    table = expect(member(doc, "Processes", prefix + "$"), list, path)
    k_col, n_col, v_col = _header(table, path, ("koid", "name", "vmos"))
    width = len(table[0])
    out, seen = [], set()
    for i in range(1, len(table)):
        row = expect(table[i], list, f"{path}[{i}]")
        if len(row) != width:
            raise SourceError(f"{path}[{i}]: {len(row)} values for {width} columns")
        koid = count(row[k_col], f"{path}[{i}][{k_col}]")
        if koid in seen:
            raise SourceError(f"{path}[{i}][{k_col}]: process {koid} listed twice")
        seen.add(koid)
        name = expect(row[n_col], str, f"{path}[{i}][{n_col}]")
        listed = expect(row[v_col], list, f"{path}[{i}][{v_col}]")
        for j, vmo in enumerate(listed):
            if count(vmo, f"{path}[{i}][{v_col}][{j}]") not in vmos:
                raise SourceError(f"{path}[{i}][{v_col}][{j}]: VMO {vmo} is not in Vmos")
        out.append((koid, name, listed))
    return out


def _snapshot(label: str, time_ns: int, kmem: Kmem, rows: list, vmo_rows: dict,
              names: list[str]) -> Snapshot:
    root = 1 + max([0, *vmo_rows, *(koid for koid, _, _ in rows)])
    processes = {
        koid: Process(koid, root, name, (), (), tuple(VmoRef(v, False) for v in dict.fromkeys(vmos)),
                      0, 0, 0, 0, 0, 0, 0, 0)
        for koid, name, vmos in rows
    }
    children = Counter(parent for _, _, parent, _, _ in vmo_rows.values())
    listing = Counter(v for _, _, vmos in rows for v in set(vmos))
    vmos = {
        koid: Vmo(koid, names[name], size, parent, children[koid], 0, 0, committed,
                  VMO_TYPE_PAGED | (VMO_IS_COW_CLONE if parent else 0), listing[koid], 0, 0, 0)
        for koid, name, parent, committed, size in vmo_rows.values()
    }
    snap = Snapshot(
        tick=0, time_ns=time_ns, source=SOURCE_PREFIX + label, kmem=kmem,
        pressure=LEVELS[raw_level(kmem.free_bytes, Watermarks())], root_job=root,
        jobs={root: Job(root, 0, "root", False, (), tuple(processes))},
        processes=processes, vmos=vmos,
        changes=Changes(jobs=frozenset({root}), processes=frozenset(processes),
                        vmos=frozenset(vmos)),
    )
    return with_summary(snap, share_counts=True)


def with_summary(snap: Snapshot, *, share_counts: bool = False) -> Snapshot:
    """The snapshot with each process's summary in its attributed fields (and, if asked, each
    VMO's summary share count): for imports, whose data has no page-level truth."""
    summary = summarize(snap)
    processes = {
        pkoid: structs.replace(proc, uss_bytes=summary[pkoid].private,
                               rss_bytes=summary[pkoid].total,
                               pss_fixed=summary[pkoid].scaled * FRACTION_ONE)
        if pkoid in summary else proc
        for pkoid, proc in snap.processes.items()
    }
    vmos = snap.vmos
    if share_counts:
        shares = Counter(k for reached in process_vmo_sets(snap).values() for k in reached)
        vmos = {koid: structs.replace(vmo, share_count=shares[koid]) if shares[koid] else vmo
                for koid, vmo in vmos.items()}
    return structs.replace(snap, processes=processes, vmos=vmos)
