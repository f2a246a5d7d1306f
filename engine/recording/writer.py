"""Writing a recording: the header, then a frame per tick, keyframes and deltas compressed."""

from __future__ import annotations

import errno
import struct
import time
import zlib
from pathlib import Path
from typing import BinaryIO

import msgspec
import zstandard

from zmtop.engine.recording.codec import dictionary, encode_delta, encode_keyframe
from zmtop.engine.recording.format import (
    ANCHOR_EVERY,
    ANCHOR_LEVEL,
    CHAINED,
    DELTA,
    DELTA_LEVEL,
    FORMAT_VERSION,
    FRAME,
    HEADER,
    KEY_LEVEL,
    KEYFRAME,
    KEYFRAME_EVERY,
    MAGIC,
    MAX_WINDOW_LOG,
    Metadata,
    RecordingError,
)
from zmtop.engine.snapshot.records import (
    Snapshot,
)
from zmtop.engine.snapshot.tables import encode_hook
from zmtop.engine.sources.source import Source

_ENCODER = msgspec.msgpack.Encoder(enc_hook=encode_hook)


def header_bytes(metadata: Metadata, version: int = FORMAT_VERSION) -> bytes:
    meta = msgspec.msgpack.encode(metadata)
    crc = zlib.crc32(struct.pack("<II", version, len(meta)) + meta)
    return HEADER.pack(MAGIC, version, len(meta), crc) + meta


def frame_bytes(tick: int, kind: int, payload: bytes, raw_length: int) -> bytes:
    head = FRAME.pack(0, len(payload), raw_length, tick, kind)
    crc = zlib.crc32(payload, zlib.crc32(head[4:]))
    return struct.pack("<I", crc) + head[4:] + payload


def delta_stream(key_raw: bytes) -> zstandard.ZstdCompressionObj:
    """Where the deltas after a keyframe are compressed: one zstd stream with the keyframe as
    its dictionary, flushed at the end of each frame (so every complete frame decodes), in
    which a delta also reaches back to the deltas before it."""
    return compressor(DELTA_LEVEL, len(key_raw) // 2, key_raw).compressobj()


def compressor(level: int, size: int, base: bytes | None = None,
               **params: int) -> zstandard.ZstdCompressor:
    """A zstd compressor whose window spans `size` bytes and the dictionary `base`: by
    default it would reach back only a few MB, and miss a big keyframe's twin. `params`
    override the level's other parameters."""
    span = size + (len(base) if base is not None else 0)
    window = min(MAX_WINDOW_LOG, max(zstandard.WINDOWLOG_MIN, span.bit_length()))
    return zstandard.ZstdCompressor(
        compression_params=zstandard.ZstdCompressionParameters.from_level(
            level, window_log=window, **params),
        dict_data=None if base is None else dictionary(base))


# Speed: the keyframe before as a dictionary, at a fast level; bench: "scale: recording a
# keyframe, chained" (record_bench).
def keyframe_payload(raw: bytes, base: bytes | None) -> bytes:
    """A keyframe compressed standing alone (`base` None) or chained on `base`, the raw
    keyframe before it.

    zstd loads only the last 1 << max(hash log + 3, chain log + 1) bytes of a dictionary.
    The fast strategy (KEY_LEVEL) keeps no chain table, so a chain log that spans `base`
    costs nothing; a hash table of a slot per 32 bytes of it finds its records again.
    """
    if base is None:
        return compressor(ANCHOR_LEVEL, len(raw)).compress(raw)
    bits = len(base).bit_length()
    fast = zstandard.ZstdCompressionParameters.from_level(KEY_LEVEL)
    return compressor(KEY_LEVEL, len(raw), base,
                      chain_log=min(max(fast.chain_log, bits), zstandard.CHAINLOG_MAX),
                      hash_log=max(fast.hash_log, bits - 5)).compress(raw)


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
        self._key_raw: bytes | None = None
        self._deltas: zstandard.ZstdCompressionObj | None = None
        self._file: BinaryIO | None = None
        try:
            # unbuffered: after a failed write, nothing is left in a buffer to flush again
            # (onto a full disk) before the half-written frame can be cut off
            opened = file if file is not None else open(path, "wb", buffering=0)
        except OSError as error:
            raise RecordingError(f"{self.name}: cannot create: {_reason(error)}") from None
        self._file = opened
        self._write(opened, header_bytes(metadata), None)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._file is None

    def append(self, snap: Snapshot) -> None:
        file = self._file
        if file is None:
            raise RecordingError(f"{self.name}: the recording is closed")
        previous, deltas = self._previous, self._deltas
        if previous is not None and snap.tick <= previous.tick:
            if snap.tick == previous.tick:
                return  # the same tick again (a paused source): nothing new
            raise ValueError(f"tick {snap.tick} after tick {previous.tick}")
        if (previous is None or deltas is None or snap.tick != previous.tick + 1
                or self._since_key >= self.keyframe_every):
            raw = _ENCODER.encode(encode_keyframe(snap))
            kind = CHAINED if self._keys % ANCHOR_EVERY else KEYFRAME
            payload = keyframe_payload(raw, self._key_raw if kind == CHAINED else None)
            self._write(file, frame_bytes(snap.tick, kind, payload, len(raw)), snap.tick)
            self._key_raw = raw
            self._deltas = delta_stream(raw)
            self._keys += 1
            self._since_key = 1
        else:
            raw = _ENCODER.encode(encode_delta(snap, previous))
            payload = deltas.compress(raw) + deltas.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
            self._write(file, frame_bytes(snap.tick, DELTA, payload, len(raw)), snap.tick)
            self._since_key += 1
        self._previous = snap
        self.ticks_written += 1

    def _write(self, file: BinaryIO, data: bytes, tick: int | None) -> None:
        """Write and flush `data` to the open `file` (a raw file may take part of it a
        call); a RecordingError abandons it."""
        try:
            view = memoryview(data)
            while view:
                taken = file.write(view)
                if not taken:
                    raise OSError(errno.EIO, "the file took no more bytes")
                view = view[taken:]
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


def metadata_for(source: Source) -> Metadata:
    """What a recording of any source (simulation, import, poll) says about itself."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        zmtop_version = version("zmtop")
    except PackageNotFoundError:
        zmtop_version = "unknown"
    info = source.info
    return Metadata(scenario=info.scenario, seed=info.seed or 0,
                    tick_seconds=info.tick_seconds, start_time=time.time(),
                    zmtop_version=zmtop_version, source=source.snapshot.source)
