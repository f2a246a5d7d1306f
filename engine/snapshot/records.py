"""The immutable per-tick view of a Zircon system: the one type between sources and views.

Records mirror the kernel's `zx_info_*` structs. A snapshot shares every unchanged record
with the previous one (a record whose byte figures alone moved keeps its base, see
engine.snapshot.tables), and `changes` says which koids changed this tick and, for those that only
moved, by how much, so views and the recorder pay for changes rather than for the size of
the system.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from msgspec import Struct, structs

PAGE_SIZE = 4096
# A process's byte figures that move (Process.figures, a Changes.process_moves entry, the
# columns of the process table), by position: names for the positions cost nothing at run time.
PRIVATE, SHARED, SCALED_SHARED, USS, RSS, PSS_FIXED = range(6)
PROCESS_FIGURES = 6
ProcessMove = tuple[int, int, int, int, int, int]  # Process.figures, or how far they moved
# A VMO table's columns: its committed bytes, and the row of the one process holding it.
COMMITTED, HOLDER = 0, 1

# Fixed point of the attributed (RFC-0254) scaled figures: FRACTION_ONE is one whole byte.
# The kernel carries 63 fraction bits; 24 are plenty here and keep every figure in 64 bits.
FRACTION_BITS = 24
FRACTION_ONE = 1 << FRACTION_BITS

# zx_info_vmo_t.flags
VMO_TYPE_PAGED = 1 << 0
VMO_RESIZABLE = 1 << 1
VMO_IS_COW_CLONE = 1 << 2
VMO_VIA_HANDLE = 1 << 3
VMO_VIA_MAPPING = 1 << 4
VMO_PAGER_BACKED = 1 << 5

# Mapping permissions (ZX_VM_PERM_*).
PERM_READ = 1 << 0
PERM_WRITE = 1 << 1
PERM_EXECUTE = 1 << 2

# Handle rights (ZX_RIGHT_*): bit i is the i-th name of RIGHT_KEYS, as `k zx ht` lists them.
RIGHT_KEYS = ("dup", "tr", "r", "w", "x", "map", "gpr", "spr", "enm", "des", "spo", "gpo",
              "sig", "sigp", "wt", "ins", "mj", "mp", "mt", "ap")
RIGHT_DUPLICATE = 1 << 0
RIGHT_TRANSFER = 1 << 1
RIGHT_READ = 1 << 2
RIGHT_WRITE = 1 << 3
RIGHT_EXECUTE = 1 << 4
RIGHT_MAP = 1 << 5
RIGHT_GET_PROPERTY = 1 << 6
RIGHT_SET_PROPERTY = 1 << 7
RIGHT_ENUMERATE = 1 << 8
RIGHT_DESTROY = 1 << 9
RIGHT_SIGNAL = 1 << 12
RIGHT_SIGNAL_PEER = 1 << 13
RIGHT_WAIT = 1 << 14
RIGHT_INSPECT = 1 << 15
RIGHT_MANAGE_JOB = 1 << 16
RIGHT_MANAGE_PROCESS = 1 << 17
RIGHT_MANAGE_THREAD = 1 << 18
# The rights a new object's first handle gets (ZX_DEFAULT_*_RIGHTS), by object type.
_BASIC = RIGHT_DUPLICATE | RIGHT_TRANSFER | RIGHT_WAIT | RIGHT_INSPECT
_IO = RIGHT_READ | RIGHT_WRITE
_PROPS = RIGHT_GET_PROPERTY | RIGHT_SET_PROPERTY
DEFAULT_RIGHTS = {
    "vmo": _BASIC | _IO | _PROPS | RIGHT_MAP | RIGHT_SIGNAL,
    "channel": _BASIC | _IO | _PROPS | RIGHT_SIGNAL | RIGHT_SIGNAL_PEER,
    "socket": _BASIC | _IO | _PROPS | RIGHT_SIGNAL | RIGHT_SIGNAL_PEER,
    "eventpair": _BASIC | _PROPS | RIGHT_SIGNAL | RIGHT_SIGNAL_PEER,
    "event": _BASIC | RIGHT_SIGNAL,
    "port": _BASIC | _IO,
    "timer": _BASIC | RIGHT_WRITE | RIGHT_SIGNAL,
    "fifo": _BASIC | _IO | RIGHT_SIGNAL | RIGHT_SIGNAL_PEER,
    "process": _BASIC | _IO | _PROPS | RIGHT_ENUMERATE | RIGHT_DESTROY | RIGHT_SIGNAL
    | RIGHT_MANAGE_PROCESS | RIGHT_MANAGE_THREAD,
    "thread": _BASIC | _IO | _PROPS | RIGHT_DESTROY | RIGHT_SIGNAL | RIGHT_MANAGE_THREAD,
    "job": _BASIC | _PROPS | RIGHT_ENUMERATE | RIGHT_DESTROY | RIGHT_SIGNAL
    | RIGHT_MANAGE_JOB | RIGHT_MANAGE_PROCESS | RIGHT_MANAGE_THREAD,
    "vmar": _BASIC | RIGHT_MAP | RIGHT_READ | RIGHT_WRITE | RIGHT_EXECUTE,
}
VMO_RIGHTS_LETTERS = (
    (RIGHT_READ, "r"),
    (RIGHT_WRITE, "w"),
    (RIGHT_EXECUTE, "x"),
    (RIGHT_MAP, "m"),
    (RIGHT_DUPLICATE, "d"),
    (RIGHT_TRANSFER, "t"),
)


# Records are gc=False (they hold no cycles): the collector never walks them; bench: "ui scale:
# releasing the previous snapshot" (ui_bench).
class Kmem(Struct, frozen=True, array_like=True, gc=False):
    """Kernel memory counters, as zx_info_kmem_stats_v1_t (what `kstats -m` reads)."""

    total_bytes: int
    free_bytes: int
    wired_bytes: int
    total_heap_bytes: int
    free_heap_bytes: int
    vmo_bytes: int
    mmu_overhead_bytes: int
    ipc_bytes: int
    other_bytes: int
    # zx_info_kmem_stats_extended_t's pager-backed bytes (in the pager queues): trailing, with
    # defaults, so that recordings made before them still read.
    vmo_pager_total_bytes: int = 0
    vmo_pager_newest_bytes: int = 0
    vmo_pager_oldest_bytes: int = 0


# zx_info_kmem_stats_v1_t: Kmem's fields before the pager ones (kstats, its JSON, diffs).
KMEM_V1_FIELDS = Kmem.__struct_fields__[:9]


def pager_fields(kmem: Kmem) -> dict[str, int]:
    """The pager figures by a capture's Kernel keys; empty when nothing is pager-backed."""
    if not kmem.vmo_pager_total_bytes:
        return {}
    return {"vmo_pager_total": kmem.vmo_pager_total_bytes,
            "vmo_pager_newest": kmem.vmo_pager_newest_bytes,
            "vmo_pager_oldest": kmem.vmo_pager_oldest_bytes}


