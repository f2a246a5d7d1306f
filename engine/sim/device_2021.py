"""What the 2021 device of the real capture (tests/fixtures) runs, process by process.

Each figure is read off the capture: scudo's committed KiB and its regions (the size classes
in use), extra pthreads, whether the initial thread has the 4 MiB stack, InspectHeap VMOs,
async-loop threads (driver hosts), unnamed VMOs. What a capture does not show (jobs, the
number of libraries) follows §5.2 of the reference and the device's VMO counts.
"""

from __future__ import annotations

from typing import NamedTuple


class Spec(NamedTuple):
    """A process as the device runs it."""

    name: str
    heap_kib: int  # scudo's committed KiB (the Go heap's, for a Go program)
    classes: int  # scudo regions at start: the size classes in use
    threads: int = 0  # pthreads beside the initial thread
    big_stack: bool = False  # the initial thread's stack is 4 MiB + 4 KiB, not 516 KiB
    inspect: int = 1  # InspectHeap VMOs, shared with the archivist
    libs: int = 5  # shared libraries beside ld.so.1
    loops: int = 0  # threads running an async loop, their stacks named after it
    unnamed: int = 0  # unnamed VMOs: reservations and small buffers
    go: bool = False  # a Go program: the Go runtime's arenas hold its heap
    buffers: tuple[tuple[str, int], ...] = ()  # (name, KiB): VMOs it holds, all committed


