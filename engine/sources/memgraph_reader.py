"""memgraph JSON (reference 1.1): import to a Snapshot and export in memgraph's printf layout.

memgraph prints names without JSON escaping, so a name with a quote, a backslash or a control
character makes the file invalid JSON. The importer first reads strictly; if that fails it
re-escapes every `"name"` value, ending each at the first place memgraph's layout can
continue (`", "key": `, `"},` or `",` at a line end), and reads again. Invalid UTF-8 inside
a name becomes U+FFFD.

A VMO is listed once per handle and once per mapping; records are de-duplicated by koid and
each `vmo_refs` entry becomes one VmoRef per `via` (handles first, then mappings).
Not in the data, so 0 or empty and named in `missing`: mappings ("mappings"), `mapped_bytes`,
VMO flags (inferred: paged, a clone if it has a parent), ipc bytes, the monotonic time,
kill-on-OOM. Process `uss_bytes`/`rss_bytes`/`pss_fixed` hold memory_monitor's summary
(private, total, scaled) over the listed VMOs, and VMOs their figures as a capture's
(engine.formats.capture).

Export decision: memgraph ends its last record (the `__META` one) without a comma and closes
the array, so its output is valid JSON; zmtop writes the same, and escapes names as JSON does,
so `json.loads` reads it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from zmtop.engine.formats.capture import with_summary
from zmtop.engine.formats.names import json_safe
from zmtop.engine.formats.psutils import iso_timestamp, walk_tasks
from zmtop.engine.sim.pressure import LEVELS, Watermarks, raw_level
from zmtop.engine.snapshot.records import (
    RIGHT_DUPLICATE,
    RIGHT_EXECUTE,
    RIGHT_MAP,
    RIGHT_READ,
    RIGHT_TRANSFER,
    RIGHT_WRITE,
    THREAD_STATES,
    VMO_IS_COW_CLONE,
    VMO_TYPE_PAGED,
    Changes,
    Job,
    Kmem,
    Process,
    Snapshot,
    Thread,
    Vmo,
    VmoRef,
)
from zmtop.engine.sources.imported import ImportedSource
from zmtop.engine.sources.json_input import (
    COUNT_LIMIT,
    LONG_NAMES,
    SourceError,
    count,
    cut_name,
    decode_json,
    expect,
    member,
)
from zmtop.engine.sources.validate import check_acyclic, check_committed, check_koid

RIGHTS = (("READ", RIGHT_READ), ("WRITE", RIGHT_WRITE), ("EXECUTE", RIGHT_EXECUTE),
          ("MAP", RIGHT_MAP), ("DUPLICATE", RIGHT_DUPLICATE), ("TRANSFER", RIGHT_TRANSFER))
_STATES_BACK = {v: k for k, v in THREAD_STATES.items()}
# Kmem field per kernel record, in memgraph's order.
KERNEL_RECORDS = {
    "physmem": "total_bytes", "free": "free_bytes", "vmo": "vmo_bytes", "heap": "total_heap_bytes",
    "heap/allocated": None, "heap/free": "free_heap_bytes", "wired": "wired_bytes",
    "mmu": "mmu_overhead_bytes", "other": "other_bytes",
}
_KERNEL_PARENTS = {"physmem": "", "heap/allocated": "kernel/heap", "heap/free": "kernel/heap"}
ALWAYS_MISSING = frozenset({"mappings", "mapped_bytes", "vmo_flags", "ipc",
                            "time", "kill_on_oom"})
_WHAT = {"j": "job", "p": "process"}
_RAW_NAME = re.compile(rb'"name": "(.*?)"(?=, "[a-z_]+": |\},|\} *\r?\n|,\r?\n)', re.DOTALL)


# --- export ----------------------------------------------------------------------------------


def to_memgraph(snap: Snapshot) -> str:
    """What `memgraph -vt` prints for this system (threads and VMOs, no handle stats)."""
    out = ["[\n"]
    kmem = snap.kmem
    for name, attr in KERNEL_RECORDS.items():
        size = (kmem.total_heap_bytes - kmem.free_heap_bytes if attr is None
                else getattr(kmem, attr))
        parent = _KERNEL_PARENTS.get(name, "kernel/physmem")
        out.append(f'  {{"id": "kernel/{name}", "type": "kernel", "parent": "{parent}", '
                   f'"name": "{name}", "size_bytes": {size}}},\n')
    for row in walk_tasks(snap, threads=True):
        head = f'  {{"id": "{row.type}/{row.koid}", "type": "{row.type}", "koid": {row.koid}, '
        if row.type == "j":
            parent = f"j/{row.parent_koid}" if row.parent_koid else "kernel/vmo"
            out.append(f'{head}"parent": "{parent}", "name": "{_text(row.name)}"}},\n')
        elif row.type == "p":
            proc = snap.processes[row.koid]
            out.append(f'{head}"parent": "j/{row.parent_koid}", "name": "{_text(proc.name)}", '
                       f'"private_bytes": {proc.private_bytes}, '
                       f'"shared_bytes": {proc.shared_bytes}, "pss_bytes": {proc.pss_bytes}')
            out.append(_vmo_lists(snap, proc))
            out.append("},\n")
        else:
            out.append(f'{head}"parent": "p/{row.parent_koid}", "name": "{_text(row.name)}", '
                       f'"state": "{THREAD_STATES.get(row.state, "<UNKNOWN>")}"}},\n')
    out.append(f'  {{"type": "__META", "timestamp": "{iso_timestamp(snap.time_ns)}"}}\n]\n')
    return "".join(out)


def _vmo_lists(snap: Snapshot, proc: Process) -> str:
    refs = proc.vmo_refs
    if not refs:
        return ""
    vmos, links = [], []
    for i, ref in enumerate(refs):
        vmo = snap.vmos[ref.vmo_koid]
        delim = "," if i < len(refs) - 1 else " "
        vmos.append(
            f'      {{"koid": {vmo.koid}, "name": "{_text(vmo.name)}", '
            f'"size_bytes": {vmo.size_bytes}, "parent_koid": {vmo.parent_koid}, '
            f'"num_children": {vmo.num_children}, "num_mappings": {vmo.num_mappings}, '
            f'"share_count": {vmo.share_count}, "committed_bytes": {vmo.committed_bytes}}}'
            f'{delim}\n')
        if ref.via_handle:
            rights = ", ".join(f'"{n}"' for n, bit in RIGHTS if ref.rights & bit)
            link = f'"via": ["HANDLE"], "handle_rights": [{rights}]'
        else:
            link = '"via": ["MAPPING"]'
        links.append(f'      {{"vmo_koid": {vmo.koid}, {link}}}{delim}\n')
    return (',\n   "vmos": [\n' + "".join(vmos) + '   ],\n   "vmo_refs": [\n'
            + "".join(links) + "   ]")


def _text(name: str) -> str:
    """A name as a JSON string body, nothing a terminal acts on left raw (memgraph itself
    prints it raw)."""
    return json_safe(json.dumps(name, ensure_ascii=False)[1:-1])


# --- import ----------------------------------------------------------------------------------


def parse_memgraph(data: bytes, label: str) -> ImportedSource:
    return _Reader(_decode(data)).source(label)


def _decode(data: bytes) -> Any:
    try:
        return decode_json(data)
    except SourceError:
        repaired = _RAW_NAME.sub(_escape_name, data)
        if repaired == data:
            raise
    # Past the names, an error is the file's own; its place is in the repaired text, which
    # differs from the file only inside names.
    return decode_json(repaired)


def _escape_name(found: re.Match[bytes]) -> bytes:
    name = found.group(1).decode("utf-8", "replace")
    return b'"name": "' + _text(name).encode() + b'"'


def _koid_ref(value: Any, prefix: str, path: str) -> int:
    """The koid in a parent id such as `j/123`."""
    text = expect(value, str, path)
    digits = text[len(prefix):]
    if not (text.startswith(prefix) and digits.isascii() and digits.isdigit()
            and len(digits) <= 20):
        raise SourceError(f"{path}: expected \"{prefix}<koid>\", got {text[:40]!r}")
    return count(int(digits), path)


class _Reader:
    """Checks the records and gathers them by type."""

    def __init__(self, doc: Any) -> None:
        self.kmem: dict[str, int] = {}
        self.jobs: dict[int, tuple[int, str]] = {}  # koid -> (parent koid or 0, name)
        self.processes: dict[int, dict[str, Any]] = {}
        self.threads: dict[int, list[Thread]] = {}
        self.vmos: dict[int, dict[str, Any]] = {}
        self.thread_koids: set[int] = set()
        self.missing = set(ALWAYS_MISSING)
        readers = {"kernel": self._record_kernel, "j": self._record_j, "p": self._record_p,
                   "t": self._record_t}
        for i, record in enumerate(expect(doc, list, "$")):
            path = f"[{i}]"
            expect(record, dict, path)
            reader = readers.get(expect(member(record, "type", path), str, f"{path}.type"))
            if reader is not None:  # "__META" and unknown types carry nothing we use
                reader(record, path)

    def _record_kernel(self, record: dict[str, Any], path: str) -> None:
        ident = expect(member(record, "id", path), str, f"{path}.id")
        attr = KERNEL_RECORDS.get(ident.removeprefix("kernel/"))
        if attr is not None:
            self.kmem[attr] = count(member(record, "size_bytes", path), f"{path}.size_bytes")

    def _record_j(self, record: dict[str, Any], path: str) -> None:
        koid = self._koid(record, path, self.jobs)
        parent = expect(member(record, "parent", path), str, f"{path}.parent")
        parent_koid = 0 if parent.startswith("kernel/") else _koid_ref(parent, "j/", f"{path}.parent")
        self.jobs[koid] = (parent_koid, self._name(record, path))

    def _record_p(self, record: dict[str, Any], path: str) -> None:
        koid = self._koid(record, path, self.processes)
        entry = {
            "job": _koid_ref(member(record, "parent", path), "j/", f"{path}.parent"),
            "name": self._name(record, path),
            **{key: count(record.get(key, 0), f"{path}.{key}")
               for key in ("private_bytes", "shared_bytes", "pss_bytes")},
            "refs": self._refs(record, path),
            "handles": self._handles(record, path),
        }
        self.processes[koid] = entry
        self.threads.setdefault(koid, [])

    def _record_t(self, record: dict[str, Any], path: str) -> None:
        koid = self._koid(record, path, self.thread_koids, "thread")
        self.thread_koids.add(koid)
        owner = _koid_ref(member(record, "parent", path), "p/", f"{path}.parent")
        state = expect(record.get("state", ""), str, f"{path}.state")
        thread = Thread(koid, self._name(record, path), _STATES_BACK.get(state, state.lower()))
        self.threads.setdefault(owner, []).append(thread)

    @staticmethod
    def _koid(record: dict[str, Any], path: str, seen: Iterable[int], what: str = "") -> int:
        return check_koid(count(member(record, "koid", path), f"{path}.koid"), seen,
                          what or _WHAT[record["type"]], f"{path}.koid")

    def _name(self, record: dict[str, Any], path: str, default: str | None = None) -> str:
        """The record's name, cut to MAX_NAME_BYTES (and LONG_NAMES then in `missing`)."""
        value = member(record, "name", path) if default is None else record.get("name", default)
        name = expect(value, str, f"{path}.name")
        cut = cut_name(name)
        if cut is not name:
            self.missing.add(LONG_NAMES)
        return cut

    def _refs(self, record: dict[str, Any], path: str) -> tuple[VmoRef, ...]:
        if "vmos" not in record:
            return ()
        listed = []
        for j, vmo in enumerate(expect(record["vmos"], list, f"{path}.vmos")):
            where = f"{path}.vmos[{j}]"
            expect(vmo, dict, where)
            koid = check_koid(count(member(vmo, "koid", where), f"{where}.koid"), (), "VMO",
                              f"{where}.koid")
            fields: dict[str, Any] = {key: count(vmo.get(key, 0), f"{where}.{key}")
                      for key in ("size_bytes", "parent_koid", "num_children", "num_mappings",
                                  "share_count", "committed_bytes")}
            fields["name"] = self._name(vmo, where, "")
            self.vmos.setdefault(koid, fields)
            listed.append(koid)
        if "vmo_refs" not in record:
            self.missing.add("via")
            return tuple(VmoRef(k, False) for k in dict.fromkeys(listed))
        handles, mappings = [], []
        for j, ref in enumerate(expect(record["vmo_refs"], list, f"{path}.vmo_refs")):
            where = f"{path}.vmo_refs[{j}]"
            expect(ref, dict, where)
            koid = count(member(ref, "vmo_koid", where), f"{where}.vmo_koid")
            if koid not in self.vmos:
                raise SourceError(f"{where}.vmo_koid: VMO {koid} is not in any \"vmos\" list")
            via = expect(member(ref, "via", where), list, f"{where}.via")
            rights = 0
            for n, right in enumerate(expect(ref.get("handle_rights", []), list,
                                             f"{where}.handle_rights")):
                name = expect(right, str, f"{where}.handle_rights[{n}]")
                rights |= dict(RIGHTS).get(name, 0)
            for n, how in enumerate(via):
                how = expect(how, str, f"{where}.via[{n}]")
                if how == "HANDLE":
                    handles.append(VmoRef(koid, True, rights))
                elif how == "MAPPING":
                    mappings.append(VmoRef(koid, False))
        return tuple(handles + mappings)

    @staticmethod
    def _handles(record: dict[str, Any], path: str) -> int | None:
        if "handle_stats" not in record:
            return None
        stats = expect(record["handle_stats"], dict, f"{path}.handle_stats")
        total = sum(count(n, f"{path}.handle_stats.{kind}") for kind, n in stats.items())
        if total >= COUNT_LIMIT:
            raise SourceError(f"{path}.handle_stats: {total} handles in all is out of range")
        return total

    # -- building the snapshot --

    def source(self, label: str) -> ImportedSource:
        vmos_by_koid = self.vmos
        parent_of = {k: f["parent_koid"] for k, f in vmos_by_koid.items() if f["parent_koid"]}
        check_acyclic(parent_of, parent_of, vmos_by_koid, "vmos")
        check_committed((f["committed_bytes"] for f in vmos_by_koid.values()), "vmos")
        root = self._root()
        jobs = self._jobs(root)
        procs = self.processes
        listing: dict[int, int] = {}
        for entry in procs.values():
            for koid in {ref.vmo_koid for ref in entry["refs"]}:
                listing[koid] = listing.get(koid, 0) + 1
        processes = {
            koid: Process(koid, e["job"], e["name"], tuple(self.threads[koid]), (), e["refs"],
                          e["handles"] or 0, 0, e["private_bytes"], e["shared_bytes"],
                          max(0, e["pss_bytes"] - e["private_bytes"]), 0, 0, 0)
            for koid, e in procs.items()
        }
        vmos = {
            koid: Vmo(koid, f["name"], f["size_bytes"], f["parent_koid"], f["num_children"],
                      f["num_mappings"], f["share_count"], f["committed_bytes"],
                      VMO_TYPE_PAGED | (VMO_IS_COW_CLONE if f["parent_koid"] else 0),
                      listing.get(koid, 0), 0, 0, 0)
            for koid, f in self.vmos.items()
        }
        kmem = Kmem(**{attr: self.kmem.get(attr, 0)
                       for attr in Kmem.__struct_fields__})
        snap = Snapshot(
            tick=0, time_ns=0, source=f"memgraph:{label}", kmem=kmem,
            pressure=LEVELS[raw_level(kmem.free_bytes, Watermarks())] if self.kmem else "Normal",
            root_job=root, jobs=jobs, processes=processes, vmos=vmos,
            changes=Changes(jobs=frozenset(jobs), processes=frozenset(processes),
                            vmos=frozenset(vmos)),
        )
        return ImportedSource(with_summary(snap), "memgraph", frozenset(self._missing()))

    def _missing(self) -> set[str]:
        missing = self.missing
        if not self.kmem:
            missing.add("kernel")
        if not any(self.threads.values()):
            missing.add("threads")
        if not self.vmos:
            missing.add("vmos")
        if all(e["handles"] is None for e in self.processes.values()):
            missing.add("handles")
        return missing

    def _root(self) -> int:
        roots = [koid for koid, (parent, _) in self.jobs.items() if parent == 0]
        if len(roots) != 1:
            raise SourceError(f"expected one root job (parent \"kernel/...\"), found {len(roots)}")
        for owner in self.threads:
            if owner not in self.processes:
                raise SourceError(f"a thread names process {owner}, which is not listed")
        return roots[0]

    def _jobs(self, root: int) -> dict[int, Job]:
        children: dict[int, list[int]] = {koid: [] for koid in self.jobs}
        for koid, (parent, _) in self.jobs.items():
            if parent and parent not in self.jobs:
                raise SourceError(f"job {koid} names parent job {parent}, which is not listed")
            if parent:
                children[parent].append(koid)
        members: dict[int, list[int]] = {koid: [] for koid in self.jobs}
        for koid, entry in self.processes.items():
            if entry["job"] not in self.jobs:
                raise SourceError(f"process {koid} names job {entry['job']}, which is not listed")
            members[entry["job"]].append(koid)
        reached, stack = set(), [root]
        while stack:
            koid = stack.pop()
            reached.add(koid)
            stack.extend(children[koid])
        if len(reached) != len(self.jobs):
            lost = min(set(self.jobs) - reached)
            raise SourceError(f"job {lost} is not under the root job (a parent cycle)")
        return {koid: Job(koid, parent, name, False, tuple(children[koid]), tuple(members[koid]))
                for koid, (parent, name) in self.jobs.items()}
