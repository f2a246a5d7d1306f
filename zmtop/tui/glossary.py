"""What every column and colour means, in one line each, citing the rule it follows.

The help screen lists it all; a table's column title shows its line as a tooltip.
"""

from __future__ import annotations

from zmtop.engine.formats.kzx import PS_HELP

PS_RULE = "(ps: zx_info_task_stats_t)"
RFC_RULE = "(RFC-0254 attribution)"

COLUMNS: dict[str, str] = {
    "TASK": "j: job, p: process, and its koid; the tree is ps's walk (a job's processes, "
            "then its child jobs)",
    "PSS": f"PRIVATE plus SHARED divided by the processes mapping each VMO; mapped VMOs "
           f"only; a job sums its processes {PS_RULE}",
    "PRIVATE": f"committed bytes of VMOs only this process maps (#shr 1) {PS_RULE}",
    "SHARED": f"committed bytes of VMOs other processes map too; blank for jobs {PS_RULE}",
    "A.PSS": f"attributed PSS: each page split among the VMOs reaching it, then among the "
             f"processes mapping or holding them; handle-only VMOs count {RFC_RULE}",
    "ΔPSS": "PSS change since the tick before, shown from 16 KiB (four pages) either way",
    "ΔA.PSS": "attributed PSS change between the two ticks compared",
    "GROWTH/MIN": "the PSS trend over the window (--window ticks), per minute of source "
                  "time; blank until the window holds 8 ticks",
    "PSS TREND": "a sparkline of PSS over the window (T)",
    "STATE": "a process's state in the comparison: new, gone or moved",
    "NAME": "the object's name (an unnamed job shows what it runs, dimmed)",
    "KOID": "the kernel object id",
    "PARENT": "the VMO this one is a copy-on-write clone of, or - (vmos)",
    "#CHLD": "clones made of this VMO (vmos)",
    "#MAP": "mappings of this VMO in all address spaces (vmos)",
    "#SHR": "processes that map this VMO; over 1 makes its pages SHARED in ps (vmos)",
    "SIZE": "the VMO's or mapping's size in bytes (vmos, vmaps)",
    "ALLOC": "committed bytes: pages written so far (over-commit); phys for a physical VMO",
    "A.PRIV": f"committed bytes no other VMO shares (committed_private_bytes) {RFC_RULE}",
    "A.SCALED": f"committed bytes with shared copy-on-write pages divided among their "
                f"sharers (committed_scaled_bytes) {RFC_RULE}",
    "A.TOTAL": f"every page this VMO can reach, shared ones too (RSS) {RFC_RULE}",
    "RIGHTS": "the handle's rights, rwxmdt: read, write, execute, map, duplicate, transfer; "
              "- when the VMO is only mapped (vmos)",
    "MAP": "the address-space tree: VMARs and their mappings (vmaps)",
    "RANGE": "the mapping's or VMAR's address range (vmaps)",
    "PRM": "the mapping's permissions: r, w, x (vmaps)",
    "RES": "committed bytes of the mapped range (vmaps)",
    "VMO": "the koid of the mapped VMO (vmaps)",
    "HANDLES": "handles to this object, or of this type",
    "MAPS": "mappings of this VMO in the process",
    "LEGACY": "the process's share in ps's rule: divided by the mapping processes",
    "ATTRIB": f"the process's share in the new rule {RFC_RULE}",
    "BUCKET": "a memory_monitor digest bucket: VMOs matched by process and VMO name",
    "SHARE": "the bucket's part of all memory",
    "#VMO": "VMOs in the bucket",
    "PROCS": "processes holding handles of this type",
    "PS": "the `k zx ps` column that counts this type",
}
COLUMNS.update({key.strip(): text.strip() for key, text in
                (line.split(":", 1) for line in PS_HELP.splitlines())
                if key.strip() != "id"})

COLOURS: list[tuple[str, str]] = [
    ("green PSS, ΔPSS", "grew since the tick before (16 KiB or more); red: shrank"),
    ("green row", "a process that started in the last 3 ticks"),
    ("red row", "a process that exited, kept 3 ticks as htop does"),
    ("! and bold red", "a process at or over the watchdog's threshold (W)"),
    ("dimmed", "zero, blank or not known; an unnamed job's borrowed name"),
    ("memory bar", "VMOs, kernel heap, wired, then mmu + ipc + other; dots: free"),
    ("pressure", "Normal, Warning, Critical, Imminent-OOM, OOM: the kernel's free-memory "
                 "levels"),
    ("PSS against A.PSS", "ps sees only mapped VMOs; A.PSS adds VMOs held by handle "
                          "(most of a device's memory), so the root job's A.PSS is several "
                          "times its PSS"),
]


def explain(title: str) -> str:
    """The column's line, or "" for a title without one."""
    return COLUMNS.get(title.rstrip("▲▼ "), "")
