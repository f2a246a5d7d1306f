"""Parsing memory_monitor captures (reference 4.3) into Snapshots, poll after poll.

A poll parses each capture against the `CaptureIndex` of the one before, so a tick costs what
changed: whole-table checks run in C, and only rows unlike last time's are checked, counted
and turned into records again. What a capture holds and lacks: see engine.formats.capture.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import partial
from itertools import chain, compress, filterfalse, repeat, zip_longest
from operator import itemgetter, mul, ne
from typing import Annotated, Any

import msgspec
from msgspec import Meta, structs

from zmtop.engine.formats.capture import (
    KERNEL_FIELDS,
    NOTHING,
    SOURCE_PREFIX,
    VMO_COLUMNS,
    Sizes,
    reach_with_parents,
    sizes_of,
)
from zmtop.engine.sim.pressure import LEVELS, Watermarks, raw_level
from zmtop.engine.snapshot.records import (
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
from zmtop.engine.sources.imported import ImportedSource
from zmtop.engine.sources.json_input import (
    COUNT_LIMIT,
    LONG_NAMES,
    SourceError,
    count,
    counts,
    cut_name,
    cut_names,
    expect,
    member,
)
from zmtop.engine.sources.validate import check_acyclic, check_committed, check_koid

PAGER_FIELDS = ("vmo_pager_total", "vmo_pager_newest", "vmo_pager_oldest")  # Kmem keeps them
EXTENDED_FIELDS = (*PAGER_FIELDS, "vmo_discardable_locked", "vmo_discardable_unlocked",
                   "vmo_reclaim_disabled")
MISSING = frozenset({"jobs", "threads", "mappings", "handles", "via", "task_stats",
                     "vmo_flags"})
# An imported VMO's flags, by whether it has a parent.
VMO_FLAGS = (VMO_TYPE_PAGED, VMO_TYPE_PAGED | VMO_IS_COW_CLONE)
# What msgspec converts a table's rows to: tuples of integers of at least 0 (no bool).
NATURAL_ROWS = list[tuple[Annotated[int, Meta(ge=0)], ...]]


class CaptureIndex(msgspec.Struct):
    """A parsed capture's rows and what follows from them. Parsing the next capture of the
    same source (the next poll) against it costs what changed: rows seen last time are not
    checked again, and records whose content is unchanged are the same objects.

    Parsing copies an index's dicts before changing them, and never changes the lists and
    sets they hold, so a capture that fails leaves the previous index intact."""

    names: list[str] = []
    picked: list[tuple[int, ...]] = []  # VMO_COLUMNS of each row
    koids: list[int] = []  # VMO koids in row order
    row_of: dict[int, tuple[int, ...]] = {}
    parent_of: dict[int, int] = {}
    children: Counter[int] = msgspec.field(default_factory=Counter)  # rows naming each parent
    listed: dict[int, tuple[str, list[int], frozenset[int]]] = {}  # process -> name, VMOs
    listing: Counter[int] = msgspec.field(default_factory=Counter)  # processes listing a VMO
    reach: dict[int, set[int]] = {}  # VMOs each process pays for
    edges: dict[int, set[int]] = {}  # and their parents' koids
    shares: Counter[int] = msgspec.field(default_factory=Counter)  # processes reaching a VMO
    sizes: dict[int, Sizes] = {}  # the Summary (NOTHING if absent)
    vmos: dict[int, Vmo] = {}
    processes: dict[int, Process] = {}
    job: Job | None = None

    def copy(self) -> CaptureIndex:
        """An index whose dicts can be changed without changing this one's."""
        return structs.replace(self, **{
            name: value.copy() for name in self.__struct_fields__
            if isinstance(value := getattr(self, name), dict)})


