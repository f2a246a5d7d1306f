"""A source that runs a command each tick and reads the capture or memgraph it prints.

The command line is split like a shell's but run without one, under a timeout. A command
that fails, hangs or prints too much or something unreadable sets `error` and gives the last
good snapshot again, unchanged and marked with a "poll-failed" Event (which a recording
keeps), so the gap shows; the next tick tries again. Each tick is parsed against the last good one, so
unchanged records are shared and `changes` says what differs; processes that appeared or went
and pressure level changes are events (engine.sources.derived_events).
"""

from __future__ import annotations

import shlex
import subprocess
from typing import Any

from msgspec import structs

from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import POLL_FAILED, Changes, Event, Snapshot
from zmtop.engine.sources.derived_events import with_derived_events
from zmtop.engine.sources.detect import parse_source
from zmtop.engine.sources.imported import ImportedSource
from zmtop.engine.sources.json_input import SourceError
from zmtop.engine.sources.run import run_capped
from zmtop.engine.sources.source import SourceInfo, Unkillable


class PollError(ValueError):
    """The command line itself is unusable (empty, or unbalanced quotes)."""


class PollSource(Unkillable):
    """A Source over a command that prints a capture or memgraph each tick; `error` says
    why the last tick could not be read (the tick then repeats the last good data, with a
    POLL_FAILED event saying so)."""

    def __init__(self, command: str, tick_seconds: float, timeout: float | None = None) -> None:
        try:
            self.argv = shlex.split(command)
        except ValueError as error:
            raise PollError(f"--poll: {error}") from None
        if not self.argv:
            raise PollError("--poll needs a command")
        self.command = command
        self.tick_seconds = tick_seconds
        self.timeout = timeout if timeout is not None else max(1.0, tick_seconds * 0.9)
        self.error: str | None = None
        self.tick = 0
        self.imported: ImportedSource | None = None
        first = self._poll()
        if first is None:
            raise PollError(self.error or "--poll: no data")
        self.imported = first
        self.snapshot = structs.replace(first.snapshot, tick=0, time_ns=0,
                                        source=f"poll:{command}")

    @property
    def info(self) -> SourceInfo:
        return SourceInfo(self.snapshot.source, "poll", self.tick_seconds)

    @property
    def missing(self) -> frozenset[str]:
        return self._last.missing

    @property
    def buckets(self) -> list[Any] | None:
        return self._last.buckets

    @property
    def kernel_extended(self) -> dict[str, int]:
        return self._last.kernel_extended

    @property
    def _last(self) -> ImportedSource:
        """The last good import."""
        assert self.imported is not None
        return self.imported

    def prepare(self) -> None:
        return None

    def _poll(self) -> ImportedSource | None:
        label = f"--poll '{safe_name(self.command)}'"
        try:
            returncode, out, err = run_capped(self.argv, self.timeout)
        except subprocess.TimeoutExpired:
            self.error = f"{label}: no answer within {self.timeout:g} s"
            return None
        except OSError as error:
            self.error = f"{label}: {safe_name(str(error.strerror or error))}"
            return None
        except SourceError as error:
            self.error = f"{label}: {error}"
            return None
        if returncode != 0:
            detail = err.decode("utf-8", "replace").strip().splitlines()
            self.error = f"{label}: exit status {returncode}" + (
                f": {safe_name(detail[-1])}" if detail else "")
            return None
        try:
            source = parse_source(out, label, self.imported)
        except SourceError as error:
            self.error = f"{label}: {error}"
            return None
        if not isinstance(source, ImportedSource):
            self.error = f"{label}: printed a recording; poll needs a capture or memgraph"
            return None
        self.error = None
        return source

    def step(self) -> Snapshot:
        self.tick += 1
        fresh = self._poll()
        previous = self.snapshot
        if fresh is None:
            self.snapshot = structs.replace(previous, tick=self.tick,
                                            time_ns=previous.time_ns + self._tick_ns,
                                            changes=Changes(),
                                            events=(Event(POLL_FAILED, 0, self.error or ""),))
            return self.snapshot
        self.imported = fresh  # parsed against the last good tick: records shared, changes set
        self.snapshot = with_derived_events(previous, structs.replace(
            fresh.snapshot, tick=self.tick, time_ns=previous.time_ns + self._tick_ns,
            source=previous.source))
        return self.snapshot

    @property
    def _tick_ns(self) -> int:
        return int(self.tick_seconds * 1e9)
