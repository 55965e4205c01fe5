"""Tests of models.roster: reading, checking and importing the union's roster (名册)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from bot.cli.members import reason, summary
from models.audit import AuditLog
from models.db import Database
from models.org import Branch, Member, MemberChild, MemberRole, Role
from models.roster import (
    ImportReport,
    Problem,
    Rejection,
    RosterEntry,
    RosterError,
    import_roster,
    read_rows,
    validate_row,
)

UNION = "示范大学工会"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "roster.csv"
HEADER = "工号,姓名,性别,出生日期,分工会,角色,手机,部门,入职日期,子女出生日期"
TODAY = date(2026, 3, 1)

GOOD_ROWS = [
    "10001,张三,男,1980-05-12,计算机学院分工会,干部、代表,13800000001,,2006-07-01,2010-06-01",
    "10002,李四,女,1988/11/3,计算机学院分工会,会员,13800000002,,,",
    "10005,陈静,女,1986.4.22,机关分工会,承办人,13800000005,教务处,2011年7月1日,2016-05-30；2019-01-02",
    "10008,周伟,男,19780330,后勤分工会,承办人,13800000008,,,",
    "10010,郑磊,男性,1970-01-25,校工会,干部,010-62750000,,,",
    f"10011,冯雪,F,1984-10-10,{UNION},管理员、干部,,,,",
]


def write_csv(
    path: Path, rows: Sequence[str], *, header: str = HEADER, encoding: str = "utf-8"
) -> Path:
    path.write_bytes("\r\n".join([header, *rows]).encode(encoding) + b"\r\n")
    return path


@contextmanager
def refused(match: str) -> Iterator[None]:
    """The block raises ``RosterError``; its sentence, as the officer reads it, matches."""
    with pytest.raises(RosterError) as raised:
        yield
    said = reason([raised.value.problem])
    assert re.search(match, said), said


def rejections(report: ImportReport) -> list[tuple[int, str, str]]:
    """The refused rows with their reasons as the officer reads them."""
    return [(r.row, r.staff_no, reason(r.problems)) for r in report.rejected]


async def run(db: Database, path: Path, **options: Any) -> ImportReport:
    return await import_roster(db=db, path=path, union_name=UNION, **options)


async def snapshot(db: Database) -> dict[str, dict[str, Any]]:
    """Every stored member by 工号, with branch name, roles and children."""
    async with db.read() as session:
        branches = {b.id: b.name for b in (await session.scalars(select(Branch))).all()}
        roles: dict[int, set[Role]] = {}
        for member_role in (await session.scalars(select(MemberRole))).all():
            roles.setdefault(member_role.member_id, set()).add(Role(member_role.role))
        children: dict[int, list[date]] = {}
        for child in (await session.scalars(select(MemberChild))).all():
            children.setdefault(child.member_id, []).append(child.birth_date)
        members = (await session.scalars(select(Member))).all()
    return {
        m.staff_no: {
            "name": m.name, "gender": m.gender, "birth_date": m.birth_date,
            "branch": branches[m.branch_id], "department": m.department, "phone": m.phone,
            "hire_date": m.hire_date, "active": m.active, "updated_at": m.updated_at,
            "roles": roles.get(m.id or 0, set()), "children": sorted(children.get(m.id or 0, [])),
        }
        for m in members
    }


async def count(db: Database, table: Any) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def stored_counts(db: Database) -> tuple[int, int, int]:
    """How many members, branches and audit rows are stored."""
    return (await count(db, Member), await count(db, Branch), await count(db, AuditLog))


async def branch_tree(db: Database) -> dict[str, str | None]:
    """Branch name → parent name."""
    async with db.read() as session:
        branches = (await session.scalars(select(Branch))).all()
    names = {b.id: b.name for b in branches}
    return {b.name: names[b.parent_id] if b.parent_id else None for b in branches}


def without_times(members: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {no: {k: v for k, v in m.items() if k != "updated_at"} for no, m in members.items()}


# ---------------------------------------------------------------- reading files


def test_csv_header_is_stripped_and_extra_columns_are_ignored(tmp_path: Path) -> None:
    header = " 工号 ,姓名,性别,出生日期,分工会,角色,手机,备注"
    path = write_csv(tmp_path / "r.csv", ["10001,张三,男,1980-05-12,机关分工会,干部,13800000001,x"],
                     header=header)
    rows = read_rows(path)
    assert [row.number for row in rows] == [2]
    assert rows[0].cells == {
        "工号": "10001", "姓名": "张三", "性别": "男", "出生日期": "1980-05-12",
        "分工会": "机关分工会", "角色": "干部", "手机": "13800000001",
    }


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_are_recognised(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "r.csv", GOOD_ROWS[:2], encoding=encoding)
    rows = read_rows(path)
    assert [row.cells["姓名"] for row in rows] == ["张三", "李四"]
    assert "工号" in rows[0].cells  # no BOM glued to the first column name


def test_blank_lines_keep_spreadsheet_row_numbers(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [GOOD_ROWS[0], ",,,,,,,,,", "", GOOD_ROWS[1]])
    assert [row.number for row in read_rows(path)] == [2, 5]


def test_tab_separated_text_is_read(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [GOOD_ROWS[1].replace(",", "\t")],
                     header=HEADER.replace(",", "\t"))
    assert read_rows(path)[0].cells["姓名"] == "李四"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "名册是空的"),
        (b"\r\n,,,\r\n", "名册是空的"),
        (HEADER.encode() + b"\r\n", "名册是空的"),
        ("工号,姓名,出生日期,分工会,角色\r\n1,张三,1980-01-01,机关分工会,会员".encode(),
         "名册缺少必需的列：性别、手机"),
    ],
)
def test_unusable_files_raise_roster_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    with refused(message):
        read_rows(path)


def test_other_file_types_and_missing_files_raise_roster_error(tmp_path: Path) -> None:
    (tmp_path / "r.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with refused(r"\.csv 或 \.xlsx"):
        read_rows(tmp_path / "r.xls")
    with refused("找不到名册文件"):
        read_rows(tmp_path / "missing.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip file")
    with refused(r"无法读取 Excel 文件 broken\.xlsx"):
        read_rows(tmp_path / "broken.xlsx")


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


XLSX_ROWS: list[list[object]] = [
    [None],  # an empty first row: the header is the first non-empty row
    ["工号", "姓名", "性别", "出生日期", "分工会", "角色", "手机", "子女出生日期", "入职日期"],
    [10001, "张三", "男", datetime(1980, 5, 12), "计算机学院分工会", "干部、代表",
     13800000001, date(2010, 6, 1), "2006-07-01"],
    [10002.0, "李四", "女", "1988-11-03", "计算机学院分工会", None, 13800000002.0, None, None],
    [],
    [10003, "王芳", "女", datetime(1979, 2, 28), "机关分工会", "组长", 13800000003, None, None],
]


def test_xlsx_numbers_and_dates_are_read(tmp_path: Path) -> None:
    rows = read_rows(write_xlsx(tmp_path / "r.xlsx", XLSX_ROWS))
    assert [row.number for row in rows] == [3, 4, 6]
    entry = validate_row(rows[0].cells, today=TODAY)
    assert entry == RosterEntry(
        staff_no="10001", name="张三", gender="男", birth_date=date(1980, 5, 12),
        branch="计算机学院分工会",
        roles=frozenset({Role.MEMBER, Role.OFFICER, Role.REPRESENTATIVE}),
        phone="13800000001", department=None, hire_date=date(2006, 7, 1),
        children=(date(2010, 6, 1),),
    )
    second = validate_row(rows[1].cells, today=TODAY)
    assert isinstance(second, RosterEntry)
    assert (second.staff_no, second.phone, second.roles) == (
        "10002", "13800000002", frozenset({Role.MEMBER}),
    )


# ---------------------------------------------------------------- checking one row


def cells(**changes: object) -> dict[str, Any]:
    base: dict[str, Any] = {
        "工号": "10001", "姓名": "张三", "性别": "男", "出生日期": "1980-05-12",
        "分工会": "计算机学院分工会", "角色": "会员", "手机": "13800000001",
    }
    base.update(changes)
    return base


def entry_of(**changes: object) -> RosterEntry:
    result = validate_row(cells(**changes), today=TODAY)
    assert isinstance(result, RosterEntry), result
    return result


def reason_of(**changes: object) -> str:
    result = validate_row(cells(**changes), today=TODAY)
    assert isinstance(result, tuple), result
    return reason(result)


@pytest.mark.parametrize(
    "text",
    ["1985-03-02", "1985/3/2", "1985.3.2", "1985年3月2日", "19850302", "１９８５－０３－０２",
     "1985-03-02 00:00:00", date(1985, 3, 2), datetime(1985, 3, 2), 19850302],
)
def test_date_forms(text: object) -> None:
    assert entry_of(出生日期=text).birth_date == date(1985, 3, 2)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1985-13-01", "出生日期「1985-13-01」不是有效日期（例如 1985-03-02）"),
        ("1985-02-30", "出生日期「1985-02-30」不是有效日期（例如 1985-03-02）"),
        ("三月二日", "出生日期「三月二日」不是有效日期（例如 1985-03-02）"),
        ("1899-12-31", "出生日期「1899-12-31」不在 1900-01-01 至 2026-03-01 之间"),
        ("2026-03-02", "出生日期「2026-03-02」不在 1900-01-01 至 2026-03-01 之间"),
    ],
)
def test_bad_dates_name_column_and_value(text: str, reason: str) -> None:
    assert reason_of(出生日期=text) == reason


def test_empty_optional_cells_become_none() -> None:
    entry = entry_of(性别="", 出生日期=None, 手机=" ", 部门="", 入职日期="", 子女出生日期="")
    assert (entry.gender, entry.birth_date, entry.phone, entry.department, entry.hire_date,
            entry.children) == (None, None, None, None, None, ())


@pytest.mark.parametrize(
    ("text", "gender"), [("男", "男"), ("男性", "男"), ("M", "男"), ("女性", "女"), ("f", "女")]
)
def test_gender_forms(text: str, gender: str) -> None:
    assert entry_of(性别=text).gender == gender


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        ("", {Role.MEMBER}),
        ("代表", {Role.MEMBER, Role.REPRESENTATIVE}),
        ("代表、干部", {Role.MEMBER, Role.REPRESENTATIVE, Role.OFFICER}),
        ("代表,干部；管理员", {Role.MEMBER, Role.REPRESENTATIVE, Role.OFFICER, Role.ADMIN}),
        ("教代会代表 / 工会干部", {Role.MEMBER, Role.REPRESENTATIVE, Role.OFFICER}),
        ("承办人，会员", {Role.MEMBER, Role.HANDLER}),
    ],
)
def test_roles_are_split_and_member_is_always_included(text: str, roles: set[Role]) -> None:
    assert entry_of(角色=text).roles == roles


def test_handler_department_defaults_to_branch() -> None:
    assert entry_of(角色="承办人").department == "计算机学院分工会"
    assert entry_of(角色="承办人", 部门="教务处").department == "教务处"
    assert entry_of(角色="会员").department is None


@pytest.mark.parametrize(
    ("value", "phone"),
    [("13800000001", "13800000001"), (13800000001.0, "13800000001"),
     ("138 0000 0001", "13800000001"), ("+86 13800000001", "13800000001"),
     ("010-62750000", "010-62750000"), ("6275000", "6275000")],
)
def test_phone_forms(value: object, phone: str) -> None:
    assert entry_of(手机=value).phone == phone


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"工号": ""}, "工号为空"),
        ({"工号": "10 01"}, "工号「10 01」只能包含字母、数字、下划线和连字符"),
        ({"工号": "A" * 33}, "工号「AAAAAAAAAAAAAAAAAAAAAAAAAAAAA…」超过 32 个字符"),
        ({"姓名": " "}, "姓名为空"),
        ({"姓名": "名" * 65}, f"姓名「{'名' * 29}…」超过 64 个字符"),
        ({"性别": "未知"}, "性别「未知」应为 男 或 女"),
        ({"分工会": ""}, "分工会为空"),
        ({"角色": "代表、组长"}, "角色「组长」无法识别（可用：会员、代表、承办人、干部、经审、管理员）"),
        ({"手机": "12345"}, "手机「12345」不像电话号码（例如 13800000001）"),
        ({"手机": "1.38E+10"}, "手机「1.38E+10」不像电话号码（例如 13800000001）"),
        ({"子女出生日期": "2010-01-01；2010-02-30"},
         "子女出生日期「2010-02-30」不是有效日期（例如 1985-03-02）"),
        ({"姓名": "", "手机": "x"}, "姓名为空；手机「x」不像电话号码（例如 13800000001）"),
    ],
)
def test_bad_cells_refuse_the_row(changes: dict[str, object], reason: str) -> None:
    assert reason_of(**changes) == reason


def test_children_are_split_and_sorted() -> None:
    entry = entry_of(子女出生日期="2015-03-04; 2012/1/2、2012年1月2日")
    assert entry.children == (date(2012, 1, 2), date(2012, 1, 2), date(2015, 3, 4))


def test_summary_text() -> None:
    report = ImportReport(
        total=120, created=100, updated=15, unchanged=3,
        rejected=[
            Rejection(7, "10007", (Problem("bad_date", {"column": "出生日期", "value": "1985-13-01"}),)),
            Rejection(9, "", (Problem("blank", {"column": "工号"}),)),
        ],
    )
    assert summary(report) == (
        "共 120 行：新增 100 人，更新 15 人，未变 3 人，停用 0 人，拒绝 2 行\n"
        "第 7 行（工号 10007）：出生日期「1985-13-01」不是有效日期（例如 1985-03-02）\n"
        "第 9 行：工号为空"
    )
    assert summary(ImportReport(total=1, created=1, dry_run=True)) == (
        "试运行：以下是将会发生的变化，数据库没有改动。\n"
        "共 1 行：新增 1 人，更新 0 人，未变 0 人，停用 0 人，拒绝 0 行"
    )


# ---------------------------------------------------------------- importing


async def test_example_roster_imports_into_a_branch_tree(db: Database) -> None:
    report = await run(db, EXAMPLE)
    assert (report.total, report.created, report.updated, report.rejected) == (12, 12, 0, [])
    members = await snapshot(db)
    assert members["10001"]["name"] == "张三"
    assert members["10001"]["branch"] == "计算机学院分工会"
    assert members["10001"]["roles"] == {Role.MEMBER, Role.OFFICER, Role.REPRESENTATIVE}
    assert members["10002"]["name"] == "李四"
    assert members["10002"]["roles"] == {Role.MEMBER}
    handlers = {no: m["department"] for no, m in members.items() if Role.HANDLER in m["roles"]}
    assert sorted(handlers.values()) == ["后勤处", "教务处"]
    assert sum(Role.ADMIN in m["roles"] for m in members.values()) == 1
    assert {m["gender"] for m in members.values()} == {"男", "女"}
    root_members = [no for no, m in members.items() if m["branch"] == UNION]
    assert len(root_members) >= 2
    tree = await branch_tree(db)
    assert tree[UNION] is None
    assert "校工会" not in tree
    assert {name for name, parent in tree.items() if parent == UNION} == {
        "计算机学院分工会", "机关分工会", "后勤分工会",
    }
    for branch in ("计算机学院分工会", "机关分工会", "后勤分工会"):
        assert any(m["branch"] == branch and Role.OFFICER in m["roles"] for m in members.values())


async def test_csv_import_stores_clean_values(db: Database, tmp_path: Path) -> None:
    report = await run(db, write_csv(tmp_path / "r.csv", GOOD_ROWS, encoding="utf-8-sig"))
    assert (report.created, report.rejected) == (6, [])
    members = without_times(await snapshot(db))
    assert members["10005"] == {
        "name": "陈静", "gender": "女", "birth_date": date(1986, 4, 22), "branch": "机关分工会",
        "department": "教务处", "phone": "13800000005", "hire_date": date(2011, 7, 1),
        "active": True, "roles": {Role.MEMBER, Role.HANDLER},
        "children": [date(2016, 5, 30), date(2019, 1, 2)],
    }
    assert members["10008"]["department"] == "后勤分工会"
    assert members["10008"]["birth_date"] == date(1978, 3, 30)
    assert (members["10010"]["branch"], members["10010"]["gender"]) == (UNION, "男")
    assert (members["10011"]["branch"], members["10011"]["phone"]) == (UNION, None)
    assert members["10011"]["roles"] == {Role.MEMBER, Role.ADMIN, Role.OFFICER}


async def test_gbk_csv_imports(db: Database, tmp_path: Path) -> None:
    report = await run(db, write_csv(tmp_path / "r.csv", GOOD_ROWS, encoding="gbk"))
    assert (report.created, report.rejected) == (6, [])
    members = await snapshot(db)
    assert (members["10001"]["name"], members["10001"]["branch"]) == ("张三", "计算机学院分工会")


async def test_xlsx_imports_numeric_staff_numbers_and_phones(db: Database, tmp_path: Path) -> None:
    report = await run(db, write_xlsx(tmp_path / "r.xlsx", XLSX_ROWS))
    assert (report.total, report.created) == (3, 2)
    assert rejections(report) == [
        (6, "10003", "角色「组长」无法识别（可用：会员、代表、承办人、干部、经审、管理员）")
    ]
    members = await snapshot(db)
    assert sorted(members) == ["10001", "10002"]
    assert members["10001"]["phone"] == "13800000001"
    assert members["10001"]["birth_date"] == date(1980, 5, 12)
    assert members["10001"]["children"] == [date(2010, 6, 1)]
    assert members["10002"]["phone"] == "13800000002"


async def test_second_import_of_same_file_changes_nothing(db: Database) -> None:
    await run(db, EXAMPLE)
    before = await snapshot(db)
    report = await run(db, EXAMPLE)
    assert (report.created, report.updated, report.unchanged, report.deactivated) == (0, 0, 12, 0)
    assert await snapshot(db) == before


async def test_update_changes_exactly_the_changed_fields(db: Database, tmp_path: Path) -> None:
    await run(db, write_csv(tmp_path / "a.csv", GOOD_ROWS))
    before = await snapshot(db)
    changed = [
        "10001,张三,男,1980-05-12,计算机学院分工会,代表,13900000001,,2006-07-01,2010-06-01",
        "10002,李四,女,1988/11/3,机关分工会,会员,13800000002,,,2020-02-02",
        *GOOD_ROWS[2:],
    ]
    report = await run(db, write_csv(tmp_path / "b.csv", changed))
    assert (report.created, report.updated, report.unchanged) == (0, 2, 4)
    after = await snapshot(db)
    assert after["10001"] == before["10001"] | {
        "phone": "13900000001", "roles": {Role.MEMBER, Role.REPRESENTATIVE},
        "updated_at": after["10001"]["updated_at"],
    }
    assert after["10001"]["updated_at"] > before["10001"]["updated_at"]
    assert after["10002"] == before["10002"] | {
        "branch": "机关分工会", "children": [date(2020, 2, 2)],
        "updated_at": after["10002"]["updated_at"],
    }
    for staff_no in ("10005", "10008", "10010", "10011"):
        assert after[staff_no] == before[staff_no]


async def test_dry_run_stores_nothing(db: Database, tmp_path: Path) -> None:
    report = await run(db, EXAMPLE, dry_run=True)
    assert (report.created, report.dry_run) == (12, True)
    assert summary(report).splitlines()[1].startswith("共 12 行：新增 12 人")
    assert await stored_counts(db) == (0, 0, 0)

    await run(db, EXAMPLE)
    before = await snapshot(db)
    smaller = write_csv(tmp_path / "r.csv", [
        "10001,张三,男,1980-05-12,机关分工会,会员,13900000001,,,",
        "10099,新人,女,1995-01-01,新学院分工会,会员,13800000099,,,",
    ])
    report = await run(db, smaller, dry_run=True, deactivate_missing=True)
    assert (report.created, report.updated, report.deactivated) == (1, 1, 11)
    assert await snapshot(db) == before
    assert "新学院分工会" not in await branch_tree(db)
    assert await count(db, AuditLog) == 1


async def test_deactivate_missing_only_with_the_flag(db: Database, tmp_path: Path) -> None:
    await run(db, write_csv(tmp_path / "all.csv", GOOD_ROWS))
    fewer = write_csv(tmp_path / "fewer.csv", GOOD_ROWS[:4])
    report = await run(db, fewer)
    assert (report.unchanged, report.deactivated) == (4, 0)
    assert all(m["active"] for m in (await snapshot(db)).values())

    report = await run(db, fewer, deactivate_missing=True)
    assert (report.unchanged, report.deactivated) == (4, 2)
    members = await snapshot(db)
    assert {no for no, m in members.items() if not m["active"]} == {"10010", "10011"}

    report = await run(db, write_csv(tmp_path / "all.csv", GOOD_ROWS), deactivate_missing=True)
    assert (report.updated, report.unchanged, report.deactivated) == (2, 4, 0)
    assert all(m["active"] for m in (await snapshot(db)).values())


async def test_refused_row_keeps_its_member_active_and_unchanged(
    db: Database, tmp_path: Path
) -> None:
    await run(db, write_csv(tmp_path / "a.csv", GOOD_ROWS[:2]))
    before = await snapshot(db)
    rows = [GOOD_ROWS[0], "10002,李四改名,女,1988-02-30,机关分工会,会员,13800000002,,,"]
    report = await run(db, write_csv(tmp_path / "b.csv", rows), deactivate_missing=True)
    assert (report.unchanged, report.deactivated, len(report.rejected)) == (1, 0, 1)
    assert await snapshot(db) == before


async def test_bad_rows_are_refused_whole_and_good_rows_import(
    db: Database, tmp_path: Path
) -> None:
    rows = [
        GOOD_ROWS[0],                                                            # row 2
        "10020,钱一,男,1985-13-01,机关分工会,会员,13800000020,,,",              # 3 bad date
        "10021,孙二,女,1985-01-01,机关分工会,会员,13800000021,,,",              # 4 dup
        "10022,李三,男,1985-01-01,机关分工会,组长,13800000022,,,",              # 5 role
        "10023,,男,1985-01-01,机关分工会,会员,13800000023,,,",                  # 6 no name
        "10021,孙二二,女,1985-01-01,后勤分工会,会员,13800000121,,,",            # 7 dup
        "10024,周四,男,1985-01-01,机关分工会,会员,12345,,,",                    # 8 phone
        "10025,吴五,女,1985-01-01,机关分工会,会员,13800000025,,,2010-02-30",    # 9 child
        GOOD_ROWS[1],                                                            # 10
    ]
    report = await run(db, write_csv(tmp_path / "r.csv", rows))
    assert (report.total, report.created) == (9, 2)
    assert rejections(report) == [
        (3, "10020", "出生日期「1985-13-01」不是有效日期（例如 1985-03-02）"),
        (4, "10021", "工号「10021」重复（另见第 7 行）"),
        (5, "10022", "角色「组长」无法识别（可用：会员、代表、承办人、干部、经审、管理员）"),
        (6, "10023", "姓名为空"),
        (7, "10021", "工号「10021」重复（另见第 4 行）"),
        (8, "10024", "手机「12345」不像电话号码（例如 13800000001）"),
        (9, "10025", "子女出生日期「2010-02-30」不是有效日期（例如 1985-03-02）"),
    ]
    assert sorted(await snapshot(db)) == ["10001", "10002"]
    assert "后勤分工会" not in await branch_tree(db)
    assert "第 4 行（工号 10021）：工号「10021」重复（另见第 7 行）" in summary(report)


async def test_unusable_file_stores_nothing(db: Database, tmp_path: Path) -> None:
    with refused("名册是空的"):
        await run(db, write_csv(tmp_path / "empty.csv", []))
    missing = write_csv(tmp_path / "m.csv", ["10001,张三,1980-05-12,计算机学院分工会,干部"],
                        header="工号,姓名,出生日期,分工会,角色")
    with refused("名册缺少必需的列：性别、手机"):
        await run(db, missing)
    assert await stored_counts(db) == (0, 0, 0)


async def test_import_writes_one_audit_row(db: Database) -> None:
    await run(db, EXAMPLE)
    async with db.read() as session:
        logs = (await session.scalars(select(AuditLog))).all()
    assert [(log.actor, log.action, log.target) for log in logs] == [
        ("cli", "roster_import", "roster.csv")
    ]
    assert json.loads(logs[0].after or "") == {
        "total": 12, "created": 12, "updated": 0, "unchanged": 0, "deactivated": 0, "rejected": 0,
    }


async def test_progress_is_reported_every_500_rows(db: Database, tmp_path: Path) -> None:
    rows = [f"{20000 + i},教工{i},男,1980-01-01,机关分工会,会员,139{i:08d},,," for i in range(1200)]
    calls: list[tuple[int, int]] = []
    report = await run(db, write_csv(tmp_path / "r.csv", rows),
                       progress=lambda done, total: calls.append((done, total)))
    assert report.created == 1200
    assert calls == [(500, 1200), (1000, 1200), (1200, 1200)]
    assert await count(db, MemberRole) == 1200


async def test_optional_columns_missing_from_the_file_keep_stored_values(
    db: Database, tmp_path: Path
) -> None:
    await run(db, EXAMPLE)
    before = await snapshot(db)
    short = tmp_path / "short.csv"
    short.write_text(
        "工号,姓名,性别,出生日期,分工会,角色,手机\n"
        "10001,张三,男,1980-05-12,计算机学院分工会,干部、代表,13999999999\n",
        encoding="utf-8",
    )
    report = await run(db, short)
    assert (report.updated, report.rejected) == (1, [])
    after = await snapshot(db)
    assert after["10001"]["phone"] == "13999999999"
    for key in ("department", "hire_date", "children"):
        assert after["10001"][key] == before["10001"][key]
    assert before["10001"]["hire_date"] is not None and before["10001"]["children"]


# ---------------------------------------------------------------- title rows and date serials


TITLE_ROWS: list[list[object]] = [
    ["2026年教职工名册"],
    ["填表单位：示范大学工会", None, None, "填表日期：2026-01-05"],
    ["工号", "姓名", "性别", "出生日期", "分工会", "角色", "手机", "入职日期", "子女出生日期"],
    [32874, "张三", "男", 31108, "计算机学院分工会", "会员", 13800000001, 38899.0, 40330],
    ["32875", "李四", "女", "1988-11-03", "机关分工会", "会员", "13800000002", "", "40330；43467"],
]


def test_xlsx_header_below_title_rows_and_date_serials(tmp_path: Path) -> None:
    rows = read_rows(write_xlsx(tmp_path / "r.xlsx", TITLE_ROWS))
    assert [row.number for row in rows] == [4, 5]
    first = validate_row(rows[0].cells, today=TODAY)
    assert isinstance(first, RosterEntry)
    assert (first.staff_no, first.phone, first.birth_date, first.hire_date, first.children) == (
        "32874", "13800000001", date(1985, 3, 2), date(2006, 7, 1), (date(2010, 6, 1),),
    )
    second = validate_row(rows[1].cells, today=TODAY)
    assert isinstance(second, RosterEntry)
    assert (second.staff_no, second.children) == ("32875", (date(2010, 6, 1), date(2019, 1, 2)))


def test_csv_header_below_a_title_row_and_serial_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ["2026年教职工名册,,,,,,", "", HEADER,
                                          "32874,张三,男,31108,机关分工会,会员,13800000001,,38899,"],
                     header="示范大学工会")
    rows = read_rows(path)
    assert [row.number for row in rows] == [5]
    entry = validate_row(rows[0].cells, today=TODAY)
    assert isinstance(entry, RosterEntry)
    assert (entry.staff_no, entry.birth_date, entry.hire_date) == (
        "32874", date(1985, 3, 2), date(2006, 7, 1),
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1985", "出生日期「1985」不是有效日期（例如 1985-03-02）"),  # a year, not a serial
        (1985, "出生日期「1985」不是有效日期（例如 1985-03-02）"),
        ("3000", "出生日期「3000」不是有效日期（例如 1985-03-02）"),
        (13800000001, "出生日期「13800000001」不是有效日期（例如 1985-03-02）"),
        (46100, "出生日期「46100」不在 1900-01-01 至 2026-03-01 之间"),  # 2026-03-18
    ],
)
def test_numbers_that_are_no_date_serials(value: object, reason: str) -> None:
    assert reason_of(出生日期=value) == reason


def test_missing_columns_are_reported_against_the_likeliest_header(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes("2026年教职工名册\r\n工号,姓名,出生日期,分工会,角色\r\n1,张三,1980-01-01,机关分工会,会员".encode())
    with refused("名册缺少必需的列：性别、手机（第 2 行是表头"):
        read_rows(path)
