"""Help: every key, gathered from the bindings themselves so it cannot go stale."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

MOUSE = [("click", "select a row; click a column title to sort by it (again: reverse)"),
         ("double click", "open the row"), ("wheel", "scroll")]


def sections() -> list[tuple[str, list[Binding]]]:
    from zmtop.app import ZmtopApp
    from zmtop.recording import RecordingControls
    from zmtop.replay_app import REPLAY_BINDINGS
    from zmtop.screens.base import MonitorScreen
    from zmtop.screens.kernel import kernel_keys
    from zmtop.screens.main import MainScreen
    from zmtop.screens.process import ProcessScreen
    from zmtop.screens.system_vmos import SystemVmosScreen
    from zmtop.screens.treemap import treemap_keys
    from zmtop.widgets.find_bar import FindBar
    from zmtop.widgets.line_table import LineTable
    from zmtop.widgets.task_table import TaskTable

    return [
        ("Everywhere", ZmtopApp.BINDINGS + [Binding("ctrl+p", "", "Command palette: jump to "
                                                    "koid, scenario, theme, pause, step")]),
        ("Every table", LineTable.BINDINGS + MonitorScreen.BINDINGS),
        ("Job tree", TaskTable.BINDINGS + MainScreen.BINDINGS),
        ("Process, VMO", ProcessScreen.BINDINGS + [Binding("tab", "", "Next pane")]),
        ("All VMOs", SystemVmosScreen.BINDINGS),
        ("Kernel", kernel_keys()),
        ("Memory map", treemap_keys()),
        ("Recording", RecordingControls.BINDINGS),
        ("Replay (zmtop replay FILE)", REPLAY_BINDINGS + [
            Binding("h,l", "", "Fold the tree, move in the map (arrows, home, end, g: time)")]),
        ("Search and filter prompt", FindBar.BINDINGS + [Binding("enter", "", "Keep")]),
    ]


class HelpScreen(ModalScreen):
    """A scrollable list of keys; any of Escape, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self.keys_text(), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "zmtop keys"

    def keys_text(self) -> Text:
        text = Text()
        for title, bindings in sections():
            text.append(f"{title}\n", "bold")
            for binding in bindings:
                keys = " ".join(self.app.get_key_display(Binding(k.strip(), ""))
                                for k in binding.key.split(","))
                text.append(f"  {keys:<18}", "bold")
                text.append(f"{binding.description}\n")
            text.append("\n")
        text.append("Mouse\n", "bold")
        for what, does in MOUSE:
            text.append(f"  {what:<18}", "bold")
            text.append(f"{does}\n")
        return text
