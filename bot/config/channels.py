"""The channel sections: ``[wechat_mp]``, ``[wecom]``, ``[onebot]``, ``[qq_official]``."""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from bot.config.errors import ConfigProblem
from bot.config.sections import Section


def _api_base(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ConfigProblem("config", "api_base_bad")
    return value.rstrip("/")


def _aes_alphabet(value: str) -> str:
    if value and not (value.isascii() and value.isalnum()):
        raise ConfigProblem("config", "aes_alphabet")
    return value


class _WechatSection(Section):
    """What the Official Account and WeCom sections share: the callback's token and key,
    the reply budget and the API address."""

    required: ClassVar[tuple[str, ...]] = ()

    enabled: bool = False
    token: str = ""
    encoding_aes_key: str = ""
    # a passive reply must reach WeChat within 5 s; later replies go through the outbox
    reply_budget_seconds: float = Field(default=4.0, ge=0.5, le=4.8)
    api_base: str = ""

    api_base_ok = field_validator("api_base")(_api_base)
    aes_key_ok = field_validator("encoding_aes_key")(_aes_alphabet)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        _require(self, *self.required)
        _aes_key(self.encoding_aes_key)
        return self


class WechatMpSettings(_WechatSection):
    required = ("token", "app_id")

    app_id: str = ""
    app_secret: str = ""
    api_base: str = "https://api.weixin.qq.com"


class WecomSettings(_WechatSection):
    required = ("corp_id", "token", "encoding_aes_key")

    corp_id: str = ""
    agent_id: str = ""
    secret: str = ""
    api_base: str = "https://qyapi.weixin.qq.com"
    # app messages carry enable_duplicate_check: WeCom drops a resend within this window
    duplicate_check_seconds: int = Field(default=1800, ge=300, le=14_400)
    robots: dict[str, str] = Field(default_factory=dict)  # group name → webhook key

    @field_validator("agent_id")
    @classmethod
    def _agent_digits(cls, value: str) -> str:
        if value and not value.isdigit():
            raise ConfigProblem("config", "agent_id_bad")
        return value

    @field_validator("robots")
    @classmethod
    def _robot_keys(cls, value: dict[str, str]) -> dict[str, str]:
        keys = {}
        for name, given in value.items():
            key = given.strip().rpartition("key=")[2].split("&")[0]
            if not name.strip() or len(name) > 128:
                raise ConfigProblem("config", "robot_name_bad")
            if not key or not all(c.isascii() and (c.isalnum() or c in "-_") for c in key):
                raise ConfigProblem("config", "robot_key_bad", name=name)
            keys[name] = key
        return keys


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
            raise ConfigProblem("config", "onebot_url_bad")
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
            raise ConfigProblem("config", "qq_url_bad")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _complete(self) -> QqOfficialSettings:
        _require(self, "app_id", "secret", "token_url")
        return self

    @property
    def api_root(self) -> str:
        """Where the v2 API answers: ``api_base``, else the official or sandbox address."""
        return self.api_base or (QQ_SANDBOX_API_BASE if self.sandbox else QQ_API_BASE)


def _require(section: BaseModel, *keys: str) -> None:
    if not getattr(section, "enabled", False):
        return
    for key in keys:
        if not getattr(section, key):
            raise ConfigProblem("config", "channel_key_missing", key=key)


def _aes_key(key: str) -> None:
    if key and len(key) != 43:
        raise ConfigProblem("config", "aes_length")
