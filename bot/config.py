"""Configuration: ``config.toml`` (keys of DESIGN §5), overridable from the environment.

Precedence, highest first: environment variables (``UNIONBOT_WECHAT_MP__TOKEN`` style),
the TOML file, the embedded defaults. No file at all means the embedded defaults:
SQLite under ``./data``, console and board only.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.config_errors import describe, toml_problem
from bot.errors import ConfigError
from bot.notices_config import NoticeSettings

DEFAULT_CONFIG_PATH = Path("config.toml")


class Section(BaseModel):
    # ids such as ``agent_id = 1000002`` or a QQ ``app_id`` are typed as TOML numbers:
    # every text key takes a number as its digits
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


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
            raise ValueError(f"没有「{value}」这个时区，例如 \"Asia/Shanghai\"") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    metrics_token: str = ""
    header_timeout_seconds: float = Field(default=10.0, ge=1, le=300)
    body_timeout_seconds: float = Field(default=10.0, ge=1, le=300)
    max_connections: int = Field(default=500, ge=10, le=100_000)


class DatabaseSettings(Section):
    url: str = "sqlite+aiosqlite:///data/unionbot.db"
    keep_inbound_days: int = Field(default=30, ge=1, le=3650)

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        for plain, driver in (("postgresql://", "postgresql+asyncpg://"),
                              ("postgres://", "postgresql+asyncpg://"),
                              ("sqlite://", "sqlite+aiosqlite://")):
            if value.startswith(plain):
                return driver + value[len(plain):]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("请写 sqlite+aiosqlite:///文件路径.db 或 postgresql+asyncpg://用户@主机/库名")
        if value.startswith("sqlite") and value.rstrip("/").endswith(("sqlite+aiosqlite:", ":memory:")):
            raise ValueError("SQLite 要写一个文件，例如 sqlite+aiosqlite:///data/unionbot.db")
        return value


class SecuritySettings(Section):
    replay_window_seconds: int = Field(default=300, ge=0, le=86_400)


def _api_base(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("api_base 要写网址，例如 https://api.weixin.qq.com")
    return value.rstrip("/")


def _aes_alphabet(value: str) -> str:
    if value and not (value.isascii() and value.isalnum()):
        raise ValueError("encoding_aes_key 只含字母和数字，请从后台重新复制")
    return value


class WechatMpSettings(Section):
    enabled: bool = False
    app_id: str = ""
    app_secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    # a passive reply must reach WeChat within 5 s; later replies go out as 客服消息
    reply_budget_seconds: float = Field(default=4.0, ge=0.5, le=4.8)
    api_base: str = "https://api.weixin.qq.com"

    api_base_ok = field_validator("api_base")(_api_base)
    aes_key_ok = field_validator("encoding_aes_key")(_aes_alphabet)

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
    reply_budget_seconds: float = Field(default=4.0, ge=0.5, le=4.8)
    api_base: str = "https://qyapi.weixin.qq.com"
    # app messages carry enable_duplicate_check: WeCom drops a resend within this window
    duplicate_check_seconds: int = Field(default=1800, ge=300, le=14_400)
    robots: dict[str, str] = Field(default_factory=dict)  # group name → webhook key

    api_base_ok = field_validator("api_base")(_api_base)
    aes_key_ok = field_validator("encoding_aes_key")(_aes_alphabet)

    @field_validator("agent_id")
    @classmethod
    def _agent_digits(cls, value: str) -> str:
        if value and not value.isdigit():
            raise ValueError("agent_id 是应用详情页的 AgentId（一串数字），例如 1000002")
        return value

    @field_validator("robots")
    @classmethod
    def _robot_keys(cls, value: dict[str, str]) -> dict[str, str]:
        keys = {}
        for name, given in value.items():
            key = given.strip().rpartition("key=")[2].split("&")[0]
            if not name.strip() or len(name) > 128:
                raise ValueError("每个群机器人要写群名（1 到 128 个字符）")
            if not key or not all(c.isascii() and (c.isalnum() or c in "-_") for c in key):
                raise ValueError(f"群机器人「{name}」：请粘贴它的 Webhook 地址中 key= 后面的部分")
            keys[name] = key
        return keys

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
    # answer in the HTTP response when ready within this time, else through the HTTP API
    reply_budget_seconds: float = Field(default=4.0, gt=0, le=30)

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("api_url 要以 http:// 或 https:// 开头，例如 http://127.0.0.1:3000")
        return value.rstrip("/")


QQ_API_BASE = "https://api.sgroup.qq.com"
QQ_SANDBOX_API_BASE = "https://sandbox.api.sgroup.qq.com"


class QqOfficialSettings(Section):
    enabled: bool = False
    app_id: str = ""
    secret: str = ""
    sandbox: bool = False
    api_base: str = ""  # empty: the official address (or the sandbox one when sandbox = true)
    token_url: str = "https://bots.qq.com/app/getAppAccessToken"

    @field_validator("api_base", "token_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("要以 https:// 开头，例如 https://api.sgroup.qq.com")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _complete(self) -> QqOfficialSettings:
        _require(self, "app_id", "secret", "token_url")
        return self

    @property
    def api_root(self) -> str:
        """Where the v2 API answers: ``api_base``, else the official or sandbox address."""
        return self.api_base or (QQ_SANDBOX_API_BASE if self.sandbox else QQ_API_BASE)


class ProposalSettings(Section):
    """教代会提案 (``[proposals]``)."""

    min_cosigners: int = Field(default=2, ge=0, le=50)
    reply_days: int = Field(default=30, ge=1, le=366)
    filers: str = Field(default="representatives", pattern="^(representatives|members)$")
    open_all_year: bool = False
    categories: list[str] = Field(default_factory=list, max_length=50)
    departments: list[str] = Field(default_factory=list, max_length=200)
    title_max_chars: int = Field(default=50, ge=5, le=200)
    text_max_chars: int = Field(default=1500, ge=20, le=3000)
    cosigners_rate: bool = False
    max_rehandle: int = Field(default=1, ge=0, le=5)
    page_size: int = Field(default=10, ge=1, le=50)

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        return _plain_names(value, limit=32)

    @field_validator("departments")
    @classmethod
    def _departments(cls, value: list[str]) -> list[str]:
        return _plain_names(value, limit=64)


def _plain_names(names: list[str], *, limit: int) -> list[str]:
    """Names typed in commands: unique, 1..limit characters, no spaces or list separators."""
    seen: set[str] = set()
    for name in names:
        if not name or len(name) > limit or any(c.isspace() or c in "、,，;；" for c in name):
            raise ValueError(f"「{name}」要是 1 到 {limit} 个字符，不含空格和 、,;")
        if name in seen:
            raise ValueError(f"「{name}」写了两次")
        seen.add(name)
    return names


class EventSettings(Section):
    """活动报名 (``[events]``)."""

    deadline_minutes_before_start: int = Field(default=0, ge=0, le=30 * 1440)
    checkin_margin_minutes: int = Field(default=30, ge=0, le=1440)
    max_guests: int = Field(default=5, ge=0, le=50)
    max_capacity: int = Field(default=5000, ge=1, le=100_000)
    title_max_chars: int = Field(default=40, ge=4, le=64)
    note_max_chars: int = Field(default=100, ge=10, le=200)
    export_link_minutes: int = Field(default=60, ge=1, le=7 * 1440)
    roster_max_lines: int = Field(default=200, ge=10, le=5000)


class DialogSettings(Section):
    idle_timeout_minutes: int = Field(default=10, ge=1, le=1440)


def _clock(value: str) -> str:
    """``"9:00"`` / ``"09:00"`` → ``"09:00"``; ValueError for anything else."""
    hours, sep, minutes = value.strip().partition(":")
    if (sep and hours.isdigit() and minutes.isdigit() and len(hours) <= 2 and len(minutes) == 2
            and int(hours) < 24 and int(minutes) < 60):
        return f"{int(hours):02d}:{minutes}"
    raise ValueError(f"「{value}」不是一天中的时刻，请写成 \"09:00\" 这样")


class SchedulerSettings(Section):
    enabled: bool = True
    # items due while the server was down are still sent within this many hours
    grace_hours: float = Field(default=6.0, ge=1, le=168)
    tick_seconds: int = Field(default=60, ge=10, le=600)
    birthday_time: str = "08:00"
    birthday_range: Literal["day", "week"] = "day"
    birthday_greeting: bool = False
    # 活动提醒: hours before an event's start; [] sends none
    event_reminder_hours: list[int] = Field(default_factory=lambda: [24, 2], max_length=5)
    # 提案答复提醒: days before the reply deadline (0 = off), at this time of day
    proposal_reminder_days: int = Field(default=3, ge=0, le=60)
    proposal_reminder_time: str = "09:00"
    # 逾期提案周报: 1 = Monday … 7 = Sunday, 0 = off
    overdue_digest_weekday: int = Field(default=1, ge=0, le=7)
    overdue_digest_time: str = "09:00"

    birthday_time_ok = field_validator("birthday_time")(_clock)
    reminder_times_ok = field_validator("proposal_reminder_time", "overdue_digest_time")(_clock)

    @field_validator("event_reminder_hours")
    @classmethod
    def _reminder_hours(cls, value: list[int]) -> list[int]:
        if any(not 1 <= hours <= 720 for hours in value):
            raise ValueError("每个提醒是开始前 1 到 720 小时，例如 [24, 2]")
        if len(set(value)) != len(value):
            raise ValueError("有一个提醒时间写了两次")
        return sorted(value, reverse=True)


# Festival keys of [holidays."<key>"], as in models.calendar.festivals.KEYS (a test keeps them equal).
HOLIDAY_KEYS = (
    "元旦", "除夕", "春节", "元宵", "三八", "清明", "五一",
    "六一", "端午", "七夕", "教师节", "中秋", "国庆", "重阳",
)


class HolidaySettings(Section):
    """One festival's 慰问 notice; an unset value takes the festival's built-in default."""

    enabled: bool | None = None
    days_before: int | None = Field(default=None, ge=0, le=60)
    send_at: str | None = None
    audience: Literal["all", "women", "parents_under_14"] | None = None
    branches: list[str] = Field(default_factory=list)
    delivery: Literal["groups", "private"] | None = None
    gift: str = Field(default="", max_length=200)
    pickup_place: str = Field(default="", max_length=200)
    pickup_time: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=500)
    template: str = ""

    @field_validator("send_at")
    @classmethod
    def _send_at(cls, value: str | None) -> str | None:
        return None if value is None else _clock(value)

    @field_validator("branches")
    @classmethod
    def _branch_names(cls, value: list[str]) -> list[str]:
        names = [name.strip() for name in value]
        if any(not name or len(name) > 64 for name in names):
            raise ValueError("每一项是名册里的分工会名称（1 到 64 个字符）")
        return names

    @field_validator("template")
    @classmethod
    def _template_file(cls, value: str) -> str:
        from importlib.resources import files

        name = value.strip().removesuffix(".txt.j2")
        if not name:
            return ""
        if not all(c.isalnum() or c in "_-" for c in name):
            raise ValueError(f"模板「{value}」：请写文件名，例如 \"holiday_端午\"")
        if not (files("templates") / "notices" / f"{name}.txt.j2").is_file():
            raise ValueError(f"模板「{value}」：没有 templates/notices/{name}.txt.j2 这个文件")
        return name


class HolidaysSettings(BaseModel):
    """``[holidays."<key>"]`` sections: festival key → its notice settings."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, HolidaySettings] = Field(init=False)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key not in HOLIDAY_KEYS:
                    raise ValueError(
                        f"「{key}」不是节日名称，可用：{'、'.join(HOLIDAY_KEYS)}"
                    )
        return data

    def get(self, key: str) -> HolidaySettings | None:
        """The settings written for festival ``key``, or None when it has no section."""
        return (self.__pydantic_extra__ or {}).get(key)

    def keys(self) -> list[str]:
        """The festivals that have a section, in the order they were written."""
        return list(self.__pydantic_extra__ or {})


