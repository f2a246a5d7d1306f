"""Every key binding table of the app, in one place that the app, replay and help read."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from zmtop.viewmodels.snapshot_ring import DEPTH

JUMP = 10  # ticks per [ and ] in a replay

APP: list[BindingType] = [
    Binding("q", "quit", "Quit", id="app.quit"),
    Binding("space", "toggle_pause", "Pause", id="app.pause"),
    Binding("full_stop", "step", "Step", id="app.step"),
    Binding("plus,equals_sign", "faster", "Faster", show=False, id="app.faster"),
    Binding("minus", "slower", "Slower", show=False, id="app.slower"),
    Binding("u", "toggle_units", "Units", show=False, id="app.units"),
    Binding("t", "next_theme", "Theme", show=False, id="app.theme"),
    Binding("question_mark", "help", "Help", id="app.help"),
    Binding("D", "digest", "Digest", show=False, id="app.digest"),
    Binding("W", "watchdog", "Watchdog", show=False, id="app.watchdog"),
    Binding("K", "kernel", "Kernel", show=False, id="app.kernel"),
    Binding("M", "treemap", "Memory map", show=False, id="app.treemap"),
    Binding("E", "events", "Events", show=False, id="app.events"),
    Binding("L", "leaks", "Leak suspects", show=False, id="app.leaks"),
]

MARKS: list[BindingType] = [
    Binding("m", "mark", "Mark", show=False, id="app.mark"),
    Binding("d", "diff", "Diff", show=False, id="app.diff"),
]

RECORDING: list[BindingType] = [
    Binding("R", "toggle_record", "Record to a file / stop", show=False, id="app.record"),
]

# Priority, so the tables' own arrows, home, end and g give way to the timeline; they all
# rest while a prompt has the keys or a screen without a timeline shows (check_action).
REPLAY: list[BindingType] = [
    Binding("space", "play", "Play", priority=True, id="replay.play"),
    Binding("right,full_stop", "move(1)", "Step", priority=True, id="replay.forward"),
    Binding("left,comma", "move(-1)", "Back", priority=True, show=False, id="replay.back"),
    Binding("shift+right,right_square_bracket", f"move({JUMP})", f"{JUMP} ticks on",
            priority=True, show=False, id="replay.jump-forward"),
    Binding("shift+left,left_square_bracket", f"move(-{JUMP})", f"{JUMP} ticks back",
            priority=True, show=False, id="replay.jump-back"),
    Binding("home", "edge(-1)", "First tick", priority=True, show=False, id="replay.first"),
    Binding("end", "edge(1)", "Last tick", priority=True, show=False, id="replay.last"),
    Binding("g", "goto", "Go to", priority=True, id="replay.goto"),
    Binding("m", "mark", "Mark", priority=True, id="replay.mark"),
    Binding("d", "diff", "Diff", priority=True, id="replay.diff"),
]

MONITOR_SCREEN: list[BindingType] = [
    Binding("slash", "find('search')", "Search", id="screen.search"),
]

BACK: list[BindingType] = [Binding("escape", "app.pop_screen", "Back", id="screen.back")]

LINE_TABLE: list[BindingType] = [
    Binding("up,k", "cursor(-1)", "Up", show=False),
    Binding("down,j", "cursor(1)", "Down", show=False),
    Binding("pageup,ctrl+b", "page(-1)", "Page up", show=False),
    Binding("pagedown,ctrl+f", "page(1)", "Page down", show=False),
    Binding("home,g", "edge(-1)", "First row", show=False),
    Binding("end,G", "edge(1)", "Last row", show=False),
    Binding("enter", "choose", "Open", id="table.choose"),
    Binding("s", "sort_next(1)", "Sort", id="table.sort"),
    Binding("S", "sort_next(-1)", "Sort back", show=False),
    Binding("r", "reverse", "Reverse", show=False),
    Binding("n", "find_next(1)", "Next match", show=False),
    Binding("N", "find_next(-1)", "Previous match", show=False),
]

FIND_BAR: list[BindingType] = [Binding("escape", "cancel", "Cancel", id="find.cancel")]

MAIN: list[BindingType] = [
    Binding("backslash,f", "find('filter')", "Filter", id="main.filter"),
    Binding("v", "system_vmos", "All VMOs", id="main.vmos"),
    Binding("escape", "clear", "Clear", show=False, id="main.clear"),
]

TASK_TABLE: list[BindingType] = [
    Binding("left,h", "collapse", "Collapse", show=False),
    Binding("right,l", "expand", "Expand", show=False),
    Binding("e", "expand_all", "Expand all", show=False),
    Binding("c", "collapse_all", "Collapse all", show=False),
    Binding("f5", "toggle_tree", "Tree or flat list", show=False, id="tasks.tree"),
    Binding("H", "toggle_handles", "Handle counts", show=False, id="tasks.handles"),
    Binding("T", "toggle_sparklines", "PSS trend sparklines", show=False, id="tasks.sparklines"),
]

PROCESS: list[BindingType] = [
    Binding("escape", "app.pop_screen", "Back", id="screen.back"),
    Binding("H", "toggle_handles", "Handles", id="process.handles"),
]

SYSTEM_VMOS: list[BindingType] = [
    Binding("escape", "app.pop_screen", "Back", id="screen.back"),
    Binding("h", "toggle_hidden", "Hidden only", id="vmos.hidden"),
]

ASPACE_TREE: list[BindingType] = [
    Binding("left,h", "collapse", "Collapse", show=False),
    Binding("right,l", "expand", "Expand", show=False),
]

TREEMAP: list[BindingType] = [Binding("escape", "back", "Back / out", id="screen.back")]

TREEMAP_VIEW: list[BindingType] = [
    Binding("up,k", "move(0, -1)", "Up", show=False),
    Binding("down,j", "move(0, 1)", "Down", show=False),
    Binding("left,h", "move(-1, 0)", "Left", show=False),
    Binding("right,l", "move(1, 0)", "Right", show=False),
    Binding("enter", "zoom_in", "Zoom in", id="treemap.zoom-in"),
    Binding("backspace", "zoom_out", "Zoom out", id="treemap.zoom-out"),
]

GOTO: list[BindingType] = [Binding("escape", "cancel", "Cancel", id="goto.cancel")]

WATCHDOG_PROMPT: list[BindingType] = [Binding("escape", "app.pop_screen", "Cancel", id="watchdog.cancel")]

HELP: list[BindingType] = [Binding("escape,q,question_mark", "app.pop_screen", "Close", id="help.close")]


def help_sections() -> list[tuple[str, list[BindingType]]]:
    """The help screen's sections: a title and its keys, in the order they are shown."""
    return [
        ("Everywhere", APP + [Binding("ctrl+p", "", "Command palette: jump to "
                                      "koid, scenario, theme, pause, step")]),
        ("Every table", LINE_TABLE + MONITOR_SCREEN),
        ("Job tree", TASK_TABLE + MAIN),
        ("Process, VMO", PROCESS + [Binding("tab", "", "Next pane")]),
        ("All VMOs", SYSTEM_VMOS),
        ("Events", BACK + [Binding("enter", "", "Open the process (replay: go to the tick)")]),
        ("Kernel", ASPACE_TREE + BACK + [
            Binding("enter", "", "Fold or unfold (address space); open a VMO (hidden VMOs)"),
            Binding("tab", "", "Next pane"),
        ]),
        ("Memory map", TREEMAP_VIEW + TREEMAP + [
            Binding("click", "", "Select a rectangle (double click: zoom in; breadcrumb: zoom out)"),
        ]),
        ("Recording", RECORDING),
        (f"Marks (live: reach back {DEPTH} ticks)", MARKS + [
            Binding("d", "", "With no mark: the oldest tick kept against now")]),
        ("Replay (zmtop replay FILE)", REPLAY + [
            Binding("h,l", "", "Fold the tree, move in the map (arrows, home, end, g: time)")]),
        ("Search and filter prompt", FIND_BAR + [Binding("enter", "", "Keep")]),
    ]
