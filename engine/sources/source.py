"""The Source contract: what the driver steps and the views read, whatever the data's origin.

A source is the simulation, an imported capture or memgraph, a polled command or a
recording's replay. Each says what it is in a `SourceInfo`; a recording is also `Seekable`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

from msgspec import Struct

from zmtop.engine.snapshot.records import Snapshot

if TYPE_CHECKING:
    from zmtop.engine.recording.reader import Recording


class SourceInfo(Struct, frozen=True):
    """What a source is: its label, its kind ("simulation", "capture",
    "memgraph", "poll" or "recording") and how it was made.

    `scenario` and `seed` are the simulation's (or the recorded simulation's); other kinds
    have none.
    """

    name: str
    kind: str
    tick_seconds: float = 1.0
    scenario: str = ""
    seed: int | None = None

    @classmethod
    def simulation(cls, scenario: str, seed: int, tick_seconds: float) -> SourceInfo:
        return cls(f"sim:{scenario}:{seed}", "simulation", tick_seconds, scenario, seed)

    @property
    def seekable(self) -> bool:
        """Whether the source moves to any tick on demand (a recording)."""
        return self.kind == "recording"

    @property
    def noun(self) -> str:
        """How a notice names the data: 'this capture', 'the polled data', ..."""
        return "the polled data" if self.kind == "poll" else f"this {self.kind}"


class Source(Protocol):
    """Snapshots one tick at a time, and what the data can and cannot tell."""

    @property
    def snapshot(self) -> Snapshot: ...

    @property
    def info(self) -> SourceInfo: ...

    @property
    def missing(self) -> frozenset[str]:
        """What the data lacks ("jobs", "threads", "mappings", ...), so views say so."""

    @property
    def error(self) -> str | None:
        """Why the last tick could not be read (a poll's failure), or None."""

    @property
    def buckets(self) -> list[Any] | None:
        """The bucket config the data carries (a wrapped capture's), or None."""

    @property
    def kernel_extended(self) -> dict[str, int]:
        """A capture's extra kernel counters (pager, discardable) that Kmem has no field for."""

    def step(self) -> Snapshot:
        """The next tick's snapshot (the same one again for a static import)."""

    def prepare(self) -> None:
        """Finish any work started in the background before the first step (a no-op mostly)."""

    def kill_refusal(self, koid: int) -> str | None:
        """Why job or process `koid` cannot be killed, in one line; None if it can."""

    def request_kill(self, koid: int) -> None:
        """Kill job or process `koid` (as zx_task_kill) at the next step, which shows it
        gone; KillRefused, raised at once, carries kill_refusal's line if it cannot be."""


class KillRefused(Exception):
    """Why a task cannot be killed, as one line for a notice."""


class Unkillable:
    """A source that shows data it did not make: it kills nothing."""

    if TYPE_CHECKING:
        @property
        def info(self) -> SourceInfo: ...

    def kill_refusal(self, koid: int) -> str | None:
        return f"kill: not possible on {self.info.noun} (only the simulation kills)"

    def request_kill(self, koid: int) -> None:
        raise KillRefused(self.kill_refusal(koid))


class SourceDefaults(Unkillable):
    """The answers of a source whose data is whole: nothing missing, no error, no buckets,
    no kill (the simulation, which kills, says otherwise)."""

    missing: frozenset[str] = frozenset()
    error: str | None = None
    buckets: list[Any] | None = None

    @property
    def kernel_extended(self) -> dict[str, int]:
        return {}

    def prepare(self) -> None:
        return None


class Seekable(Source, Protocol):
    """A source over a recording: it moves to any recorded tick."""

    @property
    def recording(self) -> Recording: ...

    @property
    def at_start(self) -> bool: ...

    @property
    def at_end(self) -> bool: ...

    def seek(self, tick: int) -> Snapshot: ...


def is_seekable(source: Source) -> TypeGuard[Seekable]:
    """Whether `source` is a recording's replay."""
    return source.info.seekable
