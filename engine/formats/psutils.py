"""The text of Fuchsia's psutils (`ps`, `vmaps`, `vmos`, `kstats -m`) and `k zx vmos hidden`.

Pure functions over a Snapshot. Each returns exactly what the real tool prints, so output
can be diffed against a device's; the one deliberate difference is that control characters
in names are escaped (engine.formats.names.safe_name): names come from devices and reach a terminal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from zmtop.engine.formats.kernel_aspace import kernel_only_vmos
from zmtop.engine.formats.names import safe_name
from zmtop.engine.formats.sizes import format_size
from zmtop.engine.snapshot.records import (
    PERM_EXECUTE,
    PERM_READ,
    PERM_WRITE,
    THREAD_STATES,
    VMO_RIGHTS_LETTERS,
    Job,
    Kmem,
    Process,
    Snapshot,
    Vmo,
    kstats_fields,
)

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # the simulated clock starts here (kstats -t)


def iso_timestamp(time_ns: int) -> str:
    """`%FT%T.mmmZ` (as kstats -t and memgraph print) of the simulated clock."""
    when = EPOCH + timedelta(seconds=time_ns // 1_000_000_000)
    millis = time_ns // 1_000_000 % 1000
    return f"{when:%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


# --- ps ---------------------------------------------------------------------------------


class TaskRow(NamedTuple):
    """One task_entry_t of ps: a job, process or thread at its depth in the walk."""

    type: str  # "j", "p" or "t"
    depth: int
    koid: int
    parent_koid: int
    name: str
    state: str
    pss_bytes: int = 0
    private_bytes: int = 0
    shared_bytes: int = 0


def walk_tasks(
    snap: Snapshot, *, jobs_only: bool = False, threads: bool = False, job_koid: int | None = None
) -> list[TaskRow]:
    """The rows ps collects, in task-utils walk order: a job, its processes, then its child jobs.

    As in ps_internal.c, `jobs_only` drops process rows but not thread rows, and job sizes are
    summed over every descendant process whether or not its row is kept.
    """
    root = snap.root_job if job_koid is None else job_koid
    return _job_rows(snap, snap.jobs[root], 0, jobs_only, threads)


def _job_rows(
    snap: Snapshot, job: Job, depth: int, jobs_only: bool, threads: bool
) -> list[TaskRow]:
    rows: list[TaskRow] = []
    pss = private = 0
    for pkoid in job.processes:
        proc = snap.processes[pkoid]
        pss += proc.pss_bytes
        private += proc.private_bytes
        if not jobs_only:
            rows.append(
                TaskRow("p", depth + 1, proc.koid, job.koid, proc.name, "",
                        proc.pss_bytes, proc.private_bytes, proc.shared_bytes)
            )
        if threads:
            rows.extend(_thread_rows(proc, depth + 2))
    for child_koid in job.jobs:
        child_rows = _job_rows(snap, snap.jobs[child_koid], depth + 1, jobs_only, threads)
        pss += child_rows[0].pss_bytes
        private += child_rows[0].private_bytes
        rows.extend(child_rows)
    state = "killoom" if job.kill_on_oom else ""
    head = TaskRow("j", depth, job.koid, job.parent_koid, job.name, state, pss, private)
    return [head, *rows]


def _thread_rows(proc: Process, depth: int) -> list[TaskRow]:
    return [TaskRow("t", depth, t.koid, proc.koid, t.name,
                    t.state if t.state in THREAD_STATES else "???") for t in proc.threads]


def ps_text(
    snap: Snapshot,
    *,
    jobs_only: bool = False,
    threads: bool = False,
    job_koid: int | None = None,
    unit: str = "",
) -> str:
    """`ps [-J] [-T] [--units=X] [--job=K]`, in the newest ps_internal.c format.

    Raises KeyError for an unknown `job_koid`.
    """
    rows = walk_tasks(snap, jobs_only=jobs_only, threads=threads, job_koid=job_koid)
    id_w = max(2 * r.depth + 3 + len(str(r.koid)) for r in rows)
    with_shared = threads or not jobs_only
    header = _ps_line(id_w, with_shared, "TASK", "PSS", "PRIVATE", "SHARED", "STATE", "NAME")
    lines = [header]
    for r in rows:
        sized = r.type in ("j", "p")
        lines.append(
            _ps_line(
                id_w,
                with_shared,
                f"{' ' * (2 * r.depth)}{r.type}: {r.koid}",
                format_size(r.pss_bytes, unit) if sized else "",
                format_size(r.private_bytes, unit) if sized else "",
                format_size(r.shared_bytes, unit) if r.type == "p" else "",
                r.state,
                safe_name(r.name),
            )
        )
    lines.append(header)
    return "".join(lines)


def _ps_line(
    id_w: int, with_shared: bool, task: str, pss: str, private: str, shared: str, state: str,
    name: str,
) -> str:
    if with_shared:
        return f"{task:<{id_w}} {pss:>7} {private:>7} {shared:>7} {state:>7} {name}\n"
    return f"{task:<{id_w}} {pss:>7} {private:>7} {state:>7} {name}\n"


# --- vmaps ------------------------------------------------------------------------------


def _ptr(addr: int) -> str:
    return f"________{addr:08x}" if addr <= 0xFFFF_FFFF else f"{addr:016x}"


def _perms(perms: int) -> str:
    return "".join(
        letter if perms & bit else "-"
        for bit, letter in ((PERM_READ, "r"), (PERM_WRITE, "w"), (PERM_EXECUTE, "x"))
    )


def vmaps_text(snap: Snapshot, process_koid: int) -> str:
    """`vmaps <koid>`: the process's aspace, VMARs and mappings as vmaps.c prints them.

    The indent after "/A" and "/R" is printf's `%*s` with width max_depth-3, so when
    max_depth is 2 the negative width still pads one space, as on a device.
    """
    maps = snap.processes[process_koid].maps
    max_depth = max([2, *(e.depth for e in maps)])
    lines = []
    for e in maps:
        if e.depth < 2:
            tree = f"/{e.type}{' ' * abs(max_depth - 3)}"
        else:
            tree = f"{' ' * (e.depth - 2)}{e.type}{' ' * (max_depth - e.depth)}"
        span = f"{_ptr(e.base)}-{_ptr(e.base + e.size)}"
        if e.type == "M":
            detail = (
                f" {_perms(e.perms)} {format_size(e.size):>5}:sz"
                f" {format_size(e.committed_bytes):>4}:res {e.vmo_koid:5}:vmo"
            )
        else:
            detail = f" {format_size(e.size):>9}:sz{'':19}"
        lines.append(f"{tree} {span}{detail} '{safe_name(e.name)}'\n")
    return "".join(lines)


# --- vmos and k zx vmos hidden ----------------------------------------------------------

VMOS_HEADER = "rights  koid parent #chld #map #shr    size   alloc name\n"
HIDDEN_TITLE = '"Hidden" VMOs, oldest to newest:\n'
ALL_TITLE = "All VMOs, oldest to newest:\n"
HIDDEN_HEADER = (
    "           -      -  koid obj                parent #chld #map #shr    size   alloc name\n"
)


def _rights(rights: int) -> str:
    return "".join(letter if rights & bit else "-" for bit, letter in VMO_RIGHTS_LETTERS)


def _vmo_columns(vmo: Vmo, unit: str = "") -> tuple[str, str, str, str]:
    """The parent, size, alloc and name columns vmos.cc and the kernel share."""
    parent = str(vmo.parent_koid) if vmo.is_clone else "-"
    alloc = format_size(vmo.committed_bytes, unit) if vmo.is_paged else "phys"
    return parent, format_size(vmo.size_bytes, unit), alloc, safe_name(vmo.name) or "-"


def vmos_text(snap: Snapshot, process_koid: int) -> str:
    """`vmos <koid>`: one row per ZX_INFO_PROCESS_VMOS entry, duplicates kept as vmos.cc does."""
    lines = [VMOS_HEADER]
    for ref in snap.processes[process_koid].vmo_refs:
        vmo = snap.vmos[ref.vmo_koid]
        parent, size, alloc, name = _vmo_columns(vmo)
        rights = _rights(ref.rights) if ref.via_handle else "-"
        lines.append(
            f"{rights:>6} {vmo.koid:5} {parent:>6} {vmo.num_children:5} {vmo.num_mappings:4}"
            f" {vmo.share_count:4} {size:>7} {alloc:>7} {name}\n"
        )
    lines.append(VMOS_HEADER)
    return "".join(lines)


def hidden_vmos(snap: Snapshot) -> list[Vmo]:
    """VMOs no one maps, oldest (lowest koid) first: what `k zx vmos hidden` lists."""
    return [snap.vmos[k] for k in sorted(snap.vmos) if snap.vmos[k].num_mappings == 0]


def kernel_address(koid: int) -> str:
    """A stable stand-in for the `%p` of the kernel's VmObject, derived from its koid."""
    return f"0xffffff80{koid * 0x1B0 & 0xFFFF_FFFF:08x}"


