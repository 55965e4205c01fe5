"""Configuration: ``config.toml`` (keys of DESIGN §5), overridable from the environment.

Precedence, highest first: environment variables (``UNIONBOT_WECHAT_MP__TOKEN`` style),
the TOML file, the embedded defaults. No file at all means the embedded defaults:
SQLite under ``./data``, console and board only.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.config.board import BoardSettings
from bot.config.capabilities import EventSettings, IdeaSettings, ProposalSettings
from bot.config.channels import (
    QQ_API_BASE,
    QQ_SANDBOX_API_BASE,
    OnebotSettings,
    QqOfficialSettings,
    WechatMpSettings,
    WecomSettings,
)
from bot.config.errors import describe, toml_problem
from bot.config.funds import FundsSettings
from bot.config.notices import NoticeSettings
from bot.config.schedule import HOLIDAY_KEYS, HolidaySettings, HolidaysSettings, SchedulerSettings
from bot.config.sections import (
    DatabaseSettings,
    DialogSettings,
    OutboxSettings,
    SecuritySettings,
    ServerSettings,
    UnionSettings,
    parse_rate,
)
from bot.errors import ConfigError
from bot.render import say

DEFAULT_CONFIG_PATH = Path("config.toml")


__all__ = [
    "DEFAULT_CONFIG_PATH", "HOLIDAY_KEYS", "QQ_API_BASE", "QQ_SANDBOX_API_BASE", "BoardSettings",
    "DatabaseSettings", "DialogSettings", "EventSettings", "HolidaySettings", "HolidaysSettings",
    "IdeaSettings",
    "OnebotSettings", "OutboxSettings", "ProposalSettings", "QqOfficialSettings",
    "SchedulerSettings", "SecuritySettings", "ServerSettings", "Settings", "UnionSettings",
    "WechatMpSettings", "WecomSettings", "load_settings", "parse_rate",
]


class Settings(BaseSettings):
    """All of unionbot's settings."""

    model_config = SettingsConfigDict(
        env_prefix="UNIONBOT_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    union: UnionSettings = UnionSettings()
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    security: SecuritySettings = SecuritySettings()
    wechat_mp: WechatMpSettings = WechatMpSettings()
    wecom: WecomSettings = WecomSettings()
    onebot: OnebotSettings = OnebotSettings()
    qq_official: QqOfficialSettings = QqOfficialSettings()
    proposals: ProposalSettings = ProposalSettings()
    events: EventSettings = EventSettings()
    ideas: IdeaSettings = IdeaSettings()
    dialog: DialogSettings = DialogSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    holidays: HolidaysSettings = HolidaysSettings()
    outbox: OutboxSettings = OutboxSettings()
    funds: FundsSettings = FundsSettings()
    notices: NoticeSettings = NoticeSettings()
    board: BoardSettings = BoardSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # the TOML file arrives as init kwargs; the environment overrides it
        return (env_settings, init_settings)


def load_settings(path: Path | str | None = None, *, data: dict[str, Any] | None = None) -> Settings:
    """Read settings from ``path`` (or ``data``); raise ConfigError naming the first bad key.

    ``path=None`` uses ``./config.toml`` when it exists, else the embedded defaults.
    """
    if data is None:
        data = _read_toml(path)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(say("config", "invalid", problem=describe(exc.errors()[0]))) from None


def _read_toml(path: Path | str | None) -> dict[str, Any]:
    if path is None:
        if not DEFAULT_CONFIG_PATH.exists():
            return {}
        path = DEFAULT_CONFIG_PATH
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(say("config", "file_missing", path=path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(say("config", "file_unreadable", path=path, problem=toml_problem(exc))) from None