def parse_capture(doc: Any, label: str, previous: CaptureIndex | None = None) -> ImportedSource:
    """A decoded capture, plain or wrapped as `{"Capture": ..., "Buckets": ...}`. Given the
    index of the previous capture of the same source, unchanged records are its objects and
    the snapshot's `changes` say what differs from it."""
    expect(doc, dict, "$")
    buckets = None
    prefix = ""
    if "Capture" in doc:
        if "Buckets" in doc:
            from zmtop.engine.analysis.digest import parse_buckets

            buckets = parse_buckets(doc["Buckets"], "Buckets")
        doc = expect(doc["Capture"], dict, "Capture")
        prefix = "Capture."
    kernel = expect(member(doc, "Kernel", prefix + "$"), dict, prefix + "Kernel")
    extended = {key: count(kernel[key], f"{prefix}Kernel.{key}")
                for key in EXTENDED_FIELDS if key in kernel}
    kmem = Kmem(**{attr: count(member(kernel, key, prefix + "Kernel"), f"{prefix}Kernel.{key}")
                   for key, attr in KERNEL_FIELDS.items()},
                **{f"{key}_bytes": extended[key] for key in PAGER_FIELDS if key in extended})
    time_ns = count(member(doc, "Time", prefix + "$"), prefix + "Time")
    names = _names(doc, prefix)
    cut = cut_names(names)
    update = _Update(previous or CaptureIndex(), names if cut is None else cut)
    update.vmo_rows(doc, prefix)
    update.process_rows(doc, prefix)
    update.summary()
    snap = update.snapshot(SOURCE_PREFIX + label, time_ns, kmem)
    missing = MISSING | {LONG_NAMES} if cut is not None or update.cut else MISSING
    return ImportedSource(snap, "capture", missing, buckets, extended, update.new)


def _only(values: Iterable[Any], kind: type) -> bool:
    """Whether every value is exactly a `kind` (so a bool is no int), in one pass in C."""
    return set(map(type, values)) <= {kind}


def _names(doc: dict[str, Any], prefix: str) -> list[str]:
    path = prefix + "VmoNames"
    names = expect(member(doc, "VmoNames", prefix + "$"), list, path)
    if not _only(names, str):
        for i, name in enumerate(names):
            expect(name, str, f"{path}[{i}]")
    return names


def _header(table: list[Any], path: str, columns: tuple[str, ...]) -> list[int]:
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


def _natural_rows(rows: list[Any]) -> list[tuple[int, ...]] | None:
    """The rows as tuples if every value is an integer of at least 0 (no bool, no float),
    converted and checked by msgspec in C; else None."""
    try:
        return msgspec.convert(rows, NATURAL_ROWS)
    except msgspec.ValidationError:
        return None


def _columns(rows: list[tuple[int, ...]]) -> list[list[int]]:
    """VMO rows (koid, name index, parent, committed, size) column by column."""
    return [list(map(itemgetter(i), rows)) for i in range(len(VMO_COLUMNS))]


def _sound(columns: list[list[int]], name_count: int) -> bool:
    """Whether VMO rows of naturals, given by column, stay below COUNT_LIMIT and hold no koid 0
    and no name index past VmoNames: the rest of what `_check_vmo_rows` checks."""
    koids, names, _, _, _ = columns
    return not koids or (max(map(max, columns)) < COUNT_LIMIT and 0 not in koids
                         and max(names) < name_count)


def _check_vmo_rows(table: list[Any], columns: list[int], path: str, name_count: int) -> None:
    """Check the rows one by one; the first bad value raises, naming its row and column."""
    width = len(table[0])
    seen: set[int] = set()
    for i in range(1, len(table)):
        row = expect(table[i], list, f"{path}[{i}]")
        if len(row) != width:
            raise SourceError(f"{path}[{i}]: {len(row)} values for {width} columns")
        koid, name, _, _, _ = counts(row, columns, f"{path}[{i}]")
        seen.add(check_koid(koid, seen, "VMO", f"{path}[{i}][{columns[0]}]"))
        if name >= name_count:
            raise SourceError(f"{path}[{i}][{columns[1]}]: name index {name} is past VmoNames")


def _listed_set(listed: list[Any], row_of: dict[int, tuple[int, ...]],
                path: str) -> frozenset[int]:
    """The VMOs a process lists, as a set, each checked to be in Vmos; the first that is not
    raises, naming its place."""
    vmos = frozenset(listed) if _only(listed, int) else None
    if vmos is None or not row_of.keys() >= vmos:
        for j, vmo in enumerate(listed):
            if count(vmo, f"{path}[{j}]") not in row_of:
                raise SourceError(f"{path}[{j}]: VMO {vmo} is not in Vmos")
        raise AssertionError(f"{path}: a list the checks passed")  # one of them raises
    return vmos


