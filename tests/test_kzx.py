"""`k zx ...` text against diagnostics.cc's printf formats (reference section 6)."""

import json

import pytest

from zmtop.engine.formats import kzx
from zmtop.engine.formats.kernel_aspace import (
    kernel_aspace,
    kernel_only_vmos,
)
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import (
    PERM_READ,
    PERM_WRITE,
    RIGHT_DUPLICATE,
    RIGHT_MAP,
    RIGHT_READ,
    RIGHT_TRANSFER,
    RIGHT_WAIT,
    RIGHT_WRITE,
    VMO_TYPE_PAGED,
    Changes,
    HandleInfo,
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
VMO_RIGHTS = RIGHT_READ | RIGHT_WRITE | RIGHT_MAP | RIGHT_DUPLICATE | RIGHT_TRANSFER | RIGHT_WAIT
HANDLE_TYPES = ("process", "vmar", "thread", "vmo", "channel", "event", "eventpair", "port",
                "socket", "timer", "fifo", "resource")


def vmo(koid, name, size, committed, *, mappings=1, share=1, flags=VMO_TYPE_PAGED):
    return Vmo(koid, name, size, 0, 0, mappings, share, committed, flags, 1, 0, 0, 0)


def app_process():
    handles = [HandleInfo(0x1000 + i, 2000 + i, t, RIGHT_WAIT) for i, t in enumerate(HANDLE_TYPES)]
    handles[3] = HandleInfo(0x2A3B, 1040, "vmo", VMO_RIGHTS)
    handles[0] = HandleInfo(0x1000, 1030, "process", 0)
    maps = (
        MapEntry("A", 0, 0x100_0000, 0x7FFF_FEFF_F000, "proc:1030"),
        MapEntry("R", 1, 0x100_0000, 0x7FFF_FEFF_F000, "root"),
        MapEntry("R", 2, 0x2000_0000, 0x10_000, "useralloc"),
        MapEntry("M", 3, 0x2000_0000, 0x8000, "heap", PERM_READ | PERM_WRITE, 1041, 0, 3 * 4096),
    )
    return Process(1030, 1024, "app\x1b", (Thread(1031, "main", "running"),), maps,
                   (VmoRef(1040, True, VMO_RIGHTS), VmoRef(1041, False)), len(handles),
                   3 * 4096, 3 * 4096, 0, 0, 0, 0, 0, tuple(handles))


def small():
    other = Process(1050, 1025, "hog", (), (), (), 1, 0, 40 * M, 8 * M, 2 * M, 0, 0, 0,
                    (HandleInfo(0x77, 1040, "vmo", RIGHT_READ),))
    return Snapshot(
        tick=1, time_ns=0, source="test", kmem=KMEM, pressure="Normal", root_job=1024,
        jobs={1024: Job(1024, 0, "root", False, (1025,), (1030,)),
              1025: Job(1025, 1024, "sys", False, (), (1050,))},
        processes={1030: app_process(), 1050: other},
        vmos={1040: vmo(1040, "buffer", 2 * M, 64 * K, mappings=0, share=0),
              1041: vmo(1041, "heap", 32 * K, 12 * K)},
        changes=Changes(),
    )


@pytest.fixture(scope="module")
def default_snap():
    return Simulation("default", 1).snapshot


# --- ps and jobs ------------------------------------------------------------------------


def test_ps_header_and_rows_follow_diagnostics_printf():
    lines = kzx.ps_text(small()).splitlines()
    assert lines[0] == "     id  #h:  #jb #pr #th #vo #vm #ch #ev #po #so #tm #fi #?? [name]"
    # processes walk depth-first: the root job's process, then the child job's
    assert lines[1] == "   1030  12:    0   1   1   1   1   1   2   1   1   1   1   1 [app\\x1b]"
    assert lines[2] == "   1050   1:    0   0   0   1   0   0   0   0   0   0   0   0 [hog]"
    # the counts line up under the header's columns
    assert lines[0].index("#h:") + 2 == lines[1].index(":")


def test_ps_help_lists_the_key():
    help_lines = kzx.PS_HELP.splitlines()
    assert help_lines[0] == "id  : process id number"
    assert "#so: number of sockets" in help_lines
    assert help_lines[-1] == "#?? : number of all other handle types"


def test_jobs_lists_jobs_below_root():
    assert kzx.jobs_text(small()) == "All jobs:\n   koid name\n   1025 'sys'\n"


# --- vmos -------------------------------------------------------------------------------


def test_vmos_all_lists_kernel_only_then_every_vmo_with_unit():
    text = kzx.vmos_text(small(), "all", unit="k")
    lines = text.splitlines()
    header = ("           -      -  koid obj                parent #chld #map #shr"
              "    size   alloc name")
    assert lines[0] == "All VMOs, oldest to newest:"
    assert lines[1] == header and lines[-1] == header
    kernel = len(kernel_only_vmos(small()))
    assert all(line[20:25] == "    0" for line in lines[2:2 + kernel])
    assert lines[2 + kernel].endswith(
        "  1040 0xffffff800006db00      -     0    0    0   2048k     64k buffer")
    assert lines[3 + kernel].endswith(
        "  1041 0xffffff800006dcb0      -     0    1    1     32k     12k heap")


def test_vmos_hidden_skips_user_mapped():
    text = kzx.vmos_text(small(), "hidden")
    assert '"Hidden" VMOs, oldest to newest:\n' == text.splitlines(keepends=True)[0]
    assert "  1040 0x" in text and "  1041 0x" not in text


def test_vmos_of_a_process_lists_handles_total_and_mappings():
    lines = kzx.vmos_text(small(), 1030).splitlines()
    assert lines[:3] == [
        "process [1030]:",
        "Handles to VMOs:",
        "      handle rights  koid obj                parent #chld #map #shr    size   alloc name",
    ]
    assert lines[3] == ("       10811 rw-mdt  1040 0xffffff800006db00      -     0    0    0"
                        "      2M     64k buffer")
    assert lines[4] == "  total: 1 VMOs, size 2M, alloc 64k"
    assert lines[5] == "Mapped VMOs:"
    assert lines[7].endswith(
        "  1041 0xffffff800006dcb0      -     0    1    1     32k     12k heap")
    assert lines[6] == lines[8]


# --- ht and koid ------------------------------------------------------------------------


def test_ht_prints_rights_mask_per_handle():
    lines = kzx.ht_text(small(), 1030).splitlines()
    assert lines[0] == "process 1030 ('app\\x1b') handles:"
    assert lines[1] == ("   koid     handle     rights: {dup tr r w x map gpr spr enm des spo gpo"
                        " sig sigp wt ins mj mp mt ap} [type]")
    # rights 0 prints as a bare 0 under %#10x
    assert lines[2] == ("   1030     0x1000          0: {  0  0 0 0 0   0   0   0   0   0   0   0"
                        "   0    0  0   0  0  0  0  0} [process]")
    assert lines[5] == ("   1040     0x2a3b     0x402f: {  1  1 1 1 0   1   0   0   0   0   0   0"
                        "   0    0  1   0  0  0  0  0} [vmo]")
    assert lines[8] == ("   2006     0x1006     0x4000: {  0  0 0 0 0   0   0   0   0   0   0   0"
                        "   0    0  1   0  0  0  0  0} [event-pair]")
    assert lines[13].endswith("[resource]")
    assert lines[-1] == "total: 12 handles"
    assert lines[1].index("}") == lines[2].index("}")


def test_koid_lists_holders_across_processes():
    assert kzx.koid_text(small(), 1040) == (
        "handles for koid 1040 (vmo):\n"
        "    pid     rights: {dup tr r w x map gpr spr enm des spo gpo sig sigp wt ins mj mp mt ap}"
        " [name]\n"
        "   1030     0x402f: {  1  1 1 1 0   1   0   0   0   0   0   0   0    0  1   0  0  0  0"
        "  0} [app\\x1b]\n"
        "   1050        0x4: {  0  0 1 0 0   0   0   0   0   0   0   0   0    0  0   0  0  0  0"
        "  0} [hog]\n"
        "total: 2 handles in 2 processes\n"
    )
    assert kzx.koid_text(small(), 9999) == "no handles found for koid 9999\n"
    assert kzx.koid_text(small(), 5) == "invalid koid, non-reserved koids start at 1024\n"


def test_unknown_process_raises_one_line_error():
    for call in (kzx.ht_text, kzx.asd_text, kzx.vmos_text):
        with pytest.raises(KeyError, match="process 4242 not found!"):
            call(small(), 4242)


# --- asd --------------------------------------------------------------------------------


def test_asd_kernel_lines_follow_the_seed_sample(default_snap):
    lines = kzx.asd_text(default_snap, "kernel").splitlines()
    assert lines[0] == ("as 0xffffffff80252b20 [0xffffff8000000000 0xffffffffffffffff] sz"
                        f" 0x8000000000 fl 0x1 ref {1 + len(default_snap.processes)} 'kernel'")
    assert lines[1] == ("  vmar 0xffffffff802529a0 [0xffffff8000000000 0xffffffffffffffff]"
                        " sz 0x8000000000 ref 1 'root'")
    assert lines[2].startswith("    map ") and " mmufl 0x18 vmo " in lines[2]
    assert lines[2].endswith("/k0 off 0 pages 0 ref 1 ''")  # unnamed, as the seed shows it
    assert lines[3].endswith("/k0 size 0 pages 0 ref 1 parent k0")
    assert lines[5].startswith("      object ") and lines[5].endswith(
        " base 0x7ffe2000 size 0x1000 ref 1")
    assert any(" base 0xfed00000 size 0x1000 ref 1" in line for line in lines)
    assert kzx.asd_text(default_snap, "k") == kzx.asd_text(default_snap, "kernel")


@pytest.mark.parametrize("scenario", ["default", "small"])
def test_kernel_reserved_regions_are_zero_length_vmos(default_snap, scenario):
    """VmAspace::ReserveSpace backs each reserved region with an unnamed zero-length VMO;
    kernel heap and wired memory stay kstats figures (reference 7)."""
    snap = default_snap if scenario == "default" else small()
    maps = [n for n in kernel_aspace(snap) if n.kind == "map"]
    reserved = [n.vmo for n in maps if n.vmo.phys_base is None]
    assert len(reserved) == 6  # physmap, boot reserve, code, rodata, data, bss
    assert all((v.size, v.pages) == (0, 0) for v in reserved)
    assert all(n.pages == 0 and n.name == "" for n in maps)
    vmos = kernel_only_vmos(snap)
    assert all(v.koid == 0 and v.committed_bytes == 0 and v.name == "" for _, v in vmos)
    assert all(v.size_bytes == 0 for _, v in vmos if v.is_paged)
    assert len({a for a, _ in vmos}) == len(vmos)


def test_asd_of_a_process_nests_maps_and_vmos():
    lines = kzx.asd_text(small(), 1030).splitlines()
    assert lines[0].startswith("as 0xffffff82") and lines[0].endswith(
        "[0x1000000 0x7fffffffefff] sz 0x7ffffefff000 fl 0 ref 2 'proc:1030'")
    assert lines[1].startswith("  vmar ") and lines[1].endswith(" ref 1 'root'")
    assert lines[2].startswith("    vmar ") and lines[2].endswith(
        "[0x20000000 0x2000ffff] sz 0x10000 ref 1 'useralloc'")
    assert lines[3].startswith("      map ") and lines[3].endswith(
        "[0x20000000 0x20007fff] sz 0x8000 mmufl 0x1c vmo 0xffffff800006dcb0/k1041 off 0"
        " pages 3 ref 1 'heap'")
    assert lines[4] == "        vmo 0xffffff800006dcb0/k1041 size 0x8000 pages 3 ref 1 parent k0"


# --- mwd and JSON -----------------------------------------------------------------------


def test_mwd_reports_processes_over_the_limit():
    assert kzx.mwd_text(small(), 32) == "MemoryHog! proc  1050   48M 'hog'\n"
    assert kzx.mwd_text(small(), 49) == ""


def test_json_variants_serialise(default_snap):
    pid = kzx.walk_processes(default_snap)[3].koid
    vmo_koid = next(h.koid for h in default_snap.processes[pid].handles if h.type == "vmo")
    for data in (kzx.ps_json(default_snap), kzx.jobs_json(default_snap),
                 kzx.vmos_json(default_snap, "hidden"), kzx.vmos_json(default_snap, pid),
                 kzx.ht_json(default_snap, pid), kzx.koid_json(default_snap, vmo_koid),
                 kzx.asd_json(default_snap, "kernel"), kzx.asd_json(default_snap, pid),
                 kzx.mwd_json(default_snap, 1)):
        assert json.loads(json.dumps(data)) == data
    assert kzx.ps_json(default_snap)[0]["handles"]["h"] == len(
        kzx.walk_processes(default_snap)[0].handles)
