"""Trends: a robust slope, leak suspects held to the scenarios, and time to pressure."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from zmtop.engine.analysis.trend import (
    MIN_SAMPLES,
    History,
    Trend,
    duration,
    eta_text,
    robust_slope,
    suspects,
    time_to_levels,
    trend,
)
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import FRACTION_BITS

MB = 1 << 20


def run(scenario: str, ticks: int) -> tuple[Simulation, History, list]:
    sim = Simulation(scenario, 1)
    history, snaps = History(), [sim.snapshot]
    history.add(sim.snapshot)
    for _ in range(ticks):
        snaps.append(sim.step())
        history.add(snaps[-1])
    return sim, history, snaps


def test_one_spike_does_not_move_the_slope():
    times = [float(t) for t in range(60)]
    values = [1000.0 * t for t in range(60)]
    values[30] += 10**9
    assert robust_slope(times, values) == pytest.approx(1000.0)
    found = trend(times, values)
    assert found is not None and found.per_minute == pytest.approx(60_000.0)
    assert found.grew == pytest.approx(58 / 59)  # the step down from the spike


def test_a_flat_series_has_no_direction_and_too_few_samples_no_trend():
    flat = trend([float(t) for t in range(20)], [5.0] * 20)
    assert flat == Trend(0.0, 0.0, 0.0, 20)
    assert trend([0.0, 1.0], [0.0, 1.0]) is None
    assert trend([float(t) for t in range(MIN_SAMPLES)], [0.0] * MIN_SAMPLES) is not None


def test_a_seek_starts_the_history_over():
    sim, history, snaps = run("default", 10)
    assert len(history) == 11
    history.add(snaps[3])
    assert list(history.ticks) == [3] and [k.tick for k in history.kept] == [3]
    history.add(snaps[4])
    history.add(snaps[4])  # the same tick again replaces it
    assert list(history.ticks) == [3, 4] and [k.tick for k in history.kept] == [3, 4]
    assert history.last is snaps[4]


@pytest.mark.parametrize("copied", [False, True])
def test_a_series_is_each_tick_s_figure_over_the_ticks_the_process_lived(copied):
    """Processes come and go (churn): a series starts at the tick a process first shows and
    an exited one has none, whether the ticks' columns are the simulation's own or copies
    (a table that is a plain dict)."""
    sim = Simulation("churn", 1)
    history, snaps = History(), []
    for _ in range(25):
        snap = sim.step()
        if copied:
            snap = replace(snap, processes=dict(snap.processes.items()))
        snaps.append(snap)
        history.add(snap)
    last = snaps[-1]
    born = [koid for koid in last.processes if koid not in snaps[0].processes]
    gone = [koid for koid in snaps[0].processes if koid not in last.processes]
    assert born and gone
    for koid in [*list(last.processes)[:5], *born]:
        lived = [snap for snap in snaps if koid in snap.processes]
        times, pss = history.series(koid)
        assert pss == [snap.processes[koid].pss_bytes for snap in lived]
        assert times == [snap.time_ns / 1e9 for snap in lived]
        assert history.series(koid, "apss")[1] == [
            snap.processes[koid].pss_fixed >> FRACTION_BITS for snap in lived]
    assert all(history.series(koid) == ([], []) for koid in gone)


def test_the_leak_scenario_names_its_leaker_first_within_30_ticks():
    sim, history, _ = run("leak", 30)
    found = suspects(history)
    assert found and found[0].koid == sim.scenario._leaker_koid
    names = [v.name for v in found[0].vmos]
    assert "cobalt-event-buffer" in names and "scudo:primary" in names


def test_the_default_scenario_finds_its_one_slow_leak():
    sim, history, _ = run("default", 60)
    assert [s.name for s in suspects(history)] == ["cobalt.cm"]


@pytest.mark.parametrize("scenario", ["churn", "cow-storm"])
def test_churn_and_clones_make_no_false_suspect(scenario):
    """Components coming and going, clones made and dropped: nothing grows steadily but the
    device's one slow leak, which every device scenario keeps."""
    _, history, _ = run(scenario, 60)
    assert {s.name for s in suspects(history)} <= {"cobalt.cm"}


def test_the_oom_runaway_is_first_well_before_the_kill_and_the_eta_holds():
    sim, history, snaps = run("oom", 60)
    kill = next(s.tick for s in snaps if any(e.kind == "oom-kill" for e in s.events))
    early = History()
    for snap in snaps[:kill - 25]:
        early.add(snap)
    assert suspects(early)[0].name == "memory_hog.cm"
    for tick in range(20, kill - 2):  # once the trend is steady, until the end
        window = History()
        for snap in snaps[max(0, tick - 59):tick + 1]:
            window.add(snap)
        etas = dict(time_to_levels(snaps[tick].kmem.free_bytes, window.free_trend()))
        real = (kill - tick) * sim.tick_seconds
        assert etas["OOM"] == pytest.approx(real, rel=0.25), tick


def test_no_eta_while_free_memory_is_flat_or_rising():
    rising = Trend(per_minute=MB, fit=1.0, grew=1.0, samples=60)
    assert time_to_levels(400 * MB, rising) == [] and time_to_levels(400 * MB, None) == []
    falling = Trend(per_minute=-60 * MB, fit=1.0, grew=0.0, samples=60)  # a MiB a second
    etas = time_to_levels(400 * MB, falling)
    assert [name for name, _ in etas] == ["Warning", "OOM"]
    assert eta_text(etas) == "Warning in ~2m  OOM in ~6m"
    assert [duration(s) for s in (5, 90, 7200, 200_000)] == ["~5s", "~2m", "~2h", "~2d"]


def test_an_oom_kill_starts_the_free_memory_trend_over():
    """Free memory fell for 45 ticks; the kill frees it: no ETA from the fall before."""
    _, history, snaps = run("oom", 50)
    kill = next(s.tick for s in snaps if any(e.kind == "oom-kill" for e in s.events))
    assert kill == 46
    assert 50 - kill + 1 < MIN_SAMPLES and history.free_trend() is None  # 5 ticks since
    assert time_to_levels(snaps[-1].kmem.free_bytes, history.free_trend()) == []
