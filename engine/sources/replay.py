"""Replaying a recording as a Source: stepping on from a tick, or seeking to any tick."""

from __future__ import annotations

import bisect

from zmtop.engine.recording.format import RecordingError
from zmtop.engine.recording.reader import Recording
from zmtop.engine.snapshot.records import Snapshot
from zmtop.engine.sources.source import SourceDefaults, SourceInfo


class ReplaySource(SourceDefaults):
    """A recording as a Source: `step()` moves one recorded tick on (and stays at the end),
    `back()` one back, `seek()` to the nearest recorded tick at or before a tick."""

    def __init__(self, recording: Recording, tick: int | None = None) -> None:
        if not recording.ticks:
            raise RecordingError(f"{recording.name}: no complete frame to replay")
        self.recording = recording
        self.tick_seconds = recording.metadata.tick_seconds
        self._go(0 if tick is None else self._position(tick))

    @property
    def info(self) -> SourceInfo:
        return SourceInfo(self.recording.name, "recording", self.tick_seconds)

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

    def seek(self, tick: int) -> Snapshot:
        self._go(self._position(tick))
        return self.snapshot

    def _position(self, tick: int) -> int:
        return max(0, bisect.bisect_right(self.recording.ticks, tick) - 1)

    def _go(self, i: int) -> None:
        self.snapshot = self.recording.checked_at(self.recording.ticks[i])
        self._i = i
