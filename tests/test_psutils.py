"""psutils text and JSON records against the reference's test vectors and doc samples."""

import json

import pytest

from zmtop.engine.formats.jsonout import (
    hidden_vmos_json,
    kmem_json,
    maps_json,
    tasks_json,
    vmo_json,
    vmos_json,
)
from zmtop.engine.formats.kernel_aspace import kernel_only_vmos
from zmtop.engine.formats.psutils import (
    hidden_vmos_text,
    iso_timestamp,
    kstats_text,
    ps_text,
    safe_name,
    vmaps_text,
    vmos_text,
)
from zmtop.engine.snapshot.records import (
    FRACTION_ONE,
    PERM_EXECUTE,
    PERM_READ,
    PERM_WRITE,
    RIGHT_DUPLICATE,
    RIGHT_EXECUTE,
    RIGHT_MAP,
    RIGHT_READ,
    RIGHT_TRANSFER,
    RIGHT_WRITE,
    VMO_IS_COW_CLONE,
    VMO_TYPE_PAGED,
    VMO_VIA_HANDLE,
    VMO_VIA_MAPPING,
    Changes,
    Job,
    Kmem,
    MapEntry,
    Process,
    Snapshot,
    Thread,
    Vmo,
    VmoRef,
)

K = 1024
M = 1024 * K
KMEM = Kmem(8192 * M, 4096 * M, 100 * M, 20 * M, 2 * M, 700 * M, 9 * M, 100 * K, 0)


# --- hand-made snapshots ----------------------------------------------------------------


def job(koid, parent, name, *, jobs=(), processes=(), kill_on_oom=False):
    return Job(koid, parent, name, kill_on_oom, tuple(jobs), tuple(processes))


def proc(koid, job_koid, name, *, private=0, shared=0, scaled=0, threads=(), maps=(), refs=(),
         uss=0, rss=0, pss_fixed=0):
    return Process(koid, job_koid, name, tuple(threads), tuple(maps), tuple(refs), 0,
                   0, private, shared, scaled, uss, rss, pss_fixed)


def vmo(koid, name, size, committed, *, parent=0, children=0, mappings=1, share=1,
        flags=VMO_TYPE_PAGED, private=0, scaled_fixed=0, total=0):
    return Vmo(koid, name, size, parent, children, mappings, share, committed, flags, 1,
               private, scaled_fixed, total)


def snapshot(jobs, processes=(), vmos=(), kmem=KMEM):
    return Snapshot(
        tick=1,
        time_ns=0,
        source="test",
        kmem=kmem,
        pressure="Normal",
        root_job=jobs[0].koid,
        jobs={j.koid: j for j in jobs},
        processes={p.koid: p for p in processes},
        vmos={v.koid: v for v in vmos},
        changes=Changes(),
    )


def system():
    """root(1) holds component_manager(10), an unnamed killoom job(2) and zircon-drivers(3)."""
    return snapshot(
        [
            job(1, 0, "root", jobs=(2, 3), processes=(10,)),
            job(2, 1, "", processes=(20,), kill_on_oom=True),
            job(3, 1, "zircon-drivers", processes=(30,)),
        ],
        [
            proc(10, 1, "bin/component_manager", private=4 * M, shared=36 * K, scaled=12 * K,
                 threads=(Thread(11, "initial-thread", "running"),
                          Thread(12, "pthread_t:0x2a61ec34b18", "blocked")),
                 uss=4 * M, rss=4 * M + 36 * K, pss_fixed=(4 * M + 12 * K) * FRACTION_ONE),
            proc(20, 2, "sh:console", private=100 * K, shared=36 * K, scaled=12 * K,
                 threads=(Thread(21, "initial-thread", "excp"),)),
            proc(30, 3, "driver_host:sys", private=M),
        ],
    )


# --- ps ---------------------------------------------------------------------------------


