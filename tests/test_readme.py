"""The README's walkthrough is executable documentation: every ``console`` block of the
walkthrough sections is run here, word for word, and must show exactly what the README shows.

Format of a ``console`` block (what a terminal shows):

- ``$ unionbot …`` runs a command (``$ echo '…' | unionbot …`` and ``$ printf '…' | unionbot …``
  feed it messages through a pipe);
- in an interactive ``unionbot chat``, ``> …`` is a line the user types after the prompt;
- every other line is the expected output (stdout and stderr, as the terminal shows them).

Each walkthrough section starts from an empty data directory holding a copy of ``examples/``;
its blocks run in order and share that directory. "Now" is the moment the section's
「假设现在是 2026年12月5日（星期六）上午 9:00」 sentence names, in the union's time zone.
Commands run in-process through ``bot.cli.main.main``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shlex
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import models.base
from bot.cli.main import main
from bot.config import UnionSettings

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
WALKTHROUGH = ("五分钟上手：在终端里试用",)
TZ = UnionSettings().tz  # the embedded default [union] timezone
WEEKDAYS = "一二三四五六日"

_NOW = re.compile(
    r"假设现在是\s*(\d{4})年(\d{1,2})月(\d{1,2})日（星期(.)）(上午|下午|晚上)?\s*(\d{1,2}):(\d{2})"
)
_PIPED = re.compile(r"^(echo|printf) (.+?) \| (unionbot .*)$")


@dataclass
class Section:
    title: str
    now: datetime
    blocks: list[str] = field(default_factory=list)


def _fence_blocks(text: str, language: str) -> list[str]:
    """The bodies of ``` fenced blocks of ``language`` (indented fences are dedented)."""
    blocks, lines, body, indent = [], text.splitlines(), None, ""
    for line in lines:
        stripped = line.lstrip(" ")
        if body is None and stripped == f"```{language}":
            body, indent = [], line[: len(line) - len(stripped)]
        elif body is not None and stripped == "```":
            blocks.append("\n".join(body))
            body = None
        elif body is not None:
            body.append(line.removeprefix(indent))
    return blocks


def _now_of(title: str, text: str) -> datetime:
    found = _NOW.search(text)
    assert found, f"「{title}」要写明「假设现在是 2026年12月5日（星期六）上午 9:00」，例子按这个时刻运行"
    year, month, day, weekday, period, hour, minute = found.groups()
    when = date(int(year), int(month), int(day))
    assert WEEKDAYS[when.weekday()] == weekday, f"{when} 不是星期{weekday}"
    hours = int(hour) + (12 if period in ("下午", "晚上") and int(hour) < 12 else 0)
    local = datetime(when.year, when.month, when.day, hours, int(minute), tzinfo=TZ)
    return local.astimezone(UTC)


def walkthrough_sections() -> list[Section]:
    text = README.read_text(encoding="utf-8")
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    found = {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}
    sections = []
    for title in WALKTHROUGH:
        assert title in found, f"README 里没有「{title}」一节"
        body = found[title]
        sections.append(Section(title, _now_of(title, body), _fence_blocks(body, "console")))
    return sections


class Terminal(io.StringIO):
    """What the screen shows: stdout and stderr in the order they were written."""

    def isatty(self) -> bool:
        return False

    def screen(self) -> str:
        # a carriage return starts the line over, as the progress bar does
        return "\n".join(line.rpartition("\r")[2] for line in self.getvalue().split("\n"))


