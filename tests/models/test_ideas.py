"""金点子 models: the key file, pseudonyms, text rules, numbers and the migration."""

from __future__ import annotations

import asyncio
import multiprocessing
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlmodel import SQLModel

from models.db import Database
from models.ideas import pseudonym
from models.ideas.pseudonym import KeyFileError, Pseudonyms, load_key
from models.ideas.submit import Limits, next_seq, read_text
from models.ideas.tables import Refused, format_number, parse_number
from tests.models.test_proposals import _tables_named

IDEA_TABLES = {"idea", "idea_round", "idea_counter", "idea_support"}


def _load_in_child(path: str, queue: multiprocessing.Queue[str]) -> None:
    queue.put(load_key(path).hex())


def test_two_processes_creating_the_key_at_once_keep_one(tmp_path: Path) -> None:
    path = str(tmp_path / "keys" / "ideas.key")
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[str] = context.Queue()
    children = [context.Process(target=_load_in_child, args=(path, queue)) for _ in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    keys = {queue.get(timeout=5) for _ in children}
    assert len(keys) == 1
    assert keys == {load_key(path).hex()}
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["ideas.key"]  # no temporary left


def test_a_damaged_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ideas.key"
    path.write_text("not a key\n", encoding="ascii")
    pseudonym._KEYS.pop(path.resolve(), None)
    with pytest.raises(KeyFileError):
        load_key(path)


def test_pseudonyms_depend_on_the_key_and_do_not_link_kinds() -> None:
    one, two = Pseudonyms(b"1" * 32), Pseudonyms(b"2" * 32)
    assert one.author(7) == one.author(7) != two.author(7)
    assert one.author(7) != one.author(8)
    assert one.duplicate(7, "同样的话") == one.duplicate(7, "同样的话") != one.duplicate(8, "同样的话")
    assert one.duplicate(7, "x") != one.author(7)
    assert one.is_author(7, one.author(7)) and not one.is_author(8, one.author(7))
    assert one.find(one.author(42), range(1, 100)) == 42 and one.find(two.author(42), range(1, 100)) is None


@pytest.mark.parametrize(("raw", "title", "content"), [
    ("食堂增加夜宵窗口。加班的老师吃不上饭", "食堂增加夜宵窗口", "食堂增加夜宵窗口。加班的老师吃不上饭"),
    ("标题：夜宵 食堂晚上增加夜宵窗口", "夜宵", "食堂晚上增加夜宵窗口"),
    ("标题:食堂增加夜宵窗口的建议", "食堂增加夜宵窗口的建议", "食堂增加夜宵窗口的建议"),
    ("一" * 40 + "。后面", "一" * 29 + "…", "一" * 40 + "。后面"),
])
def test_title_is_the_first_sentence_or_the_given_one(raw: str, title: str, content: str) -> None:
    found = read_text(raw, Limits())
    assert (found.title, found.content) == (title, content)


def test_text_limits() -> None:
    with pytest.raises(Refused) as short:
        read_text("  好 主 意  ", Limits(min_chars=8))
    assert short.value.code == "too_short" and short.value.values == {"length": 3, "limit": 8}
    with pytest.raises(Refused) as long:
        read_text("长" * 51, Limits(max_chars=50))
    assert long.value.code == "too_long"


def test_numbers() -> None:
    assert format_number(31) == "D31"
    assert [parse_number(t) for t in ("D31", "d7", " D1 ", "D0", "31", "DD1", "D12345678")] == [
        31, 7, 1, None, None, None, None]


async def test_concurrent_transactions_get_gapless_numbers(db: Database) -> None:
    async def take(fail: bool) -> int | None:
        try:
            async with db.write() as session:
                seq = await next_seq(session)
                if fail:
                    raise RuntimeError("rolled back")
                return seq
        except RuntimeError:
            return None

    taken = [seq for seq in await asyncio.gather(*(take(i % 5 == 0) for i in range(30))) if seq]
    assert sorted(taken) == list(range(1, 25))


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [d for d in compare_metadata(context, SQLModel.metadata) if _tables_named(d) & IDEA_TABLES]


async def test_migration_matches_the_models(db: Database) -> None:
    async with db.write_engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert tables >= IDEA_TABLES
