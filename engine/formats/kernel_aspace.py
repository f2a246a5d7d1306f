"""The kernel's own address space, modelled from a Snapshot's Kmem (what `k zx asd kernel` dumps).

Layout, in address order under the root VMAR:
  physmap      all of physical memory mapped at the aspace base; a placeholder VMO (size 0,
               pages 0, as on a device), since the pages belong to their owners
  mmio         a few device registers, each a physical VMO (`object ... base <phys>` lines)
  kernel heap  one VMO of `total_heap_bytes`, every page committed: the heap grows by whole
               arenas, and `free_heap_bytes` is free space inside committed pages
  kernel stacks, boot reserve, and the kernel image sections: all wired

Accounting rule: the committed pages of the heap VMO equal `total_heap_bytes`, and the wired
regions share out `wired_bytes` exactly (image sections first, then the per-CPU stacks, the
boot reserve taking the rest), so the aspace commits `wired_bytes + total_heap_bytes` for
page-aligned Kmem figures. Kernel-only VMOs have koid 0. Object addresses are simulated but a
pure function of position, so a snapshot always dumps the same text.
"""

from __future__ import annotations

from typing import NamedTuple

from zmtop.engine.snapshot.records import (
    FRACTION_ONE,
    PAGE_SIZE,
    VMO_TYPE_PAGED,
    Snapshot,
    Vmo,
)

KERNEL_BASE = 0xFFFF_FF80_0000_0000
KERNEL_SIZE = 1 << 39
ASPACE_ADDRESS = 0xFFFF_FFFF_8025_2B20  # static objects live in the image's data section
ROOT_VMAR_ADDRESS = 0xFFFF_FFFF_8025_29A0
ASPACE_FLAG_KERNEL = 0x1

# ARCH_MMU_FLAG_* bits, as the `mmufl` column prints them.
MMU_UNCACHED_DEVICE = 0x2
MMU_USER = 1 << 2
MMU_READ = 1 << 3
MMU_WRITE = 1 << 4
MMU_EXECUTE = 1 << 5
MMU_RW = MMU_READ | MMU_WRITE

# Address kinds for object_address (bits 32-35, inside the physmap where heap objects live);
# kind 0 is psutils.kernel_address's koid-derived space.
KIND_KERNEL = 1
KIND_PROCESS = 2

NUM_CPUS = 4
STACK_BYTES = 16 * 1024  # safe and unsafe stacks of a CPU's idle thread
MMIO = (("acpi-rsdp", 0x7FFE_2000), ("hpet", 0xFED0_0000), ("ioapic", 0xFEC0_0000),
        ("lapic", 0xFEE0_0000))
MMIO_BASE = 0xFFFF_FF90_0000_0000
HEAP_BASE = 0xFFFF_FFA0_0000_0000
STACKS_BASE = 0xFFFF_FFB0_0000_0000
RESERVE_BASE = 0xFFFF_FFC0_0000_0000
IMAGE_BASE = 0xFFFF_FFFF_8010_0000
IMAGE_SECTIONS = (("kernel_code", 0x10_0000, MMU_READ | MMU_EXECUTE),
                  ("kernel_rodata", 0x4_0000, MMU_READ), ("kernel_data", 0x2_0000, MMU_RW),
                  ("kernel_bss", 0x10_0000, MMU_RW))


def object_address(kind: int, n: int) -> int:
    """A stable stand-in `%p` for the n-th object of a kind, disjoint from koid-derived ones."""
    return KERNEL_BASE | kind << 32 | (n * 0x90) & 0xFFFF_FFFF


class KernelVmo(NamedTuple):
    """A VMO as the aspace dump shows it: paged (`vmo` line) or physical (`object` line)."""

    addr: int
    koid: int
    size: int
    pages: int
    ref: int
    parent_koid: int = 0
    phys_base: int | None = None  # set for physical VMOs
    name: str = ""


class AspaceNode(NamedTuple):
    """One `as`, `vmar` or `map` line of an aspace dump, in depth-first pre-order."""

    kind: str  # "as", "vmar" or "map"
    depth: int
    addr: int
    base: int
    size: int
    name: str
    flags: int = 0  # aspace `fl`, or a mapping's `mmufl`
    ref: int = 1
    vmo: KernelVmo | None = None  # mappings only
    offset: int = 0
    pages: int = 0  # mappings: committed pages of the VMO in the mapped range


class _Region(NamedTuple):
    name: str
    base: int
    size: int
    mmu_flags: int
    pages: int
    phys_base: int | None = None
    vmo_size: int | None = None  # defaults to size


