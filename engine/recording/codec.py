"""The delta codec: a snapshot as a keyframe, or as the columns of what changed since the
tick before; and back again (Rebuild).

See the recording format (format.py) for what a frame holds.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Mapping
from functools import reduce
from itertools import accumulate, chain, compress, repeat
from operator import add, attrgetter, eq, floordiv, itemgetter, mul, or_, sub
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    Final,
    Literal,
    TypeAlias,
    TypeVar,
    cast,
    get_origin,
    overload,
)

import msgspec
import zstandard
from msgspec import Meta, Struct, structs

from zmtop.engine.formats.names import safe_name
from zmtop.engine.recording.format import astuple
from zmtop.engine.sim.pressure import LEVELS
from zmtop.engine.snapshot.records import (
    KMEM_V1_FIELDS,
    Changes,
    Event,
    Job,
    Kmem,
    Process,
    ProcessMove,
    Snapshot,
    Vmo,
)
from zmtop.engine.snapshot.tables import factored_move_columns

Index = Annotated[int, Meta(ge=0)]
INT: Final = 0  # how a field is encoded, unless as a tuple (_Seq)
OTHER: Final = 1
_Record: TypeAlias = Any  # a Job, Process or Vmo: whichever a _Table was built for
_Slice = tuple[int, int, list[Any]]  # a tuple field's (start, stop, new items)
_Patch = tuple[int, int, Any]  # a struct element's (position, field, value)
# An int column so far (_int_column): index, new values, differences, factor, values.
_IntSeen = tuple[int, tuple[int, ...], list[int] | None, int, list[int] | None]
V = TypeVar("V")
_E = TypeVar("_E")
# Column types that a _Table fills in with its fields' types at run time (see _filled).
_SeqColumn = list[tuple[Index, list[tuple[Index, Index, list[_E]]],
                        list[tuple[Index, Index, V]]]]
_ValueColumn = list[tuple[Index, V]]


def _filled(alias: Any, *types: Any) -> Any:
    """`alias[types]`, a type for msgspec built at run time (mypy would take `alias[t]`
    for a type annotation, which a variable cannot be)."""
    return alias[types if len(types) > 1 else types[0]]


class Moved(Struct, array_like=True, frozen=True, tag=0):
    """An int field's differences, new minus old: `factor` times `values`, of the rows
    `rows` (as gaps) or, if None, of every row. Values given as a field's index are that
    earlier field's values (and rows) in the same delta."""

    factor: int
    values: list[int] | Index
    rows: list[Index] | None = None


class Times(Struct, array_like=True, frozen=True, tag=1):
    """An int field that is `factor` times an earlier int field in every changed record
    (private and total bytes as committed bytes, say): checked on the new records only."""

    factor: int
    field: Index


# Speed: bench "scale: recording a delta tick" (record_bench) doubled at 100k VMOs without it.
class _GcPaused:
    """Columns make many short-lived tuples and no cycles: collecting meanwhile is waste
    (at 100k VMOs it doubled the cost of a delta). Nests; cheaper than a contextmanager."""

    depth = 0
    enabled = False

    def __enter__(self) -> None:
        if not self.depth:
            self.enabled = gc.isenabled()
            gc.disable()
        self.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.depth -= 1
        if not self.depth and self.enabled:
            gc.enable()


_gc_paused = _GcPaused()


def _gaps(koids: list[int]) -> list[int]:
    return list(map(sub, koids, chain((0,), koids)))


def _pick(table: Mapping[int, V], koids: list[int]) -> tuple[V, ...]:
    """The records of `koids` (at least one), in their order."""
    if len(koids) > 1:
        picked: tuple[V, ...] = itemgetter(*koids)(table)
        return picked
    return (table[koids[0]],)


