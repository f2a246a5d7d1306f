"""Killing a job or process in the simulated kernel (the monitor's k), and the sources that
refuse it: memory freed by the kernel's own rules, events logged, accounting intact."""

from __future__ import annotations

import pytest
from test_invariants import (
    check_against_oracle,
    check_kmem,
    check_pss_adds_up,
    check_records,
    plain,
)

from zmtop.engine.formats.capture import capture_json
from zmtop.engine.sim.kernel import Vmo
from zmtop.engine.sim.simulation import KILL_RETCODE, Simulation
from zmtop.engine.snapshot.records import KILL, PROCESS_EXIT
from zmtop.engine.sources.detect import load_source
from zmtop.engine.sources.source import KillRefused


def survivors(sim: Simulation, dying: set[int]) -> set[int]:
    """The VMOs something outside the `dying` processes keeps alive: a handle or mapping
    of another process or of the kernel, and the clone ancestors of those."""
    alive: set[int] = set()
    for vmo in sim.kernel.vmos.values():
        owners = {h.owner.koid if h.owner else 0 for h in vmo.handles}
        owners |= {m.vmar.process.koid for m in vmo.mappings}
        if owners - dying:
            node: Vmo | None = vmo
            while node is not None:
                alive.add(node.koid)
                node = node.parent
    return alive


def held_by(sim: Simulation, koids: set[int]) -> set[int]:
    """The VMOs the processes `koids` hold or map, and their clone ancestors."""
    out: set[int] = set()
    for koid in koids:
        process = sim.kernel.processes[koid]
        vmos = [h.obj for h in process.handles if isinstance(h.obj, Vmo)]
        stack = [process.root_vmar]
        while stack:
            for child in stack.pop().children:
                if hasattr(child, "children"):
                    stack.append(child)
                else:
                    vmos.append(child.vmo)
        for node in vmos:
            while node is not None:
                out.add(node.koid)
                node = node.parent
    return out


def check_tick(sim: Simulation, previous) -> object:
    snapshot = plain(sim.step())
    check_kmem(snapshot)
    check_records(snapshot, sim.kernel, previous)
    check_pss_adds_up(snapshot)
    return snapshot


def kill_and_check(sim: Simulation, koid: int, processes: set[int]) -> object:
    """Kill `koid` (ending `processes`) at the next tick; check what went and what stayed."""
    before = plain(sim.snapshot)
    freed = held_by(sim, processes) - survivors(sim, processes)
    assert freed, "the test needs a victim with memory of its own"
    sim.request_kill(koid)
    after = check_tick(sim, before)
    check_against_oracle(after, sim.kernel)
    assert not processes & after.processes.keys()
    assert not freed & after.vmos.keys()
    assert processes <= after.changes.removed_processes
    assert freed <= after.changes.removed_vmos
    exits = {e.koid: e.text for e in after.events if e.kind == PROCESS_EXIT}
    assert exits.keys() >= processes
    assert all(exits[p].endswith(f"killed (retcode {KILL_RETCODE})") for p in processes)
    assert [e.koid for e in after.events if e.kind == KILL] == [koid]
    for _ in range(5):  # the scenario goes on without it
        after = check_tick(sim, after)
    return after


@pytest.mark.parametrize("scenario", ["default", "cow-storm", "oom"])
def test_killing_a_process_frees_its_memory_and_logs_its_exit(scenario):
    sim = Simulation(scenario, 1)
    for _ in range(3):
        sim.step()
    victim = max((p for p in sim.kernel.processes.values() if p.koid not in sim.scenario.critical),
                 key=lambda p: len(held_by(sim, {p.koid}) - survivors(sim, {p.koid})))
    kill_and_check(sim, victim.koid, {victim.koid})
    if scenario == "cow-storm":  # its cloner, whose clones share the image's pages
        cloner = sim.scenario.cloner.process
        if cloner.alive:
            kill_and_check(sim, cloner.koid, {cloner.koid})


def test_killing_a_job_kills_its_child_jobs_and_processes():
    sim = Simulation("default", 1)
    kernel = sim.kernel
    job = next(j for j in kernel.jobs.values() if j.name == "zircon-drivers")
    parent = job.parent
    processes = {p.koid for p in job.processes} | {
        p.koid for child in job.jobs for p in child.processes}
    assert len(processes) > 1
    after = kill_and_check(sim, job.koid, processes)
    assert job.koid not in after.jobs and job.koid not in after.jobs[parent.koid].jobs


def test_the_root_job_critical_processes_and_their_jobs_are_refused():
    sim = Simulation("default", 1)
    kernel = sim.kernel
    blobfs = sim.scenario.blobfs.process
    for koid in (kernel.root_job.koid, sim.scenario.component_manager.koid, blobfs.koid,
                 blobfs.job.koid):
        with pytest.raises(KillRefused, match="^kill: "):
            sim.request_kill(koid)
    with pytest.raises(KillRefused, match="no job or process has koid 1"):
        sim.request_kill(1)
    before = sim.snapshot
    after = sim.step()
    assert after.processes.keys() >= before.processes.keys() - {
        e.koid for e in after.events if e.kind == PROCESS_EXIT}
    assert not [e for e in after.events if e.kind == KILL]


def test_killing_appmgrs_realm_stops_its_components_starting():
    sim = Simulation("boot", 1)
    realm = sim.scenario.sys_job
    sim.request_kill(realm.parent.koid)  # app: sysmgr's job and the sys realm
    previous = plain(sim.step())
    for _ in range(40):  # boot starts the rest of its components, v1 ones included
        previous = check_tick(sim, previous)
    assert realm.koid not in sim.kernel.jobs


def test_imports_and_polls_refuse_a_kill(tmp_path):
    path = tmp_path / "capture.json"
    path.write_text(capture_json(Simulation("default", 1).snapshot))
    source = load_source(path)
    koid = next(iter(source.snapshot.processes))
    assert source.kill_refusal(koid) == "kill: not possible on this capture (only the simulation kills)"
    with pytest.raises(KillRefused, match=r"^kill: not possible on this capture \("):
        source.request_kill(koid)


def test_a_paused_driver_takes_the_kills_step_at_once_a_running_one_at_its_next():
    from zmtop.engine.sources.driver import Driver

    sim = Simulation("default", 1)
    victim = next(p for p in sim.kernel.processes.values() if p.name == "netstack.cm")
    driver = Driver(sim)
    assert driver.kill_refusal(victim.koid) is None
    assert driver.request_kill(victim.koid) is None and sim.tick == 0  # running: queued
    driver.pause()
    snap = driver.step_once()
    assert victim.koid not in snap.processes
    other = next(p for p in sim.kernel.processes.values() if p.name == "cobalt.cm")
    snap = driver.request_kill(other.koid)
    assert snap is not None and snap.tick == 2 and other.koid not in snap.processes
