"""The simulated Zircon kernel: kernel objects and page-granular physical memory.

This is the only mutable part of the engine. Scenarios drive it through the methods here;
`engine.accounting.accountant` reads it to build immutable snapshots. Each VMO keeps the pages it
holds itself as a bitmap (`own`); a copy-on-write clone reaches its parent's pages until it
writes them. Over-commit: creating or mapping commits nothing, writing commits pages.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import TypeVar

from zmtop.engine.sim.page_tables import LEAF_SHIFT, PageTables
from zmtop.engine.snapshot.records import (
    DEFAULT_RIGHTS,
    PAGE_SIZE,
    PERM_EXECUTE,
    PERM_READ,
    PERM_WRITE,
    VMO_IS_COW_CLONE,
    VMO_PAGER_BACKED,
    VMO_RESIZABLE,
    VMO_TYPE_PAGED,
)

MAX_NAME_LEN = 31  # ZX_MAX_NAME_LEN - 1
USER_ASPACE_BASE = 0x0100_0000
USER_ASPACE_SIZE = 0x0000_7FFF_FFFF_F000 - USER_ASPACE_BASE
VMO_DEFAULT_RIGHTS = DEFAULT_RIGHTS["vmo"]
# Kernel heap cost of objects.
HANDLE_HEAP_BYTES = 64
OBJECT_HEAP_BYTES = 256


class OutOfMemory(Exception):
    """A commit asked for more pages than are free."""


def _range_mask(first: int, count: int) -> int:
    return ((1 << count) - 1) << first


_T = TypeVar("_T")


# Memory: bench "ui default: RSS" (ui_bench): most VMOs have no clones and, once mapped, no
# handles; an empty tuple stands for an empty list where a list object would cost 56 bytes.
def _added(items: list[_T] | tuple[()], item: _T) -> list[_T]:
    """`items` with `item` appended: the list itself, or a new one for the empty tuple."""
    if not items:
        return [item]
    assert isinstance(items, list)
    items.append(item)
    return items


def _removed(items: list[_T] | tuple[()], item: _T) -> list[_T] | tuple[()]:
    """`items` without `item`: the list itself, or the empty tuple once it is empty."""
    assert isinstance(items, list)
    items.remove(item)
    return items or ()


def clean_name(name: str) -> str:
    """Truncate a name as the kernel does (31 bytes of UTF-8)."""
    if len(name) <= MAX_NAME_LEN and name.isascii():
        return name
    raw = name.encode("utf-8", "replace")[:MAX_NAME_LEN]
    return raw.decode("utf-8", "ignore")


class KernelObject:
    __slots__ = ("koid",)

    def __init__(self, koid: int) -> None:
        self.koid = koid


class Dispatcher(KernelObject):
    """A kernel object the simulation only counts: channels, events, ports, sockets..."""

    __slots__ = ("type",)

    def __init__(self, koid: int, type_name: str) -> None:
        super().__init__(koid)
        self.type = type_name


class Job(KernelObject):
    __slots__ = ("parent", "name", "kill_on_oom", "jobs", "processes")

    def __init__(self, koid: int, parent: Job | None, name: str, kill_on_oom: bool) -> None:
        super().__init__(koid)
        self.parent = parent
        self.name = clean_name(name)
        self.kill_on_oom = kill_on_oom
        self.jobs: list[Job] = []
        self.processes: list[Process] = []


class Thread(KernelObject):
    __slots__ = ("process", "name", "state")

    def __init__(self, koid: int, process: Process, name: str) -> None:
        super().__init__(koid)
        self.process = process
        self.name = clean_name(name)
        self.state = "blocked"


class Vmo(KernelObject):
    __slots__ = (
        "row", "name", "size_pages", "parent", "parent_offset", "children", "own", "paged",
        "mappings", "handles", "alive", "flags", "plain",
    )

    def __init__(self, koid: int, row: int, name: str, size_pages: int, *, paged: bool = True,
                 resizable: bool = False, pager_backed: bool = False) -> None:
        super().__init__(koid)
        self.row = row  # see Kernel.vmo_koids
        self.name = clean_name(name)
        self.size_pages = size_pages
        self.parent: Vmo | None = None
        self.parent_offset = 0  # in pages
        # Lists of clones, mappings and handles; the empty tuple while empty (see `_added`).
        self.children: list[Vmo] | tuple[()] = ()
        self.own = 0  # bitmap of pages this VMO holds itself
        self.paged = paged
        self.mappings: list[Mapping] | tuple[()] = ()
        self.handles: list[Handle] | tuple[()] = ()
        self.alive = True
        self.flags = ((VMO_TYPE_PAGED if paged else 0) | (VMO_RESIZABLE if resizable else 0)
                      | (VMO_PAGER_BACKED if pager_backed else 0))  # zx_info_vmo_t.flags
        self.plain = paged  # see `relinked`

    # Memory: bench "ui default: RSS" (ui_bench): whether the VMO is pager-backed (read
    # rarely) or resizable (never) is read from its flags, where a slot each cost 16 bytes a
    # VMO, as much as its row.
    @property
    def pager_backed(self) -> bool:
        return bool(self.flags & VMO_PAGER_BACKED)

    # Speed: `plain` lets page batches skip the clone and mapping walks; bench: "scale: one tick
    # (scenario + accounting)" (engine_bench).
    def relinked(self) -> None:
        """Note a change of mappings or clones: `plain` says, without reading the lists,
        whether the VMO is paged, unmapped and outside any clone family (page batches
        take a short path for it)."""
        self.plain = (self.paged and self.parent is None and not self.children
                      and not self.mappings)

    # Memory: bench "ui default: RSS" (ui_bench): the holders are read from the handles and
    # mappings, where counts kept by process cost some 220 bytes a VMO.
    def holders(self) -> set[int]:
        """The koids of the processes holding a handle to this VMO or mapping it."""
        koids = {mapping.vmar.process.koid for mapping in self.mappings}
        koids.update(handle.owner.koid for handle in self.handles if handle.owner is not None)
        return koids

    def visible(self) -> int:
        """Bitmap of the pages this VMO can reach: its own, and its ancestors' under them."""
        pages = 0
        for _, window, _ in self.reachable():
            pages |= window
        return pages

    def reachable(self) -> list[tuple[Vmo, int, int]]:
        """For this VMO and each ancestor, the pages of it this VMO reaches (own coordinates)
        and the offset, in pages, of this VMO's page 0 within it.

        A page is reached from the nearest VMO up the chain that holds it; a clone sees its
        ancestors only through the ranges of the clones in between.
        """
        out = [(self, self.own, 0)]
        covered = self.own
        window = _range_mask(0, self.size_pages)
        offset, child, node = 0, self, self.parent
        while node is not None:
            offset += child.parent_offset
            seen = (node.own >> offset) & window & ~covered
            if seen:
                out.append((node, seen, offset))
                covered |= seen
            window &= _range_mask(0, node.size_pages) >> offset
            child, node = node, node.parent
        return out

    @property
    def committed_pages(self) -> int:
        return self.own.bit_count()


