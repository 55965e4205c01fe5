"""Starting from last year's books: import (CSV in GBK, XLSX) with per-row errors, and the
收支表 export read back with openpyxl."""

from __future__ import annotations

import io
from datetime import date
from functools import partial
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.cli.funds import reasons
from bot.render import say
from models.db import Database
from models.funds.categories import load_tree
from models.funds.export import statement_xlsx
from models.funds.figures import figures
from models.funds.importing import ImportError_, check_file, import_rows
from models.funds.ledger import find_ledger
from models.funds.periods import parse_period
from models.funds.tables import FundBudget, FundEntry
from models.funds.verify import verify_all
from tests.models.funds.support import CS, NOW, TODAY, UNION, branch_id

BOOKS = (
    "计算机学院分工会2025年经费流水账\n"
    "日期,收支,金额,类别,摘要,分工会\n"
    "2025-03-01,收入,\"12,000.00\",上级补助,年度经费,\n"
    "2025/1/15,收,5000,会费,会费收入,\n"
    "2025年6月1日,支出,300.5,文体,羽毛球赛奖品,\n"
    "2025-06-01,支出,300.5,文体,羽毛球赛奖品,\n"
    "2025-13-01,支出,100,文体,坏日期,\n"
    "2025-07-01,转账,100,文体,坏类型,\n"
    "2025-07-02,支出,-5,维权,坏金额和类别,\n"
    "2025-07-03,支出,100,火箭,,\n"
    "2025-08-01,支出,800,送温暖,困难职工慰问,外国语学院分工会\n"
    "2025-08-02,支出,100,送温暖,不存在的账,化学学院分工会\n"
)


def _write(tmp_path: Path, text: str, encoding: str = "gbk") -> Path:
    path = tmp_path / "流水.csv"
    path.write_bytes(text.encode(encoding))
    return path


async def _import(db: Database, path: Path, *, write: bool = True) -> object:
    checked = check_file(path, load_tree(), today=TODAY, max_yuan=10_000_000)
    async with db.write() as session:
        return await import_rows(session, checked, default_branch=CS, now=NOW, write=write)


async def test_gbk_csv_with_row_errors(db: Database, tmp_path: Path) -> None:
    cs = await branch_id(db, CS)
    await branch_id(db, "外国语学院分工会")
    path = _write(tmp_path, BOOKS)
    dry = await _import(db, path, write=False)
    assert (dry.added, dry.dry_run) == (5, True)  # type: ignore[attr-defined]
    async with db.read() as session:
        assert list(await session.scalars(select(FundEntry))) == []
    report = await _import(db, path)
    assert (report.total, report.added, report.present) == (10, 5, 0)  # type: ignore[attr-defined]
    assert reasons(report.rejected) == [  # type: ignore[attr-defined]
        (7, "日期「2025-13-01」不是有效日期（例如 2026-03-01）"),
        (8, "收支「转账」要写 收入 或 支出"),
        (9, "金额「-5」是负数（更正请用冲销）；类别「维权」对应好几个明细科目，"
            "是不是：维权支出/劳动关系协调、维权支出/劳动保护、维权支出/法律援助"),
        (10, "类别「火箭」找不到；摘要为空"),
        (12, "分工会「化学学院分工会」不在名册里"),
    ]
    assert report.ledgers == {CS: 4, "外国语学院分工会": 1}  # type: ignore[attr-defined]
    async with db.read() as session:
        ledger = await find_ledger(session, cs)
        assert ledger is not None
        rows = list(await session.scalars(select(FundEntry).where(col(FundEntry.ledger_id) == ledger.id)
                                          .order_by(col(FundEntry.seq))))
        assert [(r.number, r.occurred_on, r.amount_fen) for r in rows] == [
            ("J2025-0001", date(2025, 1, 15), 500000), ("J2025-0002", date(2025, 3, 1), 1200000),
            ("J2025-0003", date(2025, 6, 1), 30050), ("J2025-0004", date(2025, 6, 1), 30050)]
        assert ledger.opened_on == date(2025, 1, 15) and ledger.balance_fen == 1700000 - 60100
        assert [r.problem for r in await verify_all(session, None)] == [None, None]
    again = await _import(db, path)
    assert (again.added, again.present) == (0, 5)  # type: ignore[attr-defined]


async def test_xlsx_with_date_and_number_cells(db: Database, tmp_path: Path) -> None:
    await branch_id(db, CS)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["日期", "收支", "金额", "科目", "事项"])
    sheet.append([date(2025, 5, 4), "支出", 1234.56, "30102", "五四青年节活动"])
    sheet.append([45800, "收入", 20000, "行政补助", "学校补助"])
    path = tmp_path / "流水.xlsx"
    book.save(path)
    report = await _import(db, path)
    assert (report.added, report.rejected) == (2, [])  # type: ignore[attr-defined]
    async with db.read() as session:
        amounts = sorted(r.amount_fen for r in await session.scalars(select(FundEntry)))
    assert amounts == [123456, 2000000]


