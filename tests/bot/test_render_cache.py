"""Compiled templates are kept between runs; a broken or unusable cache is passed over."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import jinja2
import pytest

from bot import render


def _env(cache: jinja2.BytecodeCache | None) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("templates", "notices"), bytecode_cache=cache)


def test_a_second_run_loads_the_template_compiled(tmp_path: Path) -> None:
    first = _env(render.CompiledTemplates(str(tmp_path)))
    assert first.get_template("basics.txt.j2").module is not None
    assert list(tmp_path.iterdir())
    second = _env(render.CompiledTemplates(str(tmp_path)))
    with mock.patch.object(second, "compile", side_effect=AssertionError("compiled again")):
        assert second.get_template("basics.txt.j2").module is not None


def test_a_damaged_cache_file_is_compiled_anew(tmp_path: Path) -> None:
    _env(render.CompiledTemplates(str(tmp_path))).get_template("basics.txt.j2")
    for stored in tmp_path.iterdir():
        stored.write_bytes(stored.read_bytes()[:40])  # truncated
    again = _env(render.CompiledTemplates(str(tmp_path)))
    assert again.get_template("basics.txt.j2").module is not None


def test_a_cache_that_cannot_be_written_is_passed_over(tmp_path: Path) -> None:
    env = _env(render.CompiledTemplates(str(tmp_path / "gone")))  # the directory does not exist
    assert env.get_template("basics.txt.j2").module is not None


def test_without_a_usable_temporary_directory_templates_are_compiled_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unsafe(self: object, directory: object = None, pattern: object = None) -> None:
        raise RuntimeError("Cannot determine safe temp directory")

    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "__init__", unsafe)
    assert render.compiled_templates() is None
