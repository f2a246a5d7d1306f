"""The recording format and its writer: append-only, checksummed frames of snapshots.

A file is a header (magic, format version, metadata) followed by frames. Each frame carries
its length and a CRC32, so a file cut at any byte (kill -9, full disk) still replays every
complete frame. A keyframe holds a whole snapshot; a delta holds the records `snap.changes`
names, column by column: sorted koids as gaps, an int field as differences (a common factor
times small values, another field's values again, or a multiple of another field), a tuple
field as the slices and element fields that changed, other fields only where they changed;
records that only moved (`Changes.vmo_moves`, `.process_moves`) as a column per move.
Payloads are msgspec msgpack, compressed with zstd: the deltas after a keyframe as one stream
with the keyframe as its dictionary, flushed at each frame; a keyframe with the keyframe
before it as its dictionary (every ANCHOR_EVERY-th stands alone, bounding the chain a seek
decompresses). Everything is decoded into typed Structs only: nothing read from a file is
ever executed.
"""

from __future__ import annotations

import struct

from msgspec import Struct, structs

MAGIC = b"\x89ZMREC\r\n"  # a high byte and CRLF catch text-mode mangling, as in PNG
FORMAT_VERSION = 3
# magic, format version, metadata length, CRC32 of version + length + metadata
HEADER = struct.Struct("<8sIII")
# CRC32 of everything after it, payload length, decompressed length, tick, kind
FRAME = struct.Struct("<IIIIB")
KEYFRAME, DELTA, CHAINED = 1, 2, 3  # CHAINED: a keyframe compressed against the one before
KINDS = (KEYFRAME, DELTA, CHAINED)
MAX_METADATA_BYTES = 1 << 20
MAX_FRAME_BYTES = 256 << 20  # refuse frames that claim or inflate past this
# A record decodes to many times its bytes, so a frame is also refused, before its records
# are built (limits.py), for holding more of them than any device has, with headroom: the
# scale scenario, larger than real devices, has 1,980 jobs, 2,000 processes, 100,000 VMOs
# and 272,725 items (threads, mappings, VMO references and handles of every process, events
# and changed koids). A frame at every limit decodes to about 0.5 GB.
MAX_JOBS = 1 << 16
MAX_PROCESSES = 1 << 16
MAX_VMOS = 1 << 20
MAX_ITEMS = 1 << 22
KEYFRAME_EVERY = 240  # ticks per keyframe: a seek decodes one keyframe and < 240 deltas
ANCHOR_EVERY = 8  # keyframes per self-contained keyframe
# zstd levels: a keyframe standing alone compresses as well at 6 as at 9, twice as fast; one
# chained on the keyframe before finds it as well at 1 (fast), loaded whole (keyframe_payload)
DELTA_LEVEL, ANCHOR_LEVEL, KEY_LEVEL = 3, 6, 1
MAX_WINDOW_LOG = 27  # what a zstd decompressor accepts by default (128 MB)

astuple = structs.astuple


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



