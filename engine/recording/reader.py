"""Reading recordings: an index of checksummed frames, and any tick's snapshot on demand.

Opening checks every frame's length and CRC (cheap) and stops at the first bad one: what
came before stays usable, and the damage is reported in `errors`. Frames are decompressed
and decoded only when a tick is asked for, with a bound on how far they may inflate; the
last keyframe's raw bytes and the stream of the deltas after it are kept, so stepping on
decompresses one frame.
"""

from __future__ import annotations

import bisect
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import msgspec
import zstandard

from zmtop.engine.formats.names import safe_name
from zmtop.engine.recording.checks import check_snapshot, check_step
from zmtop.engine.recording.codec import (
    Delta,
    FrameHead,
    Keyframe,
    Rebuild,
    apply_keyframe,
    dictionary,
    kmem_after,
)
from zmtop.engine.recording.format import (
    DELTA,
    FORMAT_VERSION,
    FRAME,
    HEADER,
    KEYFRAME,
    KINDS,
    MAGIC,
    MAX_FRAME_BYTES,
    MAX_METADATA_BYTES,
    Metadata,
    RecordingError,
)
from zmtop.engine.recording.limits import check_delta, check_keyframe
from zmtop.engine.snapshot.records import Event, Kmem, Snapshot

PIECE = 256  # bytes of a delta fed to its decompressor at a time
T = TypeVar("T")
F = TypeVar("F", Keyframe, Delta, FrameHead)  # a frame, as decoded
# Every frame's events with their tick, simulated times, and Kmem fields (Recording._read_heads).
_Heads = tuple[list[tuple[int, Event]], list[int], list[tuple[int, ...]]]


class _Entry(NamedTuple):
    offset: int  # of the frame header
    tick: int
    kind: int
    length: int  # compressed payload
    raw_length: int
    key: int  # index of the keyframe this frame builds on (its own, for a keyframe)
    base: int  # index of the frame whose raw bytes are the dictionary, -1 for none


