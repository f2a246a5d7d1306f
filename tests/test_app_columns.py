"""The column chooser (F2, htop's setup): the job tree's columns shown, hidden and moved
live, kept in a config.toml (always a temporary one here), and how it meets H, T, the sort,
the flat list and a narrow terminal."""

from __future__ import annotations

import pytest
from textual.widgets import SelectionList

from tests.fleet_helpers import record_oom
from zmtop.engine.recording.reader import Recording
from zmtop.engine.sources.replay import ReplaySource
from zmtop.tui import config
from zmtop.tui.replay_app import ReplayApp
from zmtop.tui.screens.columns import ColumnsScreen
from zmtop.tui.widgets.task_table import TaskTable
from zmtop.viewmodels.column_choice import ColumnChoice

MEMORY = ["TASK", "PSS", "PRIVATE", "SHARED", "A.PSS", "ΔPSS", "GROWTH/MIN", "#h", "NAME"]


def tree(app) -> TaskTable:
    """The job tree, under the chooser or not."""
    return app.screen_stack[0].query_one(TaskTable)


def row(app, koid: int) -> dict[str, str]:
    """A row's text by column title."""
    table = tree(app)
    return {c.title: cell.text for c, cell in zip(table.columns, table.cells(koid))}


def titles(app) -> list[str]:
    return [column.title for column in tree(app).columns]


def header(app) -> list[str]:
    """The tree's header line, word by word, sort arrows dropped."""
    return tree(app).render_line(0).text.replace("▲", " ").replace("▼", " ").split()


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def open_chooser(pilot, at: str):
    """F2, then the highlight on the column titled `at`."""
    await pilot.press("f2")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ColumnsScreen)
    screen.query_one(SelectionList).highlighted = screen.choice.order.index(at)
    return screen


# -- the model ---------------------------------------------------------------------------

def test_a_choice_keeps_its_ends_and_lists_hidden_columns_after_the_shown():
    choice = ColumnChoice(["A", "B", "C", "D", "E"], hidden={"D"})
    assert choice.shown() == ["A", "B", "C", "E"]
    assert not choice.toggle("A") and not choice.toggle("E")
    assert not choice.move("B", -1) and not choice.move("D", 1) and not choice.move("E", -1)
    assert choice.move("B", 1) and choice.order == ["A", "C", "B", "D", "E"]
    assert choice.toggle("C") and choice.shown() == ["A", "B", "E"]
    choice.restore(["E", "D", "B", "D"])
    assert choice.order == ["A", "D", "B", "C", "E"] and choice.hidden == {"C"}


def test_the_tree_setting_keeps_known_titles_and_names_the_rest_in_a_line():
    known = {"columns": ("TASK", "PSS", "NAME"), "handle_columns": ("TASK", "#h", "NAME")}
    settings = {"tree": {"columns": ["PSS", "RSS", 3], "handle_columns": ["#h"], "rows": 1}}
    good, problem = config.tree_columns(settings, known)
    assert good == {"columns": ["PSS"], "handle_columns": ["#h"]}
    assert problem == ("[tree] columns: 'RSS', 3: not a column (F2 lists them); 'rows': not "
                       "one of columns, handle_columns with a list of column titles")
    assert config.tree_columns({"tree": "PSS"}, known) == ({}, "[tree] is not a table")
    assert config.tree_columns({}, known) == ({}, "")


# -- the chooser -------------------------------------------------------------------------

async def test_space_hides_a_column_of_the_tree_and_shows_it_again(make_app):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        assert titles(app) == MEMORY
        paused = app.paused
        await open_chooser(pilot, "PRIVATE")
        await pilot.press("space")
        assert titles(app) == [t for t in MEMORY if t != "PRIVATE"]
        assert "PRIVATE" not in header(app)
        table = tree(app)
        assert all(len(table.cells(key)) == len(table.columns) for key in table.keys)
        await pilot.press("enter")
        assert titles(app) == MEMORY and "PRIVATE" in header(app)
        assert app.paused == paused  # space was not the app's pause


async def test_in_a_replay_the_chooser_keys_move_columns_not_ticks(tmp_path):
    source = ReplaySource(Recording.open(record_oom(tmp_path / "oom.zmrec")))
    app = ReplayApp(source, autostart=False)
    async with app.run_test(size=(140, 40)) as pilot:
        tick = app.snapshot.tick
        await open_chooser(pilot, "PSS")
        await pilot.press("right_square_bracket", "space")
        await pilot.pause()
        assert titles(app)[:3] == ["TASK", "PRIVATE", "SHARED"]  # PSS moved, then hidden
        assert app.snapshot.tick == tick and app.paused


async def test_a_click_toggles_a_column(make_app):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await open_chooser(pilot, "TASK")
        row = app.screen.choice.order.index("SHARED")
        await pilot.click("#columns", offset=(2, row + 1))  # below the border
        await pilot.pause()
        assert "SHARED" not in titles(app)


async def test_moving_a_column_reorders_the_tree(make_app):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        root = app.snapshot.root_job
        before = row(app, root)
        screen = await open_chooser(pilot, "A.PSS")
        await pilot.press("left_square_bracket", "shift+up", "minus")
        assert titles(app)[:5] == ["TASK", "A.PSS", "PSS", "PRIVATE", "SHARED"]
        assert header(app)[:3] == ["TASK", "A.PSS", "PSS"]
        assert screen.query_one(SelectionList).highlighted == 1  # it follows the column
        await pilot.press("left_square_bracket")  # TASK stays first
        await pilot.press("right_square_bracket", "plus")
        assert titles(app)[:5] == ["TASK", "PSS", "PRIVATE", "A.PSS", "SHARED"]
        assert row(app, root) == before  # each cell moved with its column


