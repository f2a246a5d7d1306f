"""The asyncio driver: it steps on its clock, and pause, step and speed do what they say.

The driver waits on a ManualClock, so no test here waits for real time to pass: time moves
only when a test advances the clock, and each advance returns once the driver is waiting
again (or has stopped)."""

import asyncio

import pytest

from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.sources.driver import PACE_SAMPLES, SPEEDS, Driver, Pace, wait_or_timeout

SETTLE_SECONDS = 5  # a bound on the real time a step in the worker thread may take


class ManualClock:
    """Driver(wait=clock.wait, now=clock.time): the driver's waits time out when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[tuple[float, asyncio.Future, asyncio.Event]] = []
        self.task: asyncio.Task | None = None
        self._changed = asyncio.Event()

    async def wait(self, event: asyncio.Event, seconds: float) -> bool:
        timer = asyncio.get_running_loop().create_future()
        entry = (self.now + seconds, timer, event)
        woken = asyncio.ensure_future(event.wait())
        self.waits.append(entry)
        self._changed.set()
        try:
            await asyncio.wait({woken, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            self.waits.remove(entry)
            self._changed.set()
        return event.is_set()

    def time(self) -> float:
        return self.now

    def start(self, driver: Driver, deliver) -> asyncio.Task:
        self.task = asyncio.create_task(driver.run(deliver))
        return self.task

    def _idle(self) -> bool:
        """The driver waits on a timer that has not fired, or has stopped."""
        return self.task.done() or any(not timer.done() and not event.is_set()
                                       for _, timer, event in self.waits)

    async def settle(self) -> None:
        """Let the driver run until it waits on the clock again or stops."""
        async with asyncio.timeout(SETTLE_SECONDS):
            while not self._idle():
                self._changed.clear()
                changed = asyncio.ensure_future(self._changed.wait())
                try:
                    await asyncio.wait({changed, self.task},
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    changed.cancel()

    async def advance(self, seconds: float) -> None:
        """Move the time on by `seconds`, firing each wait's timeout when its time comes."""
        end = self.now + seconds
        await self.settle()
        while due := [w for w in self.waits if w[0] <= end and not w[1].done()]:
            deadline, timer, _ = min(due, key=lambda w: w[0])
            self.now = deadline
            timer.set_result(None)
            await self.settle()
        self.now = end


async def test_steps_on_the_clock_and_lists_what_changed():
    sim = Simulation("default", 1)
    clock = ManualClock()
    driver = Driver(sim, tick_seconds=1.0, wait=clock.wait, now=clock.time)
    seen = []

    def deliver(snap):
        seen.append(snap)
        if len(seen) == 3:
            driver.stop()

    task = clock.start(driver, deliver)
    await clock.advance(0.99)
    assert seen == []
    await clock.advance(0.01)
    assert [s.tick for s in seen] == [1]
    await clock.advance(5)
    assert task.done() and clock.now == 6
    assert [s.tick for s in seen] == [1, 2, 3]
    before, after = seen[1], seen[2]
    for koid, record in after.vmos.items():
        if koid not in after.changes.vmos and koid in before.vmos:
            assert record == before.vmos[koid]
    assert after.changes.vmos, "the default scenario keeps moving"


async def test_pause_holds_the_clock_and_single_step_still_works():
    sim = Simulation("default", 1)
    clock = ManualClock()
    driver = Driver(sim, tick_seconds=1.0, wait=clock.wait, now=clock.time)
    driver.pause()
    delivered = []
    task = clock.start(driver, delivered.append)
    await clock.advance(8)
    assert delivered == []
    assert driver.step_once().tick == 1
    driver.resume()
    await clock.advance(1)
    driver.stop()
    await clock.settle()
    assert task.done()
    assert delivered and delivered[0].tick == 2


async def test_a_pause_during_a_step_still_delivers_that_step_and_no_more():
    clock = ManualClock()
    sim = Simulation("default", 1)
    driver = Driver(sim, tick_seconds=1.0, wait=clock.wait, now=clock.time)
    seen_while_stepping = []

    class PausedMidStep:
        """The simulation, with the user pausing while its step runs."""

        snapshot = sim.snapshot

        def step(self):
            seen_while_stepping.append(driver.stepping)
            driver.pause()
            return sim.step()

    driver.source = PausedMidStep()
    delivered = []
    task = clock.start(driver, delivered.append)
    assert not driver.stepping
    await clock.advance(5)
    assert seen_while_stepping == [True] and not driver.stepping
    assert [s.tick for s in delivered] == [1]  # the source moved on: its tick is shown
    driver.stop()
    await clock.settle()
    assert task.done()


async def test_speed_sets_the_wait_and_a_change_starts_a_fresh_one():
    clock = ManualClock()
    driver = Driver(Simulation("default", 1), tick_seconds=1.0, wait=clock.wait, now=clock.time)
    delivered = []
    task = clock.start(driver, delivered.append)
    await clock.advance(0.75)
    driver.faster()  # 2x: the next tick is half a second from now, not from the start
    await clock.advance(0.25)
    assert delivered == []
    await clock.advance(0.25)
    assert [s.tick for s in delivered] == [1]
    await clock.advance(1)
    assert [s.tick for s in delivered] == [1, 2, 3]
    driver.stop()
    await clock.settle()
    assert task.done() and len(delivered) == 3


async def test_the_real_wait_tells_a_wake_from_a_timeout():
    event = asyncio.Event()
    assert await wait_or_timeout(event, 0) is False
    event.set()
    assert await wait_or_timeout(event, 60) is True


def test_speed_moves_through_the_steps_and_stops_at_the_ends():
    driver = Driver(Simulation("default", 1))
    for _ in range(10):
        driver.faster()
    assert driver.speed == SPEEDS[-1]
    for _ in range(10):
        driver.slower()
    assert driver.speed == SPEEDS[0]


async def test_a_slow_step_does_not_push_the_next_tick_back():
    clock = ManualClock()
    sim = Simulation("default", 1)

    class SlowStep:
        """The simulation, with each step taking 0.3 s of the clock's time."""

        snapshot = sim.snapshot

        def step(self):
            clock.now += 0.3
            return sim.step()

    driver = Driver(SlowStep(), tick_seconds=1.0, wait=clock.wait, now=clock.time)
    delivered = []
    task = clock.start(driver, delivered.append)
    await clock.advance(1.3)  # tick 1 is due at 1.0 and its step ends at 1.3
    await clock.advance(0.7)  # tick 2 is due at 2.0, not at 2.3
    assert [s.tick for s in delivered] == [1, 2]
    driver.stop()
    await clock.settle()
    assert task.done()


def test_pace_says_the_achieved_rate_only_when_it_falls_short():
    now = [0.0]
    pace = Pace(lambda: now[0])
    assert pace.shortfall(16) is None  # too few ticks to tell
    for _ in range(PACE_SAMPLES):
        pace.tick()
        now[0] += 1 / 13
    assert pace.shortfall(16) == pytest.approx(13)
    assert pace.shortfall(14) is None  # 13 is within 10% of 14
    pace.reset()
    assert pace.shortfall(16) is None
