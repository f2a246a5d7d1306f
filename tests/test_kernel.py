"""The simulated kernel's memory rules: over-commit, copy-on-write, freeing, OOM, teardown."""

import pytest

from zmtop.engine.accounting.accountant import Accountant
from zmtop.engine.formats import kzx
from zmtop.engine.formats.psutils import vmos_text
from zmtop.engine.sim.kernel import (
    MAX_NAME_LEN,
    PERMS_RW,
    Kernel,
    OutOfMemory,
)
from zmtop.engine.snapshot.records import PAGE_SIZE

MB = 1 << 20


@pytest.fixture
def kernel() -> Kernel:
    return Kernel(total_bytes=64 * MB, wired_bytes=4 * MB, other_bytes=MB)


@pytest.fixture
def process(kernel):
    job = kernel.create_job(kernel.root_job, "job")
    return kernel.create_process(job, "proc", 0x1000_0000)


def handle_of(process, vmo):
    return next(h for h in process.handles if h.obj is vmo)


def conserved(kernel: Kernel) -> bool:
    used = (kernel.vmo_pages * PAGE_SIZE + kernel.heap_total_bytes + kernel.wired_bytes
            + kernel.mmu_pages * PAGE_SIZE + kernel.ipc_bytes + kernel.other_bytes)
    return kernel.free_bytes >= 0 and used + kernel.free_bytes == kernel.total_pages * PAGE_SIZE


# -- over-commit ------------------------------------------------------------------------


def test_create_and_map_commit_nothing(kernel, process):
    vmo = kernel.create_vmo(process, "big", 8 * MB)
    mapping = kernel.map(process.root_vmar, vmo, 0, 8 * MB, PERMS_RW)
    assert (vmo.committed_pages, kernel.vmo_pages, mapping.committed_pages()) == (0, 0, 0)
    assert process.tables.pages == 0


def test_writes_commit_once_and_decommit_frees(kernel, process):
    vmo = kernel.create_vmo(process, "heap", 16 * PAGE_SIZE)
    free = kernel.free_bytes
    assert kernel.write(vmo, 2, 3) == 3
    assert kernel.write(vmo, 3, 3) == 1  # pages 3 and 4 are already committed
    assert kernel.write(vmo, 14, 10) == 2  # clipped at the end of the VMO
    assert (vmo.committed_pages, kernel.vmo_pages) == (6, 6)
    assert kernel.free_bytes == free - 6 * PAGE_SIZE
    assert kernel.decommit(vmo, 0, 4) == 2
    assert kernel.decommit(vmo, 0, 4) == 0
    assert (vmo.committed_pages, kernel.vmo_pages) == (4, 4)
    assert kernel.free_bytes == free - 4 * PAGE_SIZE
    assert conserved(kernel)


def test_mapped_writes_grow_page_tables(kernel, process):
    """x86-64 tables: a leaf per 2 MiB holding a mapped page, a directory per 1 GiB, a PDPT
    per 512 GiB (the process's PML4 came with it)."""
    vmo = kernel.create_vmo(process, "heap", 4 * MB)
    mapping = kernel.map(process.root_vmar, vmo, 0, 4 * MB, PERMS_RW)
    assert mapping.base % (2 * MB) == 0
    mmu = kernel.mmu_pages
    kernel.write(vmo, 0, 1)
    assert kernel.mmu_pages == mmu + 3  # leaf, directory, PDPT
    kernel.write(vmo, 1, 511)  # the rest of the first 2 MiB
    assert kernel.mmu_pages == mmu + 3
    kernel.write(vmo, 512, 1)  # the next 2 MiB: a leaf of its own
    assert kernel.mmu_pages == mmu + 4 and process.tables.pages == 4
    kernel.decommit(vmo, 0, 512)
    assert kernel.mmu_pages == mmu + 3
    kernel.unmap(mapping)
    assert (process.tables.pages, kernel.mmu_pages) == (0, mmu)