class Handle:
    __slots__ = ("owner", "obj", "rights", "value")

    def __init__(self, owner: Process | None, obj: KernelObject, rights: int,
                 value: int) -> None:
        self.owner = owner  # None: held by the kernel or a channel in flight
        self.obj = obj
        self.rights = rights
        self.value = value

    @property
    def type(self) -> str:
        """The object's type, by memgraph's names."""
        obj = self.obj
        if isinstance(obj, Dispatcher):
            return obj.type
        return _TYPE_NAMES[type(obj).__name__]


class Vmar(KernelObject):
    __slots__ = ("process", "parent", "base", "size", "name", "children", "next_free")

    def __init__(self, koid: int, process: Process, parent: Vmar | None, base: int,
                 size: int, name: str) -> None:
        super().__init__(koid)
        self.process = process
        self.parent = parent
        self.base = base
        self.size = size
        self.name = name
        self.children: list[Vmar | Mapping] = []
        self.next_free = base

    @property
    def end(self) -> int:
        return self.base + self.size


class Mapping:
    __slots__ = ("vmar", "base", "size", "perms", "vmo", "offset_pages")

    def __init__(self, vmar: Vmar, base: int, size: int, perms: int, vmo: Vmo,
                 offset_pages: int) -> None:
        self.vmar = vmar
        self.base = base
        self.size = size
        self.perms = perms
        self.vmo = vmo
        self.offset_pages = offset_pages

    @property
    def pages(self) -> int:
        return self.size // PAGE_SIZE

    def committed_pages(self) -> int:
        """Pages the mapped VMO itself holds in this mapping's range (the legacy rule)."""
        return (self.vmo.own & _range_mask(self.offset_pages, self.pages)).bit_count()


