"""Workloads: what the simulated system runs and how it moves, one class per scenario.

Names and shapes follow the real device capture in tests/fixtures (reference section 5):
bootfs-launched system processes, unnamed component jobs, driver hosts, blobfs holding the
blobs that packaged processes run from.
"""

from __future__ import annotations

import math
import random
from itertools import repeat
from operator import mod
from typing import Protocol

from zmtop.engine.sim.kernel import PERMS_RW, Job, Kernel, OutOfMemory, Process, Vmo
from zmtop.engine.sim.pressure import PressureWatch
from zmtop.engine.sim.programs import (
    KB,
    MB,
    Image,
    Loader,
    Program,
    make_blob,
    make_bootfs_image,
    try_write,
)
from zmtop.engine.snapshot.records import PAGE_SIZE


class World(Protocol):
    """What a scenario drives: the simulation as its workloads see it."""

    rng: random.Random
    kernel: Kernel
    loader: Loader
    pressure: PressureWatch
    programs: dict[int, Program]
    tick: int

    def spawn(self, job: Job, name: str, images: list[Image],
              **kwargs: int) -> Program | None: ...

    def kill_job(self, job: Job, reason: str) -> None: ...


GB = 1024 * MB

# name, threads, heap pages, handle-only VMOs, libraries beyond libc
COMPONENTS = [
    ("archivist.cm", 6, 300, 24, 4), ("appmgr.cm", 8, 180, 12, 4), ("sysmgr.cmx", 3, 60, 2, 3),
    ("svchost.cm", 4, 50, 3, 3), ("miscsvc.cm", 2, 20, 1, 2), ("netsvc.cm", 3, 30, 1, 2),
    ("netstack.cm", 12, 900, 8, 2), ("dhcpd.cm", 2, 24, 1, 2), ("dns_resolver.cm", 3, 40, 1, 3),
    ("mdns.cm", 3, 60, 1, 3), ("wlanstack.cm", 5, 90, 2, 4), ("wlancfg.cm", 3, 50, 1, 3),
    ("cobalt.cm", 5, 220, 3, 4), ("memory_monitor.cm", 3, 120, 4, 3),
    ("power-manager.cm", 4, 70, 1, 3), ("pwrbtn-monitor.cm", 1, 12, 0, 1),
    ("console.cm", 2, 20, 1, 1), ("console-launcher.cm", 2, 16, 0, 1),
    ("virtual-console.cm", 4, 260, 3, 3), ("ptysvc.cm", 2, 18, 0, 1),
    ("pkg-resolver.cm", 6, 240, 2, 5), ("pkg-cache.cm", 5, 200, 3, 4),
    ("base-resolver.cm", 2, 30, 1, 2), ("universe-resolver.cm", 2, 30, 1, 2),
    ("timekeeper.cmx", 2, 30, 1, 2), ("httpsdate_time_source.cmx", 3, 40, 1, 3),
    ("feedback.cm", 5, 160, 4, 4), ("exceptions.cm", 2, 24, 0, 2), ("crash_reports.cmx", 3, 60, 1, 3),
    ("system-update-checker.cm", 3, 70, 1, 4), ("sshd-host.cmx", 2, 24, 0, 2),
    ("log_listener.cm", 2, 30, 1, 1), ("device_settings_manager.cm", 1, 16, 0, 1),
    ("stash.cm", 2, 40, 1, 2), ("stash_secure.cm", 2, 30, 1, 2), ("tzdata.cm", 1, 12, 0, 1),
    ("fonts.cm", 3, 120, 6, 3), ("intl_services.cm", 2, 60, 1, 3), ("sysmem_connector.cm", 1, 12, 0, 1),
    ("network-policy.cm", 2, 30, 0, 2), ("setui_service.cm", 4, 90, 1, 4),
    ("sl4f.cmx", 4, 110, 1, 4), ("hwinfo.cm", 1, 16, 0, 1), ("last_reboot.cm", 1, 14, 0, 1),
    ("system_recovery.cm", 2, 40, 1, 2), ("remote-control.cm", 3, 50, 1, 3),
    ("remote-diagnostics-bridge.cm", 2, 40, 1, 3), ("overnetstack.cm", 4, 100, 2, 3),
    ("debug_serial.cm", 1, 12, 0, 1), ("bt-init.cm", 2, 20, 0, 2), ("bt-gap.cm", 3, 60, 1, 3),
    ("session_manager.cm", 3, 50, 1, 3), ("trace_manager.cm", 2, 40, 1, 2),
    ("netcfg.cm", 2, 30, 0, 2), ("diagnostics-persistence.cm", 2, 40, 1, 2),
    ("cpu-ctrl.cm", 1, 12, 0, 1), ("thermal.cm", 1, 14, 0, 1),
    ("scenic.cm", 8, 400, 10, 5), ("a11y_manager.cm", 3, 60, 1, 3),
    ("audio_core.cm", 6, 150, 4, 4), ("vulkan_loader.cm", 2, 40, 1, 2),
    ("input-pipeline.cm", 3, 50, 1, 3), ("activity.cm", 1, 16, 0, 1),
    ("sampler.cm", 2, 30, 1, 2),
]
DRIVER_HOSTS = [
    ("driver_host:root", 4, 60, 2), ("driver_host:sys", 20, 420, 200),
    ("driver_host:misc", 3, 40, 1), ("driver_host:platform", 3, 30, 1),
    ("driver_host:pdev:00:00:2d", 2, 20, 1), ("driver_host:pci#0:00:1f.2", 3, 40, 4),
    ("driver_host:pci#0:00:02.0", 3, 60, 6), ("driver_host:pci#0:00:03.0", 4, 80, 8),
] + [("driver_host:composite-device", 2, 18, 1)] * 8
LIBRARIES = ["libc.so", "libfdio.so", "libc++.so.2", "libc++abi.so.1", "libunwind.so.1",
             "libasync-default.so", "libtrace-engine.so", "libsyslog.so", "libbackend_fuchsia_globals.so",
             "libvulkan.so", "libdriver.so"]
