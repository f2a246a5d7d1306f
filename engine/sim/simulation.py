"""A simulated Zircon system stepped tick by tick: kernel, scenario, pressure, accounting."""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from zmtop.engine.accounting.accountant import Accountant
from zmtop.engine.sim.kernel import Job, Kernel, OutOfMemory, Process
from zmtop.engine.sim.pressure import PressureWatch
from zmtop.engine.sim.programs import Image, Loader, Program
from zmtop.engine.sim.scenarios import SCENARIOS
from zmtop.engine.snapshot.records import (
    OOM_KILL,
    PAGE_SIZE,
    PRESSURE,
    PROCESS_EXIT,
    PROCESS_START,
    Event,
    Snapshot,
)
from zmtop.engine.sources.source import SourceDefaults, SourceInfo

OOM_KILL_RETCODE = -1025


class UnknownScenario(ValueError):
    pass


class Simulation(SourceDefaults):
    """Deterministic for a scenario and seed: the same ticks give the same snapshots."""

    def __init__(self, scenario: str = "default", seed: int = 1,
                 tick_seconds: float = 1.0) -> None:
        if scenario not in SCENARIOS:
            raise UnknownScenario(
                f"unknown scenario '{scenario}' (choose from {', '.join(SCENARIOS)})")
        self.scenario_name = scenario
        self.seed = seed
        self.tick_seconds = tick_seconds
        self.tick_ns = int(tick_seconds * 1e9)
        self.rng = random.Random(f"{scenario}:{seed}")
        self.scenario = SCENARIOS[scenario](self)
        self.kernel = Kernel(self.scenario.total_bytes, self.scenario.wired_bytes,
                             self.scenario.other_bytes)
        self.kernel.heap_bytes = self.scenario.heap_base_bytes
        self.pressure = PressureWatch()
        self.accountant = Accountant(self.kernel, f"sim:{scenario}:{seed}")
        self.programs: dict[int, Program] = {}
        self.tick = 0
        self.time_ns = 0
        self._events: list[Event] = []
        vdso = self.kernel.create_vmo(None, "vdso/stable", 7 * PAGE_SIZE)
        self.kernel.write(vdso, 0, vdso.size_pages)
        self.loader = Loader(self.kernel, self.rng, vdso)
        # Speed: bench "default: boot to first snapshot" (engine_bench), a fifth faster.
        with _collector_paused():  # boot makes long-lived objects: no garbage to find
            self.scenario.boot()
            self.snapshot = self._take_snapshot()

    @property
    def info(self) -> SourceInfo:
        return SourceInfo.simulation(self.scenario_name, self.seed, self.tick_seconds)

    # -- used by scenarios ------------------------------------------------------------

    def spawn(self, job: Job, name: str, images: list[Image],
              **kwargs: Any) -> Program | None:
        """Start a program; None if memory ran out while it loaded (it is torn down)."""
        before = set(self.kernel.processes)
        try:
            program = self.loader.spawn(job, name, images, **kwargs)
        except OutOfMemory:
            for koid in set(self.kernel.processes) - before:
                self.kernel.kill_process(self.kernel.processes[koid])
            return None
        self.programs[program.koid] = program
        self._events.append(Event(PROCESS_START, program.koid, f"{name} started"))
        return program

    def exit(self, program: Program, reason: str = "exited") -> None:
        process = program.process
        self.kernel.kill_process(process)
        self.programs.pop(process.koid, None)
        self._events.append(Event(PROCESS_EXIT, process.koid, f"{process.name} {reason}"))

    def kill_job(self, job: Job, reason: str) -> None:
        for process in _processes_under(job):
            self.programs.pop(process.koid, None)
            self._events.append(Event(PROCESS_EXIT, process.koid, f"{process.name} {reason}"))
        self.kernel.kill_job(job)

    # -- stepping ---------------------------------------------------------------------

    def step(self) -> Snapshot:
        self.tick += 1
        self.time_ns += self.tick_ns
        self.scenario.step()
        self.snapshot = self._take_snapshot()
        return self.snapshot

    def _take_snapshot(self) -> Snapshot:
        self._watch_pressure()
        events = tuple(self._events)
        self._events.clear()
        return self.accountant.snapshot(self.tick, self.time_ns, self.pressure.name, events)

    def _watch_pressure(self) -> None:
        if self.pressure.update(self.kernel.free_bytes, self.time_ns):
            self._events.append(Event(PRESSURE, 0, f"memory pressure {self.pressure.name}"))
        # The level may hold at OOM for the hysteresis time after a kill; only free memory
        # still below the OOM watermark calls for another victim.
        if self.pressure.name == "OOM" and self.kernel.free_bytes < self.pressure.marks.oom:
            victim = self._oom_victim()
            if victim is not None:
                self.kill_job(victim, f"killed by OOM (retcode {OOM_KILL_RETCODE})")
                named = f" ({victim.name})" if victim.name else ""
                self._events.append(Event(OOM_KILL, victim.koid,
                                          f"OOM: killed job {victim.koid}{named}"))
                if self.pressure.update(self.kernel.free_bytes, self.time_ns):
                    self._events.append(
                        Event(PRESSURE, 0, f"memory pressure {self.pressure.name}"))

    def _oom_victim(self) -> Job | None:
        """The youngest job marked kill-on-OOM."""
        candidates = [j for j in self.kernel.jobs.values() if j.kill_on_oom]
        return max(candidates, key=lambda j: j.koid, default=None)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a while, back as it was after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _processes_under(job: Job) -> list[Process]:
    out = list(job.processes)
    for child in job.jobs:
        out.extend(_processes_under(child))
    return out
