"""How many records a frame may hold, counted before any is built.

A frame's bytes are bounded (MAX_FRAME_BYTES), but a record decodes to many times its bytes
in memory: a crafted keyframe of 216 MB took 3.2 GB. So a frame is first decoded as its
shape: every field a `msgspec.Raw` (a view of its bytes), but the processes, a few fields
each; the lengths of its lists come from their msgpack headers. Only a frame within the
limits (format.py) is then decoded whole.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta, Raw, Struct, structs

from zmtop.engine.recording.codec import Delta, Keyframe, Moves
from zmtop.engine.recording.format import MAX_ITEMS, MAX_JOBS, MAX_PROCESSES, MAX_VMOS
from zmtop.engine.snapshot.records import Process

# Process fields holding a list each, counted as items.
_ITEM_FIELDS = ("threads", "maps", "vmo_refs", "handles")


def _shape(name: str, record: type[Struct], **types: Any) -> Any:
    """An array-like Struct of `record`'s fields, each a Raw unless `types` says."""
    fields = [(f.name, types.get(f.name, Raw)) if f.required
              else (f.name, types.get(f.name, Raw), Raw(msgspec.msgpack.encode(f.default)))
              for f in structs.fields(record)]
    return msgspec.defstruct(name, fields, array_like=True, frozen=True)


_ProcessShape = _shape("ProcessShape", Process)
_Processes = Annotated[list[_ProcessShape], Meta(max_length=MAX_PROCESSES)]  # type: ignore[valid-type]
_KeyShape = _shape("KeyframeShape", Keyframe, processes=_Processes)
_TableShape = msgspec.defstruct("TableShape", [("removed", Raw), ("koids", Raw),
                                               ("added", Raw)], array_like=True, frozen=True)
_ProcessTableShape = msgspec.defstruct(
    "ProcessTableShape", [("removed", Raw), ("koids", Raw), ("added", _Processes)],
    array_like=True, frozen=True)
_DeltaShape = _shape("DeltaShape", Delta, jobs=Raw, processes=Raw, vmos=Raw)
_KEY: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(_KeyShape)
_DELTA: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(_DeltaShape)
_TABLE: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(_TableShape)
_PROCESS_TABLE: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(_ProcessTableShape)
_MOVES: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(_shape("MovesShape", Moves))
_CHANGES = msgspec.msgpack.Decoder(list[Raw])


def length(raw: Raw) -> int:
    """How many elements (pairs, for a map) the msgpack array or map `raw` holds; 0 for
    anything else (decoding it whole then fails on its type)."""
    head = bytes(memoryview(raw)[:5])
    if not head:
        return 0
    first = head[0]
    if 0x90 <= first <= 0x9F or 0x80 <= first <= 0x8F:
        return first & 0x0F
    if first in (0xDC, 0xDE):
        return int.from_bytes(head[1:3], "big")
    if first in (0xDD, 0xDF):
        return int.from_bytes(head[1:5], "big")
    return 0


# Speed: most frames are far smaller than this, and their shape is not decoded; bench:
# "default: seek to any tick (cold, median of 3), worst" (record_bench), 3.5 of 45 ms.
WITHIN_LIMITS_BYTES = min(MAX_JOBS, MAX_PROCESSES, MAX_VMOS, MAX_ITEMS)
"""A frame of at most this many bytes is within every limit, uncounted: each element of a
list takes a byte or more, and msgspec refuses a list whose header claims more elements
than the bytes left, so no list, nor all of them together, holds more elements than the
frame has bytes."""


def _over(what: str, count: int, limit: int) -> None:
    if count > limit:
        raise ValueError(f"it holds {count:,} {what} (limit {limit:,})")


def _items(processes: list[Any]) -> int:
    return sum(length(getattr(p, f)) for p in processes for f in _ITEM_FIELDS)


def check_keyframe(raw: bytes) -> None:
    """ValueError (or msgspec.DecodeError) if the keyframe `raw` holds more jobs, processes,
    VMOs or items (threads, mappings, VMO references, handles, events, changed koids) than
    format.py allows."""
    if len(raw) <= WITHIN_LIMITS_BYTES:
        return
    try:
        shape = _KEY.decode(raw)
    except msgspec.ValidationError as error:
        raise ValueError(f"{error} (at most {MAX_PROCESSES:,} processes)") from None
    _over("jobs", length(shape.jobs), MAX_JOBS)
    _over("VMOs", length(shape.vmos), MAX_VMOS)
    changes = sum(map(length, _CHANGES.decode(shape.changes)))
    _over("items", _items(shape.processes) + length(shape.events) + changes, MAX_ITEMS)


def check_delta(raw: bytes) -> None:
    """As check_keyframe, for a delta: its removed, changed and added records, moves and
    events."""
    if len(raw) <= WITHIN_LIMITS_BYTES:
        return
    try:
        shape = _DELTA.decode(raw)
        jobs, vmos = _TABLE.decode(shape.jobs), _TABLE.decode(shape.vmos)
        processes = _PROCESS_TABLE.decode(shape.processes)
    except msgspec.ValidationError as error:
        raise ValueError(f"{error} (at most {MAX_PROCESSES:,} processes)") from None
    for what, table, limit in (("jobs", jobs, MAX_JOBS), ("processes", processes,
                                                          MAX_PROCESSES), ("VMOs", vmos, MAX_VMOS)):
        _over(f"removed {what}", length(table.removed), limit)
        _over(f"changed {what}", length(table.koids), limit)
    _over("added jobs", length(jobs.added), MAX_JOBS)
    _over("added VMOs", length(vmos.added), MAX_VMOS)
    _over("moved processes", length(_MOVES.decode(shape.process_moves).koids), MAX_PROCESSES)
    _over("moved VMOs", length(_MOVES.decode(shape.vmo_moves).koids), MAX_VMOS)
    _over("items", _items(processes.added) + length(shape.events), MAX_ITEMS)
