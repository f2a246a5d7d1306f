"""Themes and settings: data files, live switching, the remembered choice, NO_COLOR."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from zmtop.engine.sim.simulation import Simulation
from zmtop.errors import CliError
from zmtop.tui import config
from zmtop.tui.app import UnknownTheme, ZmtopApp
from zmtop.tui.launch import run_app
from zmtop.tui.widgets.task_table import TaskTable

ROOT = Path(__file__).resolve().parent.parent
HEX = re.compile(r"#[0-9a-fA-F]{3,8}\b")


def test_every_zmtop_theme_sets_every_semantic_variable():
    themes = config.load_themes()
    assert [t.name for t in themes] == ["zmtop-ansi", "zmtop-contrast", "zmtop-dark",
                                        "zmtop-light"]
    needed = set(config.variable_defaults())
    for theme in themes:
        assert needed <= set(theme.variables), theme.name
    assert next(t for t in themes if t.name == "zmtop-ansi").ansi
    assert not next(t for t in themes if t.name == "zmtop-light").dark


def test_a_theme_file_with_an_unknown_key_is_refused(tmp_path):
    (tmp_path / "bad.toml").write_text('name = "x"\nprimary = "red"\ncolour = "blue"\n')
    with pytest.raises(ValueError, match="colour"):
        config.load_themes(tmp_path)


def test_no_colour_is_hard_coded_in_python_or_the_stylesheet():
    sources = [*(ROOT / "zmtop").rglob("*.py"), ROOT / "themes" / "zmtop.tcss"]
    for path in sources:
        assert not HEX.findall(path.read_text()), path


def test_settings_round_trip_and_survive_a_bad_file(tmp_path):
    path = tmp_path / "zmtop" / "config.toml"
    config.save(path, {"theme": 'a "quoted" name', "n": 3, "on": True})
    assert config.load(path)[0] == {"theme": 'a "quoted" name', "n": 3, "on": True}
    assert tomllib.loads(path.read_text())["on"] is True
    path.write_text("theme = [broken")
    settings, problem = config.load(path)
    assert settings == {} and problem.startswith("not TOML (") and "line 1" in problem
    assert config.load(tmp_path / "missing.toml") == ({}, "")
    assert config.load(None) == ({}, "")


def test_default_config_lives_in_the_user_config_dir():
    path = config.default_path()
    assert path.name == "config.toml" and path.parent.name == "zmtop"


async def test_theme_switches_live_and_is_remembered(make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(config_path=path)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.theme == "zmtop-dark"
        table = app.screen.query_one(TaskTable)
        dark = table.render_line(1)
        await pilot.press("t")
        assert app.theme == "zmtop-light"
        assert table.render_line(1).text == dark.text
        assert table.render_line(1) != dark  # same text, new colours
    assert config.load(path)[0]["theme"] == "zmtop-light"
    again = make_app(config_path=path)
    assert again.theme == "zmtop-light"
    assert make_app(config_path=path, theme="zmtop-contrast").theme == "zmtop-contrast"


async def test_ansi_theme_uses_the_terminal_palette(make_app):
    app = make_app(theme="zmtop-ansi")
    async with app.run_test(size=(100, 30)):
        assert app.native_ansi_color


async def test_textual_builtin_themes_work_with_zmtop_defaults(make_app):
    app = make_app(theme="nord")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("full_stop")
        assert app.current_theme.name == "nord"


def test_unknown_theme_is_a_one_line_cli_error(make_app):
    with pytest.raises(UnknownTheme):
        make_app(theme="no-such-theme")
    with pytest.raises(CliError, match="unknown theme 'no-such-theme'"):
        run_app(Simulation("default", 1, 1.0), theme="no-such-theme")


@pytest.mark.parametrize("rule, error", [
    ("Screen { colour: red; }", r"{line}:10: Invalid CSS property 'colour'\. Did you mean 'color'\?"),
    ("Screen { width: 1 2 3; height: x; }",
     r"{line}:17: Invalid value for the width property \(and 1 more\)"),
    ("Screen { color: $no-such; }", r"{line}:17: reference to undefined variable '\$no-such'"),
    ("Screen { color: red;", r"{end}:1: Unexpected end of file; did you forget a '}}' \?"),
])
def test_broken_css_is_a_one_line_cli_error(tmp_path, monkeypatch, rule, error):
    css = tmp_path / "zmtop.tcss"
    text = (config.THEMES_DIR / "zmtop.tcss").read_text()
    css.write_text(f"{text}{rule}\n")
    monkeypatch.setattr(ZmtopApp, "CSS_PATH", str(css))
    with pytest.raises(CliError) as raised:
        run_app(Simulation("default", 1, 1.0))
    line = text.count("\n") + 1  # the rule's
    assert re.fullmatch(re.escape(f"{css}:") + error.format(line=line, end=line + 1),
                        str(raised.value))


def test_a_saved_theme_that_no_longer_exists_falls_back(tmp_path):
    path = tmp_path / "config.toml"
    config.save(path, {"theme": "gone"})
    app = ZmtopApp(Simulation("default", 1, 1.0), autostart=False, config_path=path)
    assert app.theme == config.DEFAULT_THEME


async def test_no_color_is_honoured(make_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(100, 30)):
        assert app.no_color


def test_a_recording_that_cannot_be_created_is_a_cli_error(tmp_path):
    with pytest.raises(CliError, match="cannot create"):
        run_app(Simulation("default", 1, 1.0), record=str(tmp_path / "no" / "dir" / "x.zmrec"))


async def test_the_keymap_table_rebinds_keys_and_names_bad_entries(make_app, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('theme = "zmtop-dark"\n\n[keymap]\n"app.treemap" = "ctrl+t"\n'
                    '"app.nothing" = "x"\n"app.kernel" = 3\n', encoding="utf-8")
    app = make_app(config_path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        warning = [n.message for n in app._notifications]
        assert warning == [f"{path}: [keymap]: 'app.kernel', 'app.nothing': not a binding id "
                           "with keys (ids as `zmtop --keys` lists them)"]
        await pilot.press("M")
        assert type(app.screen).__name__ == "MainScreen"
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert type(app.screen).__name__ == "TreemapScreen"
        await pilot.press("t")  # a theme change is saved, the keymap kept
    saved, _ = config.load(path)
    assert saved["keymap"]["app.treemap"] == "ctrl+t" and saved["theme"] != "zmtop-dark"


async def test_a_config_that_is_not_toml_is_named_once_and_never_written_over(make_app,
                                                                            tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[tree\ncolumns = ['PSS']\n")
    app = make_app(config_path=path)
    async with app.run_test(size=(100, 30)) as pilot:
        [warning] = [n.message for n in app._notifications]
        assert warning.startswith(f"{path}: not TOML (") and "line 1" in warning
        await pilot.press("t")  # a theme change would be saved: not over this file
        assert app.theme == "zmtop-light"
    assert path.read_text() == "[tree\ncolumns = ['PSS']\n"


def test_settings_with_tables_and_lists_round_trip(tmp_path):
    path = tmp_path / "config.toml"
    settings = {"theme": 'a "quoted"\nname', "columns": ["PSS", "A.PSS"],
                "keymap": {"app.quit": "q,ctrl+d", "plain": "x"}}
    config.save(path, settings)
    assert config.load(path)[0] == settings
