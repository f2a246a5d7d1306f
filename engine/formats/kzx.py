"""The kernel console's `k zx ...` diagnostics (object/diagnostics.cc), text and JSON.

Formats follow the diagnostics.cc generation the reference quotes (section 6): the `ps`
header has two spaces before `#h:` and rows glue the counts to the koid, and the rights key
has 20 names (no `ms`). Processes are walked as the kernel's ProcessWalker does (a job's
processes, then its child jobs, depth first); `jobs` lists every job below the root job.

Choices where a device has no single answer:
- `mwd <mb>` prints one sweep of the watchdog (it runs once a second on a device). Like the
  kernel it compares the process's committed mapped pages (VmAspace::AllocatedPages: legacy
  private + shared bytes, shared pages counted whole) with `mb` MiB, and prints pages / 256.
- `koid <koid>` answers as the kernel does, "no handles found" included; `ht`, `vmos <pid>`
  and `asd <pid>` raise KeyError("process N not found!") for an unknown process.
Names are escaped with names.safe_name in text and left raw in JSON.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from zmtop.engine.formats.jsonout import vmo_json
from zmtop.engine.formats.kernel_aspace import (
    KIND_PROCESS,
    MMU_EXECUTE,
    MMU_READ,
    MMU_USER,
    MMU_WRITE,
    AspaceNode,
    KernelVmo,
    kernel_aspace,
    kernel_only_vmos,
    object_address,
)
from zmtop.engine.formats.names import safe_name
from zmtop.engine.formats.psutils import (
    dump_vmos_text,
    hidden_vmos,
    kernel_address,
    vmo_dump_header,
    vmo_dump_row,
)
from zmtop.engine.formats.sizes import format_size
from zmtop.engine.snapshot.records import (
    PAGE_SIZE,
    PERM_EXECUTE,
    PERM_READ,
    PERM_WRITE,
    RIGHT_KEYS,
    Process,
    Snapshot,
)

KOID_FIRST = 1024
PAGES_PER_MB = 256
MWD_DEFAULT_MB = 32

# --- ps and jobs ------------------------------------------------------------------------

PS_HEADER = f"{'id':>7}  #h:  #jb #pr #th #vo #vm #ch #ev #po #so #tm #fi #?? [name]\n"
PS_HELP = (
    "id  : process id number\n"
    "#h  : total number of handles\n"
    "#jb : number of job handles\n"
    "#pr : number of process handles\n"
    "#th : number of thread handles\n"
    "#vo : number of vmo handles\n"
    "#vm : number of virtual memory address region handles\n"
    "#ch : number of channel handles\n"
    "#ev : number of event and event pair handles\n"
    "#po : number of port handles\n"
    "#so: number of sockets\n"
    "#tm : number of timers\n"
    "#fi : number of fifos\n"
    "#?? : number of all other handle types\n"
)
# The `k zx ps` columns after #h, each with the handle types it counts; "??" takes the rest.
PS_COLUMNS = (("jb", ("job",)), ("pr", ("process",)), ("th", ("thread",)), ("vo", ("vmo",)),
              ("vm", ("vmar",)), ("ch", ("channel",)), ("ev", ("event", "eventpair")),
              ("po", ("port",)), ("so", ("socket",)), ("tm", ("timer",)), ("fi", ("fifo",)))
_COLUMN_OF = {t: col for col, types in PS_COLUMNS for t in types}


def walk_processes(snap: Snapshot) -> list[Process]:
    """Processes in ProcessWalker order: a job's processes, then its child jobs, depth first."""
    return [snap.processes[k] for k in snap.job_processes(snap.root_job)]


def walk_jobs(snap: Snapshot) -> list[int]:
    """Koids of the jobs below the root job, pre-order (JobWalker skips the root itself)."""
    return snap.jobs_depth_first(snap.root_job)[1:]


def handle_counts(proc: Process) -> dict[str, int]:
    """Handle counts by `k zx ps` column: total "h", then jb .. fi and "??"."""
    counts = dict.fromkeys(["h", *(col for col, _ in PS_COLUMNS), "??"], 0)
    for handle in proc.handles:
        counts[_COLUMN_OF.get(handle.type, "??")] += 1
    counts["h"] = len(proc.handles)
    return counts


def ps_text(snap: Snapshot) -> str:
    """`k zx ps`: the handle counts of every process."""
    lines = [PS_HEADER]
    for proc in walk_processes(snap):
        c = list(handle_counts(proc).values())
        counts = f"{c[0]:4}: {c[1]:4} " + " ".join(f"{n:3}" for n in c[2:])
        lines.append(f"{proc.koid:7}{counts} [{safe_name(proc.name)}]\n")
    return "".join(lines)


