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
    KILL,
    OOM_KILL,
    PAGE_SIZE,
    PRESSURE,
    PROCESS_EXIT,
    PROCESS_START,
    Event,
    Snapshot,
)
from zmtop.engine.sources.source import KillRefused, SourceDefaults, SourceInfo

OOM_KILL_RETCODE = -1025  # ZX_TASK_RETCODE_OOM_KILL
KILL_RETCODE = -1024  # ZX_TASK_RETCODE_SYSCALL_KILL: zx_task_kill's


class UnknownScenario(ValueError):
    pass


class Simulation(SourceDefaults):
    """Deterministic for a scenario and seed: the same ticks give the same snapshots (and
    the same kills asked before the same ticks)."""

    def __init__(self, scenario: str = "default", seed: int = 1,
                 tick_seconds: float = 1.0, twin: Snapshot | None = None) -> None:
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
        self.accountant.twin = twin  # see Accountant.twin; boot() drops it
        self.programs: dict[int, Program] = {}
        self.tick = 0
        self.time_ns = 0
        self._events: list[Event] = []
        self._kills: list[int] = []  # koids to kill at the next step
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
        self._end(program.process, reason)

    def _end(self, process: Process, reason: str) -> None:
        self.kernel.kill_process(process)
        self.programs.pop(process.koid, None)
        self._events.append(Event(PROCESS_EXIT, process.koid, f"{process.name} {reason}"))

    def kill_job(self, job: Job, reason: str) -> None:
        for process in _processes_under(job):
            self.programs.pop(process.koid, None)
            self._events.append(Event(PROCESS_EXIT, process.koid, f"{process.name} {reason}"))
        self.kernel.kill_job(job)

    # -- kills asked from outside ------------------------------------------------------

    def kill_refusal(self, koid: int) -> str | None:
        """Why `koid` cannot be killed: no task has it, it is the root job, or killing it
        would end a process the system cannot run without (the root job then reboots)."""
        kernel = self.kernel
        task = kernel.processes.get(koid) or kernel.jobs.get(koid)
        if task is None:
            return f"kill: no job or process has koid {koid} at tick {self.tick}"
        if task is kernel.root_job:
            return "kill: not the root job (that would halt the system)"
        critical = _critical_under(task, self.scenario.critical)
        if critical:
            return (f"kill: {critical[0].name} ({critical[0].koid}) is critical to the root "
                    "job: killing it would reboot the system")
        return None

    def request_kill(self, koid: int) -> None:
        """Kill job or process `koid` at the start of the next step, as zx_task_kill does:
        a job with every job and process under it."""
        refusal = self.kill_refusal(koid)
        if refusal is not None:
            raise KillRefused(refusal)
        self._kills.append(koid)

    def _apply_kills(self) -> None:
        """The kills asked since the last step: each logs a kill event, then every
        process it ends exits with zx_task_kill's return code."""
        kills, self._kills = self._kills, []
        kernel, reason = self.kernel, f"killed (retcode {KILL_RETCODE})"
        for koid in kills:
            process, job = kernel.processes.get(koid), kernel.jobs.get(koid)
            if process is not None:
                self._events.append(Event(KILL, koid, f"killed process {koid} ({process.name})"))
                self._end(process, reason)
            elif job is not None:
                count = len(_processes_under(job))
                named = f" ({job.name})" if job.name else ""
                self._events.append(Event(
                    KILL, koid, f"killed job {koid}{named} and its {count} processes"))
                self.kill_job(job, reason)
        if kills:
            self.scenario.forget_killed()

    # -- stepping ---------------------------------------------------------------------

    def step(self) -> Snapshot:
        self.tick += 1
        self.time_ns += self.tick_ns
        self._apply_kills()
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


def _critical_under(task: Job | Process, critical: set[int]) -> list[Process]:
    """The processes of `critical` (koids) that killing `task` would end."""
    ended = [task] if isinstance(task, Process) else _processes_under(task)
    return [process for process in ended if process.koid in critical]
