"""The user's settings and the colour themes: plain data files, read and checked in one place.

Settings live in `config.toml` under platformdirs' user config dir; themes are TOML files in
`themes/` (one per theme, plus `defaults.toml` with the fallbacks of zmtop's own variables).
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path

import zmtop.themes

THEMES_DIR = Path(zmtop.themes.__file__).resolve().parent
DEFAULT_THEME = "zmtop-dark"
_THEME_KEYS = {
    "name", "primary", "secondary", "warning", "error", "success", "accent", "foreground",
    "background", "surface", "panel", "boost", "dark", "luminosity_spread", "text_alpha",
    "variables", "ansi",
}


def default_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("zmtop")) / "config.toml"


def load(path: Path | None) -> tuple[dict, str]:
    """The settings (none if the file is missing or unreadable: never fatal), and what is
    wrong with the file, in a line ("" when nothing, or when there is no file)."""
    if path is None:
        return {}, ""
    try:
        with path.open("rb") as f:
            return tomllib.load(f), ""
    except OSError:
        return {}, ""
    except tomllib.TOMLDecodeError as error:
        return {}, f"not TOML ({error}): its settings are not used, and it is left as it is"


Value = str | int | float | bool | list[str]


def save(path: Path | None, settings: dict) -> None:
    """Write the settings as TOML: plain values, then tables (such as `[keymap]`) of plain
    values; a read-only config dir is not an error."""
    if path is None:
        return
    plain = {key: value for key, value in settings.items() if not isinstance(value, dict)}
    lines = [f"{_toml_key(key)} = {_toml_value(value)}\n" for key, value in sorted(plain.items())]
    for name, table in sorted((k, v) for k, v in settings.items() if isinstance(v, dict)):
        lines.append(f"\n[{_toml_key(name)}]\n")
        lines += [f"{_toml_key(key)} = {_toml_value(value)}\n"
                  for key, value in sorted(table.items())]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(lines), encoding="utf-8")
    except OSError:
        pass


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _toml_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml_value, value)) + "]"
    return _toml_string(value)


def _toml_string(text: str) -> str:
    import json  # only when settings are saved: the monitor's start-up does without it

    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def keymap(settings: dict, known: set[str]) -> tuple[dict[str, str], str]:
    """The `[keymap]` table (binding id = "keys, comma separated"), and what is wrong in
    it, in a line ("" when nothing): bad entries are left out, the rest still apply."""
    table = settings.get("keymap", {})
    if not isinstance(table, dict):
        return {}, "[keymap] is not a table"
    good = {name: keys for name, keys in table.items()
            if name in known and isinstance(keys, str) and keys.strip()}
    bad = sorted(set(table) - set(good))
    if not bad:
        return good, ""
    return good, (f"[keymap]: {', '.join(map(repr, bad))}: not a binding id with keys "
                  f"(ids as `zmtop --keys` lists them)")


def tree_columns(settings: dict, known: dict[str, Sequence[str]]
                 ) -> tuple[dict[str, list[str]], str]:
    """The `[tree]` table's column lists (a setting of `known` = ["TITLE", ...]), and
    what is wrong in it, in a line ("" when nothing): unknown settings and titles are
    left out, the rest still apply."""
    table = settings.get("tree", {})
    if not isinstance(table, dict):
        return {}, "[tree] is not a table"
    good, problems = {}, []
    for name, titles in table.items():
        if name not in known or not isinstance(titles, list):
            problems.append(f"{name!r}: not one of {', '.join(known)} with a list of "
                            f"column titles")
            continue
        good[name] = [title for title in titles if title in known[name]]
        bad = [title for title in titles if title not in known[name]]
        if bad:
            problems.append(f"{name}: {', '.join(map(repr, bad))}: not a column "
                            f"(F2 lists them)")
    return good, f"[tree] {'; '.join(problems)}" if problems else ""


def load_themes(directory: Path = THEMES_DIR) -> list:
    """Every `*.toml` theme in `directory` as a Textual Theme, sorted by name."""
    from textual.theme import Theme

    themes = []
    for path in sorted(directory.glob("*.toml")):
        if path.name == "defaults.toml":
            continue
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        unknown = set(data) - _THEME_KEYS
        if unknown:
            raise ValueError(f"{path.name}: unknown theme keys {sorted(unknown)}")
        themes.append(Theme(**data))
    return sorted(themes, key=lambda t: t.name)


@functools.cache
def variable_defaults(directory: Path = THEMES_DIR) -> dict[str, str]:
    """zmtop's semantic colour variables, for themes (like Textual's own) that lack them
    (read once: Textual asks each time it builds the CSS variables; callers copy it)."""
    data = tomllib.loads((directory / "defaults.toml").read_text(encoding="utf-8"))
    return dict(data["variables"])