def test_a_mapping_far_away_needs_a_directory_of_its_own(kernel, process):
    near = kernel.create_vmo(process, "near", 4 * PAGE_SIZE)
    far = kernel.create_vmo(process, "far", 4 * PAGE_SIZE)
    kernel.map(process.root_vmar, near, 0, 4 * PAGE_SIZE, PERMS_RW)
    kernel.map(process.root_vmar, far, 0, 4 * PAGE_SIZE, PERMS_RW, gap=1 << 30)
    mmu = kernel.mmu_pages
    kernel.write(near, 0, 4)
    kernel.write(far, 0, 4)
    assert kernel.mmu_pages == mmu + 5  # two leaves, two directories, one PDPT
    kernel.kill_process(process)
    assert kernel.mmu_pages == 0 and conserved(kernel)


def test_mapping_keeps_a_vmo_alive_until_unmapped(kernel, process):
    vmo = kernel.create_vmo(process, "heap", 4 * PAGE_SIZE)
    mapping = kernel.map(process.root_vmar, vmo, 0, 4 * PAGE_SIZE, PERMS_RW)
    kernel.write(vmo, 0, 2)
    kernel.close_handle(handle_of(process, vmo))
    assert vmo.koid in kernel.vmos and kernel.vmo_pages == 2
    kernel.unmap(mapping)
    assert vmo.koid not in kernel.vmos and kernel.vmo_pages == 0
    assert process.tables.pages == 0


def test_hidden_parent_lives_while_a_clone_does(kernel, process):
    parent = kernel.create_vmo(process, "image", 4 * PAGE_SIZE)
    kernel.write(parent, 0, 4)
    clone = kernel.clone_vmo(process, parent, "clone", 0, 4 * PAGE_SIZE)
    kernel.write(clone, 0, 1)
    grandchild = kernel.clone_vmo(None, clone, "grandchild", 0, 4 * PAGE_SIZE)
    kernel.close_handle(handle_of(process, parent))
    kernel.close_handle(handle_of(process, clone))
    assert {parent.koid, clone.koid} <= set(kernel.vmos)  # hidden, still reached
    assert grandchild.visible() == 0b1111
    kernel.close_handle(grandchild.handles[0])
    assert not ({parent.koid, clone.koid, grandchild.koid} & set(kernel.vmos))
    assert kernel.vmo_pages == 0 and not parent.children


def test_freeing_one_clone_keeps_its_siblings_parent(kernel, process):
    parent = kernel.create_vmo(None, "image", 4 * PAGE_SIZE)
    kernel.write(parent, 0, 4)
    first = kernel.clone_vmo(process, parent, "a", 0, 4 * PAGE_SIZE)
    second = kernel.clone_vmo(process, parent, "b", 0, 4 * PAGE_SIZE)
    kernel.close_handle(parent.handles[0])  # the kernel's handle: now a hidden parent
    kernel.close_handle(handle_of(process, first))
    assert parent.koid in kernel.vmos and parent.children == [second]
    assert kernel.vmo_pages == 4