class _Seq:
    """A tuple field: its changes as slices to replace (start, stop, new items), in order,
    then, for struct elements that kept their place, (position, field, value) patches."""

    def __init__(self, element: type) -> None:
        fields = structs.fields(element) if issubclass(element, Struct) else ()
        self.element = element
        self.names = [f.name for f in fields]
        self.types: list[Any] = [f.type for f in fields]
        value = reduce(or_, dict.fromkeys(self.types)) if fields else element
        self.column: Any = _filled(_SeqColumn, element, value)  # for msgspec

    def edits(self, x: tuple[Any, ...],
              y: tuple[Any, ...]) -> tuple[list[_Slice], list[_Patch]]:
        """What makes y of x: one slice around a change of length; else a patch per
        changed field of a struct element, or a slice per other changed element."""
        same = list(map(eq, x, y))
        n = len(same)
        start = same.index(False) if False in same else n
        tail = list(map(eq, reversed(x), reversed(y)))
        stop = len(x) - min(tail.index(False) if False in tail else n, n - start)
        if len(x) != len(y):
            return [(start, stop, list(y[start:stop + len(y) - len(x)]))], []
        slices: list[_Slice] = []
        patches: list[_Patch] = []
        for k in range(start, stop):
            if not same[k]:
                if self.names:
                    patches.extend((k, f, b) for f, (a, b)
                                   in enumerate(zip(astuple(x[k]), astuple(y[k]))) if a != b)
                else:
                    slices.append((k, k + 1, [y[k]]))
        return slices, patches

    # Speed: a struct element patched stays a list of its fields until `settled`: a seek
    # past 239 deltas patched 7,280 map entries, 1,567 of them distinct; bench: "default:
    # seek to any tick (cold, median of 3), worst" (record_bench).
    def patch(self, items: tuple[Any, ...] | list[Any], slices: list[_Slice],
              patches: list[_Patch]) -> list[Any]:
        """The items patched, as a list: in place if they are one already. A patched
        struct element is left a list of its fields (see `settled`)."""
        if type(items) is not list:
            items = list(items)
        for start, stop, new in slices:
            if not start <= stop <= len(items):
                raise ValueError("a slice out of range")
            items[start:stop] = new
        for k, f, value in patches:
            if f >= len(self.names) or type(value) is not self.types[f]:
                raise ValueError("a patch of no field of that type")
            item = items[k]
            if type(item) is not list:
                items[k] = item = list(astuple(item))
            item[f] = value
        return items

    def settled(self, items: list[Any]) -> tuple[Any, ...]:
        """Patched items as the field's tuple of elements again."""
        element = self.element
        return tuple([element(*item) if type(item) is list else item for item in items])


def _kind(annotation: Any) -> Literal[0, 1] | _Seq:
    if annotation is int:
        return INT
    return _Seq(annotation.__args__[0]) if get_origin(annotation) is tuple else OTHER


def _column_type(kind: Literal[0, 1] | _Seq, annotation: Any) -> Any:
    """Ints as Moved or Times; tuples as _Seq says; other fields as (row, value) where
    changed: a type for msgspec."""
    if kind == INT:
        return Moved | Times
    return kind.column if isinstance(kind, _Seq) else _filled(_ValueColumn, annotation)


if TYPE_CHECKING:
    class TableDelta(Struct):
        """What a _Table's delta (a Struct msgspec.defstruct builds) holds first: removed and
        changed koids as gaps, and new records whole; a column per field follows."""

        removed: list[int]
        koids: list[int]
        added: list[_Record]


