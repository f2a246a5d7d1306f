"""Load a file whose kind is told by its content: a memory_monitor capture, a memgraph JSON
array, or a zmtop recording (detected only, for engine.record to replay).

Every problem with the input becomes a `SourceError` whose text is one line naming the file,
what is wrong and where: a line and column for bad JSON, a JSON path such as
`Processes[3][2]` for a value of the wrong shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec
from msgspec import structs

from engine.record import MAGIC
from engine.snapshot import Changes, Snapshot

_BYTE_AT = re.compile(r"\(byte (\d+)\)")


class SourceError(Exception):
    """Input that cannot be read as a source; the message is one line."""


@dataclass(frozen=True)
class Recording:
    """A zmtop recording: the caller hands `path` to engine.record."""

    path: Path


@dataclass
class ImportedSource:
    """A Source over one imported snapshot; `step()` gives it again, with nothing changed.

    `missing` names what the data lacks ("jobs", "threads", "mappings", ...) so views can say
    so plainly instead of showing zeros as facts. `buckets` is the bucket config a wrapped
    capture carries; `kernel_extended` holds a capture's extra Kernel counters (pager,
    discardable) that Kmem has no field for. `index` is what a capture's parser keeps so that
    the next parse of the same source reuses its work (engine.capture_import.CaptureIndex).
    """

    snapshot: Snapshot
    kind: str  # "capture" or "memgraph"
    missing: frozenset[str]
    buckets: list | None = None
    kernel_extended: dict[str, int] = field(default_factory=dict)
    index: Any = field(default=None, repr=False, compare=False)

    def step(self) -> Snapshot:
        if self.snapshot.changes != Changes():
            self.snapshot = structs.replace(self.snapshot, changes=Changes(), events=())
        return self.snapshot


def is_recording(path: str | Path) -> bool:
    """Whether a file starts as a zmtop recording does (an unreadable one is left for
    `load_source` to report), so a recording is not read whole just to be told apart."""
    try:
        with open(path, "rb") as file:
            return file.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def load_source(path: str | Path) -> ImportedSource | Recording:
    """Read `path` and detect its kind by content; raise SourceError on any bad input."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SourceError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        return parse_source(data, str(path))
    except SourceError as e:
        raise SourceError(f"{path}: {e}") from None


def parse_source(data: bytes, label: str, previous: ImportedSource | None = None
                 ) -> ImportedSource | Recording:
    """Detect and parse in-memory content; `label` names the source in the snapshot.

    `previous` is the last parse of the same source (a poll's last tick): records equal to
    its records are its objects, and the snapshot's `changes` say what differs from it.
    """
    if data.startswith(MAGIC):
        return Recording(Path(label))
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"{":
        from engine.capture_import import parse_capture

        index = previous.index if previous is not None else None
        source = parse_capture(decode_json(data), label, index)
        if index is not None:  # already told apart from the previous capture
            return source
    elif start == b"[":
        from engine.memgraph import parse_memgraph

        source = parse_memgraph(data, label)
    else:
        raise SourceError("not a memory_monitor capture, memgraph JSON or zmtop recording")
    return source if previous is None else _after(previous.snapshot, source)


def _after(old: Snapshot, source: ImportedSource) -> ImportedSource:
    """`source` with its snapshot's records shared with `old` where equal and its `changes`
    saying what differs from `old`."""
    new = source.snapshot
    jobs, gone_jobs = changed_koids(old.jobs, new.jobs)
    processes, gone_processes = changed_koids(old.processes, new.processes)
    vmos, gone_vmos = changed_koids(old.vmos, new.vmos)
    snap = structs.replace(
        new, jobs=_share_unchanged(old.jobs, new.jobs),
        processes=_share_unchanged(old.processes, new.processes),
        vmos=_share_unchanged(old.vmos, new.vmos),
        changes=Changes(jobs, processes, vmos, gone_jobs, gone_processes, gone_vmos))
    return replace(source, snapshot=snap)


def changed_koids(old: dict, new: dict) -> tuple[frozenset[int], frozenset[int]]:
    """Koids whose records are new or different, and koids that went away."""
    changed = frozenset(k for k, record in new.items() if old.get(k) != record)
    return changed, frozenset(old.keys() - new.keys())


def _share_unchanged(old: dict, new: dict) -> dict:
    """Reuse the previous record object where the new one is equal, as live snapshots do."""
    return {k: (old[k] if k in old and old[k] == record else record) for k, record in new.items()}


def decode_json(data: bytes) -> Any:
    """Strict JSON; errors say line and column."""
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as e:
        message = str(e)
        found = _BYTE_AT.search(message)
        offset = int(found.group(1)) if found else len(data)
        what = _BYTE_AT.sub("", message).strip()
        raise SourceError(f"{where(data, offset)}: invalid JSON ({what})") from None
    except UnicodeDecodeError as e:
        raise SourceError(f"{where(data, e.start)}: invalid UTF-8") from None
    except RecursionError:
        raise SourceError("invalid JSON (nested too deeply)") from None


def where(data: bytes, offset: int) -> str:
    """`line L column C` (both from 1) of a byte offset."""
    line = data.count(b"\n", 0, offset) + 1
    column = offset - data.rfind(b"\n", 0, offset)
    return f"line {line} column {column}"


# --- typed access to decoded JSON, with the JSON path in every error -------------------------


def expect(value: Any, kind: type | tuple[type, ...], path: str) -> Any:
    """`value` if it is of `kind` (bool is not an int), else SourceError at `path`."""
    if isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool):
        return value
    names = kind if isinstance(kind, tuple) else (kind,)
    wanted = " or ".join(_KIND_NAMES[k] for k in names)
    raise SourceError(f"{path}: expected {wanted}, got {_KIND_NAMES.get(type(value), 'a value')}")


def counts(row: list, columns: list[int], path: str) -> list[int]:
    """`row`'s values at `columns`, each checked as `count` does; the JSON path of a bad
    value is only spelled out when there is one (this runs once per row of a capture)."""
    values = [row[c] for c in columns]
    for value in values:
        if type(value) is not int or not 0 <= value < 1 << 64:
            for c in columns:
                count(row[c], f"{path}[{c}]")
    return values


def count(value: Any, path: str) -> int:
    """A byte count or koid: an integer from 0 to 2**64 - 1."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 64:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise SourceError(f"{path}: {value} is out of range (0 to 2**64-1)")
    return expect(value, int, path)


def member(obj: dict, key: str, path: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise SourceError(f"{path}: missing \"{key}\"") from None


_KIND_NAMES = {
    int: "an integer", str: "a string", list: "an array", dict: "an object", bool: "a boolean",
    float: "a number", type(None): "null",
}
