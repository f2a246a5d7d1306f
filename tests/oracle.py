"""A brute-force, page-by-page model of both accounting rules: the tests' ground truth.

Deliberately naive and independent of `engine.accounting.accountant`: it walks every page of every VMO
up its clone chain, learns who references what from the process side (handle tables and VMAR
trees), and computes with exact fractions. Slow, but obviously right.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from zmtop.engine.sim import kernel as k
from zmtop.engine.snapshot.records import FRACTION_ONE, PAGE_SIZE

Page = tuple[int, int]  # (koid of the VMO holding it, page index in that VMO)


@dataclass
class VmoFigures:
    """Attributed (RFC-0254) figures of one VMO, in bytes."""

    private: int = 0  # pages no other sharer reaches
    scaled: Fraction = Fraction(0)  # reached pages, each divided among its sharers
    total: int = 0  # every page it reaches
    reached: set[Page] = field(default_factory=set)


@dataclass
class ProcessFigures:
    mapped: int = 0
    private: int = 0
    shared: int = 0
    scaled_shared: int = 0
    uss: int = 0
    rss: int = 0
    pss: Fraction = Fraction(0)
    vmos: set[int] = field(default_factory=set)  # koids held or mapped
    mapped_at: dict[int, int] = field(default_factory=dict)  # mapping base -> legacy bytes


@dataclass
class Oracle:
    vmos: dict[int, VmoFigures]
    processes: dict[int, ProcessFigures]
    mappers: dict[int, set[int]]  # VMO koid -> koids of processes mapping it
    referrers: dict[int, set[int]]  # VMO koid -> koids of processes holding or mapping it
    process_reachable: int  # bytes of the pages some process's VMOs reach

    @staticmethod
    def fixed(value: Fraction) -> Fraction:
        """A byte figure in the engine's fixed point (FRACTION_ONE per byte)."""
        return value * FRACTION_ONE


def mappings_of(process: k.Process) -> list[k.Mapping]:
    """Every mapping in the process's VMAR tree."""
    out, stack = [], [process.root_vmar]
    while stack:
        vmar = stack.pop()
        for child in vmar.children:
            if isinstance(child, k.Vmar):
                stack.append(child)
            else:
                out.append(child)
    return out


def own_pages(vmo: k.Vmo) -> set[int]:
    """Indices of the pages a VMO holds itself, read off its bitmap's binary digits."""
    digits = bin(vmo.own)[2:][::-1]
    return {index for index, digit in enumerate(digits) if digit == "1"}


def holder_of(vmo: k.Vmo, index: int, owns: dict[int, set[int]]) -> Page | None:
    """The page a VMO's page `index` shows: its own, else the nearest ancestor's, if any."""
    node = vmo
    while node is not None:
        if not 0 <= index < node.size_pages:
            return None  # outside this VMO's window: nothing above is visible
        if index in owns[node.koid]:
            return (node.koid, index)
        index += node.parent_offset
        node = node.parent
    return None


def compute(kernel: k.Kernel) -> Oracle:
    mappers: dict[int, set[int]] = {koid: set() for koid in kernel.vmos}
    referrers: dict[int, set[int]] = {koid: set() for koid in kernel.vmos}
    process_mappings = {}
    for process in kernel.processes.values():
        process_mappings[process.koid] = mappings_of(process)
        for mapping in process_mappings[process.koid]:
            mappers[mapping.vmo.koid].add(process.koid)
            referrers[mapping.vmo.koid].add(process.koid)
        for handle in process.handles:
            if isinstance(handle.obj, k.Vmo):
                referrers[handle.obj.koid].add(process.koid)

    # Which VMOs reach each physical page.
    vmos = {koid: VmoFigures() for koid in kernel.vmos}
    owns = {koid: own_pages(vmo) for koid, vmo in kernel.vmos.items()}
    reachers: dict[Page, list[int]] = defaultdict(list)
    for vmo in kernel.vmos.values():
        figures = vmos[vmo.koid]
        if vmo.parent is None:  # nothing above: it shows its own pages and nothing else
            figures.reached = {(vmo.koid, index) for index in owns[vmo.koid]}
        else:
            for index in range(vmo.size_pages):
                page = holder_of(vmo, index, owns)
                if page is not None:
                    figures.reached.add(page)
        figures.total = len(figures.reached) * PAGE_SIZE
        for page in figures.reached:
            reachers[page].append(vmo.koid)

    # Attributed: each page divided among its sharers (VMOs some process references).
    reachable_pages = 0
    by_sharers: dict[int, dict[int, int]] = {koid: {} for koid in kernel.vmos}  # n -> pages
    for koids in reachers.values():
        sharers = [koid for koid in koids if referrers[koid]]
        if not sharers:
            continue
        reachable_pages += 1
        for koid in sharers:
            counts = by_sharers[koid]
            counts[len(sharers)] = counts.get(len(sharers), 0) + 1
    for koid, counts in by_sharers.items():
        vmos[koid].private = counts.get(1, 0) * PAGE_SIZE
        vmos[koid].scaled = sum((Fraction(pages * PAGE_SIZE, n) for n, pages in counts.items()),
                                Fraction(0))

    processes: dict[int, ProcessFigures] = {}
    for process in kernel.processes.values():
        figures = processes[process.koid] = ProcessFigures()
        # Legacy: per mapping, the pages the mapped VMO itself holds in the mapped range.
        for mapping in process_mappings[process.koid]:
            vmo = mapping.vmo
            window = range(mapping.offset_pages, mapping.offset_pages + mapping.pages)
            pages = len(owns[vmo.koid].intersection(window))
            nbytes = pages * PAGE_SIZE
            shr = len(mappers[vmo.koid])
            figures.mapped += nbytes
            figures.mapped_at[mapping.base] = nbytes
            if shr == 1:
                figures.private += nbytes
            else:
                figures.shared += nbytes
                figures.scaled_shared += nbytes // shr
            figures.vmos.add(vmo.koid)
        figures.vmos.update(h.obj.koid for h in process.handles if isinstance(h.obj, k.Vmo))
        # Attributed: each referenced VMO's share divided among the processes referencing it.
        for koid in figures.vmos:
            count = len(referrers[koid])
            figures.rss += vmos[koid].total
            figures.pss += vmos[koid].scaled / count
            if count == 1:
                figures.uss += vmos[koid].private
    return Oracle(vmos, processes, mappers, referrers, reachable_pages * PAGE_SIZE)