class _Table:
    """Deltas of one keyed record type: removed and changed koids as gaps, a column per
    field (None if no changed record's field changed), and new records whole."""

    def __init__(self, record: type[Struct]) -> None:
        self.record = record
        fields = structs.fields(record)[1:]  # the koid leads and is never a column
        self.kinds = [_kind(f.type) for f in fields]
        self.seqs = [(i + 1, kind) for i, kind in enumerate(self.kinds) if isinstance(kind, _Seq)]
        self.delta = cast("type[TableDelta]", msgspec.defstruct(
            f"{record.__name__}Delta",
            [("removed", list[int]), ("koids", list[int]), ("added", _filled(list, record))]
            + [(f.name, _column_type(k, f.type) | None) for f, k in zip(fields, self.kinds)],
            array_like=True, frozen=True))

    def encode(self, old: Mapping[int, _Record], new: Mapping[int, _Record],
               changed: frozenset[int], removed: frozenset[int]) -> TableDelta:
        added = frozenset(koid for koid in changed if koid not in old)
        kept = sorted(changed.difference(added) if added else changed)
        columns: list[Any] = [None] * len(self.kinds)
        if kept:
            before = list(zip(*map(astuple, _pick(old, kept))))
            after = list(zip(*map(astuple, _pick(new, kept))))
            ints: list[_IntSeen] = []
            for i, kind in enumerate(self.kinds):
                a, b = before[i + 1], after[i + 1]
                if a == b:
                    continue
                if kind == INT:
                    columns[i] = _int_column(i, a, b, ints)
                elif kind != OTHER:
                    columns[i] = [(j, *kind.edits(x, y)) for j, (x, y) in enumerate(zip(a, b))
                                  if x is not y and x != y]
                else:
                    columns[i] = [(j, y) for j, (x, y) in enumerate(zip(a, b))
                                  if x is not y and x != y]
        gone = sorted(koid for koid in removed if koid in old)
        return self.delta(_gaps(gone), _gaps(kept), _in_order(new, added), *columns)

    def apply(self, records: dict[int, _Record], rows: dict[int, list[Any]],
              pending: dict[int, Any], delta: TableDelta) -> tuple[list[int], list[int]]:
        """Apply to `records`, keeping changed ones as mutable `rows` (koid -> field list,
        a patched tuple as a list) and moves as `pending` ones until `settle`; the changed
        (or added) and removed koids."""
        removed = list(accumulate(delta.removed))
        for koid in removed:
            del records[koid]
            rows.pop(koid, None)
            pending.pop(koid, None)
        koids = list(accumulate(delta.koids))
        if koids:
            work: list[list[Any]] = []
            for koid in koids:
                by = pending.pop(koid, None)
                if by is not None:  # moved before: its fields move now, then change
                    row = rows.pop(koid, None)
                    # a move reads and writes byte figures alone: the row's patched
                    # fields, left as they are, go on into the moved one
                    record: _Record = records[koid] if row is None else self.record(*row)
                    rows[koid] = row = list(astuple(record.moved(by)))
                else:
                    row = rows.get(koid)
                    if row is None:
                        rows[koid] = row = list(astuple(records[koid]))
                work.append(row)
            # int column -> its values and rows
            values_of: dict[int, tuple[list[int], list[int] | None]] = {}
            for i, column in enumerate(astuple(delta)[3:]):
                if column is None:
                    continue
                kind, f = self.kinds[i], i + 1
                if kind == INT:
                    factor = column.factor
                    if type(column) is Times:
                        j = column.field
                        if j >= i or self.kinds[j] != INT:
                            raise ValueError("a column is a multiple of no earlier int field")
                        for row in work:
                            row[f] = factor * row[j + 1]
                        continue
                    values, moved = column.values, column.rows
                    if type(values) is not list:
                        if values not in values_of:
                            raise ValueError("a column refers to no earlier int column")
                        values, moved = values_of[values]
                    elif len(values) != (len(koids) if moved is None else len(moved)):
                        raise ValueError("a column of the wrong length")
                    values_of[i] = values, moved
                    if moved is None:
                        for row, value in zip(work, values):
                            row[f] += value * factor
                    else:
                        for j, value in zip(accumulate(moved), values):
                            work[j][f] += value * factor
                elif kind != OTHER:
                    for j, slices, patches in column:
                        work[j][f] = kind.patch(work[j][f], slices, patches)
                else:
                    for j, value in column:
                        work[j][f] = value
        for record in delta.added:
            records[record.koid] = record
            rows.pop(record.koid, None)
            koids.append(record.koid)
        return koids, removed

    @staticmethod
    def move(records: dict[int, _Record], pending: dict[int, Any],
             moves: dict[int, Any]) -> None:
        """Add `Changes` moves to the `pending` ones: moves add up (`Vmo.moved` by a then b
        is `moved` by a + b), so a seek past many deltas moves each record once."""
        if not records.keys() >= moves.keys():
            raise KeyError("a move of a record that is not there")
        # Speed: a plain loop, not sets and a comprehension: most records moved were moved
        # before; bench: "default: seek to any tick (cold, median of 3), worst" (record_bench).
        for koid, by in moves.items():
            before = pending.get(koid)
            pending[koid] = by if before is None else _plus(before, by)

    def settle(self, records: dict[int, _Record], rows: dict[int, list[Any]],
               pending: dict[int, Any]) -> None:
        """Make the pending rows records again (their patched tuples tuples again), and
        move the records with pending moves."""
        for koid, by in pending.items():
            row = rows.pop(koid, None)
            records[koid] = (records[koid] if row is None else self._settled(row)).moved(by)
        pending.clear()
        if rows:
            records.update(zip(rows, map(self._settled, rows.values())))
            rows.clear()

    def _settled(self, row: list[Any]) -> _Record:
        for f, seq in self.seqs:
            if type(row[f]) is list:
                row[f] = seq.settled(row[f])
        return self.record(*row)