def test_ps_reproduces_ps_test_c():
    snap = snapshot(
        [
            job(123456, 0, "root", jobs=(7894567,)),
            job(7894567, 123456, "my-job", processes=(123456789,)),
        ],
        [proc(123456789, 7894567, "my-proc", private=1234 * M, shared=1234 * M)],
    )
    assert ps_text(snap) == (
        "TASK                 PSS PRIVATE  SHARED   STATE NAME\n"
        "j: 123456          1234M   1234M                 root\n"
        "  j: 7894567       1234M   1234M                 my-job\n"
        "    p: 123456789   1234M   1234M   1234M         my-proc\n"
        "TASK                 PSS PRIVATE  SHARED   STATE NAME\n"
    )


def test_ps_walks_processes_before_child_jobs_and_sums_jobs():
    assert ps_text(system()) == (
        "TASK          PSS PRIVATE  SHARED   STATE NAME\n"
        "j: 1        5244k   5220k                 root\n"
        "  p: 10     4108k      4M     36k         bin/component_manager\n"
        "  j: 2       112k    100k         killoom \n"
        "    p: 20    112k    100k     36k         sh:console\n"
        "  j: 3         1M      1M                 zircon-drivers\n"
        "    p: 30      1M      1M      0B         driver_host:sys\n"
        "TASK          PSS PRIVATE  SHARED   STATE NAME\n"
    )


def test_ps_jobs_only_drops_processes_and_shared_column():
    assert ps_text(system(), jobs_only=True) == (
        "TASK       PSS PRIVATE   STATE NAME\n"
        "j: 1     5244k   5220k         root\n"
        "  j: 2    112k    100k killoom \n"
        "  j: 3      1M      1M         zircon-drivers\n"
        "TASK       PSS PRIVATE   STATE NAME\n"
    )


def test_ps_threads_follow_their_process():
    lines = ps_text(system(), threads=True).splitlines()
    assert [line.split()[:2] for line in lines[1:-1]] == [
        ["j:", "1"], ["p:", "10"], ["t:", "11"], ["t:", "12"], ["j:", "2"], ["p:", "20"],
        ["t:", "21"], ["j:", "3"], ["p:", "30"],
    ]
    assert lines[0] == "TASK            PSS PRIVATE  SHARED   STATE NAME"
    assert lines[4] == "    t: 12" + " " * 27 + "blocked pthread_t:0x2a61ec34b18"
    assert lines[7] == "      t: 21" + " " * 28 + "excp initial-thread"


def test_ps_jobs_only_with_threads_keeps_threads_like_ps_internal():
    text = ps_text(system(), jobs_only=True, threads=True)
    assert text.startswith("TASK            PSS PRIVATE  SHARED   STATE NAME\n")
    assert "t: 11" in text and "p: 10" not in text


def test_ps_job_subtree_counts_depth_from_that_job():
    assert ps_text(system(), job_koid=2) == (
        "TASK        PSS PRIVATE  SHARED   STATE NAME\n"
        "j: 2       112k    100k         killoom \n"
        "  p: 20    112k    100k     36k         sh:console\n"
        "TASK        PSS PRIVATE  SHARED   STATE NAME\n"
    )


def test_ps_unknown_job_raises_key_error():
    with pytest.raises(KeyError):
        ps_text(system(), job_koid=999)


def test_ps_fixed_unit():
    line = "    p: 30   1024k   1024k      0k         driver_host:sys\n"
    assert line in ps_text(system(), unit="k")


# --- vmaps ------------------------------------------------------------------------------


