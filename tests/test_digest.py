"""Bucket digests as memory_monitor's Digester (reference 4.5) and its FormatSize (4.4)."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from capture_series import capture_series_command
from fleet_helpers import record_oom
from msgspec import structs
from real_capture import BUCKETS, CAPTURE

from zmtop.engine.analysis import digester as digester_module
from zmtop.engine.analysis.digest import (
    digest,
    digest_csv,
    digest_json,
    digest_text,
    load_buckets,
    parse_buckets,
)
from zmtop.engine.analysis.digester import Digester
from zmtop.engine.formats.sizes import memory_monitor_size
from zmtop.engine.recording.reader import Recording
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import Snapshot
from zmtop.engine.sources.detect import load_source, parse_source
from zmtop.engine.sources.json_input import SourceError
from zmtop.engine.sources.poll import PollSource
from zmtop.engine.sources.replay import ReplaySource


# memory_monitor's printer_unittest FormatSize vectors.
@pytest.mark.parametrize("nbytes, text", [
    (0, "0B"), (1, "1B"), (1023, "1023B"), (1024, "1K"), (1025, "1K"), (1029, "1K"),
    (1124, "1.1K"), (1536, "1.5K"), (2047, "2K"), (1024**2, "1M"), (1024**3, "1G"),
    (1024**4, "1T"), (1024**5, "1P"), (1024**6, "1E"), (1024**7, "0B"),
])
def test_memory_monitor_size_vectors(nbytes, text):
    assert memory_monitor_size(nbytes) == text


def _printer_capture(extended: bool) -> bytes:
    """The capture of printer_unittest's PrintDigest / OutputDigest."""
    kernel = {"total": 1000, "free": 100, "wired": 10, "total_heap": 0, "free_heap": 0,
              "vmo": 700, "mmu": 0, "ipc": 0, "other": 0}
    if extended:
        kernel |= {"vmo_pager_total": 300, "vmo_pager_newest": 50, "vmo_pager_oldest": 150,
                   "vmo_discardable_locked": 60, "vmo_discardable_unlocked": 40}
    return json.dumps({
        "Time": 1234 * 10**9, "Kernel": kernel,
        "Processes": [["koid", "name", "vmos"], [1, "p1", [1]], [2, "q1", [2]]],
        "VmoNames": ["a1", "b1", "c1"],
        "Vmos": [["koid", "name", "parent_koid", "committed_bytes", "allocated_bytes"],
                 [1, 0, 0, 100, 100], [2, 1, 0, 200, 200], [3, 2, 0, 300, 300]],
    }).encode()


CONFIG = [{"name": "A", "process": ".*", "vmo": "a.*"}, {"name": "B", "process": ".*", "vmo": "b.*"}]


def kept_digest(snap, buckets, kernel_extended=None):
    """The digest as a Digester keeps it (what a scrape reads), built from one snapshot."""
    digester = Digester(buckets)
    digester.follow(snap)
    return digester.digest(snap, kernel_extended)


# The reference's vectors hold for the plain digest and for the one a Digester keeps.
both_digests = pytest.mark.parametrize("digest", [digest, kept_digest],
                                       ids=["plain", "kept"])


@both_digests
def test_print_digest_vector(digest):
    src = parse_source(_printer_capture(False), "t")
    d = digest(src.snapshot, parse_buckets(CONFIG, "$"), src.kernel_extended)
    assert digest_text(d) == ("B: 200B\nA: 100B\nUndigested: 300B\nOrphaned: 100B\n"
                              "Kernel: 10B\nFree: 100B\n")


@both_digests
def test_output_digest_vector(digest):
    src = parse_source(_printer_capture(True), "t")
    d = digest(src.snapshot, parse_buckets(CONFIG, "$"), src.kernel_extended)
    assert digest_csv(d).splitlines() == [
        "1234,B,200", "1234,A,100", "1234,Undigested,300", "1234,Orphaned,100",
        "1234,Kernel,10", "1234,Free,100", "1234,[Addl]PagerTotal,300",
        "1234,[Addl]PagerNewest,50", "1234,[Addl]PagerOldest,150",
        "1234,[Addl]DiscardableLocked,60", "1234,[Addl]DiscardableUnlocked,40"]