def test_page_batches_do_what_one_page_calls_do():
    """write_pages and decommit_pages against write and decommit, page by page, on plain,
    mapped and cloned VMOs, with pages past the end and pages held already."""
    kernels = [Kernel(total_bytes=64 * MB, wired_bytes=4 * MB, other_bytes=MB)
               for _ in range(2)]
    pages = []
    for kernel in kernels:
        process = kernel.create_process(kernel.create_job(kernel.root_job, "j"), "p", 1 << 28)
        plain = kernel.create_vmo(process, "plain", 8 * PAGE_SIZE)
        mapped = kernel.create_vmo(process, "mapped", 8 * PAGE_SIZE)
        kernel.map(process.root_vmar, mapped, 0, 8 * PAGE_SIZE, PERMS_RW)
        image = kernel.create_vmo(process, "image", 8 * PAGE_SIZE)
        kernel.write(image, 0, 4)
        clone = kernel.clone_vmo(process, image, "clone", 0, 8 * PAGE_SIZE)
        kernel.page_moves.clear()
        kernel.dirty_vmos.clear()
        kernel.dirty_processes.clear()
        pages.append([(vmo, page) for vmo in (plain, mapped, clone) for page in (0, 3, 3, 8)])
    (one, batch), (one_pages, batch_pages) = kernels, pages
    written = [one.write(vmo, page, 1) for vmo, page in one_pages]
    freed = [one.decommit(vmo, page, 1) for vmo, page in one_pages[::2]]
    assert (sum(written), sum(freed)) == (6, 6)  # two pages a VMO, each decommitted again
    assert batch.write_pages(*zip(*batch_pages)) == 6
    assert batch.decommit_pages(*zip(*batch_pages[::2])) == 6
    for kernel in kernels:
        assert conserved(kernel)
    assert [v.own for v, _ in one_pages] == [v.own for v, _ in batch_pages]
    assert counters(one) == counters(batch)
    assert (one.page_moves, one.dirty_vmos, one.dirty_processes) == (
        batch.page_moves, batch.dirty_vmos, batch.dirty_processes)


# -- out of memory ----------------------------------------------------------------------


def test_write_beyond_free_memory_raises_and_commits_nothing(kernel, process):
    vmo = kernel.create_vmo(process, "hog", 128 * MB)
    free_pages = kernel.free_bytes // PAGE_SIZE
    with pytest.raises(OutOfMemory):
        kernel.write(vmo, 0, free_pages)
    assert (vmo.committed_pages, kernel.vmo_pages) == (0, 0)
    kernel.write(vmo, 0, free_pages - 4)  # a few pages stay in reserve
    with pytest.raises(OutOfMemory):
        kernel.write(vmo, free_pages, 1)
    assert conserved(kernel)


