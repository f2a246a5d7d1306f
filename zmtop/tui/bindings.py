"""Every key binding table of the app, in one place that the app, replay and help read."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from zmtop.viewmodels.snapshot_ring import DEPTH

JUMP = 10  # ticks per [ and ] in a replay

APP: list[BindingType] = [
    Binding("q,f10", "quit", "Quit", id="app.quit"),
    Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.interrupt"),
    Binding("space", "toggle_pause", "Pause", id="app.pause"),
    Binding("full_stop", "step", "Step", id="app.step"),
    Binding("plus,equals_sign", "faster", "Faster", show=False, id="app.faster"),
    Binding("minus", "slower", "Slower", show=False, id="app.slower"),
    Binding("u", "toggle_units", "Units", show=False, id="app.units"),
    Binding("t", "next_theme", "Theme", show=False, id="app.theme"),
    Binding("question_mark,f1", "help", "Help", id="app.help"),
]

# The top-level views: each key works from every screen (help included, which as a modal
# would hide the app's own keys), and switches view rather than stacking one on another.
VIEWS: list[BindingType] = [
    Binding("D", "app.digest", "Digest", show=False, id="app.digest"),
    Binding("W", "app.watchdog", "Watchdog", show=False, id="app.watchdog"),
    Binding("K", "app.kernel", "Kernel", show=False, id="app.kernel"),
    Binding("M", "app.treemap", "Memory map", show=False, id="app.treemap"),
    Binding("E", "app.events", "Events", show=False, id="app.events"),
    Binding("L", "app.leaks", "Leak suspects", show=False, id="app.leaks"),
    Binding("v", "app.system_vmos", "All VMOs", show=False, id="app.vmos"),
]

MARKS: list[BindingType] = [
    Binding("m", "mark", "Mark", show=False, id="app.mark"),
    Binding("d", "diff", "Diff", show=False, id="app.diff"),
]

RECORDING: list[BindingType] = [
    Binding("R", "toggle_record", "Record to a file / stop", show=False, id="app.record"),
]

# Keys of their own, which no table or tree uses (the arrows fold, home, end and g move
# in tables, live and in a replay alike); `.` steps a tick on in both. They rest while a
# prompt has the keys or a screen without a timeline shows (check_action).
REPLAY: list[BindingType] = [
    Binding("space", "play", "Play", id="replay.play"),
    Binding("full_stop", "move(1)", "Step", id="replay.forward"),
    Binding("comma", "move(-1)", "Back", id="replay.back"),
    Binding("right_square_bracket", f"move({JUMP})", f"{JUMP} ticks on", show=False,
            id="replay.jump-forward"),
    Binding("left_square_bracket", f"move(-{JUMP})", f"{JUMP} ticks back", show=False,
            id="replay.jump-back"),
    Binding("left_curly_bracket", "edge(-1)", "First tick", show=False, id="replay.first"),
    Binding("right_curly_bracket", "edge(1)", "Last tick", show=False, id="replay.last"),
    Binding("colon", "goto", "Go to tick", id="replay.goto"),
    Binding("m", "mark", "Mark", show=False, id="replay.mark"),
    Binding("d", "diff", "Diff", show=False, id="replay.diff"),
]

MONITOR_SCREEN: list[BindingType] = [
    Binding("slash,f3", "find('search')", "Search", id="screen.search"),
]

BACK: list[BindingType] = [Binding("escape", "app.pop_screen", "Back", id="screen.back")]

LINE_TABLE: list[BindingType] = [
    Binding("up", "cursor(-1)", "Up", show=False, id="table.up"),
    Binding("down", "cursor(1)", "Down", show=False, id="table.down"),
    Binding("pageup,ctrl+b", "page(-1)", "Page up", show=False, id="table.page-up"),
    Binding("pagedown,ctrl+f", "page(1)", "Page down", show=False, id="table.page-down"),
    Binding("home,g", "edge(-1)", "First row", show=False, id="table.first"),
    Binding("end,G", "edge(1)", "Last row", show=False, id="table.last"),
    Binding("enter", "choose", "Open", id="table.choose"),
    Binding("s,f6", "sort_next(1)", "Sort", id="table.sort"),
    Binding("S", "sort_next(-1)", "Sort back", show=False, id="table.sort-back"),
    Binding("r", "reverse", "Reverse", show=False, id="table.reverse"),
    Binding("n", "find_next(1)", "Next match", show=False, id="table.next-match"),
    Binding("N", "find_next(-1)", "Previous match", show=False, id="table.previous-match"),
]

FIND_BAR: list[BindingType] = [Binding("escape", "cancel", "Cancel", id="find.cancel")]

MAIN: list[BindingType] = [
    Binding("backslash,f,f4", "find('filter')", "Filter", id="main.filter"),
    Binding("k,f9", "kill", "Kill", show=False, id="main.kill"),
    Binding("escape", "clear", "Clear", show=False, id="main.clear"),
    Binding("f2,C", "columns", "Columns: show, hide, reorder (setup)", show=False,
            id="main.columns"),
]

TASK_TABLE: list[BindingType] = [
    Binding("left,h", "collapse", "Collapse", show=False, id="tasks.collapse"),
    Binding("right,l", "expand", "Expand", show=False, id="tasks.expand"),
    Binding("e", "expand_all", "Expand all", show=False, id="tasks.expand-all"),
    Binding("c", "collapse_all", "Collapse all", show=False, id="tasks.collapse-all"),
    Binding("f5", "toggle_tree", "Tree or flat list", show=False, id="tasks.tree"),
    Binding("H", "toggle_handles", "Handle counts", show=False, id="tasks.handles"),
    Binding("T", "toggle_sparklines", "PSS trend sparklines", show=False, id="tasks.sparklines"),
]

PROCESS: list[BindingType] = [
    Binding("escape", "app.pop_screen", "Back", id="screen.back"),
    Binding("H", "toggle_handles", "Handles", id="process.handles"),
    Binding("k,f9", "kill", "Kill", show=False, id="process.kill"),
]

SYSTEM_VMOS: list[BindingType] = [
    Binding("escape", "app.pop_screen", "Back", id="screen.back"),
    Binding("h", "toggle_hidden", "Hidden only", id="vmos.hidden"),
]

ASPACE_TREE: list[BindingType] = [
    Binding("left,h", "collapse", "Collapse", show=False, id="aspace.collapse"),
    Binding("right,l", "expand", "Expand", show=False, id="aspace.expand"),
]

TREEMAP: list[BindingType] = [Binding("escape", "back", "Back / out", id="screen.back")]

TREEMAP_VIEW: list[BindingType] = [
    Binding("up,k", "move(0, -1)", "Up", show=False, id="treemap.up"),
    Binding("down,j", "move(0, 1)", "Down", show=False, id="treemap.down"),
    Binding("left,h", "move(-1, 0)", "Left", show=False, id="treemap.left"),
    Binding("right,l", "move(1, 0)", "Right", show=False, id="treemap.right"),
    Binding("enter", "zoom_in", "Zoom in", id="treemap.zoom-in"),
    Binding("backspace", "zoom_out", "Zoom out", id="treemap.zoom-out"),
]

COLUMNS: list[BindingType] = [
    Binding("escape,f10", "app.pop_screen", "Close", id="columns.close"),
    Binding("left_square_bracket,minus,shift+up", "move(-1)", "Move up", id="columns.up"),
    Binding("right_square_bracket,plus,equals_sign,shift+down", "move(1)", "Move down",
            id="columns.down"),
]

GOTO: list[BindingType] = [Binding("escape", "cancel", "Cancel", id="goto.cancel")]

KILL_PROMPT: list[BindingType] = [
    Binding("y,enter", "answer(True)", "Kill", id="kill.confirm"),
    Binding("n,escape", "answer(False)", "Cancel", id="kill.cancel"),
]

WATCHDOG_PROMPT: list[BindingType] = [Binding("escape", "app.pop_screen", "Cancel", id="watchdog.cancel")]

HELP: list[BindingType] = [Binding("escape,q,question_mark,f1", "app.pop_screen", "Close",
                                   id="help.close")]


def help_sections() -> list[tuple[str, list[BindingType]]]:
    """The help screen's sections: a title and its keys, in the order they are shown."""
    return [
        ("Everywhere", APP + [Binding("ctrl+p", "", "Command palette: jump to "
                                      "koid, scenario, theme, pause, step")]),
        ("Views (from any screen; a view replaces the one open)", VIEWS),
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
        ("Replay (zmtop replay FILE)", REPLAY),
        ("Column chooser (F2 on the job tree)", COLUMNS + [
            Binding("space,enter", "", "Show or hide the column (click: the same)")]),
        ("Search and filter prompt", FIND_BAR + [Binding("enter", "", "Keep")]),
    ]


def binding_ids() -> dict[str, str]:
    """Every binding's id and keys, for the `[keymap]` table of config.toml."""
    tables = [v for v in globals().values() if isinstance(v, list) and v
              and all(isinstance(b, Binding) for b in v)]
    return {b.id: b.key for table in tables for b in table if b.id is not None}
