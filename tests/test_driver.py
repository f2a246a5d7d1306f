"""The asyncio driver: it steps on its clock, and pause, step and speed do what they say."""

import asyncio

from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.sources.driver import SPEEDS, Driver


async def test_steps_on_the_clock_and_lists_what_changed():
    sim = Simulation("default", 1)
    driver = Driver(sim, tick_seconds=0.01)
    seen = []

    def deliver(snap):
        seen.append(snap)
        if len(seen) == 3:
            driver.stop()

    await asyncio.wait_for(driver.run(deliver), 5)
    assert [s.tick for s in seen] == [1, 2, 3]
    before, after = seen[1], seen[2]
    for koid, record in after.vmos.items():
        if koid not in after.changes.vmos and koid in before.vmos:
            assert record == before.vmos[koid]
    assert after.changes.vmos, "the default scenario keeps moving"


async def test_pause_holds_the_clock_and_single_step_still_works():
    sim = Simulation("default", 1)
    driver = Driver(sim, tick_seconds=0.01)
    driver.pause()
    delivered = []
    task = asyncio.create_task(driver.run(delivered.append))
    await asyncio.sleep(0.08)
    assert delivered == []
    assert driver.step_once().tick == 1
    driver.resume()
    await asyncio.sleep(0.08)
    driver.stop()
    await asyncio.wait_for(task, 5)
    assert delivered and delivered[0].tick == 2


def test_speed_moves_through_the_steps_and_stops_at_the_ends():
    driver = Driver(Simulation("default", 1))
    for _ in range(10):
        driver.faster()
    assert driver.speed == SPEEDS[-1]
    for _ in range(10):
        driver.slower()
    assert driver.speed == SPEEDS[0]
