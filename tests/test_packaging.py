"""The wheel ``pip install .`` builds: no setuptools warnings, every data file inside."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("bot", "handlers", "models", "scheduler", "templates")


def data_files() -> set[str]:
    """The files of the shipped packages that are not Python modules, as the wheel names them."""
    return {
        path.relative_to(ROOT).as_posix()
        for package in SHIPPED
        for path in (ROOT / package).rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc")
    }


def test_the_wheel_builds_without_warnings_and_holds_every_data_file(tmp_path: Path) -> None:
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in SHIPPED:
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "absent from the `packages` configuration" not in output
    assert "SetuptoolsDeprecationWarning" not in output
    (wheel,) = (tmp_path / "dist").glob("unionbot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = data_files()
    assert {"templates/notices/basics.txt.j2", "models/migrations/script.py.mako",
            "models/calendar/holidays/README.md"} <= expected
    assert expected <= names, sorted(expected - names)
    assert {name for name in names if name.startswith("models/migrations/versions/0005")}
    assert {name.split("/")[0] for name in names} == {*SHIPPED, "unionbot-0.1.0.dist-info"}
