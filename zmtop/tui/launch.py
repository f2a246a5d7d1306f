"""Starting the monitor from the command line: the live app, or the replay app over a recording."""

from __future__ import annotations

from collections.abc import Callable

from zmtop.engine.analysis.trend import WINDOW
from zmtop.engine.sources.source import Source, is_seekable
from zmtop.tui import config
from zmtop.tui.app import BrokenCss, MetricsFeed, UnknownTheme, ZmtopApp


def run_app(source: Source, tick_seconds: float = 1.0, theme: str | None = None, *,
            record: str | None = None, window: int = WINDOW, unit: str = "",
            metrics: MetricsFeed | None = None,
            after_first_frame: Callable[[], None] | None = None) -> None:
    """Run the monitor until the user quits (the CLI's entry point).

    `record` names a file to record every shown tick to; `window` is the trends' ticks;
    `unit` is the unit of every size shown ("" for each in its own, as ps prints them);
    `metrics` is told the source and fed every shown tick (a MetricsServer);
    `after_first_frame` is called once the first frame is up.
    Over a recording (a seekable source) the monitor runs as a ReplayApp: timeline,
    seeking, diff.
    """
    from zmtop.errors import CliError

    recorder = None
    if record is not None:
        from zmtop.engine.recording.format import RecordingError
        from zmtop.engine.recording.writer import Recorder, metadata_for

        try:
            recorder = Recorder(record, metadata_for(source))
        except RecordingError as error:
            raise CliError(str(error)) from None
    app: ZmtopApp
    try:
        if is_seekable(source):
            from zmtop.tui.replay_app import ReplayApp

            app = ReplayApp(source, tick_seconds=tick_seconds, theme=theme,
                            config_path=config.default_path(), window=window, unit=unit,
                            after_first_frame=after_first_frame)
        else:
            app = ZmtopApp(source, tick_seconds=tick_seconds, theme=theme,
                           config_path=config.default_path(), recorder=recorder,
                           window=window, unit=unit, metrics=metrics,
                           after_first_frame=after_first_frame)
    except (UnknownTheme, BrokenCss) as error:
        if recorder is not None:
            recorder.close()
        raise CliError(str(error)) from None
    app.run()
    if app.closing_error is not None:
        raise CliError(app.closing_error)
