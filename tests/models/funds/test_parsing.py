"""Amounts, periods and the category tree: what people type, read exactly or refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.render import say
from models.funds.amounts import parse_amount, yuan
from models.funds.categories import CategoryFileError, load_tree
from models.funds.periods import Period, parse_period, period_of
from models.funds.refusals import Refused


@pytest.mark.parametrize(("text", "fen"), [
    ("300", 30000), ("300.5", 30050), ("300.50", 30050), ("0.01", 1), ("1.2万", 1_200_000),
    ("￥300元", 30000), ("¥ 300", 30000), ("300块", 30000), ("1,200.00", 120000),
    ("１２３", 12300), ("１．５万", 1_500_000), ("1.23456万", 1_234_560),
])
def test_amounts_are_exact_fen(text: str, fen: int) -> None:
    assert parse_amount(text) == fen


@pytest.mark.parametrize(("text", "code"), [
    ("-5", "amount_negative"), ("－5", "amount_negative"), ("0", "amount_zero"),
    ("0.00", "amount_zero"), ("1.234", "amount_decimals"), ("1.2345678万", "amount_decimals"),
    ("1e9", "amount_bad"), ("三百", "amount_chinese"), ("三百元", "amount_chinese"),
    ("100000000", "amount_too_large"), ("2万万", "amount_bad"), ("abc", "amount_bad"),
    ("", "amount_missing"), ("1,20", "amount_bad"), ("NaN", "amount_bad"), ("inf", "amount_bad"),
])
def test_hostile_amounts_are_refused_with_an_example(text: str, code: str) -> None:
    with pytest.raises(Refused) as caught:
        parse_amount(text)
    assert caught.value.code == code
    sentence = say("funds", code, **caught.value.values)
    assert "例如" in sentence and sentence.count("\n") == 0


def test_the_limit_is_a_parameter() -> None:
    assert parse_amount("5000", max_yuan=5000) == 500000
    with pytest.raises(Refused):
        parse_amount("5000.01", max_yuan=5000)


def test_yuan_shows_two_decimals() -> None:
    assert yuan(123456789) == "1,234,567.89"
    assert yuan(-5) == "-0.05"
    assert yuan(0) == "0.00"


@pytest.mark.parametrize(("text", "key", "label", "start", "end"), [
    ("2026-11", "2026-11", "2026年11月", date(2026, 11, 1), date(2026, 12, 1)),
    ("2026年11月", "2026-11", "2026年11月", date(2026, 11, 1), date(2026, 12, 1)),
    ("2026-12", "2026-12", "2026年12月", date(2026, 12, 1), date(2027, 1, 1)),
    ("2026Q4", "2026Q4", "2026年第四季度", date(2026, 10, 1), date(2027, 1, 1)),
    ("2026q1", "2026Q1", "2026年第一季度", date(2026, 1, 1), date(2026, 4, 1)),
    ("2026年第四季度", "2026Q4", "2026年第四季度", date(2026, 10, 1), date(2027, 1, 1)),
    ("2026年第2季度", "2026Q2", "2026年第二季度", date(2026, 4, 1), date(2026, 7, 1)),
    ("2026上半年", "2026H1", "2026年上半年", date(2026, 1, 1), date(2026, 7, 1)),
    ("2026年下半年", "2026H2", "2026年下半年", date(2026, 7, 1), date(2027, 1, 1)),
    ("2026", "2026", "2026年", date(2026, 1, 1), date(2027, 1, 1)),
    ("２０２６年", "2026", "2026年", date(2026, 1, 1), date(2027, 1, 1)),
])
def test_periods(text: str, key: str, label: str, start: date, end: date) -> None:
    period = parse_period(text)
    assert (period.key, period.label, period.start, period.end) == (key, label, start, end)
    assert parse_period(period.key) == period


@pytest.mark.parametrize("text", ["2026-13", "2026Q5", "2026年第五季度", "26-11", "1999", "明年", ""])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(Refused) as caught:
        parse_period(text)
    assert caught.value.code == "period_bad"
    assert "2026Q4" in say("funds", "period_bad", **caught.value.values)


def test_period_arithmetic() -> None:
    assert period_of("quarter", date(2026, 12, 5)) == Period("quarter", 2026, 4)
    assert Period("quarter", 2026, 1).previous() == Period("quarter", 2025, 4)
    assert Period("month", 2026, 3).previous() == Period("month", 2026, 2)
    assert Period("year", 2026, 1).contains(date(2026, 12, 31))
    assert not Period("month", 2026, 11).contains(date(2026, 12, 1))


# ---------------------------------------------------------------- categories


@pytest.mark.parametrize(("text", "path"), [
    ("文体", "职工活动支出/文体活动"), ("文体活动", "职工活动支出/文体活动"),
    ("30102", "职工活动支出/文体活动"), ("职工活动支出/文体活动", "职工活动支出/文体活动"),
    ("职工活动/文体", "职工活动支出/文体活动"), ("送温暖", "维权支出/送温暖"),
    ("资本性支出", "资本性支出"), ("其他", "其他支出"), ("集体福利", "职工活动支出/职工集体福利"),
])
def test_expense_categories_by_code_name_alias_or_path(text: str, path: str) -> None:
    tree = load_tree()
    assert tree.path(tree.match(text, "expense").code) == path


def test_income_and_expense_are_told_apart() -> None:
    tree = load_tree()
    assert tree.match("其他", "income").name == "其他收入"
    assert tree.match("会费", "income").code == "101"
    with pytest.raises(Refused) as caught:
        tree.match("会费", "expense")
    assert caught.value.code == "category_unknown"


def test_a_parent_is_ambiguous_and_lists_its_leaves() -> None:
    with pytest.raises(Refused) as caught:
        load_tree().match("维权支出", "expense")
    assert caught.value.code == "category_ambiguous"
    assert "维权支出/送温暖" in caught.value.values["candidates"]
    assert len(caught.value.values["candidates"]) == 6


def test_an_unknown_category_gets_candidates() -> None:
    with pytest.raises(Refused) as caught:
        load_tree().match("文体比赛", "expense")
    assert caught.value.code == "category_unknown"
    assert caught.value.values["candidates"][0] == "职工活动支出/文体活动"
    sentence = say("funds", "category_unknown", **caught.value.values)
    assert "职工活动支出/文体活动" in sentence
    with pytest.raises(Refused) as nothing:
        load_tree().match("火箭发射", "expense")
    assert nothing.value.values["candidates"] == []


def test_a_csv_tree_in_gbk(tmp_path: Path) -> None:
    file = tmp_path / "科目.csv"
    file.write_bytes(
        "code,name,kind,parent,aliases\n1,会费收入,收入,,会费\n5,职工服务支出,支出,,\n"
        "501,文体活动,支出,5,文体、球赛\n".encode("gbk")
    )
    tree = load_tree(str(file))
    assert tree.path(tree.match("球赛", "expense").code) == "职工服务支出/文体活动"


@pytest.mark.parametrize("body", [
    "code,name,kind,parent,aliases\n1,会费,收入,9,\n",
    "code,name,kind,parent,aliases\n1,会费,收入,,\n1,又一个,收入,,\n",
    "code,name,kind,parent,aliases\n1,会费,进账,,\n",
    "code,name,kind,parent,aliases\n",
])
def test_bad_category_files_are_named(tmp_path: Path, body: str) -> None:
    file = tmp_path / "bad.csv"
    file.write_text(body, encoding="utf-8")
    with pytest.raises(CategoryFileError) as raised:
        load_tree(str(file))
    assert say("funds", raised.value.code, **raised.value.values).startswith(f"科目文件 {file} ")
