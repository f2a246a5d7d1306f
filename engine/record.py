"""The recording format and its writer: append-only, checksummed frames of snapshots.

A file is a header (magic, format version, metadata) followed by frames. Each frame carries
its length and a CRC32, so a file cut at any byte (kill -9, full disk) still replays every
complete frame. A keyframe holds a whole snapshot; a delta holds the records `snap.changes`
names, column by column: sorted koids as gaps, ints as differences (divided by their common
factor), other fields only where they changed. Payloads are msgspec msgpack, compressed with
zstd: a delta with its keyframe as the dictionary, a keyframe with the keyframe before it
(every ANCHOR_EVERY-th stands alone, bounding the chain a seek decompresses). Everything is
decoded into typed Structs only: nothing read from a file is ever executed.
"""

from __future__ import annotations

import gc
import math
import struct
import time
import zlib
from contextlib import contextmanager
from itertools import accumulate
from operator import add, sub
from pathlib import Path
from typing import Annotated, BinaryIO, get_origin

import msgspec
import zstandard
from msgspec import Meta, Struct, structs

from engine.snapshot import Changes, Event, Job, Kmem, Process, Snapshot, Vmo

MAGIC = b"\x89ZMREC\r\n"  # a high byte and CRLF catch text-mode mangling, as in PNG
FORMAT_VERSION = 2
# magic, format version, metadata length, CRC32 of version + length + metadata
HEADER = struct.Struct("<8sIII")
# CRC32 of everything after it, payload length, decompressed length, tick, kind
FRAME = struct.Struct("<IIIIB")
KEYFRAME, DELTA, CHAINED = 1, 2, 3  # CHAINED: a keyframe compressed against the one before
KINDS = (KEYFRAME, DELTA, CHAINED)
MAX_METADATA_BYTES = 1 << 20
MAX_FRAME_BYTES = 256 << 20  # refuse frames that claim or inflate past this
KEYFRAME_EVERY = 240  # ticks per keyframe: a seek decodes one keyframe and < 240 deltas
ANCHOR_EVERY = 8  # keyframes per self-contained keyframe
DELTA_LEVEL, KEY_LEVEL = 3, 9  # zstd levels


class RecordingError(Exception):
    """One line for the user, naming the file and, for damage, the byte offset."""


class Metadata(Struct, frozen=True, kw_only=True):
    """Where a recording came from; a map, so later versions can add fields."""

    scenario: str = ""  # a simulation's scenario and seed; empty for other sources
    seed: int = 0
    tick_seconds: float = 1.0
    start_time: float = 0.0  # Unix seconds when recording started
    zmtop_version: str = ""
    source: str = ""  # the snapshots' source, e.g. "sim:default:1" or "poll:COMMAND"

    @classmethod
    def for_source(cls, source) -> Metadata:
        """What a recording of any source (simulation, import, poll) says about itself."""
        from importlib.metadata import PackageNotFoundError, version
        try:
            zmtop_version = version("zmtop")
        except PackageNotFoundError:
            zmtop_version = "unknown"
        return cls(scenario=getattr(source, "scenario_name", ""),
                   seed=getattr(source, "seed", 0),
                   tick_seconds=getattr(source, "tick_seconds", 1.0),
                   start_time=time.time(), zmtop_version=zmtop_version,
                   source=source.snapshot.source)


# -- columnar table deltas ----------------------------------------------------------------

Index = Annotated[int, Meta(ge=0)]


class IntColumn(Struct, array_like=True, frozen=True):
    """An int field's differences, new minus old, each divided by `factor`."""

    factor: int
    values: list[int]