def kstats_fields(kmem: Kmem) -> list[tuple[str, int]]:
    """`kstats -m`'s columns, in its order: the header bar's fields and the report's."""
    return [
        ("total", kmem.total_bytes),
        ("free", kmem.free_bytes),
        ("VMOs", kmem.vmo_bytes),
        ("kheap", kmem.total_heap_bytes - kmem.free_heap_bytes),
        ("kfree", kmem.free_heap_bytes),
        ("wired", kmem.wired_bytes),
        ("mmu", kmem.mmu_overhead_bytes),
        ("ipc", kmem.ipc_bytes),
        ("other", kmem.other_bytes),
    ]


class Job(Struct, frozen=True, array_like=True, gc=False):
    koid: int
    parent_koid: int  # 0 for the root job
    name: str
    kill_on_oom: bool
    jobs: tuple[int, ...]  # child job koids, oldest first
    processes: tuple[int, ...]  # process koids, oldest first


# A thread's states as ps prints them, each as memgraph spells it; ps prints "???" for any
# other (a state read from a file is not checked against these).
THREAD_STATES = {"new": "NEW", "running": "RUNNING", "susp": "SUSPENDED", "blocked": "BLOCKED",
                 "dying": "DYING", "dead": "DEAD", "excp": "EXCEPTION"}


class Thread(Struct, frozen=True, array_like=True, gc=False):
    koid: int
    name: str
    state: str  # a key of THREAD_STATES, as a rule


