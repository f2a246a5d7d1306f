"""The digest screen: memory_monitor's bucket digest of the shown tick, live."""

from __future__ import annotations

import json

import pytest
from msgspec import structs

from zmtop.engine.analysis.digest import digest, load_buckets
from zmtop.engine.formats.capture import capture_json
from zmtop.engine.sim.simulation import Simulation
from zmtop.engine.snapshot.records import Changes
from zmtop.engine.sources.detect import load_source
from zmtop.tui.app import ZmtopApp
from zmtop.tui.screens.digest import DigestScreen
from zmtop.tui.screens.main import MainScreen
from zmtop.tui.widgets.digest_table import DigestTable


def shown(table: DigestTable) -> list[tuple[str, int, int]]:
    """(name, size, VMO count) of each row, in memory_monitor's order."""
    rows = sorted(table.rows.values())
    return [(b.name, b.size, len(b.vmos)) for _, b in rows]


def expected(d) -> list[tuple[str, int, int]]:
    return [(b.name, b.size, len(b.vmos)) for b in d.rows()]


async def test_digest_equals_the_engines_and_follows_ticks(make_app, monkeypatch):
    # On a loaded host a digest can cost more than its share of a tick, and the screen then
    # skips ticks by design; this test is about following them.
    monkeypatch.setattr("zmtop.tui.screens.digest.BUDGET", 1e9)
    app = make_app()
    buckets = load_buckets()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("D")
        await pilot.pause()
        assert isinstance(app.screen, DigestScreen)
        table = app.screen.query_one(DigestTable)
        assert shown(table) == expected(digest(app.snapshot, buckets))
        assert table.total == app.snapshot.kmem.total_bytes
        for _ in range(3):
            await pilot.press("full_stop")
            assert shown(table) == expected(digest(app.snapshot, buckets))
        assert f"tick {app.snapshot.tick}" in table.border_subtitle
        assert "default buckets" in table.border_subtitle
        first = table.render_line(1).text
        assert "Sysmem" in first and "%" in first  # the contiguous pool, as on the device
        await pilot.press("s")  # by name
        names = [key[0].casefold() for key in table.keys]
        assert names == sorted(names)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


@pytest.mark.slow
async def test_digest_from_the_palette(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p", *"digest")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DigestScreen)


async def test_a_capture_digests_with_its_own_buckets(tmp_path):
    snap = Simulation("default", 1, 1.0).snapshot
    config = [{"name": "Everything", "process": ".*", "vmo": ".*"}]
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"Capture": json.loads(capture_json(snap)), "Buckets": config}))
    source = load_source(path)
    app = ZmtopApp(source, autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("D")
        await pilot.pause()
        table = app.screen.query_one(DigestTable)
        want = digest(source.snapshot, source.buckets, source.kernel_extended)
        assert shown(table) == expected(want)
        assert shown(table)[0][0] == "Everything"
        assert "the data's own buckets" in table.border_subtitle


async def test_a_tick_that_changes_nothing_keeps_the_digest(make_app, monkeypatch):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("D")
        await pilot.pause()
        screen = app.screen
        calls = []
        monkeypatch.setattr("zmtop.tui.screens.digest.digest",
                            lambda *a: calls.append(a) or digest(*a))
        still = structs.replace(app.snapshot, tick=app.snapshot.tick + 1, changes=Changes())
        screen.show_snapshot(still)
        assert calls == []
        await pilot.press("full_stop")
        assert len(calls) == 1