@contextmanager
def _gc_paused():
    """Columns make many short-lived tuples and no cycles: collecting meanwhile is waste
    (at 100k VMOs it doubled the cost of a delta)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _gaps(koids: list[int]) -> list[int]:
    return [koids[0], *map(sub, koids[1:], koids[:-1])] if koids else []


def _column_type(kind) -> type:
    """Ints as an IntColumn; other fields as (row, value) where changed, and tuples as
    (row, whole tuple or None, the changed (position, element)s) when the length holds."""
    if kind is int:
        return IntColumn
    if get_origin(kind) is tuple:
        return list[tuple[Index, kind | None, list[tuple[Index, kind.__args__[0]]]]]
    return list[tuple[Index, kind]]


class _Table:
    """Deltas of one keyed record type: removed and changed koids as gaps, a column per
    field (None if no changed record's field changed), and new records whole."""

    def __init__(self, record: type[Struct]) -> None:
        self.record = record
        fields = structs.fields(record)[1:]  # the koid leads and is never a column
        self.ints = [f.type is int for f in fields]
        self.seqs = [get_origin(f.type) is tuple for f in fields]
        self.delta = msgspec.defstruct(
            f"{record.__name__}Delta",
            [("removed", list[int]), ("koids", list[int]), ("added", list[record])]
            + [(f.name, _column_type(f.type) | None) for f in fields],
            array_like=True, frozen=True)

    def encode(self, old: dict, new: dict, changed: frozenset, removed: frozenset) -> Struct:
        kept = sorted(changed & old.keys())
        added = changed - old.keys()
        columns: list = [None] * len(self.ints)
        if kept:
            before = list(zip(*map(structs.astuple, map(old.__getitem__, kept))))
            after = list(zip(*map(structs.astuple, map(new.__getitem__, kept))))
            for i, is_int in enumerate(self.ints, 1):
                a, b = before[i], after[i]
                if a == b:
                    continue
                if is_int:
                    diffs = list(map(sub, b, a))
                    factor = math.gcd(*diffs)
                    if factor > 1:
                        diffs = list(map(factor.__rfloordiv__, diffs))
                    columns[i - 1] = IntColumn(factor, diffs)
                elif self.seqs[i - 1]:
                    columns[i - 1] = [
                        (j, None, [(k, e) for k, (d, e) in enumerate(zip(x, y)) if d != e])
                        if len(x) == len(y) else (j, y, [])
                        for j, (x, y) in enumerate(zip(a, b)) if x is not y and x != y]
                else:
                    columns[i - 1] = [(j, y) for j, (x, y) in enumerate(zip(a, b))
                                      if x is not y and x != y]
        return self.delta(_gaps(sorted(removed)), _gaps(kept), _in_order(new, added),
                          *columns)

    def apply(self, table: dict, delta: Struct) -> tuple[frozenset, frozenset]:
        """Apply in place; the changed and removed koids."""
        removed = list(accumulate(delta.removed))
        for koid in removed:
            table.pop(koid, None)
        koids = list(accumulate(delta.koids))
        if koids:
            columns = list(zip(*map(structs.astuple, map(table.__getitem__, koids))))
            for i, column in enumerate(structs.astuple(delta)[3:], 1):
                if column is None:
                    continue
                if self.ints[i - 1]:
                    if len(column.values) != len(koids):
                        raise ValueError("a column of the wrong length")
                    values = column.values
                    if column.factor != 1:
                        values = map(column.factor.__mul__, values)
                    columns[i] = map(add, columns[i], values)
                elif self.seqs[i - 1]:
                    values = list(columns[i])
                    for j, whole, elements in column:
                        if whole is None:
                            whole = list(values[j])
                            for k, element in elements:
                                whole[k] = element
                        values[j] = tuple(whole)
                    columns[i] = values
                else:
                    values = list(columns[i])
                    for j, value in column:
                        values[j] = value
                    columns[i] = values
            table.update(zip(koids, map(self.record, *columns)))
        for record in delta.added:
            table[record.koid] = record
        return frozenset(koids).union([r.koid for r in delta.added]), frozenset(removed)


def _in_order(new: dict, added: set) -> list:
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


class FrameHead(Struct, array_like=True, frozen=True):
    """Both kinds of frame lead with these fields: decoding stops there, for timelines."""

    tick: int
    time_ns: int
    pressure: str
    events: tuple[Event, ...]


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
    jobs: JOBS.delta  # type: ignore[valid-type]
    processes: PROCESSES.delta  # type: ignore[valid-type]
    vmos: VMOS.delta  # type: ignore[valid-type]


def encode_keyframe(snap: Snapshot) -> Keyframe:
    return Keyframe(snap.tick, snap.time_ns, snap.pressure, snap.events, snap.source,
                    snap.root_job, snap.kmem, snap.changes, list(snap.jobs.values()),
                    list(snap.processes.values()), list(snap.vmos.values()))


def encode_delta(snap: Snapshot, previous: Snapshot) -> Delta:
    c = snap.changes
    with _gc_paused():
        return Delta(
            snap.tick, snap.time_ns, snap.pressure, snap.events,
            None if snap.source == previous.source else snap.source, snap.root_job,
            list(map(sub, structs.astuple(snap.kmem), structs.astuple(previous.kmem))),
            JOBS.encode(previous.jobs, snap.jobs, c.jobs, c.removed_jobs),
            PROCESSES.encode(previous.processes, snap.processes, c.processes,
                             c.removed_processes),
            VMOS.encode(previous.vmos, snap.vmos, c.vmos, c.removed_vmos))


def apply_keyframe(key: Keyframe) -> Snapshot:
    return Snapshot(tick=key.tick, time_ns=key.time_ns, source=key.source, kmem=key.kmem,
                    pressure=key.pressure, root_job=key.root_job,
                    jobs={r.koid: r for r in key.jobs},
                    processes={r.koid: r for r in key.processes},
                    vmos={r.koid: r for r in key.vmos}, changes=key.changes,
                    events=key.events)


def apply_delta(delta: Delta, previous: Snapshot, reuse: bool = False) -> Snapshot:
    """The snapshot a delta makes of the tick before. With `reuse`, the previous snapshot's
    dicts are updated in place: only for throwaway snapshots."""
    jobs, processes, vmos = previous.jobs, previous.processes, previous.vmos
    if not reuse:
        jobs, processes, vmos = dict(jobs), dict(processes), dict(vmos)
    if len(delta.kmem) != len(Kmem.__struct_fields__):
        raise ValueError("kmem of the wrong length")
    kmem = Kmem(*map(add, structs.astuple(previous.kmem), delta.kmem))
    with _gc_paused():
        changed_jobs, removed_jobs = JOBS.apply(jobs, delta.jobs)
        changed_processes, removed_processes = PROCESSES.apply(processes, delta.processes)
        changed_vmos, removed_vmos = VMOS.apply(vmos, delta.vmos)
    return Snapshot(
        tick=delta.tick, time_ns=delta.time_ns,
        source=previous.source if delta.source is None else delta.source, kmem=kmem,
        pressure=delta.pressure, root_job=delta.root_job, jobs=jobs, processes=processes,
        vmos=vmos, changes=Changes(changed_jobs, changed_processes, changed_vmos,
                                   removed_jobs, removed_processes, removed_vmos),
        events=delta.events)


# -- writer -------------------------------------------------------------------------------

_ENCODER = msgspec.msgpack.Encoder()


def header_bytes(metadata: Metadata, version: int = FORMAT_VERSION) -> bytes:
    meta = msgspec.msgpack.encode(metadata)
    crc = zlib.crc32(struct.pack("<II", version, len(meta)) + meta)
    return HEADER.pack(MAGIC, version, len(meta), crc) + meta


def frame_bytes(tick: int, kind: int, payload: bytes, raw_length: int) -> bytes:
    head = FRAME.pack(0, len(payload), raw_length, tick, kind)
    crc = zlib.crc32(payload, zlib.crc32(head[4:]))
    return struct.pack("<I", crc) + head[4:] + payload


def dictionary(raw: bytes) -> zstandard.ZstdCompressionDict:
    """A keyframe's raw bytes as a zstd dictionary, for the frames built on it."""
    return zstandard.ZstdCompressionDict(raw, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


class Recorder:
    """Appends snapshots to a recording, one flushed frame each.

    A keyframe starts the file, follows any gap in ticks, and comes every `keyframe_every`
    ticks; the rest are deltas. A write error stops the recording with a RecordingError;
    what was written before stays a valid recording.
    """

    def __init__(self, path: str | Path, metadata: Metadata, *,
                 keyframe_every: int = KEYFRAME_EVERY, file: BinaryIO | None = None) -> None:
        self.name = str(path)
        self.metadata = metadata
        self.keyframe_every = keyframe_every
        self.bytes_written = 0
        self.ticks_written = 0
        self._previous: Snapshot | None = None
        self._since_key = 0
        self._keys = 0  # keyframes written
        self._key_dict: zstandard.ZstdCompressionDict | None = None
        self._deltas: zstandard.ZstdCompressor | None = None
        self._file: BinaryIO | None = None
        try:
            self._file = file if file is not None else open(path, "wb")
        except OSError as error:
            raise RecordingError(f"{self.name}: cannot create: {_reason(error)}") from None
        self._write(header_bytes(metadata), None)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._file is None

    def append(self, snap: Snapshot) -> None:
        if self._file is None:
            raise RecordingError(f"{self.name}: the recording is closed")
        previous = self._previous
        if previous is not None and snap.tick <= previous.tick:
            if snap.tick == previous.tick:
                return  # the same tick again (a paused source): nothing new
            raise ValueError(f"tick {snap.tick} after tick {previous.tick}")
        if (previous is None or snap.tick != previous.tick + 1
                or self._since_key >= self.keyframe_every):
            raw = _ENCODER.encode(encode_keyframe(snap))
            kind = CHAINED if self._keys % ANCHOR_EVERY else KEYFRAME
            compressor = zstandard.ZstdCompressor(
                level=KEY_LEVEL, dict_data=self._key_dict if kind == CHAINED else None)
            self._write(frame_bytes(snap.tick, kind, compressor.compress(raw), len(raw)),
                        snap.tick)
            self._key_dict = dictionary(raw)
            self._deltas = zstandard.ZstdCompressor(level=DELTA_LEVEL, dict_data=self._key_dict)
            self._keys += 1
            self._since_key = 1
        else:
            raw = _ENCODER.encode(encode_delta(snap, previous))
            self._write(frame_bytes(snap.tick, DELTA, self._deltas.compress(raw), len(raw)),
                        snap.tick)
            self._since_key += 1
        self._previous = snap
        self.ticks_written += 1

    def _write(self, data: bytes, tick: int | None) -> None:
        file = self._file
        try:
            file.write(data)
            file.flush()
        except OSError as error:
            self._abandon(file)
            where = "writing the header" if tick is None else f"at tick {tick}"
            raise RecordingError(
                f"{self.name}: recording stopped {where}: {_reason(error)}; "
                f"{_ticks(self.ticks_written)} saved") from None
        self.bytes_written += len(data)

    def _abandon(self, file: BinaryIO) -> None:
        """Cut a half-written frame off if the file lets us; readers skip it anyway."""
        self._file = None
        try:
            file.truncate(self.bytes_written)
        except (OSError, ValueError):
            pass
        try:
            file.close()
        except OSError:
            pass

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError as error:
                raise RecordingError(f"{self.name}: closing failed: {_reason(error)}") from None


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _ticks(n: int) -> str:
    return f"{n} tick" if n == 1 else f"{n} ticks"
