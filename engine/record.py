"""The recording format and its writer: append-only, checksummed frames of snapshots.

A file is a header (magic, format version, metadata) followed by frames. Each frame carries
its length and a CRC32, so a file cut at any byte (kill -9, full disk) still replays every
complete frame. A keyframe holds a whole snapshot; a delta holds only the records that
`snap.changes` names, and of each record only the fields that changed, so an hour of the
default scenario stays within a few megabytes. Payloads are msgspec msgpack, zlib-compressed
per frame, and decoded into typed Structs only: nothing read from a file is ever executed.
"""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path
from typing import BinaryIO, get_origin

import msgspec
from msgspec import Struct, structs

from engine.snapshot import Changes, Event, Job, Kmem, Process, Snapshot, Vmo

MAGIC = b"\x89ZMREC\r\n"  # a high byte and CRLF catch text-mode mangling, as in PNG
FORMAT_VERSION = 1
# magic, format version, metadata length, CRC32 of version + length + metadata
HEADER = struct.Struct("<8sIII")
# CRC32 of everything after it, payload length, decompressed length, tick, kind
FRAME = struct.Struct("<IIIIB")
KEYFRAME, DELTA = 1, 2
MAX_METADATA_BYTES = 1 << 20
MAX_FRAME_BYTES = 256 << 20  # refuse frames that claim or inflate past this
KEYFRAME_EVERY = 240  # ticks per keyframe: a seek decodes one keyframe and < 240 deltas


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


# -- record codec: a patch holds a record's changed fields, None for the unchanged ------

_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1  # what msgpack holds
_BIG_SPLIT = 1 << 63  # ints beyond msgpack (the FRACTION_ONE figures) go as (high, low)
_PLAIN, _INT, _SEQ = 0, 1, 2