# Components of component framework v2, each in an unnamed job of the root job.
COMPONENTS = [
    Spec("archivist.cm", 7404, 43, threads=4, big_stack=True, libs=6),
    Spec("cobalt.cm", 5224, 40, threads=4, libs=12),
    Spec("memory_monitor.cm", 3764, 43, libs=10),
    Spec("remote-diagnostics-bridge.cm", 1596, 33, big_stack=True, inspect=0, libs=4),
    Spec("system_log_recorder", 1376, 41, inspect=0, libs=14),
    Spec("sampler.cm", 1320, 38, big_stack=True, libs=5),
    Spec("pkg-cache.cm", 1012, 33, threads=1, big_stack=True, libs=10),
    Spec("log-stats.cm", 988, 37, big_stack=True, libs=5),
    Spec("pkg-resolver.cm", 916, 37, threads=1, big_stack=True, libs=11),
    Spec("triage-detect.cm", 808, 38, big_stack=True, libs=5),
    Spec("http-client.cm", 692, 33, big_stack=True, inspect=0, libs=3),
    Spec("base-resolver.cm", 512, 31, big_stack=True, inspect=0, libs=5),
    Spec("setui_service.cm", 488, 32, big_stack=True, libs=10),
    Spec("diagnostics-persistence.cm", 432, 33, big_stack=True, libs=5),
    Spec("remote-control.cm", 364, 34, big_stack=True, inspect=0, libs=4),
    Spec("feedback.cm", 276, 28, libs=15),
    Spec("last_reboot.cm", 248, 26, libs=15),
    Spec("exceptions.cm", 232, 26, libs=15),
    Spec("dns_resolver.cm", 204, 26, big_stack=True, libs=5),
    Spec("wlancfg.cm", 156, 21, big_stack=True, libs=6),
    Spec("mdns.cm", 156, 21, inspect=0, libs=9),
    Spec("netcfg-advanced.cm", 156, 23, big_stack=True, inspect=0, libs=3),
    Spec("decompressor-sandbox.cm", 148, 13, threads=1, inspect=0, libs=4, unnamed=4),
    Spec("reachability.cm", 140, 20, big_stack=True, libs=5),
    Spec("universe-resolver.cm", 132, 19, big_stack=True, inspect=0, libs=3),
    Spec("power-manager.cm", 132, 20, threads=1, big_stack=True, libs=5),
    Spec("system-update-checker.cm", 124, 20, threads=1, big_stack=True, libs=5),
    Spec("wlandevicemonitor.cm", 120, 20, big_stack=True, libs=5),
    Spec("system-update-committer.cm", 120, 18, big_stack=True, libs=11),
    Spec("stash_secure.cm", 120, 19, big_stack=True, libs=5),
    Spec("netsvc.cm", 116, 15, inspect=0, libs=5),
    Spec("system-updater.cm", 116, 19, big_stack=True, libs=6),
    Spec("stash.cm", 116, 19, big_stack=True, libs=5),
    Spec("diagnostics-kcounter.cm", 116, 17, big_stack=True, inspect=2, libs=5),
    Spec("activity.cm", 112, 17, inspect=0, libs=8),
    Spec("wlanstack.cm", 112, 18, big_stack=True, libs=6),
    Spec("hwinfo.cm", 108, 17, big_stack=True, inspect=0, libs=4),
    Spec("dhcpv6-client.cm", 108, 16, big_stack=True, inspect=0, libs=4),
    Spec("remote_control_runner", 104, 15, big_stack=True, inspect=0, libs=3),
    Spec("console.cm", 100, 16, threads=1, inspect=0, libs=5),
    Spec("ptysvc.cm", 92, 10, inspect=0, libs=5),
    Spec("regulatory_region.cm", 88, 15, big_stack=True, inspect=0, libs=4),
    Spec("console-launcher.cm", 88, 15, inspect=0, libs=5),
    Spec("svchost.cm", 84, 12, inspect=0, libs=5),
    Spec("pwrbtn-monitor.cm", 84, 14, inspect=0, libs=5),
    Spec("miscsvc.cm", 84, 13, libs=5),
    Spec("dhcpd.cm", 84, 14, big_stack=True, inspect=0, libs=4),
    Spec("build-info.cm", 76, 12, inspect=0, libs=8),
    Spec("device-name-provider.cm", 76, 12, inspect=0, libs=5),
    Spec("shutdown-shim.cm", 60, 9, inspect=0, libs=5),
    Spec("sysinfo.cm", 60, 9, inspect=0, libs=5),
    Spec("core.cm", 48, 8, inspect=0, libs=9),
    Spec("netstack.cm", 6184, 5, threads=8, inspect=0, libs=2, go=True,
         buffers=(("ethernet.Device.IoBuffer: @/dev", 2048),)),
]
# appmgr, and the components of framework v1 (`.cmx`) it runs in its realms: its own
# `app` realm holds sysmgr, which starts the rest in the `sys` realm.
APPMGR = Spec("appmgr.cm", 836, 29, inspect=11, libs=11)
SYSMGR = Spec("sysmgr.cmx", 224, 25, inspect=0, libs=10)
SYS_REALM = [
    Spec("intl_services.cmx", 888, 35, inspect=0, libs=14),
    Spec("overnetstack.cmx", 996, 34, big_stack=True, inspect=0, libs=4),
    Spec("httpsdate_time_source.cmx", 684, 35, big_stack=True, libs=4),
    Spec("crash_reports.cmx", 244, 26, libs=14),
    Spec("feedback_data.cmx", 236, 26, libs=14),
    Spec("timekeeper.cmx", 160, 23, big_stack=True, libs=4),
    Spec("cobalt_system_metrics.cmx", 160, 19, libs=8),
    Spec("sshd-host.cmx", 116, 16, inspect=0, libs=8),
]
# Started from bootfs by component_manager, which holds every file of it as a VMO.
COMPONENT_MANAGER = Spec("bin/component_manager", 9992, 43, threads=3, libs=8)
FSHOST = [  # one job: fshost and the filesystems it starts
    Spec("fshost.cm", 188, 21, threads=2, libs=10, unnamed=8),
    Spec("blobfs.cm", 740, 30, threads=2, libs=10, unnamed=8, buffers=(("nodemap", 8192),)),
    Spec("/pkg/bin/minfs", 248, 21, libs=11, buffers=(("minfs-inode-table", 8192),)),
    Spec("pkgfs", 7636, 5, threads=8, inspect=0, libs=2, go=True),
]
VIRTUAL_CONSOLE = Spec("virtual-console.cm", 13800, 36, threads=5, big_stack=True, libs=6)
DRIVER_MANAGER = [  # one job: the driver manager and its index; the hosts in a child job
    Spec("driver_manager.cm", 1172, 30, threads=2, inspect=8, libs=6),
    Spec("driver-index.cm", 732, 38, big_stack=True, inspect=0, libs=6),
]
DRIVER_HOSTS = [
    Spec("driver_host:root", 128, 18, libs=10, loops=3),
    Spec("driver_host:sys", 2128, 32, threads=1, inspect=5, libs=10, loops=162, unnamed=5,
         buffers=(("SysmemContiguousPool", 419_376),)),
    Spec("driver_host:pdev:00:00:2d", 132, 18, libs=10, loops=3),
    Spec("driver_host:pdev:00:00:2f", 132, 18, libs=10, loops=3),
    Spec("driver_host:pdev:00:00:30", 164, 22, libs=13, loops=3),
    Spec("driver_host:composite-device", 356, 23, inspect=3, libs=13, loops=17, unnamed=14,
         buffers=(("zxcrypt-buffer", 16384),)),
    Spec("driver_host:composite-device", 296, 21, libs=10, loops=12, unnamed=2),
    Spec("driver_host:composite-device", 228, 25, threads=1, inspect=2, libs=11, loops=9),
    Spec("driver_host:composite-device", 168, 20, libs=10, loops=6, unnamed=7),
    Spec("driver_host:composite-device", 164, 19, libs=10, loops=7, unnamed=3),
    Spec("driver_host:composite-device", 140, 16, libs=10, loops=6),
    Spec("driver_host:composite-device", 140, 16, libs=10, loops=6),
    Spec("driver_host:composite-device", 140, 16, libs=10, loops=6),
    Spec("driver_host:composite-device", 140, 16, libs=10, loops=6),
]
SHELLS = [  # from a blob, but for the shell binary itself
    Spec("sh:console", 40, 6, inspect=0, libs=4),
    Spec("/boot/bin/sh", 68, 12, inspect=0, libs=4),
    Spec("/pkg/bin/sshd", 376, 34, inspect=0, libs=9, loops=1),
]
SHELL = Spec("sh", 40, 6, inspect=0, libs=4)  # started now and then, for a while
# The programs of the other scenarios, built the same way.
CLONER = Spec("cow_storm.cm", 128, 8, threads=1, inspect=0, libs=2)
HOG = Spec("memory_hog.cm", 64, 4, inspect=0, libs=1)
# The async loops a driver host runs a thread for, as their stacks name them.
DRIVER_LOOPS = ["fragment-{n}-async-loop", "proxy-async-loop:0x{a:x}",
                "device_create dummy-async-loop", "fragment-proxy-async-loop",
                "pci-00:{n:02x}.0-async-loop", "ethernet-async-loop", "hid-device-async-loop",
                "block-async-loop:0x{a:x}", "null-async-loop:0x{a:x}", "zero-async-loop:0x{a:x}"]
# Shared libraries in blobfs, beside ld.so.1 (the dynamic linker, which is libc).
BLOB_LIBRARIES = ["libfdio.so", "libc++.so.2", "libc++abi.so.1", "libunwind.so.1",
                  "libasync-default.so", "libtrace-engine.so", "libsyslog.so",
                  "libbackend_fuchsia_globals.so", "librust-trace-provider.so", "libzstd.so",
                  "libinspect.so", "libcrypto.so", "libssl.so", "libvulkan.so",
                  "libdriver.so", "libfidl.so", "libsvc.so", "libzx.so"]
# Files of bootfs that component_manager serves, beside the programs it starts from it.
BOOTFS_FILES = 400