def assert_snapshot_matches(snapshot, kernel: k.Kernel) -> Oracle:
    """Every VMO and process record of `snapshot` against the oracle of `kernel`.

    Legacy figures and byte counts must be exact. The engine's fixed-point scaled figures
    floor once per page (and once per VMO when divided among processes), so they may fall
    short of the exact fraction by less than one unit per page counted.
    """
    truth = compute(kernel)
    assert set(snapshot.vmos) == set(kernel.vmos)
    assert set(snapshot.processes) == set(kernel.processes)
    for koid, record in snapshot.vmos.items():
        vmo, want = kernel.vmos[koid], truth.vmos[koid]
        assert record.committed_bytes == len(own_pages(vmo)) * PAGE_SIZE, koid
        # VmObject::share_count(): 1 below two mappings, never 0.
        shares = len(truth.mappers[koid]) if len(vmo.mappings) >= 2 else 1
        assert record.share_count == shares, koid
        assert record.process_count == len(truth.referrers[koid]), koid
        assert (record.private_bytes, record.total_bytes) == (want.private, want.total), koid
        error = Oracle.fixed(want.scaled) - record.scaled_fixed
        assert 0 <= error < len(want.reached) + 1, (koid, error)
    for koid, record in snapshot.processes.items():
        want = truth.processes[koid]
        legacy = (record.mapped_bytes, record.private_bytes, record.shared_bytes,
                  record.scaled_shared_bytes)
        assert legacy == (want.mapped, want.private, want.shared, want.scaled_shared), koid
        assert (record.uss_bytes, record.rss_bytes) == (want.uss, want.rss), koid
        entries = {m.base: m.committed_bytes for m in record.maps if m.type == "M"}
        assert entries == want.mapped_at, koid
        bound = sum(len(truth.vmos[v].reached) + 1 for v in want.vmos) + 1
        error = Oracle.fixed(want.pss) - record.pss_fixed
        assert 0 <= error < bound, (koid, error)
    return truth


def assert_changes_accurate(previous, snapshot) -> None:
    """`snapshot.changes` against the previous snapshot: a record not listed as changed is
    the previous snapshot's, a listed one is new or different."""
    changes = snapshot.changes
    for kind in ("jobs", "processes", "vmos"):
        old, new = getattr(previous, kind), getattr(snapshot, kind)
        changed, removed = getattr(changes, kind), getattr(changes, f"removed_{kind}")
        assert removed == old.keys() - new.keys(), kind
        assert changed <= new.keys(), kind
        assert new.keys() - old.keys() <= changed, kind
        for koid, record in new.items():
            if koid in changed:
                assert old.get(koid) != record, (kind, koid)  # no spurious changes
            else:
                assert old[koid] == record, (kind, koid)
    for kind, moves in (("vmos", changes.vmo_moves), ("processes", changes.process_moves)):
        old, new = getattr(previous, kind), getattr(snapshot, kind)
        assert moves.keys() <= getattr(changes, kind), kind
        for koid, moved in moves.items():
            assert old[koid].moved(moved) == new[koid], (kind, koid)