def ps_json(snap: Snapshot) -> list[dict[str, Any]]:
    return [{"koid": p.koid, "name": p.name, "handles": handle_counts(p)}
            for p in walk_processes(snap)]


def jobs_text(snap: Snapshot) -> str:
    """`k zx jobs`."""
    lines = ["All jobs:\n", f"{'koid':>7} name\n"]
    lines += [f"{k:7} '{safe_name(snap.jobs[k].name)}'\n" for k in walk_jobs(snap)]
    return "".join(lines)


def jobs_json(snap: Snapshot) -> list[dict[str, Any]]:
    return [{"koid": k, "name": snap.jobs[k].name} for k in walk_jobs(snap)]


# --- vmos -------------------------------------------------------------------------------


def _require(snap: Snapshot, koid: int) -> Process:
    if koid not in snap.processes:
        raise KeyError(f"process {koid} not found!")
    return snap.processes[koid]


def vmos_text(snap: Snapshot, target: str | int, unit: str = "") -> str:
    """`k zx vmos all|hidden|<pid> [-u<unit>]`."""
    if target in ("all", "hidden"):
        return dump_vmos_text(snap, hidden=target == "hidden", unit=unit)
    proc = _require(snap, int(target))
    lines = [f"process [{proc.koid}]:\n", "Handles to VMOs:\n", vmo_dump_header(handles=True)]
    size = alloc = count = 0
    for h in proc.handles:
        vmo = snap.vmos.get(h.koid) if h.type == "vmo" else None
        if vmo is None:
            continue
        lines.append(vmo_dump_row(vmo, kernel_address(vmo.koid), handle=h.value, rights=h.rights,
                                  unit=unit))
        count += 1
        size += vmo.size_bytes
        alloc += vmo.committed_bytes if vmo.is_paged else 0
    lines.append(f"  total: {count} VMOs, size {format_size(size, unit)},"
                 f" alloc {format_size(alloc, unit)}\n")
    lines += ["Mapped VMOs:\n", vmo_dump_header()]
    lines += [vmo_dump_row(snap.vmos[e.vmo_koid], kernel_address(e.vmo_koid), unit=unit)
              for e in proc.maps if e.type == "M"]
    lines.append(vmo_dump_header())
    return "".join(lines)


def vmos_json(snap: Snapshot, target: str | int) -> Any:
    """The rows of `vmos_text` as zx_info_vmo_t records, plus the kernel object address."""
    if target in ("all", "hidden"):
        user = (hidden_vmos(snap) if target == "hidden"
                else [snap.vmos[k] for k in sorted(snap.vmos)])
        rows = [(f"{a:#x}", v) for a, v in kernel_only_vmos(snap)]
        rows += [(kernel_address(v.koid), v) for v in user]
        return [{"address": a} | vmo_json(v) for a, v in rows]
    proc = _require(snap, int(target))
    handles = [
        {"handle": h.value, "rights": h.rights, "address": kernel_address(h.koid)}
        | vmo_json(snap.vmos[h.koid])
        for h in proc.handles if h.type == "vmo" and h.koid in snap.vmos
    ]
    mapped = [{"address": kernel_address(e.vmo_koid)} | vmo_json(snap.vmos[e.vmo_koid])
              for e in proc.maps if e.type == "M"]
    return {"koid": proc.koid, "handles": handles, "mapped": mapped}


# --- ht and koid ------------------------------------------------------------------------

RIGHTS_HEADER = " ".join(RIGHT_KEYS)
RIGHTS_HELP = "".join(f"{key:<4}: ZX_RIGHT_{name}\n" for key, name in zip(RIGHT_KEYS, (
    "DUPLICATE", "TRANSFER", "READ", "WRITE", "EXECUTE", "MAP", "GET_PROPERTY", "SET_PROPERTY",
    "ENUMERATE", "DESTROY", "SET_POLICY", "GET_POLICY", "SIGNAL", "SIGNAL_PEER", "WAIT",
    "INSPECT", "MANAGE_JOB", "MANAGE_PROCESS", "MANAGE_THREAD", "APPLY_PROFILE")))
# ObjectTypeToString, from memgraph's type names.
_KERNEL_TYPE_NAMES = {"eventpair": "event-pair", "pci_device": "pci-device"}
_KNOWN_TYPES = {"process", "thread", "vmo", "channel", "event", "port", "interrupt", "log",
                "socket", "resource", "job", "vmar", "fifo", "guest", "vcpu", "timer", "iommu",
                "bti", "profile", "pmt", "suspend-token", "pager", "exception"}