class _Codec:
    """Patches of one Struct type. Ints of an existing record go as differences, which are
    small; sequences as splices, their changed Struct elements as patches in turn. A keyed
    type's first field (the koid) is always present and never a difference."""

    def __init__(self, record: type[Struct], keyed: bool) -> None:
        self.record = record
        self.first = 1 if keyed else 0
        self.kinds: list[int] = []
        self.elements: list[_Codec | None] = []
        self.splices: list[type[Struct] | None] = []
        fields = [(f.name, f.type) for f in structs.fields(record)]
        patch_fields: list[tuple] = fields[:self.first]
        for name, kind in fields[self.first:]:
            element = splice = None
            if get_origin(kind) is tuple:
                item = kind.__args__[0]
                element = _Codec(item, keyed=False) if issubclass(item, Struct) else None
                splice = msgspec.defstruct(
                    f"{record.__name__}_{name}_splice",
                    [("start", int), ("end", int), ("items", tuple[item, ...]),
                     ("patch", (element.patch if element else int) | None, None)],
                    array_like=True, frozen=True)
                self.kinds.append(_SEQ)
                patch_fields.append((name, list[splice] | None, None))
            elif kind is int:
                self.kinds.append(_INT)
                patch_fields.append((name, int | tuple[int, int] | None, None))
            else:
                self.kinds.append(_PLAIN)
                patch_fields.append((name, kind | None, None))
            self.elements.append(element)
            self.splices.append(splice)
        self.patch = msgspec.defstruct(f"{record.__name__}Patch", patch_fields,
                                       array_like=True, frozen=True)

    def encode(self, old: Struct | None, new: Struct) -> Struct:
        first = self.first
        before = structs.astuple(old) if old is not None else None
        after = structs.astuple(new)
        out = list(after[:first])
        for i, kind in enumerate(self.kinds, first):
            value = after[i]
            if before is None:
                if kind == _SEQ:
                    value = [self.splices[i - first](0, 0, value)] if value else []
                elif kind == _INT and not _INT_MIN <= value <= _INT_MAX:
                    value = divmod(value, _BIG_SPLIT)
            elif before[i] is value or before[i] == value:
                value = None
            elif kind == _SEQ:
                value = self._splices(i - first, before[i], value)
            elif kind == _INT:
                value -= before[i]
                if not _INT_MIN <= value <= _INT_MAX:
                    value = divmod(value, _BIG_SPLIT)
            out.append(value)
        return self.patch(*out)

    def apply(self, old: Struct | None, patch: Struct) -> Struct:
        fields = structs.astuple(patch)
        if old is None:
            if None in fields:
                raise ValueError("a new record lacks a field")
            values = list(fields)
        else:
            values = list(structs.astuple(old))
        kinds, first = self.kinds, self.first
        for i in [i for i in range(first, len(fields)) if fields[i] is not None]:
            value, kind = fields[i], kinds[i - first]
            if kind == _SEQ:
                value = self._apply_splices(i - first, values[i] if old is not None else (),
                                            value)
            elif kind == _INT:
                if type(value) is tuple:
                    value = value[0] * _BIG_SPLIT + value[1]
                if old is not None:
                    value += values[i]
            values[i] = value
        return self.record(*values)

    def _splices(self, field: int, old: tuple, new: tuple) -> list:
        """Replacements turning `old` into `new`: each changed element if the length holds
        (as a patch, for Structs), else the middle between the common prefix and suffix."""
        splice, element = self.splices[field], self.elements[field]
        if len(old) == len(new):
            return [splice(i, i + 1, () if element else (b,),
                           element.encode(a, b) if element else None)
                    for i, (a, b) in enumerate(zip(old, new)) if a is not b and a != b]
        shortest = min(len(old), len(new))
        head = 0
        while head < shortest and old[head] == new[head]:
            head += 1
        tail = 0
        while tail < shortest - head and old[-1 - tail] == new[-1 - tail]:
            tail += 1
        return [splice(head, len(old) - tail, new[head:len(new) - tail])]

    def _apply_splices(self, field: int, old: tuple, splices: list) -> tuple:
        element = self.elements[field]
        out = list(old)
        for s in reversed(splices):
            if s.patch is not None and element is not None:
                if not 0 <= s.start < len(out):
                    raise ValueError(f"an element patch at {s.start} of {len(out)}")
                out[s.start] = element.apply(out[s.start], s.patch)
            else:
                out[s.start:s.end] = s.items
        return tuple(out)


JOBS, PROCESSES, VMOS = _Codec(Job, True), _Codec(Process, True), _Codec(Vmo, True)
KMEM = _Codec(Kmem, keyed=False)


class Frame(Struct, array_like=True, frozen=True):
    """One tick. A keyframe's patches are whole records and its `changes` complete; a
    delta's patches are the changes, so its `changes` holds only the removals."""

    tick: int
    time_ns: int
    pressure: str
    events: tuple[Event, ...]
    source: str | None  # None: as the tick before
    root_job: int
    kmem: KMEM.patch  # type: ignore[valid-type]
    changes: Changes
    jobs: list[JOBS.patch]  # type: ignore[valid-type]
    processes: list[PROCESSES.patch]  # type: ignore[valid-type]
    vmos: list[VMOS.patch]  # type: ignore[valid-type]


class FrameHead(Struct, array_like=True, frozen=True):
    """A frame's leading fields: decoding stops there, for the event timeline."""

    tick: int
    time_ns: int
    pressure: str
    events: tuple[Event, ...]


def _patches(codec: _Codec, old: dict | None, new: dict, changed) -> list:
    """Patches for the changed koids; new records in the snapshot's own dict order, so a
    rebuilt snapshot iterates like the original (new records sit at the dict's end)."""
    if old is None:
        return [codec.encode(None, record) for record in new.values()]
    kept = [k for k in changed if k in old]
    added = {k for k in changed if k not in old}
    ordered: list[int] = []
    if added:
        for k in reversed(new):
            if k in added:
                ordered.append(k)
                if len(ordered) == len(added):
                    break
        ordered.reverse()
    return [codec.encode(old.get(k), new[k]) for k in kept + ordered]