# A map entry's type: address space, VMAR or mapping, and its name in `vmaps --json`.
MAP_TYPES = {"A": "aspace", "R": "vmar", "M": "mapping"}


class MapEntry(Struct, frozen=True, array_like=True, gc=False):
    """One zx_info_maps_t entry; the process's list is depth-first pre-order."""

    type: str  # one of MAP_TYPES
    depth: int
    base: int
    size: int
    name: str
    perms: int = 0  # PERM_* bits, mappings only
    vmo_koid: int = 0
    vmo_offset: int = 0
    committed_bytes: int = 0  # legacy: pages the mapped VMO itself holds in the range


class VmoRef(Struct, frozen=True, array_like=True, gc=False):
    """One ZX_INFO_PROCESS_VMOS entry: a VMO reached by a handle or by one mapping."""

    vmo_koid: int
    via_handle: bool
    rights: int = 0  # handle rights, via_handle only


class HandleInfo(Struct, frozen=True, array_like=True, gc=False):
    """One entry of a process's handle table."""

    value: int  # the handle value the process sees
    koid: int  # the object's koid
    type: str  # object type, as memgraph names it: vmo, channel, thread, ...
    rights: int


class Process(Struct, frozen=True, array_like=True, gc=False):
    koid: int
    job_koid: int
    name: str
    threads: tuple[Thread, ...]
    maps: tuple[MapEntry, ...]
    vmo_refs: tuple[VmoRef, ...]  # handles first (newest first), then one entry per mapping
    handle_count: int
    # Legacy zx_info_task_stats_t, as ps computes it.
    mapped_bytes: int
    private_bytes: int
    shared_bytes: int
    scaled_shared_bytes: int
    # Attributed (RFC-0254): USS, RSS, and PSS in FRACTION_ONE fixed point.
    uss_bytes: int
    rss_bytes: int
    pss_fixed: int
    handles: tuple[HandleInfo, ...] = ()  # newest first, as HandleTable lists them

    @property
    def pss_bytes(self) -> int:
        """Legacy PSS, as ps prints it: private plus scaled shared."""
        return self.private_bytes + self.scaled_shared_bytes

    @property
    def attributed_pss(self) -> float:
        return self.pss_fixed / FRACTION_ONE

    @property
    def figures(self) -> ProcessMove:
        """The byte totals that move: private, shared, scaled shared, USS, RSS and PSS."""
        return (self.private_bytes, self.shared_bytes, self.scaled_shared_bytes,
                self.uss_bytes, self.rss_bytes, self.pss_fixed)

    def moved(self, moves: ProcessMove) -> Process:
        """This record with its byte totals (`figures`) moved by a `Changes.process_moves`
        entry."""
        private, shared, scaled, uss, rss, pss = moves
        return structs.replace(
            self, private_bytes=self.private_bytes + private,
            shared_bytes=self.shared_bytes + shared,
            scaled_shared_bytes=self.scaled_shared_bytes + scaled,
            uss_bytes=self.uss_bytes + uss, rss_bytes=self.rss_bytes + rss,
            pss_fixed=self.pss_fixed + pss)


class Vmo(Struct, frozen=True, array_like=True, gc=False):
    """zx_info_vmo_t plus the attributed figures of RFC-0254."""

    koid: int
    name: str
    size_bytes: int
    parent_koid: int  # 0 if not a clone
    num_children: int
    num_mappings: int
    share_count: int  # 1 below 2 mappings (never 0), else distinct address spaces mapping it
    committed_bytes: int  # legacy: pages this VMO itself holds
    flags: int
    process_count: int  # distinct processes holding a handle to it or mapping it
    private_bytes: int  # attributed: pages only this VMO can reach
    scaled_fixed: int  # attributed: reachable pages, each divided among its sharers
    total_bytes: int  # attributed: every page it can reach (RSS)

    @property
    def is_paged(self) -> bool:
        return bool(self.flags & VMO_TYPE_PAGED)

    @property
    def is_clone(self) -> bool:
        return bool(self.flags & VMO_IS_COW_CLONE)

    def moved(self, nbytes: int) -> Vmo:
        """This record of a VMO outside any clone family after its pages moved by `nbytes`
        (a `Changes.vmo_moves` entry): it reaches its own pages only, so its total follows,
        and so do its private and scaled figures if a process holds it."""
        committed = self.committed_bytes + nbytes
        private, scaled, total = leaf_figures(committed, bool(self.process_count))
        return structs.replace(self, committed_bytes=committed, private_bytes=private,
                               scaled_fixed=scaled, total_bytes=total)


