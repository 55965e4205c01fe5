"""The kernel's sections: ``[union]``, ``[server]``, ``[database]``, ``[security]``,
``[dialog]`` and ``[outbox]``, and the base every section shares."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config.errors import ConfigProblem


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
            raise ConfigProblem("config", "timezone_unknown", value=value) from exc
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
            raise ConfigProblem("config", "database_url_bad")
        if value.startswith("sqlite") and value.rstrip("/").endswith(("sqlite+aiosqlite:", ":memory:")):
            raise ConfigProblem("config", "sqlite_file_missing")
        return value


class SecuritySettings(Section):
    replay_window_seconds: int = Field(default=300, ge=0, le=86_400)


class DialogSettings(Section):
    idle_timeout_minutes: int = Field(default=10, ge=1, le=1440)


RATE_UNITS = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0}


def parse_rate(text: str) -> tuple[int, float]:
    """``"20/min"`` → (20, 60.0): at most 20 messages in any 60 seconds."""
    count, _, unit = text.strip().partition("/")
    if not count.strip().isdigit() or unit.strip() not in RATE_UNITS or int(count) < 1:
        raise ConfigProblem("config", "rate_bad", text=text)
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
                raise ConfigProblem("config", "rate_target_bad", target=target)
            parse_rate(rate)
        return value


def clock(value: str) -> str:
    """``"9:00"`` / ``"09:00"`` → ``"09:00"``; ValueError for anything else."""
    hours, sep, minutes = value.strip().partition(":")
    if (sep and hours.isdigit() and minutes.isdigit() and len(hours) <= 2 and len(minutes) == 2
            and int(hours) < 24 and int(minutes) < 60):
        return f"{int(hours):02d}:{minutes}"
    raise ConfigProblem("config", "clock_bad", value=value)
