"""Roster import of 10,000 members (CSV and XLSX) on SQLite.

    .venv/bin/python bench/roster.py [--rows 10000]

Baseline, measured in the same run: only reading and validating the file (no database).
Target (issue #2): a 10,000-row roster imports in < 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import tempfile
import time
from pathlib import Path

import openpyxl

from bot.cli.members import summary
from models.db import Database
from models.migrate import upgrade
from models.roster import import_roster, read_rows, validate_rows

HEADER = ["工号", "姓名", "性别", "出生日期", "分工会", "角色", "手机", "部门", "入职日期", "子女出生日期"]
BRANCHES = ["计算机学院分工会", "机关分工会", "后勤分工会", "外国语学院分工会", "医学院分工会"]


def rows(count: int, phone_offset: int = 0) -> list[list[str]]:
    return [
        [
            str(200000 + i), f"教工{i}", "女" if i % 2 else "男",
            f"19{60 + i % 40}-{1 + i % 12:02d}-{1 + i % 28:02d}", BRANCHES[i % len(BRANCHES)],
            "代表、会员" if i % 10 == 0 else "会员", f"138{(i + phone_offset) % 10**8:08d}",
            "", f"20{i % 20:02d}-09-01", "2015-06-01；2018-03-02" if i % 3 == 0 else "",
        ]
        for i in range(count)
    ]


def write_csv(path: Path, data: list[list[str]]) -> None:
    with path.open("w", encoding="gbk", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(data)


def write_xlsx(path: Path, data: list[list[str]]) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for row in data:
        sheet.append(row)
    book.save(path)


async def timed(label: str, coro_factory) -> None:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    report = await coro_factory()
    elapsed = time.perf_counter() - started
    print(f"{label:<42} {elapsed:6.2f} s   {summary(report).splitlines()[0]}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    n = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        write_csv(base / "roster.csv", rows(n))
        write_csv(base / "changed.csv", rows(n, phone_offset=7))
        write_xlsx(base / "roster.xlsx", rows(n))

        started = time.perf_counter()
        validate_rows(read_rows(base / "roster.csv"))
        print(f"{'baseline: read + validate CSV (no database)':<42} {time.perf_counter() - started:6.2f} s")

        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(db)

        def run(name: str):  # type: ignore[no-untyped-def]
            return lambda: import_roster(db=db, path=base / name, union_name="示范大学工会")

        await timed(f"import {n} rows, empty database (GBK CSV)", run("roster.csv"))
        await timed("same file again (all unchanged)", run("roster.csv"))
        await timed("every phone number changed", run("changed.csv"))
        await timed("XLSX of the original", run("roster.xlsx"))
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