def leaf_figures(committed: int, held: bool) -> tuple[int, int, int]:
    """Attributed private, scaled (fixed point) and total bytes of a VMO outside any clone
    family: it reaches only its own pages, which are private and scaled whole if a process
    holds it, and nobody's share otherwise."""
    return (committed, committed * FRACTION_ONE, committed) if held else (0, 0, committed)


def vmo_joined(record: Vmo, figures: Sequence[Sequence[int]], row: int) -> Vmo:
    """A VMO's record as of its committed bytes, `figures[COMMITTED][row]`; only a VMO outside any
    clone family moves (see engine.snapshot.tables)."""
    moved = figures[COMMITTED][row] - record.committed_bytes
    return record.moved(moved) if moved else record


def process_joined(record: Process, figures: Sequence[Sequence[int]], row: int) -> Process:
    """A process's record as of its `figures`, `figures[i][row]` (see engine.snapshot.tables)."""
    private, shared, scaled, uss, rss, pss = figures
    now = (private[row], shared[row], scaled[row], uss[row], rss[row], pss[row])
    if now == record.figures:
        return record
    return structs.replace(
        record, private_bytes=now[PRIVATE], shared_bytes=now[SHARED],
        scaled_shared_bytes=now[SCALED_SHARED], uss_bytes=now[USS], rss_bytes=now[RSS],
        pss_fixed=now[PSS_FIXED])


class Changes(Struct, frozen=True, array_like=True, gc=False):
    """Koids whose records are new in this snapshot, and those that went away.

    Of the changed records, those that only moved say by how much (`Vmo.moved`,
    `Process.moved`), so that a reader can follow them without comparing records.
    """

    jobs: frozenset[int] = frozenset()
    processes: frozenset[int] = frozenset()
    vmos: frozenset[int] = frozenset()
    removed_jobs: frozenset[int] = frozenset()
    removed_processes: frozenset[int] = frozenset()
    removed_vmos: frozenset[int] = frozenset()
    vmo_moves: Mapping[int, int] = {}
    process_moves: Mapping[int, ProcessMove] = {}


# The kinds of Event. A tick whose poll failed repeats the last good tick's data, unchanged.
PRESSURE = "pressure"
OOM_KILL = "oom-kill"
PROCESS_START = "process-start"
PROCESS_EXIT = "process-exit"
POLL_FAILED = "poll-failed"
KILL = "kill"  # zx_task_kill asked of the simulation (the monitor's k)


class Event(Struct, frozen=True, array_like=True, gc=False):
    """Something worth a mark on a timeline: a pressure change, an OOM kill, a start or exit,
    a poll that failed (its tick repeats the last good data), a task killed on request."""

    kind: str  # "pressure", "oom-kill", "process-start", "process-exit", "poll-failed", "kill"
    koid: int
    text: str


class Snapshot(Struct, frozen=True, gc=False):
    tick: int
    time_ns: int
    source: str  # e.g. "sim:default:1"
    kmem: Kmem
    pressure: str  # one of engine.sim.pressure.LEVELS
    root_job: int
    jobs: Mapping[int, Job]
    processes: Mapping[int, Process]
    vmos: Mapping[int, Vmo]
    changes: Changes
    events: tuple[Event, ...] = ()

    def jobs_depth_first(self, job_koid: int) -> list[int]:
        """Koids of a job and every job below it, pre-order, oldest child first (reversed,
        every job comes after its children: the order for summing subtrees)."""
        out: list[int] = []
        stack = [job_koid]
        while stack:
            koid = stack.pop()
            out.append(koid)
            stack.extend(reversed(self.jobs[koid].jobs))
        return out

    def job_processes(self, job_koid: int) -> list[int]:
        """Koids of every process under a job, depth first."""
        return [p for job in self.jobs_depth_first(job_koid) for p in self.jobs[job].processes]
