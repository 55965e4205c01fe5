"""节日 and 节日 预览 as members and officers use them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.config import Settings
from bot.context import Context
from bot.errors import UserError
from bot.holiday_notice import notice_config, render_notice
from bot.pipeline import Pipeline
from handlers.calendar import calendar_command
from models.calendar.festivals import next_festival
from models.db import Database
from models.org import Member, Role
from tests.factories import make_member, make_settings, message

SETTINGS = make_settings(holidays={"三八": {"delivery": "private", "branches": ["计算机学院分工会"]}})


async def ask(
    db: Database, member: Member, text: str, now: str, *, officer: bool = False,
    settings: Settings = SETTINGS,
) -> str:
    """Run 节日 with ``text`` after the command word, at the UTC time ``now``."""
    roles = frozenset({Role.MEMBER, Role.OFFICER} if officer else {Role.MEMBER})
    async with db.write() as session:
        ctx = Context(
            session=session, incoming=message(f"节日 {text}"), member=member, roles=roles,
            settings=settings,
            now=datetime.fromisoformat(now).replace(tzinfo=UTC),
        )
        return await calendar_command(ctx, text)


async def refused(db: Database, member: Member, text: str, *, officer: bool = True) -> str:
    with pytest.raises(UserError) as info:
        await ask(db, member, text, "2027-05-20T00:00", officer=officer)
    return info.value.message


async def test_coming_festivals_with_arrangements_and_planned_notices(db: Database) -> None:
    member = await make_member(db, "10002", "李四")
    assert await ask(db, member, "", "2027-05-20T00:00") == (
        "近期节日：\n"
        "· 6月1日（星期二）六一儿童节，还有 12 天\n"
        "  假期：不满14周岁的少年儿童放假1天\n"
        "  慰问通知：5月29日 09:00 发到各群，对象：有不满14周岁子女的会员\n"
        "· 6月9日（星期三）端午节，农历五月初五，还有 20 天\n"
        "  放假安排：尚未公布\n"
        "  慰问通知：6月6日 09:00 发到各群，对象：全体会员\n"
        "· 8月8日（星期日）七夕节，农历七月初七，还有 80 天\n"
        "  假期：不放假\n"
        "官方放假安排以国务院办公厅通知和学校通知为准。"
    )


async def test_a_known_arrangement_and_a_notice_already_sent(db: Database) -> None:
    member = await make_member(db, "10002", "李四")
    text = await ask(db, member, "", "2026-06-17T00:00")  # after the 16 June notice
    assert text.splitlines()[:4] == [
        "近期节日：",
        "· 6月19日（星期五）端午节，农历五月初五，还有 2 天",
        "  放假安排：6月19日至6月21日放假，共3天",
        "  慰问通知：已于6月16日 09:00 安排发到各群，对象：全体会员",
    ]


async def test_the_list_shows_restricted_private_notices(db: Database) -> None:
    member = await make_member(db, "10002", "李四")
    text = await ask(db, member, "", "2027-02-01T00:00")
    assert "  慰问通知：3月5日 09:00 私信发给计算机学院分工会的女职工" in text.splitlines()
    assert text.splitlines()[1:3] == [
        "· 2月5日（星期五）除夕，农历腊月廿九，还有 4 天", "  放假安排：尚未公布",
    ]


async def test_a_festival_today(db: Database) -> None:
    member = await make_member(db, "10002", "李四")
    text = await ask(db, member, "", "2027-06-09T02:00")
    assert text.splitlines()[1] == "· 6月9日（星期三）端午节，农历五月初五，就是今天"


async def test_an_officer_previews_a_group_notice_exactly_as_sent(db: Database) -> None:
    officer = await make_member(db, "10001", "张三", roles=[Role.OFFICER])
    answer = await ask(db, officer, "预览 端午", "2027-05-20T00:00", officer=True)
    header, notice = answer.split("\n\n", 1)
    assert header == "端午节慰问通知将于2027年6月6日 09:00 发到各群，对象：全体会员。以下只是预览，不会发送："
    festival = next_festival("端午", date(2027, 5, 20))
    expected = render_notice(SETTINGS, festival, notice_config(SETTINGS, "端午"))
    assert notice == expected.text
    assert notice.startswith("【示范大学工会】端午节慰问通知\n各位会员：\n")


async def test_a_private_notice_is_previewed_with_the_officers_name(db: Database) -> None:
    officer = await make_member(db, "10001", "张三", roles=[Role.OFFICER])
    answer = await ask(db, officer, "预览 妇女节", "2027-02-01T00:00", officer=True)
    assert answer.splitlines()[:5] == [
        "三八妇女节慰问通知将于2027年3月5日 09:00 私信发给计算机学院分工会的女职工。以下只是预览，不会发送：",
        "（私信时称呼换成每位收信会员的姓名，下面以你为例）",
        "",
        "【示范大学工会】三八妇女节慰问通知",
        "张三老师：",
    ]


async def test_a_disabled_notice_is_previewed_with_how_to_enable_it(db: Database) -> None:
    officer = await make_member(db, "10001", "张三", roles=[Role.OFFICER])
    answer = await ask(db, officer, "预览国庆节", "2027-05-20T00:00", officer=True)
    assert answer.splitlines()[0] == (
        "国庆节慰问通知目前未启用（管理员在配置文件 [holidays.\"国庆\"] 中写 enabled = true 即可启用），"
        "启用后将于2027年9月28日 09:00 发到各群，对象：全体会员，内容如下："
    )
    assert "2027年10月1日（星期五）是国庆节。放假安排尚未公布，请以学校通知为准。" in answer


async def test_the_preview_after_the_festival_shows_next_year(db: Database) -> None:
    officer = await make_member(db, "10001", "张三", roles=[Role.OFFICER])
    answer = await ask(db, officer, "预览 中秋", "2026-09-26T00:00", officer=True)
    assert answer.startswith("中秋节慰问通知将于2027年9月12日 09:00 发到各群")


async def test_members_cannot_preview(db: Database) -> None:
    member = await make_member(db, "10002", "李四")
    assert await refused(db, member, "预览 端午", officer=False) == (
        "预览慰问通知需要干部身份。发送「节日」可以查看近期节日和慰问通知安排。"
    )


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("预览", "请写上要预览的节日，例如：节日 预览 端午。可预览的节日有："
                 "元旦、除夕、春节、元宵、三八、清明、五一、六一、端午、七夕、教师节、中秋、国庆、重阳"),
        ("预览 圣诞节", "没有名为「圣诞节」的节日。可预览的节日有："
                       "元旦、除夕、春节、元宵、三八、清明、五一、六一、端午、七夕、教师节、中秋、国庆、重阳，"
                       "例如：节日 预览 端午"),
        ("明天", "「节日」查看近期节日和慰问通知安排；干部可用「节日 预览 <节日名>」预览慰问通知，"
                 "例如：节日 预览 端午"),
    ],
)
async def test_bad_input_gets_one_sentence_with_an_example(db: Database, text: str, answer: str) -> None:
    officer = await make_member(db, "10001", "张三", roles=[Role.OFFICER])
    assert await refused(db, officer, text) == answer


async def test_hostile_names_are_cut_short(db: Database) -> None:
    officer = await make_member(db, "10001", "张三", roles=[Role.OFFICER])
    answer = await refused(db, officer, "预览 " + "端" * 500)
    assert answer.startswith("没有名为「" + "端" * 19 + "…」的节日")
    assert len(answer) < 200


async def test_the_command_works_in_a_group_through_the_pipeline(pipeline: Pipeline, db: Database) -> None:
    await make_member(db, "10002", "李四", accounts=[("console", "u2")])
    reply = await pipeline.handle(message("节日", sender="u2", chat_type="group"))
    assert reply is not None and reply.text.startswith("近期节日：\n· ")
    denied = await pipeline.handle(message("节日 预览 端午", sender="u2", chat_type="group"))
    assert denied is not None and denied.text.startswith("预览慰问通知需要干部身份")