@both_digests
def test_buckets_are_the_outer_loop(digest):
    """A VMO shared by processes of two buckets goes to the bucket listed first in the config,
    whatever the process order (mem_digest.py's process-outer loop would differ)."""
    doc = json.loads(_printer_capture(False))
    doc["Processes"] = [["koid", "name", "vmos"], [1, "first", [1]], [2, "second", [1, 2]]]
    snap = parse_source(json.dumps(doc).encode(), "t").snapshot
    config = [{"name": "Second", "process": "second", "vmo": ""},
              {"name": "First", "process": "first", "vmo": ""}]
    d = digest(snap, parse_buckets(config, "$"))
    assert [(b.name, b.size, b.vmos) for b in d.buckets] == [
        ("Second", 300, (1, 2)), ("First", 0, ())]


@both_digests
def test_real_capture_digest(digest):
    src = load_source(CAPTURE)
    d = digest(src.snapshot, load_buckets(BUCKETS), src.kernel_extended)
    sizes = {b.name: b.size for b in d.rows()}
    # Buckets that share no VMO with another bucket agree with scripts/memory's
    # test_output.csv (made by mem_digest.py, whose loop order differs).
    for name, size in {"Archivist": 10248192, "Blobs": 69595136, "Bootfs": 55242752,
                       "ComponentManager": 19431424, "OtherDrivers": 437776384,
                       "Pkgfs": 12890112, "Undigested": 82886656, "Orphaned": 44191744,
                       "Kernel": 131850240}.items():
        assert sizes[name] == size, name
    shared = ("CompositeDrivers", "Netstack", "DriverFramework", "Resolvers", "Fshost")
    assert sum(sizes[n] for n in shared) == 30310400 + 14221312 + 3653632 + 3313664 + 905216
    assert sizes["CompositeDrivers"] == 28229632 and sizes["Netstack"] == 16318464
    # Orphaned, Kernel and Free from the Kernel block.
    kmem = src.snapshot.kmem
    committed = sum(v.committed_bytes for v in src.snapshot.vmos.values())
    assert sizes["Orphaned"] == kmem.vmo_bytes - committed
    assert sizes["Kernel"] == (kmem.wired_bytes + kmem.total_heap_bytes
                               + kmem.mmu_overhead_bytes + kmem.ipc_bytes + kmem.other_bytes)
    assert sizes["Free"] == kmem.free_bytes
    assert [b.size for b in d.buckets] == sorted((b.size for b in d.buckets), reverse=True)
    assert [b.name for b in d.rows()][-5:] == [
        "Kernel", "Free", "[Addl]PagerTotal", "[Addl]PagerNewest", "[Addl]PagerOldest"]
    assert digest_text(d).splitlines()[:2] == ["OtherDrivers: 417.5M", "Blobs: 66.4M"]


@both_digests
def test_json_rendering(digest):
    src = parse_source(_printer_capture(False), "t")
    out = json.loads(digest_json(digest(src.snapshot, parse_buckets(CONFIG, "$"))))
    assert out["buckets"] == [{"name": "B", "size": 200, "vmos": [2]},
                              {"name": "A", "size": 100, "vmos": [1]}]
    assert out["undigested"] == {"size": 300, "vmos": [3]}
    assert (out["orphaned"], out["kernel"], out["free"]) == (100, 10, 100)


@both_digests
def test_default_config_fits_the_simulation(digest):
    snap = Simulation("default", 1).snapshot
    d = digest(snap, load_buckets())
    sizes = {b.name: b.size for b in d.buckets}
    for name in ("Blobs", "ComponentManager", "OtherDrivers", "CompositeDrivers", "Netstack",
                 "Archivist", "Fshost", "Blobfs", "Pkgfs", "Sysmem", "BlobfsInactive"):
        assert sizes[name] > 0, name
    assert d.undigested.size < sum(sizes.values())
    total = sum(b.size for b in d.rows()[:-2]) + d.kernel + d.free
    assert d.orphaned >= 0 and total >= snap.kmem.vmo_bytes
    assert resources.files("zmtop.engine.analysis").joinpath("default_buckets.json").is_file()


