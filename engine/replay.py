"""Reading recordings: an index of checksummed frames, seeking, and a replay Source.

Opening checks every frame's length and CRC (cheap) and stops at the first bad one: what
came before stays usable, and the damage is reported in `errors`. Frames are decompressed
and decoded only when a tick is asked for, with a bound on how far they may inflate.
"""

from __future__ import annotations

import bisect
import zlib
from pathlib import Path
from typing import NamedTuple

import msgspec

from engine.record import (
    DELTA,
    FORMAT_VERSION,
    FRAME,
    HEADER,
    KEYFRAME,
    MAGIC,
    MAX_FRAME_BYTES,
    MAX_METADATA_BYTES,
    Frame,
    FrameHead,
    Metadata,
    RecordingError,
    apply_frame,
)
from engine.snapshot import Event, Snapshot


class _Entry(NamedTuple):
    offset: int  # of the frame header
    tick: int
    kind: int
    length: int  # compressed payload
    raw_length: int
    key: int  # index of the keyframe this frame builds on


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
        self._events: list[tuple[int, Event]] | None = None

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
            start, snap = key, self._apply(key, None)
            self._key = (key, snap)
        for j in range(start + 1, i + 1):
            snap = self._apply(j, snap, reuse=j > start + 1)
        self._last = (i, snap)
        return snap

    def events(self) -> list[tuple[int, Event]]:
        """Every event with its tick, oldest first: the marks of a timeline."""
        if self._events is None:
            out = []
            for i, entry in enumerate(self._entries):
                head = self._decode(i, FrameHead)
                out.extend((entry.tick, event) for event in head.events)
            self._events = out
        return self._events

    def _span(self) -> str:
        if not self.ticks:
            return "it holds no complete frame"
        return f"it holds ticks {self.ticks[0]} to {self.ticks[-1]}"

    def _frame(self, i: int) -> Frame:
        return self._decode(i, Frame)

    def _apply(self, i: int, previous: Snapshot | None, reuse: bool = False) -> Snapshot:
        try:
            return apply_frame(self._frame(i), previous, reuse)
        except (ValueError, KeyError, TypeError) as error:
            raise self._damaged(i, str(error)) from None

    def _decode(self, i: int, kind: type):
        entry = self._entries[i]
        start = entry.offset + FRAME.size
        inflater = zlib.decompressobj()
        try:
            raw = inflater.decompress(self._data[start:start + entry.length], entry.raw_length)
        except zlib.error as error:
            raise self._damaged(i, f"cannot decompress ({error})") from None
        if len(raw) != entry.raw_length or inflater.unconsumed_tail or not inflater.eof:
            raise self._damaged(i, "it does not inflate to its stated size")
        try:
            return msgspec.msgpack.decode(raw, type=kind)
        except (msgspec.DecodeError, ValueError) as error:  # ValueError: bad UTF-8
            raise self._damaged(i, str(error)) from None

    def _damaged(self, i: int, reason: str) -> RecordingError:
        entry = self._entries[i]
        message = (f"{self.name}: frame at byte {entry.offset} (tick {entry.tick}) is "
                   f"damaged: {reason}")
        if message not in self.errors:
            self.errors.append(message)
        return RecordingError(message)


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
        elif kind not in (KEYFRAME, DELTA) or (kind == DELTA and key < 0):
            problem = f"is damaged: unknown frame kind {kind}" if kind not in (
                KEYFRAME, DELTA) else "is damaged: a delta with no keyframe before it"
        elif entries and tick <= entries[-1].tick:
            problem = f"is damaged: tick {tick} after tick {entries[-1].tick}"
        elif kind == DELTA and tick != entries[-1].tick + 1:
            problem = f"is damaged: a delta for tick {tick} after tick {entries[-1].tick}"
        elif raw_length > MAX_FRAME_BYTES:
            problem = (f"is refused: it would inflate to {raw_length:,} bytes "
                       f"(limit {MAX_FRAME_BYTES:,})")
        else:
            if kind == KEYFRAME:
                key = len(entries)
            entries.append(_Entry(offset, tick, kind, length, raw_length, key))
            offset = end
    errors = []
    if problem is not None:
        where = entries[-1].tick + 1 if entries else "first"
        usable = len(entries)
        errors.append(f"{name}: frame at byte {offset} (tick {where}) {problem}; "
                      f"{usable} tick{'' if usable == 1 else 's'} before it "
                      f"{'is' if usable == 1 else 'are'} usable")
    return entries, errors


class ReplaySource:
    """A recording as a Source: `step()` moves one recorded tick on (and stays at the end),
    `back()` one back, `seek()` to the nearest recorded tick at or before a tick."""

    def __init__(self, recording: Recording, tick: int | None = None) -> None:
        if not recording.ticks:
            raise RecordingError(f"{recording.name}: no complete frame to replay")
        self.recording = recording
        self.tick_seconds = recording.metadata.tick_seconds
        self._go(0 if tick is None else self._position(tick))

    @property
    def at_end(self) -> bool:
        return self._i == len(self.recording.ticks) - 1

    @property
    def at_start(self) -> bool:
        return self._i == 0

    def step(self) -> Snapshot:
        if not self.at_end:
            self._go(self._i + 1)
        return self.snapshot

    def back(self) -> Snapshot:
        if not self.at_start:
            self._go(self._i - 1)
        return self.snapshot

    def seek(self, tick: int) -> Snapshot:
        self._go(self._position(tick))
        return self.snapshot

    def _position(self, tick: int) -> int:
        return max(0, bisect.bisect_right(self.recording.ticks, tick) - 1)

    def _go(self, i: int) -> None:
        self.snapshot = self.recording.snapshot_at(self.recording.ticks[i])
        self._i = i
