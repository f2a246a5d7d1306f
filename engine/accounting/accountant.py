"""Memory accounting: turns the kernel's state into snapshot records, paying per change.

Two answers, side by side:

* Legacy, as ps/vmaps/vmos compute it (zx_info_task_stats_t): for each mapping, the pages
  the mapped VMO itself holds in the mapped range count as PRIVATE when one address space
  maps the VMO (`#shr == 1`), else as SHARED, scaled by `1/#shr`. Unmapped VMOs are
  ignored, a page mapped twice counts twice, a clone's clean pages count for its parent.
* Attributed (RFC-0254): each committed page is divided evenly among the VMOs that reach
  it and are held or mapped by some process (its sharers), then each VMO's part is divided
  among the processes holding or mapping it. Handle-only VMOs count. So the PSS of all
  processes adds up to the pages processes can reach.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from itertools import compress, repeat
from operator import attrgetter, eq, mul
from typing import TypeVar

from msgspec import structs

from zmtop.engine.sim import kernel as k
from zmtop.engine.snapshot.records import (
    COMMITTED,
    FRACTION_ONE,
    HOLDER,
    PAGE_SIZE,
    PRIVATE,
    PROCESS_FIGURES,
    PSS_FIXED,
    RSS,
    SCALED_SHARED,
    SHARED,
    USS,
    Changes,
    Event,
    HandleInfo,
    Job,
    Kmem,
    MapEntry,
    Process,
    ProcessMove,
    Snapshot,
    Thread,
    Vmo,
    VmoRef,
    leaf_figures,
    process_joined,
    vmo_joined,
)
from zmtop.engine.snapshot.tables import Columns, FigureTable, MoveColumns, gather

R = TypeVar("R")

PAGE_FIXED = PAGE_SIZE * FRACTION_ONE
NO_HOLDER, HOLDERS = -1, -2  # the VMO holder column when not one process holds it

def share_count(vmo: k.Vmo) -> int:
    """VmObject::share_count(): 1 for a VMO with fewer than 2 mappings (never 0), else the
    distinct address spaces mapping it."""
    mappings = vmo.mappings
    return len({m.vmar.process.koid for m in mappings}) if len(mappings) >= 2 else 1


def family_of(vmo: k.Vmo) -> list[k.Vmo]:
    """Every VMO of a clone family: the root ancestor and all its descendants."""
    root = vmo
    while root.parent is not None:
        root = root.parent
    out: list[k.Vmo] = []
    stack = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.children)
    return out


def attribute_family(members: list[k.Vmo], sharer: dict[int, bool]) -> dict[int, tuple[int, int, int]]:
    """RFC-0254 figures for each VMO of a family: (private pages, scaled fixed, total pages).

    `sharer[koid]` says whether a VMO is held or mapped by a process. Sharers reaching the
    same pages of the same holder are grouped, so the per-page work is per distinct shape.
    """
    # holder koid -> bitmap in holder coordinates -> sharer koids reaching exactly those pages
    shapes: dict[int, dict[int, list[int]]] = {}
    totals: dict[int, int] = {}
    for vmo in members:
        reached = vmo.reachable()
        totals[vmo.koid] = sum(bits.bit_count() for _, bits, _ in reached)
        if not sharer[vmo.koid]:
            continue
        for holder, bits, offset in reached:
            if bits:  # a VMO that holds no page of its own reaches none of itself
                in_holder = bits << offset
                shapes.setdefault(holder.koid, {}).setdefault(in_holder, []).append(vmo.koid)
    figures = {koid: [0, 0, totals[koid]] for koid in totals}
    for groups in shapes.values():
        for pages, owners in _split_by_sharers(groups):
            count = pages.bit_count()
            share = count * (PAGE_FIXED // len(owners))
            for koid in owners:
                figures[koid][0] += count if len(owners) == 1 else 0
                figures[koid][1] += share
    return {koid: (f[0], f[1], f[2]) for koid, f in figures.items()}


def _split_by_sharers(groups: dict[int, list[int]]) -> list[tuple[int, list[int]]]:
    """Cut a holder's pages into parts reached by the same sharers: (pages, sharer koids),
    from `groups`, the sharers reaching exactly each shape (a bitmap, never empty).

    Bitmap algebra instead of a loop over pages: each shape splits the parts it crosses.
    """
    # Speed: most holders are reached in one shape (a clone's own pages, by itself alone);
    # bench: "default: engine tick CPU" (engine_bench).
    if len(groups) == 1:
        return list(groups.items())
    union = 0
    for bits in groups:
        union |= bits
    parts: list[tuple[int, list[int]]] = [(union, [])] if union else []
    for bits, owners in groups.items():
        split = []
        for pages, sharers in parts:
            inside = pages & bits
            if not inside:
                split.append((pages, sharers))
                continue
            split.append((inside, sharers + owners))
            if outside := pages & ~bits:
                split.append((outside, sharers))
        parts = split
    return parts


_BASE = attrgetter("base")


# Speed: a bisection, not a walk of every entry, for a remapped process's few moved
# mappings; bench: "default: engine tick CPU" (engine_bench).
def _mapping_entry(maps: list[MapEntry], base: int) -> int:
    """The index of the mapping at `base` among a process's map entries, which list its
    VMARs and mappings by base (each VMAR before what it holds at its base) unless some
    overlap (the kernel places a child past its last one once a VMAR has filled)."""
    i = bisect_left(maps, base, key=_BASE)
    while i < len(maps) and maps[i].base == base:
        if maps[i].type == "M":
            return i
        i += 1
    return next(i for i, entry in enumerate(maps) if entry.type == "M" and entry.base == base)


def _fold_alone(delta: list[int], alone: dict[int, int], row: int) -> None:
    """Fold into a process's `delta` the bytes moved in the VMOs it holds alone (`alone`, by
    process row, whose entry is taken out): they move its USS, RSS and PSS alike."""
    nbytes = alone.pop(row, 0)
    delta[USS] += nbytes
    delta[RSS] += nbytes
    delta[PSS_FIXED] += nbytes * FRACTION_ONE


def _move_holders(vmo: k.Vmo, old: Vmo, new: Vmo, structural: set[int],
                  deltas: dict[int, list[int]]) -> None:
    """Add to the deltas of the VMO's holders (bar the structural ones, rebuilt anyway) how
    its record's change moves what it adds to each one's USS (its private pages, if one
    process holds it), RSS, and PSS (its scaled pages over the processes holding it)."""
    d_uss = ((new.private_bytes if new.process_count == 1 else 0)
             - (old.private_bytes if old.process_count == 1 else 0))
    d_rss = new.total_bytes - old.total_bytes
    d_pss = ((new.scaled_fixed // new.process_count if new.process_count else 0)
             - (old.scaled_fixed // old.process_count if old.process_count else 0))
    if not (d_uss or d_rss or d_pss):
        return
    for pkoid in vmo.holders():
        if pkoid in structural:
            continue
        delta = deltas.get(pkoid)
        if delta is None:
            deltas[pkoid] = delta = [0] * PROCESS_FIGURES
        delta[USS] += d_uss
        delta[RSS] += d_rss
        delta[PSS_FIXED] += d_pss


# The kernel's pager-backed page queues age untouched pages one queue per period; the newest
# queue holds pages touched within a period, the oldest those untouched for three.
PAGER_AGING_TICKS = 10
PAGER_OLDEST_TICKS = 3 * PAGER_AGING_TICKS


UNTRACKED = -1  # the tick column of a VMO that is not pager-backed, or is gone


# Speed: a VMO's last mark is an int64 column by its row (the row the page moves come by),
# its bytes are the accountant's committed column, and the bytes marked at each recent tick
# are summed as they are marked, so ageing a tick costs two sums, not a walk; bench:
# "scale: all-in engine tick" (engine_bench).
class PagerAges:
    """Kmem's pager figures: a pager-backed VMO's committed pages are as old as the ticks
    since the kernel last marked it dirty (pages committed or freed, mapped, handed out);
    under PAGER_AGING_TICKS they are newest, from PAGER_OLDEST_TICKS on oldest.

    The sums move with the VMOs marked each tick and with the ticks that reach an age
    limit, never by walking every pager-backed VMO. A tick calls `age`, then `moved` for
    the plain VMOs whose pages moved (the accountant marks their rows in `ticks` as it
    moves their bytes), `unmark` for the VMOs about to be rebuilt, and `mark` once they
    are. A VMO's bytes are read in the committed column it is given, which the accountant
    keeps current: between `unmark` and `mark`, only the VMOs unmarked have their bytes in
    that column changed."""

    def __init__(self, rows: dict[int, int], committed: array[int]) -> None:
        self.rows = rows  # VMO koid -> row (the accountant's VMO columns'); rows only grow
        self.committed = committed  # by row: committed bytes (the accountant's column)
        self.ticks = array("q")  # by row: the tick last marked dirty, or UNTRACKED
        # tick -> bytes of the VMOs last marked at it, for the ticks not yet oldest
        self.recent: dict[int, int] = {}
        self.total = self.newest = self.oldest = 0
        self.aged = 0  # the last tick aged

    def age(self, tick: int) -> None:
        """Take the bytes last marked PAGER_AGING_TICKS ago out of newest, and put those
        marked PAGER_OLDEST_TICKS ago into oldest, for every tick since the last aged."""
        recent = self.recent
        for now in range(self.aged + 1, tick + 1):
            self.newest -= recent.get(now - PAGER_AGING_TICKS, 0)
            self.oldest += recent.pop(now - PAGER_OLDEST_TICKS, 0)
        self.aged = max(self.aged, tick)
        self._grow()

    def _grow(self) -> None:
        """The column as long as the committed column."""
        self.ticks.extend(repeat(UNTRACKED, len(self.committed) - len(self.ticks)))

    def moved(self, leaving: dict[int, int], entering: int) -> None:
        """Plain VMOs' pages moved, marked now (their `ticks` set to the tick aged): the
        bytes they held leave the ticks they were last marked at (`leaving`, by tick), and
        `entering` bytes, the bytes they hold now, are newest."""
        for then, nbytes in leaving.items():
            self._count(then, -nbytes)
        self._count(self.aged, entering)

    def unmark(self, koids: Iterable[int]) -> None:
        """Take out the bytes of the VMOs the kernel marked dirty (counted afresh by `mark`
        once rebuilt), before their committed bytes change."""
        ticks, committed = self.ticks, self.committed
        for koid in koids:
            row = self.rows.get(koid)
            if row is not None and ticks[row] != UNTRACKED:
                self._count(ticks[row], -committed[row])
                ticks[row] = UNTRACKED

    def mark(self, vmos: dict[int, k.Vmo], koids: Iterable[int]) -> None:
        """Count afresh the VMOs unmarked, now rebuilt: each one alive and pager-backed is
        newest, by its committed bytes."""
        self._grow()
        ticks, tick, committed = self.ticks, self.aged, self.committed
        for koid in koids:
            vmo = vmos.get(koid)
            if vmo is not None and vmo.pager_backed:
                row = self.rows[koid]
                ticks[row] = tick
                self._count(tick, committed[row])

    def _count(self, then: int, nbytes: int) -> None:
        """Add (or, negative, take away) bytes last marked at tick `then`: to the total and
        to their age class."""
        self.total += nbytes
        age = self.aged - then
        if age < PAGER_OLDEST_TICKS:
            self.recent[then] = self.recent.get(then, 0) + nbytes
            if age < PAGER_AGING_TICKS:
                self.newest += nbytes
        else:
            self.oldest += nbytes

    def figures(self) -> tuple[int, int, int]:
        """(total, newest, oldest) committed bytes of pager-backed VMOs."""
        return self.total, self.newest, self.oldest


class Accountant:
    """Keeps the latest records and rebuilds only those the kernel marked dirty.

    A VMO outside any clone family whose pages alone changed, and a process whose totals
    alone moved, keep their records: their figures move in columns (engine.snapshot.tables), a
    tick's worth at a time.
    """

    def __init__(self, kernel: k.Kernel, source: str) -> None:
        self.kernel = kernel
        self.source = source
        # Records as last built. Each tick that rebuilds some copies the dict first: the
        # previous snapshot keeps the old one.
        self.vmos: dict[int, Vmo] = {}
        self.processes: dict[int, Process] = {}
        self.jobs: dict[int, Job] = {}
        # Per VMO: committed bytes, and the row of the one process holding it (or
        # NO_HOLDER, or HOLDERS if several do).
        self.vmo_columns = Columns(2)
        self.process_columns = Columns(6)  # Process.figures
        self.pager = PagerAges(self.vmo_columns.rows, self.vmo_columns.values[COMMITTED])
        # A copy of the snapshot this accountant is building, decoded from another boot of
        # the same system (a forked boot's child); None once the boot is done. See `_lend`.
        self.twin: Snapshot | None = None

    # Memory: bench "ui default: RSS" (ui_bench): a forked boot's two copies of a snapshot
    # hold one set of records while it boots, and the one left is this accountant's, whose
    # koids and names are the kernel objects' own (a decoded record has its own of both).
    @staticmethod
    def _lend(record: R, table: Mapping[int, R], koid: int) -> None:
        """Put `record` in the twin's `table` in place of an equal record there, which goes:
        records are immutable, so the table's readers see the same values."""
        if isinstance(table, dict) and table.get(koid) == record:
            table[koid] = record

    def vmo(self, koid: int) -> Vmo:
        """The VMO's current record."""
        return vmo_joined(self.vmos[koid], self.vmo_columns.values,
                          self.vmo_columns.rows[koid])

    def snapshot(self, tick: int, time_ns: int, pressure: str,
                 events: tuple[Event, ...] = ()) -> Snapshot:
        kernel = self.kernel
        structural = set(kernel.dirty_processes)
        for koid in sorted(structural):  # new processes get rows in koid order, so that
            if koid in kernel.processes:  # moves by row are moves by koid
                self.process_columns.row(koid)
        remapped = {koid: mappings for koid, mappings in kernel.remapped.items()
                    if koid not in structural and koid in kernel.processes}
        if structural or remapped:
            self.processes = dict(self.processes)
        # process koid -> moves of its figures, from the VMOs that took the full path and
        # the mappings remapped
        deltas: dict[int, list[int]] = {}
        self.pager.age(tick)
        vmo_moves, alone = self._move_pages(kernel.page_moves, kernel.dirty_vmos, structural,
                                            deltas)
        remaps = self._patch_maps(remapped, deltas)  # before the share counts change
        # a VMO whose pages came and went within the tick is marked all the same
        marked = (kernel.dirty_vmos if 0 not in kernel.page_moves.values()
                  else kernel.dirty_vmos.union(
                      kernel.vmo_koids[row] for row, pages in kernel.page_moves.items()
                      if not pages))
        self.pager.unmark(marked)
        changed_vmos, removed_vmos, updates = self._rebuild_vmos(
            self._expand_families(kernel.dirty_vmos), kernel.dirty_vmos)
        changed_vmos.update(vmo_moves.koids)
        changed_processes, removed_processes = self._rebuild_processes(structural)
        self._collect_update_deltas(updates, structural, deltas)
        changed_processes.update(self._remapped_records(remaps, alone, deltas))
        process_moves = self._apply_deltas(alone, deltas)
        changed_processes.update(process_moves.koids)
        changed_jobs, removed_jobs = self._rebuild_jobs(set(kernel.dirty_jobs))
        self.pager.mark(kernel.vmos, marked)
        kernel.dirty_vmos.clear()
        kernel.page_moves.clear()
        kernel.dirty_processes.clear()
        kernel.remapped.clear()
        kernel.dirty_jobs.clear()
        return Snapshot(
            tick=tick,
            time_ns=time_ns,
            source=self.source,
            kmem=self.kmem(tick),
            pressure=pressure,
            root_job=kernel.root_job.koid,
            jobs=self.jobs,
            processes=FigureTable(self.processes, self.process_columns.rows,
                                  self.process_columns.frozen(6), process_joined),
            vmos=FigureTable(self.vmos, self.vmo_columns.rows, self.vmo_columns.frozen(1),
                             vmo_joined),
            changes=Changes(
                jobs=frozenset(changed_jobs),
                processes=frozenset(changed_processes),
                vmos=frozenset(changed_vmos),
                removed_jobs=frozenset(removed_jobs),
                removed_processes=frozenset(removed_processes),
                removed_vmos=frozenset(removed_vmos),
                vmo_moves=vmo_moves,
                process_moves=process_moves,
            ),
            events=events,
        )

    def kmem(self, tick: int) -> Kmem:
        """The kernel's counters as of `tick`."""
        kernel = self.kernel
        heap_total = kernel.heap_total_bytes
        pager_total, pager_newest, pager_oldest = self.pager.figures()
        return Kmem(
            total_bytes=kernel.total_pages * PAGE_SIZE,
            free_bytes=kernel.free_bytes,
            wired_bytes=kernel.wired_bytes,
            total_heap_bytes=heap_total,
            free_heap_bytes=heap_total - kernel.heap_bytes,
            vmo_bytes=kernel.vmo_pages * PAGE_SIZE,
            mmu_overhead_bytes=kernel.mmu_pages * PAGE_SIZE,
            ipc_bytes=kernel.ipc_bytes,
            other_bytes=kernel.other_bytes,
            vmo_pager_total_bytes=pager_total,
            vmo_pager_newest_bytes=pager_newest,
            vmo_pager_oldest_bytes=pager_oldest,
        )

    def _expand_families(self, koids: set[int]) -> set[int]:
        """A change to one member of a clone family can move the shares of all of them."""
        vmos = self.kernel.vmos
        out = set(koids)
        seen: set[int] = set()
        for koid in koids:
            vmo = vmos.get(koid)
            if vmo is None or koid in seen or (vmo.parent is None and not vmo.children):
                continue
            family = family_of(vmo)
            for member in family:
                seen.add(member.koid)
                out.add(member.koid)
        return out

    def _rebuild_vmos(self, dirty: set[int], marked: set[int]
                      ) -> tuple[set[int], set[int], list[tuple[k.Vmo, Vmo, Vmo]]]:
        """New records for dirty VMOs (those the kernel `marked` and their clone families),
        and (VMO, old record, new record) for each VMO whose record changed."""
        vmos = self.kernel.vmos
        changed: set[int] = set()
        removed: set[int] = set()
        updates: list[tuple[k.Vmo, Vmo, Vmo]] = []
        if dirty:
            self.vmos = dict(self.vmos)
        done_families: set[int] = set()
        for koid in dirty:
            vmo = vmos.get(koid)
            if vmo is None:
                if self.vmos.pop(koid, None) is not None:
                    removed.add(koid)
            elif vmo.parent is None and not vmo.children:
                self._update_vmo(vmo, vmo.holders(), None, changed, updates)
            elif koid not in done_families:
                members = family_of(vmo)
                holders = {m.koid: m.holders() for m in members if m.koid in marked}
                figures = attribute_family(members, {
                    m.koid: bool(holders[m.koid]) if m.koid in holders
                    else self.vmos[m.koid].process_count > 0 for m in members})
                done_families.update(figures)
                for member in members:
                    if member.koid in holders:
                        self._update_vmo(member, holders[member.koid], figures[member.koid],
                                         changed, updates)
                    else:
                        self._refigure_vmo(member, figures[member.koid], changed, updates)
        return changed, removed, updates

    def _update_vmo(self, vmo: k.Vmo, holders: set[int], figures: tuple[int, int, int] | None,
                    changed: set[int], updates: list[tuple[k.Vmo, Vmo, Vmo]]) -> None:
        record = self._vmo_record(vmo, figures, len(holders))
        previous = self.vmo(vmo.koid) if vmo.koid in self.vmos else None
        # The holder column follows the kernel even when the record stays the same (a
        # handle passed from one process to another).
        holder = (self.process_columns.row(next(iter(holders))) if len(holders) == 1
                  else HOLDERS if holders else NO_HOLDER)
        columns = self.vmo_columns
        row = vmo.row
        columns.place(vmo.koid, row)
        columns.values[HOLDER][row] = holder
        if record != previous:
            if self.twin is not None:
                self._lend(record, self.twin.vmos, vmo.koid)
            self.vmos[vmo.koid] = record
            columns.values[COMMITTED][row] = record.committed_bytes
            changed.add(vmo.koid)
            if previous is not None:
                updates.append((vmo, previous, record))

    # Speed: a family member the kernel did not mark keeps its record but for its figures,
    # with no walk of its mappings and handles; bench: "default: engine tick CPU" (engine_bench).
    def _refigure_vmo(self, vmo: k.Vmo, figures: tuple[int, int, int], changed: set[int],
                      updates: list[tuple[k.Vmo, Vmo, Vmo]]) -> None:
        """The record of a clone family member the kernel did not mark with its attributed
        `figures` (as `attribute_family` gives them): only those can have moved, its pages,
        clones, mappings and handles being as they were."""
        previous = self.vmo(vmo.koid)
        private, scaled, total = figures[0] * PAGE_SIZE, figures[1], figures[2] * PAGE_SIZE
        if (private, scaled, total) == (previous.private_bytes, previous.scaled_fixed,
                                        previous.total_bytes):
            return
        record = structs.replace(previous, private_bytes=private, scaled_fixed=scaled,
                                 total_bytes=total)
        if self.twin is not None:
            self._lend(record, self.twin.vmos, vmo.koid)
        self.vmos[vmo.koid] = record
        changed.add(vmo.koid)
        updates.append((vmo, previous, record))

    # Speed: the kernel's page moves come by VMO row, so the columns are read with no
    # lookup by koid, and the per-VMO work is C loops (map, compress) and one plain loop;
    # bench: "scale: accounting per changed VMO" (engine_bench).
    def _move_pages(self, page_moves: dict[int, int], dirty: set[int], structural: set[int],
                    deltas: dict[int, list[int]]) -> tuple[MoveColumns[int], dict[int, int]]:
        """The fast path: VMOs outside any clone family whose pages alone changed (the
        kernel's `page_moves`, by row, bar the dirty VMOs, rebuilt in full anyway).

        Their committed bytes move in the VMO columns; returns those moves, and the bytes
        moved in VMOs that one process holds alone, by that process's row: they move its
        USS, RSS and PSS alike. A VMO that several processes hold moves each one's RSS and
        PSS share in `deltas`. Processes rebuilt anyway (`structural`) are left out.
        """
        koids_by_row = self.kernel.vmo_koids
        if dirty or 0 in page_moves.values():
            page_moves = {row: pages for row, pages in page_moves.items()
                          if pages and koids_by_row[row] not in dirty}
        if not page_moves:
            return MoveColumns([], [[]]), {}
        # Column at a time: C-level gathers cost a fraction of a loop's steps. Rows, given
        # in koid order, sort as koids do.
        committed, holder = self.vmo_columns.values
        rows = sorted(page_moves)
        koids = gather(koids_by_row, rows)
        pages = gather(page_moves, rows)
        alone = self._move_committed(rows, pages)
        if HOLDERS in alone:
            for i in compress(range(len(rows)), map(eq, gather(holder, rows), repeat(HOLDERS))):
                koid = koids[i]
                base, moved = self.vmos[koid], pages[i] * PAGE_SIZE
                before = base.moved(committed[rows[i]] - moved - base.committed_bytes)
                _move_holders(self.kernel.vmos[koid], before, before.moved(moved),
                              structural, deltas)
        process_rows = self.process_columns.rows
        for process in {NO_HOLDER, HOLDERS, *(process_rows[p] for p in structural
                                              if p in process_rows)}:
            alone.pop(process, None)
        return MoveColumns(koids, [pages], [PAGE_SIZE]), alone

    # Speed: one loop reads and writes each moved row's committed bytes, pager mark and
    # holder, where a loop each (and a gather each) cost 0.4 ms more at scale, 4 ms at xl,
    # and works out the bytes moved itself, where a list of them cost 0.25 ms more at scale,
    # 2.5 ms at xl; bench: "xl: all-in engine tick" (engine_bench).
    def _move_committed(self, rows: Sequence[int], pages: Sequence[int]) -> dict[int, int]:
        """Move VMO `rows[i]`'s committed bytes by `pages[i]` pages, mark it in the pager's
        ages if it is pager-backed, and return the bytes moved by holder (a process row,
        NO_HOLDER or HOLDERS)."""
        committed, holder = self.vmo_columns.values
        pager = self.pager
        ticks, tick = pager.ticks, pager.aged
        alone: dict[int, int] = {}
        leaving: dict[int, int] = {}  # tick last marked -> bytes then counted
        get, get_leaving = alone.get, leaving.get
        entering = 0
        for row, npages in zip(rows, pages):
            nbytes = npages * PAGE_SIZE
            old = committed[row]
            committed[row] = old + nbytes
            then = ticks[row]
            if then != UNTRACKED:
                ticks[row] = tick
                leaving[then] = get_leaving(then, 0) + old
                entering += old + nbytes
            process = holder[row]
            alone[process] = get(process, 0) + nbytes
        pager.moved(leaving, entering)
        return alone

    @staticmethod
    def _collect_update_deltas(updates: list[tuple[k.Vmo, Vmo, Vmo]], structural: set[int],
                               deltas: dict[int, list[int]]) -> None:
        """How changed VMO records move the totals of processes whose own mappings and
        handles did not change: such a process references the same VMOs as before."""
        for vmo, old, new in updates:
            for mapping in vmo.mappings if old.share_count != new.share_count else ():
                pkoid = mapping.vmar.process.koid
                if pkoid in structural:
                    continue
                delta = deltas.setdefault(pkoid, [0] * PROCESS_FIGURES)
                nbytes = mapping.committed_pages() * PAGE_SIZE
                for record, sign in ((old, -1), (new, 1)):
                    if record.share_count == 1:
                        delta[PRIVATE] += sign * nbytes
                    else:
                        delta[SHARED] += sign * nbytes
                        delta[SCALED_SHARED] += sign * (nbytes // record.share_count)
            _move_holders(vmo, old, new, structural, deltas)

    def _apply_deltas(self, alone: dict[int, int],
                      deltas: dict[int, list[int]]) -> MoveColumns[ProcessMove]:
        """Move process figures by the bytes of the VMOs they hold alone (by row) and by the
        other deltas (by koid); returns the moves made."""
        columns = self.process_columns
        for pkoid, delta in deltas.items():  # few: fold what they hold alone in
            _fold_alone(delta, alone, columns.rows[pkoid])
        uss, rss, pss = columns.values[USS], columns.values[RSS], columns.values[PSS_FIXED]
        # Speed: the rows and their moves read in C loops (compress, gather, map); bench:
        # "scale: accounting per tick" (engine_bench).
        rows = sorted(compress(alone, alone.values()))  # those whose bytes moved
        moved = list(gather(alone, rows))
        fixed = list(map(mul, moved, repeat(FRACTION_ONE)))
        for row, nbytes, nfixed in zip(rows, moved, fixed):
            uss[row] += nbytes
            rss[row] += nbytes
            pss[row] += nfixed
        koids = list(gather(columns.koids, rows))
        figures = [[0] * len(rows), [0] * len(rows), [0] * len(rows), moved, moved[:], fixed]
        for pkoid, delta in deltas.items():
            if any(delta):
                row = columns.rows[pkoid]
                koids.append(pkoid)
                for figure, column, move in zip(figures, columns.values, delta):
                    figure.append(move)
                    column[row] += move
        return MoveColumns(koids, figures)

    @staticmethod
    def _vmo_record(vmo: k.Vmo, figures: tuple[int, int, int] | None,
                    process_count: int) -> Vmo:
        pages = vmo.own.bit_count()
        committed = pages * PAGE_SIZE
        if figures is not None:
            private, scaled, total = figures[0] * PAGE_SIZE, figures[1], figures[2] * PAGE_SIZE
        else:
            private, scaled, total = leaf_figures(committed, bool(process_count))
        parent = vmo.parent
        return Vmo(vmo.koid, vmo.name, vmo.size_pages * PAGE_SIZE,
                   parent.koid if parent is not None else 0, len(vmo.children),
                   len(vmo.mappings), share_count(vmo), committed, vmo.flags, process_count,
                   private, scaled, total)

    def _rebuild_processes(self, dirty: set[int]) -> tuple[set[int], set[int]]:
        """New records for the dirty processes."""
        processes = self.kernel.processes
        changed, removed = set(), set()
        columns = self.process_columns
        for koid in dirty:
            process = processes.get(koid)
            if process is None:
                if self.processes.pop(koid, None) is not None:
                    removed.add(koid)
                continue
            previous = self.processes.get(koid)
            record = self._process_record(process)
            if previous is None or record != process_joined(previous, columns.values,
                                                             columns.rows[koid]):
                self._set_process(record)
                changed.add(koid)
        return changed, removed

    def _set_process(self, record: Process) -> None:
        """Keep a process's new record, its figures in the columns."""
        if self.twin is not None:
            self._lend(record, self.twin.processes, record.koid)
        self.processes[record.koid] = record
        columns = self.process_columns
        row = columns.row(record.koid)
        for column, figure in zip(columns.values, record.figures):
            column[row] = figure

    # Speed: a process whose mappings' pages alone changed keeps its record but for those
    # mappings' entries, and its figures move by deltas, with no walk of its VMARs, handles
    # and VMOs; bench: "default: engine tick CPU" (engine_bench).
    def _patch_maps(self, remapped: dict[int, list[k.Mapping]], deltas: dict[int, list[int]]
                    ) -> dict[int, tuple[tuple[MapEntry, ...] | None, int]]:
        """The map entries of each process of `remapped` (none of them dirty) with the
        committed bytes of its mappings listed there as they are now (None if none moved),
        and how far its mapped bytes moved. Moves its legacy figures in `deltas` by those
        entries' changes, at the share counts their VMOs' records have before this tick's
        rebuild (a share count that changes moves them in `_collect_update_deltas`)."""
        records = self.vmos
        out: dict[int, tuple[tuple[MapEntry, ...] | None, int]] = {}
        for pkoid, mappings in remapped.items():
            maps = list(self.processes[pkoid].maps)
            patched, mapped = False, 0
            for mapping in mappings:
                i = _mapping_entry(maps, mapping.base)
                entry = maps[i]
                nbytes, old = mapping.committed_pages() * PAGE_SIZE, entry.committed_bytes
                if nbytes == old:  # listed again, or its pages came and went
                    continue
                maps[i] = structs.replace(entry, committed_bytes=nbytes)
                patched, mapped = True, mapped + nbytes - old
                delta = deltas.get(pkoid)
                if delta is None:
                    deltas[pkoid] = delta = [0] * PROCESS_FIGURES
                share_count = records[entry.vmo_koid].share_count
                if share_count == 1:
                    delta[PRIVATE] += nbytes - old
                else:
                    delta[SHARED] += nbytes - old
                    delta[SCALED_SHARED] += nbytes // share_count - old // share_count
            out[pkoid] = (tuple(maps) if patched else None, mapped)
        return out

    def _remapped_records(self, remaps: dict[int, tuple[tuple[MapEntry, ...] | None, int]],
                          alone: dict[int, int], deltas: dict[int, list[int]]) -> set[int]:
        """New records for the processes of `remaps` (`_patch_maps`) whose entries or
        figures moved: their figures moved by the bytes of the VMOs they hold alone (by row)
        and by their deltas, which are taken out of both. Returns their koids."""
        columns = self.process_columns
        changed = set()
        for pkoid, (maps, mapped) in remaps.items():
            row = columns.rows[pkoid]
            delta = deltas.pop(pkoid, None) or [0] * PROCESS_FIGURES
            _fold_alone(delta, alone, row)
            if maps is None and not any(delta):
                continue
            record = self.processes[pkoid]
            private, shared, scaled, uss, rss, pss = (
                column[row] + move for column, move in zip(columns.values, delta))
            self._set_process(structs.replace(
                record, maps=maps if maps is not None else record.maps,
                mapped_bytes=record.mapped_bytes + mapped, private_bytes=private,
                shared_bytes=shared, scaled_shared_bytes=scaled, uss_bytes=uss, rss_bytes=rss,
                pss_fixed=pss))
            changed.add(pkoid)
        return changed

    def _figures(self, maps: list[MapEntry], vmo_koids: set[int]) -> dict[str, int]:
        """A process's byte figures, by field: the legacy ones of its mappings' entries, the
        attributed ones of the VMOs it references (the records as last built: their share
        counts and figures are current)."""
        records = self.vmos
        mapped = private = shared = scaled = 0
        for entry in maps:
            if entry.type != "M":
                continue
            nbytes = entry.committed_bytes
            share_count = records[entry.vmo_koid].share_count
            mapped += nbytes
            if share_count == 1:
                private += nbytes
            else:
                shared += nbytes
                scaled += nbytes // share_count
        uss = rss = pss = 0
        for vmo_koid in vmo_koids:
            vmo = self.vmo(vmo_koid)
            rss += vmo.total_bytes
            if vmo.process_count == 1:
                uss += vmo.private_bytes
            pss += vmo.scaled_fixed // vmo.process_count
        return {"mapped_bytes": mapped, "private_bytes": private, "shared_bytes": shared,
                "scaled_shared_bytes": scaled, "uss_bytes": uss, "rss_bytes": rss,
                "pss_fixed": pss}

    def _process_record(self, process: k.Process) -> Process:
        maps: list[MapEntry] = []
        mappings: list[k.Mapping] = []
        root = process.root_vmar
        maps.append(MapEntry("A", 0, root.base, root.size, f"proc:{process.koid}"))
        self._walk_vmar(root, 1, maps, mappings)
        handles = [h for h in process.handles if isinstance(h.obj, k.Vmo)]
        refs = [VmoRef(h.obj.koid, True, h.rights) for h in handles]
        refs.extend(VmoRef(m.vmo.koid, False) for m in mappings)
        return Process(
            koid=process.koid,
            job_koid=process.job.koid,
            name=process.name,
            threads=tuple(Thread(t.koid, t.name, t.state) for t in process.threads),
            maps=tuple(maps),
            vmo_refs=tuple(refs),
            handle_count=len(process.handles),
            handles=tuple(HandleInfo(h.value, h.obj.koid, h.type, h.rights)
                          for h in process.handles),
            **self._figures(maps, {ref.vmo_koid for ref in refs}),
        )

    def _walk_vmar(self, vmar: k.Vmar, depth: int, maps: list[MapEntry],
                   mappings: list[k.Mapping]) -> None:
        maps.append(MapEntry("R", depth, vmar.base, vmar.size, vmar.name))
        for child in sorted(vmar.children, key=lambda c: c.base):
            if isinstance(child, k.Vmar):
                self._walk_vmar(child, depth + 1, maps, mappings)
            else:
                mappings.append(child)
                maps.append(MapEntry(
                    "M", depth + 1, child.base, child.size, child.vmo.name, child.perms,
                    child.vmo.koid, child.offset_pages * PAGE_SIZE,
                    child.committed_pages() * PAGE_SIZE,
                ))

    def _rebuild_jobs(self, dirty: set[int]) -> tuple[set[int], set[int]]:
        jobs = self.kernel.jobs
        changed, removed = set(), set()
        if dirty:
            self.jobs = dict(self.jobs)
        for koid in dirty:
            job = jobs.get(koid)
            if job is None:
                if self.jobs.pop(koid, None) is not None:
                    removed.add(koid)
                continue
            record = Job(
                koid=job.koid,
                parent_koid=job.parent.koid if job.parent is not None else 0,
                name=job.name,
                kill_on_oom=job.kill_on_oom,
                jobs=tuple(j.koid for j in job.jobs),
                processes=tuple(p.koid for p in job.processes),
            )
            if record != self.jobs.get(koid):
                if self.twin is not None:
                    self._lend(record, self.twin.jobs, koid)
                self.jobs[koid] = record
                changed.add(koid)
        return changed, removed