class Keyboard(io.StringIO):
    """A user typing ``lines`` at a terminal: each line is echoed on the screen."""

    def __init__(self, lines: list[str], screen: Terminal) -> None:
        super().__init__("".join(f"{line}\n" for line in lines))
        self.echo = screen

    def isatty(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:
        line = super().readline(-1 if size is None else size)
        self.echo.write(line)
        return line


def _shell_words(text: str) -> str:
    """What ``echo 'x'`` / ``printf 'x\\ny\\n'`` write: the quoted text, escapes expanded."""
    (word,) = shlex.split(text)
    return word


def run_command(command: str, typed: list[str], monkeypatch: pytest.MonkeyPatch) -> str:
    """Run one ``$`` line of a block; return what the terminal shows after it."""
    screen = Terminal()
    piped = _PIPED.match(command)
    if piped:
        tool, quoted, command = piped.groups()
        words = _shell_words(quoted)
        fed = words.encode().decode("unicode_escape").encode("latin-1").decode() if tool == "printf" \
            else words + "\n"
        stdin: io.StringIO = io.StringIO(fed)
    else:
        stdin = Keyboard(typed, screen)
    argv = shlex.split(command)
    assert argv[0] == "unionbot", f"walkthrough commands run unionbot: {command}"
    monkeypatch.setattr(sys, "stdin", stdin)
    with contextlib.redirect_stdout(screen), contextlib.redirect_stderr(screen):
        main(argv[1:])
    shown = screen.screen()
    if isinstance(stdin, Keyboard):
        shown = shown.removesuffix("> ")  # the last prompt, answered with Ctrl-D
    return shown.rstrip("\n")


def run_block(block: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The block as it appears when its ``$`` commands are run: the transcript to compare."""
    commands: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif line.startswith("> ") and commands:
            commands[-1][1].append(line[2:])
    assert commands, f"a console block of the walkthrough starts with a $ command:\n{block}"
    transcript = []
    for command, typed in commands:
        transcript.append(f"$ {command}")
        shown = run_command(command, typed, monkeypatch)
        if shown:
            transcript.append(shown)
    return "\n".join(transcript)


SECTIONS = walkthrough_sections()


@pytest.fixture
def quiet_logging() -> Iterator[None]:
    """``unionbot`` sets up logging on the terminal it runs in; undo that afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.mark.usefixtures("quiet_logging")
@pytest.mark.parametrize("section", SECTIONS, ids=[f"section{n}" for n in range(1, len(SECTIONS) + 1)])
def test_walkthrough_shows_what_a_new_user_sees(
    section: Section, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert section.blocks, f"「{section.title}」没有 console 例子"
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)  # no config.toml: the embedded defaults, data under ./data
    for name in [name for name in os.environ if name.startswith("UNIONBOT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setattr(models.base, "clock", lambda: section.now)
    for number, block in enumerate(section.blocks, 1):
        assert run_block(block, monkeypatch) == block, f"「{section.title}」第 {number} 个 console 例子"


def test_blocks_are_read_as_a_terminal_shows_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness itself: a typed line is echoed after the prompt, a pipe has no prompt."""
    screen = Terminal()
    keyboard = Keyboard(["帮助"], screen)
    screen.write("> ")
    assert keyboard.readline() == "帮助\n" and keyboard.readline() == ""
    assert screen.getvalue() == "> 帮助\n"
    bar = Terminal()
    bar.write("\r导入 [#   ] 1/4\r导入 [####] 4/4\n完成\n")
    assert bar.screen() == "导入 [####] 4/4\n完成\n"
    assert _shell_words("'绑定 10006 刘洋 liuyang'") == "绑定 10006 刘洋 liuyang"
    assert _now_of("t", "假设现在是 2026年12月5日（星期六）下午 2:30") == datetime(
        2026, 12, 5, 6, 30, tzinfo=UTC
    )
    with pytest.raises(AssertionError):
        _now_of("t", "假设现在是 2026年12月5日（星期一）上午 9:00")


def _section(title: str, level: str = "##") -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{level} {title}\n")
    end = text.find(f"\n{level} ", start + 1)
    return text[start : end if end >= 0 else None]


def test_command_table_lists_every_command_and_alias() -> None:
    from handlers import build_registry

    commands = _section("机器人命令")
    current, planned = commands.split("\n### 规划中的命令\n")
    for command in build_registry().commands():
        assert f"`{command.name}" in current, f"「机器人命令」的表里没有「{command.name}」"
        for alias in command.aliases:
            assert f"`{alias}`" in current, f"「机器人命令」没写「{command.name}」也可以说「{alias}」"
        for word in command.words:
            assert f"`{word} " not in planned and f"`{word}`" not in planned, (
                f"「{word}」已经能用，不是规划中的命令"
            )


def test_config_section_names_every_key() -> None:
    from bot.config import HolidaySettings, Settings

    config = _section("配置")
    for name, section in Settings.model_fields.items():
        model = HolidaySettings if name == "holidays" else section.annotation
        assert isinstance(model, type)
        heading = '`[holidays."节日"]`' if name == "holidays" else f"`[{name}]`"
        assert heading in config, f"「配置」一节没有 {heading}"
        for key in model.model_fields:
            # the tables of [wecom.robots] and [outbox.rate_limits] are sections of their own
            shown = f"`[{name}.{key}]`" if key in ("robots", "rate_limits") else f"`{key}`"
            assert shown in config, f"「配置」一节没有说明 [{name}] {key}"