@pytest.mark.parametrize("config, message", [
    ([{"name": "X", "vmo": "("}], "[0].vmo: invalid regex"),
    ([{"name": "X", "process": ["a", 3]}], "[0].process[1]: expected a string"),
    ([{"process": "a"}], '[0]: missing "name"'),
    ({"name": "X"}, "$: expected an array"),
    ([{"name": "X", "event_code": "29"}], "[0].event_code: expected an integer"),
])
def test_bad_config_is_one_line(tmp_path, config, message):
    path = tmp_path / "buckets.json"
    path.write_text(json.dumps(config))
    with pytest.raises(SourceError) as err:
        load_buckets(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)
    assert "\n" not in str(err.value)


def test_process_list_matches_any():
    (match,) = parse_buckets([{"name": "N", "process": ["net.*", "dhcpd"]}], "$")
    assert match.process.fullmatch("netstack.cm") and match.process.fullmatch("dhcpd")
    assert not match.process.fullmatch("dhcpd2") and match.vmo is None


def _digest_as_kept(digester, snap, buckets, kernel_extended=None):
    """Follow `snap` and check the kept digest against the plain one."""
    digester.follow(snap)
    want = digest(snap, buckets, kernel_extended)
    assert digester.digest(snap, kernel_extended) == want, snap.tick


@pytest.mark.parametrize("scenario, ticks", [("churn", 40), ("cow-storm", 40), ("oom", 60)])
def test_kept_digest_follows_the_plain_one(scenario, ticks):
    """Kept per change, the digest is the plain one tick after tick, asked every tick or
    every few (processes and clones coming and going, an OOM kill)."""
    sim = Simulation(scenario, 1)
    buckets = load_buckets()
    every, sparse = Digester(buckets), Digester(buckets)
    for _ in range(ticks):
        snap = sim.step()
        _digest_as_kept(every, snap, buckets)
        sparse.follow(snap)
        if snap.tick % 7 == 0:
            _digest_as_kept(sparse, snap, buckets)


def test_kept_digest_over_a_replay_and_its_seeks(tmp_path):
    """A recording's ticks stepped, then seeks back and forth (whose changes do not lead
    from the last tick followed): each digest is the plain one."""
    source = ReplaySource(Recording.open(record_oom(tmp_path / "oom.zmrec")))
    buckets = load_buckets()
    digester = Digester(buckets)
    _digest_as_kept(digester, source.snapshot, buckets)
    for tick in [*range(31, 50), 35, 36, 37, 60, 61, 33]:
        snap = source.step() if tick == source.snapshot.tick + 1 else source.seek(tick)
        assert snap.tick == tick
        _digest_as_kept(digester, snap, buckets)


def test_kept_digest_over_a_poll_of_captures(tmp_path):
    """Polled captures (a capture lists every VMO, held or not): each digest is the plain
    one."""
    source = PollSource(capture_series_command(tmp_path, "churn", 8), 1.0, timeout=20)
    buckets = load_buckets()
    digester = Digester(buckets)
    _digest_as_kept(digester, source.snapshot, buckets, source.kernel_extended)
    for _ in range(7):
        _digest_as_kept(digester, source.step(), buckets, source.kernel_extended)


def _captures_over_ticks(source_name: str) -> list[Snapshot]:
    """The printer capture, then ticks in which a VMO is renamed into a bucket and then left
    by its process, a clone comes, the clone's parent is left by every process, and both
    go."""
    docs = [json.loads(_printer_capture(False)) for _ in range(5)]
    for later in docs[1:]:
        later["VmoNames"].append("a2")
        later["Vmos"][3][1] = 3  # c1 -> a2: from Q to A
    docs[0]["Processes"][2][2] = docs[1]["Processes"][2][2] = [2, 3]
    for later in docs[2:4]:
        later["Vmos"].append([4, 2, 2, 50, 50])  # a clone of VMO 2, named c1
        later["Processes"][1][2], later["Processes"][2][2] = [1, 2], [4]
    docs[3]["Processes"][1][2] = [1]  # VMO 2 held by none: Undigested, as the clone's parent
    del docs[4]["Vmos"][2]
    docs[4]["Processes"][2][2] = []
    source, snaps = None, []
    for tick, doc in enumerate(docs):
        source = parse_source(json.dumps(doc).encode(), "t", source)
        snaps.append(structs.replace(source.snapshot, tick=tick, source=source_name))
    return snaps


