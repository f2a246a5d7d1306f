"""The job tree: jobs and processes with ps's PSS/PRIVATE/SHARED, attributed PSS and change.

The rows are laid out afresh only when the tree's structure, the sort, the filter or the
expansion changed; a tick that moved sizes re-sorts only the jobs above what it changed
(TreeOrder), and repaints only the visible lines whose text changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter

from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import Snapshot
from zmtop.tui import bindings
from zmtop.tui.widgets import cells
from zmtop.tui.widgets.line_table import Cell, Column, LineTable, counted
from zmtop.viewmodels.column_choice import ColumnChoice
from zmtop.viewmodels.exited_rows import EXITED, ExitedRows
from zmtop.viewmodels.growth import resample
from zmtop.viewmodels.handle_rows import HANDLE_KEYS
from zmtop.viewmodels.task_rows import (
    SORT_KEYS,
    TREND_KEYS,
    Figures,
    Slot,
    ancestors,
    flat_list,
    keep_matching,
    matches,
    shape_changed,
    task_width,
)
from zmtop.viewmodels.tree_order import TreeOrder, flatten

SPARK_WIDTH = 10  # cells of a row's PSS sparkline


def task_columns(task_width: int, unit: str, by_type: bool = False,
                 handles: Sequence[int] = ()) -> list[Column]:
    """Every column of the tree, in its own order: the memory columns, growth, its
    sparklines and #h; `by_type` swaps in `k zx ps`'s handle counts by type. `handles` are
    the largest counts (the root job's), which widen their columns as needed."""
    w = cells.size_width(unit)
    task = Column("task", "TASK", task_width, "left", SORT_KEYS["task"])
    name = Column("name", "NAME", 0, "left", SORT_KEYS["name"])

    def count(index: int, width: int, optional: bool = False) -> Column:
        key = HANDLE_KEYS[index]
        widest = len(str(handles[index])) if index < len(handles) else 0
        return Column(key, key, max(width, widest), optional=optional)

    if by_type:
        return [task, Column("pss", "PSS", w), count(0, 5),
                *(count(i, 4) for i in range(1, len(HANDLE_KEYS))), name]
    return [
        task,
        Column("pss", "PSS", w),
        Column("private", "PRIVATE", w),
        Column("shared", "SHARED", w),
        Column("apss", "A.PSS", w),
        Column("delta", "ΔPSS", w + 1),
        Column("growth", "GROWTH/MIN", max(11, w + 1), optional=True),
        Column("spark", "PSS TREND", SPARK_WIDTH, optional=True),
        count(0, 5, optional=True),
        name,
    ]


def column_choices() -> dict[str, ColumnChoice]:
    """The tree's columns as it starts, by their `[tree]` setting in config.toml: the
    memory columns (the sparklines hidden) and, with H, the handle counts by type."""
    def titles(by_type: bool) -> list[str]:
        return [column.title for column in task_columns(0, "", by_type)]

    return {"columns": ColumnChoice(titles(False), hidden={"PSS TREND"}),
            "handle_columns": ColumnChoice(titles(True))}


class TaskTable(LineTable[int]):
    """Jobs and processes as a collapsible, sortable, filterable tree."""

    COMPONENT_CLASSES = {"task-table--job", "task-table--process", "task-table--hog",
                         "task-table--new", "task-table--exited"}
    BINDINGS = bindings.TASK_TABLE
    filterable = True

    def __init__(self, figures: Figures, *, unit: str = "",
                 choices: dict[str, ColumnChoice] | None = None, id: str | None = None) -> None:
        self.figures = figures
        self.unit = unit
        self.collapsed: set[int] = set()
        self.filter_text = ""
        self.slots: dict[int, Slot] = {}
        self.by_type = False  # handle counts by type in place of the memory columns
        self.choices = choices or column_choices()  # the columns shown (see `choice`)
        # whether PSS TREND shows, and a row's shown cells out of all of them: set by
        # `_show_columns`, which the first `rebuild` calls
        self.sparklines = False
        self._pick: Callable[[tuple[Cell, ...]], tuple[Cell, ...]]
        self._picks: tuple[int, ...] = ()  # the positions `_pick` takes
        self.exited = ExitedRows(figures.snap)
        self.flat = False  # every process in one list (htop's F5), not the job tree
        self.order: TreeOrder | None = None  # the tree's rows (None in the flat list)
        # row -> its `_inputs` and the cells formatted from them (see `cells`)
        self._formatted: dict[int, tuple[tuple, tuple[Cell, ...]]] = {}
        super().__init__((), sort="task", title="Jobs", id=id)
        self.rebuild()

    # -- data -------------------------------------------------------------------------

    def update(self, figures: Figures) -> None:
        """A new tick: lay the rows out afresh if the tree's shape changed or its order may
        have changed anywhere; re-sort where the tick moved sizes; then repaint the visible
        rows whose text changed."""
        followed = figures is self.figures  # advanced a tick, not made afresh (a seek)
        self.figures = figures
        snap = figures.snap
        exited = self.app.events.exited_processes(snap.tick)
        if (self.exited.update(snap, exited) or shape_changed(snap) or not followed
                or self._order_may_change(snap)):
            self.rebuild(repaint=False)
        elif self.order is not None and self.order.reorder(figures):
            self.set_keys(self.order.keys, repaint=False)
        else:
            self.refresh_changed()
        self._update_titles()

    def _order_may_change(self, snap: Snapshot) -> bool:
        """Whether a tick may move rows that TreeOrder.reorder does not follow: koid order
        never moves; names only with records that did more than move; sizes and counts are
        followed in the tree (under a filter too: names did not change), not in the flat
        list; growth moves every row."""
        if self.sort_key == "task":
            return False
        if self.sort_key == "name":
            changes = snap.changes
            return bool(changes.jobs) or len(changes.processes) > len(changes.process_moves)
        return self.order is None or self.sort_key in TREND_KEYS

    def rebuild(self, *, repaint: bool = True) -> None:
        """Lay the rows out afresh; `repaint=False` (a tick, where only rows moved, came or
        went) repaints only the lines whose text changed."""
        needle = self.filter_text.casefold()
        keep = keep_matching(self.figures, needle) if needle else None
        if self.flat:
            self.order = None
            rows = flat_list(self.figures, self.sort_key, self.sort_reverse, keep,
                             self._growth_order)
            if not needle:
                rows += [Slot(EXITED, koid, 0, 0) for koid in sorted(self.exited.records)]
            self.slots = {slot.koid: slot for slot in rows}
            keys = [slot.koid for slot in rows]
        else:
            self.order = TreeOrder(self.figures, self.collapsed, self.sort_key,
                                   self.sort_reverse, keep, self._growth_order, self.exited)
            self.slots, keys = self.order.slots, self.order.keys
        slots = self.slots
        self._formatted = {key: kept for key, kept in self._formatted.items() if key in slots}
        self._fit_columns()
        self.set_keys(keys, repaint=repaint)

    def _fit_columns(self) -> None:
        """Widen TASK for the deepest task of the whole tree (in the flat list, the longest
        koid), not the rows shown, and #h for the root job's count: folding, unfolding and
        filtering then move no column."""
        figures = self.figures
        if self.flat:
            task = task_width(0, max(figures.snap.processes, default=0))
        else:
            task = figures.widest_task()
        exited = (task_width(self.slots[koid].depth, koid) for koid in self.exited.records
                  if koid in self.slots)
        self._show_columns(max(task, *exited, 12))

    @property
    def choice(self) -> ColumnChoice:
        """The columns of the view shown (memory, or handle counts by type): which, in
        what order (the F2 chooser edits it)."""
        return self.choices["handle_columns" if self.by_type else "columns"]

    def _show_columns(self, task_width: int) -> None:
        """Show the view's columns that its choice keeps, in the choice's order, and pick
        each row's cells the same way."""
        handles = self.figures.handles(self.figures.snap.root_job, self.by_type)
        every = task_columns(task_width, self.unit, self.by_type, handles)
        at = {column.title: i for i, column in enumerate(every)}
        picks = tuple(at[title] for title in self.choice.shown())
        if picks != self._picks:
            self._picks, self._pick = picks, itemgetter(*picks)
        columns = [every[i] for i in picks]
        self.sparklines = any(column.key == "spark" for column in columns)
        if columns != list(self.columns):
            self.set_columns(columns)

    def apply_choice(self) -> None:
        """Show the columns as the choice now has them. A hidden sort column gives way to
        one sorting the same (PSS TREND to GROWTH/MIN), else to TASK: ps's order."""
        self._show_columns(self.columns[0].width)
        keys = {column.key for column in self.columns}
        if self.sort_key not in keys:
            if self.sort_key in TREND_KEYS and "growth" in keys:
                self.sort_key = "growth"
            else:
                self.sort_key, self.sort_reverse = "task", False
        self.rebuild()

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self._show_columns(self.columns[0].width)
        self.refresh()

    def action_toggle_handles(self) -> None:
        self.by_type = not self.by_type
        self.apply_choice()

    def action_toggle_tree(self) -> None:
        """The job tree, or every process in one list (htop's tree and flat views)."""
        self.flat = not self.flat
        self.rebuild()

    def action_toggle_sparklines(self) -> None:
        """Show or hide PSS TREND, as the chooser would (and kept in config.toml)."""
        self.choices["columns"].toggle("PSS TREND")
        self.apply_choice()
        self.app.save_columns()

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self.rebuild()

    def subtitle(self) -> str:
        parts = [counted(len(self.keys), "row")]
        if self.filter_text:
            parts.append(f"filter '{self.filter_text}'")
        mb = self.app.watchdog.mb if self.is_attached else None
        if mb is not None:
            hogs = len(self.app.watchdog.hogs(self.figures.snap))
            parts.append(f"watchdog {mb}M: {hogs} over")
        return " · ".join(parts)

    # -- drawing ----------------------------------------------------------------------

    def cells(self, key: int) -> Sequence[Cell]:
        slot = self.slots[key]
        if self.order is None:
            lead = ""
        elif slot.kind == "j" and slot.children:
            folded = key in self.collapsed and not self.filter_text
            lead = f"{self.order.lines(key)}{'▸' if folded else '▾'} "
        else:
            lead = f"{self.order.lines(key)}{'─' if slot.depth else ' '} "
        if slot.kind == EXITED:  # gone: its task and name, no figures
            name = safe_name(self.exited.records[key].name)
            return (Cell(f"{lead}p: {key}", "task-table--exited"),
                    *[Cell("")] * (len(self.columns) - 2), Cell(name, "task-table--exited"))
        # Speed: bench "ui default: CPU at 1 s ticks" (ui_bench): a row is formatted again
        # only when what it shows changed, which at default is about a third of them a tick.
        inputs = self._inputs(key, slot.kind, lead)
        kept = self._formatted.get(key)
        if kept is None or kept[0] != inputs:
            kept = self._formatted[key] = (inputs, self._format(key, inputs))
        return kept[1]

    def _inputs(self, key: int, kind: str, lead: str) -> tuple:
        """Everything a row's cells show (see `_format`), read from the figures."""
        figures, app = self.figures, self.app
        if kind == "j":
            style = "task-table--job"
        elif key in app.watchdog.hogs(figures.snap):
            style = "task-table--hog"
        elif key in app.events.new_processes(figures.snap.tick):
            style = "task-table--new"
        else:
            style = "task-table--process"
        name, name_style = figures.name(kind, key), style
        if style == "task-table--hog":
            name = f"! {name}"
        elif kind == "j" and not name:  # ps leaves it blank; say what it runs
            name, name_style = figures.runs(key), "line-table--dim"
        spark = None
        if self.sparklines and not self.by_type:
            spark = tuple(resample(app.growth.series(kind, key), SPARK_WIDTH))
        return (self.unit, self._picks, self.by_type, app.source.missing, kind, lead, style,
                name, name_style, figures.values(kind, key),
                cells.shown_change(figures.delta(key)), figures.handles(key, self.by_type),
                None if self.by_type else app.growth.per_minute(kind, key), spark)

    def _format(self, key: int, inputs: tuple) -> tuple[Cell, ...]:
        """A row's cells from its `_inputs` (the columns they name picked by `_pick`)."""
        pick = self._pick
        (unit, _, by_type, gaps, kind, lead, style, name, name_style, values, delta,
         counts, growth, spark_values) = inputs
        pss, private, shared, apss = values
        task = Cell(f"{lead}{kind}: {key}", style)
        trend = "line-table--rise" if delta > 0 else "line-table--fall" if delta < 0 else ""
        legacy = [Cell(cells.size(pss, unit), trend), Cell(cells.size(private, unit)),
                  Cell("" if shared is None else cells.size(shared, unit))]
        if "task_stats" in gaps:  # ps's figures need mappings: not known, not 0
            legacy = [Cell("")] * 3
        if "handles" in gaps:
            handles = [Cell("")] * len(counts)
        else:
            handles = [Cell(str(n), "" if n else "line-table--dim") for n in counts]
        if by_type:
            return pick((task, legacy[0], *handles, Cell(name, name_style)))
        spark = Cell("")
        if spark_values is not None:
            spark = Cell(cells.sparkline(spark_values, SPARK_WIDTH), "line-table--dim")
        return pick((task, *legacy, Cell(cells.fixed_size(apss, unit)),
                     cells.change(delta, unit), cells.growth(growth, unit), spark,
                     *handles, Cell(name, name_style)))

    def _growth_order(self, kind: str, koid: int) -> float:
        """A row's place when sorted by growth (or its sparkline): no trend counts as 0."""
        return self.app.growth.per_minute(kind, koid) or 0.0

    def search_text(self, key: int) -> str:
        slot = self.slots.get(key)
        if slot and slot.kind == EXITED:
            return f"{self.exited.records[key].name.casefold()}\0{key}"
        kind = slot.kind if slot else ("j" if key in self.figures.snap.jobs else "p")
        return f"{self.figures.name(kind, key).casefold()}\0{key}"

    # -- search and expansion -----------------------------------------------------------

    def search_keys(self) -> list:
        """Every row, collapsed or not, so a search finds processes in collapsed jobs."""
        if not self.collapsed or self.filter_text:
            return self.keys
        return [s.koid for s in flatten(self.figures, (), self.sort_key, self.sort_reverse,
                                            growth=self._growth_order)]

    def reveal(self, key: int) -> None:
        """Expand the jobs above a row (clearing a filter that hides it) and select it."""
        snap = self.figures.snap
        kind = "j" if key in snap.jobs else "p"
        if key not in snap.jobs and key not in snap.processes:
            return
        if self.filter_text and not matches(self.figures, kind, key, self.filter_text.casefold()):
            self.filter_text = ""
        hidden = self.collapsed.intersection(ancestors(snap, kind, key))
        if key not in self.slots or hidden:
            self.collapsed -= hidden
            self.rebuild()
        self.move_to(key)

    def _set_collapsed(self, koid: int, collapsed: bool) -> None:
        if collapsed:
            self.collapsed.add(koid)
        else:
            self.collapsed.discard(koid)
        self.rebuild()

    def toggle(self, koid: int) -> None:
        self._set_collapsed(koid, koid not in self.collapsed)

    def action_collapse(self) -> None:
        """Collapse the job under the cursor, or go up to the parent job."""
        key = self.cursor_key
        if key is None:
            return
        slot = self.slots[key]
        if slot.kind == EXITED:
            return
        if slot.kind == "j" and slot.children and key not in self.collapsed:
            self._set_collapsed(key, True)
            return
        parents = ancestors(self.figures.snap, slot.kind, key)
        if parents:
            self.move_to(parents[0])

    def action_expand(self) -> None:
        key = self.cursor_key
        if key is not None and key in self.collapsed:
            self._set_collapsed(key, False)

    def action_expand_all(self) -> None:
        self.collapsed.clear()
        self.rebuild()

    def action_collapse_all(self) -> None:
        """Collapse every job below the root, so the top level reads at a glance; the
        cursor goes to the row that now holds the one it was on (its visible ancestor)."""
        snap = self.figures.snap
        key = self.cursor_key
        self.collapsed = {koid for koid, job in snap.jobs.items()
                          if koid != snap.root_job and (job.jobs or job.processes)}
        self.rebuild()
        if key is None or key in self.slots:
            return
        kind = "j" if key in snap.jobs else "p" if key in snap.processes else None
        if kind is not None:  # not a row kept after its exit
            self.move_to(next(k for k in ancestors(snap, kind, key) if k in self.slots))
