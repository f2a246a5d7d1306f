"""What every monitor screen shares: the kstats header, the footer, and the find bar."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.screen import Screen

from zmtop.engine.snapshot.records import Snapshot
from zmtop.tui import bindings
from zmtop.tui.widgets.box_lines import KeptStylesCache
from zmtop.tui.widgets.breadcrumb import Breadcrumb
from zmtop.tui.widgets.find_bar import FindBar
from zmtop.tui.widgets.header import KstatsHeader
from zmtop.tui.widgets.key_footer import KeyFooter
from zmtop.tui.widgets.line_table import LineTable
from zmtop.tui.widgets.source_notice import SourceNotice

if TYPE_CHECKING:
    from textual import getters

    from zmtop.tui.monitor import MonitorApp


class MonitorScreen(Screen):
    """A screen over the current snapshot; the app hands it each new one while it shows."""

    if TYPE_CHECKING:
        app = getters.app(MonitorApp)

    BINDINGS = bindings.MONITOR_SCREEN
    NOTICE_GAPS: tuple[str, ...] = ()
    """What this screen would show that an imported source may lack (see SourceNotice)."""
    CRUMB = ""
    """The screen's step in the breadcrumb (`crumb` may add what it shows)."""

    def __init__(self) -> None:
        super().__init__()
        self._styles_cache = KeptStylesCache()  # its last lines again while none changed
        self._target: LineTable | None = None
        self._origin: object = None
        self._before = ""
        self.header = KstatsHeader()
        self.notice = SourceNotice(self.NOTICE_GAPS)

    @property
    def crumb(self) -> str:
        return self.CRUMB

    def compose_header(self) -> ComposeResult:
        yield self.header
        yield Breadcrumb()
        yield self.notice

    def compose_footer(self) -> ComposeResult:
        yield FindBar()
        if self.app.replay is not None:
            from zmtop.tui.widgets.timeline import Timeline

            yield Timeline()
        yield KeyFooter()

    def show_snapshot(self, snap: Snapshot) -> None:
        """Bring the screen's tables to `snap` (called inside the app's batch update)."""
        raise NotImplementedError

    def set_unit(self, unit: str) -> None:
        for table in self.query(LineTable):
            table.set_unit(unit)
        self.header.show_current()

    def catch_up(self, snap: Snapshot) -> None:
        """Back on top after other screens: ticks may have passed, so redo everything."""
        self.show_snapshot(snap)

    def on_screen_resume(self) -> None:
        self.catch_up(self.app.snapshot)
        self.header.show_current()
        self.notice.update_from(self.app.source)

    # -- search and filter ------------------------------------------------------------

    def action_find(self, mode: str) -> None:
        focused = self.focused
        target = focused if isinstance(focused, LineTable) else self.query(LineTable).first()
        if mode == "filter" and not target.filterable:
            return
        self._target, self._origin = target, target.cursor_key
        self._before = target.filter_text if mode == "filter" else target.needle
        self.query_one(FindBar).open(mode, self._before)

    def on_find_bar_edited(self, event: FindBar.Edited) -> None:
        target = self._target
        if target is None:
            return
        if event.mode == "filter":
            target.set_filter(event.text)
        else:
            target.move_to(self._origin)
            target.find(event.text, include_current=True)
        self.query_one(FindBar).show_count(target.count_matches(event.text))

    def on_find_bar_closed(self, event: FindBar.Closed) -> None:
        target = self._target
        if target is None:
            return
        if not event.accepted:
            if event.mode == "filter":
                target.set_filter(self._before)
            else:
                target.needle = self._before
                target.move_to(self._origin)
        target.focus()
        self._target = None