class Recording:
    """A recording opened for reading. `ticks` lists every usable tick, in order."""

    def __init__(self, name: str, data: bytes, metadata: Metadata, entries: list[_Entry],
                 errors: list[str]) -> None:
        self.name = name
        self.metadata = metadata
        self.errors = errors
        self.ticks = [e.tick for e in entries]
        self._data = data
        self._entries = entries
        self._index = {tick: i for i, tick in enumerate(self.ticks)}
        self._last: tuple[int, Snapshot] | None = None
        self._key: tuple[int, Snapshot] | None = None
        self._checked: Snapshot | None = None  # the last snapshot checked_at passed
        self._events: list[tuple[int, Event]] | None = None
        self._times: list[int] | None = None
        self._kmems: list[tuple[int, ...]] | None = None  # each frame's Kmem fields
        self._view = memoryview(data)
        self._raw_key: tuple[int, bytes] | None = None
        # the deltas' stream of one keyframe: [keyframe index, next frame, decompressor]
        self._stream: list[Any] | None = None

    @classmethod
    def open(cls, path: str | Path) -> Recording:
        name = str(path)
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise RecordingError(f"{name}: cannot read: {error.strerror or error}") from None
        return cls.from_bytes(data, name)

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "<recording>") -> Recording:
        metadata, offset = _read_header(name, data)
        entries, errors = _scan(name, data, offset)
        return cls(name, data, metadata, entries, errors)

    def snapshot_at(self, tick: int) -> Snapshot:
        """The snapshot of a recorded tick: the nearest keyframe plus the deltas after it,
        starting from the last snapshot built when that is on the way."""
        i = self._index.get(tick)
        if i is None:
            raise RecordingError(f"{self.name}: no tick {tick} ({self._span()})")
        if self._last is not None and self._last[0] == i:
            return self._last[1]
        key = self._entries[i].key
        if self._last is not None and key <= self._last[0] < i:
            start, snap = self._last
        elif self._key is not None and self._key[0] == key:
            start, snap = self._key
        else:
            start, snap = key, self._keyframe(key)
            self._key = (key, snap)
        rebuild = Rebuild(snap)
        for j in range(start + 1, i + 1):
            self._apply(j, rebuild.apply, self._decode(j, _DELTA))
        snap = self._apply(i, rebuild.snapshot)
        self._last = (i, snap)
        return snap

    def checked_at(self, tick: int) -> Snapshot:
        """`snapshot_at`, its tables checked to refer to each other soundly (checks.py):
        what views walk. A frame that fails is damaged; the frames before it stay usable."""
        snap = self.snapshot_at(tick)
        before = self._checked
        if snap is not before:
            i = self._index[tick]
            if (before is not None and self._entries[i].kind == DELTA
                    and self._index.get(before.tick) == i - 1):  # a step
                self._apply(i, check_step, snap, before)
            else:
                self._apply(i, check_snapshot, snap)
            self._checked = snap
        return snap

    def events(self) -> list[tuple[int, Event]]:
        """Every event with its tick, oldest first: the marks of a timeline."""
        return self._events if self._events is not None else self._read_heads()[0]

    def times(self) -> list[int]:
        """Each tick's simulated time in ns, in the order of `ticks` (up to a frame whose
        head is damaged): to seek to a time."""
        return self._times if self._times is not None else self._read_heads()[1]

    def kmems_until(self, tick: int, count: int) -> list[Kmem]:
        """The kstats of up to `count` recorded ticks ending at `tick`, oldest first: the
        history a monitor would have gathered had it played up to there."""
        kmems = self._kmems if self._kmems is not None else self._read_heads()[2]
        end = bisect.bisect_right(self.ticks, tick)
        return [Kmem(*fields) for fields in kmems[max(0, end - count):end]]

    def _read_heads(self) -> _Heads:
        events: list[tuple[int, Event]] = []
        times: list[int] = []
        kmems: list[tuple[int, ...]] = []
        fields: tuple[int, ...] = ()
        try:
            for i, entry in enumerate(self._entries):
                head = self._decode(i, _HEAD)
                fields = self._apply(i, kmem_after, fields if entry.kind == DELTA else None,
                                     head.kmem)
                times.append(head.time_ns)
                events.extend((entry.tick, event) for event in head.events)
                kmems.append(fields)
        except RecordingError:
            pass  # the heads end before a damaged frame, which `errors` now names
        self._events, self._times, self._kmems = events, times, kmems
        return events, times, kmems

    def _span(self) -> str:
        if not self.ticks:
            return "it holds no complete frame"
        return f"it holds ticks {self.ticks[0]} to {self.ticks[-1]}"

    def _keyframe(self, i: int) -> Snapshot:
        return self._apply(i, apply_keyframe, self._decode(i, _KEYFRAME))

    def _apply(self, i: int, function: Callable[..., T], *args: Any) -> T:
        """function(*args), reporting what damage in frame i makes it raise."""
        try:
            return function(*args)
        except (ValueError, KeyError, TypeError, IndexError) as error:
            raise self._damaged(i, str(error)) from None

    def _decode(self, i: int, decoder: msgspec.msgpack.Decoder[F]) -> F:
        """Frame i decoded; a whole keyframe or delta only once its counts are in bounds. It
        must hold the tick its header names, which seeks and the timeline go by."""
        raw = self._raw(i)
        try:
            check = _LIMITS.get(decoder)
            if check is not None:
                check(raw)
            frame = decoder.decode(raw)
        except (msgspec.DecodeError, ValueError) as error:  # bad UTF-8, or past the limits
            raise self._damaged(i, str(error)) from None
        if frame.tick != self._entries[i].tick:
            raise self._damaged(i, f"it holds tick {frame.tick}")
        return frame

    def _raw(self, i: int) -> bytes:
        """Frame i decompressed: a keyframe with the keyframes it builds on as dictionaries,
        a delta with the stream of deltas before it since its keyframe."""
        entry = self._entries[i]
        if entry.kind != DELTA:
            if self._raw_key is None or self._raw_key[0] != i:
                self._raw_key = (i, self._inflate(i))
            return self._raw_key[1]
        stream, self._stream = self._stream, None  # none is kept half-fed by damage
        if stream is None or stream[0] != entry.key or stream[1] > i:
            inflater = zstandard.ZstdDecompressor(dict_data=dictionary(self._raw(entry.key)))
            stream = [entry.key, entry.key + 1, inflater.decompressobj()]
        while stream[1] <= i:
            raw = self._feed(stream[1], stream[2])
            stream[1] += 1
        self._stream = stream
        return raw

    def _feed(self, i: int, inflater: zstandard.ZstdDecompressionObj) -> bytes:
        """Frame i's part of its stream, fed in pieces: a frame that would inflate past its
        stated size is refused at most about 11 MB past it (a zstd block takes 3 bytes or
        more and inflates to 128 KB or less, so a piece completes PIECE // 3 + 1 at most)."""
        entry = self._entries[i]
        start = entry.offset + FRAME.size
        end = start + entry.length
        parts, size = [], 0
        try:
            for at in range(start, end, PIECE):
                part = inflater.decompress(self._view[at:min(at + PIECE, end)])
                size += len(part)
                if size > entry.raw_length:
                    raise self._damaged(i, "it inflates past its stated size")
                parts.append(part)
        except zstandard.ZstdError as error:
            raise self._damaged(i, f"cannot decompress ({error})") from None
        if size != entry.raw_length:
            raise self._damaged(i, "it does not inflate to its stated size")
        return b"".join(parts)

    def _inflate(self, i: int) -> bytes:
        """Keyframe i decompressed (at once: its header states its size)."""
        entry = self._entries[i]
        base = None if entry.base < 0 else self._raw(entry.base)  # back to a standalone one
        inflater = zstandard.ZstdDecompressor(
            dict_data=None if base is None else dictionary(base))
        start = entry.offset + FRAME.size
        payload = self._data[start:start + entry.length]
        try:
            if zstandard.frame_content_size(payload) != entry.raw_length:
                raise self._damaged(i, "it does not inflate to its stated size")
            raw = inflater.decompress(payload, allow_extra_data=False)
        except zstandard.ZstdError as error:
            raise self._damaged(i, f"cannot decompress ({error})") from None
        if len(raw) != entry.raw_length:
            raise self._damaged(i, "it does not inflate to its stated size")
        return raw

    def _damaged(self, i: int, reason: str) -> RecordingError:
        entry = self._entries[i]
        message = (f"{self.name}: frame at byte {entry.offset} (tick {entry.tick}) is "
                   f"damaged: {safe_name(reason)}; {_usable_before(i)}")
        if message not in self.errors:
            self.errors.append(message)
        return RecordingError(message)