def type_name(memgraph_type: str) -> str:
    """ObjectTypeToString of a memgraph type name; "???" for one the kernel does not name."""
    known = memgraph_type if memgraph_type in _KNOWN_TYPES else "???"
    return _KERNEL_TYPE_NAMES.get(memgraph_type, known)


def _hex(value: int) -> str:
    """printf `%#10x`: C prints a zero without the 0x prefix."""
    return f"{value:#10x}" if value else f"{0:10}"


def rights_mask(rights: int) -> str:
    """FormatHandleRightsMask: 0 or 1 per right, each as wide as its key."""
    return " ".join(f"{(rights >> i) & 1:{len(key)}}" for i, key in enumerate(RIGHT_KEYS))


def ht_text(snap: Snapshot, koid: int) -> str:
    """`k zx ht <pid>`: the process's handle table with the rights of each handle."""
    proc = _require(snap, koid)
    lines = [f"process {koid} ('{safe_name(proc.name)}') handles:\n",
             f"{'koid':>7} {'handle':>10} {'rights':>10}: {{{RIGHTS_HEADER}}} [type]\n"]
    lines += [f"{h.koid:7} {_hex(h.value)} {_hex(h.rights)}: {{{rights_mask(h.rights)}}}"
              f" [{type_name(h.type)}]\n" for h in proc.handles]
    lines.append(f"total: {len(proc.handles)} handles\n")
    return "".join(lines)


def _rights_names(rights: int) -> list[str]:
    return [key for i, key in enumerate(RIGHT_KEYS) if rights >> i & 1]


def ht_json(snap: Snapshot, koid: int) -> dict[str, Any]:
    proc = _require(snap, koid)
    handles = [{"koid": h.koid, "handle": h.value, "rights": h.rights,
                "rights_names": _rights_names(h.rights), "type": type_name(h.type)}
               for h in proc.handles]
    return {"koid": koid, "name": proc.name, "handles": handles}


def _holders(snap: Snapshot, koid: int) -> list[tuple[Process, int, str]]:
    return [(p, h.rights, h.type) for p in walk_processes(snap) for h in p.handles
            if h.koid == koid]


def koid_text(snap: Snapshot, koid: int) -> str:
    """`k zx koid <koid>`: every process's handles to one object (DumpHandlesForKoid)."""
    if koid < KOID_FIRST:
        return f"invalid koid, non-reserved koids start at {KOID_FIRST}\n"
    holders = _holders(snap, koid)
    if not holders:
        return f"no handles found for koid {koid}\n"
    lines = [f"handles for koid {koid} ({type_name(holders[0][2])}):\n",
             f"{'pid':>7} {'rights':>10}: {{{RIGHTS_HEADER}}} [name]\n"]
    lines += [f"{p.koid:7} {_hex(r)}: {{{rights_mask(r)}}} [{safe_name(p.name)}]\n"
              for p, r, _ in holders]
    processes = len({p.koid for p, _, _ in holders})
    lines.append(f"total: {len(holders)} handles in {processes} processes\n")
    return "".join(lines)


def koid_json(snap: Snapshot, koid: int) -> dict[str, Any]:
    holders = _holders(snap, koid)
    return {"koid": koid, "type": type_name(holders[0][2]) if holders else None,
            "handles": [{"pid": p.koid, "name": p.name, "rights": r,
                         "rights_names": _rights_names(r)} for p, r, _ in holders]}


# --- asd --------------------------------------------------------------------------------

_MMU_OF_PERM = ((PERM_READ, MMU_READ), (PERM_WRITE, MMU_WRITE), (PERM_EXECUTE, MMU_EXECUTE))
MMU_UNCACHED = 0x1  # physical VMOs default to uncached access
USER_PHYS_BASE = 0xC000_0000


