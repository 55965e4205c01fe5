"""One roster cell read and checked: normalised text, dates, roles, phone numbers.

A check returns the clean value or raises ``Invalid`` naming the column and the value.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

from models.org import ROLE_LABELS, Role
from models.roster.problems import Invalid

Cell = str | int | float | date | None  # what a cell holds once read (datetime is a date)

EARLIEST_DATE = date(1900, 1, 1)
STAFF_NO_LIMIT = 32
TEXT_LIMIT = 64


def text_of(value: Cell) -> str:
    """A cell as normalised text (NFKC, stripped); whole-number floats lose their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def shown(text: str, limit: int = 30) -> str:
    """A value as quoted back in a reason: one line, not too long."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_STAFF_NO = re.compile(r"[A-Za-z0-9_-]+")


def staff_no(value: Cell) -> str:
    text = text_of(value)
    if not text:
        raise Invalid("blank", column="工号")
    if len(text) > STAFF_NO_LIMIT:
        raise Invalid("too_long", column="工号", value=shown(text), limit=STAFF_NO_LIMIT)
    if not _STAFF_NO.fullmatch(text):
        raise Invalid("staff_no_chars", value=shown(text))
    return text


def bounded(value: Cell, column: str, *, required: bool, limit: int = TEXT_LIMIT) -> str | None:
    text = text_of(value)
    if not text:
        if required:
            raise Invalid("blank", column=column)
        return None
    if len(text) > limit:
        raise Invalid("too_long", column=column, value=shown(text), limit=limit)
    return text


def required(value: Cell, column: str) -> str:
    return bounded(value, column, required=True) or ""


_GENDERS = {
    "男": "男", "男性": "男", "m": "男", "male": "男",
    "女": "女", "女性": "女", "f": "女", "female": "女",
}


def gender(value: Cell) -> str | None:
    text = text_of(value)
    if not text:
        return None
    found = _GENDERS.get(text.lower())
    if found is None:
        raise Invalid("gender", value=shown(text))
    return found


_DATE_FORMS = (
    re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?:[ T][0-9:.]+)?"),
    re.compile(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})[日号]?"),
    re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"),
)


# Excel stores a date as the number of days since 1899-12-30 (its «serial»): a date column
# formatted as a plain number shows 32874 for 1990-01-01. Serials are read from 1910 to 2099
# only; smaller numbers would be years (1985) and larger ones are no date of this roster.
_SERIAL_EPOCH = date(1899, 12, 30)
_SERIALS = range((date(1910, 1, 1) - _SERIAL_EPOCH).days, (date(2100, 1, 1) - _SERIAL_EPOCH).days)
_SERIAL_TEXT = re.compile(r"[0-9]{4,5}(?:\.[0-9]+)?")


def _serial_date(value: Cell, text: str) -> date | None:
    """The date an Excel serial number stands for (a time of day is dropped), or None."""
    if isinstance(value, bool) or not (isinstance(value, int | float) or _SERIAL_TEXT.fullmatch(text)):
        return None
    days = int(float(text))
    return _SERIAL_EPOCH + timedelta(days=days) if days in _SERIALS else None


def parse_date(value: Cell) -> date | None:
    """A date cell, text like 1985-03-02, 1985/3/2, 1985.3.2, 1985年3月2日, 19850302,
    or an Excel date serial such as 31108 (a number cell or plain digits)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = text_of(value)
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return _serial_date(value, text)


def date_in(value: Cell, column: str, *, latest: date) -> date | None:
    """An optional date between 1900-01-01 and ``latest``; a bad one names column and value."""
    if blank(value):
        return None
    day = parse_date(value)
    quoted = shown(text_of(value))
    if day is None:
        raise Invalid("bad_date", column=column, value=quoted)
    if not EARLIEST_DATE <= day <= latest:
        raise Invalid("date_range", column=column, value=quoted, earliest=EARLIEST_DATE, latest=latest)
    return day


_ROLE_SPLIT = re.compile(r"[、,，;；/\s]+")


def _role(word: str) -> Role | None:
    role = Role.from_label(word)
    if role is None and word.lower() in {role.value for role in Role}:
        role = Role(word.lower())
    return role


def roles(value: Cell) -> frozenset[Role]:
    """Roles by their Chinese labels; 会员 always included, an empty cell means just 会员."""
    words = [word for word in _ROLE_SPLIT.split(text_of(value)) if word]
    found = {word: _role(word) for word in words}
    unknown = [word for word, role in found.items() if role is None]
    if unknown:
        raise Invalid("roles", value=shown("、".join(unknown)), known=list(ROLE_LABELS.values()))
    return frozenset({Role.MEMBER, *(role for role in found.values() if role is not None)})


_MOBILE = re.compile(r"1[0-9]{10}")
_PHONE = re.compile(r"[0-9][0-9-]{5,18}[0-9]")


def phone(value: Cell) -> str | None:
    text = "".join(text_of(value).split())
    if not text:
        return None
    if text.startswith("+86"):
        text = text[3:].lstrip("-")
    if _MOBILE.fullmatch(text) or _PHONE.fullmatch(text):
        return text
    raise Invalid("phone", value=shown(text_of(value)))


_CHILD_SPLIT = re.compile(r"[；;、,，]+")


def children(value: Cell, *, latest: date) -> tuple[date, ...]:
    if isinstance(value, date):
        parts: list[Cell] = [value]
    else:
        parts = [part for part in _CHILD_SPLIT.split(text_of(value)) if part.strip()]
    days = [date_in(part, "子女出生日期", latest=latest) for part in parts]
    return tuple(sorted(day for day in days if day is not None))