def _subtract(counts: Counter[int], items: Iterable[int]) -> None:
    """Take one off each item's count, dropping the counts that reach 0."""
    for item in items:
        left = counts[item] - 1
        if left:
            counts[item] = left
        else:
            del counts[item]


# Speed: records built column by column in C (map); bench: "capture: load real capture"
# (import_bench).
def _vmo_records(rows: list[tuple[int, ...]], index: CaptureIndex) -> list[Vmo]:
    """The records of VMO rows, with the names and counts of the index, built column by
    column in C."""
    koids, name_indexes, parents, committed, sizes = _columns(rows)
    zero = repeat(0)
    shares = list(map(index.shares.get, koids, zero))
    # records.leaf_figures column by column: a VMO some process reaches has its committed
    # bytes as private and scaled bytes, one none reaches has neither
    private = list(map(mul, committed, map(bool, shares)))
    return list(map(
        Vmo, koids, map(index.names.__getitem__, name_indexes), sizes, parents,
        map(index.children.get, koids, zero),  # num_children
        zero,  # num_mappings: a capture has no mappings
        shares,  # share_count
        committed, map(VMO_FLAGS.__getitem__, map(bool, parents)),
        map(index.listing.get, koids, zero),  # process_count
        private, map(mul, private, repeat(FRACTION_ONE)), committed))  # see engine.formats.capture


