"""Submitting an idea — 点子 / 匿名点子: the text rules, the title, the number.

Numbers ``D<seq>`` run on for the whole union, gapless, from one upsert on the counter
row inside the submitting transaction (as ``models.proposals.numbers``): PostgreSQL
locks the row until the transaction ends, SQLite writers are serialised anyway, and a
refused submission rolls the counter back with everything else.

An exact repeat of one's own earlier idea (the same text, named or anonymous) is refused:
``dup_tag`` is unique, and a repeat sent twice at the same moment loses on that constraint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.base import PerDialect, execute_core, insert_for, table_of
from models.ideas.pseudonym import Pseudonyms
from models.ideas.tables import TITLE_COLUMN, Idea, IdeaCounter, Refused, Status, format_number

_COUNTER = table_of(IdeaCounter)
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
_TITLE_KEY = re.compile(r"^标题\s*[:：]\s*(?P<title>\S[^\n]*?)(?:\s+(?P<rest>\S.*))?$", re.S)


def _bump(dialect: str) -> Insert:
    maker = insert_for(dialect)
    statement = maker(_COUNTER).values(name="idea", seq=1)
    return statement.on_conflict_do_update(
        index_elements=[_COUNTER.c.name], set_={"seq": _COUNTER.c.seq + 1}
    ).returning(_COUNTER.c.seq)


_BUMPS = PerDialect(_bump)


async def next_seq(session: AsyncSession) -> int:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return int((await execute_core(session, _BUMPS[dialect])).scalar_one())


@dataclass(frozen=True, slots=True)
class Limits:
    """The rules a union configures under ``[ideas]``."""

    min_chars: int = 8
    max_chars: int = 1000
    title_max_chars: int = 30


@dataclass(frozen=True, slots=True)
class Text:
    """An idea's text as stored: its title and the whole content."""

    title: str
    content: str


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_text(raw: str, limits: Limits) -> Text:
    """The title (``标题：…`` or the first sentence) and content; Refused if too short or long."""
    content = raw.strip()
    title = ""
    keyed = _TITLE_KEY.match(content)
    if keyed is not None:
        title = " ".join(keyed["title"].split())
        content = (keyed["rest"] or "").strip() or title
    size = len("".join(content.split()))
    if size < limits.min_chars:
        raise Refused("too_short", length=size, limit=limits.min_chars)
    if len(content) > limits.max_chars:
        raise Refused("too_long", length=len(content), limit=limits.max_chars)
    if not title:
        first = _SENTENCE_END.split(content, maxsplit=1)[0]
        title = " ".join(first.split()) or " ".join(content.split())
    return Text(_shorten(title, min(limits.title_max_chars, TITLE_COLUMN)), content)


@dataclass(frozen=True, slots=True)
class Author:
    """Who submits: the member, their branch, and whether the idea is anonymous."""

    member_id: int
    branch_id: int
    anonymous: bool


_INSERT = table_of(Idea).insert().returning(table_of(Idea).c.id)


async def submit(
    session: AsyncSession, *, author: Author, text: Text, round_id: int | None, year: int,
    now: datetime, keys: Pseudonyms,
) -> Idea:
    """Store the idea under the next number; Refused when it repeats one's own earlier idea."""
    dup_tag = keys.duplicate(author.member_id, text.content)
    earlier = await session.scalar(select(col(Idea.number)).where(col(Idea.dup_tag) == dup_tag))
    if earlier is not None:
        raise Refused("duplicate", number=earlier)
    seq = await next_seq(session)
    values: dict[str, Any] = {
        "number": format_number(seq), "seq": seq, "year": year, "round_id": round_id,
        "branch_id": author.branch_id, "anonymous": author.anonymous,
        "member_id": None if author.anonymous else author.member_id,
        "author_tag": keys.author(author.member_id) if author.anonymous else None,
        "dup_tag": dup_tag, "title": text.title, "content": text.content,
        "status": Status.OPEN.value, "support_count": 0, "submitted_at": now,
    }
    try:
        async with session.begin_nested():
            values["id"] = int((await execute_core(session, _INSERT, values)).scalar_one())
    except IntegrityError:
        raise Refused("duplicate_now") from None
    return Idea(**values)
