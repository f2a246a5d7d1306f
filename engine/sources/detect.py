"""Load a file whose kind is told by its content: a memory_monitor capture, a memgraph JSON
array, or a zmtop recording (detected only, for the recording reader to replay).

Every problem with the input becomes a one-line `SourceError` naming the file and the place.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from msgspec import structs

from zmtop.engine.recording.format import MAGIC
from zmtop.engine.snapshot.records import Changes, Snapshot
from zmtop.engine.sources.capture_reader import parse_capture
from zmtop.engine.sources.imported import ImportedSource
from zmtop.engine.sources.json_input import MAX_INPUT_BYTES, SourceError, decode_json
from zmtop.engine.sources.memgraph_reader import parse_memgraph


@dataclass(frozen=True)
class RecordingFile:
    """A zmtop recording: the caller opens `path` with the recording reader."""

    path: Path


def is_recording(path: str | Path) -> bool:
    """Whether a file starts as a zmtop recording does (an unreadable one, or one that is
    not a regular file, is left for `load_source` to report), so a recording is not read
    whole just to be told apart."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as file:
            return file.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def read_input(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_INPUT_BYTES; else SourceError (a FIFO
    or a device such as /dev/zero is refused before it is read)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise SourceError(f"{path}: not a regular file")
        with open(path, "rb") as file:
            data = file.read(MAX_INPUT_BYTES + 1)
    except OSError as e:
        raise SourceError(f"{path}: cannot read: {e.strerror or e}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise SourceError(f"{path}: larger than {MAX_INPUT_BYTES >> 20} MB, more than a "
                          "capture or memgraph holds")
    return data


def load_source(path: str | Path) -> ImportedSource | RecordingFile:
    """Read `path` and detect its kind by content; raise SourceError on any bad input."""
    path = Path(path)
    data = read_input(path)
    try:
        return parse_source(data, str(path))
    except SourceError as e:
        raise SourceError(f"{path}: {e}") from None


def parse_source(data: bytes, label: str, previous: ImportedSource | None = None
                 ) -> ImportedSource | RecordingFile:
    """Detect and parse in-memory content; `label` names the source in the snapshot.

    `previous` is the last parse of the same source (a poll's last tick): records equal to
    its records are its objects, and the snapshot's `changes` say what differs from it.
    """
    if data.startswith(MAGIC):
        return RecordingFile(Path(label))
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"{":
        index = previous.index if previous is not None else None
        source = parse_capture(decode_json(data), label, index)
        if index is not None:  # already told apart from the previous capture
            return source
    elif start == b"[":
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


R = TypeVar("R")


def changed_koids(old: Mapping[int, object],
                  new: Mapping[int, object]) -> tuple[frozenset[int], frozenset[int]]:
    """Koids whose records are new or different, and koids that went away."""
    changed = frozenset(k for k, record in new.items() if old.get(k) != record)
    return changed, frozenset(old.keys() - new.keys())


def _share_unchanged(old: Mapping[int, R], new: Mapping[int, R]) -> dict[int, R]:
    """Reuse the previous record object where the new one is equal, as live snapshots do."""
    return {k: (old[k] if k in old and old[k] == record else record) for k, record in new.items()}


