"""What ``unionbot`` prints about its own command line is Chinese, with the documented exit codes."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from bot.cli import main

GROUPS = [[], ["members"], ["db"], ["proposals"], ["events"], ["outbox"], ["scheduler"], ["funds"]]
VERBS = [
    ["serve"], ["chat"], ["members", "import"], ["db", "upgrade"], ["proposals", "export"],
    ["holidays"], ["events", "export"], ["outbox", "list"], ["outbox", "retry"], ["broadcast"],
    ["scheduler", "plan"], ["scheduler", "run-due"], ["funds", "verify"], ["funds", "import"],
    ["funds", "export"],
]
ENGLISH = re.compile(r"usage|positional arguments|options:|show this help|error|argument|required|invalid"
                     r"|choose from|unrecognized|expected|Input should|unknown key")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stop:
        main(list(argv))
    out, err = capsys.readouterr()
    assert not ENGLISH.search(out + err), out + err
    return int(stop.value.code or 0), out, err


@pytest.mark.parametrize("words", GROUPS + VERBS, ids=lambda words: " ".join(words) or "unionbot")
def test_help_is_chinese(capsys: pytest.CaptureFixture[str], words: list[str]) -> None:
    code, out, err = run(capsys, *words, "--help")
    assert (code, err) == (0, "")
    assert out.startswith(f"用法：unionbot {' '.join(words)}".rstrip() + " [-h]")
    assert "  -h, --help" in out and "显示这段帮助并退出" in out
    assert "选项：" in out


@pytest.mark.parametrize(
    ("words", "missing"),
    [([], "命令"), *(([group], "子命令") for group in ("members", "db", "proposals", "events", "outbox",
                                                       "scheduler", "funds"))],
)
def test_a_missing_verb_says_so_in_chinese(
    capsys: pytest.CaptureFixture[str], words: list[str], missing: str
) -> None:
    code, out, err = run(capsys, *words)
    prog = " ".join(["unionbot", *words])
    assert (code, out) == (2, "")
    assert err.splitlines()[0].startswith(f"用法：{prog} [-h]")
    assert err.splitlines()[-1] == f"{prog}：错误：缺少必需的参数：{missing}"


@pytest.mark.parametrize(
    ("argv", "last_line"),
    [
        (["members", "import"], "unionbot members import：错误：缺少必需的参数：名册文件"),
        (["db", "upgrade", "--bogus"], "unionbot：错误：看不懂的参数：--bogus"),
        (["outbox", "list", "--limit", "x"],
         "unionbot outbox list：错误：--limit：「x」不是整数，例如 --limit 20"),
        (["outbox", "retry", "七"], "unionbot outbox retry：错误：编号：「七」不是整数，例如 12"),
        (["broadcast", "通知", "--wait", "两分钟"],
         "unionbot broadcast：错误：--wait：「两分钟」不是数字，例如 --wait 60"),
        (["proposals", "export", "--year", "今年", "a.xlsx"],
         "unionbot proposals export：错误：--year：「今年」不是整数，例如 --year 2026"),
        (["scheduler", "plan", "--days"], "unionbot scheduler plan：错误：--days：后面要跟一个值"),
        (["frob"], "unionbot：错误：命令：没有「frob」这一项，可选：'serve', 'chat', 'members', 'db', "
                   "'proposals', 'holidays', 'events', 'outbox', 'broadcast', 'scheduler', 'funds'"),
        (["funds", "export", "2026Q4"], "unionbot funds export：错误：缺少必需的参数：--out"),
    ],
)
def test_a_bad_command_line_is_one_chinese_line_and_exit_code_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], last_line: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == last_line
    assert err.startswith("用法：unionbot")


def test_a_bad_config_is_one_chinese_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[server]\nport = "eighty"\n[wecom]\nagnet_id = 1\n', encoding="utf-8")
    assert main(["db", "upgrade", "--config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", "配置有误：server.port：应为整数，例如 10\n")
    path.write_text("[wecom]\nagnet_id = 1\n", encoding="utf-8")
    assert main(["members", "import", "r.csv", "--config", str(path)]) == 2
    assert capsys.readouterr().err == (
        "配置有误：wecom.agnet_id：没有这一项（可以写的项见 config.example.toml）\n"
    )
    path.write_text("[server\n", encoding="utf-8")
    assert main(["scheduler", "plan", "--config", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"配置有误：{path} 不是有效的 TOML：第 1 行第 8 列写法有误（请检查引号、方括号和等号）\n"
    )


def test_argparse_is_left_as_it_was(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--help")
    assert argparse._("options") == "options"  # type: ignore[attr-defined]
