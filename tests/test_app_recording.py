"""Recording from the live monitor: R and the palette start and stop it; errors say so."""

from __future__ import annotations

import errno
import io
from datetime import datetime

import pytest

from zmtop.engine.recording.reader import Recording
from zmtop.engine.recording.writer import Recorder, metadata_for
from zmtop.tui.recording import recording_path
from zmtop.tui.widgets.header import KstatsHeader


class FullDisk(io.RawIOBase):
    """A file that takes `room` more bytes, then fails as a full disk does."""

    def __init__(self, path) -> None:
        self.file = open(path, "wb")  # noqa: SIM115 (closed by close())
        self.room = 1 << 30

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.file.write(data)

    def close(self) -> None:
        self.file.close()


def header_text(app) -> str:
    return app.screen.query_one(KstatsHeader).text


def messages(app) -> list[tuple[str, str]]:
    return [(n.severity, f"{n.title}: {n.message}") for n in app._notifications]


def test_default_path_is_time_stamped_in_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    path = recording_path(datetime(2024, 5, 6, 7, 8, 9))
    assert path == tmp_path / "zmtop" / "zmtop-20240506-070809.zmrec"


async def test_r_records_from_the_tick_shown_until_pressed_again(make_app, monkeypatch,
                                                                 tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("full_stop", "R")
        assert app.recording and "REC" in header_text(app)
        await pilot.press("full_stop", "full_stop", "full_stop")
        await pilot.press("R")
        assert not app.recording and app.recorder is None
        assert "REC" not in header_text(app)
    (path,) = (tmp_path / "zmtop").glob("zmtop-*.zmrec")
    recording = Recording.open(path)
    assert recording.ticks == [1, 2, 3, 4] and not recording.errors
    assert recording.metadata.scenario == "default"
    assert any("4 ticks saved" in m for _, m in messages(app))


@pytest.mark.slow
async def test_the_palette_records_to_a_named_file(make_app, tmp_path):
    path = tmp_path / "named" / "run.zmrec"
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+p")
        app.screen.query_one("Input").value = f"record {path}"  # typed at once
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.recording and app.recorder.name == str(path)
        await pilot.press("full_stop")
        app.stop_recording()
    assert Recording.open(path).ticks == [0, 1]


async def test_a_file_that_cannot_be_created_is_reported(make_app, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        assert not app.start_recording(blocker / "sub" / "x.zmrec")
        assert not app.start_recording("/dev/full")  # the header cannot be written
        await pilot.pause()
        assert not app.recording and app.recorder is None
        errors = [m for severity, m in messages(app) if severity == "error"]
        assert len(errors) == 2 and all(m.startswith("Not recording") for m in errors)


async def test_a_full_disk_stops_the_recording_and_the_monitor_runs_on(make_app, tmp_path):
    path = tmp_path / "full.zmrec"
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        disk = FullDisk(path)
        recorder = Recorder(path, metadata_for(app.source), file=disk)
        recorder.append(app.snapshot)
        recorder.flush()  # the keyframe, made off the tick thread, is written
        disk.room = 2_000  # a few deltas more
        app.recorder, app.recording = recorder, True
        for _ in range(40):
            await pilot.press("full_stop")
            if not app.recording:
                break
        assert not app.recording and app.recorder is None and "REC" not in header_text(app)
        assert any("Recording stopped" in m and "No space left" in m
                   for _, m in messages(app))
        tick = app.snapshot.tick
        await pilot.press("full_stop")
        assert app.snapshot.tick == tick + 1
    recording = Recording.open(path)
    assert recording.ticks and recording.ticks[-1] < tick


@pytest.mark.parametrize("when", ["stop", "quit"])
async def test_a_full_disk_at_the_last_keyframe_is_one_line(make_app, tmp_path, when):
    """The keyframe built off the tick thread is written at close: a failure there is a
    notice when recording stops, or one line once the app is gone, never a traceback."""
    path = tmp_path / "last.zmrec"
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        disk = FullDisk(path)
        recorder = Recorder(path, metadata_for(app.source), file=disk)
        recorder.append(app.snapshot)  # its keyframe is still being built
        disk.room = 0
        app.recorder, app.recording = recorder, True
        if when == "stop":
            await pilot.press("R")
            assert not app.recording and app.recorder is None
            assert any("Recording stopped" in m and "No space left" in m
                       for _, m in messages(app))
            assert app.is_running
    if when == "quit":
        assert "No space left" in app.closing_error and "\n" not in app.closing_error
