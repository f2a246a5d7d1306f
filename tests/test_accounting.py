"""Both accounting rules against the page-by-page oracle, on random systems and worked examples."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import (
    assert_changes_accurate,
    assert_snapshot_matches,
    compute,
    mappings_of,
)

from zmtop.engine.accounting.accountant import PAGER_AGING_TICKS, PAGER_OLDEST_TICKS, Accountant
from zmtop.engine.formats.psutils import vmos_text
from zmtop.engine.sim.kernel import PERMS_R, PERMS_RW, Kernel, OutOfMemory
from zmtop.engine.snapshot.records import FRACTION_ONE, PAGE_SIZE

MB = 1 << 20
PAGE_FIXED = PAGE_SIZE * FRACTION_ONE

OPS = ("process", "vmo", "vmo", "clone", "clone", "map", "map", "map", "write", "write",
       "write", "decommit", "share", "share", "close", "unmap", "kill")
op_lists = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 255), st.integers(0, 255),
              st.integers(0, 255)),
    min_size=6, max_size=40)


def budget(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


class World:
    """A small kernel driven by interpreted operations: each op picks its targets modulo
    what exists, so every list of integers is a valid program and shrinks well."""

    def __init__(self, total_bytes: int = 64 * MB) -> None:
        self.kernel = Kernel(total_bytes, wired_bytes=MB, other_bytes=MB)
        self.job = self.kernel.create_job(self.kernel.root_job, "test")
        self.processes = []
        for _ in range(2):
            self.op("process", 0, 0, 0)

    def pick(self, items, index):
        return items[index % len(items)] if items else None

    def vmos(self, leaf: bool = False):
        vmos = sorted(self.kernel.vmos.values(), key=lambda v: v.koid)
        return [v for v in vmos if not (leaf and v.children)]

    def owner(self, index):
        """A live process, or None (the kernel holds the handle) one time in four."""
        return None if index % 4 == 3 or not self.processes else self.pick(self.processes, index)

    def op(self, name: str, a: int, b: int, c: int) -> None:
        kernel = self.kernel
        if name == "process" and len(self.processes) < 5:
            self.processes.append(kernel.create_process(self.job, f"p{a}", 0x1000_0000))
        elif name == "vmo":
            vmo = kernel.create_vmo(self.owner(a), f"vmo{b}", (1 + b % 12) * PAGE_SIZE)
            self.write(vmo, c % vmo.size_pages, c % 5)
        elif name == "clone" and (parent := self.pick(self.vmos()[::-1], a % 3 if b % 2 else a)):
            offset = b % (parent.size_pages + 2)  # may start past the parent's end
            size = 1 + c % (parent.size_pages + 2)  # often smaller, sometimes larger
            kernel.clone_vmo(self.owner(a + b), parent, f"clone{c}", offset * PAGE_SIZE,
                             size * PAGE_SIZE)
        elif name == "map" and self.processes and (vmo := self.pick(self.vmos(), a)):
            first = c % vmo.size_pages
            pages = 1 + (b + c) % (vmo.size_pages - first)
            for process in self.processes[b % len(self.processes):][:1 + c % 3]:
                vmar = process.root_vmar
                if b % 3 == 0:
                    vmar = kernel.allocate_vmar(vmar, 64 * PAGE_SIZE)
                kernel.map(vmar, vmo, first * PAGE_SIZE, pages * PAGE_SIZE,
                           PERMS_RW if c % 2 else PERMS_R)
        elif name == "write" and (vmo := self.pick(self.vmos(leaf=True), a)):
            self.write(vmo, b % vmo.size_pages, 1 + c % 4)
        elif name == "decommit" and (vmo := self.pick(self.vmos(leaf=True), a)):
            kernel.decommit(vmo, b % vmo.size_pages, 1 + c % 4)
        elif name == "share" and self.processes and (vmo := self.pick(self.vmos(), a)):
            for process in self.processes[b % len(self.processes):][:1 + c % 3]:
                kernel.add_handle(process, vmo, 0)
        elif name == "close":
            handles = [h for v in self.vmos() for h in v.handles]
            if handles:
                kernel.close_handle(self.pick(handles, a))
        elif name == "unmap":
            mappings = [m for p in self.processes for m in mappings_of(p)]
            if mappings:
                kernel.unmap(self.pick(mappings, a))
        elif name == "kill" and len(self.processes) > 1:
            kernel.kill_process(self.processes.pop(a % len(self.processes)))

    def write(self, vmo, first: int, count: int) -> None:
        try:
            self.kernel.write(vmo, first, count)
        except OutOfMemory:
            pass

    def run(self, ops) -> World:
        for op in ops:
            self.op(*op)
        return self


def full_snapshot(kernel: Kernel, tick: int = 0):
    """A snapshot built from scratch: a new accountant, with every object marked dirty."""
    kernel.dirty_vmos.update(kernel.vmos)
    kernel.dirty_processes.update(kernel.processes)
    kernel.dirty_jobs.update(kernel.jobs)
    return Accountant(kernel, "t").snapshot(tick, 0, "Normal")


# -- random systems against the oracle -----------------------------------------------------


@budget(300)
@given(op_lists)
def test_random_system_matches_oracle(ops):
    world = World().run(ops)
    snapshot = Accountant(world.kernel, "t").snapshot(0, 0, "Normal")
    truth = assert_snapshot_matches(snapshot, world.kernel)
    # Attributed PSS adds up to the pages processes can reach, exactly in the oracle...
    assert sum(p.pss for p in truth.processes.values()) == truth.process_reachable
    # ...and within the per-page rounding in the engine.
    pss = sum(p.pss_fixed for p in snapshot.processes.values())
    pages = sum(len(truth.vmos[v].reached) + 1 for p in truth.processes.values() for v in p.vmos)
    assert 0 <= truth.process_reachable * FRACTION_ONE - pss <= pages


@budget(60)
@given(st.lists(op_lists.map(lambda ops: ops[:10]), min_size=2, max_size=12))
@pytest.mark.slow
def test_incremental_snapshots_equal_from_scratch(steps):
    world = World()
    accountant = Accountant(world.kernel, "t")
    previous = accountant.snapshot(0, 0, "Normal")
    for tick, ops in enumerate(steps, 1):
        world.run(ops)
        snapshot = accountant.snapshot(tick, 0, "Normal")
        scratch = full_snapshot(world.kernel, tick)
        assert snapshot.kmem == scratch.kmem
        assert snapshot.jobs == scratch.jobs
        assert snapshot.vmos == scratch.vmos
        assert snapshot.processes == scratch.processes
        assert_changes_accurate(previous, snapshot)
        assert_snapshot_matches(snapshot, world.kernel)
        previous = snapshot


# -- legacy rule: the vmos/ps relation (reference 2.4) -----------------------------------


@budget(100)
@given(st.lists(st.tuples(st.integers(1, 8), st.integers(0, 8), st.sets(st.integers(0, 3))),
                min_size=1, max_size=8))
def test_legacy_per_vmo_relation(vmos):
    """Whole-VMO mappings: PRIVATE = #shr==1 ? alloc : 0, SHARED = #shr>1 ? alloc : 0,
    PSS = PRIVATE + SHARED/#shr, summed over the VMOs a process maps."""
    kernel = Kernel(64 * MB, MB, MB)
    job = kernel.create_job(kernel.root_job, "j")
    processes = [kernel.create_process(job, f"p{i}", 0x1000_0000) for i in range(4)]
    for size, written, mappers in vmos:
        vmo = kernel.create_vmo(None, "v", size * PAGE_SIZE)
        kernel.write(vmo, 0, written)
        for index in mappers:
            kernel.map(processes[index].root_vmar, vmo, 0, size * PAGE_SIZE, PERMS_RW)
    snapshot = Accountant(kernel, "t").snapshot(0, 0, "Normal")
    for process in processes:
        private = shared = pss = 0
        for mapping in mappings_of(process):
            record = snapshot.vmos[mapping.vmo.koid]
            alloc, shr = record.committed_bytes, record.share_count
            private += alloc if shr == 1 else 0
            shared += alloc if shr > 1 else 0
            pss += (alloc if shr == 1 else 0) + (alloc // shr if shr > 1 else 0)
        record = snapshot.processes[process.koid]
        assert (record.private_bytes, record.shared_bytes, record.pss_bytes) == (private, shared, pss)
        assert record.mapped_bytes == private + shared


def test_legacy_limitations_are_kept():
    """Unmapped VMOs and ranges are ignored, a page mapped twice counts twice, and a clone's
    clean pages count for the process mapping the parent."""
    kernel = Kernel(64 * MB, MB, MB)
    job = kernel.create_job(kernel.root_job, "j")
    p1, p2 = (kernel.create_process(job, name, 0x1000_0000) for name in ("p1", "p2"))
    handle_only = kernel.create_vmo(p1, "inspect", 4 * PAGE_SIZE)
    kernel.write(handle_only, 0, 4)
    heap = kernel.create_vmo(p1, "heap", 8 * PAGE_SIZE)
    kernel.write(heap, 0, 8)
    kernel.map(p1.root_vmar, heap, 0, 2 * PAGE_SIZE, PERMS_RW)  # pages 0-1
    kernel.map(p1.root_vmar, heap, PAGE_SIZE, 3 * PAGE_SIZE, PERMS_RW)  # pages 1-3
    image = kernel.create_vmo(p1, "image", 2 * PAGE_SIZE)
    kernel.write(image, 0, 2)
    clone = kernel.clone_vmo(p2, image, "clone", 0, 2 * PAGE_SIZE)
    kernel.map(p1.root_vmar, image, 0, 2 * PAGE_SIZE, PERMS_R)
    kernel.map(p2.root_vmar, clone, 0, 2 * PAGE_SIZE, PERMS_R)
    snapshot = Accountant(kernel, "t").snapshot(0, 0, "Normal")
    first, second = snapshot.processes[p1.koid], snapshot.processes[p2.koid]
    assert first.private_bytes == (2 + 3 + 2) * PAGE_SIZE
    assert (second.mapped_bytes, second.private_bytes) == (0, 0)
    # The attributed rule sees all of it: p2 reaches the image's pages through its clone.
    assert second.rss_bytes == 2 * PAGE_SIZE
    assert first.rss_bytes == (4 + 8 + 2) * PAGE_SIZE
    assert first.pss_fixed == (4 + 8 + 1) * PAGE_FIXED and second.pss_fixed == PAGE_FIXED


# -- attributed rule: RFC-0254 worked examples (reference 3.7) ---------------------------


def shared_page_system(c_mappers: list[str]):
    """One committed page shared by VMO P (mapped in p1) and its clone C (mapped as given).
    Neither is held by a handle, as after a loader drops its handles."""
    kernel = Kernel(64 * MB, MB, MB)
    job = kernel.create_job(kernel.root_job, "j")
    processes = {name: kernel.create_process(job, name, 0x1000_0000) for name in ("p1", "p2", "p3")}
    parent = kernel.create_vmo(None, "P", PAGE_SIZE)
    kernel.write(parent, 0, 1)
    clone = kernel.clone_vmo(None, parent, "C", 0, PAGE_SIZE)
    kernel.map(processes["p1"].root_vmar, parent, 0, PAGE_SIZE, PERMS_R)
    for name in c_mappers:
        kernel.map(processes[name].root_vmar, clone, 0, PAGE_SIZE, PERMS_R)
    kernel.close_handle(parent.handles[0])
    kernel.close_handle(clone.handles[0])
    snapshot = Accountant(kernel, "t").snapshot(0, 0, "Normal")
    assert_snapshot_matches(snapshot, kernel)
    return {name: snapshot.processes[p.koid] for name, p in processes.items()}


def test_rfc0254_parent_in_p1_clone_in_p2_and_p3():
    records = shared_page_system(["p2", "p3"])
    assert {n: Fraction(r.pss_fixed, PAGE_FIXED) for n, r in records.items()} == {
        "p1": Fraction(1, 2), "p2": Fraction(1, 4), "p3": Fraction(1, 4)}
    assert all(r.uss_bytes == 0 and r.rss_bytes == PAGE_SIZE for r in records.values())


def test_rfc0254_parent_in_p1_clone_in_p1_and_p2():
    records = shared_page_system(["p1", "p2"])
    assert Fraction(records["p1"].pss_fixed, PAGE_FIXED) == Fraction(3, 4)
    assert Fraction(records["p2"].pss_fixed, PAGE_FIXED) == Fraction(1, 4)
    # Shared = 2 pages for p1 (it reaches the page through both VMOs), 1 page for p2.
    assert (records["p1"].rss_bytes, records["p2"].rss_bytes) == (2 * PAGE_SIZE, PAGE_SIZE)
    assert records["p1"].uss_bytes == records["p2"].uss_bytes == 0
    assert records["p3"].pss_fixed == records["p3"].rss_bytes == 0


def test_handle_only_and_private_pages_count_in_uss():
    kernel = Kernel(64 * MB, MB, MB)
    job = kernel.create_job(kernel.root_job, "j")
    p1, p2 = (kernel.create_process(job, name, 0x1000_0000) for name in ("p1", "p2"))
    mine = kernel.create_vmo(p1, "inspect", 4 * PAGE_SIZE)
    kernel.write(mine, 0, 3)
    image = kernel.create_vmo(p1, "image", 4 * PAGE_SIZE)
    kernel.write(image, 0, 4)
    clone = kernel.clone_vmo(p1, image, "data", 0, 4 * PAGE_SIZE)
    kernel.write(clone, 0, 1)  # its own copy: private to the clone
    kernel.add_handle(p2, image, 0)  # the image is now referenced by two processes
    snapshot = Accountant(kernel, "t").snapshot(0, 0, "Normal")
    assert_snapshot_matches(snapshot, kernel)
    first, second = snapshot.processes[p1.koid], snapshot.processes[p2.koid]
    # USS: 3 pages of its own VMO and the clone's copy; the image is referenced twice.
    assert first.uss_bytes == 4 * PAGE_SIZE and second.uss_bytes == 0
    # The image's page 0 is the image's alone; pages 1-3 are split with the clone.
    image_share = PAGE_FIXED + 3 * (PAGE_FIXED // 2)
    assert second.pss_fixed == image_share // 2
    assert first.pss_fixed == 4 * PAGE_FIXED + 3 * (PAGE_FIXED // 2) + image_share // 2
    truth = compute(kernel)
    assert sum(p.pss for p in truth.processes.values()) == truth.process_reachable == 8 * PAGE_SIZE


def test_share_count_is_one_below_two_mappings():
    """VmObject::share_count(): 1 for 0 or 1 mappings (never 0), then the distinct address
    spaces; `vmos` prints it as #shr, and the legacy figures of mapped VMOs keep their rule."""
    kernel = Kernel(64 * MB, MB, MB)
    job = kernel.create_job(kernel.root_job, "j")
    p1, p2 = (kernel.create_process(job, name, 0x1000_0000) for name in ("p1", "p2"))
    handle_only = kernel.create_vmo(p1, "inspect", PAGE_SIZE)
    twice = kernel.create_vmo(p1, "twice", PAGE_SIZE)
    kernel.write(twice, 0, 1)
    kernel.map(p1.root_vmar, twice, 0, PAGE_SIZE, PERMS_R)
    kernel.map(p1.root_vmar, twice, 0, PAGE_SIZE, PERMS_R)
    shared = kernel.create_vmo(None, "shared", PAGE_SIZE)
    for process in (p1, p2):
        kernel.map(process.root_vmar, shared, 0, PAGE_SIZE, PERMS_R)
    snapshot = Accountant(kernel, "t").snapshot(0, 0, "Normal")
    shares = {v.name: v.share_count for v in snapshot.vmos.values()}
    assert shares == {"inspect": 1, "twice": 1, "shared": 2}
    assert snapshot.processes[p1.koid].private_bytes == 2 * PAGE_SIZE
    row = next(r for r in vmos_text(snapshot, p1.koid).splitlines() if r.endswith("inspect"))
    assert row.split()[5] == "1"  # #shr
    assert handle_only.koid in snapshot.vmos


def test_pager_figures_age_as_the_page_queues():
    """Kmem's pager figures: committed bytes of pager-backed VMOs, newest while touched within
    PAGER_AGING_TICKS, oldest once untouched for PAGER_OLDEST_TICKS."""
    kernel = Kernel(64 * MB, MB, MB)
    blob = kernel.create_vmo(None, "blob-1", 4 * PAGE_SIZE, pager_backed=True)
    kernel.write(blob, 0, 2)
    anon = kernel.create_vmo(None, "anon", PAGE_SIZE)
    kernel.write(anon, 0, 1)
    accountant = Accountant(kernel, "t")

    def pager(tick):
        kmem = accountant.snapshot(tick, 0, "Normal").kmem
        return (kmem.vmo_pager_total_bytes, kmem.vmo_pager_newest_bytes,
                kmem.vmo_pager_oldest_bytes)

    two = 2 * PAGE_SIZE
    assert pager(0) == (two, two, 0)
    assert pager(PAGER_AGING_TICKS) == (two, 0, 0)
    assert pager(PAGER_OLDEST_TICKS) == (two, 0, two)
    kernel.write(blob, 2, 1)
    assert pager(PAGER_OLDEST_TICKS + 1) == (3 * PAGE_SIZE, 3 * PAGE_SIZE, 0)


def test_pager_figures_kept_by_increments_equal_a_full_count():
    """The sums move by what changed each tick; a count over every pager-backed VMO agrees."""
    rng = random.Random(7)
    kernel = Kernel(64 * MB, MB, MB)
    blobs = [kernel.create_vmo(None, f"blob-{i}", 8 * PAGE_SIZE, pager_backed=True)
             for i in range(40)]
    accountant = Accountant(kernel, "t")
    last: dict[int, int] = {}
    for tick in range(90):
        for blob in rng.sample(blobs, 3):
            if rng.random() < 0.5:
                moved = kernel.write(blob, rng.randrange(8), 1)
            else:
                moved = kernel.decommit(blob, rng.randrange(8), 1)
            if moved:  # the kernel marks a VMO whose pages changed
                last[blob.koid] = tick
        if tick == 0:
            last.update((b.koid, 0) for b in blobs)
        kmem = accountant.snapshot(tick, 0, "Normal").kmem
        sizes = {b.koid: b.committed_pages * PAGE_SIZE for b in blobs}
        assert kmem.vmo_pager_total_bytes == sum(sizes.values())
        assert kmem.vmo_pager_newest_bytes == sum(
            n for koid, n in sizes.items() if tick - last[koid] < PAGER_AGING_TICKS)
        assert kmem.vmo_pager_oldest_bytes == sum(
            n for koid, n in sizes.items() if tick - last[koid] >= PAGER_OLDEST_TICKS)