def _regions(snap: Snapshot) -> tuple[list[_Region], list[_Region], list[_Region]]:
    """(top-level maps, stack maps, image maps), wired pages shared out by the rule above."""
    kmem = snap.kmem
    budget = kmem.wired_bytes // PAGE_SIZE

    def wired(size: int) -> int:
        nonlocal budget
        pages = min(size // PAGE_SIZE, budget)
        budget -= pages
        return pages

    image, offset = [], 0
    for name, size, flags in IMAGE_SECTIONS:
        image.append(_Region(name, IMAGE_BASE + offset, size, flags, wired(size)))
        offset += size
    stacks = [
        _Region(f"kstack:cpu{cpu}", STACKS_BASE + cpu * 2 * STACK_BYTES + PAGE_SIZE, STACK_BYTES,
                MMU_RW, wired(STACK_BYTES))
        for cpu in range(NUM_CPUS)
    ]
    top = [_Region("physmap", KERNEL_BASE, kmem.total_bytes, MMU_RW, 0, vmo_size=0)]
    top += [
        _Region(name, MMIO_BASE + i * PAGE_SIZE, PAGE_SIZE,
                MMU_RW if i == 0 else MMU_RW | MMU_UNCACHED_DEVICE, 0, phys)
        for i, (name, phys) in enumerate(MMIO)
    ]
    top.append(_Region("kernel heap", HEAP_BASE, kmem.total_heap_bytes, MMU_RW,
                       kmem.total_heap_bytes // PAGE_SIZE))
    reserve = budget * PAGE_SIZE
    top.append(_Region("boot reserve", RESERVE_BASE, reserve, MMU_RW, wired(reserve)))
    return top, stacks, image


def _kernel_vmos(regions: list[_Region]) -> list[KernelVmo]:
    return [
        KernelVmo(object_address(KIND_KERNEL, 2 * i + 1), 0,
                  r.size if r.vmo_size is None else r.vmo_size, r.pages, 1,
                  phys_base=r.phys_base, name=r.name)
        for i, r in enumerate(regions)
    ]


def _all_regions(snap: Snapshot) -> list[_Region]:
    top, stacks, image = _regions(snap)
    return top + stacks + image


def kernel_aspace(snap: Snapshot) -> list[AspaceNode]:
    """The kernel aspace as dump lines: aspace, root VMAR, then VMARs and mappings by address."""
    top, stacks, image = _regions(snap)
    vmos = iter(_kernel_vmos(top + stacks + image))
    seq = iter(range(0, 1 << 20, 2))

    def maps(regions: list[_Region], depth: int) -> list[AspaceNode]:
        return [
            AspaceNode("map", depth, object_address(KIND_KERNEL, next(seq)), r.base, r.size,
                       r.name, r.mmu_flags, 1, next(vmos), 0, r.pages)
            for r in regions
        ]

    def vmar(name: str, regions: list[_Region], base: int, size: int) -> list[AspaceNode]:
        head = AspaceNode("vmar", 2, object_address(KIND_KERNEL, next(seq)), base, size, name)
        return [head, *maps(regions, 3)]

    top_maps = maps(top, 2)
    return [
        AspaceNode("as", 0, ASPACE_ADDRESS, KERNEL_BASE, KERNEL_SIZE, "kernel",
                   ASPACE_FLAG_KERNEL, 1 + len(snap.processes)),
        AspaceNode("vmar", 1, ROOT_VMAR_ADDRESS, KERNEL_BASE, KERNEL_SIZE, "root"),
        *top_maps[:-1],
        *vmar("kernel stacks", stacks, STACKS_BASE, NUM_CPUS * 2 * STACK_BYTES),
        top_maps[-1],
        *vmar("kernel image", image, IMAGE_BASE, sum(r.size for r in image)),
    ]


def kernel_committed_bytes(snap: Snapshot) -> int:
    """Bytes the kernel aspace's VMOs commit: wired_bytes + total_heap_bytes (page-aligned)."""
    return sum(r.pages for r in _all_regions(snap)) * PAGE_SIZE


def kernel_only_vmos(snap: Snapshot) -> list[tuple[int, Vmo]]:
    """(object address, koid-0 Vmo record) of each kernel-only VMO, oldest (boot order) first."""
    out = []
    for kvmo in _kernel_vmos(_all_regions(snap)):
        committed = kvmo.pages * PAGE_SIZE
        paged = VMO_TYPE_PAGED if kvmo.phys_base is None else 0
        out.append((kvmo.addr, Vmo(0, kvmo.name, kvmo.size, 0, 0, 1, 1, committed, paged, 0,
                                   committed, committed * FRACTION_ONE, committed)))
    return out