RATE_UNITS = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0}


def parse_rate(text: str) -> tuple[int, float]:
    """``"20/min"`` → (20, 60.0): at most 20 messages in any 60 seconds."""
    count, _, unit = text.strip().partition("/")
    if not count.strip().isdigit() or unit.strip() not in RATE_UNITS or int(count) < 1:
        raise ValueError(f"发送速度「{text}」要写成 \"20/min\"、\"1/s\" 或 \"100/h\" 这样")
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
                raise ValueError(f"「{target}」要写成 \"渠道:user\"、\"渠道:group\" 或 \"渠道:robot\"")
            parse_rate(rate)
        return value


def _require(section: BaseModel, *keys: str) -> None:
    if not getattr(section, "enabled", False):
        return
    for key in keys:
        if not getattr(section, key):
            raise ValueError(f"启用这个渠道时必须填写 {key}")


def _aes_key(key: str) -> None:
    if key and len(key) != 43:
        raise ValueError("encoding_aes_key 必须是后台显示的 43 个字符")


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
    holidays: HolidaysSettings = HolidaysSettings()
    outbox: OutboxSettings = OutboxSettings()
    notices: NoticeSettings = NoticeSettings()

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
        raise ConfigError(f"配置有误：{describe(exc.errors()[0])}") from None


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
        raise ConfigError(f"配置有误：{path} {toml_problem(exc)}") from None