LOOP_NAMES = ["fidl-async-loop", "inspect-async-loop", "cobalt-async-loop", "driver-async-loop"]


class Scenario:
    """A workload: what is running at boot and how it moves each tick."""

    total_bytes = 8 * GB
    wired_bytes = 104_148_992
    other_bytes = 2 * MB
    heap_base_bytes = 14 * MB  # the kernel's own structures before any user object
    description = ""

    def __init__(self, sim: World) -> None:
        self.sim = sim
        self.rng = sim.rng

    @property
    def kernel(self) -> Kernel:
        return self.sim.kernel

    def boot(self) -> None:
        raise NotImplementedError

    def step(self) -> None:
        raise NotImplementedError


class FuchsiaDevice(Scenario):
    """A device like the real capture: system processes, components, drivers, blobfs."""

    description = "a device like the real capture: ~90 processes, ~6,000 VMOs, one slow leak"
    components = COMPONENTS
    driver_hosts = DRIVER_HOSTS
    start_all = True

    def boot(self) -> None:
        sim, kernel, rng = self.sim, self.kernel, self.rng
        root = kernel.root_job
        self.bootfs = kernel.create_vmo(None, "uncompressed-bootfs", 40 * MB)
        kernel.write(self.bootfs, 0, self.bootfs.size_pages)
        zbi = kernel.create_vmo(None, "zbi", 12 * MB)
        kernel.write(zbi, 0, zbi.size_pages)
        for name, size in (("counters/desc", 64 * KB), ("counters/arena", 128 * KB),
                           ("boot-options.txt", 4 * KB), ("crashlog", 4 * KB)):
            vmo = kernel.create_vmo(None, name, size)
            kernel.write(vmo, 0, vmo.size_pages)
        offset = 0

        def bootfs_file(name: str, text: int, rodata: int, data: int, bss: int) -> Image:
            nonlocal offset
            image = make_bootfs_image(kernel, self.bootfs, offset, name, text, rodata, data, bss)
            offset += image.file_size
            return image

        self.boot_libs = [bootfs_file(f"lib/{lib}", rng.randint(24, 600) * KB,
                                      rng.randint(4, 40) * KB, rng.randint(4, 24) * KB,
                                      rng.randint(0, 32) * KB) for lib in LIBRARIES[:6]]
        self.boot_binary = {name: bootfs_file(name, rng.randint(200, 2400) * KB, 48 * KB,
                                              16 * KB, 64 * KB)
                            for name in ("bin/bootsvc", "bin/component_manager",
                                         "bin/driver_host", "bin/blobfs", "bin/fshost")}
        self.jobs: list[Job] = []
        self.transient: list[tuple[Job, int]] = []  # (job, tick it exits)
        sim.spawn(root, "bin/bootsvc", [self.boot_binary["bin/bootsvc"]] + self.boot_libs[:4],
                  threads=2, heap_pages=12)
        self.component_manager = self._boot_spawn(
            root, "bin/component_manager",
            [self.boot_binary["bin/component_manager"]] + self.boot_libs, threads=24,
            heap_pages=2400, channels=300)
        cm = self.component_manager
        for _ in range(560):
            sim.loader.handle_only_vmo(cm.process, rng.choice(
                ("component-manager-inspect", "InspectHeap", "config-vmo", "pkg-dir-vmo")),
                64 * KB, rng.randint(1, 6))
        fshost_job = kernel.create_job(root, "")
        sim.spawn(fshost_job, "fshost.cm", [self.boot_binary["bin/fshost"]] + self.boot_libs[:4],
                  threads=4, heap_pages=180)
        self.blobfs = self._boot_spawn(fshost_job, "blobfs.cm",
                                [self.boot_binary["bin/blobfs"]] + self.boot_libs[:4],
                                threads=8, heap_pages=1500)
        blobfs = self.blobfs.process
        for name in ("blobfs-superblock", "journal-writeback-buffer", "vmo-backed-bitmap",
                     "fvm-metadata", "zxcrypt-buffer"):
            sim.loader.handle_only_vmo(blobfs, name, 2 * MB, rng.randint(16, 256))
        self.lib_blobs = [make_blob(kernel, blobfs, rng, rng.randint(40, 900) * KB,
                                    rng.randint(8, 64) * KB, rng.randint(4, 32) * KB, 0)
                          for _ in LIBRARIES]
        self.blob_images: list[Image] = []
        for _ in range(len(self.components) + 40):
            image = make_blob(kernel, blobfs, rng, rng.randint(120, 3000) * KB,
                              rng.randint(16, 200) * KB, rng.randint(8, 64) * KB,
                              rng.randint(16, 512) * KB)
            self.blob_images.append(image)
        for image in self.blob_images + self.lib_blobs:
            merkle = kernel.create_vmo(blobfs, f"mrkl-{image.label[5:]}", 8 * KB)
            kernel.write(merkle, 0, merkle.size_pages)
        for _ in range(60):
            inactive = kernel.create_vmo(blobfs, f"inactive-blob-{rng.getrandbits(32):08x}",
                                         rng.randint(8, 600) * KB)
            kernel.write(inactive, 0, rng.randint(1, inactive.size_pages))
        minfs = self._boot_spawn(fshost_job, "/pkg/bin/minfs", self._package_images(2), threads=3,
                          heap_pages=90)
        for name in ("minfs-inode-table", "minfs-journal-buffer"):
            sim.loader.handle_only_vmo(minfs.process, name, MB, rng.randint(8, 64))
        pkgfs = self._boot_spawn(fshost_job, "pkgfs", self._package_images(2), threads=6, heap_pages=700)
        for _ in range(150):
            sim.loader.handle_only_vmo(pkgfs.process, "pkgfs-meta-far", 16 * KB, 1)
        self._start_drivers(root)
        self.archivist: Program | None = None
        self.pending = list(range(len(self.components)))
        if self.start_all:
            while self.pending:
                self._start_component(self.pending.pop(0))

    _leaker_koid = 0

    def _boot_spawn(self, job: Job, name: str, images: list[Image], **kwargs: int) -> Program:
        """Start a program that the system needs: memory is plentiful at boot."""
        program = self.sim.spawn(job, name, images, **kwargs)
        if program is None:
            raise RuntimeError(f"{name} ran out of memory at boot")
        return program

    def _package_images(self, libs: int) -> list[Image]:
        binary = self.blob_images[self.rng.randrange(len(self.blob_images))]
        return [binary] + self.lib_blobs[: 1 + libs]

    def _start_drivers(self, root: Job) -> None:
        sim, kernel, rng = self.sim, self.kernel, self.rng
        job = kernel.create_job(root, "")
        sim.spawn(job, "driver_manager.cm", self._package_images(3), threads=5, heap_pages=220)
        sim.spawn(job, "driver-index.cm", self._package_images(3), threads=2, heap_pages=60)
        self.driver_job = kernel.create_job(job, "zircon-drivers")
        for name, threads, heap_pages, buffers in self.driver_hosts:
            host = sim.spawn(self.driver_job, name,
                             [self.boot_binary["bin/driver_host"]] + self.boot_libs,
                             threads=threads, heap_pages=heap_pages)
            if host is None:
                continue
            for _ in range(buffers):
                sim.loader.handle_only_vmo(host.process, rng.choice(
                    ("Sysmem-external-heap", "sysmem-buffer", "driver_host-tracer")),
                    rng.randint(1, 64) * 64 * KB, rng.randint(1, 64))
            if name == "driver_host:pci#0:00:02.0":
                framebuffer = kernel.create_vmo(host.process, "simple.bochs", 16 * MB,
                                                paged=False)
                kernel.map(host.process.root_vmar, framebuffer, 0, 16 * MB, PERMS_RW, gap=PAGE_SIZE * 64)

    def _start_component(self, index: int) -> Program | None:
        sim, kernel, rng = self.sim, self.kernel, self.rng
        name, threads, heap_pages, handle_vmos, libs = self.components[index]
        job = kernel.create_job(kernel.root_job, "")
        self.jobs.append(job)
        program = sim.spawn(job, name, self._package_images(libs), threads=threads, heap_pages=heap_pages,
                            channels=rng.randint(8, 40))
        if program is None:
            return None
        if name == "archivist.cm":
            self.archivist = program
        if name == "cobalt.cm":
            self._leaker_koid = program.koid
        for _ in range(handle_vmos + rng.randint(10, 50)):
            sim.loader.handle_only_vmo(program.process, rng.choice(LOOP_NAMES), 16 * KB, 1)
        inspect = sim.loader.handle_only_vmo(
            program.process, "InspectHeap", 256 * KB, rng.randint(1, 4),
            share_with=self._archivist_process())
        kernel.map(program.process.root_vmar, inspect, 0, 256 * KB, PERMS_RW, gap=PAGE_SIZE * 16)
        return program

    def _archivist_process(self) -> Process | None:
        """The archivist's process while it lives: inspect VMOs are shared with it."""
        archivist = self.archivist
        return archivist.process if archivist is not None and archivist.process.alive else None

    def step(self) -> None:
        sim, rng = self.sim, self.rng
        programs = list(sim.programs.values())
        for program in rng.sample(programs, min(8, len(programs))):
            pages = rng.randint(1, 16)
            try:
                if rng.random() < 0.5:
                    sim.loader.grow_heap(program, pages)
                else:
                    sim.loader.shrink_heap(program, pages)
            except OutOfMemory:
                pass
        self._move_threads_and_secondaries(programs)
        leaker = sim.programs.get(self._leaker_koid)
        if leaker is not None:
            try:
                sim.loader.grow_heap(leaker, 3)
            except OutOfMemory:
                pass
        self._churn_components()
        try:
            self.kernel.queue_message(rng.randint(-64, 64) * KB)
        except OutOfMemory:
            pass

    def _move_threads_and_secondaries(self, programs: list[Program]) -> None:
        """Now and then a thread starts or ends, and a large allocation comes or goes."""
        loader, rng = self.sim.loader, self.rng
        try:
            if rng.random() < 0.3:
                loader.add_thread(rng.choice(programs), pages=rng.randint(1, 4))
            if rng.random() < 0.3:
                loader.end_thread(rng.choice(programs))
            if rng.random() < 0.2:
                loader.secondary_alloc(rng.choice(programs), rng.randint(16, 128) * 4 * KB)
            if rng.random() < 0.2:
                loader.free_secondary(rng.choice(programs))
        except OutOfMemory:
            pass

    def _end_transients(self) -> None:
        """Transient components whose time is up exit, with their job."""
        for job, until in list(self.transient):
            if self.sim.tick >= until:
                self.transient.remove((job, until))
                if job.koid in self.kernel.jobs:
                    self.sim.kill_job(job, "exited")

    def _churn_components(self) -> None:
        sim, rng = self.sim, self.rng
        tick = sim.tick
        self._end_transients()
        if tick % 15 == 0:
            job = self.kernel.create_job(self.kernel.root_job, "")
            name = rng.choice(("sh", "/boot/bin/sh", "system-update-checker.cm",
                               "/pkg/bin/sshd", "log_listener.cm"))
            program = sim.spawn(job, name, self._package_images(rng.randint(2, 4)),
                                threads=rng.randint(1, 4), heap_pages=rng.randint(8, 64))
            if program is not None:
                self.transient.append((job, tick + rng.randint(10, 45)))


