"""Programs as Fuchsia runs them: ELF images loaded from blobfs or bootfs, heaps, stacks.

A `Program` is a process plus the memory it manages (heap VMOs, thread stacks), built on
`engine.sim.kernel` the way Fuchsia's loader and libc do: a per-process copy-on-write clone of
the image for text, `relro:`/`data:` clones and an anonymous `bss:` VMO for the rest, the
shared vDSO, scudo heaps, and stacks in their own VMAR with a guard page.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

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
STACK_SIZE = 256 * KB
INITIAL_STACK_SIZE = 4 * MB + 4 * KB
RIGHTS_RX = RIGHT_READ | RIGHT_EXECUTE | RIGHT_MAP | RIGHT_DUPLICATE


@dataclass
class Image:
    """An ELF image held by a filesystem: a blob VMO (or a range of bootfs) and its layout."""

    vmo: Vmo
    offset: int  # bytes, within vmo
    text: int  # bytes of r-x
    rodata: int  # bytes of r-- (relro)
    data: int  # bytes of rw- file data
    bss: int  # bytes of zero-filled rw-
    label: str  # what clone names carry: "blob-405d17d9" or "lib/libfdio.so"
    data_prefix: str = "data"  # bootfs images say data0:/bss0:

    @property
    def file_size(self) -> int:
        return self.text + self.rodata + self.data


@dataclass
class Heap:
    vmo: Vmo
    mapping: Mapping


@dataclass
class Stack:
    thread: Thread
    vmar: Vmar
    vmo: Vmo


@dataclass
class Program:
    """A running process and the memory its runtime manages."""

    process: Process
    heaps: list[Heap] = field(default_factory=list)
    secondaries: list[Heap] = field(default_factory=list)
    stacks: list[Stack] = field(default_factory=list)

    @property
    def koid(self) -> int:
        return self.process.koid


def round_pages(nbytes: int) -> int:
    return -(-nbytes // PAGE_SIZE) * PAGE_SIZE


def make_blob(kernel: Kernel, blobfs: Process, rng: random.Random, text: int, rodata: int,
              data: int, bss: int) -> Image:
    """A blob in blobfs: pager-backed, fully committed, named by its (simulated) merkle root."""
    label = f"blob-{rng.getrandbits(32):08x}"
    text, rodata, data = round_pages(text), round_pages(rodata), round_pages(data)
    vmo = kernel.create_vmo(blobfs, label, text + rodata + data, pager_backed=True)
    kernel.write(vmo, 0, vmo.size_pages)
    return Image(vmo, 0, text, rodata, data, round_pages(bss), label)


def make_bootfs_image(kernel: Kernel, bootfs: Vmo, offset: int, name: str, text: int,
                      rodata: int, data: int, bss: int) -> Image:
    """A file inside the uncompressed bootfs VMO, loaded straight from it."""
    return Image(bootfs, offset, round_pages(text), round_pages(rodata), round_pages(data),
                 round_pages(bss), name, data_prefix="data0")


class Loader:
    """Starts processes the way Fuchsia's process launcher and libc set them up."""

    def __init__(self, kernel: Kernel, rng: random.Random, vdso: Vmo) -> None:
        self.kernel = kernel
        self.rng = rng
        self.vdso = vdso

    def _gap(self) -> int:
        """A random-looking gap before a new VMAR or mapping: up to 4 GiB, as ASLR spreads them."""
        return self.rng.randint(1, 1 << 20) * PAGE_SIZE

    def spawn(self, job: Job, name: str, images: list[Image], *, threads: int = 1,
              heap_pages: int = 4, channels: int = 8) -> Program:
        """Start a process: its binary and libraries, the vDSO, the first heap and stacks."""
        kernel, rng = self.kernel, self.rng
        aslr = USER_ASPACE_BASE + rng.getrandbits(33) * PAGE_SIZE  # in the lower half
        process = kernel.create_process(job, name, aslr)
        program = Program(process)
        for image in images:
            self.load(process, image)
        self._map_vdso(process.root_vmar)
        loader_heap = kernel.create_vmo(process, "ld.so.1-internal-heap", PAGE_SIZE)
        kernel.map(process.root_vmar, loader_heap, 0, PAGE_SIZE, PERMS_RW, self._gap())
        kernel.write(loader_heap, 0, 1)
        self._drop_handle(process, loader_heap)
        self.add_thread(program, "initial-thread", INITIAL_STACK_SIZE, rng.randint(3, 13))
        for _ in range(threads - 1):
            self.add_thread(program)
        self.grow_heap(program, heap_pages)
        bootstrap = kernel.create_vmo(process, "stack: msg of 0x1000", PAGE_SIZE)
        kernel.map(process.root_vmar, bootstrap, 0, PAGE_SIZE, PERMS_RW, self._gap())
        kernel.write(bootstrap, 0, 1)
        for _ in range(channels):
            kernel.create_object(process, "channel")
        for type_name in ("port", "event", "socket", "eventpair", "timer"):
            for _ in range(rng.choice((1, 1, 2, 4))):
                kernel.create_object(process, type_name)
        if rng.random() < 0.2:
            kernel.create_object(process, "fifo")
        return program

    def load(self, process: Process, image: Image) -> None:
        """Map an ELF image: text from a clone, relro and data from clones of that, bss fresh."""
        kernel = self.kernel
        span = image.file_size + image.bss
        vmar = kernel.allocate_vmar(process.root_vmar, span, gap=self._gap())
        exec_vmo = kernel.clone_vmo(process, image.vmo, image.label, image.offset,
                                    image.file_size, rights=RIGHTS_RX)
        kernel.map(vmar, exec_vmo, 0, image.text, PERMS_RX)
        if image.rodata:
            relro = kernel.clone_vmo(process, exec_vmo, f"relro:{image.label}", image.text,
                                     image.rodata)
            kernel.map(vmar, relro, 0, image.rodata, PERMS_R)
            kernel.write(relro, 0, max(1, relro.size_pages // 3))
            self._drop_handle(process, relro)
        if image.data:
            data = kernel.clone_vmo(process, exec_vmo, f"{image.data_prefix}:{image.label}",
                                    image.text + image.rodata, image.data)
            kernel.map(vmar, data, 0, image.data, PERMS_RW)
            kernel.write(data, 0, self.rng.randint(1, data.size_pages))
            self._drop_handle(process, data)
        if image.bss:
            prefix = "bss0" if image.data_prefix == "data0" else "bss"
            bss = kernel.create_vmo(process, f"{prefix}:{image.label}", image.bss)
            kernel.map(vmar, bss, 0, image.bss, PERMS_RW)
            kernel.write(bss, 0, self.rng.randint(1, bss.size_pages))
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
        for handle in process.handles:
            if handle.obj is vmo:
                self.kernel.close_handle(handle)
                return

    def add_thread(self, program: Program, name: str | None = None,
                   stack_size: int = STACK_SIZE, pages: int = 1) -> None:
        """A thread and its stack: a VMO mapped in its own VMAR, one guard page below it."""
        kernel, rng = self.kernel, self.rng
        process = program.process
        if name is None:
            style = rng.choice(("thrd_t", "pthread_t"))
            name = f"{style}:0x{rng.getrandbits(40):x}"
        thread = kernel.create_thread(process, name)
        thread.state = rng.choice(("blocked", "blocked", "blocked", "running", "susp"))
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

    def grow_heap(self, program: Program, pages: int) -> None:
        """Commit heap pages bottom-up, opening a new scudo region when the last is full."""
        while pages > 0:
            heap = program.heaps[-1] if program.heaps else None
            if heap is None or heap.vmo.committed_pages >= heap.vmo.size_pages:
                heap = self._new_heap(program, "scudo:primary", SCUDO_REGION)
            used = heap.vmo.committed_pages
            take = min(heap.vmo.size_pages - used, pages)
            self.kernel.write(heap.vmo, used, take)
            pages -= take

    def shrink_heap(self, program: Program, pages: int) -> None:
        """Release the newest heap pages; an emptied region other than the first is unmapped."""
        kernel = self.kernel
        while pages > 0 and program.heaps:
            heap = program.heaps[-1]
            used = heap.vmo.committed_pages
            take = min(pages, used)
            kernel.decommit(heap.vmo, used - take, take)
            pages -= take
            if heap.vmo.committed_pages == 0:
                if len(program.heaps) == 1:
                    return
                program.heaps.pop()
                kernel.unmap(heap.mapping)

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
        heap = Heap(vmo, mapping)
        if name == "scudo:primary":
            program.heaps.append(heap)
        return heap

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
