"""memory_monitor's digest (engine.analysis.digest) of the successive snapshots of one source,
at a cost per change rather than per size: what a scrape every few ticks can pay at scale.

A VMO's bucket depends only on its name and the names of the processes that reference it
(the first bucket whose process pattern matches one of them and whose VMO pattern matches
its name), so the Digester keeps each VMO's bucket, and each bucket's bytes and VMOs, and
looks again only at the processes and VMOs that the snapshots' changes name. Undigested is
what no bucket claims: VMOs that processes reference, and (as a capture lists them) their
ancestors, or, for an imported capture, every VMO.

The snapshots are followed as the source makes them, each one (`follow`, cheap: it notes
what changed); a digest then reads again only what changed since the last. A snapshot that
does not follow the last one (another source, a seek) makes the next digest read all.
`follow` and `digest` may run on different threads (a clock and an HTTP server).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from zmtop.engine.analysis.digest import Bucket, BucketMatch, Digest, digest, digest_of
from zmtop.engine.formats.capture import SOURCE_PREFIX
from zmtop.engine.snapshot.records import COMMITTED, Process, Snapshot, Vmo, VmoRef
from zmtop.engine.snapshot.tables import FigureTable

VERDICTS = 1 << 16  # (process name, VMO name) pairs remembered; the cache starts over past it


class _Process(NamedTuple):
    name: str
    refs: tuple[VmoRef, ...]
    vmos: frozenset[int]  # the koids `refs` name


class _Vmo(NamedTuple):
    name: str
    parent: int
    slot: int  # its bucket's index, else UNCLAIMED (some process references it) or UNHELD


def follows(last: Snapshot, snap: Snapshot) -> bool:
    """Whether `snap` is the tick after `last` of the same source, so that its changes say
    all that differs from `last`."""
    return snap.tick == last.tick + 1 and snap.source == last.source


class Digester:
    """The digests of one source's snapshots under `buckets`, kept up to date per change."""

    def __init__(self, buckets: list[BucketMatch]) -> None:
        self.buckets = buckets
        self._unclaimed = len(buckets)  # slots: the buckets, then these two
        self._unheld = len(buckets) + 1
        # (process name, VMO name) -> the first bucket matching both, else UNCLAIMED: names
        # repeat, so a changed VMO costs a lookup, not a match per bucket (fleet_bench:
        # "--metrics CPU per scrape")
        self._verdicts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()  # guards what `follow` notes
        self._busy = threading.Lock()  # one digest at a time
        self._newest: Snapshot | None = None
        self._whole = True  # the next digest reads every record
        self._changed_processes: set[int] = set()
        self._changed_vmos: set[int] = set()  # records changed, came or went
        self._moved_vmos: set[int] = set()  # records whose committed bytes alone moved
        self._last: tuple[Snapshot, dict[str, int] | None, Digest] | None = None
        self._reset()

    def _reset(self) -> None:
        slots = len(self.buckets) + 2
        self._processes: dict[int, _Process] = {}
        self._holders: dict[int, set[int]] = {}  # VMO koid -> the processes referencing it
        self._vmos: dict[int, _Vmo] = {}
        self._committed: dict[int, int] = {}  # VMO koid -> committed bytes
        self._clones: dict[int, int] = {}  # VMO koid -> its parent's, for clones
        self._held_parents: dict[int, int] = {}  # parent koid -> its held clones, counted
        self._sizes = [0] * slots  # committed bytes by slot
        self._members: list[set[int]] = [set() for _ in range(slots)]
        self._sorted: list[tuple[int, ...] | None] = [None] * slots  # members, sorted
        self._ancestors: set[int] | None = None  # the unheld ancestors of held VMOs
        self._missing: set[int] = set()  # parents the last walk up did not find
        self._rest: tuple[set[int], tuple[int, ...]] | None = None  # Undigested's VMOs

    # --- following -----------------------------------------------------------------------

    def follow(self, snap: Snapshot) -> None:
        """Note the source's next snapshot (each one it makes, in order; the same one again
        is no change)."""
        with self._lock:
            last, self._newest = self._newest, snap
            if snap is last or self._whole:
                return
            if last is None or not follows(last, snap):
                self._whole = True
                self._changed_processes, self._changed_vmos = set(), set()
                self._moved_vmos = set()
                return
            c = snap.changes
            # a process whose figures alone moved keeps its buckets (fleet_bench: "--metrics
            # CPU per scrape")
            self._changed_processes.update(c.processes.difference(c.process_moves))
            self._changed_processes |= c.removed_processes
            self._moved_vmos.update(c.vmo_moves)
            self._changed_vmos.update(c.vmos.difference(c.vmo_moves))
            self._changed_vmos |= c.removed_vmos

    def digest(self, snap: Snapshot, kernel_extended: dict[str, int] | None = None) -> Digest:
        """The digest of `snap`, the newest snapshot followed, as engine.analysis.digest's
        `digest` makes it. A snapshot that is no longer the newest (the clock moved on while
        a scrape began) is digested whole, the state kept for the newest."""
        with self._busy:
            with self._lock:
                newest = snap is self._newest
                if newest:
                    whole, processes, changed, moved = (
                        self._whole, self._changed_processes, self._changed_vmos,
                        self._moved_vmos)
                    self._whole = False
                    self._changed_processes, self._changed_vmos = set(), set()
                    self._moved_vmos = set()
            if not newest:
                return digest(snap, self.buckets, kernel_extended)
            last = self._last
            if last is not None and last[0] is snap and last[1] == kernel_extended:
                return last[2]
            if whole:
                self._reset()
                self._update(snap, snap.processes.keys(), snap.vmos.keys(), ())
            else:
                self._update(snap, processes, changed, moved - changed)
            result = self._digest(snap, kernel_extended)
            self._last = (snap, kernel_extended and dict(kernel_extended), result)
            return result

    # --- the state -----------------------------------------------------------------------

    def _update(self, snap: Snapshot, processes: Iterable[int], changed: Iterable[int],
                moved: Iterable[int]) -> None:
        """Read again the processes of these koids in `snap`, the VMOs `changed` (or come,
        or gone), and the committed bytes of those that only `moved`."""
        recheck: set[int] = set()  # VMOs whose holders changed
        table = snap.processes
        for koid in processes:
            recheck |= self._take_process(koid, table.get(koid))
        records = snap.vmos
        for koid in recheck.union(changed):
            self._take_vmo(koid, records.get(koid), koid in recheck)
        committed, sizes, vmos = self._committed, self._sizes, self._vmos
        read = _committed_reader(records)
        for koid in moved:
            now, before = read(koid), committed.get(koid)
            if now is None or before is None:  # not as the changes said: read it whole
                self._take_vmo(koid, records.get(koid), False)
            elif now != before:
                committed[koid] = now
                sizes[vmos[koid].slot] += now - before

    def _take_process(self, koid: int, record: Process | None) -> frozenset[int]:
        """Take a process's record (None: it went); the VMOs whose holders changed."""
        old = self._processes.get(koid)
        if record is None:
            if old is None:
                return frozenset()
            del self._processes[koid]
            self._release(koid, old.vmos)
            return old.vmos
        if old is not None and record.name == old.name and record.vmo_refs is old.refs:
            return frozenset()  # only its figures moved
        vmos = frozenset(ref.vmo_koid for ref in record.vmo_refs)
        if old is not None and record.name == old.name and vmos == old.vmos:
            self._processes[koid] = old._replace(refs=record.vmo_refs)
            return frozenset()
        self._processes[koid] = _Process(record.name, record.vmo_refs, vmos)
        if old is None:
            self._hold(koid, vmos)
            return vmos
        self._release(koid, old.vmos - vmos)
        self._hold(koid, vmos - old.vmos)
        if record.name != old.name:  # the buckets of every VMO it holds may change
            return old.vmos | vmos
        return old.vmos ^ vmos  # those it took or dropped (fleet_bench: "--metrics CPU per scrape")

    def _hold(self, process: int, vmos: frozenset[int]) -> None:
        for koid in vmos:
            holders = self._holders.get(koid)
            if holders is None:
                self._holders[koid] = {process}
            else:
                holders.add(process)

    def _release(self, process: int, vmos: frozenset[int]) -> None:
        for koid in vmos:
            holders = self._holders[koid]
            holders.discard(process)
            if not holders:
                del self._holders[koid]

    def _take_vmo(self, koid: int, record: Vmo | None, recheck: bool) -> None:
        """Take a VMO's record (None: it went); `recheck` if its holders changed."""
        old = self._vmos.get(koid)
        if record is None:
            if old is not None:
                self._place(koid, old, None, 0)
            return
        new = old
        if old is None or recheck or record.name != old.name or record.parent_koid != old.parent:
            new = _Vmo(record.name, record.parent_koid, self._slot(koid, record.name))
        self._place(koid, old, new, record.committed_bytes)

    def _slot(self, koid: int, name: str) -> int:
        """The first bucket that one of the VMO's holders and its name match, else
        UNCLAIMED; UNHELD if no process references it."""
        holders = self._holders.get(koid)
        if not holders:
            return self._unheld
        processes, verdicts = self._processes, self._verdicts
        best = self._unclaimed
        for process in holders:
            pair = (processes[process].name, name)
            slot = verdicts.get(pair)
            if slot is None:
                slot = self._verdict(*pair)
            if slot < best:
                best = slot
        return best

    def _verdict(self, process: str, vmo: str) -> int:
        """The first bucket whose patterns match both names, else UNCLAIMED (remembered)."""
        slot = next((i for i, match in enumerate(self.buckets)
                     if (match.process is None or match.process.fullmatch(process))
                     and (match.vmo is None or match.vmo.fullmatch(vmo))), self._unclaimed)
        if len(self._verdicts) >= VERDICTS:
            self._verdicts.clear()
        self._verdicts[process, vmo] = slot
        return slot

    def _place(self, koid: int, old: _Vmo | None, new: _Vmo | None, committed: int) -> None:
        """Move a VMO from its old slot and bytes to its new ones (None: it went)."""
        sizes = self._sizes
        if old is not None:
            sizes[old.slot] -= self._committed[koid]
            if new is None or new.slot != old.slot:
                self._members[old.slot].discard(koid)
                self._sorted[old.slot] = None
        if new is None:
            del self._vmos[koid], self._committed[koid]
            self._clones.pop(koid, None)
            self._reparent(koid, old, None)
            return
        sizes[new.slot] += committed
        self._committed[koid] = committed
        if new is old:
            return
        self._vmos[koid] = new
        if old is None or new.slot != old.slot:
            self._members[new.slot].add(koid)
            self._sorted[new.slot] = None
        if old is None or new.parent != old.parent or (new.slot == self._unheld) != (
                old.slot == self._unheld):
            if new.parent:
                self._clones[koid] = new.parent
            else:
                self._clones.pop(koid, None)
            self._reparent(koid, old, new)

    def _reparent(self, koid: int, old: _Vmo | None, new: _Vmo | None) -> None:
        """Count a VMO's parent under its held clones again, and forget the unheld ancestors
        if they may have changed: a removal or arrival that cannot touch them keeps them
        (VMOs churn every tick; fleet_bench: "--metrics CPU per scrape")."""
        before, after = self._held_parent(old), self._held_parent(new)
        counts = self._held_parents
        if before:
            counts[before] -= 1
            if not counts[before]:
                del counts[before]
        if after:
            counts[after] = counts.get(after, 0) + 1
        ancestors = self._ancestors
        if ancestors is None or before != after:
            self._ancestors = None
        elif new is None:  # an unheld VMO, or a held one that is no clone, went
            if koid in ancestors:
                self._ancestors = None
        elif old is None:  # the same came
            if koid in self._missing:
                self._ancestors = None
        else:
            self._ancestors = None

    def _held_parent(self, vmo: _Vmo | None) -> int:
        """The parent of a held clone, else 0."""
        if vmo is None or vmo.slot == self._unheld:
            return 0
        return vmo.parent

    # --- the digest ----------------------------------------------------------------------

    def _digest(self, snap: Snapshot, kernel_extended: dict[str, int] | None) -> Digest:
        claimed = [Bucket(match.name, self._sizes[i], self._koids(i))
                   for i, match in enumerate(self.buckets)]
        if snap.source.startswith(SOURCE_PREFIX):  # a capture lists every VMO
            extra = self._members[self._unheld]
        else:
            extra = self._unheld_ancestors()
        size = self._sizes[self._unclaimed] + sum(map(self._committed.__getitem__, extra))
        return digest_of(snap, claimed, Bucket("Undigested", size, self._rest_koids(extra)),
                         kernel_extended)

    def _koids(self, slot: int) -> tuple[int, ...]:
        koids = self._sorted[slot]
        if koids is None:
            koids = self._sorted[slot] = tuple(sorted(self._members[slot]))
        return koids

    def _rest_koids(self, extra: set[int]) -> tuple[int, ...]:
        """Undigested's koids: the unclaimed VMOs and `extra`, sorted."""
        if not extra:
            return self._koids(self._unclaimed)
        rest = self._rest
        if rest is None or self._sorted[self._unclaimed] is None or rest[0] != extra:
            unclaimed = self._koids(self._unclaimed)
            rest = self._rest = (set(extra), tuple(sorted(extra.union(unclaimed))))
        return rest[1]

    def _unheld_ancestors(self) -> set[int]:
        """The VMOs no process references that are ancestors of one that some process does
        (a capture lists them)."""
        if self._ancestors is None:
            vmos, clones = self._vmos.keys(), self._clones
            found: set[int] = set()
            missing: set[int] = set()
            step = set(self._held_parents)
            while step:
                missing |= step - vmos
                step = (step & vmos) - found
                found |= step
                step = {clones[koid] for koid in step if koid in clones}
            self._ancestors = found & self._members[self._unheld]
            self._missing = missing
        return self._ancestors


def _committed_reader(vmos: Mapping[int, Vmo]) -> Callable[[int], int | None]:
    """A VMO's committed bytes by koid (None if it is not there), from a FigureTable's
    column without building the record."""
    if isinstance(vmos, FigureTable):
        return vmos.reader(COMMITTED)

    def read(koid: int) -> int | None:
        record = vmos.get(koid)
        return None if record is None else record.committed_bytes
    return read
