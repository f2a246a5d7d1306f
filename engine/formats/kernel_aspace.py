"""The kernel's own address space, modelled from a Snapshot's Kmem (what `k zx asd kernel` dumps).

Layout, in address order under the root VMAR:
  physmap      all of physical memory mapped at the aspace base
  mmio         a few device registers (ACPI RSDP, HPET, IOAPIC, local APIC), each a physical
               VMO (`object ... base <phys>` lines)
  boot reserve the boot allocator's range: what of `wired_bytes` the image sections leave
  kernel image code, rodata, data and bss

Kernel rule (reference 7): VmAspace::ReserveSpace backs each reserved region (physmap, boot
reserve, image sections) with a zero-length VMO, unnamed in that era (the seed's dump shows
its kernel mappings as ''): size 0, no pages. Kernel heap and wired memory are kstats figures
only, not VMOs. Kernel-only VMOs have koid 0. Object addresses are simulated but a pure
function of position, so a snapshot always dumps the same text.
"""

from __future__ import annotations

from typing import NamedTuple

from zmtop.engine.snapshot.records import (
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

MMIO = (0x7FFE_2000, 0xFED0_0000, 0xFEC0_0000, 0xFEE0_0000)  # ACPI RSDP, HPET, IOAPIC, LAPIC
MMIO_BASE = 0xFFFF_FF90_0000_0000
RESERVE_BASE = 0xFFFF_FFC0_0000_0000
IMAGE_BASE = 0xFFFF_FFFF_8010_0000
# Code, rodata, data and bss: (size, mmu flags).
IMAGE_SECTIONS = ((0x10_0000, MMU_READ | MMU_EXECUTE), (0x4_0000, MMU_READ), (0x2_0000, MMU_RW),
                  (0x10_0000, MMU_RW))


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
    base: int
    size: int
    mmu_flags: int
    phys_base: int | None = None  # a physical VMO of the region's size; else a reserved one

    @property
    def vmo_size(self) -> int:
        return 0 if self.phys_base is None else self.size


def _regions(snap: Snapshot) -> tuple[list[_Region], list[_Region]]:
    """(top-level maps, image maps): the boot reserve takes what of `wired_bytes` the image
    sections leave, at least a page."""
    kmem = snap.kmem
    image, offset = [], 0
    for size, flags in IMAGE_SECTIONS:
        image.append(_Region(IMAGE_BASE + offset, size, flags))
        offset += size
    reserve = max(PAGE_SIZE, (kmem.wired_bytes - offset) // PAGE_SIZE * PAGE_SIZE)
    top = [_Region(KERNEL_BASE, kmem.total_bytes, MMU_RW)]
    top += [_Region(MMIO_BASE + i * PAGE_SIZE, PAGE_SIZE,
                    MMU_RW if i == 0 else MMU_RW | MMU_UNCACHED_DEVICE, phys)
            for i, phys in enumerate(MMIO)]
    top.append(_Region(RESERVE_BASE, reserve, MMU_RW))
    return top, image


def _kernel_vmos(regions: list[_Region]) -> list[KernelVmo]:
    return [KernelVmo(object_address(KIND_KERNEL, 2 * i + 1), 0, r.vmo_size, 0, 1,
                      phys_base=r.phys_base)
            for i, r in enumerate(regions)]


def kernel_aspace(snap: Snapshot) -> list[AspaceNode]:
    """The kernel aspace as dump lines: aspace, root VMAR, then VMARs and mappings by address."""
    top, image = _regions(snap)
    vmos = iter(_kernel_vmos(top + image))
    seq = iter(range(0, 1 << 20, 2))

    def maps(regions: list[_Region], depth: int) -> list[AspaceNode]:
        return [
            AspaceNode("map", depth, object_address(KIND_KERNEL, next(seq)), r.base, r.size,
                       "", r.mmu_flags, 1, next(vmos))
            for r in regions
        ]

    head = AspaceNode("vmar", 1, ROOT_VMAR_ADDRESS, KERNEL_BASE, KERNEL_SIZE, "root")
    top_maps = maps(top, 2)
    image_vmar = AspaceNode("vmar", 2, object_address(KIND_KERNEL, next(seq)), IMAGE_BASE,
                            sum(r.size for r in image), "kernel image")
    return [
        AspaceNode("as", 0, ASPACE_ADDRESS, KERNEL_BASE, KERNEL_SIZE, "kernel",
                   ASPACE_FLAG_KERNEL, 1 + len(snap.processes)),
        head, *top_maps, image_vmar, *maps(image, 3),
    ]


def kernel_only_vmos(snap: Snapshot) -> list[tuple[int, Vmo]]:
    """(object address, koid-0 Vmo record) of each kernel-only VMO, oldest (boot order) first."""
    top, image = _regions(snap)
    return [(kvmo.addr, Vmo(0, "", kvmo.size, 0, 0, 1, 1, 0,
                            VMO_TYPE_PAGED if kvmo.phys_base is None else 0, 0, 0, 0, 0))
            for kvmo in _kernel_vmos(top + image)]
