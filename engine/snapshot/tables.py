"""Snapshot tables whose byte figures move in columns, so that a tick pays per change.

Most records change only because some byte figures moved (`Vmo.moved`, `Process.moved`).
Such a record is not rebuilt: the table keeps the record as last built (its base) and the
figures' current values in int64 columns, a row per koid, moved a whole tick at a time.
Reading a record joins the two.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, KeysView, Mapping, Sequence
from itertools import repeat
from operator import itemgetter, mul
from typing import Any, Generic, Protocol, TypeAlias, TypeVar, overload

R = TypeVar("R")
M = TypeVar("M")
T = TypeVar("T")
C = TypeVar("C", bound=Sequence[int])
V_co = TypeVar("V_co", covariant=True)
FigureColumns: TypeAlias = "list[array[int]]"  # figure i of row r at [i][r]


class Table(Protocol[V_co]):
    """What `gather` reads: a dict by key, or a column by row."""

    def __getitem__(self, key: int, /) -> V_co: ...


def gather(table: Table[V_co], keys: Sequence[int]) -> tuple[V_co, ...]:
    """table[key] for each key, in one C loop (itemgetter's: faster than a map)."""
    if len(keys) > 1:
        gathered: tuple[V_co, ...] = itemgetter(*keys)(table)
        return gathered
    return (table[keys[0]],) if keys else ()


# Speed: figures in int64 arrays moved a tick at a time, records rebuilt only when more than
# their figures changed; bench: "scale: accounting per tick" (engine_bench).
class Columns:
    """The accountant's figures: `width` int64 figures per koid ever seen, figure i of row r
    at `values[i][r]`.

    A koid keeps its row for good, so the koid-to-row map only grows and every table
    published from these columns can share it.
    """

    def __init__(self, width: int) -> None:
        self.rows: dict[int, int] = {}
        self.koids = array("q")  # by row
        self.values: FigureColumns = [array("q") for _ in range(width)]

    def row(self, koid: int) -> int:
        """The koid's row, given it now if it has none."""
        row = self.rows.get(koid)
        if row is None:
            row = self.rows[koid] = len(self.koids)
            self._append(koid)
        return row

    def _append(self, koid: int) -> None:
        """A row past the last for the koid, its figures zero."""
        self.koids.append(koid)
        for column in self.values:
            column.append(0)

    def place(self, koid: int, row: int) -> None:
        """Give the koid the row chosen for it elsewhere (a VMO's, by the kernel), if it has
        none; rows skipped on the way, never given, read zero."""
        if koid in self.rows:
            return
        self.rows[koid] = row
        # Speed: the next row, as rows mostly come, is appended, not extended to; bench:
        # "xl: `zmtop ps --scenario xl` end to end" (engine_bench), 500,000 VMOs at boot.
        if row == len(self.koids):
            self._append(koid)
            return
        short = row + 1 - len(self.koids)
        if short > 0:
            for column in (self.koids, *self.values):
                column.extend(repeat(0, short))
        self.koids[row] = koid

    def frozen(self, width: int) -> FigureColumns:
        """A copy of the first `width` figures of every row, for a table to keep."""
        return [column[:] for column in self.values[:width]]


class FigureTable(Mapping[int, R], Generic[R]):
    """An immutable koid -> record table: base records joined with their current figures.

    `join(record, figures, row)` returns the record as of its figures (`figures[i][row]`).
    """

    __slots__ = ("_base", "_rows", "_figures", "_join")

    def __init__(self, base: dict[int, R], rows: dict[int, int], figures: FigureColumns,
                 join: Callable[[R, FigureColumns, int], R]) -> None:
        self._base = base
        self._rows = rows
        self._figures = figures
        self._join = join

    def __getitem__(self, koid: int) -> R:
        return self._join(self._base[koid], self._figures, self._rows[koid])

    @overload
    def get(self, koid: int, /) -> R | None: ...
    @overload
    def get(self, koid: int, default: R, /) -> R: ...
    @overload
    def get(self, koid: int, default: T, /) -> R | T: ...

    def get(self, koid: int, default: object = None) -> object:
        record = self._base.get(koid)
        if record is None:
            return default
        return self._join(record, self._figures, self._rows[koid])

    def reader(self, index: int) -> Callable[[int], int | None]:
        """Figure `index` of a koid of this table, or None for one born after it,
        holding the column, not the table: what an older tick's figure costs to keep."""
        column, rows, size = self._figures[index], self._rows, len(self._figures[index])

        def read(koid: int) -> int | None:
            row = rows.get(koid)  # rows only grow, a koid keeps its row for good
            return None if row is None or row >= size else column[row]
        return read

    def figure_columns(self) -> tuple[dict[int, int], FigureColumns]:
        """The koid -> row map (shared by the tables of one set of columns, and only
        growing) and the figure columns, figure i of row r at [i][r]: what keeping a
        tick's figures costs without a copy. A row past a column's end is a koid born
        later; a row is never given to another koid."""
        return self._rows, self._figures

    def __contains__(self, koid: object) -> bool:
        return koid in self._base

    def __iter__(self) -> Iterator[int]:
        return iter(self._base)

    def __reversed__(self) -> Iterator[int]:
        return reversed(self._base)

    def __len__(self) -> int:
        return len(self._base)

    def keys(self) -> KeysView[int]:
        return self._base.keys()

    def values(self) -> list[R]:  # type: ignore[override]
        join, figures, rows = self._join, self._figures, self._rows
        return [join(record, figures, rows[koid]) for koid, record in self._base.items()]

    def items(self) -> list[tuple[int, R]]:  # type: ignore[override]
        join, figures, rows = self._join, self._figures, self._rows
        return [(koid, join(record, figures, rows[koid]))
                for koid, record in self._base.items()]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return len(self) == len(other) and all(
            other.get(koid) == record for koid, record in self.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FigureTable({len(self)} records)"


class MoveColumns(Mapping[int, M]):
    """How far records moved (`Changes.vmo_moves`, `.process_moves`), as columns: koid
    `koids[j]` moved by `columns[i][j] * factors[i]` in figure i (a factor of 1 unless
    given), the koids in increasing order. As a mapping, a move is an int if there is one
    column, else a tuple; the dict behind it is built on first use."""

    __slots__ = ("koids", "columns", "factors", "_dict")

    def __init__(self, koids: Sequence[int], columns: Sequence[Sequence[int]],
                 factors: list[int] | None = None) -> None:
        self.koids = koids
        self.columns = columns
        self.factors = factors if factors is not None else [1] * len(columns)
        self._dict: dict[int, M] | None = None

    @property
    def _moves(self) -> dict[int, M]:
        if self._dict is None:
            columns = _scaled(self.columns, self.factors)
            # ints if one column, else tuples: the M the accountant built this for
            moves: Iterable[Any] = columns[0] if len(columns) == 1 else zip(*columns)
            self._dict = dict(zip(self.koids, moves))
        return self._dict

    def __getitem__(self, koid: int) -> M:
        return self._moves[koid]

    @overload
    def get(self, koid: int, /) -> M | None: ...
    @overload
    def get(self, koid: int, default: M, /) -> M: ...
    @overload
    def get(self, koid: int, default: T, /) -> M | T: ...

    def get(self, koid: int, default: object = None) -> object:
        return self._moves.get(koid, default)

    def __contains__(self, koid: object) -> bool:
        return koid in self._moves

    def __iter__(self) -> Iterator[int]:
        return iter(self.koids)

    def __len__(self) -> int:
        return len(self.koids)

    def __eq__(self, other: object) -> bool:
        return self._moves == other if isinstance(other, Mapping) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MoveColumns({self._moves!r})"


def factored_move_columns(
        moves: Mapping[int, int] | Mapping[int, tuple[int, ...]],
) -> tuple[list[int], list[list[int]], list[int]]:
    """Koids in increasing order, a column per figure and the column's factor, of
    `Changes.vmo_moves` or `.process_moves` (a MoveColumns, or a dict as a replay rebuilds
    it: factors of 1); an empty dict gives no columns."""
    if isinstance(moves, MoveColumns):
        return (list(moves.koids), [list(column) for column in moves.columns],
                list(moves.factors))
    if not moves:
        return [], [], []
    koids = sorted(moves)
    rows: list[Any] = [moves[koid] for koid in koids]  # all ints, or all tuples
    columns = list(map(list, zip(*rows))) if type(rows[0]) is tuple else [rows]
    return koids, columns, [1] * len(columns)


def move_columns(
        moves: Mapping[int, int] | Mapping[int, tuple[int, ...]],
) -> tuple[list[int], list[list[int]]]:
    """As `factored_move_columns`, each column times its factor."""
    koids, columns, factors = factored_move_columns(moves)
    return koids, _scaled(columns, factors)


def _scaled(columns: Sequence[C], factors: list[int]) -> list[C | list[int]]:
    return [column if factor == 1 else list(map(mul, column, repeat(factor)))
            for column, factor in zip(columns, factors)]


# Memory: bench "ui default: RSS" (ui_bench): a forked boot's decoded copy of the first
# snapshot keeps its VMO table encoded (0.3 MB, not 2.5 MB of records) while the monitor
# boots its own copy; nothing reads it before the booted copy takes over.
class EncodedTable(Mapping[int, R]):
    """A koid -> record table kept as msgpack until first read, then decoded once."""

    def __init__(self, data: bytes, record_type: type[R]) -> None:
        self._data: bytes | None = data
        self._decoded_as: Any = dict[int, record_type]  # type: ignore[valid-type]
        self._table: dict[int, R] | None = None

    @property
    def decoded(self) -> bool:
        """Whether the table has been read (and so decoded) yet."""
        return self._table is not None

    @property
    def _records(self) -> dict[int, R]:
        table = self._table
        if table is None:
            from msgspec.msgpack import decode

            assert self._data is not None
            table = self._table = decode(self._data, type=self._decoded_as)
            self._data = None
        return table

    def __getitem__(self, koid: int) -> R:
        return self._records[koid]

    def __iter__(self) -> Iterator[int]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)


def encode_hook(obj: object) -> object:
    """msgspec's `enc_hook` for snapshots: a table encodes as the dict it stands for."""
    if isinstance(obj, (FigureTable, MoveColumns, EncodedTable)):
        return dict(obj.items())
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")