async def test_task_and_name_cannot_be_hidden_and_say_so(make_app):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_chooser(pilot, "NAME")
        await pilot.press("space")
        await pilot.pause()
        assert titles(app) == MEMORY
        assert "NAME" in screen.query_one(SelectionList).selected
        assert messages(app) == ["NAME is always shown"]
        await pilot.press("left_square_bracket")
        assert titles(app) == MEMORY and messages(app)[-1] == "NAME stays where it is"
        await pilot.press("escape")
        assert isinstance(app.screen, type(app.screen_stack[0]))


async def test_the_choice_is_kept_in_config_toml_and_read_by_a_new_app(make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(config_path=path)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_chooser(pilot, "ΔPSS")
        await pilot.press("space", "down", "minus", "minus", "escape")
        shown = titles(app)
    assert shown == ["TASK", "PSS", "PRIVATE", "SHARED", "GROWTH/MIN", "A.PSS", "#h", "NAME"]
    assert config.load(path)[0]["tree"]["columns"] == shown
    again = make_app(config_path=path)
    async with again.run_test(size=(140, 40)) as pilot:
        assert titles(again) == shown
        chooser = await open_chooser(pilot, "TASK")
        assert chooser.choice.order[-3:] == ["ΔPSS", "PSS TREND", "NAME"]  # hidden: last
        assert messages(again) == []


async def test_unknown_columns_in_config_toml_are_named_once_and_ignored(make_app, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[tree]\ncolumns = ["PSS", "RSS", "NAME", "A.PSS", "VSZ"]\n',
                    encoding="utf-8")
    app = make_app(config_path=path)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        assert messages(app) == [f"{path}: [tree] columns: 'RSS', 'VSZ': not a column "
                                 "(F2 lists them)"]
        assert titles(app) == ["TASK", "PSS", "A.PSS", "NAME"]
        await pilot.press("full_stop", "F")
        await pilot.pause()
        assert len(messages(app)) == 1


# -- with the rest of the tree -----------------------------------------------------------

async def test_hiding_the_sort_column_falls_back_to_task_order(make_app):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        table = tree(app)
        table.sort_by("pss")
        table.sort_by("pss")  # reversed
        await open_chooser(pilot, "PSS")
        await pilot.press("space")
        assert (table.sort_key, table.sort_reverse) == ("task", False)
        assert "TASK▲" in table.render_line(0).text


async def test_t_and_the_chooser_show_the_same_sparklines(make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(config_path=path)
    async with app.run_test(size=(160, 40)) as pilot:
        table = tree(app)
        await pilot.press("T")
        assert "PSS TREND" in titles(app)
        assert config.load(path)[0]["tree"]["columns"][-3:] == ["PSS TREND", "#h", "NAME"]
        table.sort_by("spark")
        chooser = await open_chooser(pilot, "PSS TREND")
        assert "PSS TREND" in chooser.query_one(SelectionList).selected
        await pilot.press("space")
        assert "PSS TREND" not in titles(app)
        assert table.sort_key == "growth"  # sorts the same as the trend did


async def test_with_h_the_chooser_edits_the_handle_counts_by_type(make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(config_path=path)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("H")
        table = tree(app)
        assert "#jb" in titles(app)
        chooser = await open_chooser(pilot, "#jb")
        assert chooser.query_one(SelectionList).border_title == \
            "Columns: job tree, handle counts (H)"
        await pilot.press("space", "escape", "H")
        assert titles(app) == MEMORY
        await pilot.press("H")
        assert "#jb" not in titles(app) and "#th" in titles(app)
        assert len(table.cells(table.keys[0])) == len(table.columns)
    saved = config.load(path)[0]["tree"]
    assert "#jb" not in saved["handle_columns"] and saved["columns"] == MEMORY


async def test_the_flat_list_keeps_the_chosen_columns(make_app):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await open_chooser(pilot, "SHARED")
        await pilot.press("space", "minus", "escape", "f5")
        assert tree(app).flat and titles(app) == [t for t in MEMORY if t != "SHARED"]


@pytest.mark.parametrize("width", [60, 44])
async def test_a_narrow_tree_drops_optional_columns_first_wherever_they_were_moved(
        make_app, width):
    app = make_app()
    async with app.run_test(size=(width, 30)) as pilot:
        await open_chooser(pilot, "#h")
        for _ in range(7):
            await pilot.press("minus")  # #h right after TASK
        await pilot.press("escape")
        await pilot.pause()
        shown = header(app)
        assert titles(app)[1] == "#h" and "#h" not in shown
        assert shown[0] == "TASK" and shown[-1] == "NAME"
        if width == 60:
            assert "PSS" in shown  # a column right of #h outlasts it


async def test_help_lists_the_chooser_and_its_keys(make_app):
    app = make_app()
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        sections = dict(app.screen.sections())
        assert ("f2 C", "Columns: show, hide, reorder (setup)") in sections["Job tree"]
        chooser = dict(sections["Column chooser (F2 on the job tree)"])
        assert chooser["[ - shift+↑"] == "Move up" and chooser["esc f10"] == "Close"