def vmo_dump_header(handles: bool = False) -> str:
    """PrintVmoDumpHeader: the `k zx vmos` column header, with or without handle columns."""
    return HIDDEN_HEADER if not handles else "      handle rights " + HIDDEN_HEADER[20:]


def vmo_dump_row(
    vmo: Vmo, address: str, *, handle: int = 0, rights: int = 0, unit: str = ""
) -> str:
    """One DumpVmObject row: handle value and rights letters, or `-` when there are none."""
    parent, size, alloc, name = _vmo_columns(vmo, unit)
    handle_text = str(handle) if handle else "-"
    rights_text = _rights(rights) if rights else "-"
    return (
        f"  {handle_text:>10} {rights_text:>6} {vmo.koid:5} {address} {parent:>6}"
        f" {vmo.num_children:5} {vmo.num_mappings:4} {vmo.share_count:4}"
        f" {size:>7} {alloc:>7} {name}\n"
    )


def dump_vmos_text(snap: Snapshot, *, hidden: bool, unit: str = "") -> str:
    """`k zx vmos hidden|all [-u?]`: koid-0 kernel VMOs (made at boot) first, then by koid.

    Every kernel-only VMO is mapped by the kernel alone, so `hidden` keeps them all.
    """
    user = hidden_vmos(snap) if hidden else [snap.vmos[k] for k in sorted(snap.vmos)]
    lines = [HIDDEN_TITLE if hidden else ALL_TITLE, HIDDEN_HEADER]
    lines += [vmo_dump_row(vmo, f"{addr:#x}", unit=unit) for addr, vmo in kernel_only_vmos(snap)]
    lines += [vmo_dump_row(vmo, kernel_address(vmo.koid), unit=unit) for vmo in user]
    lines.append(HIDDEN_HEADER)
    return "".join(lines)


def hidden_vmos_text(snap: Snapshot) -> str:
    """`k zx vmos hidden`, as DumpAllVmObjects prints it (no handle or rights information)."""
    return dump_vmos_text(snap, hidden=True)


# --- kstats -m --------------------------------------------------------------------------

_KSTATS_COLUMNS = ("mem total", "free", "VMOs", "kheap", "kfree", "wired", "mmu", "ipc", "other")
KSTATS_HEADER = " ".join(f"{c:>9}" for c in _KSTATS_COLUMNS) + "\n"


def kstats_text(kmem: Kmem, *, timestamp: str | None = None) -> str:
    """One `kstats -m` report (with `-t` when `timestamp` is given); values end with a space."""
    stamp = f"\n--- {timestamp} ---\n" if timestamp is not None else ""
    values = "".join(f"{format_size(x, 'M'):>9} " for _, x in kstats_fields(kmem))
    return f"{stamp}{KSTATS_HEADER}{values}\n"