def test_vmaps_reproduces_doc_sample():
    p = proc(2470, 1, "app", maps=(
        MapEntry("A", 0, 0x01000000, 0x00007FFFFFFFF000 - 0x01000000, "proc:2470"),
        MapEntry("R", 1, 0x01000000, 0x00007FFFFFFFF000 - 0x01000000, "root"),
        MapEntry("R", 2, 0x187BC867000, 0x1A000, "useralloc"),
        MapEntry("M", 3, 0x187BC867000, 0x16000, "libfdio.so", PERM_READ | PERM_EXECUTE, 2535),
        MapEntry("M", 2, 0x246812B91000, 2 * M, "mmap-anonymous", PERM_READ | PERM_WRITE, 2542,
                 committed_bytes=76 * K),
    ))
    snap = snapshot([job(1, 0, "root", processes=(2470,))], [p])
    assert vmaps_text(snap, 2470) == (
        "/A ________01000000-00007ffffffff000    128.0T:sz                    'proc:2470'\n"
        "/R ________01000000-00007ffffffff000    128.0T:sz                    'root'\n"
        "R  00000187bc867000-00000187bc881000      104k:sz                    'useralloc'\n"
        " M 00000187bc867000-00000187bc87d000 r-x   88k:sz   0B:res  2535:vmo 'libfdio.so'\n"
        "M  0000246812b91000-0000246812d91000 rw-    2M:sz  76k:res  2542:vmo 'mmap-anonymous'\n"
    )


def test_vmaps_max_depth_two_pads_like_negative_printf_width():
    p = proc(5, 1, "flat", maps=(
        MapEntry("A", 0, 0x1000000, 0x10000, "proc:5"),
        MapEntry("M", 2, 0x1000000, 0x1000, "vdso/next", PERM_READ, 1058),
    ))
    snap = snapshot([job(1, 0, "root", processes=(5,))], [p])
    assert vmaps_text(snap, 5) == (
        "/A  ________01000000-________01010000       64k:sz                    'proc:5'\n"
        "M ________01000000-________01001000 r--    4k:sz   0B:res  1058:vmo 'vdso/next'\n"
    )


# --- vmos and hidden VMOs ---------------------------------------------------------------

VDSO_RIGHTS = RIGHT_READ | RIGHT_EXECUTE | RIGHT_MAP | RIGHT_DUPLICATE | RIGHT_TRANSFER
ALL_RIGHTS = VDSO_RIGHTS | RIGHT_WRITE
CLONE = VMO_TYPE_PAGED | VMO_IS_COW_CLONE


def vmos_system():
    vmos = [
        vmo(1170, "stack: msg of 0x5a", 4 * K, 4 * K),
        vmo(1031, "vdso/full", 28 * K, 28 * K, children=2, mappings=28, share=14),
        vmo(1298, "jemalloc-heap", 2 * M, 68 * K),
        vmo(1233, "libbacktrace.so", 34406, 4 * K, parent=1232, children=1, flags=CLONE),
        vmo(1237, "data:libbacktrace.so", 4 * K, 4 * K, parent=1233, flags=CLONE),
        vmo(1159, "bss:ld.so.1", 12 * K, 12 * K),
        # Unmapped: the kernel's share_count() is 1 below two mappings (reference 7).
        vmo(1030, "zbi", 8 * M, 8 * M, mappings=0),
        vmo(1020, "", 4 * K, 0, mappings=0, flags=0),
    ]
    refs = (
        VmoRef(1170, True, ALL_RIGHTS),
        VmoRef(1031, True, VDSO_RIGHTS),
        *(VmoRef(k, False) for k in (1298, 1233, 1237, 1159)),
    )
    return snapshot([job(1, 0, "root", processes=(2470,))],
                    [proc(2470, 1, "app", refs=refs)], vmos)


def test_vmos_reproduces_doc_sample():
    assert vmos_text(vmos_system(), 2470) == (
        "rights  koid parent #chld #map #shr    size   alloc name\n"
        "rwxmdt  1170      -     0    1    1      4k      4k stack: msg of 0x5a\n"
        "r-xmdt  1031      -     2   28   14     28k     28k vdso/full\n"
        "     -  1298      -     0    1    1      2M     68k jemalloc-heap\n"
        "     -  1233   1232     1    1    1   33.6k      4k libbacktrace.so\n"
        "     -  1237   1233     0    1    1      4k      4k data:libbacktrace.so\n"
        "     -  1159      -     0    1    1     12k     12k bss:ld.so.1\n"
        "rights  koid parent #chld #map #shr    size   alloc name\n"
    )


