"""The job tree's visible rows in order, kept from tick to tick.

Each shown job keeps its children in sort order, and its block: its row and the rows of
everything shown below it. A tick that moved figures re-sorts only the jobs above the
processes that changed, and joins again only the blocks above a job whose order moved, so
that a tick costs its changes and the jobs they sort among, not the whole tree.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from itertools import compress, repeat
from operator import add, eq, ge, gt, itemgetter, le, lt

from zmtop.viewmodels.exited_rows import EXITED, ExitedRows
from zmtop.viewmodels.task_rows import SHOWN_KEYS, SORT_KEYS, Figures, Slot, sort_value

Kid = tuple[str, int]  # a child row: kind ("j" or "p") and koid


class TreeOrder:
    """The job tree's visible rows, depth first: a job, the processes that exited under it
    lately (see ExitedRows), then its processes and child jobs.

    By TASK, a job's processes come first, then its child jobs, each by koid (ps's walk
    order on a live system, whose koids grow with age; not an import's file order); a sort
    by another column orders each job's children together, ties by koid.
    `keep`, when given, is a filter's rows; collapsing is then ignored so matches show.
    `growth` gives a row's value under the growth sorts (TREND_KEYS).
    """

    def __init__(
        self,
        figures: Figures,
        collapsed: Container[int] = frozenset(),
        sort: str = "task",
        reverse: bool = False,
        keep: set[int] | None = None,
        growth: Callable[[str, int], object] | None = None,
        exited: ExitedRows | None = None,
    ) -> None:
        self.figures = figures
        self.sort = sort
        self._descending = SORT_KEYS[sort] != reverse
        self._growth = growth
        self.slots: dict[int, Slot] = {}
        self.kids: dict[int, list[Kid]] = {}  # each unfolded job's children, in order
        self._parent: dict[int, int] = {}  # each row's job (an orphan's: the root)
        self._exited: dict[int, list[int]] = {}  # each unfolded job's exited processes
        self._blocks: dict[int, list[int]] = {}
        self._moved = figures.moved_jobs  # the summing jobs the tick shown moved
        self._orphans: list[int] = []
        self._lines: dict[int, str] = {}  # each row's tree lines, while the order holds
        # each sorted job's children, their koids, (sorted by a Figures.column) their rows
        # there, and the positions of the children a tie would put out of order (see
        # `_in_order`)
        self._read: dict[int, tuple[list[Kid], list[int], list[int], list[int]]] = {}
        self._build(collapsed, keep, exited)

    @property
    def keys(self) -> list[int]:
        """The koid of each row, in order."""
        return self._blocks[self.figures.snap.root_job]

    def rows(self) -> list[Slot]:
        """The rows, in order."""
        return list(map(self.slots.__getitem__, self.keys))

    def _value(self) -> Callable[[str, int], object]:
        return sort_value(self.figures, self.sort, self._growth)

    # Speed: values read and order checked in C loops, from lists kept while the children
    # keep their order, sorted only if it moved; bench: "ui xl: all-in tick (...)" (ui_bench).
    def _sorted(self, job: int, kids: list[Kid], value: Callable[[str, int], object]
                ) -> list[Kid]:
        """A job's children in order: `kids` itself if already so, else a sorted copy."""
        if len(kids) < 2:  # most jobs: a sort at xl lays out 10,000 of them
            return kids
        if self.sort == "task":
            kids = sorted(kids, key=lambda kid: (kid[0] == "j", kid[1]))
            return kids[::-1] if self._descending else kids
        kept = self._read.get(job)
        if kept is None or kept[0] is not kids:
            koids = list(map(itemgetter(1), kids))
            rows = (list(map(self.figures.shown_rows.__getitem__, koids))
                    if self.sort in SHOWN_KEYS else [])
            # ties go by koid: the children whose koid is out of that order with the next's
            wrong = lt if self._descending else gt
            kept = self._read[job] = (kids, koids, rows,
                                      list(compress(range(len(koids)), map(wrong, koids, koids[1:]))))
        _, koids, rows, untied = kept
        values: list[object]
        if self.sort in SHOWN_KEYS:
            values = list(map(self.figures.column(self.sort).__getitem__, rows))
        else:
            values = list(map(value, map(itemgetter(0), kids), koids))
        if self._in_order(values, untied):
            return kids
        ranked = sorted(range(len(kids)), key=lambda i: (values[i], koids[i]),
                        reverse=self._descending)
        return list(map(kids.__getitem__, ranked))

    # Speed: ties checked only where the koids would break them, not along every row (at xl
    # 10,000 children share about 100 values); bench: "ui xl: all-in tick (...)" (ui_bench).
    def _in_order(self, values: list, untied: list[int]) -> bool:
        """Whether rows of these values are in the sort's order, ties by koid: `untied` are
        the rows whose koid is out of that order with the next row's, which it must not tie."""
        if not all(map(ge if self._descending else le, values, values[1:])):
            return False
        return not any(map(eq, map(values.__getitem__, untied),
                           map(values.__getitem__, map(add, untied, repeat(1)))))

    def _build(self, collapsed: Container[int], keep: set[int] | None,
               exited: ExitedRows | None) -> None:
        snap = self.figures.snap
        value = self._value()
        under, orphans = exited.by_job(snap) if exited is not None else ({}, [])
        if keep is not None:
            under, orphans = {}, []
        root = snap.root_job
        order: list[int] = []  # the shown jobs, parents first
        stack = [(root, 0)]
        while stack:
            koid, depth = stack.pop()
            order.append(koid)
            job = snap.jobs[koid]
            kids = [("p", k) for k in job.processes] + [("j", k) for k in job.jobs]
            if keep is not None:
                kids = [kid for kid in kids if kid[1] in keep]
            self.slots[koid] = Slot("j", koid, depth, len(kids))
            if keep is None and koid in collapsed:
                continue
            self.kids[koid] = kids = self._sorted(koid, kids, value)
            self._exited[koid] = exits = under.get(koid, [])
            for kind, kid in kids:
                self._parent[kid] = koid
                if kind == "j":
                    stack.append((kid, depth + 1))
                else:
                    self.slots[kid] = Slot("p", kid, depth + 1, 0)
            for kid in exits:
                self._parent[kid] = koid
                self.slots[kid] = Slot(EXITED, kid, depth + 1, 0)
        for kid in orphans:
            self._parent[kid] = root
            self.slots[kid] = Slot(EXITED, kid, 1, 0)
        self._orphans = orphans
        for koid in reversed(order):
            self._join(koid)

    def _join(self, koid: int) -> None:
        """A job's block from its children's: its row, its exited processes, its children's
        rows (and at the root, the orphans: exited processes whose job went too)."""
        block = [koid]
        kids = self.kids.get(koid)
        if kids is not None:
            block += self._exited[koid]
            blocks = self._blocks
            for kind, kid in kids:
                if kind == "j":
                    block += blocks[kid]
                else:
                    block.append(kid)
        if koid == self.figures.snap.root_job:
            block += self._orphans
        self._blocks[koid] = block

    # Speed: only the jobs above changed processes re-sort, only moved blocks join again;
    # bench: "ui scale: all-in tick (...)" (ui_bench).
    def reorder(self, figures: Figures) -> bool:
        """Follow a tick that moved figures but kept the tree's shape (`figures` advanced
        to it): re-sort the children of each summing job above what it changed (a job with
        several children sums them; one with a single child shows that child alone), and
        join again the blocks above a job whose order moved. Whether the rows' order moved."""
        self.figures = figures
        if self.sort == "task":
            return False
        dirty = figures.moved_jobs
        if self.sort == "delta":  # a row that moved last tick may not have moved now
            dirty, self._moved = dirty | self._moved, dirty
        value, kids_of = self._value(), self.kids
        moved = []
        for job in dirty:
            kids = kids_of.get(job)
            if kids is not None and len(kids) > 1:
                ordered = self._sorted(job, kids, value)
                if ordered is not kids:
                    kids_of[job] = ordered
                    moved.append(job)
        if not moved:
            return False
        self._lines.clear()
        slots, parent = self.slots, self._parent
        joins: set[int] = set()
        for job in moved:
            while job not in joins:
                joins.add(job)
                if job not in parent:  # the root
                    break
                job = parent[job]
        for job in sorted(joins, key=lambda job: slots[job].depth, reverse=True):
            self._join(job)
        return True

    def lines(self, koid: int) -> str:
        """A row's tree lines as htop draws them: `│ ` under an ancestor with siblings
        still to come, then `├─` for a row with siblings after it, else `└─` (none at
        depth 0)."""
        # Speed: bench "ui default: CPU at 1 s ticks" (ui_bench): worked out once while
        # the rows keep their order, not for every row shown every tick.
        lines = self._lines.get(koid)
        if lines is None:
            lines = self._lines[koid] = self._draw_lines(koid)
        return lines

    def _draw_lines(self, koid: int) -> str:
        parts: list[str] = []
        parent = self._parent
        child = koid
        while child in parent:
            job = parent[child]
            last = child == self._last(job)
            parts.append(("└─" if last else "├─") if child == koid else
                         ("  " if last else "│ "))
            child = job
        return "".join(reversed(parts))

    def _last(self, job: int) -> int:
        """The last row shown directly under a job."""
        if job == self.figures.snap.root_job and self._orphans:
            return self._orphans[-1]
        kids = self.kids[job]
        return kids[-1][1] if kids else self._exited[job][-1]


def flatten(
    figures: Figures,
    collapsed: Container[int] = frozenset(),
    sort: str = "task",
    reverse: bool = False,
    keep: set[int] | None = None,
    growth: Callable[[str, int], object] | None = None,
) -> list[Slot]:
    """The visible rows, depth first, in TreeOrder's order (without exited processes)."""
    return TreeOrder(figures, collapsed, sort, reverse, keep, growth).rows()
