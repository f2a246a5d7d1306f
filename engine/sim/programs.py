"""Programs as Fuchsia runs them: ELF images loaded from blobfs or bootfs, heaps, stacks.

A `Program` is a process plus the memory its runtime manages, built on `engine.sim.kernel`
the way Fuchsia's loader and libc do, with the shapes a 2021 device shows (reference §5, §7):
- each ELF image (the dynamic linker `ld.so.1`, which is libc, first) is a per-process
  copy-on-write clone of its blob or bootfs file, named like it, mapped for text; its
  `relro:` and `data:`/`data0:` children are written, and `bss:` is a fresh VMO;
- scudo keeps one 256 KiB `scudo:primary` region per size class in use, committed from the
  bottom as blocks are handed out and released back to the OS well before it fills, so
  most regions hold a page or two;
- Go programs have the Go runtime's `go-runtime-heap-vmo` arenas instead;
- every thread has its stack VMO in a VMAR of its own, a guard page below it, named as the
  runtime names it (`initial-thread`, `pthread_t:0x…`, or the async loop it runs).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate

from zmtop.engine.sim.kernel import (
    PERMS_R,
    PERMS_RW,
    PERMS_RX,
    USER_ASPACE_BASE,
    Job,
    Kernel,
    Mapping,
    OutOfMemory,
    Process,
    Thread,
    Vmar,
    Vmo,
)
from zmtop.engine.snapshot.records import (
    PAGE_SIZE,
    RIGHT_DUPLICATE,
    RIGHT_EXECUTE,
    RIGHT_MAP,
    RIGHT_READ,
)

KB = 1024
MB = 1024 * KB
SCUDO_REGION = 256 * KB
STACK_SIZE = 516 * KB  # the stack VMOs of a 2021 device: 512 KiB and a page
BIG_STACK_SIZE = 4 * MB + 4 * KB  # a C++ or Rust program's initial thread, and some others
LD_SO_BSS = 5444 * KB  # the dynamic linker's bss, mostly untouched
RIGHTS_RX = RIGHT_READ | RIGHT_EXECUTE | RIGHT_MAP | RIGHT_DUPLICATE
# The Go runtime's arenas on the device: (size, pages committed at start); the largest but one
# is the heap proper, where the program's allocations go.
GO_ARENAS = ((64 * KB, 2), (64 * KB, 3), (64 * KB, 3), (64 * KB, 3), (128 * KB, 1),
             (256 * KB, 6), (256 * KB, 10), (256 * KB, 22), (256 * KB, 39), (256 * KB, 50),
             (256 * KB, 62), (256 * KB, 62), (256 * KB, 63), (1 * MB, 1), (1 * MB, 1),
             (1408 * KB, 31), (2116 * KB, 73), (8 * MB, 1), (32 * MB, 1), (64 * MB, 1),
             (128 * MB, 1), (512 * MB, 1))
GO_HEAP_ARENA = 20  # index of the 128 MiB arena


# Memory: bench "ui default: RSS" (ui_bench): the default system has some 2,000 size classes
# and 2,200 heap regions; slots keep each of these records to its fields (no instance dict).
@dataclass(slots=True)
class Image:
    """An ELF image held by a filesystem: a blob VMO (or a file VMO of bootfs) and its layout."""

    vmo: Vmo
    offset: int  # bytes, within vmo
    text: int  # bytes of r-x
    rodata: int  # bytes of r-- (relro)
    data: int  # bytes of rw- file data
    bss: int  # bytes of zero-filled rw-
    label: str  # what clones carry: "blob-405d17d9", "uncompressed-bootfs" or "lib/libfdio.so"
    data_prefix: str = "data0"  # the dynamic linker's own say data:/bss:

    @property
    def file_size(self) -> int:
        return self.text + self.rodata + self.data

    @property
    def bss_prefix(self) -> str:
        return "bss" if self.data_prefix == "data" else "bss0"


@dataclass(slots=True)
class Heap:
    vmo: Vmo
    mapping: Mapping


@dataclass(eq=False, slots=True)  # told apart by identity: counted per class
class SizeClass:
    """A scudo size class: its regions, newest last, and how far one fills before the class
    opens another (scudo gives freed pages back, so a region is seldom full)."""

    regions: list[Heap]
    fill_pages: int


@dataclass(slots=True)
class Stack:
    thread: Thread
    vmar: Vmar
    vmo: Vmo


@dataclass(slots=True)
class Program:
    """A running process and the memory its runtime manages."""

    process: Process
    classes: list[SizeClass] = field(default_factory=list)
    class_weights: list[float] = field(default_factory=list)  # cumulative, for rng.choices
    go_arenas: list[Heap] = field(default_factory=list)
    secondaries: list[Heap] = field(default_factory=list)
    stacks: list[Stack] = field(default_factory=list)

    @property
    def koid(self) -> int:
        return self.process.koid


def round_pages(nbytes: int) -> int:
    return -(-nbytes // PAGE_SIZE) * PAGE_SIZE


def make_blob(kernel: Kernel, blobfs: Process, rng: random.Random, text: int, rodata: int,
              data: int, bss: int, data_prefix: str = "data0") -> Image:
    """A blob in blobfs, named by its (simulated) merkle root: pager-backed, holding the
    pages read so far (on the device, four fifths of a blob's bytes)."""
    label = f"blob-{rng.getrandbits(32):08x}"
    text, rodata, data = round_pages(text), round_pages(rodata), round_pages(data)
    vmo = kernel.create_vmo(blobfs, label, text + rodata + data, pager_backed=True)
    kernel.write(vmo, 0, max(1, vmo.size_pages * rng.randint(60, 100) // 100))
    return Image(vmo, 0, text, rodata, data, round_pages(bss), label, data_prefix)


def thread_name(rng: random.Random) -> str:
    """A pthread's name as libc sets it: the address of its pthread_t, which ends in b18."""
    return f"pthread_t:0x{rng.getrandbits(30) << 12 | 0xb18:x}"


class Loader:
    """Starts processes the way Fuchsia's process launcher and libc set them up."""

    def __init__(self, kernel: Kernel, rng: random.Random, vdso: Vmo) -> None:
        self.kernel = kernel
        self.rng = rng
        self.vdso = vdso

    def _gap(self) -> int:
        """The gap before a new VMAR or mapping: Zircon's compact ASLR puts it within 256
        pages of the last one, so a process's mappings share page tables."""
        return self.rng.randint(1, 256) * PAGE_SIZE

    def spawn(self, job: Job, name: str, images: list[Image], *, heap_kib: int = 64,
              size_classes: int = 12, go_heap_kib: int = 0, threads: int = 0,
              big_stack: bool = False, initial_thread: str = "initial-thread",
              channels: int = 8, loops: tuple[str, ...] = ()) -> Program:
        """Start a process: its images (the dynamic linker first), the vDSO, the initial
        thread, scudo's size classes holding `heap_kib`, for a Go program the Go runtime's
        arenas holding `go_heap_kib`, `threads` more threads, and a thread for each of
        `loops`, its stack named after the async loop it runs."""
        kernel, rng = self.kernel, self.rng
        aslr = USER_ASPACE_BASE + rng.getrandbits(33) * PAGE_SIZE  # in the lower half
        process = kernel.create_process(job, name, aslr)
        program = Program(process)
        bootstrap = kernel.create_vmo(process, "stack: msg of 0x1000", PAGE_SIZE)
        kernel.map(process.root_vmar, bootstrap, 0, PAGE_SIZE, PERMS_RW, self._gap())
        kernel.write(bootstrap, 0, 1)
        for image in images:
            self.load(process, image)
        self._map_vdso(process.root_vmar)
        loader_heap = kernel.create_vmo(process, "ld.so.1-internal-heap", PAGE_SIZE)
        kernel.map(process.root_vmar, loader_heap, 0, PAGE_SIZE, PERMS_RW, self._gap())
        kernel.write(loader_heap, 0, 1)
        self._drop_handle(process, loader_heap)
        self.add_thread(program, initial_thread, BIG_STACK_SIZE if big_stack else STACK_SIZE,
                        rng.randint(4, 24))
        self._start_scudo(program, size_classes, heap_kib)
        if go_heap_kib:
            self._start_go_runtime(program, go_heap_kib)
        for _ in range(threads):
            self.add_thread(program, pages=3)
        for loop in loops:
            self.add_thread(program, loop, pages=3)
        for _ in range(channels):
            kernel.create_object(process, "channel")
        for type_name in ("port", "event", "socket", "eventpair", "timer"):
            for _ in range(rng.choice((1, 1, 2, 4))):
                kernel.create_object(process, type_name)
        if rng.random() < 0.2:
            kernel.create_object(process, "fifo")
        return program

    def load(self, process: Process, image: Image) -> None:
        """Map an ELF image: text from a clone, relro and data from clones of that, bss fresh.
        The loader writes relro whole (relocation) and a page or two of data and bss."""
        kernel, rng = self.kernel, self.rng
        span = image.file_size + image.bss
        vmar = kernel.allocate_vmar(process.root_vmar, span, gap=self._gap())
        exec_vmo = kernel.clone_vmo(process, image.vmo, image.label, image.offset,
                                    image.file_size, rights=RIGHTS_RX)
        kernel.map(vmar, exec_vmo, 0, image.text, PERMS_RX)
        if image.rodata:
            relro = kernel.clone_vmo(process, exec_vmo, f"relro:{image.label}", image.text,
                                     image.rodata)
            kernel.map(vmar, relro, 0, image.rodata, PERMS_R)
            kernel.write(relro, 0, relro.size_pages)
            self._drop_handle(process, relro)
        if image.data:
            data = kernel.clone_vmo(process, exec_vmo, f"{image.data_prefix}:{image.label}",
                                    image.text + image.rodata, image.data)
            kernel.map(vmar, data, 0, image.data, PERMS_RW)
            kernel.write(data, 0, min(data.size_pages, rng.choice((1, 1, 1, 2, 3))))
            self._drop_handle(process, data)
        if image.bss:
            bss = kernel.create_vmo(process, f"{image.bss_prefix}:{image.label}", image.bss)
            kernel.map(vmar, bss, 0, image.bss, PERMS_RW)
            touched = 13 if image.bss == LD_SO_BSS else 1
            kernel.write(bss, 0, min(bss.size_pages, touched))
            self._drop_handle(process, bss)
        self._drop_handle(process, exec_vmo)

    def _map_vdso(self, root: Vmar) -> None:
        kernel = self.kernel
        size = self.vdso.size_pages * PAGE_SIZE
        vmar = kernel.allocate_vmar(root, size, gap=self._gap())
        rodata = size - 2 * PAGE_SIZE
        kernel.map(vmar, self.vdso, 0, rodata, PERMS_R)
        kernel.map(vmar, self.vdso, rodata, size - rodata, PERMS_RX)

    def _drop_handle(self, process: Process, vmo: Vmo) -> None:
        """Close the process's handle to a VMO it has mapped (the mapping keeps it alive)."""
        for handle in vmo.handles:
            if handle.owner is process:
                self.kernel.close_handle(handle)
                return

    # -- threads ------------------------------------------------------------------------

    def add_thread(self, program: Program, name: str | None = None,
                   stack_size: int = STACK_SIZE, pages: int = 3) -> None:
        """A thread and its stack: a VMO mapped in its own VMAR, one guard page below it.
        Threads wait on ports and channels nearly all the time: blocked."""
        kernel = self.kernel
        process = program.process
        name = name if name is not None else thread_name(self.rng)
        thread = kernel.create_thread(process, name)
        thread.state = "blocked"
        vmar = kernel.allocate_vmar(process.root_vmar, stack_size + PAGE_SIZE, gap=self._gap())
        vmar.next_free = vmar.base + PAGE_SIZE  # the guard page
        stack = kernel.create_vmo(process, name, stack_size)
        kernel.map(vmar, stack, 0, stack_size, PERMS_RW)
        kernel.write(stack, stack.size_pages - pages, pages)
        self._drop_handle(process, stack)
        program.stacks.append(Stack(thread, vmar, stack))

    def end_thread(self, program: Program) -> None:
        """The newest thread exits: its stack VMAR goes, and with it the stack VMO."""
        if len(program.stacks) > 1:
            stack = program.stacks.pop()
            self.kernel.exit_thread(stack.thread)
            self.kernel.destroy_vmar(stack.vmar)

    # -- heaps --------------------------------------------------------------------------

    def _start_scudo(self, program: Program, size_classes: int, heap_kib: int) -> None:
        """The size classes the program's first allocations use, a page or two each, then
        the rest of its heap. Small classes are the busy ones (weights k ** -1.5)."""
        weights = [k ** -1.5 for k in range(1, size_classes + 1)]
        program.class_weights = list(accumulate(weights))
        region_pages = SCUDO_REGION // PAGE_SIZE
        for _ in range(size_classes):
            size_class = SizeClass([], self.rng.randint(region_pages // 2, region_pages - 2))
            program.classes.append(size_class)
            self._new_region(program, size_class, self.rng.choice((1, 1, 2)))
        self.grow_heap(program, max(0, heap_kib * KB // PAGE_SIZE - size_classes * 4 // 3))

    def _new_region(self, program: Program, size_class: SizeClass, pages: int) -> Heap:
        heap = self._new_heap(program, "scudo:primary", SCUDO_REGION)
        size_class.regions.append(heap)
        if pages:
            self.kernel.write(heap.vmo, 0, pages)
        return heap

    def grow_heap(self, program: Program, pages: int) -> None:
        """Hand out `pages` of heap: each page goes to a size class drawn by weight, which
        commits its newest region upward and opens a new one once that is as full as scudo
        lets it get. A Go program's heap arena grows instead."""
        kernel = self.kernel
        if program.go_arenas:
            arena = program.go_arenas[GO_HEAP_ARENA].vmo
            used = arena.committed_pages
            kernel.write(arena, used, min(pages, arena.size_pages - used))
            return
        if pages <= 0:
            return
        for size_class, count in Counter(self.rng.choices(
                program.classes, cum_weights=program.class_weights, k=pages)).items():
            while count > 0:
                vmo = size_class.regions[-1].vmo
                used = vmo.committed_pages
                if used >= size_class.fill_pages:
                    vmo, used = self._new_region(program, size_class, 0).vmo, 0
                take = min(size_class.fill_pages - used, count)
                kernel.write(vmo, used, take)
                count -= take

    def shrink_heap(self, program: Program, pages: int) -> None:
        """Free `pages` of heap: scudo releases the top pages of a class's newest region,
        and unmaps a region other than the class's first once it is empty."""
        kernel, rng = self.kernel, self.rng
        if program.go_arenas:
            arena = program.go_arenas[GO_HEAP_ARENA].vmo
            used = arena.committed_pages
            take = min(pages, used - 1)
            if take > 0:
                kernel.decommit(arena, used - take, take)
            return
        if pages <= 0:
            return
        # Speed: one draw of `pages` classes takes the same random numbers as `pages` draws
        # of one; bench: "default: engine tick CPU" (engine_bench).
        for size_class in rng.choices(program.classes, cum_weights=program.class_weights,
                                      k=pages):
            heap = size_class.regions[-1]
            used = heap.vmo.committed_pages
            if used > 1:
                kernel.decommit(heap.vmo, used - 1, 1)
            elif len(size_class.regions) > 1:
                size_class.regions.pop()
                kernel.unmap(heap.mapping)

    def _start_go_runtime(self, program: Program, heap_kib: int) -> None:
        """The Go runtime's arenas, then the program's heap in the largest but one."""
        for size, pages in GO_ARENAS:
            heap = self._new_heap(program, "go-runtime-heap-vmo", size)
            self.kernel.write(heap.vmo, 0, pages)
            program.go_arenas.append(heap)
        self.grow_heap(program, heap_kib * KB // PAGE_SIZE)

    def secondary_alloc(self, program: Program, nbytes: int) -> Heap:
        """A large allocation: scudo maps a VMO of its own for it."""
        heap = self._new_heap(program, "scudo:secondary", round_pages(nbytes) + PAGE_SIZE)
        self.kernel.write(heap.vmo, 0, heap.vmo.size_pages - 1)
        program.secondaries.append(heap)
        return heap

    def free_secondary(self, program: Program) -> None:
        if program.secondaries:
            self.kernel.unmap(program.secondaries.pop(0).mapping)

    def _new_heap(self, program: Program, name: str, size: int) -> Heap:
        kernel = self.kernel
        process = program.process
        vmo = kernel.create_vmo(process, name, size)
        mapping = kernel.map(process.root_vmar, vmo, 0, size, PERMS_RW, self._gap())
        self._drop_handle(process, vmo)
        return Heap(vmo, mapping)

    def handle_only_vmo(self, owner: Process, name: str, size: int, pages: int,
                        share_with: Process | None = None) -> Vmo:
        """A VMO reached by handles alone (inspect, sysmem buffers): ps never sees it."""
        vmo = self.kernel.create_vmo(owner, name, size)
        self.kernel.write(vmo, 0, pages)
        if share_with is not None:
            self.kernel.add_handle(share_with, vmo, RIGHT_READ | RIGHT_MAP | RIGHT_DUPLICATE)
        return vmo


def try_write(kernel: Kernel, vmo: Vmo, first: int, count: int) -> int:
    """Write pages unless memory has run out: the caller's process just waits."""
    try:
        return kernel.write(vmo, first, count)
    except OutOfMemory:
        return 0
