"""What a snapshot read from a recording must hold before anything walks it: every koid a
record names is in its table, jobs hang from the root job, no VMO is its own ancestor, and
every map entry is an address space, a VMAR or a mapping at a depth vmaps can indent.

A crafted file with valid checksums can break any of these; the views would then raise
KeyError, recurse forever or loop. Checked once per frame loaded, in bulk (set operations
and C-level maps over the tables); a delta after a checked tick, for what it changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import chain, compress
from operator import attrgetter

from zmtop.engine.snapshot.chains import looped_koid
from zmtop.engine.snapshot.records import MAP_TYPES, Job, Process, Snapshot, Vmo

_PARENT = attrgetter("parent_koid")
_JOB = attrgetter("job_koid")
_JOBS = attrgetter("jobs")
_PROCESSES = attrgetter("processes")
_REFS = attrgetter("vmo_refs")
_MAPS = attrgetter("maps")
_VMO = attrgetter("vmo_koid")
_SHAPE = attrgetter("type", "depth")

# Mappings are recorded from the simulation alone (captures and memgraph files have none),
# whose VMARs nest 3 deep; vmaps indents every line by the deepest entry's depth.
MAX_MAP_DEPTH = 64


def check_snapshot(snap: Snapshot) -> None:
    """ValueError naming the first broken reference of `snap`, if any."""
    _check_jobs(snap.root_job, snap.jobs, snap.processes)
    _check_processes(snap.processes, snap.jobs, snap.vmos)
    _check_maps(snap.processes)
    _check_vmos(snap.vmos)


# Speed: a replay's step checks what its delta changed, where the whole snapshot took 75 of
# its 85 ms at scale (100,000 VMOs, 108,175 references); bench "scale: replay step onto a
# delta (applied and checked), median" (record_bench).
def check_step(snap: Snapshot, before: Snapshot) -> None:
    """check_snapshot for `snap`, one delta after the checked `before`: the processes and
    VMOs whose references the delta changed. A delta that removes records, changes a job
    or the root, adds a process or moves one to another job has the whole snapshot checked
    (what refers to a record, and the jobs' lists, are only known from all of it)."""
    changes = snap.changes
    if (changes.jobs or changes.removed_jobs or changes.removed_processes
            or changes.removed_vmos or snap.root_job != before.root_job):
        check_snapshot(snap)
        return
    procs, old_procs = snap.processes, before.processes
    rewired: dict[int, Process] = {}
    for koid in changes.processes:
        new, old = procs[koid], old_procs.get(koid)
        if old is None or new.job_koid != old.job_koid:
            check_snapshot(snap)
            return
        if new.vmo_refs is not old.vmo_refs or new.maps is not old.maps:  # not moved alone
            rewired[koid] = new
    _check_processes(rewired, snap.jobs, snap.vmos)
    _check_maps(rewired)
    vmos, old_vmos = snap.vmos, before.vmos
    _check_vmos(vmos, [koid for koid in changes.vmos
                       if (was := old_vmos.get(koid)) is None
                       or vmos[koid].parent_koid != was.parent_koid])


def _missing(named: set[int], table: Mapping[int, object]) -> int | None:
    """The smallest of `named` that `table` lacks, None if it has them all."""
    if table.keys() >= named:
        return None
    return min(named.difference(table.keys()))


def _check_jobs(root: int, jobs: Mapping[int, Job], processes: Mapping[int, Process]) -> None:
    if root not in jobs:
        raise ValueError(f"the root job {root} is not in the jobs table")
    parents = dict(zip(jobs.keys(), map(_PARENT, jobs.values())))
    if parents[root] != 0:
        raise ValueError(f"the root job {root} names a parent job")
    del parents[root]
    lost = _missing(set(parents.values()), jobs)
    if lost is not None:
        raise ValueError(f"a job names parent job {lost}, which is not in the jobs table")
    # Children as each job lists them must be the jobs naming it as parent, each once.
    listed = [(koid, child) for koid, job in jobs.items() for child in job.jobs]
    if len(listed) != len(parents) or set(listed) != {(p, c) for c, p in parents.items()}:
        raise ValueError("the jobs' child lists disagree with their parent jobs")
    members = [(koid, proc) for koid, job in jobs.items() for proc in job.processes]
    if len(members) != len(processes) or set(members) != set(
            zip(map(_JOB, processes.values()), processes.keys())):
        raise ValueError("the jobs' process lists disagree with the processes' jobs")
    # Every chain of parents ends at the root: follow them a generation at a time.
    reached = {root}
    frontier = {root}
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    while frontier:
        frontier = set(chain.from_iterable(children.get(k, ()) for k in frontier)) - reached
        reached |= frontier
    if len(reached) != len(jobs):
        lost = min(jobs.keys() - reached)
        raise ValueError(f"job {lost} is not under the root job (a loop of parent jobs)")


def _check_processes(processes: Mapping[int, Process], jobs: Mapping[int, Job],
                     vmos: Mapping[int, Vmo]) -> None:
    records = processes.values()
    lost = _missing(set(map(_JOB, records)), jobs)
    if lost is not None:
        raise ValueError(f"a process names job {lost}, which is not in the jobs table")
    lost = _missing(set(map(_VMO, chain.from_iterable(map(_REFS, records)))), vmos)
    if lost is not None:
        raise ValueError(f"a process holds VMO {lost}, which is not in the VMOs table")
    mapped = set(map(_VMO, chain.from_iterable(map(_MAPS, records))))
    mapped.discard(0)  # address spaces and VMARs map no VMO
    lost = _missing(mapped, vmos)
    if lost is not None:
        raise ValueError(f"a process maps VMO {lost}, which is not in the VMOs table")


def _check_maps(processes: Mapping[int, Process]) -> None:
    """Each entry's type and depth: the views pick styles by type and indent by depth."""
    entries = chain.from_iterable(map(_MAPS, processes.values()))
    for kind, depth in sorted(set(map(_SHAPE, entries))):  # a handful of distinct shapes
        if kind not in MAP_TYPES:
            raise ValueError("a map entry is none of an address space, a VMAR and a mapping")
        if not 0 <= depth <= MAX_MAP_DEPTH:
            raise ValueError(f"a map entry is at depth {depth} (0 to {MAX_MAP_DEPTH})")


def _check_vmos(vmos: Mapping[int, Vmo], starts: Iterable[int] | None = None) -> None:
    """The clone chains from `starts` (a delta's VMOs given a parent), or from every VMO:
    each parent in the table, and no loop."""
    if starts is None:  # every VMO, read in C loops
        parents = list(map(_PARENT, vmos.values()))
        parent_of = dict(zip(compress(vmos.keys(), parents), filter(None, parents)))
    else:  # their chains, each koid read once
        parent_of = {}
        for koid in starts:
            while koid not in parent_of:
                parent = _parent(vmos, koid)
                if not parent:
                    break
                parent_of[koid] = parent
                koid = parent
    if not parent_of:
        return
    lost = _missing(set(parent_of.values()), vmos)
    if lost is not None:
        raise ValueError(f"a VMO is a clone of VMO {lost}, which is not in the VMOs table")
    looped = looped_koid(parent_of, parent_of)
    if looped is not None:
        raise ValueError(f"VMO {looped} is its own ancestor")


def _parent(vmos: Mapping[int, Vmo], koid: int) -> int:
    """A VMO's parent, 0 for one that is no clone or is not in the table."""
    vmo = vmos.get(koid)
    return vmo.parent_koid if vmo is not None else 0
