"""Workloads: what the simulated system runs and how it moves, one class per scenario.

Names and shapes follow the real device capture in tests/fixtures (reference section 5):
bootfs-launched system processes, unnamed component jobs, driver hosts, blobfs holding the
blobs that packaged processes run from.
"""

from __future__ import annotations

import math
import random
from typing import Any, Protocol

from zmtop.engine.sim.device_2021 import (
    APPMGR,
    BLOB_LIBRARIES,
    BOOTFS_FILES,
    CLONER,
    COMPONENT_MANAGER,
    COMPONENTS,
    DRIVER_HOSTS,
    DRIVER_LOOPS,
    DRIVER_MANAGER,
    FSHOST,
    HOG,
    SHELL,
    SHELLS,
    SYS_REALM,
    SYSMGR,
    VIRTUAL_CONSOLE,
    Spec,
)
from zmtop.engine.sim.kernel import PERMS_RW, Job, Kernel, OutOfMemory, Process, Vmo
from zmtop.engine.sim.pressure import PressureWatch
from zmtop.engine.sim.programs import (
    KB,
    LD_SO_BSS,
    MB,
    RIGHTS_RX,
    Image,
    Loader,
    Program,
    make_blob,
    round_pages,
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
              **kwargs: Any) -> Program | None: ...

    def kill_job(self, job: Job, reason: str) -> None: ...


GB = 1024 * MB
IPC_BYTES = 112 * KB  # channel messages queued on the idle device
HOG_BYTES_PER_TICK = 8 * MB  # the oom scenario's runaway


def library_sizes(rng: random.Random) -> tuple[int, int, int]:
    """A shared library's text, relro and data bytes: as on the device, a third of them
    have no relro and a quarter no data."""
    return rng.randint(24, 900) * KB, rng.choice((0, 4, 4, 8, 40)) * KB, rng.choice((0, 4, 4, 8)) * KB


class Scenario:
    """A workload: what is running at boot and how it moves each tick."""

    total_bytes = 8 * GB
    wired_bytes = 104_148_992
    other_bytes = 0
    heap_base_bytes = 14 * MB  # the kernel's own structures before any user object
    description = ""

    def __init__(self, sim: World) -> None:
        self.sim = sim
        self.rng = sim.rng
        self.critical: set[int] = set()  # processes the system reboots without (koids)

    @property
    def kernel(self) -> Kernel:
        return self.sim.kernel

    def boot(self) -> None:
        raise NotImplementedError

    def step(self) -> None:
        raise NotImplementedError

    def forget_killed(self) -> None:
        """Tasks were killed from outside: let go of what died with them."""
        return None