class Process(KernelObject):
    __slots__ = ("job", "name", "threads", "root_vmar", "handles", "tables", "alive")

    def __init__(self, koid: int, job: Job, name: str) -> None:
        super().__init__(koid)
        self.job = job
        self.name = clean_name(name)
        self.threads: list[Thread] = []
        self.root_vmar: Vmar = None  # type: ignore[assignment]  # set by Kernel
        self.handles: list[Handle] = []  # newest first: the order the kernel lists them in
        self.tables = PageTables()  # for the committed pages under its mappings
        self.alive = True


_TYPE_NAMES = {"Vmo": "vmo", "Process": "process", "Thread": "thread", "Job": "job",
               "Vmar": "vmar"}


class Kernel:
    """Kernel objects, physical memory and the kernel's own counters.

    `dirty_vmos` and `dirty_processes` collect the koids whose records must be rebuilt
    (a clone family member whose pages changed among them); `page_moves` sums, by VMO row,
    the pages committed (or, negative, decommitted) in VMOs outside any clone family;
    `remapped` lists, by process koid, the mappings whose committed pages changed (a
    process's mappings stay as they were otherwise). The accountant empties them each tick.
    """

    def __init__(self, total_bytes: int, wired_bytes: int, other_bytes: int,
                 first_koid: int = 1024) -> None:
        self.total_pages = total_bytes // PAGE_SIZE
        self.wired_bytes = wired_bytes
        self.other_bytes = other_bytes
        self.next_koid = first_koid
        self._handle_seq = 0
        self.vmo_pages = 0
        self.ipc_bytes = 0
        self.heap_bytes = 0  # allocated kernel heap
        self.mmu_pages = 0
        self.vmos: dict[int, Vmo] = {}
        # Each VMO's row, given as it is made: rows in koid order, dense, never given again.
        self.vmo_koids = array("q")  # by row
        self.jobs: dict[int, Job] = {}
        self.processes: dict[int, Process] = {}
        self.dirty_vmos: set[int] = set()
        self.page_moves: dict[int, int] = {}
        self.dirty_processes: set[int] = set()
        self.remapped: dict[int, list[Mapping]] = {}
        self.dirty_jobs: set[int] = set()
        self.root_job = self.create_job(None, "root", kill_on_oom=False)

    # -- counters ---------------------------------------------------------------------

    @property
    def heap_total_bytes(self) -> int:
        """The kernel heap grows in 1 MiB arenas; what is not allocated in them is kfree."""
        arena = 1 << 20
        return -(-(self.heap_bytes + arena // 4) // arena) * arena

    @property
    def free_bytes(self) -> int:
        return ((self.total_pages - self.vmo_pages - self.mmu_pages) * PAGE_SIZE
                - self.heap_total_bytes - self.wired_bytes - self.ipc_bytes - self.other_bytes)

    def _take_pages(self, count: int) -> None:
        if count > self._room():
            raise OutOfMemory(f"cannot commit {count} pages")
        self.vmo_pages += count

    def _koid(self) -> int:
        koid = self.next_koid
        self.next_koid += 1
        return koid

    def _vmo_ids(self) -> tuple[int, int]:
        """A new VMO's koid and row."""
        koid = self._koid()
        self.vmo_koids.append(koid)
        return koid, len(self.vmo_koids) - 1

    def _heap(self, delta: int) -> None:
        self.heap_bytes += delta

    # -- tasks ------------------------------------------------------------------------

    def create_job(self, parent: Job | None, name: str, kill_on_oom: bool = False) -> Job:
        job = Job(self._koid(), parent, name, kill_on_oom)
        self.jobs[job.koid] = job
        self.dirty_jobs.add(job.koid)
        if parent is not None:
            parent.jobs.append(job)
            self.dirty_jobs.add(parent.koid)
        self._heap(OBJECT_HEAP_BYTES)
        return job

    def create_process(self, job: Job, name: str, aslr_base: int) -> Process:
        process = Process(self._koid(), job, name)
        process.root_vmar = Vmar(self._koid(), process, None, USER_ASPACE_BASE,
                                 USER_ASPACE_SIZE, "root")
        process.root_vmar.next_free = aslr_base
        self.add_handle(process, process, DEFAULT_RIGHTS["process"])
        self.add_handle(process, process.root_vmar, DEFAULT_RIGHTS["vmar"])
        job.processes.append(process)
        self.processes[process.koid] = process
        self.dirty_jobs.add(job.koid)
        self.dirty_processes.add(process.koid)
        self.mmu_pages += 1  # the top-level page table
        self._heap(3 * OBJECT_HEAP_BYTES)
        return process

    def create_thread(self, process: Process, name: str) -> Thread:
        thread = Thread(self._koid(), process, name)
        process.threads.append(thread)
        self.add_handle(process, thread, DEFAULT_RIGHTS["thread"])
        self.dirty_processes.add(process.koid)
        self._heap(OBJECT_HEAP_BYTES)
        return thread

    def exit_thread(self, thread: Thread) -> None:
        for handle in [h for h in thread.process.handles if h.obj is thread]:
            self.close_handle(handle)
        thread.process.threads.remove(thread)
        self.dirty_processes.add(thread.process.koid)
        self._heap(-OBJECT_HEAP_BYTES)

    def kill_process(self, process: Process) -> None:
        """Tear a process down: its handles close, its mappings go, its memory returns."""
        if not process.alive:
            return
        process.alive = False
        for handle in list(process.handles):
            self.close_handle(handle)
        self._destroy_vmar(process.root_vmar)
        self.mmu_pages -= 1 + process.tables.pages  # none left below the PML4 by now
        self._heap(-(3 + len(process.threads)) * OBJECT_HEAP_BYTES)
        process.job.processes.remove(process)
        self.dirty_jobs.add(process.job.koid)
        del self.processes[process.koid]
        self.dirty_processes.add(process.koid)

    def kill_job(self, job: Job) -> None:
        for child in list(job.jobs):
            self.kill_job(child)
        for process in list(job.processes):
            self.kill_process(process)
        if job.parent is not None:
            job.parent.jobs.remove(job)
            self.dirty_jobs.add(job.parent.koid)
            del self.jobs[job.koid]
            self.dirty_jobs.add(job.koid)
            self._heap(-OBJECT_HEAP_BYTES)

    # -- handles ----------------------------------------------------------------------

    def add_handle(self, owner: Process | None, obj: KernelObject, rights: int) -> Handle:
        if owner is not None and not owner.alive:
            raise ValueError(f"process {owner.koid} is dead")
        self._handle_seq += 1
        # Handle values look like Zircon's: scrambled, with the two fixed low bits set.
        value = (((self._handle_seq * 0x9E3779B1) & 0x3FFF_FFFF) << 2) | 0x3
        handle = Handle(owner, obj, rights, value)
        if owner is not None:
            owner.handles.insert(0, handle)  # newest first, as HandleTable::AddHandleLocked
            self.dirty_processes.add(owner.koid)
        if isinstance(obj, Vmo):
            obj.handles = _added(obj.handles, handle)
            self.dirty_vmos.add(obj.koid)
        self._heap(HANDLE_HEAP_BYTES)
        return handle

    def close_handle(self, handle: Handle) -> None:
        if handle.owner is not None:
            handle.owner.handles.remove(handle)
            self.dirty_processes.add(handle.owner.koid)
        self._heap(-HANDLE_HEAP_BYTES)
        if isinstance(handle.obj, Dispatcher):
            self._heap(-OBJECT_HEAP_BYTES)  # one handle per simulated object
        elif isinstance(handle.obj, Vmo):
            vmo = handle.obj
            vmo.handles = _removed(vmo.handles, handle)
            self.dirty_vmos.add(vmo.koid)
            self._release_if_unused(vmo)

    def create_object(self, owner: Process, type_name: str) -> Handle:
        """A handle to a new non-memory kernel object (channel, event, port, ...)."""
        obj = Dispatcher(self._koid(), type_name)
        self._heap(OBJECT_HEAP_BYTES)
        return self.add_handle(owner, obj, DEFAULT_RIGHTS.get(type_name, DEFAULT_RIGHTS["event"]))

    # -- VMOs -------------------------------------------------------------------------

    def create_vmo(self, owner: Process | None, name: str, size_bytes: int, *,
                   rights: int = VMO_DEFAULT_RIGHTS, paged: bool = True,
                   resizable: bool = False, pager_backed: bool = False) -> Vmo:
        """Create a VMO and a handle to it held by `owner` (None: the kernel holds it)."""
        vmo = Vmo(*self._vmo_ids(), name, -(-size_bytes // PAGE_SIZE), paged=paged,
                  resizable=resizable, pager_backed=pager_backed)
        self.vmos[vmo.koid] = vmo
        self._heap(OBJECT_HEAP_BYTES)
        self.add_handle(owner, vmo, rights)
        return vmo

    def clone_vmo(self, owner: Process | None, parent: Vmo, name: str, offset_bytes: int,
                  size_bytes: int, rights: int = VMO_DEFAULT_RIGHTS) -> Vmo:
        """A copy-on-write clone: it reaches the parent's pages until it writes its own."""
        clone = Vmo(*self._vmo_ids(), name, -(-size_bytes // PAGE_SIZE),
                    resizable=False, pager_backed=False)
        clone.parent = parent
        clone.flags |= VMO_IS_COW_CLONE
        clone.parent_offset = offset_bytes // PAGE_SIZE
        parent.children = _added(parent.children, clone)
        clone.relinked()
        parent.relinked()
        self.vmos[clone.koid] = clone
        self.dirty_vmos.add(parent.koid)
        self._heap(OBJECT_HEAP_BYTES)
        self.add_handle(owner, clone, rights)
        return clone

    def write(self, vmo: Vmo, first_page: int, count: int) -> int:
        """Write pages: each one the VMO does not hold yet is committed. Returns new pages.

        A clone that writes a page it reached through its parent gets its own copy. A VMO
        with live clones is read-only here (as blobs and ELF images are on Fuchsia).
        """
        if vmo.children:
            raise ValueError(f"VMO {vmo.koid} has clones and is read-only")
        if not vmo.paged:
            return 0
        first_page = max(0, first_page)
        count = min(count, vmo.size_pages - first_page)
        if count <= 0:
            return 0
        new = _range_mask(first_page, count) & ~vmo.own
        pages = new.bit_count()
        if not pages:
            return 0
        self._take_pages(pages)
        vmo.own |= new
        if vmo.mappings:
            self._mapped_pages_changed(vmo, new, +1)
        self._pages_moved(vmo, pages)
        return pages

    def decommit(self, vmo: Vmo, first_page: int, count: int) -> int:
        """Return pages to free memory (as ZX_VMO_OP_DECOMMIT). Returns pages freed."""
        if vmo.children:
            raise ValueError(f"VMO {vmo.koid} has clones and is read-only")
        gone = _range_mask(max(0, first_page), max(0, count)) & vmo.own
        pages = gone.bit_count()
        if pages:
            vmo.own &= ~gone
            self.vmo_pages -= pages
            if vmo.mappings:
                self._mapped_pages_changed(vmo, gone, -1)
            self._pages_moved(vmo, -pages)
        return pages

    # Speed: plain pages are counted in a local and added to vmo_pages once (before a page
    # that takes the full path), and each VMO's bitmap is read once; bench: "scale: all-in
    # engine tick" (engine_bench).
    def write_pages(self, vmos: Sequence[Vmo], pages: Sequence[int]) -> int:
        """Write page `pages[i]` of VMO `vmos[i]`, as `write(vmo, page, 1)` would one by one,
        except that a page that does not fit in free memory is skipped. Returns the pages
        committed. Plain VMOs (unmapped, outside any clone family) take a short path."""
        moves = self.page_moves
        get = moves.get
        # pages committed by the full path, and by the short path not yet in vmo_pages
        done = fresh = 0
        room = self._room()
        for vmo, page in zip(vmos, pages):
            if not vmo.plain:
                self.vmo_pages += fresh
                done, fresh = done + fresh, 0
                try:
                    done += self.write(vmo, page, 1)
                except OutOfMemory:
                    pass
                room = self._room()
                continue
            own, bit = vmo.own, 1 << page
            if fresh >= room or own & bit or not 0 <= page < vmo.size_pages:
                continue
            vmo.own = own | bit
            fresh += 1
            row = vmo.row
            moves[row] = get(row, 0) + 1
        self.vmo_pages += fresh
        return done + fresh

    def decommit_pages(self, vmos: Sequence[Vmo], pages: Sequence[int]) -> int:
        """Decommit page `pages[i]` of VMO `vmos[i]`, as `decommit(vmo, page, 1)` would one
        by one. Returns the pages freed. Plain VMOs take a short path."""
        moves = self.page_moves
        get = moves.get
        done = freed = 0  # pages freed by the full path, and by the short path
        for vmo, page in zip(vmos, pages):
            if not vmo.plain or page < 0:
                done += self.decommit(vmo, page, 1)
                continue
            own, bit = vmo.own, 1 << page
            if own & bit:
                vmo.own = own ^ bit
                freed += 1
                row = vmo.row
                moves[row] = get(row, 0) - 1
        self.vmo_pages -= freed
        return done + freed

    def _room(self) -> int:
        """Pages that can still be committed (`_take_pages` keeps four in reserve)."""
        return (self.free_bytes - 4 * PAGE_SIZE) // PAGE_SIZE

    def _pages_moved(self, vmo: Vmo, pages: int) -> None:
        if vmo.parent is None:  # and, being written, without clones
            self.page_moves[vmo.row] = self.page_moves.get(vmo.row, 0) + pages
        else:
            self.dirty_vmos.add(vmo.koid)

    def _mapped_pages_changed(self, vmo: Vmo, pages: int, sign: int) -> None:
        """`pages` (a bitmap) of `vmo` were committed (sign 1) or decommitted (-1): each
        mapping of them maps or unmaps those pages, in its process's page tables."""
        for mapping in vmo.mappings:
            if pages & _range_mask(mapping.offset_pages, mapping.pages):
                self._map_pages(mapping, pages, sign)
                self.remapped.setdefault(mapping.vmar.process.koid, []).append(mapping)

    def _map_pages(self, mapping: Mapping, pages: int, sign: int) -> None:
        """Add (sign 1) or remove (-1) `mapping`'s pages among `pages` (a bitmap of its VMO)
        to its process's page tables, 2 MiB window by window."""
        first = mapping.offset_pages
        pages &= _range_mask(first, mapping.pages)
        if not pages:
            return
        process = mapping.vmar.process
        tables = process.tables
        origin = mapping.base - first * PAGE_SIZE  # where the VMO's page 0 would be
        low, high = (pages & -pages).bit_length() - 1, pages.bit_length() - 1
        start, end = origin + low * PAGE_SIZE >> LEAF_SHIFT, origin + high * PAGE_SIZE >> LEAF_SHIFT
        if start == end:
            self.mmu_pages += tables.map_pages(start, sign * pages.bit_count())
        else:
            per_window = (1 << LEAF_SHIFT) // PAGE_SIZE
            for window in range(start, end + 1):
                page = ((window << LEAF_SHIFT) - origin) // PAGE_SIZE  # the window's first
                hit = (pages & _range_mask(max(page, 0), page + per_window - max(page, 0)))
                if hit:
                    self.mmu_pages += tables.map_pages(window, sign * hit.bit_count())

    def _release_if_unused(self, vmo: Vmo | None) -> None:
        """Free a VMO nobody reaches: no handle, no mapping, no clone. Parents may follow."""
        while vmo is not None and vmo.alive and not (vmo.handles or vmo.mappings or vmo.children):
            vmo.alive = False
            self.vmo_pages -= vmo.committed_pages
            vmo.own = 0
            del self.vmos[vmo.koid]
            self.dirty_vmos.add(vmo.koid)
            self._heap(-OBJECT_HEAP_BYTES)
            parent = vmo.parent
            if parent is not None:
                parent.children = _removed(parent.children, vmo)
                parent.relinked()
                self.dirty_vmos.add(parent.koid)
            vmo = parent

    # -- address spaces ---------------------------------------------------------------

    def allocate_vmar(self, parent: Vmar, size: int, name: str = "useralloc",
                      gap: int = 0) -> Vmar:
        base = self._place(parent, size, gap)
        vmar = Vmar(self._koid(), parent.process, parent, base, size, name)
        vmar.next_free = base
        parent.children.append(vmar)
        self.dirty_processes.add(parent.process.koid)
        self._heap(OBJECT_HEAP_BYTES)
        return vmar

    def map(self, vmar: Vmar, vmo: Vmo, offset_bytes: int, size_bytes: int, perms: int,
            gap: int = 0) -> Mapping:
        """Map part of a VMO. Nothing is committed; pages it already holds count as mapped."""
        size = -(-size_bytes // PAGE_SIZE) * PAGE_SIZE
        base = self._place(vmar, size, gap)
        mapping = Mapping(vmar, base, size, perms, vmo, offset_bytes // PAGE_SIZE)
        vmar.children.append(mapping)
        vmo.mappings = _added(vmo.mappings, mapping)
        vmo.relinked()
        process = vmar.process
        self._map_pages(mapping, vmo.own, +1)
        self.dirty_vmos.add(vmo.koid)
        self.dirty_processes.add(process.koid)
        return mapping

    def unmap(self, mapping: Mapping) -> None:
        vmar, vmo, process = mapping.vmar, mapping.vmo, mapping.vmar.process
        vmar.children.remove(mapping)
        vmo.mappings = _removed(vmo.mappings, mapping)
        vmo.relinked()
        self._map_pages(mapping, vmo.own, -1)
        self.dirty_vmos.add(vmo.koid)
        self.dirty_processes.add(process.koid)
        self._release_if_unused(vmo)

    def destroy_vmar(self, vmar: Vmar) -> None:
        """Unmap everything in a VMAR and remove it from its parent."""
        self._destroy_vmar(vmar)
        if vmar.parent is not None:
            vmar.parent.children.remove(vmar)
            self._heap(-OBJECT_HEAP_BYTES)
            self.dirty_processes.add(vmar.process.koid)

    def _destroy_vmar(self, vmar: Vmar) -> None:
        for child in list(vmar.children):
            if isinstance(child, Vmar):
                self._destroy_vmar(child)
                self._heap(-OBJECT_HEAP_BYTES)
            else:
                self.unmap(child)
        vmar.children.clear()

    @staticmethod
    def _place(vmar: Vmar, size: int, gap: int) -> int:
        """Where a child of `size` goes: past the last placement plus a random-looking gap
        (ASLR), else the first hole big enough."""
        base = vmar.next_free + gap
        if base + size > vmar.end:
            base = vmar.base
            for child in sorted(vmar.children, key=lambda c: c.base):
                if child.base - base >= size:
                    break
                base = max(base, child.base + child.size)
            if base + size > vmar.end:
                raise ValueError(f"VMAR {vmar.koid} is full")
        vmar.next_free = base + size
        return base

    # -- ipc --------------------------------------------------------------------------

    def queue_message(self, nbytes: int) -> None:
        """Queue (positive) or read (negative) channel message bytes."""
        if nbytes > 0 and nbytes > self.free_bytes - 4 * PAGE_SIZE:
            raise OutOfMemory("channel message")
        self.ipc_bytes = max(0, self.ipc_bytes + nbytes)


PERMS_RX = PERM_READ | PERM_EXECUTE
PERMS_R = PERM_READ
PERMS_RW = PERM_READ | PERM_WRITE