@overload
def _plus(a: int, b: int) -> int: ...
@overload
def _plus(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]: ...


def _plus(a: Any, b: Any) -> Any:
    """Two moves as one: a VMO's bytes, or a process's totals field by field."""
    return a + b if type(a) is int else tuple(map(add, a, b))


# Size: columns as differences, a factor or another column's values keep a delta small;
# bench: "scale: bytes per tick, keyframes amortized" (record_bench).
def _int_column(i: int, a: tuple[int, ...], b: tuple[int, ...],
                ints: list[_IntSeen]) -> Moved | Times:
    """An int field's column. A field that is a multiple of an earlier one, or moves as one
    does, names that field instead of repeating values. `ints` holds (index, new values,
    differences, factor, values) of the int columns so far, the last three None, 0 and None
    for Times."""
    for j, bj, _, _, _ in ints:
        factor = 1 if b == bj else _ratio(b, bj)
        if factor is not None:
            ints.append((i, b, None, 0, None))
            return Times(factor, j)
    diffs = list(map(sub, b, a))
    for j, _, earlier, factor, _ in ints:
        if diffs == earlier:
            ints.append((i, b, None, 0, None))
            return Moved(factor, j)
    factor = math.gcd(*diffs)
    values = diffs if factor == 1 else list(map(floordiv, diffs, repeat(factor)))
    for j, _, _, _, earlier in ints:
        if values == earlier:
            ints.append((i, b, diffs, factor, earlier))
            return Moved(factor, j)
    ints.append((i, b, diffs, factor, values))
    return _moved(factor, values)


def _moved(factor: int, values: list[int]) -> Moved:
    """`factor` times `values`, listing only the rows that moved when most did not."""
    if values.count(0) * 2 > len(values):
        return Moved(factor, list(filter(None, values)),
                     _gaps(list(compress(range(len(values)), values))))
    return Moved(factor, values)


class Moves(Struct, array_like=True, frozen=True):
    """Records that only moved (`Changes.vmo_moves`, `.process_moves`): their sorted koids
    as gaps, and a column per moved figure."""

    koids: list[int]
    columns: list[Moved]


def _unmoved(changed: frozenset[int], moves: Mapping[int, object]) -> frozenset[int]:
    """The changed koids whose records did more than move (a MoveColumns iterates its
    koids without building its dict)."""
    return changed.difference(moves) if len(moves) < len(changed) else frozenset()


# Speed: moves as columns in C (map, compress), not a record each; bench: "scale: recording
# per tick, keyframes amortized" (record_bench).
def _encode_moves(moves: Mapping[int, int] | Mapping[int, tuple[int, ...]]) -> Moves:
    if not moves:
        return Moves([], [])
    koids, columns, scales = factored_move_columns(moves)
    out: list[Moved] = []
    for i, (column, scale) in enumerate(zip(columns, scales)):
        same = columns.index(column)  # a column as an earlier one names it
        if same < i and scales[same] == scale:
            out.append(Moved(out[same].factor, same))
            continue
        factor = math.gcd(*column)
        if not factor:
            out.append(Moved(1, [], []))
        elif factor == 1:
            out.append(_moved(scale, column))
        else:
            out.append(_moved(factor * scale, list(map(floordiv, column, repeat(factor)))))
    return Moves(_gaps(koids), out)


# Speed: the columns back as C loops; bench: "default: seek to any tick (cold, median of 3), worst"
# (record_bench).
@overload
def _decode_moves(moves: Moves, width: Literal[1]) -> dict[int, int]: ...
@overload
def _decode_moves(moves: Moves, width: Literal[6]) -> dict[int, ProcessMove]: ...


def _decode_moves(moves: Moves, width: int) -> dict[int, Any]:
    """koid -> move (a tuple of `width` moves if width > 1); ValueError if malformed."""
    koids = list(accumulate(moves.koids))
    if not koids:
        return {}
    if len(moves.columns) != width:
        raise ValueError("moves of the wrong width")
    raw: list[list[int]] = []  # each column's values before its factor
    for column in moves.columns:
        values = column.values
        if isinstance(values, int):  # an earlier column's index
            if values >= len(raw):
                raise ValueError("moves that refer to no earlier column")
            values = raw[values]
        elif column.rows is not None:
            if len(column.rows) != len(values):
                raise ValueError("moves of more or fewer rows than values")
            given, values = values, [0] * len(koids)
            for j, value in zip(accumulate(column.rows), given):
                values[j] = value
        if len(values) != len(koids):
            raise ValueError("a column of moves of the wrong length")
        raw.append(values)
    columns = [list(map(mul, values, repeat(column.factor)))
               for values, column in zip(raw, moves.columns)]
    return dict(zip(koids, zip(*columns) if width > 1 else columns[0]))