def process_aspace(snap: Snapshot, koid: int) -> list[AspaceNode]:
    """A process's aspace as dump lines, from its maps and the VMO records."""
    proc = _require(snap, koid)
    wanted = {e.vmo_koid for e in proc.maps if e.type == "M"}
    handles = Counter(h.koid for p in snap.processes.values() for h in p.handles
                      if h.koid in wanted)
    nodes = []
    for i, e in enumerate(proc.maps):
        addr = object_address(KIND_PROCESS, koid * 1024 + i)
        if e.type == "A":
            nodes.append(AspaceNode("as", 0, addr, e.base, e.size, e.name, 0,
                                    1 + len(proc.threads)))
        elif e.type == "R":
            nodes.append(AspaceNode("vmar", e.depth, addr, e.base, e.size, e.name))
        else:
            vmo = snap.vmos[e.vmo_koid]
            flags = MMU_USER | sum(m for p, m in _MMU_OF_PERM if e.perms & p)
            phys = None if vmo.is_paged else USER_PHYS_BASE + (vmo.koid % 64) * 0x100_0000
            kvmo = KernelVmo(int(kernel_address(vmo.koid), 16), vmo.koid, vmo.size_bytes,
                             vmo.committed_bytes // PAGE_SIZE,
                             vmo.num_mappings + handles[vmo.koid], vmo.parent_koid, phys)
            nodes.append(AspaceNode("map", e.depth, addr, e.base, e.size, e.name,
                                    flags | (MMU_UNCACHED if phys is not None else 0), 1, kvmo,
                                    e.vmo_offset, e.committed_bytes // PAGE_SIZE))
    return nodes


def _aspace_nodes(snap: Snapshot, target: str | int) -> list[AspaceNode]:
    if isinstance(target, str) and target and "kernel".startswith(target):
        return kernel_aspace(snap)  # like the kernel, any prefix of "kernel" will do
    return process_aspace(snap, int(target))


def _x(value: int) -> str:
    """printf `%#x`: zero prints as a bare 0."""
    return f"{value:#x}" if value else "0"


def _span(n: AspaceNode) -> str:
    return f"{n.addr:#x} [{_x(n.base)} {_x(n.base + n.size - 1)}] sz {_x(n.size)}"


def asd_text(snap: Snapshot, target: str | int) -> str:
    """`k zx asd kernel|<pid>`: VmAspace::Dump(verbose), each level indented two spaces."""
    lines = []
    for n in _aspace_nodes(snap, target):
        pad = "  " * n.depth
        name = safe_name(n.name)
        if n.kind == "as":
            lines.append(f"{pad}as {_span(n)} fl {_x(n.flags)} ref {n.ref} '{name}'\n")
        elif n.kind == "vmar":
            lines.append(f"{pad}vmar {_span(n)} ref {n.ref} '{name}'\n")
        else:
            v = n.vmo
            assert v is not None  # a mapping's node carries its VMO
            lines.append(f"{pad}map {_span(n)} mmufl {_x(n.flags)} vmo {v.addr:#x}/k{v.koid}"
                         f" off {_x(n.offset)} pages {n.pages} ref {n.ref} '{name}'\n")
            if v.phys_base is None:
                lines.append(f"{pad}  vmo {v.addr:#x}/k{v.koid} size {_x(v.size)} pages {v.pages}"
                             f" ref {v.ref} parent k{v.parent_koid}\n")
            else:
                lines.append(f"{pad}  object {v.addr:#x} base {_x(v.phys_base)} size {_x(v.size)}"
                             f" ref {v.ref}\n")
    return "".join(lines)


def asd_json(snap: Snapshot, target: str | int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n in _aspace_nodes(snap, target):
        record: dict[str, Any] = {"type": n.kind, "depth": n.depth, "address": f"{n.addr:#x}", "base": n.base,
                  "size": n.size, "name": n.name, "ref": n.ref}
        if n.kind == "as":
            record["flags"] = n.flags
        if n.kind == "map":
            v = n.vmo
            assert v is not None  # a mapping's node carries its VMO
            record |= {"mmu_flags": n.flags, "offset": n.offset, "committed_pages": n.pages,
                       "vmo": {"address": f"{v.addr:#x}", "koid": v.koid, "size": v.size,
                               "pages": v.pages, "ref": v.ref, "parent_koid": v.parent_koid,
                               "phys_base": v.phys_base}}
        out.append(record)
    return out


# --- mwd --------------------------------------------------------------------------------


def memory_hogs(snap: Snapshot, mb: int = MWD_DEFAULT_MB) -> list[tuple[Process, int]]:
    """(process, committed pages) of each process at or over `mb` MiB, in walker order."""
    out = []
    for proc in walk_processes(snap):
        pages = (proc.private_bytes + proc.shared_bytes) // PAGE_SIZE
        if pages >= mb * PAGES_PER_MB:
            out.append((proc, pages))
    return out


def mwd_text(snap: Snapshot, mb: int = MWD_DEFAULT_MB) -> str:
    """One sweep of `k zx mwd <mb>`."""
    return "".join(f"MemoryHog! proc {p.koid:5} {pages // PAGES_PER_MB:4}M '{safe_name(p.name)}'\n"
                   for p, pages in memory_hogs(snap, mb))


def mwd_json(snap: Snapshot, mb: int = MWD_DEFAULT_MB) -> list[dict[str, Any]]:
    return [{"koid": p.koid, "name": p.name, "committed_bytes": pages * PAGE_SIZE,
             "mb": pages // PAGES_PER_MB} for p, pages in memory_hogs(snap, mb)]