def test_hidden_vmos_lists_kernel_only_then_unmapped_oldest_first():
    header = (
        "           -      -  koid obj                parent #chld #map #shr    size   alloc name\n"
    )
    lines = hidden_vmos_text(vmos_system()).splitlines(keepends=True)
    assert lines[:2] == ['"Hidden" VMOs, oldest to newest:\n', header]
    assert lines[-3:] == [
        "           -      -  1020 0xffffff800006b940      -     0    0    1      4k    phys -\n",
        "           -      -  1030 0xffffff800006ca20      -     0    0    1      8M      8M zbi\n",
        header,
    ]
    kernel_rows = lines[2:-3]
    assert len(kernel_rows) == len(kernel_only_vmos(vmos_system()))
    assert kernel_rows[0] == (
        "           -      -     0 0xffffff8100000090      -     0    1    1      0B      0B -\n"
    )
    assert all(row[20:25] == "    0" for row in kernel_rows)


# --- kstats, timestamps, names ----------------------------------------------------------


def test_kstats_reproduces_2017_doc_sample():
    def mib(x):
        return round(x * M)

    kmem = Kmem(
        total_bytes=2048 * M,
        free_bytes=mib(1686.4),
        wired_bytes=mib(17.8),
        total_heap_bytes=mib(5.1) + mib(0.9),
        free_heap_bytes=mib(0.9),
        vmo_bytes=mib(317.8),
        mmu_overhead_bytes=20 * M + 1,
        ipc_bytes=mib(0.1),
        other_bytes=4096,
    )
    assert kstats_text(kmem, timestamp="2017-06-07T05:51:08.021Z") == (
        "\n--- 2017-06-07T05:51:08.021Z ---\n"
        "mem total      free      VMOs     kheap     kfree     wired       mmu       ipc     other\n"
        "    2048M   1686.4M    317.8M      5.1M      0.9M     17.8M     20.0M      0.1M      0.0M \n"
    )


def test_kstats_without_timestamp_is_header_and_values():
    lines = kstats_text(KMEM).split("\n")
    assert lines[0].split() == ["mem", "total", "free", "VMOs", "kheap", "kfree", "wired",
                                "mmu", "ipc", "other"]
    assert lines[1] == "".join(f"{v:>9} " for v in
                               ("8192M", "4096M", "700M", "18M", "2M", "100M", "9M", "0.1M", "0M"))
    assert lines[2:] == [""]


@pytest.mark.parametrize(
    ("time_ns", "expected"),
    [
        (0, "2026-01-01T00:00:00.000Z"),
        (86_400_123_456_789, "2026-01-02T00:00:00.123Z"),
        (61_999_999_999, "2026-01-01T00:01:01.999Z"),
    ],
)
def test_iso_timestamp(time_ns, expected):
    assert iso_timestamp(time_ns) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bin/component_manager", "bin/component_manager"),
        ("caf\u00e9 \u2603", "caf\u00e9 \u2603"),
        ("evil\x1b[2J", "evil\\x1b[2J"),
        ("a\x00b\nc\td", "a\\x00b\\x0ac\\x09d"),
        ("del\x7f", "del\\x7f"),
        ("c1\x85\x9b", "c1\\x85\\x9b"),
    ],
)
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def test_text_outputs_escape_names():
    snap = snapshot([job(1, 0, "ro\x1bot")], [], [vmo(7, "v\x1b", 4 * K, 0, mappings=0)])
    assert "ro\\x1bot" in ps_text(snap)
    assert " v\\x1b\n" in hidden_vmos_text(snap)
    assert "\x1b" not in ps_text(snap) + hidden_vmos_text(snap)


# --- JSON -------------------------------------------------------------------------------


