"""Amounts of money — exact, in integer 分 (fen).

Accepted: ``300``, ``300.5``, ``300.50``, ``1,200``, ``1.2万``, ``￥300元``, ``300块``;
full-width digits (``１２３``) are read as the same digits (NFKC), as chat text is.
Refused with a ``Refused`` naming the problem: negative or zero amounts, more than two
decimals (of 元), exponents (``1e9``), Chinese numerals (``三百``) and sizes above the
limit (an absurd figure is a typing mistake far more often than a real payment).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from models.funds.refusals import Refused

FEN_PER_YUAN = 100
DEFAULT_MAX_YUAN = 10_000_000  # 一千万元: above this one entry is taken for a typo

_PREFIXES = ("￥", "¥", "RMB", "rmb", "人民币")
_SUFFIXES = ("元整", "元", "块钱", "块", "圆")
_NUMBER = re.compile(r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?")
_CHINESE_NUMERALS = set("零一二三四五六七八九十百千两壹贰叁肆伍陆柒捌玖拾佰仟")


def parse_amount(text: str, *, max_yuan: int = DEFAULT_MAX_YUAN) -> int:
    """``text`` as a positive amount in 分; raise ``Refused`` when it is not one."""
    raw = text.strip()
    body = _strip_currency(unicodedata.normalize("NFKC", raw).replace(" ", ""))
    if not body:
        raise Refused("amount_missing")
    scale = 1
    if body.endswith("万"):
        body, scale = body[:-1], 10_000
    if body.startswith(("-", "−", "－")):
        raise Refused("amount_negative", text=raw)
    if any(ch in _CHINESE_NUMERALS for ch in body):
        raise Refused("amount_chinese", text=raw)
    match = _NUMBER.fullmatch(body)
    if match is None:
        raise Refused("amount_bad", text=raw)
    value = Decimal(match["int"].replace(",", "") + "." + (match["frac"] or "0")) * scale
    fen = value * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise Refused("amount_decimals", text=raw)
    if fen == 0:
        raise Refused("amount_zero", text=raw)
    if fen > max_yuan * FEN_PER_YUAN:
        raise Refused("amount_too_large", text=raw, limit=yuan(max_yuan * FEN_PER_YUAN))
    return int(fen)


def _strip_currency(body: str) -> str:
    for prefix in _PREFIXES:
        if body.startswith(prefix):
            body = body[len(prefix):]
            break
    for suffix in _SUFFIXES:
        if body.endswith(suffix):
            body = body[: -len(suffix)]
            break
    return body


def yuan(fen: int) -> str:
    """``123456`` → ``1,234.56``: an amount in 分 shown in 元, always two decimals."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole:,}.{cents:02d}"


def to_decimal(fen: int) -> Decimal:
    """An amount in 分 as an exact ``Decimal`` of 元 (for spreadsheets)."""
    return Decimal(fen) / FEN_PER_YUAN
