"""Each speed-up and memory saving carries a reason that names its benchmark line (issue 18): a
`# Speed:` or `# Memory:` comment quotes the line as `make bench` prints it, or its start,
with `...` for what it leaves out. The names are checked against the benchmarks' sources, so
a renamed line or a misquoted one fails here rather than sending a reader after a figure that
is not printed."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REASON = re.compile(r"(Speed|Memory):")
QUOTED = re.compile(r'"([^"]+)"(?:\s*\((\w+_bench)\))?')
ELLIPSIS = re.compile(r"\s*\(\.\.\.\)|\.\.\.")
ANY = object()  # a name's `...`: a run of any text
FIELD = object()  # a benchmark's `{field}`: a value such as a scenario's name or a count
FIELD_TEXT = re.compile(r"[\w.-]")


def reasons(path: Path) -> list[tuple[int, str]]:
    """The file's Speed and Memory comments (each with the comment lines right after it), by
    line."""
    found: list[tuple[int, list[str]]] = []
    last = 0
    for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if token.type != tokenize.COMMENT or not token.line.lstrip().startswith("#"):
            continue  # a comment after code ends no reason
        text = token.string.lstrip("#").strip()
        if REASON.match(text):
            found.append((token.start[0], [text]))
        elif found and last == token.start[0] - 1:
            found[-1][1].append(text)
        last = token.start[0]
    return [(line, " ".join(lines)) for line, lines in found]


def pattern(parts: list[object]) -> tuple[object, ...]:
    """Text as a sequence of characters, ANY and FIELD."""
    out: list[object] = []
    for part in parts:
        out.extend(part if isinstance(part, str) else (part,))
    return tuple(out)


def name_pattern(name: str) -> tuple[object, ...]:
    """A quoted name, each `...` (or ` (...)`) as ANY."""
    parts: list[object] = []
    for i, piece in enumerate(ELLIPSIS.split(name)):
        if i:
            parts.append(ANY)
        parts.append(piece)
    return pattern(parts)


@cache
def bench_lines(module: str) -> list[tuple[object, ...]]:
    """Every one-line string in a benchmark module, its f-string fields as FIELD."""
    tree = ast.parse((ROOT / "benchmarks" / f"{module}.py").read_text())
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [value.value if isinstance(value, ast.Constant) else FIELD
                     for value in node.values]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            parts = [node.value]
        else:
            continue
        if not any(isinstance(p, str) and "\n" in p for p in parts):
            lines.append(pattern(parts))
    return lines


def starts(name: tuple[object, ...], line: tuple[object, ...]) -> bool:
    """Whether some text that `line` stands for begins with some text `name` stands for."""
    reached = {(0, 0)}
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if i == len(name):
            return True
        steps = []
        if name[i] is ANY:
            steps.append((i + 1, j))
            if j < len(line):
                steps.append((i, j + 1))
        if j < len(line):
            if line[j] is FIELD:
                steps.append((i, j + 1))
                if name[i] is not ANY and FIELD_TEXT.match(str(name[i])):
                    steps.append((i + 1, j))
            elif name[i] is not ANY and name[i] == line[j]:
                steps.append((i + 1, j + 1))
        for step in steps:
            if step not in reached:
                reached.add(step)
                todo.append(step)
    return False


def source_files() -> list[Path]:
    """The engine's and the app's modules, each once."""
    files = [*(ROOT / "engine").rglob("*.py"), *(ROOT / "zmtop").rglob("*.py")]
    # zmtop/engine and zmtop/themes are links to the top-level folders
    return [f for f in files if f.relative_to(ROOT).parts[:2] not in (("zmtop", "engine"),
                                                                      ("zmtop", "themes"))]


BENCH_MODULES = sorted(p.stem for p in (ROOT / "benchmarks").glob("*_bench.py"))


def test_every_reason_names_a_line_the_benchmarks_print():
    unnamed, unknown = [], []
    for path in source_files():
        for line, text in reasons(path):
            place = f"{path.relative_to(ROOT)}:{line}"
            names = QUOTED.findall(text)
            if not names:
                unnamed.append(place)
            for name, module in names:
                quoted = name_pattern(name)
                modules = [module] if module else BENCH_MODULES
                if not any(starts(quoted, bench) for m in modules for bench in bench_lines(m)):
                    unknown.append(f'{place}: "{name}"' + (f" ({module})" if module else ""))
    assert not unnamed, f"reasons that quote no benchmark line: {unnamed}"
    assert not unknown, f"benchmark lines no benchmark prints: {unknown}"


def test_the_matcher_reads_ellipses_and_fields():
    line = pattern(["ui ", FIELD, ": all-in tick (step), median"])
    assert starts(pattern(["ui xl: all-in tick"]), line)
    assert starts(pattern(["ui cow-storm: all-in ", ANY, ", median"]), line)
    assert not starts(pattern(["ui xl: all-out tick"]), line)
    assert not starts(pattern(["ui xl: all-in tick (step), mean"]), line)
    assert starts(name_pattern("ui scale: all-in tick (...), median"), line)
    assert not starts(name_pattern("ui scale: all-out tick (...)"), line)