def test_tasks_json_records():
    records = tasks_json(system(), threads=True)
    assert [r["id"] for r in records] == [
        "j/1", "p/10", "t/11", "t/12", "j/2", "p/20", "t/21", "j/3", "p/30",
    ]
    root, cm, thread = records[:3]
    assert root == {"id": "j/1", "type": "j", "koid": 1, "parent": "kernel/vmo", "name": "root",
                    "private_bytes": 5220 * K, "pss_bytes": 5244 * K}
    assert records[4]["parent"] == "j/1"
    assert cm == {
        "id": "p/10", "type": "p", "koid": 10, "parent": "j/1", "name": "bin/component_manager",
        "private_bytes": 4 * M, "shared_bytes": 36 * K, "pss_bytes": 4 * M + 12 * K,
        "uss_bytes": 4 * M, "rss_bytes": 4 * M + 36 * K,
        "attributed_pss_bytes": float(4 * M + 12 * K),
    }
    assert thread == {"id": "t/11", "type": "t", "koid": 11, "parent": "p/10",
                      "name": "initial-thread", "state": "RUNNING"}
    assert records[6]["state"] == "EXCEPTION"
    json.dumps(records)


def test_tasks_json_jobs_only_and_subtree():
    assert [r["id"] for r in tasks_json(system(), jobs_only=True, threads=True)] == [
        "j/1", "j/2", "j/3",
    ]
    assert [r["id"] for r in tasks_json(system(), job_koid=3)] == ["j/3", "p/30"]


def test_vmo_json_fields():
    v = vmo(1031, "vdso/full", 28 * K, 28 * K, private=K,
            scaled_fixed=3 * FRACTION_ONE + FRACTION_ONE // 4, total=28 * K)
    record = vmo_json(v, VmoRef(1031, True, VDSO_RIGHTS))
    assert record == {
        "koid": 1031, "name": "vdso/full", "size_bytes": 28 * K, "parent_koid": 0,
        "num_children": 0, "num_mappings": 1, "share_count": 1,
        "flags": VMO_TYPE_PAGED | VMO_VIA_HANDLE, "committed_bytes": 28 * K,
        "handle_rights": VDSO_RIGHTS, "committed_private_bytes": K,
        "committed_scaled_bytes": 3, "committed_fractional_scaled_bytes": 1 << 61,
        "committed_total_bytes": 28 * K,
    }
    mapped = vmo_json(v, VmoRef(1031, False))
    assert mapped["flags"] == VMO_TYPE_PAGED | VMO_VIA_MAPPING and mapped["handle_rights"] == 0
    assert vmo_json(v)["flags"] == VMO_TYPE_PAGED


def test_vmos_and_hidden_json_follow_text_order():
    snap = vmos_system()
    assert [r["koid"] for r in vmos_json(snap, 2470)] == [1170, 1031, 1298, 1233, 1237, 1159]
    assert [r["koid"] for r in hidden_vmos_json(snap)] == [1020, 1030]


def test_maps_json_fields():
    p = proc(9, 1, "p", maps=(
        MapEntry("A", 0, 0x1000000, 0x10000, "proc:9"),
        MapEntry("R", 1, 0x1000000, 0x10000, "root"),
        MapEntry("M", 2, 0x1000000, 0x1000, "m", PERM_READ, 42, 0x2000, 4096),
    ))
    records = maps_json(snapshot([job(1, 0, "root", processes=(9,))], [p]), 9)
    assert [r["type"] for r in records] == ["aspace", "vmar", "mapping"]
    assert records[0] == {"name": "proc:9", "base": 0x1000000, "size": 0x10000, "depth": 0,
                          "type": "aspace"}
    assert records[2] == {"name": "m", "base": 0x1000000, "size": 0x1000, "depth": 2,
                          "type": "mapping", "mmu_flags": PERM_READ, "vmo_koid": 42,
                          "vmo_offset": 0x2000, "committed_bytes": 4096}


def test_kmem_json_uses_kmem_stats_names():
    assert kmem_json(KMEM) == {
        "total_bytes": 8192 * M, "free_bytes": 4096 * M, "wired_bytes": 100 * M,
        "total_heap_bytes": 20 * M, "free_heap_bytes": 2 * M, "vmo_bytes": 700 * M,
        "mmu_overhead_bytes": 9 * M, "ipc_bytes": 100 * K, "other_bytes": 0,
    }