class Boot(FuchsiaDevice):
    """The device's boot: the root job starts empty of components and fills tick by tick."""

    description = "grows from an empty root job to the full device"
    start_all = False

    def step(self) -> None:
        for _ in range(3):
            if self.pending:
                self._start_component(self.pending.pop(0))
        super().step()


class Leak(FuchsiaDevice):
    """One component leaks fast, through its heap and through VMO handles ps cannot see."""

    description = "a component leaks 256 KiB of heap and a handle-only VMO each tick"
    components = COMPONENTS[:20]
    driver_hosts = DRIVER_HOSTS[:4]

    def step(self) -> None:
        super().step()
        leaker = self.sim.programs.get(self._leaker_koid)
        if leaker is None:
            return
        try:
            self.sim.loader.grow_heap(leaker, 64)
            self.sim.loader.handle_only_vmo(leaker.process, "cobalt-event-buffer", 64 * KB, 16)
        except OutOfMemory:
            pass


class Churn(FuchsiaDevice):
    """Components start and stop every tick."""

    description = "components start and exit every tick"
    components = COMPONENTS[:30]
    driver_hosts = DRIVER_HOSTS[:4]

    def _churn_components(self) -> None:
        sim, rng = self.sim, self.rng
        self._end_transients()
        for _ in range(rng.randint(1, 3)):
            index = rng.randrange(len(self.components))
            program = self._start_component(index)
            if program is not None:
                self.transient.append((self.jobs[-1], sim.tick + rng.randint(2, 12)))


