"""The job tree's rows as pure data: subtree totals, PSS changes, and the flattened order.

Numbers follow `ps`: a job's PSS and PRIVATE are summed over every descendant process,
its SHARED is blank; a process shows its own legacy figures. Attributed PSS (RFC-0254) is
kept in FRACTION_ONE fixed point until it is printed.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable
from operator import add
from typing import NamedTuple

from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import (
    PRIVATE,
    PSS_FIXED,
    SCALED_SHARED,
    Process,
    Snapshot,
)
from zmtop.engine.snapshot.tables import FigureTable, gather, move_columns
from zmtop.viewmodels.handle_rows import HANDLE_KEYS, handle_totals

# column key -> whether it sorts largest first by default
# A job's totals (Figures.total), by position: PSS, PRIVATE and attributed PSS (fixed point).
JOB_PSS, JOB_PRIVATE, JOB_APSS = range(3)
SHOWN_KEYS = ("pss", "private", "apss")  # the columns of Figures.column, in order
SORT_KEYS = {"task": False, "pss": True, "private": True, "shared": True, "apss": True,
             "delta": True, "growth": True, "spark": True, "name": False}
TREND_KEYS = ("growth", "spark")  # sorted by growth, which the Figures do not keep
SORT_KEYS |= dict.fromkeys(HANDLE_KEYS, True)


class Slot(NamedTuple):
    """One visible row of the tree: a job ("j") or a process ("p") at a depth."""

    kind: str
    koid: int
    depth: int
    children: int  # child jobs and processes shown under a job


class Figures:
    """Per-tick figures the tree shows beside the snapshot: job totals and PSS deltas.

    A job with a single child (one process, or one job) shows that child's figures: it
    keeps no totals of its own, and a tick's moves pass it by. Only the jobs that sum
    several children (and empty jobs) hold totals.
    """

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.deltas: dict[int, int] = {}  # processes and summing jobs; see `delta`
        self.moved_jobs: set[int] = set()  # the summing jobs above the tick's changes
        self._handles: dict[bool, dict[int, tuple[int, ...]]] = {}  # by_type -> counts
        self._records: tuple[Snapshot, dict[int, Process]] = (snap, {})  # see `process`
        self._read_shape(snap)

    def _read_shape(self, snap: Snapshot) -> None:
        self._alias, self.sinks = tree_shape(snap)
        self.totals = {koid: total for koid, total in job_totals(snap).items()
                       if koid not in self._alias}
        # Speed: every row's figures in columns a tick moves, for the sorted tree; bench:
        # "ui xl: all-in tick (...)" (ui_bench). PSS, PRIVATE and A.PSS as shown (a process's
        # own, a summing job's totals, a single-child job its child's), by the task's row in
        # `shown_rows`; a column is built when first read (see `column`).
        self._processes = list(snap.processes)  # by row; the summing jobs' rows follow
        koids = [*self._processes, *self.totals]
        rows = dict(zip(koids, range(len(koids))))
        rows.update((koid, rows[target]) for koid, (_, target) in self._alias.items())
        self.shown_rows = compact_keys(rows)
        self._shown: list[list[int] | None] = [None, None, None]
        self._row_sinks = list(map(self.sinks.__getitem__, koids))  # `sinks` by row
        self._widest: int | None = None  # see `widest_task`

    def widest_task(self) -> int:
        """The widest TASK cell of the whole tree, folded or not, so that folding moves no
        column (computed when first asked after the tree's shape changed)."""
        if self._widest is None:
            snap = self.snap
            depth = {0: -1}
            widest = 0
            for koid in snap.jobs_depth_first(snap.root_job):
                job = snap.jobs[koid]
                below = depth[koid] = depth[job.parent_koid] + 1
                widest = max(widest, task_width(below, koid),
                             *(task_width(below + 1, p) for p in job.processes))
            self._widest = widest
        return self._widest

    # Speed: moves summed up the tree level by level, not the tree summed again; bench: "ui scale:
    # UI work per tick beyond Simulation.step" (ui_bench).
    def advance(self, snap: Snapshot) -> None:
        """Move to the next tick's snapshot, paying only for what changed: while the tree
        keeps its shape, the changed processes move the totals of the summing jobs above
        them, one level at a time, summed per job, so a job is visited once per level."""
        prev = self.snap
        if shape_changed(snap):
            self._resum(prev, snap)
            return
        koids, columns = move_columns(snap.changes.process_moves)
        private, scaled, apss = ((columns[PRIVATE], columns[SCALED_SHARED], columns[PSS_FIXED])
                                 if koids else ([], [], []))
        # Moves say by how much a process's byte totals moved; others changed more (the
        # moves are among the changes: no others when there are as many).
        procs, before, changed = snap.processes, prev.processes, snap.changes.processes
        for koid in changed.difference(koids) if len(changed) > len(koids) else ():
            new, old = procs[koid], before[koid]
            if new.handle_count != old.handle_count or (
                    new.handles is not old.handles and new.handles != old.handles):
                self._handles = {}
            koids.append(koid)
            private.append(new.private_bytes - old.private_bytes)
            scaled.append(new.scaled_shared_bytes - old.scaled_shared_bytes)
            apss.append(new.pss_fixed - old.pss_fixed)
        pss = list(map(add, private, scaled))
        deltas = dict(zip(koids, pss))
        rows = list(map(self.shown_rows.__getitem__, koids))
        # Speed: only the columns read since the shape changed move (the sort's), each in a
        # plain loop over the rows (a list store costs less there than through map); bench:
        # "ui xl: all-in tick (step, deliver, repaint; tree by PSS)" (ui_bench).
        for column, moves in zip(self._shown, (pss, private, apss)):
            if column is not None:
                for row, move in zip(rows, moves):
                    column[row] += move
        sink = self.sinks
        # job -> PSS, PRIVATE, A.PSS moved below it; sinks read by row, a list, where a dict
        # by koid cost a cache miss a process (bench: "ui xl: all-in tick (...)", ui_bench)
        moved = sums_by(list(map(self._row_sinks.__getitem__, rows)), [pss, private, apss])
        moved.pop(0, None)
        totals = self.totals
        touched = set(moved)
        while moved:
            above: dict[int, list[int]] = {}
            for job, (job_pss, job_private, job_apss) in moved.items():
                total = totals[job]
                total[JOB_PSS] += job_pss
                total[JOB_PRIVATE] += job_private
                total[JOB_APSS] += job_apss
                deltas[job] = deltas.get(job, 0) + job_pss
                parent = sink[job]
                sums = above.get(parent) if parent else None
                if sums is not None:
                    sums[JOB_PSS] += job_pss
                    sums[JOB_PRIVATE] += job_private
                    sums[JOB_APSS] += job_apss
                elif parent:
                    above[parent] = [job_pss, job_private, job_apss]
            moved = above
            touched.update(above)
        for column, index in zip(self._shown, range(3)):
            if column is not None:
                for job in touched:
                    column[self.shown_rows[job]] = totals[job][index]
        self.snap = snap
        self.deltas = deltas
        self.moved_jobs = touched

    def _resum(self, prev: Snapshot, snap: Snapshot) -> None:
        """Tasks came or went: sum every job again and compare with the last tick. Every
        job's delta is kept: a single-child job's may differ from its child's."""
        before = {koid: self.total(koid)[JOB_PSS] for koid in prev.jobs}
        self.snap = snap
        self._read_shape(snap)
        self._handles = {}
        deltas = {}
        for koid in snap.changes.processes:
            new, old = snap.processes.get(koid), prev.processes.get(koid)
            if new is not None:
                delta = new.pss_bytes - (old.pss_bytes if old is not None else 0)
                if delta:
                    deltas[koid] = delta
        for koid in snap.jobs:
            deltas[koid] = self.total(koid)[JOB_PSS] - before.get(koid, 0)
        self.deltas = deltas
        self.moved_jobs = set(snap.jobs)

    def shown_as(self, koid: int) -> tuple[str, int]:
        """The task whose figures a job's row shows: its only child's, down a chain of
        single-child jobs, else its own ("j", koid)."""
        return self._alias.get(koid, ("j", koid))

    def total(self, koid: int) -> tuple[int, int, int]:
        """A job's PSS, PRIVATE and attributed PSS (fixed point), summed over its processes."""
        kind, shown = self.shown_as(koid)
        if kind == "p":
            proc = self.process(shown)
            return proc.pss_bytes, proc.private_bytes, proc.pss_fixed
        pss, private, apss = self.totals[shown]
        return pss, private, apss

    def column(self, key: str) -> list[int]:
        """PSS, PRIVATE or attributed PSS (SHOWN_KEYS) of every row as shown, by the task's
        row in `shown_rows`: built when first read after the tree's shape changed, then
        moved a tick at a time."""
        index = SHOWN_KEYS.index(key)
        column = self._shown[index]
        if column is None:  # the processes' rows, then the summing jobs'
            column = self._shown[index] = [*process_column(self.snap, self._processes, index),
                                           *(total[index] for total in self.totals.values())]
        return column

    def process(self, koid: int) -> Process:
        """The snapshot's record of a process, read once a tick however often it is shown
        (a read joins the record with its figures)."""
        snap, records = self._records
        if snap is not self.snap:
            records = {}
            self._records = (self.snap, records)
        record = records.get(koid)
        if record is None:
            record = records[koid] = self.snap.processes[koid]
        return record

    def delta(self, koid: int) -> int:
        """How much a task's PSS moved since the last tick."""
        delta = self.deltas.get(koid)
        if delta is None:
            alias = self._alias.get(koid)
            delta = self.deltas.get(alias[1], 0) if alias else 0
        return delta

    def values(self, kind: str, koid: int) -> tuple[int, int, int | None, int]:
        """PSS, PRIVATE, SHARED (None for jobs) and attributed PSS (fixed point)."""
        if kind == "j":
            pss, private, apss = self.total(koid)
            return pss, private, None, apss
        proc = self.process(koid)
        return proc.pss_bytes, proc.private_bytes, proc.shared_bytes, proc.pss_fixed

    def handles(self, koid: int, by_type: bool = False) -> tuple[int, ...]:
        """#h, or #h and the `k zx ps` counts by type; computed when first asked per tick."""
        table = self._handles.get(by_type)
        if table is None:
            table = self._handles[by_type] = handle_totals(self.snap, by_type)
        return table[koid]

    def name(self, kind: str, koid: int) -> str:
        record = self.snap.jobs[koid] if kind == "j" else self.process(koid)
        return safe_name(record.name)

    def runs(self, koid: int) -> str:
        """What a job with no name of its own runs, in parentheses (see `job_runs`)."""
        runs = job_runs(self.snap, koid)
        return f"({runs})" if runs else ""

    def sort_key(self, key: str) -> Callable[[str, int], object]:
        """A row's value (kind, koid) under a sort column, as `TreeOrder` orders siblings."""
        if key == "task":
            return lambda kind, koid: koid
        if key == "name":
            return lambda kind, koid: self.name(kind, koid).casefold()
        if key == "delta":
            return lambda kind, koid: self.delta(koid)
        if key in HANDLE_KEYS:
            index, by_type = HANDLE_KEYS.index(key), key != "#h"
            return lambda kind, koid: self.handles(koid, by_type)[index]
        if key == "shared":  # a job's is blank: below every process's
            process = self.process
            return lambda kind, koid: -1 if kind == "j" else process(koid).shared_bytes
        rows, column = self.shown_rows, self.column(key)
        return lambda kind, koid: column[rows[koid]]


def job_runs(snap: Snapshot, koid: int) -> str:
    """What a job runs, to name a job that has no name of its own (a component's job, on a
    device): its first process's name (the component's), else its first child job's name,
    or what that one runs; "" for a job with neither."""
    job = snap.jobs[koid]
    while not job.processes:
        if not job.jobs:
            return ""
        job = snap.jobs[job.jobs[0]]
        if job.name:
            return safe_name(job.name)
    return safe_name(snap.processes[job.processes[0]].name)


def task_width(depth: int, koid: int) -> int:
    """The cells of a TASK cell in the tree: its branches (two a level), a fold marker and
    a space, the kind (`j: `) and the koid."""
    return 2 * depth + 5 + len(str(koid))


def shape_changed(snap: Snapshot) -> bool:
    """Whether the tree's rows changed: a job's children or processes, or a task went."""
    c = snap.changes
    return bool(c.jobs or c.removed_jobs or c.removed_processes)


# Speed: sums grouped in C loops; bench: "ui scale: UI work per tick beyond Simulation.step".
def sums_by(groups: list[int], columns: list[list[int]]) -> dict[int, list[int]]:
    """Each group's sum of each column, by the group of each row: rows sorted by group,
    then a slice sum per group and column, so the loops over rows run in C."""
    order = sorted(range(len(groups)), key=groups.__getitem__)
    groups = list(map(groups.__getitem__, order))
    columns = [list(map(column.__getitem__, order)) for column in columns]
    sums: dict[int, list[int]] = {}
    start, end = 0, len(groups)
    while start < end:
        stop = bisect_right(groups, groups[start], start)
        sums[groups[start]] = [sum(column[start:stop]) for column in columns]
        start = stop
    return sums


def tree_shape(snap: Snapshot) -> tuple[dict[int, tuple[str, int]], dict[int, int]]:
    """The tree's shape, fixed until tasks come or go: each single-child job's alias (the
    task whose figures it shows, down a chain of such jobs), and each process's and summing
    job's sink (the nearest summing job above it, 0 for none), where moves go."""
    alias: dict[int, tuple[str, int]] = {}
    order = snap.jobs_depth_first(snap.root_job)
    for koid in reversed(order):
        job = snap.jobs[koid]
        if len(job.processes) + len(job.jobs) == 1:
            only = ("p", job.processes[0]) if job.processes else ("j", job.jobs[0])
            alias[koid] = alias.get(only[1], only)
    sink: dict[int, int] = {}
    nearest: dict[int, int] = {}  # job -> itself if it sums, else its nearest summing ancestor
    for koid in order:
        job = snap.jobs[koid]
        above = nearest.get(job.parent_koid, 0)
        if koid in alias:
            nearest[koid] = above
        else:
            nearest[koid] = koid
            sink[koid] = above
        sink.update(dict.fromkeys(job.processes, nearest[koid]))
    return alias, compact_keys(sink)


def compact_keys(table: dict[int, int]) -> dict[int, int]:
    """`table` with its keys made afresh, side by side in memory. A lookup by an int equal
    to a key but not the same object compares the stored key: keys scattered over the heap
    (as koids read from records are) cost a cache miss each."""
    return dict(zip(array("q", table).tolist(), table.values()))


# Speed: a simulation's figures read from its table's columns, not joined into records; bench:
# "ui xl: key to repaint, p95 (tree by PSS)" (ui_bench), where `s` reads 10,000 processes'.
def process_column(snap: Snapshot, koids: list[int], index: int) -> list[int]:
    """These processes' PSS, PRIVATE or attributed PSS fixed (a SHOWN_KEYS index)."""
    table = snap.processes
    if not isinstance(table, FigureTable):
        return [(proc.pss_bytes, proc.private_bytes, proc.pss_fixed)[index]
                for proc in map(table.__getitem__, koids)]
    rows, figures = table.figure_columns()
    at = gather(rows, koids)
    if index == JOB_PSS:
        return list(map(add, gather(figures[PRIVATE], at), gather(figures[SCALED_SHARED], at)))
    return list(gather(figures[PRIVATE if index == JOB_PRIVATE else PSS_FIXED], at))


def job_totals(snap: Snapshot) -> dict[int, list[int]]:
    """[PSS, PRIVATE, attributed PSS fixed] of every job, summed over descendant processes
    (lists: a tick moves them in place)."""
    totals: dict[int, list[int]] = {}
    procs = snap.processes
    for koid in reversed(snap.jobs_depth_first(snap.root_job)):
        job = snap.jobs[koid]
        pss = private = apss = 0
        for pkoid in job.processes:
            proc = procs[pkoid]
            pss += proc.pss_bytes
            private += proc.private_bytes
            apss += proc.pss_fixed
        for child in job.jobs:
            c_pss, c_private, c_apss = totals[child]
            pss += c_pss
            private += c_private
            apss += c_apss
        totals[koid] = [pss, private, apss]
    return totals


def matches(figures: Figures, kind: str, koid: int, needle: str) -> bool:
    """Case-insensitive match of a name, or of the koid's digits."""
    return needle in figures.name(kind, koid).casefold() or needle in str(koid)


def keep_matching(figures: Figures, needle: str) -> set[int]:
    """Koids of the rows a filter keeps: the matches and all their ancestors."""
    snap = figures.snap
    keep: set[int] = set()
    candidates: Iterable[tuple[str, int, int]] = (
        *(("j", j.koid, j.parent_koid) for j in snap.jobs.values()),
        *(("p", p.koid, p.job_koid) for p in snap.processes.values()),
    )
    for kind, koid, parent in candidates:
        if koid in keep or not matches(figures, kind, koid, needle):
            continue
        keep.add(koid)
        while parent and parent not in keep:
            keep.add(parent)
            parent = snap.jobs[parent].parent_koid
    return keep


def flat_list(
    figures: Figures,
    sort: str = "task",
    reverse: bool = False,
    keep: set[int] | None = None,
    growth: Callable[[str, int], object] | None = None,
) -> list[Slot]:
    """Every process in one list, as htop's flat view lists them: no jobs, ordered by the
    sort column (by koid when unsorted); `keep` and `growth` as `TreeOrder` takes them."""
    value = sort_value(figures, sort, growth)
    koids = [koid for koid in figures.snap.processes if keep is None or koid in keep]
    koids.sort(key=lambda koid: (value("p", koid), koid), reverse=SORT_KEYS[sort] != reverse)
    return [Slot("p", koid, 0, 0) for koid in koids]


def sort_value(figures: Figures, sort: str,
           growth: Callable[[str, int], object] | None) -> Callable[[str, int], object]:
    """A row's value (kind, koid) under a sort column, the growth sorts' from `growth`."""
    if sort in TREND_KEYS:
        return growth or (lambda kind, koid: 0)
    return figures.sort_key(sort)


def ancestors(snap: Snapshot, kind: str, koid: int) -> list[int]:
    """Koids of the jobs above a row, nearest first."""
    parent = snap.processes[koid].job_koid if kind == "p" else snap.jobs[koid].parent_koid
    out = []
    while parent:
        out.append(parent)
        parent = snap.jobs[parent].parent_koid
    return out