def _ratio(b: tuple[int, ...], c: tuple[int, ...]) -> int | None:
    """k if b == k * c element by element (k not 0 or 1), else None."""
    first = next(filter(None, c), 0)
    if not first:
        return None
    k, rest = divmod(b[c.index(first)], first)
    if rest or k in (0, 1) or b[-1] != k * c[-1]:
        return None
    return k if b == tuple(map(mul, c, repeat(k))) else None


def _in_order(new: Mapping[int, V], added: frozenset[int]) -> list[V]:
    """The added records in the snapshot's dict order (new records sit at its end), so a
    rebuilt snapshot iterates like the original."""
    ordered = []
    if added:
        for koid in reversed(new):
            if koid in added:
                ordered.append(new[koid])
                if len(ordered) == len(added):
                    break
        ordered.reverse()
    return ordered


JOBS, PROCESSES, VMOS = _Table(Job), _Table(Process), _Table(Vmo)
TABLES = (JOBS, PROCESSES, VMOS)
if TYPE_CHECKING:
    JobsDelta: TypeAlias = TableDelta
    ProcessesDelta: TypeAlias = TableDelta
    VmosDelta: TypeAlias = TableDelta
else:  # the Delta field types, as the tables built them
    JobsDelta, ProcessesDelta, VmosDelta = JOBS.delta, PROCESSES.delta, VMOS.delta


class FrameHead(Struct, array_like=True, frozen=True):
    """Both kinds of frame lead with these fields: decoding stops there, for timelines and
    the kstats history before a tick."""

    tick: int
    time_ns: int
    pressure: str
    events: tuple[Event, ...]
    source: str | None
    root_job: int
    kmem: list[int]  # a keyframe's Kmem; a delta's differences from the tick before


class Keyframe(Struct, array_like=True, frozen=True):
    """A whole snapshot, its tables as lists in dict order."""

    tick: int
    time_ns: int
    pressure: str
    events: tuple[Event, ...]
    source: str
    root_job: int
    kmem: Kmem
    changes: Changes
    jobs: list[Job]
    processes: list[Process]
    vmos: list[Vmo]


class Delta(Struct, array_like=True, frozen=True):
    """One tick after the tick before: kmem as differences, tables as columns."""

    tick: int
    time_ns: int
    pressure: str
    events: tuple[Event, ...]
    source: str | None  # None: as the tick before
    root_job: int
    kmem: list[int]
    jobs: JobsDelta
    processes: ProcessesDelta
    vmos: VmosDelta
    process_moves: Moves
    vmo_moves: Moves


def encode_keyframe(snap: Snapshot) -> Keyframe:
    return Keyframe(snap.tick, snap.time_ns, snap.pressure, snap.events, snap.source,
                    snap.root_job, snap.kmem, snap.changes, list(snap.jobs.values()),
                    list(snap.processes.values()), list(snap.vmos.values()))


def encode_delta(snap: Snapshot, previous: Snapshot) -> Delta:
    c = snap.changes
    with _gc_paused:
        return Delta(
            snap.tick, snap.time_ns, snap.pressure, snap.events,
            None if snap.source == previous.source else snap.source, snap.root_job,
            list(map(sub, astuple(snap.kmem), astuple(previous.kmem))),
            JOBS.encode(previous.jobs, snap.jobs, c.jobs, c.removed_jobs),
            PROCESSES.encode(previous.processes, snap.processes,
                             _unmoved(c.processes, c.process_moves), c.removed_processes),
            VMOS.encode(previous.vmos, snap.vmos, _unmoved(c.vmos, c.vmo_moves),
                        c.removed_vmos),
            _encode_moves(c.process_moves), _encode_moves(c.vmo_moves))


def apply_keyframe(key: Keyframe) -> Snapshot:
    koid = attrgetter("koid")
    return Snapshot(tick=key.tick, time_ns=key.time_ns, source=key.source, kmem=key.kmem,
                    pressure=_level(key.pressure), root_job=key.root_job,
                    jobs=dict(zip(map(koid, key.jobs), key.jobs)),
                    processes=dict(zip(map(koid, key.processes), key.processes)),
                    vmos=dict(zip(map(koid, key.vmos), key.vmos)), changes=key.changes,
                    events=key.events)