class CowStorm(FuchsiaDevice):
    """Bursts of copy-on-write clones of a big image, then writes into the clones."""

    description = "bursts of clones of a 32 MiB image, then writes into them"
    components = COMPONENTS[:12]
    driver_hosts = DRIVER_HOSTS[:3]

    def boot(self) -> None:
        super().boot()
        kernel = self.kernel
        job = kernel.create_job(kernel.root_job, "")
        self.cloner = self._boot_spawn(job, "cow_storm.cm", self._package_images(2), threads=2,
                                     heap_pages=32)
        self.image = kernel.create_vmo(self.cloner.process, "storm-image", 32 * MB)
        kernel.write(self.image, 0, self.image.size_pages)
        self.clones: list[Vmo] = []

    def step(self) -> None:
        super().step()
        kernel, rng, process = self.kernel, self.rng, self.cloner.process
        if self.sim.tick % 10 < 3:
            for _ in range(rng.randint(4, 12)):
                offset = rng.randrange(0, 24 * MB, PAGE_SIZE)
                clone = kernel.clone_vmo(process, self.image, f"storm-clone-{len(self.clones)}",
                                         offset, 8 * MB)
                self.clones.append(clone)
        else:
            for clone in rng.sample(self.clones, min(6, len(self.clones))):
                try_write(kernel, clone, rng.randrange(clone.size_pages), rng.randint(1, 64))
        if self.sim.tick % 10 == 9:
            for clone in self.clones:
                for handle in list(clone.handles):
                    kernel.close_handle(handle)
            self.clones.clear()


