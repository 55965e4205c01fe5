"""Configuration: ``config.toml`` (keys of DESIGN §5), overridable from the environment.

Precedence, highest first: environment variables (``UNIONBOT_WECHAT_MP__TOKEN`` style),
the TOML file, the embedded defaults. No file at all means the embedded defaults:
SQLite under ``./data``, console and board only.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config.toml")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnionSettings(Section):
    name: str = Field(default="校工会", min_length=1, max_length=64)
    timezone: str = "Asia/Shanghai"
    bot_name: str = Field(default="工会助手", min_length=1, max_length=32)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}, e.g. 'Asia/Shanghai'") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")


class DatabaseSettings(Section):
    url: str = "sqlite+aiosqlite:///data/unionbot.db"

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        for plain, driver in (("postgresql://", "postgresql+asyncpg://"),
                              ("postgres://", "postgresql+asyncpg://"),
                              ("sqlite://", "sqlite+aiosqlite://")):
            if value.startswith(plain):
                return driver + value[len(plain):]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db")
        if value.startswith("sqlite") and value.rstrip("/").endswith(("sqlite+aiosqlite:", ":memory:")):
            raise ValueError("SQLite needs a file, e.g. sqlite+aiosqlite:///data/unionbot.db")
        return value


class SecuritySettings(Section):
    replay_window_seconds: int = Field(default=300, ge=0, le=86_400)


class WechatMpSettings(Section):
    enabled: bool = False
    app_id: str = ""
    app_secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""

    @model_validator(mode="after")
    def _complete(self) -> WechatMpSettings:
        _require(self, "token", "app_id")
        _aes_key(self.encoding_aes_key)
        return self


class WecomSettings(Section):
    enabled: bool = False
    corp_id: str = ""
    agent_id: str = ""
    secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    robots: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> WecomSettings:
        _require(self, "corp_id", "token", "encoding_aes_key")
        _aes_key(self.encoding_aes_key)
        return self


class OnebotSettings(Section):
    enabled: bool = False
    api_url: str = ""
    access_token: str = ""
    secret: str = ""


class QqOfficialSettings(Section):
    enabled: bool = False
    app_id: str = ""
    secret: str = ""

    @model_validator(mode="after")
    def _complete(self) -> QqOfficialSettings:
        _require(self, "app_id", "secret")
        return self


class ProposalSettings(Section):
    min_cosigners: int = Field(default=2, ge=0, le=50)
    reply_days: int = Field(default=30, ge=1, le=366)


class EventSettings(Section):
    pass


class DialogSettings(Section):
    idle_timeout_minutes: int = Field(default=10, ge=1, le=1440)


class SchedulerSettings(Section):
    enabled: bool = True


RATE_UNITS = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0}


def parse_rate(text: str) -> tuple[int, float]:
    """``"20/min"`` → (20, 60.0): at most 20 messages in any 60 seconds."""
    count, _, unit = text.strip().partition("/")
    if not count.strip().isdigit() or unit.strip() not in RATE_UNITS or int(count) < 1:
        raise ValueError(f"rate {text!r} must look like '20/min', '1/s' or '100/h'")
    return int(count), RATE_UNITS[unit.strip()]


class OutboxSettings(Section):
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_seconds: float = Field(default=5.0, gt=0, le=3600)
    backoff_max_seconds: float = Field(default=1800.0, gt=0, le=86_400)
    lease_seconds: int = Field(default=60, ge=5, le=3600)
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    concurrency: int = Field(default=8, ge=1, le=64)
    rate_limits: dict[str, str] = Field(default_factory=lambda: {
        "wecom:robot": "20/min", "onebot:group": "1/s",
    })

    @field_validator("rate_limits")
    @classmethod
    def _rates(cls, value: dict[str, str]) -> dict[str, str]:
        for target, rate in value.items():
            channel, _, kind = target.partition(":")
            if not channel or kind not in ("user", "group", "robot"):
                raise ValueError(f"{target!r} must be '<channel>:user', ':group' or ':robot'")
            parse_rate(rate)
        return value


def _require(section: BaseModel, *keys: str) -> None:
    if not getattr(section, "enabled", False):
        return
    for key in keys:
        if not getattr(section, key):
            raise ValueError(f"'{key}' must be set when the channel is enabled")


def _aes_key(key: str) -> None:
    if key and len(key) != 43:
        raise ValueError("encoding_aes_key must be the 43 characters shown in the console")


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
    dialog: DialogSettings = DialogSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    outbox: OutboxSettings = OutboxSettings()

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


def _describe(error: Any) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (see config.example.toml for the keys there are)"
    return f"{key}: {message}"


def load_settings(path: Path | str | None = None, *, data: dict[str, Any] | None = None) -> Settings:
    """Read settings from ``path`` (or ``data``); raise ConfigError naming the first bad key.

    ``path=None`` uses ``./config.toml`` when it exists, else the embedded defaults.
    """
    if data is None:
        data = _read_toml(path)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(f"配置有误：{_describe(exc.errors()[0])}") from None


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
        raise ConfigError(f"配置有误：找不到配置文件 {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"配置有误：{path} 不是有效的 TOML（not valid TOML: {exc}）") from None