def test_page_batches_skip_pages_beyond_free_memory(kernel, process):
    vmos = [kernel.create_vmo(process, "one", 4 * PAGE_SIZE) for _ in range(3)]
    hog = kernel.create_vmo(process, "hog", 128 * MB)
    kernel.write(hog, 0, kernel.free_bytes // PAGE_SIZE - 6)  # room for two pages
    assert kernel.write_pages(vmos, [0] * len(vmos)) == 2
    assert [vmo.committed_pages for vmo in vmos] == [1, 1, 0]
    assert conserved(kernel)


# -- teardown ---------------------------------------------------------------------------


def counters(kernel: Kernel) -> tuple[int, ...]:
    return (kernel.vmo_pages, kernel.mmu_pages, kernel.heap_bytes, kernel.free_bytes)


def populate(kernel: Kernel, process) -> None:
    """Heap, handle-only VMO, a clone family, a stack in its own VMAR, a thread, a channel."""
    heap = kernel.create_vmo(process, "heap", MB)
    kernel.map(process.root_vmar, heap, 0, MB, PERMS_RW)
    kernel.write(heap, 0, 200)
    kernel.close_handle(handle_of(process, heap))
    kernel.write(kernel.create_vmo(process, "inspect", 4 * PAGE_SIZE), 0, 4)
    image = kernel.create_vmo(process, "image", 8 * PAGE_SIZE)
    kernel.write(image, 0, 8)
    clone = kernel.clone_vmo(process, image, "clone", 0, 8 * PAGE_SIZE)
    kernel.write(clone, 0, 2)
    vmar = kernel.allocate_vmar(process.root_vmar, MB)
    stack = kernel.create_vmo(process, "stack", 4 * PAGE_SIZE)
    kernel.map(vmar, stack, 0, 4 * PAGE_SIZE, PERMS_RW)
    kernel.write(stack, 3, 1)
    kernel.create_thread(process, "worker")
    kernel.create_object(process, "channel")


def test_kill_process_returns_its_memory(kernel, process):
    before = counters(kernel)
    doomed = kernel.create_process(process.job, "doomed", 0x1000_0000)
    populate(kernel, doomed)
    assert kernel.vmo_pages == 200 + 4 + 8 + 2 + 1
    kernel.kill_process(doomed)
    assert doomed.koid not in kernel.processes and doomed not in process.job.processes
    assert not kernel.vmos
    assert counters(kernel) == before
    assert conserved(kernel)


def test_kill_process_keeps_what_others_hold(kernel, process):
    other = kernel.create_process(process.job, "survivor", 0x1000_0000)
    shared = kernel.create_vmo(process, "shared", 4 * PAGE_SIZE)
    kernel.write(shared, 0, 4)
    kernel.add_handle(other, shared, 0)
    image = kernel.create_vmo(process, "image", 4 * PAGE_SIZE)
    kernel.write(image, 0, 4)
    kernel.clone_vmo(other, image, "clone", 0, 4 * PAGE_SIZE)
    kernel.kill_process(process)
    assert set(kernel.vmos) == {shared.koid, image.koid} | {v.koid for v in image.children}
    assert kernel.vmo_pages == 8  # the image lives on, hidden, under the survivor's clone
    kernel.kill_process(other)
    assert not kernel.vmos and kernel.vmo_pages == 0


def test_kill_job_kills_its_subtree(kernel, process):
    child = kernel.create_job(process.job, "child")
    grandchild_process = kernel.create_process(child, "deep", 0x1000_0000)
    vmo = kernel.create_vmo(grandchild_process, "buffer", PAGE_SIZE)
    kernel.write(vmo, 0, 1)
    kernel.kill_job(process.job)
    assert not kernel.processes and set(kernel.jobs) == {kernel.root_job.koid}
    assert kernel.vmo_pages == 0 and not kernel.vmos


# -- names ------------------------------------------------------------------------------


def test_names_are_truncated_to_31_bytes(kernel, process):
    long = "x" * 40
    assert MAX_NAME_LEN == 31
    assert kernel.create_vmo(process, long, PAGE_SIZE).name == "x" * 31
    assert kernel.create_job(kernel.root_job, long).name == "x" * 31
    assert kernel.create_process(process.job, long, 0x1000_0000).name == "x" * 31
    assert kernel.create_thread(process, long).name == "x" * 31
    # A multi-byte character cut at byte 31 is dropped whole.
    assert kernel.create_vmo(process, "a" * 30 + "é", PAGE_SIZE).name == "a" * 30
    assert kernel.create_vmo(process, "a" * 29 + "é", PAGE_SIZE).name == "a" * 29 + "é"


def test_handle_tables_list_the_newest_handle_first(kernel, process):
    """HandleTable::AddHandleLocked pushes at the front: `vmos` handle rows, `k zx ht`,
    `k zx vmos KOID` and memgraph's vmo_refs all list the newest handle first."""
    first = kernel.create_vmo(process, "first", PAGE_SIZE)
    second = kernel.create_vmo(process, "second", PAGE_SIZE)
    snap = Accountant(kernel, "t").snapshot(0, 0, "Normal")
    record = snap.processes[process.koid]
    assert [h.koid for h in record.handles[:2]] == [second.koid, first.koid]
    assert [r.vmo_koid for r in record.vmo_refs] == [second.koid, first.koid]
    ht = kzx.ht_text(snap, process.koid).splitlines()
    assert [int(line.split()[0]) for line in ht[2:4]] == [second.koid, first.koid]
    assert ht[-2].endswith("[process]")  # the first handle a process gets is its own
    vmos = kzx.vmos_text(snap, process.koid).splitlines()
    assert [line.split()[-1] for line in vmos[3:5]] == ["second", "first"]
    rows = vmos_text(snap, process.koid).splitlines()
    assert [line.split()[-1] for line in rows[1:3]] == ["second", "first"]
