"""Kernel memory pressure levels (reference 4.1), and the "oom" scenario from end to end."""

import itertools

import pytest

from zmtop.engine.sim.pressure import LEVELS, MB, PressureWatch, Watermarks, raw_level
from zmtop.engine.sim.simulation import Simulation

SECOND = 1_000_000_000
OOM, IMMINENT, CRITICAL, WARNING, NORMAL = range(5)


def test_defaults_are_the_kernels():
    marks = Watermarks()
    assert marks.bounds == (50 * MB, 60 * MB, 150 * MB, 300 * MB)
    assert (marks.debounce, marks.hysteresis_ns) == (MB, 10 * SECOND)
    assert LEVELS == ("OOM", "Imminent-OOM", "Critical", "Warning", "Normal")


@pytest.mark.parametrize(("free", "level"), [
    (0, OOM), (50 * MB - 1, OOM), (50 * MB, IMMINENT), (60 * MB - 1, IMMINENT),
    (60 * MB, CRITICAL), (150 * MB - 1, CRITICAL), (150 * MB, WARNING),
    (300 * MB - 1, WARNING), (300 * MB, NORMAL), (1 << 40, NORMAL),
])
def test_watermarks(free, level):
    assert raw_level(free, Watermarks()) == level


def watch_at(level_free: int) -> PressureWatch:
    """A watch that has settled at the level of `level_free` (reached going down)."""
    watch = PressureWatch()
    watch.update(level_free, 0)
    return watch


def test_normal_holds_down_to_299_mb():
    """Normal's bounds are [299M, 16.0E]: debounce applies going down too."""
    watch = PressureWatch()
    assert not watch.update(300 * MB - 1, 0)
    assert not watch.update(299 * MB, 0)
    assert watch.name == "Normal"
    assert watch.update(299 * MB - 1, 0)
    assert watch.name == "Warning"


def test_more_pressure_is_immediate_and_lands_on_the_level_of_free_memory():
    watch = PressureWatch()
    assert watch.update(55 * MB, 0) and watch.name == "Imminent-OOM"
    assert not watch.update(49 * MB, SECOND)  # within debounce of the 50 MB boundary
    assert watch.update(49 * MB - 1, 2 * SECOND) and watch.name == "OOM"


def test_less_pressure_needs_debounce_then_hysteresis():
    watch = watch_at(140 * MB)
    assert watch.name == "Critical"
    for second in range(30):  # 150.5 MB: within debounce of the boundary, never enough
        assert not watch.update(150 * MB + MB // 2, second * SECOND)
    start = 100 * SECOND
    for second in range(10):
        assert not watch.update(151 * MB, start + second * SECOND), second
    assert watch.update(151 * MB, start + 10 * SECOND)
    assert watch.name == "Warning"


def test_hysteresis_restarts_when_free_memory_dips_back():
    watch = watch_at(140 * MB)
    for second in range(9):
        watch.update(200 * MB, second * SECOND)
    watch.update(140 * MB, 9 * SECOND)  # back inside Critical: the wait starts over
    for second in range(10, 20):
        assert not watch.update(200 * MB, second * SECOND)
    assert watch.update(200 * MB, 20 * SECOND) and watch.name == "Warning"


def test_recovery_lands_on_the_level_free_memory_is_in():
    watch = watch_at(40 * MB)
    assert watch.name == "OOM"
    watch.update(300 * MB + MB // 2, 0)
    assert watch.update(300 * MB + MB // 2, 10 * SECOND)
    assert watch.name == "Normal"


def test_more_pressure_interrupts_a_pending_recovery():
    watch = watch_at(100 * MB)
    watch.update(400 * MB, 0)
    assert watch.update(55 * MB, 5 * SECOND) and watch.name == "Imminent-OOM"
    assert not watch.update(400 * MB, 6 * SECOND)
    assert not watch.update(400 * MB, 15 * SECOND)
    assert watch.update(400 * MB, 16 * SECOND) and watch.name == "Normal"


# -- the "oom" scenario ---------------------------------------------------------------


def run_oom(ticks: int):
    sim = Simulation("oom", seed=1)
    return [sim.snapshot] + [sim.step() for _ in range(ticks)]


@pytest.fixture(scope="module")
def oom_run():
    return run_oom(80)


def first_cycle(snapshots):
    """Levels in order of appearance up to the first OOM kill, and the kill's tick."""
    levels = []
    for snapshot in snapshots:
        if not levels or levels[-1] != snapshot.pressure:
            levels.append(snapshot.pressure)
        if any(e.kind == "oom-kill" for e in snapshot.events):
            return levels, snapshot.tick
    raise AssertionError(f"no OOM kill; levels {levels}")


def test_oom_scenario_kills_the_kill_on_oom_job_and_recovers(oom_run):
    levels, kill_tick = first_cycle(oom_run)
    assert levels[0] == "Normal" and levels[-1] == "OOM"
    assert [lv for lv in levels if lv in ("Warning", "Critical")] == ["Warning", "Critical"]
    before, at_kill = oom_run[kill_tick - 1], oom_run[kill_tick]
    (kill,) = [e for e in at_kill.events if e.kind == "oom-kill"]
    assert before.jobs[kill.koid].kill_on_oom
    assert kill.koid not in at_kill.jobs
    assert at_kill.kmem.free_bytes > before.kmem.free_bytes + 300 * MB  # its memory returned
    # Every level change is announced by a pressure event in the same snapshot.
    for previous, snapshot in itertools.pairwise(oom_run):
        announced = any(e.kind == "pressure" for e in snapshot.events)
        assert announced == (snapshot.pressure != previous.pressure), snapshot.tick
    # Hysteresis holds the level for 10 s after the kill, then it recovers to Normal.
    after = [s.pressure for s in oom_run[kill_tick:kill_tick + 12]]
    assert after[:10] == ["OOM"] * 10 and after[-1] == "Normal"


def test_oom_scenario_passes_through_every_level(oom_run):
    levels, _ = first_cycle(oom_run)
    assert levels == ["Normal", "Warning", "Critical", "Imminent-OOM", "OOM"]


def test_oom_kill_stops_once_memory_is_back():
    sim = Simulation("oom", seed=1)
    kernel = sim.kernel
    bystander = kernel.create_job(kernel.root_job, "bystander", kill_on_oom=True)
    kernel.create_process(bystander, "bystander", 0x1000_0000)
    kills = []
    for _ in range(60):  # one hog cycle: the hog's job is killed at the first OOM (tick ~46)
        snapshot = sim.step()
        kills += [(snapshot.tick, e.koid) for e in snapshot.events if e.kind == "oom-kill"]
    assert len(kills) == 1, kills
    assert bystander.koid in kernel.jobs
