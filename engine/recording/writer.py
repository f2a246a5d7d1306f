"""Writing a recording: the header, then a frame per tick, keyframes and deltas compressed."""

from __future__ import annotations

import errno
import struct
import threading
import time
import zlib
from pathlib import Path
from typing import BinaryIO

import msgspec
import zstandard
from msgspec import structs

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


# Speed: the keyframe before as a dictionary, at a fast level; bench: "scale: making a keyframe
# off the tick thread, chained" and "scale: keyframe size, chained" (record_bench).
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


# Records per msgspec call when a keyframe is encoded off the tick thread: a process carries
# its maps, handles and VMO references, so fewer of them (about 1.5 ms a call at scale).
CHUNK_RECORDS = {"jobs": 8192, "processes": 128, "vmos": 8192}


def array_header(count: int) -> bytes:
    """The msgpack header of an array of `count` items, as msgspec writes it."""
    if count < 16:
        return bytes((0x90 | count,))
    if count < 1 << 16:
        return b"\xdc" + count.to_bytes(2, "big")
    return b"\xdd" + count.to_bytes(4, "big")


# Speed: msgspec holds the GIL through each encode, so a keyframe's tables are encoded a chunk
# at a time; bench: "scale: longest tick-thread stall while a keyframe is made" (record_bench).
def keyframe_bytes(snap: Snapshot, encoder: msgspec.msgpack.Encoder) -> bytes:
    """`snap`'s keyframe in msgpack, byte for byte as encoding `encode_keyframe(snap)` whole
    would give, its tables (the Keyframe's last fields) encoded CHUNK_RECORDS at a time."""
    key = encode_keyframe(snap)
    tables = {name: getattr(key, name) for name in CHUNK_RECORDS}
    head = encoder.encode(structs.replace(key, **{name: [] for name in tables}))
    parts = [head[:-len(tables)]]  # each empty table is one byte, 0x90
    for name, records in tables.items():
        parts.append(array_header(len(records)))
        step = CHUNK_RECORDS[name]
        for start in range(0, len(records), step):
            chunk = records[start:start + step]
            parts.append(encoder.encode(chunk)[len(array_header(len(chunk))):])
    return b"".join(parts)


# Speed: a keyframe is encoded and compressed in a thread of its own while the ticks go on
# (zstd lets go of the GIL), and written before the next frame; bench: "scale: recording a
# keyframe, tick thread" (record_bench).
class KeyframeJob(threading.Thread):
    """One keyframe's raw bytes and payload, made off the tick thread: a snapshot is
    immutable, so reading it while the source goes on is safe."""

    def __init__(self, snap: Snapshot, kind: int, base: bytes | None) -> None:
        super().__init__(name=f"zmtop-keyframe-{snap.tick}", daemon=True)
        self.tick, self.kind = snap.tick, kind
        self._snap = snap
        self._base = base
        self._made: tuple[bytes, bytes] | None = None
        self._error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            raw = keyframe_bytes(self._snap, msgspec.msgpack.Encoder(enc_hook=encode_hook))
            self._made = raw, keyframe_payload(raw, self._base)
        except BaseException as error:  # noqa: BLE001 - raised again on the tick thread
            self._error = error

    def result(self) -> tuple[bytes, bytes]:
        """The raw keyframe and its payload, once made; an error in the making raises."""
        self.join()
        if self._made is None:
            raise self._error or RuntimeError("keyframe not made")
        return self._made


class Recorder:
    """Appends snapshots to a recording, one flushed frame each.

    A keyframe starts the file, follows any gap in ticks, and comes every `keyframe_every`
    ticks; the rest are deltas. A keyframe is made off the tick thread and written when the
    next frame is appended or the recording is closed (so a failure to write it is raised
    then, naming its tick). A write error stops the recording with a RecordingError; what
    was written before stays a valid recording.
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
        self._keys = 0  # keyframes begun
        self._key_raw: bytes | None = None
        self._pending: KeyframeJob | None = None  # the keyframe being made, not yet written
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

    @property
    def busy(self) -> bool:
        """Whether a keyframe is still being made off the tick thread."""
        return self._pending is not None and self._pending.is_alive()

    def append(self, snap: Snapshot) -> None:
        file = self._file
        if file is None:
            raise RecordingError(f"{self.name}: the recording is closed")
        previous = self._previous
        if previous is not None and snap.tick <= previous.tick:
            if snap.tick == previous.tick:
                return  # the same tick again (a paused source): nothing new
            raise ValueError(f"tick {snap.tick} after tick {previous.tick}")
        self._write_pending(file)  # the keyframe before goes first
        deltas = self._deltas
        if (previous is None or deltas is None or snap.tick != previous.tick + 1
                or self._since_key >= self.keyframe_every):
            kind = CHAINED if self._keys % ANCHOR_EVERY else KEYFRAME
            self._pending = KeyframeJob(snap, kind, self._key_raw if kind == CHAINED else None)
            self._deltas = None
            self._keys += 1
            self._since_key = 1
        else:
            raw = _ENCODER.encode(encode_delta(snap, previous))
            payload = deltas.compress(raw) + deltas.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
            self._write(file, frame_bytes(snap.tick, DELTA, payload, len(raw)), snap.tick)
            self._since_key += 1
            self.ticks_written += 1
        self._previous = snap

    def _write_pending(self, file: BinaryIO) -> None:
        """Write the keyframe being made, once it is, and start its deltas' stream."""
        job, self._pending = self._pending, None
        if job is None:
            return
        raw, payload = job.result()
        self._write(file, frame_bytes(job.tick, job.kind, payload, len(raw)), job.tick)
        self._key_raw = raw
        self._deltas = delta_stream(raw)
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

    def flush(self) -> None:
        """Write the keyframe being made, once it is: everything appended is then on disk."""
        if self._file is not None:
            self._write_pending(self._file)

    def close(self) -> None:
        self.flush()
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