KMEM_FIELDS = len(Kmem.__struct_fields__)
_LEVELS = frozenset(LEVELS)


def _level(pressure: str) -> str:
    """A frame's pressure level; anything but a known level is a forgery, shown escaped."""
    return pressure if pressure in _LEVELS else safe_name(pressure)


def kmem_after(before: tuple[int, ...] | None, kmem: list[int]) -> tuple[int, ...]:
    """A frame's Kmem fields: a keyframe's own (`before` None), a delta's added to them;
    a recording made before the pager fields reads them as 0. ValueError if the frame holds
    the wrong number of them."""
    if not len(KMEM_V1_FIELDS) <= len(kmem) <= KMEM_FIELDS:
        raise ValueError("kmem of the wrong length")
    fields = (*kmem, *(0,) * (KMEM_FIELDS - len(kmem)))
    return fields if before is None else tuple(map(add, before, fields))


class Rebuild:
    """The snapshot that deltas make of a snapshot, one delta at a time. Changed records
    stay field lists until `snapshot()` asks for the result, so a seek past many deltas
    builds each record it touches once."""

    def __init__(self, start: Snapshot) -> None:
        self._snap = start
        self._tables: list[dict[int, _Record]] | None = None  # the snapshot's, once changed
        self._rows: tuple[dict[int, list[Any]], ...] = ({}, {}, {})
        self._pending: tuple[dict[int, Any], ...] = ({}, {}, {})  # moves not yet made, by koid
        self._kmem = astuple(start.kmem)
        self._source = start.source
        # the last delta, what it changed and removed, and its moves
        self._last: tuple[Delta, list[tuple[list[int], list[int]]],
                          tuple[dict[int, ProcessMove], dict[int, int]]] | None = None

    def apply(self, delta: Delta) -> None:
        if self._tables is None:
            snap = self._snap
            self._tables = [dict(snap.jobs), dict(snap.processes), dict(snap.vmos)]
        kmem = kmem_after(self._kmem, delta.kmem)
        with _gc_paused:
            moved = [table.apply(records, rows, pending, part)
                     for table, records, rows, pending, part
                     in zip(TABLES, self._tables, self._rows, self._pending,
                            (delta.jobs, delta.processes, delta.vmos))]
            moves: tuple[dict[int, Any], dict[int, Any]] = (
                _decode_moves(delta.process_moves, 6), _decode_moves(delta.vmo_moves, 1))
            for table, records, pending, (changed, _), by_koid in zip(
                    TABLES[1:], self._tables[1:], self._pending[1:], moved[1:], moves):
                table.move(records, pending, by_koid)
                changed.extend(by_koid)
        self._kmem = kmem
        if delta.source is not None:
            self._source = delta.source
        self._last = delta, moved, moves

    def snapshot(self) -> Snapshot:
        """The snapshot after the deltas applied so far."""
        if self._tables is not None:
            with _gc_paused:
                for table, records, rows, pending in zip(TABLES, self._tables, self._rows,
                                                         self._pending):
                    table.settle(records, rows, pending)
            assert self._last is not None  # set by the apply that set _tables
            delta, moved, (process_moves, vmo_moves) = self._last
            jobs, processes, vmos = self._tables
            (jobs_changed, jobs_removed), (processes_changed, processes_removed), (
                vmos_changed, vmos_removed) = moved
            self._snap = Snapshot(
                tick=delta.tick, time_ns=delta.time_ns, source=self._source,
                kmem=Kmem(*self._kmem), pressure=_level(delta.pressure),
                root_job=delta.root_job,
                jobs=jobs, processes=processes, vmos=vmos,
                changes=Changes(frozenset(jobs_changed), frozenset(processes_changed),
                                frozenset(vmos_changed), frozenset(jobs_removed),
                                frozenset(processes_removed), frozenset(vmos_removed),
                                vmo_moves=vmo_moves, process_moves=process_moves),
                events=delta.events)
            self._tables = None
        return self._snap


def dictionary(raw: bytes) -> zstandard.ZstdCompressionDict:
    """A keyframe's raw bytes as a zstd dictionary, for the frames built on it."""
    return zstandard.ZstdCompressionDict(raw, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