_KEYFRAME = msgspec.msgpack.Decoder(Keyframe)
_DELTA = msgspec.msgpack.Decoder(Delta)
_HEAD = msgspec.msgpack.Decoder(FrameHead)
_LIMITS: dict[object, Callable[[bytes], None]] = {_KEYFRAME: check_keyframe,
                                                  _DELTA: check_delta}


def _read_header(name: str, data: bytes) -> tuple[Metadata, int]:
    if len(data) < len(MAGIC):
        if MAGIC.startswith(data):
            raise RecordingError(f"{name}: header cut short at byte {len(data)}")
        raise RecordingError(f"{name}: not a zmtop recording (byte 0)")
    if not data.startswith(MAGIC):
        raise RecordingError(f"{name}: not a zmtop recording (byte 0)")
    if len(data) < HEADER.size:
        raise RecordingError(f"{name}: header cut short at byte {len(data)}")
    _, version, length, crc = HEADER.unpack_from(data)
    if version > FORMAT_VERSION:
        raise RecordingError(
            f"{name}: written in format {version} by a newer zmtop; this one reads format "
            f"{FORMAT_VERSION} (byte {len(MAGIC)})")
    if version < FORMAT_VERSION and version >= 1:
        raise RecordingError(
            f"{name}: written in format {version}, which this zmtop no longer reads "
            f"(byte {len(MAGIC)})")
    if version < 1 or length > MAX_METADATA_BYTES:
        raise RecordingError(f"{name}: header damaged at byte {len(MAGIC)}")
    end = HEADER.size + length
    if len(data) < end:
        raise RecordingError(f"{name}: header cut short at byte {len(data)}")
    if zlib.crc32(data[len(MAGIC):HEADER.size - 4] + data[HEADER.size:end]) != crc:
        raise RecordingError(f"{name}: header damaged at byte {len(MAGIC)}: checksum mismatch")
    try:
        metadata = msgspec.msgpack.decode(data[HEADER.size:end], type=Metadata)
    except (msgspec.DecodeError, ValueError) as error:
        raise RecordingError(f"{name}: header damaged at byte {HEADER.size}: {error}") from None
    return metadata, end


def _scan(name: str, data: bytes, offset: int) -> tuple[list[_Entry], list[str]]:
    """Index the frames, stopping at the first that is cut short or damaged."""
    entries: list[_Entry] = []
    view = memoryview(data)
    key = -1
    problem = None
    while offset < len(data) and problem is None:
        if len(data) - offset < FRAME.size:
            problem = f"is cut short ({len(data) - offset} of {FRAME.size} header bytes)"
            break
        crc, length, raw_length, tick, kind = FRAME.unpack_from(data, offset)
        end = offset + FRAME.size + length
        if end > len(data):
            problem = f"is cut short ({len(data) - offset} of {end - offset} bytes)"
        elif zlib.crc32(view[offset + 4:end]) != crc:
            problem = "is damaged: checksum mismatch"
        elif kind not in KINDS:
            problem = f"is damaged: unknown frame kind {kind}"
        elif kind != KEYFRAME and key < 0:
            problem = "is damaged: it builds on a keyframe, and none comes before it"
        elif entries and tick <= entries[-1].tick:
            problem = f"is damaged: tick {tick} after tick {entries[-1].tick}"
        elif kind == DELTA and tick != entries[-1].tick + 1:
            problem = f"is damaged: a delta for tick {tick} after tick {entries[-1].tick}"
        elif raw_length > MAX_FRAME_BYTES:
            problem = (f"is refused: it would inflate to {raw_length:,} bytes "
                       f"(limit {MAX_FRAME_BYTES:,})")
        else:
            base = -1 if kind == KEYFRAME else key
            if kind != DELTA:
                key = len(entries)
            entries.append(_Entry(offset, tick, kind, length, raw_length, key, base))
            offset = end
    errors = []
    if problem is not None:
        where = f"tick {entries[-1].tick + 1}" if entries else _first_tick(data, offset)
        errors.append(f"{name}: frame at byte {offset} ({where}) {problem}; "
                      f"{_usable_before(len(entries))}")
    return entries, errors


def _usable_before(count: int) -> str:
    return f"{count} tick{'' if count == 1 else 's'} before it {'is' if count == 1 else 'are'} usable"


def _first_tick(data: bytes, offset: int) -> str:
    """Where the first frame is, by the tick its header states (nothing before it does);
    a header cut short of its tick leaves only "the first frame"."""
    at = offset + FRAME.size - 5  # the tick field, before the kind byte
    if len(data) < at + 4:
        return "the first frame"
    return f"tick {int.from_bytes(data[at:at + 4], 'little')}"
