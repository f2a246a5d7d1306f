"""Handle counts for the job tree: a process's #h (handle_count) or `k zx ps`'s columns
by type; a job's are summed over every descendant process, as its PSS is."""

from __future__ import annotations

from zmtop.engine.snapshot.records import Process, Snapshot

# `k zx ps`'s column names, after #h (engine.formats.kzx.PS_COLUMNS plus the rest, "??").
TYPE_COLUMNS = ("jb", "pr", "th", "vo", "vm", "ch", "ev", "po", "so", "tm", "fi", "??")
HANDLE_KEYS = ("#h", *(f"#{c}" for c in TYPE_COLUMNS))


def process_handles(proc: Process, by_type: bool) -> tuple[int, ...]:
    """(#h,) or (#h, #jb, ..., #??); #h is the process's handle_count."""
    if not by_type:
        return (proc.handle_count,)
    from zmtop.engine.formats.kzx import handle_counts

    counts = handle_counts(proc)
    return (proc.handle_count, *(counts[c] for c in TYPE_COLUMNS))


def handle_totals(snap: Snapshot, by_type: bool) -> dict[int, tuple[int, ...]]:
    """Counts of every process and job (a job's summed over its subtree)."""
    out = {koid: process_handles(p, by_type) for koid, p in snap.processes.items()}
    width = 1 + len(TYPE_COLUMNS) if by_type else 1
    for koid in reversed(snap.jobs_depth_first(snap.root_job)):
        job = snap.jobs[koid]
        total = [0] * width
        for kid in (*job.processes, *job.jobs):
            for i, n in enumerate(out[kid]):
                total[i] += n
        out[koid] = tuple(total)
    return out
