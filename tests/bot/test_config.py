from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.config import Settings, load_settings
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


def test_no_file_means_embedded_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database.url == "sqlite+aiosqlite:///data/unionbot.db"
    assert settings.union.timezone == "Asia/Shanghai"
    assert not any(
        getattr(settings, channel).enabled
        for channel in ("wechat_mp", "wecom", "onebot", "qq_official")
    )


def test_example_file_loads_and_documents_every_key() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.union.name == "示范大学工会"
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for name, field in Settings.model_fields.items():
        assert name in data, f"[{name}] missing from config.example.toml"
        section = field.annotation
        assert isinstance(section, type) and issubclass(section, BaseModel)
        for key in section.model_fields:
            assert key in data[name], f"{name}.{key} missing from config.example.toml"


def test_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIONBOT_WECHAT_MP__TOKEN", "from-env")
    monkeypatch.setenv("UNIONBOT_SERVER__PORT", "9090")
    settings = load_settings(data={"wechat_mp": {"token": "from-file"}, "server": {"port": 1}})
    assert settings.wechat_mp.token == "from-env"
    assert settings.server.port == 9090


def test_postgres_url_gets_the_async_driver() -> None:
    settings = load_settings(data={"database": {"url": "postgresql://u@h/db"}})
    assert settings.database.url == "postgresql+asyncpg://u@h/db"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"server": {"port": "eighty"}}, "server.port：应为整数，例如 10"),
        ({"server": {"port": 70000}}, "server.port：不能大于 65535"),
        ({"payroll": {"x": 1}}, "payroll：没有这一项（可以写的项见 config.example.toml）"),
        ({"union": {"nmae": "x"}}, "union.nmae：没有这一项"),
        ({"union": {"timezone": "Mars/Olympus"}}, "union.timezone：没有「Mars/Olympus」这个时区"),
        ({"database": {"url": "mysql://x"}}, "database.url：请写 sqlite+aiosqlite"),
        ({"database": {"url": "sqlite+aiosqlite:///:memory:"}}, "database.url：SQLite 要写一个文件"),
        ({"wechat_mp": {"enabled": True}}, "wechat_mp：启用这个渠道时必须填写 token"),
        ({"wecom": {"encoding_aes_key": "short"}}, "wecom：encoding_aes_key 必须是后台显示的 43 个字符"),
        ({"security": {"replay_window_seconds": -1}}, "security.replay_window_seconds"),
        ({"database": {"keep_inbound_days": 0}}, "database.keep_inbound_days"),
        ({"funds": {"transfer_income": "火箭"}},
         "funds：transfer_income 的科目「火箭」在科目表里找不到或不是明细科目"),
        ({"funds": {"limits": {"火箭": 1}}},
         "funds：limits 里的「火箭」不是慰问类型（relief_types 里有：生日、生育、住院、丧事、退休、节日、"
         "困难帮扶）"),
        ({"funds": {"categories_file": "/nonexistent/科目.toml"}},
         "funds.categories_file：读不到科目文件 /nonexistent/科目.toml：No such file or directory"),
    ],
)
def test_invalid_values_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(data=data)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_toml_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[server\nport = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="不是有效的 TOML：第 1 行第 8 列写法有误"):
        load_settings(path)


def test_cli_stops_with_exit_code_2_and_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[server]\nport = "eighty"\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade", "--config", str(path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "配置有误：server.port：应为整数，例如 10"
    ]
    assert not (tmp_path / "data").exists()


def test_ids_typed_as_numbers_are_read_as_their_digits(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[wecom]\nenabled = true\ncorp_id = \"ww0123456789abcdef\"\nagent_id = 1000002\n"
        "secret = \"s\"\ntoken = 20260101\nencoding_aes_key = \"" + "a" * 43 + "\"\n"
        "[wecom.robots]\n\"工会群\" = 693\n"
        "[qq_official]\nenabled = true\napp_id = 102005927\nsecret = 123456\n"
        "[wechat_mp]\napp_id = \"wx0123\"\ntoken = 888888\n",
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert (settings.wecom.agent_id, settings.wecom.token, settings.wecom.robots) == (
        "1000002", "20260101", {"工会群": "693"},
    )
    assert (settings.qq_official.app_id, settings.qq_official.secret) == ("102005927", "123456")
    assert settings.wechat_mp.token == "888888"