@pytest.mark.parametrize(("name", "body", "message"), [
    ("x.txt", b"", "不支持的文件类型"),
    ("x.csv", "日期,金额\n2025-01-01,5\n".encode(), "找不到表头"),
    ("x.csv", b"\xff\xfe\x00\xd8\x00", "无法识别文件的编码"),
])
def test_unusable_files_are_named(tmp_path: Path, name: str, body: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(body)
    with pytest.raises(ImportError_) as raised:
        check_file(path, load_tree(), today=TODAY, max_yuan=100)
    assert say("funds", raised.value.code, **raised.value.values).startswith(message)


async def test_the_statement_sheet(db: Database, tmp_path: Path) -> None:
    cs = await branch_id(db, CS)
    await branch_id(db, UNION)
    await _import(db, _write(tmp_path, BOOKS))
    async with db.write() as session:
        ledger = await find_ledger(session, cs)
        assert ledger is not None and ledger.id is not None
        session.add(FundBudget(ledger_id=ledger.id, year=2025, category_code="301", amount_fen=100000))
    period = parse_period("2025")
    async with db.read() as session:
        ledger = await find_ledger(session, cs)
        assert ledger is not None
        figs = await figures(session, load_tree(), ledger, period)
    data = statement_xlsx(CS, figs, start=period.start, end=period.end, maker="李会计", today=TODAY,
                          checkpoint={"entries": 4, "head": "ab" * 32, "fingerprint": "abab abab abab abab"},
                          words=partial(say, "funds"))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "计算机学院分工会经费收支表"
    assert "A1:D1" in {str(r) for r in sheet.merged_cells.ranges}
    assert rows[1][0] == "期间：2025年（2025-01-01 至 2025-12-31）　　单位：元"
    assert rows[2] == ["收入项目", "金额", "支出项目", "金额"]
    assert rows[3] == ["会费收入", 5000, "职工活动支出", 601]
    assert rows[4] == ["上级工会补助收入", 12000, "　　文体活动", 601]
    assert rows[5] == ["收入合计", 17000, "支出合计", 601]
    assert rows[6] == ["期初余额", 0, "期末余额", 16399]
    assert rows[7][:3] == ["预算项目", "全年预算", "已执行"]
    assert rows[8][:3] == ["职工活动支出", 1000, 601]
    assert rows[-2][0] == f"检查点：截至第 4 笔流水，哈希 {'ab' * 32}，工会签名公钥指纹 abab abab abab abab"
    assert rows[-1] == ["工会主席：", "经费审查委员会：", "制表：李会计", "日期：2026-12-05"]
    assert sheet.cell(4, 4).number_format == "#,##0.00"


async def test_budgets_from_toml_and_an_xlsx_sheet(db: Database, tmp_path: Path) -> None:
    from models.funds.budgets import check_budgets, read_budget_rows, store_budgets

    await branch_id(db, CS)
    toml = tmp_path / "预算.toml"
    toml.write_text(
        '[[budget]]\nyear = 2026\ncategory = "职工活动支出"\namount = "5万"\n\n'
        '[[budget]]\nyear = 2026\ncategory = "火箭"\namount = -1\nbranch = "计算机学院分工会"\n',
        encoding="utf-8")
    report = check_budgets(read_budget_rows(toml), load_tree())
    assert [(b.year, b.category_code, b.amount_fen) for b in report.budgets] == [(2026, "301", 5_000_000)]
    assert reasons(report.rejected) == [(2, "类别「火箭」找不到；金额「-1」是负数（更正请用冲销）")]
    book = openpyxl.Workbook()
    sheet = book.create_sheet("预算")
    sheet.append(["年度", "类别", "金额", "分工会"])
    sheet.append([2026, "职工活动支出", 60000, ""])
    sheet.append(["2026年", "送温暖", "1万", "不存在分工会"])
    path = tmp_path / "预算.xlsx"
    book.save(path)
    second = check_budgets(read_budget_rows(path), load_tree())
    async with db.write() as session:
        assert await store_budgets(session, report, default_branch=CS) == 1
        assert await store_budgets(session, second, default_branch=CS) == 1
    assert reasons(second.rejected) == [(3, "分工会「不存在分工会」不在名册里")]
    async with db.read() as session:
        rows = list(await session.scalars(select(FundBudget)))
    assert [(r.category_code, r.amount_fen) for r in rows] == [("301", 6_000_000)]
