"""The asyncio clock that steps a source and hands each new snapshot to its consumer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable

from zmtop.engine.snapshot.records import Snapshot
from zmtop.engine.sources.source import Source

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
PACE_SAMPLES = 16  # ticks the achieved rate is measured over
SHORT_OF_PACE = 0.9  # below this share of the asked rate, the achieved one is worth saying


class Pace:
    """The rate ticks really arrive at, over the last PACE_SAMPLES of them."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._times: deque[float] = deque(maxlen=PACE_SAMPLES)

    def tick(self) -> None:
        self._times.append(self._now())

    def reset(self) -> None:
        """Forget the samples (after a pause or a change of speed)."""
        self._times.clear()

    def shortfall(self, asked: float) -> float | None:
        """Ticks a second achieved, when that falls short of `asked` ticks a second."""
        if len(self._times) < 4:
            return None
        span = self._times[-1] - self._times[0]
        rate = (len(self._times) - 1) / span if span > 0 else asked
        return rate if rate < asked * SHORT_OF_PACE else None


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
    Each tick is due a period after the one before, however long the step and its delivery
    took (a ×16 that waited a period after each step ran at 13 ticks a second at default);
    `pace` says when the ticks still fall short. `wait` and `now` are the clock
    (wait_or_timeout's contract, a monotonic time): tests pass ones they move by hand.
    """

    def __init__(self, source: Source, tick_seconds: float = 1.0, *,
                 wait: Callable[[asyncio.Event, float], Awaitable[bool]] = wait_or_timeout,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.source = source
        self.tick_seconds = tick_seconds
        self.speed = 1.0
        self.paused = False
        self._wake = asyncio.Event()
        self._stopped = False
        self._stepping = threading.Lock()
        self.stepping = False  # a clock step is under way; its snapshot is still to come
        self._wait = wait
        self._now = now
        self.pace = Pace(now)

    @property
    def period(self) -> float:
        """Seconds between ticks at the current speed."""
        return self.tick_seconds / self.speed

    def shortfall(self) -> float | None:
        """Ticks a second really achieved while playing, when short of the asked rate."""
        return None if self.paused else self.pace.shortfall(1 / self.period)

    @property
    def snapshot(self) -> Snapshot:
        return self.source.snapshot

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self.pace.reset()
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
        self.pace.reset()
        self._wake.set()

    def slower(self) -> None:
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0])
        self.pace.reset()
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    async def run(self, deliver: Callable[[Snapshot], None]) -> None:
        """Step on the clock until stopped, delivering each snapshot."""
        due = self._now() + self.period
        while not self._stopped:
            self._wake.clear()
            if await self._wait(self._wake, max(0.0, due - self._now())):
                due = self._now() + self.period  # a control changed: a fresh period
                continue
            due += self.period
            if self.paused or self._stopped:
                continue
            self.stepping = True
            try:
                snapshot = await asyncio.to_thread(self.step_once)
            finally:
                self.stepping = False
            if not self._stopped:
                deliver(snapshot)  # even if paused meanwhile: the source has moved on
            due = max(due, self._now())  # behind: the next tick at once, never a burst
