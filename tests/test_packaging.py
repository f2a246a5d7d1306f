"""The wheel holds every package of the tree, the engine inside zmtop, and its data files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> set[str]:
    # Built from a copy, so that no build/ folder of an earlier build can leak into it.
    tree = tmp_path_factory.mktemp("tree") / "zmtop"
    shutil.copytree(ROOT, tree, symlinks=True, ignore=shutil.ignore_patterns(
        ".*", "build", "*.egg-info", "__pycache__", "tests", "benchmarks", "screenshots"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(tree)], check=True, timeout=240,
                   capture_output=True)
    (wheel,) = out.glob("zmtop-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def source_packages() -> set[str]:
    """Every folder of the tree with an __init__.py, named as installed."""
    found = {"zmtop/themes"}
    for top, installed in (("zmtop", "zmtop"), ("engine", "zmtop/engine")):
        for init in (ROOT / top).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / top).as_posix()
            if relative.split("/")[0] in ("engine", "themes"):
                continue  # the links, walked as their own tree
            found.add(installed if relative == "." else f"{installed}/{relative}")
    return found


@pytest.mark.slow
def test_the_wheel_holds_every_package_and_no_top_level_engine(wheel_names):
    packages = {name.rpartition("/")[0] for name in wheel_names if name.endswith("__init__.py")}
    assert source_packages() <= packages
    assert not any(name.startswith(("engine/", "themes/", "tests/", "benchmarks/"))
                   for name in wheel_names)


@pytest.mark.slow
def test_the_wheel_holds_the_data_files(wheel_names):
    assert "zmtop/engine/analysis/default_buckets.json" in wheel_names
    assert "zmtop/themes/zmtop.tcss" in wheel_names
    assert {"zmtop/themes/dark.toml", "zmtop/themes/light.toml"} <= wheel_names