@pytest.mark.parametrize("source_name", ["sim:t", "capture:t"])
def test_kept_digest_follows_renames_and_holders(source_name):
    """VMOs renamed, changing hands, coming and going; a capture also lists the VMOs no
    process holds."""
    buckets = parse_buckets(CONFIG + [{"name": "Q", "process": "q.*", "vmo": ""}], "$")
    digester = Digester(buckets)
    rows = []
    for snap in _captures_over_ticks(source_name):
        assert snap.changes.vmos or snap.changes.processes or snap.tick == 0
        _digest_as_kept(digester, snap, buckets)
        rows.append([(b.name, b.size, b.vmos) for b in digester.digest(snap).rows()[:4]])
    if source_name == "sim:t":
        assert rows[:4] == [
            [("Q", 300, (3,)), ("B", 200, (2,)), ("A", 100, (1,)), ("Orphaned", 100, ())],
            [("A", 400, (1, 3)), ("B", 200, (2,)), ("Q", 0, ()), ("Orphaned", 100, ())],
            [("B", 200, (2,)), ("A", 100, (1,)), ("Q", 50, (4,)), ("Orphaned", 350, ())],
            [("A", 100, (1,)), ("Q", 50, (4,)), ("B", 0, ()), ("Undigested", 200, (2,))]]


def test_kept_digest_follows_a_renamed_process():
    """A process renamed into another bucket's pattern while it takes a VMO moves every VMO
    it holds, not only the one it took; then it drops one."""
    buckets = parse_buckets([{"name": "Q", "process": "q.*", "vmo": ""}, *CONFIG], "$")
    docs = [json.loads(_printer_capture(False)) for _ in range(3)]
    docs[1]["Processes"][1] = [1, "q2", [1, 3]]
    docs[2]["Processes"][1] = [1, "q2", [3]]
    digester, source, held = Digester(buckets), None, []
    for tick, doc in enumerate(docs):
        source = parse_source(json.dumps(doc).encode(), "t", source)
        snap = structs.replace(source.snapshot, tick=tick, source="sim:t")
        _digest_as_kept(digester, snap, buckets)
        held.append({b.name: b.vmos for b in digester.digest(snap).buckets})
    assert held == [{"Q": (2,), "A": (1,), "B": ()}, {"Q": (1, 2, 3), "A": (), "B": ()},
                     {"Q": (2, 3), "A": (), "B": ()}]


def test_kept_digest_with_its_verdicts_forgotten(monkeypatch):
    """The remembered bucket of each (process name, VMO name) starts over past its bound,
    and the digests stay the plain ones."""
    monkeypatch.setattr(digester_module, "VERDICTS", 3)
    sim = Simulation("churn", 1)
    buckets = load_buckets()
    digester = Digester(buckets)
    for _ in range(10):
        _digest_as_kept(digester, sim.step(), buckets)
    assert 0 < len(digester._verdicts) <= 3


def test_a_scrape_behind_the_clock():
    """A digest asked of a snapshot the clock has already moved past (a scrape that began
    just before a tick) is right, and so is the next digest of the newest."""
    sim = Simulation("churn", 1)
    buckets = load_buckets()
    digester = Digester(buckets)
    first = sim.step()
    _digest_as_kept(digester, first, buckets)
    older = sim.step()
    digester.follow(older)
    digester.follow(sim.step())
    assert digester.digest(older) == digest(older, buckets)
    _digest_as_kept(digester, sim.step(), buckets)