class FuchsiaDevice(Scenario):
    """The device of the real capture (device_2021.py): component_manager serving bootfs,
    fshost and blobfs, the driver hosts, components in their jobs, appmgr's realms."""

    description = "the 2021 device of the real capture: 88 processes, ~6,000 VMOs, one slow leak"
    components = COMPONENTS
    sys_realm = SYS_REALM
    driver_hosts = DRIVER_HOSTS
    start_all = True

    def boot(self) -> None:
        kernel = self.kernel
        root = kernel.root_job
        self.archivist: Program | None = None
        self.jobs: list[Job] = []
        self.inspect_shared: dict[int, list[Vmo]] = {}  # process koid -> its, the archivist holds
        self.transient: list[tuple[Job, int]] = []  # (job, tick it exits)
        self._boot_bootfs()
        self.component_manager = component_manager = self._must_start(
            root, COMPONENT_MANAGER, self.named_images,
            initial_thread="userboot-child-initial-stack")
        for vmo in self.boot_vmos:  # handed over by userboot
            kernel.add_handle(component_manager.process, vmo, RIGHTS_RX)
        self._serve_bootfs()
        self._start_filesystems(root)
        # They serve bootfs and the blobs every program loads from, and are critical to
        # the root job, as on the device.
        self.critical = {component_manager.koid, self.blobfs.koid}
        self._start_drivers(root)
        self._start(kernel.create_job(root, ""), VIRTUAL_CONSOLE, self._bootfs_images(VIRTUAL_CONSOLE))
        self.pending = list(self.components) + list(self.sys_realm)
        appmgr_job = kernel.create_job(root, "")
        self._start(appmgr_job, APPMGR, self._blob_images(APPMGR))
        app = kernel.create_job(appmgr_job, "app")
        self._start(kernel.create_job(app, SYSMGR.name), SYSMGR, self._blob_images(SYSMGR))
        self.sys_job = kernel.create_job(app, "sys")
        if self.start_all:
            while self.pending:
                self._start_component(self.pending.pop(0))
        for spec in SHELLS:
            self._start(kernel.create_job(root, ""), spec, self._shell_images(spec))
        kernel.queue_message(IPC_BYTES)

    # -- the filesystems' images ------------------------------------------------------

    def _boot_bootfs(self) -> None:
        """The kernel's boot VMOs, and the part of bootfs component_manager runs from."""
        kernel, rng = self.kernel, self.rng
        self.boot_vmos = []
        for name, size, pages in (("zbi", 12 * MB, 0), ("counters/desc", 64 * KB, 16),
                                  ("counters/arena", 128 * KB, 32), ("boot-options.txt", 4 * KB, 1),
                                  ("data/phys/symbolizer.log", 4 * KB, 1)):
            vmo = kernel.create_vmo(None, name, size)  # the zbi: decommitted once read
            kernel.write(vmo, 0, pages)
            self.boot_vmos.append(vmo)
        layout = [("bin/component_manager", 3900 * KB, 40 * KB, 8 * KB, 64 * KB, "data0"),
                  ("lib/ld.so.1", 640 * KB, 8 * KB, 8 * KB, LD_SO_BSS, "data")]
        layout += [(f"lib/{lib}", rng.randint(24, 400) * KB, rng.choice((4, 4, 8, 40)) * KB,
                    4 * KB, 0, "data0") for lib in BLOB_LIBRARIES[:COMPONENT_MANAGER.libs]]
        bootfs = kernel.create_vmo(None, "uncompressed-bootfs",
                                   sum(map(round_pages, (sum(f[1:4]) for f in layout))))
        kernel.write(bootfs, 0, bootfs.size_pages)
        self.named_images = []
        offset = 0
        for name, text, rodata, data, bss, data_prefix in layout:
            image = Image(bootfs, offset, round_pages(text), round_pages(rodata),
                          round_pages(data), round_pages(bss), name, data_prefix)
            self.named_images.append(image)
            offset += image.file_size

    def _serve_bootfs(self) -> None:
        """component_manager serves bootfs: each file a VMO of its own named
        `uncompressed-bootfs`, which the programs it starts from bootfs load from."""
        rng = self.rng
        self.served_binaries: dict[str, Image] = {}
        self.served_ld_so = self._served("uncompressed-bootfs", 640 * KB, 8 * KB, 8 * KB,
                                         LD_SO_BSS, data_prefix="data")
        self.served_libs = [self._served("uncompressed-bootfs", *library_sizes(rng), 0)
                            for _ in BLOB_LIBRARIES]
        for _ in range(BOOTFS_FILES):  # data files, drivers, programs nothing runs now
            self._served("uncompressed-bootfs", rng.randint(1, 56) * 4 * KB, 0, 0, 0)

    def _served(self, label: str, text: int, rodata: int, data: int, bss: int,
                data_prefix: str = "data0") -> Image:
        """A file as component_manager serves it, fully committed."""
        kernel = self.kernel
        image = Image(kernel.create_vmo(self.component_manager.process, label,
                                        round_pages(text) + round_pages(rodata) + round_pages(data),
                                        rights=RIGHTS_RX),
                      0, round_pages(text), round_pages(rodata), round_pages(data),
                      round_pages(bss), label, data_prefix)
        kernel.write(image.vmo, 0, image.vmo.size_pages)
        return image

    def _served_binary(self, path: str, label: str = "uncompressed-bootfs") -> Image:
        """The program at `path` in bootfs, served once however many run it."""
        image = self.served_binaries.get(path)
        if image is None:
            rng = self.rng
            image = self._served(label, rng.randint(120, 3000) * KB,
                                 rng.choice((4, 8, 40, 72)) * KB, rng.choice((4, 8, 24)) * KB,
                                 rng.randint(0, 2) * 4 * KB)
            self.served_binaries[path] = image
        return image

    def _bootfs_images(self, spec: Spec, binary: Image | None = None) -> list[Image]:
        """A program started from bootfs: the dynamic linker, its binary, its libraries."""
        binary = binary or self._served_binary(f"bin/{spec.name}")
        return [self.served_ld_so, binary] + self.rng.sample(
            self.served_libs, min(spec.libs, len(self.served_libs)))

    def _blob(self, text: int, rodata: int, data: int, bss: int,
              data_prefix: str = "data0") -> Image:
        """A blob in blobfs, and blobfs's VMO of its merkle tree."""
        kernel = self.kernel
        image = make_blob(kernel, self.blobfs.process, self.rng, text, rodata, data, bss,
                          data_prefix)
        merkle = kernel.create_vmo(self.blobfs.process, f"mrkl-{image.label[5:]}", 8 * KB)
        kernel.write(merkle, 0, merkle.size_pages)
        return image

    def _blob_images(self, spec: Spec, binary: Image | None = None) -> list[Image]:
        """A packaged program: the dynamic linker, its binary and its libraries, all blobs
        (the binary's made when its package first runs, and kept)."""
        rng = self.rng
        binary = binary or self.packages.get(spec.name)
        if binary is None:
            binary = self._blob(rng.randint(40, 1400) * KB, rng.choice((4, 8, 40, 72)) * KB,
                                rng.choice((4, 8, 24)) * KB, rng.randint(0, 2) * 4 * KB)
            self.packages[spec.name] = binary
            self.binary_blobs.append(binary)
        return [self.ld_so_blob, binary] + rng.sample(self.lib_blobs,
                                                       min(spec.libs, len(self.lib_blobs)))

    def _shell_images(self, spec: Spec) -> list[Image]:
        """A shell: its binary from bootfs, named by its path, and the rest from blobs."""
        path = spec.name if spec.name.startswith("/") else "/boot/bin/sh"
        return [self.ld_so_blob, self._served_binary(path, label=path)] + self.rng.sample(
            self.lib_blobs, spec.libs)

    # -- starting programs ------------------------------------------------------------

    def _start(self, job: Job, spec: Spec, images: list[Image],
               initial_thread: str = "initial-thread") -> Program | None:
        """Start `spec`'s program with its heap, threads, loops and the VMOs it holds:
        InspectHeap (shared with the archivist), unnamed ones, and its buffers."""
        sim, kernel, rng = self.sim, self.kernel, self.rng
        loops = tuple(rng.choice(DRIVER_LOOPS).format(n=rng.randrange(64),
                                                      a=rng.getrandbits(30) << 12 | 0xb18)
                      for _ in range(spec.loops))
        program = sim.spawn(job, spec.name, images, heap_kib=36 if spec.go else spec.heap_kib,
                            size_classes=spec.classes,
                            go_heap_kib=spec.heap_kib if spec.go else 0, threads=spec.threads,
                            big_stack=spec.big_stack, initial_thread=initial_thread,
                            channels=rng.randint(8, 40), loops=loops)
        if program is None:
            return None
        process = program.process
        for _ in range(spec.inspect):
            inspect = sim.loader.handle_only_vmo(process, "InspectHeap", 256 * KB,
                                                 rng.choice((1, 1, 1, 2, 4)),
                                                 share_with=self._archivist_process())
            kernel.map(process.root_vmar, inspect, 0, 256 * KB, PERMS_RW, gap=PAGE_SIZE * 16)
            self.inspect_shared.setdefault(process.koid, []).append(inspect)
        for _ in range(spec.unnamed):
            if rng.random() < 0.6:
                reservation = kernel.create_vmo(process, "", 256 * MB)
                kernel.map(process.root_vmar, reservation, 0, 256 * MB, PERMS_RW,
                           gap=PAGE_SIZE * 16)
            else:
                sim.loader.handle_only_vmo(process, "", 268 * KB, 67)
        for name, kib in spec.buffers:
            sim.loader.handle_only_vmo(process, name, kib * KB, kib * KB // PAGE_SIZE)
        return program

    def _must_start(self, job: Job, spec: Spec, images: list[Image], **kwargs: str) -> Program:
        """Start a program the system needs: memory is plentiful at boot."""
        program = self._start(job, spec, images, **kwargs)
        if program is None:
            raise RuntimeError(f"{spec.name} ran out of memory at boot")
        return program

    def _start_filesystems(self, root: Job) -> None:
        """fshost's job: fshost, blobfs (with the blobs every package is loaded from),
        minfs and pkgfs."""
        sim, kernel, rng = self.sim, self.kernel, self.rng
        job = kernel.create_job(root, "")
        fshost, blobfs_spec, minfs, pkgfs = FSHOST
        self._start(job, fshost, self._bootfs_images(fshost))
        self.blobfs = self._must_start(job, blobfs_spec, self._bootfs_images(blobfs_spec))
        blobfs = self.blobfs.process
        self.ld_so_blob = self._blob(640 * KB, 40 * KB, 12 * KB, LD_SO_BSS, data_prefix="data")
        self.lib_blobs = [self._blob(*library_sizes(rng), 0) for _ in BLOB_LIBRARIES]
        self.binary_blobs: list[Image] = []
        self.packages: dict[str, Image] = {}  # by program name: its binary's blob
        for _ in range(20):  # packages on the device that nothing runs now
            self.binary_blobs.append(self._blob(rng.randint(8, 600) * KB, 4 * KB, 4 * KB, 0))
        for _ in range(4):
            sim.loader.handle_only_vmo(blobfs, "vmo-backed-bitmap", 64 * KB, rng.randint(1, 16))
        for _ in range(52):
            inactive = kernel.create_vmo(blobfs, f"inactive-blob-{rng.getrandbits(32):08x}",
                                         rng.randint(8, 64) * KB, pager_backed=True)
            kernel.write(inactive, 0, rng.randint(1, inactive.size_pages))
        program = self._start(job, minfs, self._bootfs_images(minfs))
        if program is not None:
            for _ in range(30):
                sim.loader.handle_only_vmo(program.process, "minfs-inode", 8 * KB, 1)
        self._start(job, pkgfs, self._blob_images(pkgfs))

    def _start_drivers(self, root: Job) -> None:
        """The driver manager's job, and in it `zircon-drivers`: the driver hosts, with the
        buffers of the drivers they run (sysmem's contiguous pool in driver_host:sys)."""
        sim, kernel, rng = self.sim, self.kernel, self.rng
        job = kernel.create_job(root, "")
        for spec in DRIVER_MANAGER:
            self._start(job, spec, self._blob_images(spec))
        self.driver_job = kernel.create_job(job, "zircon-drivers")
        host_binary = self._served_binary("bin/driver_host", label="/pkg/bin/driver_host")
        for spec in self.driver_hosts:
            host = self._start(self.driver_job, spec, self._bootfs_images(spec, host_binary))
            if host is not None:
                sim.loader.handle_only_vmo(host.process, "driver_host-tracer", 64 * KB,
                                           rng.randint(1, 4))

    def _start_component(self, spec: Spec) -> Program | None:
        """A component in a job of its own: unnamed under the root job for framework v2,
        named like it in appmgr's `sys` realm for v1 (`.cmx`)."""
        kernel = self.kernel
        v1 = spec.name.endswith(".cmx")
        if v1 and self.sys_job.koid not in kernel.jobs:  # appmgr's realm was killed
            return None
        job = kernel.create_job(self.sys_job if v1 else kernel.root_job, spec.name if v1 else "")
        self.jobs.append(job)
        program = self._start(job, spec, self._blob_images(spec))
        if program is None:
            return None
        if spec.name == "archivist.cm":
            self.archivist = program
        if spec.name == "cobalt.cm":
            self._leaker_koid = program.koid
        return program

    _leaker_koid = 0

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
        try:  # messages come and go around what an idle device keeps queued
            queued = self.kernel.ipc_bytes
            self.kernel.queue_message(rng.randint(-16, 16) * KB + (IPC_BYTES - queued) // 4)
        except OutOfMemory:
            pass

    def _move_threads_and_secondaries(self, programs: list[Program]) -> None:
        """Now and then a thread starts or ends, and a large allocation comes or goes."""
        loader, rng = self.sim.loader, self.rng
        try:
            if rng.random() < 0.3:
                loader.add_thread(rng.choice(programs), pages=rng.randint(2, 4))
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
                    self._forget_inspect(job)
                    self.sim.kill_job(job, "exited")

    def _forget_inspect(self, job: Job) -> None:
        """The archivist lets go of the inspect VMOs of a job's processes as they exit."""
        archivist = self._archivist_process()
        for process in job.processes:
            for vmo in self.inspect_shared.pop(process.koid, ()):
                for handle in [h for h in vmo.handles if h.owner is archivist]:
                    self.kernel.close_handle(handle)

    def _churn_components(self) -> None:
        """Every 15 ticks a shell starts, for 10 to 45 ticks."""
        sim, rng = self.sim, self.rng
        tick = sim.tick
        self._end_transients()
        if tick % 15 == 0:
            job = self.kernel.create_job(self.kernel.root_job, "")
            program = self._start(job, SHELL, self._shell_images(SHELL))
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
            program = self._start_component(rng.choice(self.components))
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
        self.cloner = self._must_start(job, CLONER, self._blob_images(CLONER))
        self.image = kernel.create_vmo(self.cloner.process, "storm-image", 32 * MB)
        kernel.write(self.image, 0, self.image.size_pages)
        self.clones: list[Vmo] = []

    def forget_killed(self) -> None:
        self.clones = [clone for clone in self.clones if clone.alive]

    def step(self) -> None:
        super().step()
        kernel, rng, process = self.kernel, self.rng, self.cloner.process
        if not process.alive:  # killed: no more storms
            return
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
    total_bytes = GB + 128 * MB  # a small device: the hog reaches OOM in about 45 ticks
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
            self.hog = self._start(job, HOG, self._blob_images(HOG))
            return
        # A steady runaway: 8 MiB a tick, less than the narrowest pressure band (Imminent-OOM
        # is 10 MB wide), so free memory passes through every level on its way down.
        try:  # one large allocation a tick: scudo maps a VMO of its own for each
            sim.loader.secondary_alloc(self.hog, HOG_BYTES_PER_TICK)
        except OutOfMemory:
            pass


class Scale(FuchsiaDevice):
    """A big system: `process_count` processes and `vmo_count` VMOs (the device's, then
    copies of its components, then blobs they hold open), about 5% of VMOs changing per
    tick."""

    description = "2,000 processes, 100,000 VMOs, ~5% of VMOs changing each tick"
    total_bytes = 64 * GB
    components = COMPONENTS
    driver_hosts = DRIVER_HOSTS
    process_count = 2000
    vmo_count = 100_000
    blob_pages = 16  # each scratch VMO's size: a 64 KiB file

    def boot(self) -> None:
        super().boot()
        sim, kernel, rng = self.sim, self.kernel, self.rng
        while len(sim.programs) < self.process_count:
            spec = COMPONENTS[len(sim.programs) % len(COMPONENTS)]
            copy = spec._replace(name=f"{spec.name.split('.')[0]}-{len(sim.programs)}.cm",
                                 heap_kib=min(spec.heap_kib, 160), classes=min(spec.classes, 12),
                                 threads=0, libs=2, go=False)
            self._start(kernel.create_job(kernel.root_job, ""), copy,
                        self._blob_images(copy, rng.choice(self.binary_blobs)))
        target = self.vmo_count - len(kernel.vmos)
        programs = list(sim.programs.values())
        # The rest are files of the programs' packages they hold open: blobs the pager
        # brings in and evicts, a page at a time. They are dealt to the programs in turn.
        self.scratch = []
        self.dealt = len(programs)
        for i in range(max(0, target)):
            program = programs[i % len(programs)]
            vmo = kernel.create_vmo(program.process, f"blob-{rng.getrandbits(32):08x}",
                                    self.blob_pages * PAGE_SIZE, pager_backed=True)
            kernel.write(vmo, 0, rng.randint(0, 4))
            self.scratch.append(vmo)

    def forget_killed(self) -> None:
        self.scratch = [vmo for vmo in self.scratch if vmo.alive]

    def step(self) -> None:
        kernel, rng, scratch = self.kernel, self.rng, self.scratch
        count = min(len(scratch), len(kernel.vmos) // 20)  # 5% of all VMOs
        if not count:  # every process holding scratch VMOs was killed, or nearly all VMOs
            return
        pool = len(scratch)
        # Every `step`th scratch VMO from a random start, wrapping once past the end, picks
        # `count` distinct ones; a step prime to the programs they were dealt to spreads
        # them over every program. Speed: two slices, in the order the VMOs were made, where
        # a random stride's walk, sorted, cost 0.9 ms more a scale tick and 8 at xl; bench:
        # "scale: all-in engine tick" (engine_bench).
        step, start = pool // count, rng.randrange(pool)
        while math.gcd(step, self.dealt) != 1:
            step -= 1
        head = scratch[start:start + count * step:step]
        wrapped = start + len(head) * step - pool  # the first pick past the end, if any
        vmos = scratch[wrapped:wrapped + (count - len(head)) * step:step] + head
        # Each VMO gives back its top page (on an odd coin, or when full) or writes the next
        # one. Speed: each one's top is read and the batches are split in one loop, where a
        # C loop each cost more; bench: "scale: all-in engine tick" (engine_bench).
        full = self.blob_pages
        freed: list[Vmo] = []
        freed_pages: list[int] = []
        written: list[Vmo] = []
        written_pages: list[int] = []
        for vmo, coin in zip(vmos, rng.randbytes(count)):
            top = vmo.own.bit_length()
            if top and (coin & 1 or top == full):
                freed.append(vmo)
                freed_pages.append(top - 1)
            else:
                written.append(vmo)
                written_pages.append(top)
        kernel.decommit_pages(freed, freed_pages)
        kernel.write_pages(written, written_pages)


class Xl(Scale):
    """Scale five times over: 10,000 processes and 500,000 VMOs."""

    description = "10,000 processes, 500,000 VMOs, ~5% of VMOs changing each tick"
    total_bytes = 5 * Scale.total_bytes
    process_count = 10_000
    vmo_count = 500_000


SCENARIOS = {
    "default": FuchsiaDevice,
    "boot": Boot,
    "leak": Leak,
    "churn": Churn,
    "cow-storm": CowStorm,
    "oom": Oom,
    "scale": Scale,
    "xl": Xl,
}
