"""The asyncio clock that steps a source and hands each new snapshot to its consumer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from zmtop.engine.snapshot.records import Snapshot
from zmtop.engine.sources.source import Source

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


async def wait_or_timeout(event: asyncio.Event, seconds: float) -> bool:
    """Wait for `event` at most `seconds`: True if it was set, False if the time ran out."""
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False
    return True


class Driver:
    """Steps a source every `tick_seconds / speed`; pause, resume, single step, speed.

    The clock steps the source in a worker thread, so a slow step (a big simulation, a
    polled command) never blocks the event loop; a lock keeps steps one at a time.
    `wait` is the clock itself (wait_or_timeout's contract): tests pass one they move by hand.
    """

    def __init__(self, source: Source, tick_seconds: float = 1.0, *,
                 wait: Callable[[asyncio.Event, float], Awaitable[bool]] = wait_or_timeout
                 ) -> None:
        self.source = source
        self.tick_seconds = tick_seconds
        self.speed = 1.0
        self.paused = False
        self._wake = asyncio.Event()
        self._stopped = False
        self._stepping = threading.Lock()
        self._wait = wait

    @property
    def snapshot(self) -> Snapshot:
        return self.source.snapshot

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._wake.set()

    def toggle_pause(self) -> None:
        if self.paused:
            self.resume()
        else:
            self.pause()

    def step_once(self) -> Snapshot:
        """Advance one tick now, whether paused or not."""
        with self._stepping:
            return self.source.step()

    def kill_refusal(self, koid: int) -> str | None:
        """Why the source cannot kill job or process `koid`, or None (see Source)."""
        with self._stepping:  # not while a step changes what it looks at
            return self.source.kill_refusal(koid)

    def request_kill(self, koid: int) -> Snapshot | None:
        """Ask the source to kill `koid` at its next step (KillRefused if it cannot);
        while paused that step is taken now, and its snapshot returned for delivery."""
        with self._stepping:
            self.source.request_kill(koid)
        return self.step_once() if self.paused else None

    def faster(self) -> None:
        self.speed = next((s for s in SPEEDS if s > self.speed), SPEEDS[-1])
        self._wake.set()

    def slower(self) -> None:
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0])
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    async def run(self, deliver: Callable[[Snapshot], None]) -> None:
        """Step on the clock until stopped, delivering each snapshot."""
        while not self._stopped:
            self._wake.clear()
            if await self._wait(self._wake, self.tick_seconds / self.speed):
                continue  # woken early: a control changed; start a fresh wait
            if self.paused or self._stopped:
                continue
            snapshot = await asyncio.to_thread(self.step_once)
            if not self._stopped:
                deliver(snapshot)