class Oom(FuchsiaDevice):
    """A kill-on-OOM job's hog drives free memory down through every level to an OOM kill."""

    description = "a hog drives free memory to OOM; its kill-on-OOM job is killed and memory returns"
    total_bytes = 2 * GB
    components = COMPONENTS[:16]
    driver_hosts = DRIVER_HOSTS[:4]

    def boot(self) -> None:
        super().boot()
        self.hog: Program | None = None
        self.rest_until = 0

    def step(self) -> None:
        super().step()
        sim, kernel = self.sim, self.kernel
        if self.hog is None or self.hog.koid not in sim.programs:
            if sim.tick < self.rest_until:
                return
            if self.hog is not None:
                self.rest_until = sim.tick + 12
                self.hog = None
                return
            job = kernel.create_job(kernel.root_job, "hog", kill_on_oom=True)
            self.hog = sim.spawn(job, "memory_hog.cm", self._package_images(1), heap_pages=16)
            return
        # A quarter of what is left above the OOM mark, so the hog passes through every
        # pressure band (the Imminent-OOM band is only 10 MB wide) on its way down.
        headroom = kernel.free_bytes - sim.pressure.marks.oom
        pages = min(64 * MB, max(MB, headroom // 4)) // PAGE_SIZE
        try:
            sim.loader.grow_heap(self.hog, pages)
        except OutOfMemory:
            pass


class Scale(FuchsiaDevice):
    """A big system: 2,000 processes and 100,000 VMOs, about 5% of VMOs changing per tick."""

    description = "2,000 processes, 100,000 VMOs, ~5% of VMOs changing each tick"
    total_bytes = 64 * GB
    components = COMPONENTS
    driver_hosts = DRIVER_HOSTS

    def boot(self) -> None:
        super().boot()
        sim, kernel, rng = self.sim, self.kernel, self.rng
        names = [c[0] for c in COMPONENTS]
        while len(sim.programs) < 2000:
            job = kernel.create_job(kernel.root_job, "")
            name = f"{rng.choice(names)[:-3]}-{len(sim.programs)}.cm"
            sim.spawn(job, name, self._package_images(2), threads=2, heap_pages=40,
                      channels=4)
        target = 100_000 - len(kernel.vmos)
        programs = list(sim.programs.values())
        self.scratch = []
        for i in range(max(0, target)):
            program = programs[i % len(programs)]
            vmo = sim.loader.handle_only_vmo(program.process, "scratch-buffer", 64 * KB,
                                             rng.randint(0, 4))
            self.scratch.append(vmo)

    def step(self) -> None:
        kernel, rng, scratch = self.kernel, self.rng, self.scratch
        pool = len(scratch)
        count = min(pool, len(kernel.vmos) // 20)  # 5% of all VMOs
        # A random start and a random stride prime to the pool's size pick `count` distinct
        # scratch VMOs; visiting them in order keeps the walk through memory short.
        start, stride = rng.randrange(pool), rng.randrange(1, pool)
        while math.gcd(stride, pool) != 1:
            stride += 1
        picks = sorted(map(mod, range(start, start + count * stride, stride), repeat(pool)))
        # Each VMO gives back its top page or writes the next one.
        writes, decommits = [], []
        for index, coin in zip(picks, rng.randbytes(count)):
            vmo = scratch[index]
            top = vmo.own.bit_length()
            if top and (coin & 1 or top == vmo.size_pages):
                decommits.append((vmo, top - 1))
            else:
                writes.append((vmo, top))
        kernel.decommit_pages(decommits)
        kernel.write_pages(writes)


SCENARIOS = {
    "default": FuchsiaDevice,
    "boot": Boot,
    "leak": Leak,
    "churn": Churn,
    "cow-storm": CowStorm,
    "oom": Oom,
    "scale": Scale,
}
