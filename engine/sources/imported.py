"""A source over one snapshot read from a file: a memory_monitor capture or a memgraph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from msgspec import structs

from zmtop.engine.snapshot.records import Changes, Snapshot
from zmtop.engine.sources.source import SourceInfo, Unkillable


@dataclass
class ImportedSource(Unkillable):
    """A Source over one imported snapshot; `step()` gives it again, with nothing changed.

    `missing` names what the data lacks ("jobs", "threads", "mappings", ...) so views can say
    so plainly instead of showing zeros as facts; "names" (json_input.LONG_NAMES) says names
    longer than Zircon's limit were cut. `buckets` is the bucket config a wrapped
    capture carries; `kernel_extended` holds a capture's extra Kernel counters (pager,
    discardable) that Kmem has no field for. `index` is what a capture's parser keeps so that
    the next parse of the same source reuses its work (engine.sources.capture_reader.CaptureIndex).
    """

    snapshot: Snapshot
    kind: str  # "capture" or "memgraph"
    missing: frozenset[str]
    buckets: list[Any] | None = None
    kernel_extended: dict[str, int] = field(default_factory=dict)
    index: Any = field(default=None, repr=False, compare=False)

    error = None  # read once: nothing fails after

    @property
    def info(self) -> SourceInfo:
        return SourceInfo(self.snapshot.source, self.kind)

    def prepare(self) -> None:
        return None

    def step(self) -> Snapshot:
        if self.snapshot.changes != Changes():
            self.snapshot = structs.replace(self.snapshot, changes=Changes(), events=())
        return self.snapshot
