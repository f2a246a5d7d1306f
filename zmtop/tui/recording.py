"""Recording from the live monitor: `R` (or the palette) starts and stops it.

The app's recorder appends every shown tick (see `ZmtopApp._record`, which also stops it
on a write error and says so); this mixin only opens and closes it. A recording opened
here starts with the tick on screen, so it replays from what the user saw.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual.dom import DOMNode

from zmtop.tui import bindings

if TYPE_CHECKING:
    from zmtop.engine.snapshot.records import Snapshot
    from zmtop.tui.monitor import MonitorApp

    _Base = MonitorApp  # what the mixin may use of the app it is mixed into
else:
    # At run time a plain DOMNode: Textual takes a class's CSS type names and default CSS
    # along the first DOMNode base of each class (DOMNode._css_bases), so an App here
    # would add App's type name and default CSS to ZmtopApp's styles, which lack them.
    _Base = DOMNode


def recording_path(now: datetime | None = None) -> Path:
    """A time-stamped file in the user's data directory."""
    from platformdirs import user_data_dir

    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path(user_data_dir("zmtop")) / f"zmtop-{stamp}.zmrec"


class RecordingControls(_Base):
    """The app's record toggle (a DOMNode only so that its bindings merge into the app's)."""

    BINDINGS = bindings.RECORDING

    can_record = True
    """False where there is nothing new to record (a replay)."""

    @abstractmethod
    def _record(self, snap: Snapshot) -> None:
        """Append a shown tick to the recording, if any (the app's: ZmtopApp._record)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_record" and not self.can_record:
            return False
        return super().check_action(action, parameters)

    def action_toggle_record(self) -> None:
        if self.recorder is not None:
            self.stop_recording()
        else:
            self.start_recording()

    def start_recording(self, path: str | Path | None = None) -> bool:
        """Record every tick from now on to `path` (default: a time-stamped file)."""
        from zmtop.engine.recording.format import RecordingError
        from zmtop.engine.recording.writer import Recorder, metadata_for

        if not self.can_record:
            self.notify("a replay is not recorded again", severity="warning")
            return False
        if self.recorder is not None:
            self.stop_recording()
        target = Path(path).expanduser() if path else recording_path()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            recorder = Recorder(target, metadata_for(self.source))
        except OSError as error:
            self.notify(f"{target}: cannot create: {error.strerror or error}",
                        title="Not recording", severity="error", timeout=10)
            return False
        except RecordingError as error:
            self.notify(str(error), title="Not recording", severity="error", timeout=10)
            return False
        self.recorder = recorder
        self.recording = True
        self._record(self.snapshot)
        if self.recorder is not None:
            self.notify(f"recording to {target}", timeout=4)
        return self.recorder is not None

    def stop_recording(self) -> None:
        recorder, self.recorder = self.recorder, None
        self.recording = False
        if recorder is not None:
            from zmtop.engine.recording.format import RecordingError

            try:
                recorder.close()  # writes the last keyframe, which may fail
            except RecordingError as error:
                self.notify(str(error), title="Recording stopped", severity="error",
                            timeout=10)
                return
            ticks = recorder.ticks_written
            self.notify(f"{ticks} tick{'' if ticks == 1 else 's'} saved to {recorder.name}",
                        title="Recording stopped", timeout=6)