def encode_frame(snap: Snapshot, previous: Snapshot | None) -> Frame:
    """A keyframe if `previous` is None, else a delta from it (the tick before)."""
    changes = snap.changes
    if previous is None:
        source, kmem = snap.source, KMEM.encode(None, snap.kmem)
    else:
        source = None if snap.source == previous.source else snap.source
        kmem = KMEM.encode(previous.kmem, snap.kmem)
        changes = Changes(removed_jobs=changes.removed_jobs,
                          removed_processes=changes.removed_processes,
                          removed_vmos=changes.removed_vmos)
    return Frame(
        snap.tick, snap.time_ns, snap.pressure, snap.events, source, snap.root_job, kmem,
        changes,
        _patches(JOBS, previous and previous.jobs, snap.jobs, snap.changes.jobs),
        _patches(PROCESSES, previous and previous.processes, snap.processes,
                 snap.changes.processes),
        _patches(VMOS, previous and previous.vmos, snap.vmos, snap.changes.vmos))


def apply_frame(frame: Frame, previous: Snapshot | None, reuse: bool = False) -> Snapshot:
    """The snapshot a frame makes of the tick before (None for a keyframe). With `reuse`,
    the previous snapshot's dicts are updated in place: only for throwaway snapshots."""
    if previous is None:
        jobs, processes, vmos = {}, {}, {}
        changes, source, kmem = frame.changes, frame.source, KMEM.apply(None, frame.kmem)
    else:
        jobs, processes, vmos = previous.jobs, previous.processes, previous.vmos
        if not reuse:
            jobs, processes, vmos = dict(jobs), dict(processes), dict(vmos)
        removed = frame.changes
        changes = Changes(frozenset(p.koid for p in frame.jobs),
                          frozenset(p.koid for p in frame.processes),
                          frozenset(p.koid for p in frame.vmos),
                          removed.removed_jobs, removed.removed_processes,
                          removed.removed_vmos)
        source = previous.source if frame.source is None else frame.source
        kmem = KMEM.apply(previous.kmem, frame.kmem)
    for table, gone in ((jobs, changes.removed_jobs), (processes, changes.removed_processes),
                        (vmos, changes.removed_vmos)):
        for koid in gone:
            table.pop(koid, None)
    for codec, table, patches in ((JOBS, jobs, frame.jobs),
                                  (PROCESSES, processes, frame.processes),
                                  (VMOS, vmos, frame.vmos)):
        for patch in patches:
            table[patch.koid] = codec.apply(table.get(patch.koid), patch)
    if source is None:
        raise ValueError("a keyframe without a source")
    return Snapshot(tick=frame.tick, time_ns=frame.time_ns, source=source, kmem=kmem,
                    pressure=frame.pressure, root_job=frame.root_job, jobs=jobs,
                    processes=processes, vmos=vmos, changes=changes, events=frame.events)


# -- writer -------------------------------------------------------------------------------

_ENCODER = msgspec.msgpack.Encoder()


def header_bytes(metadata: Metadata, version: int = FORMAT_VERSION) -> bytes:
    meta = msgspec.msgpack.encode(metadata)
    crc = zlib.crc32(struct.pack("<II", version, len(meta)) + meta)
    return HEADER.pack(MAGIC, version, len(meta), crc) + meta


def frame_bytes(tick: int, kind: int, raw: bytes, level: int = 6) -> bytes:
    payload = zlib.compress(raw, level)
    head = FRAME.pack(0, len(payload), len(raw), tick, kind)
    crc = zlib.crc32(payload, zlib.crc32(head[4:]))
    return struct.pack("<I", crc) + head[4:] + payload


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
        key = (previous is None or snap.tick != previous.tick + 1
               or self._since_key >= self.keyframe_every)
        raw = _ENCODER.encode(encode_frame(snap, None if key else previous))
        data = frame_bytes(snap.tick, KEYFRAME if key else DELTA, raw)
        self._write(data, snap.tick)
        self._since_key = 1 if key else self._since_key + 1
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