class _Update:
    """One capture applied to the index of the previous one: the new index, and the koids
    whose records may differ (those are rebuilt, then compared with the old ones)."""

    def __init__(self, old: CaptureIndex, names: list[str]) -> None:
        self.old = old
        self.new = old.copy()
        self.new.names = names
        self.fresh: set[int] = set()  # VMOs whose row is new or different
        self.removed: set[int] = set()  # VMOs no longer listed
        self.reparented: set[int] = set()  # VMOs new, gone or with another parent
        self.stale: set[int] = set()  # VMOs whose name or counts may differ
        self.relisted: set[int] = set()  # processes whose VMO list is new or different
        self.renamed: set[int] = set()  # processes whose name changed
        self.exited: set[int] = set()  # processes no longer listed
        self.resized: set[int] = set()  # processes whose Summary changed
        self.cut = False  # whether a process name was cut to MAX_NAME_BYTES

    # Speed: whole-table checks and the diff with last time's rows in C; bench: "poll: the same,
    # with 1% of the VMOs changed each tick" (import_bench).
    def vmo_rows(self, doc: dict[str, Any], prefix: str) -> None:
        """Check the Vmos table and apply it: whole-table checks in C, the rest only on rows
        unlike last time's, and row by row, to name a problem, once one is found."""
        path = prefix + "Vmos"
        table = expect(member(doc, "Vmos", prefix + "$"), list, path)
        columns = _header(table, path, VMO_COLUMNS)
        rows = table[1:]
        new = self.new
        check = partial(_check_vmo_rows, table, columns, path, len(new.names))
        if not (_only(rows, list) and set(map(len, rows)) <= {len(table[0])}):
            check()
        if columns != list(range(len(table[0]))):
            rows = list(map(itemgetter(*columns), rows))
        picked = _natural_rows(rows)
        if picked is None:
            check()
            raise AssertionError(f"{path}: rows msgspec refused passed the checks")
        check_committed(map(itemgetter(3), picked), path)
        fresh, dropped = self._diff(picked)
        koids, _, parents, _, _ = added = _columns(fresh)
        if not (_sound(added, len(new.names)) and self._names_fit()):
            check()
        for koid in map(itemgetter(0), dropped):
            del new.row_of[koid], new.parent_of[koid]
        new.row_of.update(zip(koids, fresh))
        if len(new.row_of) != len(picked):
            check()  # a koid listed twice
        new.parent_of.update(zip(koids, parents))
        check_acyclic(new.parent_of, compress(koids, parents), new.koids, path)
        new.children.update(parents)
        _subtract(new.children, map(itemgetter(2), dropped))
        self.fresh = set(koids)
        self.removed = set(filterfalse(new.row_of.__contains__, map(itemgetter(0), dropped)))
        before = list(map(self.old.parent_of.get, koids))  # None where the VMO is new
        moved = list(map(ne, parents, before))
        self.reparented = self.removed.union(compress(koids, moved))
        recounted = chain(compress(parents, moved), compress(before, moved),
                          (row[2] for row in dropped if row[0] in self.removed))
        self.stale = set(filter(None, recounted))  # parents whose children count may differ
        self.stale.update(self._renamed_vmos())

    def _diff(self, picked: list[tuple[int, ...]]) -> tuple[list[tuple[int, ...]],
                                                           list[tuple[int, ...]]]:
        """The rows new or different since last time, in row order, and the old rows that
        went; the new index takes the rows and their koids. A table of the same length is
        compared row by row (a row that moved counts as gone and new), any other as sets."""
        new, before = self.new, self.old.picked
        if len(picked) == len(before):
            differs = list(map(ne, picked, before))
            fresh, dropped = list(compress(picked, differs)), list(compress(before, differs))
        else:
            fresh = list(filterfalse(frozenset(before).__contains__, picked)) if before else picked
            dropped = (before if len(fresh) == len(picked)  # nothing kept
                       else list(filterfalse(frozenset(picked).__contains__, before)))
        if fresh or dropped:
            new.picked, new.koids = picked, list(map(itemgetter(0), picked))
        return fresh, dropped

    def _names_fit(self) -> bool:
        """Whether the name indexes of rows kept from last time are still in VmoNames."""
        names = self.new.names
        return (len(names) >= len(self.old.names)
                or max(map(itemgetter(1), self.new.picked), default=-1) < len(names))

    def _renamed_vmos(self) -> Iterable[int]:
        """The VMOs whose name index now names something else."""
        new, old = self.new.names, self.old.names
        if new == old:
            return ()
        renamed = {i for i, (a, b) in enumerate(zip_longest(new, old)) if a != b}
        return compress(self.new.koids, map(renamed.__contains__,
                                            map(itemgetter(1), self.new.picked)))

    def process_rows(self, doc: dict[str, Any], prefix: str) -> None:
        """Check the Processes table and apply it; a process's VMO list is checked again only
        if it changed or one of its VMOs went away."""
        path = prefix + "Processes"
        table = expect(member(doc, "Processes", prefix + "$"), list, path)
        k_col, n_col, v_col = _header(table, path, ("koid", "name", "vmos"))
        width = len(table[0])
        old, new = self.old, self.new
        new.listed = {}
        for i in range(1, len(table)):
            row = expect(table[i], list, f"{path}[{i}]")
            if len(row) != width:
                raise SourceError(f"{path}[{i}]: {len(row)} values for {width} columns")
            koid = check_koid(count(row[k_col], f"{path}[{i}][{k_col}]"), new.listed,
                              "process", f"{path}[{i}][{k_col}]")
            name = cut_name(expect(row[n_col], str, f"{path}[{i}][{n_col}]"))
            if len(name) != len(row[n_col]):
                self.cut = True
            listed = expect(row[v_col], list, f"{path}[{i}][{v_col}]")
            before = old.listed.get(koid)
            if (before is not None and before[1] == listed and _only(listed, int)
                    and self.removed.isdisjoint(before[2])):
                new.listed[koid] = before if before[0] == name else (name, *before[1:])
            else:
                vmos = _listed_set(listed, new.row_of, f"{path}[{i}][{v_col}]")
                new.listed[koid] = (name, listed, vmos)
                self.relisted.add(koid)
            if before is not None and before[0] != name:
                self.renamed.add(koid)
        self.exited = set(old.listed.keys() - new.listed.keys())
        self._count_listings()

    def _count_listings(self) -> None:
        """How many processes list each VMO, from the lists that changed."""
        old, new = self.old, self.new
        for koid in self.relisted:
            was = old.listed[koid][2] if koid in old.listed else frozenset()
            now = new.listed[koid][2]
            new.listing.update(now - was)
            _subtract(new.listing, was - now)
            self.stale |= was ^ now
        for koid in self.exited:
            _subtract(new.listing, old.listed[koid][2])
            self.stale |= old.listed[koid][2]

    def summary(self) -> None:
        """What each process reaches, how many processes reach each VMO, and the Summary, each
        worked out again only where the rows it depends on changed."""
        old, new = self.old, self.new
        reshared: set[int] = set()  # VMOs whose share count may differ
        for koid in self.exited:
            _subtract(new.shares, old.reach[koid])
            reshared |= old.reach[koid]
            del new.reach[koid], new.edges[koid]
            new.sizes.pop(koid, None)
        regrown: set[int] = set()
        for koid, (_, _, listed) in new.listed.items():
            if koid in self.relisted or not old.edges[koid].isdisjoint(self.reparented):
                reached, met = reach_with_parents(listed, new.parent_of)
                was = new.reach.get(koid, set())
                if reached != was:
                    new.shares.update(reached - was)
                    _subtract(new.shares, was - reached)
                    reshared |= reached ^ was
                    regrown.add(koid)
                new.reach[koid] = reached
                new.edges[koid] = reached | met
        self.stale |= reshared
        touched = self.fresh | reshared
        for koid, reached in new.reach.items():
            if koid in regrown or not reached.isdisjoint(touched):
                sizes = sizes_of(list(map(itemgetter(3), map(new.row_of.__getitem__, reached))),
                               list(map(new.shares.__getitem__, reached)))
                if sizes != new.sizes.get(koid, NOTHING):
                    new.sizes[koid] = sizes
                    self.resized.add(koid)

    def snapshot(self, source: str, time_ns: int, kmem: Kmem) -> Snapshot:
        """The snapshot, its records shared with the previous one where equal."""
        old, new = self.old, self.new
        root = 1 + max(max(new.row_of, default=0), max(new.listed, default=0))
        vmos = self._vmos()
        processes = self._processes(root)
        new.job = Job(root, 0, "root", False, (), tuple(new.processes))
        if new.job == old.job:
            new.job = old.job
        old_root = {old.job.koid} if old.job else set()
        changes = Changes(
            jobs=frozenset({root} if new.job is not old.job else ()), processes=processes,
            vmos=vmos, removed_jobs=frozenset(old_root - {root}),
            removed_processes=frozenset(self.exited), removed_vmos=frozenset(self.removed))
        return Snapshot(
            tick=0, time_ns=time_ns, source=source, kmem=kmem,
            pressure=LEVELS[raw_level(kmem.free_bytes, Watermarks())], root_job=root,
            jobs={root: new.job}, processes=new.processes, vmos=new.vmos, changes=changes)

    def _vmos(self) -> frozenset[int]:
        """Rebuild the VMO records that may differ, keeping the old one where the new one is
        equal; the koids of those that differ."""
        old, new = self.old, self.new
        vmos = new.vmos
        for koid in self.removed:
            del vmos[koid]
        rebuild = (self.fresh | self.stale) & new.row_of.keys()
        rows = (new.picked if len(rebuild) == len(new.row_of)  # all of them, in row order
                else list(map(new.row_of.__getitem__, rebuild)))
        koids = list(map(itemgetter(0), rows))
        built = _vmo_records(rows, new)
        differs = list(map(ne, built, map(old.vmos.get, koids)))
        vmos.update(compress(zip(koids, built), differs))
        if new.koids != old.koids and list(vmos) != new.koids:  # follow the capture's order
            new.vmos = dict(zip(new.koids, map(vmos.__getitem__, new.koids)))
        return frozenset(compress(koids, differs))

    def _processes(self, root: int) -> frozenset[int]:
        """Rebuild the process records that may differ, as `_vmos` does."""
        old, new = self.old, self.new
        rebuild = (new.listed.keys() if old.job is None or old.job.koid != root
                   else self.relisted | self.renamed | self.resized)
        new.processes = {}
        changed = set()
        for koid, (name, listed, _) in new.listed.items():
            record = old.processes.get(koid)
            if koid in rebuild:
                private, scaled, total = new.sizes.get(koid, NOTHING)
                built = Process(koid, root, name, (), (),
                                tuple(map(VmoRef, dict.fromkeys(listed), repeat(False))),
                                0, 0, 0, 0, 0, private, total, scaled * FRACTION_ONE)
                if built != record:
                    record = built
                    changed.add(koid)
            assert record is not None  # rebuilt, or kept: listed before and unchanged
            new.processes[koid] = record
        return frozenset(changed)
