"""The plan of holiday notices and birthday lists: when, to whom, with which text."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete
from sqlmodel import col

from bot.cli.scheduler import describe
from bot.config import Settings
from bot.holiday_notice import notice_config, render_notice
from models.calendar.festivals import next_festival
from models.db import Database
from models.org import Branch, Chat, MemberChild, Role
from scheduler.occasions import World
from scheduler.planner import Planned, plan
from tests.factories import get_branch, make_member, make_settings

NO_ACCOUNT = "没有绑定可以主动发消息的账号（企业微信、QQ 或公众号）"
CHANNELS: dict[str, dict[str, object]] = {
    "onebot": {"enabled": True, "api_url": "http://127.0.0.1:9"},
    "qq_official": {"enabled": True, "app_id": "1", "secret": "s"},
}


def settings_with(**sections: dict[str, object]) -> Settings:
    return make_settings(**CHANNELS, **sections)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def add_chat(db: Database, channel: str, chat_id: str, name: str, branch: str | None) -> int:
    async with db.write() as session:
        branch_id = (await get_branch(session, branch)).id if branch else None
        chat = Chat(channel=channel, chat_id=chat_id, chat_type="group", name=name, branch_id=branch_id)
        session.add(chat)
        await session.flush()
        assert chat.id is not None
        return chat.id


async def add_children(db: Database, member_id: int | None, *born: date) -> None:
    assert member_id is not None
    async with db.write() as session:
        for day in born:
            session.add(MemberChild(member_id=member_id, birth_date=day))


async def setup_union(db: Database) -> dict[str, int]:
    """A small union; returns member and chat ids by name.

    计算机学院分工会 (officer 张三) has a 软件系分会 below it without officers;
    外国语学院分工会 has no officer, so its lists go to the 校工会 officer 孙丽.
    """
    async with db.write() as session:
        cs = await get_branch(session, "计算机学院分工会")
        session.add(Branch(name="计算机学院软件系分会", parent_id=cs.id))
    ids: dict[str, int] = {}
    people = [
        ("10001", "张三", "男", date(1980, 5, 12), "计算机学院分工会", [Role.OFFICER], "9001"),
        ("10002", "李四", "女", date(1988, 3, 2), "计算机学院分工会", [], "9002"),
        ("10003", "王芳", "女", date(1979, 2, 28), "计算机学院分工会", [], None),
        ("10004", "赵强", "男", date(1992, 2, 29), "外国语学院分工会", [], "9004"),
        ("10006", "刘洋", "男", date(1990, 3, 2), "计算机学院软件系分会", [], "9006"),
        ("10007", "孙丽", "女", date(1983, 7, 19), "示范大学工会", [Role.OFFICER], "9007"),
    ]
    for staff_no, name, gender, born, branch, roles, account in people:
        member = await make_member(db, staff_no, name, gender=gender, birth_date=born, branch=branch,
                                   roles=roles, accounts=[("onebot", account)] if account else [])
        assert member.id is not None
        ids[name] = member.id
    gone = await make_member(db, "10005", "陈静", gender="女", birth_date=date(1988, 3, 2),
                             branch="外国语学院分工会", active=False, accounts=[("onebot", "9005")])
    ids["陈静"] = gone.id or 0
    await add_children(db, ids["李四"], date(2013, 6, 2))  # 13 on 2027-06-01
    await add_children(db, ids["王芳"], date(2013, 6, 1))  # turns 14 on 2027-06-01
    await add_children(db, ids["赵强"], date(2027, 6, 2), date(2020, 1, 1))  # unborn; 7
    await add_children(db, ids["陈静"], date(2020, 1, 1))  # inactive member
    ids["计算机学院教职工群"] = await add_chat(db, "onebot", "111", "计算机学院教职工群", "计算机学院分工会")
    ids["外院教职工群"] = await add_chat(db, "onebot", "222", "外院教职工群", "外国语学院分工会")
    ids["软件系群"] = await add_chat(db, "onebot", "333", "软件系群", "计算机学院软件系分会")
    ids["官方群"] = await add_chat(db, "qq_official", "GRP", "计算机QQ官方群", "计算机学院分工会")
    ids["未登记的群"] = await add_chat(db, "onebot", "444", "未登记的群", None)
    return ids


async def planned(db: Database, settings: Settings, start: str, end: str) -> list[Planned]:
    async with db.write() as session:
        return await plan(World(session, settings, utc(start)), utc(start), utc(end))


def only(items: list[Planned], key: str) -> Planned:
    found = [item for item in items if item.occasion.key == key]
    assert len(found) == 1, [item.occasion.key for item in items]
    return found[0]


def recipients(item: Planned) -> list[tuple[str, str | None, str | None]]:
    return [(d.key, str(d.target) if d.target else None, d.problem) for d in item.deliveries]


# ---------------------------------------------------------------- holiday notices


async def test_a_group_notice_goes_to_every_group_chat_once_and_names_the_unreachable(db: Database) -> None:
    ids = await setup_union(db)
    items = await planned(db, settings_with(), "2027-06-01T00:00", "2027-06-10T00:00")
    assert [item.occasion.key for item in items] == ["holiday:2027-端午"]
    notice = items[0]
    assert notice.occasion.due_at == utc("2027-06-06T01:00")  # 09:00 in Shanghai, 3 days before
    assert notice.occasion.title == "端午节慰问通知（节日 6月9日，群发，对象：全体会员）"
    assert recipients(notice) == [
        (f"holiday:2027-端午:chat:{ids['计算机学院教职工群']}", "onebot:group:111", None),
        (f"holiday:2027-端午:chat:{ids['外院教职工群']}", "onebot:group:222", None),
        (f"holiday:2027-端午:chat:{ids['软件系群']}", "onebot:group:333", None),
        (f"holiday:2027-端午:chat:{ids['官方群']}", None, "QQ 开放平台机器人只能被动回复，不能主动发消息"),
        (f"holiday:2027-端午:chat:{ids['未登记的群']}", "onebot:group:444", None),
    ]
    assert notice.deliveries[0].label == "计算机学院教职工群（QQ（OneBot））"
    assert not notice.started


async def test_a_year_without_arrangement_data_says_it_is_not_yet_published(db: Database) -> None:
    await setup_union(db)
    items = await planned(db, settings_with(), "2027-06-01T00:00", "2027-06-10T00:00")
    assert items[0].deliveries[0].compose().text == (
        "【示范大学工会】端午节慰问通知\n"
        "各位会员：\n"
        "2027年6月9日（星期三，农历五月初五）是端午节。放假安排尚未公布，请以学校通知为准。\n"
        "祝大家端午安康！\n"
        "示范大学工会\n"
        "2027年6月6日"
    )


async def test_a_known_year_carries_the_arrangement_and_the_gift_details() -> None:
    settings = settings_with(holidays={"端午": {
        "gift": "粽子礼盒一份", "pickup_place": "各分工会活动室", "pickup_time": "6月16日至6月18日",
        "note": "请凭工作证领取。",
    }})
    festival = next_festival("端午", date(2026, 1, 1))
    assert render_notice(settings, festival, notice_config(settings, "端午")).text == (
        "【示范大学工会】端午节慰问通知\n"
        "各位会员：\n"
        "2026年6月19日（星期五，农历五月初五）是端午节。放假安排：6月19日至6月21日放假，共3天。\n"
        "工会为每位会员准备了节日慰问品：粽子礼盒一份。\n"
        "领取地点：各分工会活动室\n"
        "领取时间：6月16日至6月18日\n"
        "请凭工作证领取。\n"
        "祝大家端午安康！\n"
        "示范大学工会\n"
        "2026年6月16日"
    )


async def test_women_get_the_three_eight_notice_privately(db: Database) -> None:
    ids = await setup_union(db)
    settings = settings_with(holidays={"三八": {"delivery": "private", "gift": "鲜花一束"}})
    items = await planned(db, settings, "2027-03-01T00:00", "2027-03-06T00:00")
    notice = only(items, "holiday:2027-三八")
    assert notice.occasion.due_at == utc("2027-03-05T01:00")
    # 陈静 is no longer active; 王芳 has no account the bot can push to
    assert recipients(notice) == [
        (f"holiday:2027-三八:member:{ids['李四']}", "onebot:user:9002", None),
        (f"holiday:2027-三八:member:{ids['王芳']}", None, NO_ACCOUNT),
        (f"holiday:2027-三八:member:{ids['孙丽']}", "onebot:user:9007", None),
    ]
    assert notice.deliveries[0].compose().text == (
        "【示范大学工会】三八妇女节慰问通知\n"
        "李四老师：\n"
        "2027年3月8日（星期一）是第117个国际劳动妇女节。示范大学工会向您致以节日的问候和美好的祝福！\n"
        "按照国家规定，三八妇女节当天妇女放假半天，具体以学校安排为准。\n"
        "工会为每位女职工准备了节日慰问品：鲜花一束。\n"
        "祝您节日快乐、身体健康、工作顺利！\n"
        "示范大学工会\n"
        "2027年3月5日"
    )


async def test_parents_of_children_under_14_on_the_day(db: Database) -> None:
    ids = await setup_union(db)
    settings = settings_with(holidays={"六一": {"delivery": "private"}})
    items = await planned(db, settings, "2027-05-25T00:00", "2027-06-01T00:00")
    notice = only(items, "holiday:2027-六一")
    # 王芳's child turns 14 on 1 June (no longer under 14); 赵强's second child is 7;
    # 陈静 is inactive; 李四's child is 13
    assert [d.key for d in notice.deliveries] == [
        f"holiday:2027-六一:member:{ids['李四']}",
        f"holiday:2027-六一:member:{ids['赵强']}",
    ]


async def test_a_child_born_after_the_festival_does_not_count(db: Database) -> None:
    ids = await setup_union(db)
    await add_children(db, ids["张三"], date(2027, 6, 2))
    settings = settings_with(holidays={"六一": {"delivery": "private"}})
    items = await planned(db, settings, "2027-05-25T00:00", "2027-06-01T00:00")
    assert f"holiday:2027-六一:member:{ids['张三']}" not in [d.key for d in items[0].deliveries]


async def test_branches_restrict_groups_and_members_including_sub_branches(db: Database) -> None:
    ids = await setup_union(db)
    groups = settings_with(holidays={"中秋": {"branches": ["计算机学院分工会"]}})
    items = await planned(db, groups, "2027-09-01T00:00", "2027-09-13T00:00")
    assert [d.key for d in only(items, "holiday:2027-中秋").deliveries] == [
        f"holiday:2027-中秋:chat:{ids['计算机学院教职工群']}",
        f"holiday:2027-中秋:chat:{ids['软件系群']}",
        f"holiday:2027-中秋:chat:{ids['官方群']}",
    ]
    private = settings_with(holidays={"中秋": {"branches": ["计算机学院分工会"], "delivery": "private"}})
    items = await planned(db, private, "2027-09-01T00:00", "2027-09-13T00:00")
    assert [d.label for d in only(items, "holiday:2027-中秋").deliveries] == [
        "张三（10001）", "李四（10002）", "王芳（10003）", "刘洋（10006）",
    ]


async def test_an_unknown_branch_name_reaches_nobody_and_is_logged(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await setup_union(db)
    settings = settings_with(holidays={"中秋": {"branches": ["计算机学院"]}})
    with caplog.at_level(logging.WARNING, logger="scheduler.holiday_notices"):
        items = await planned(db, settings, "2027-09-01T00:00", "2027-09-13T00:00")
    assert recipients(only(items, "holiday:2027-中秋")) == [(
        "holiday:2027-中秋:chat:none", None,
        "配置 [holidays.中秋] 的 branches 里「计算机学院」不是名册里的分工会，请改成名册中的分工会名称",
    )]
    assert not items[0].reachable
    assert "no branch named 计算机学院" in caplog.text


async def test_disabled_and_default_off_festivals_are_not_planned(db: Database) -> None:
    await setup_union(db)
    off = settings_with(holidays={"端午": {"enabled": False}})
    assert await planned(db, off, "2027-06-01T00:00", "2027-06-10T00:00") == []
    # 国庆 is off unless enabled; enabled, it uses the generic template
    assert await planned(db, settings_with(), "2027-09-20T00:00", "2027-10-01T00:00") == []
    on = settings_with(holidays={"国庆": {"enabled": True, "days_before": 1, "send_at": "16:30"}})
    items = await planned(db, on, "2027-09-20T00:00", "2027-10-01T00:00")
    assert only(items, "holiday:2027-国庆").occasion.due_at == utc("2027-09-30T08:30")
    assert items[0].deliveries[0].compose().text.splitlines()[-3] == "祝大家国庆快乐！"


async def test_new_years_eve_in_a_year_whose_last_month_has_29_days(db: Database) -> None:
    await setup_union(db)
    settings = settings_with(holidays={"除夕": {"enabled": True, "days_before": 0, "send_at": "10:00"}})
    items = await planned(db, settings, "2025-01-20T00:00", "2025-02-01T00:00")
    eve = only(items, "holiday:2025-除夕")
    assert eve.occasion.due_at == utc("2025-01-28T02:00")  # 腊月廿九, the day before 春节
    assert eve.deliveries[0].compose().text.splitlines()[2] == (
        "2025年1月28日（星期二，农历腊月廿九）是除夕。"
        "放假安排：在春节假期内（1月28日至2月4日放假调休，共8天；1月26日（星期日）、2月8日（星期六）上班）。"
    )


async def test_spring_festival_is_planned_a_week_ahead_with_its_own_template(db: Database) -> None:
    await setup_union(db)
    items = await planned(db, settings_with(), "2027-01-25T00:00", "2027-02-06T00:00")
    notice = only(items, "holiday:2027-春节")
    assert notice.occasion.due_at == utc("2027-01-30T01:00")
    assert "值此新春佳节来临之际，示范大学工会向全体会员及家属致以新春的问候和美好的祝福！" in (
        notice.deliveries[0].compose().text
    )


async def test_times_follow_the_union_time_zone(db: Database) -> None:
    await setup_union(db)
    settings = settings_with(union={"name": "新疆某大学工会", "timezone": "Asia/Urumqi"})
    items = await planned(db, settings, "2027-06-05T00:00", "2027-06-07T00:00")
    assert only(items, "holiday:2027-端午").occasion.due_at == utc("2027-06-06T03:00")  # UTC+6
    birthdays = await planned(db, settings, "2027-03-01T12:00", "2027-03-02T12:00")
    assert only(birthdays, "birthday:2027-03-02").occasion.due_at == utc("2027-03-02T02:00")


async def test_the_window_is_open_at_the_start_and_closed_at_the_end(db: Database) -> None:
    await setup_union(db)
    settings = settings_with()
    assert await planned(db, settings, "2027-06-06T01:00", "2027-06-07T00:00") == []
    items = await planned(db, settings, "2027-06-06T00:59", "2027-06-06T01:00")
    assert [item.occasion.key for item in items] == ["holiday:2027-端午"]


# ---------------------------------------------------------------- birthdays


async def test_officers_get_the_day_list_of_their_branch(db: Database) -> None:
    ids = await setup_union(db)
    items = await planned(db, settings_with(), "2027-03-01T12:00", "2027-03-02T12:00")
    day = only(items, "birthday:2027-03-02")
    assert day.occasion.due_at == utc("2027-03-02T00:00")  # 08:00 in Shanghai
    # 李四 (计算机) to 张三; 刘洋's 软件系分会 has no officer: to the officer above, 张三;
    # 陈静 is inactive
    cs, soft = await branch_ids(db, "计算机学院分工会", "计算机学院软件系分会")
    assert recipients(day) == [
        (f"birthday:2027-03-02:branch:{cs}:member:{ids['张三']}", "onebot:user:9001", None),
        (f"birthday:2027-03-02:branch:{soft}:member:{ids['张三']}", "onebot:user:9001", None),
    ]
    assert day.deliveries[0].compose().text == (
        "【生日慰问】计算机学院分工会\n"
        "今天（3月2日 星期二）过生日的会员有 1 位：\n"
        "· 李四（工号 10002）\n"
        "请安排生日慰问。名单含个人信息，请勿转发到群里。"
    )
    assert day.occasion.title == "生日名单（3月2日）"


async def branch_ids(db: Database, *names: str) -> list[int]:
    async with db.write() as session:
        return [(await get_branch(session, name)).id or 0 for name in names]


async def test_february_29_birthdays_fall_on_february_28_in_common_years(db: Database) -> None:
    ids = await setup_union(db)
    common = await planned(db, settings_with(), "2027-02-27T12:00", "2027-02-28T12:00")
    assert "赵强（工号 10004）" in only(common, "birthday:2027-02-28").deliveries[-1].compose().text
    root, = await branch_ids(db, "示范大学工会")
    foreign, = await branch_ids(db, "外国语学院分工会")
    assert only(common, "birthday:2027-02-28").deliveries[-1].key == (
        f"birthday:2027-02-28:branch:{foreign}:member:{ids['孙丽']}"
    )
    assert root != foreign
    leap = await planned(db, settings_with(), "2028-02-27T12:00", "2028-02-29T12:00")
    assert [d.compose().text.count("赵强") for d in only(leap, "birthday:2028-02-28").deliveries] == [0]
    assert "赵强（工号 10004）" in only(leap, "birthday:2028-02-29").deliveries[0].compose().text


async def test_no_list_when_nobody_has_a_birthday(db: Database) -> None:
    await setup_union(db)
    assert await planned(db, settings_with(), "2027-03-03T12:00", "2027-03-04T12:00") == []


async def test_a_weekly_list_goes_out_on_monday(db: Database) -> None:
    ids = await setup_union(db)
    settings = settings_with(scheduler={"birthday_range": "week", "birthday_time": "07:30"})
    items = await planned(db, settings, "2027-02-28T00:00", "2027-03-07T00:00")
    week = only(items, "birthday:week:2027-03-01")
    assert week.occasion.due_at == utc("2027-02-28T23:30")
    assert week.occasion.title == "生日名单（3月1日至3月7日）"
    cs, = await branch_ids(db, "计算机学院分工会")
    assert week.deliveries[0].key == f"birthday:week:2027-03-01:branch:{cs}:member:{ids['张三']}"
    assert week.deliveries[0].compose().text == (
        "【生日慰问】计算机学院分工会\n"
        "本周（3月1日至3月7日）过生日的会员有 1 位：\n"
        "· 3月2日 星期二 李四（工号 10002）\n"
        "请安排生日慰问。名单含个人信息，请勿转发到群里。"
    )
    assert [item.occasion.key for item in items if item.occasion.key.startswith("birthday:2027")] == []


async def test_greetings_to_the_members_themselves_only_when_enabled(db: Database) -> None:
    ids = await setup_union(db)
    items = await planned(db, settings_with(scheduler={"birthday_greeting": True}),
                          "2027-03-01T12:00", "2027-03-02T12:00")
    greeting = only(items, "birthday:2027-03-02:greeting")
    assert recipients(greeting) == [
        (f"birthday:2027-03-02:greeting:member:{ids['李四']}", "onebot:user:9002", None),
        (f"birthday:2027-03-02:greeting:member:{ids['刘洋']}", "onebot:user:9006", None),
    ]
    assert greeting.deliveries[0].compose().text == (
        "李四老师：今天是您的生日，示范大学工会祝您生日快乐，身体健康，工作顺利，阖家幸福！"
    )
    plain = await planned(db, settings_with(), "2027-03-01T12:00", "2027-03-02T12:00")
    assert all("greeting" not in item.occasion.key for item in plain)


async def test_a_list_nobody_can_receive_is_shown_as_such(db: Database) -> None:
    await make_member(db, "1", "周伟", gender="男", birth_date=date(1978, 3, 30), branch="后勤分工会")
    items = await planned(db, settings_with(), "2027-03-29T12:00", "2027-03-30T12:00")
    day = only(items, "birthday:2027-03-30")
    assert [(d.target, d.problem) for d in day.deliveries] == [
        (None, "后勤分工会及其上级工会都没有干部，名单无人接收"),
    ]


async def test_a_plan_of_a_year_holds_every_enabled_festival(db: Database) -> None:
    await setup_union(db)
    items = await planned(db, settings_with(), "2027-01-01T00:00", "2028-01-01T00:00")
    holidays = [item.occasion.key for item in items if item.occasion.key.startswith("holiday:")]
    assert holidays == ["holiday:2027-春节", "holiday:2027-三八", "holiday:2027-六一",
                        "holiday:2027-端午", "holiday:2027-中秋"]
    assert sum(1 for item in items if item.occasion.key.startswith("birthday:")) == 4
    assert items == sorted(items, key=lambda item: item.occasion.due_at)
    assert all(item.occasion.due_at - timedelta(days=366) < utc("2027-01-01T00:00") for item in items)


def test_names_and_free_text_are_data_not_template_code() -> None:
    settings = settings_with(holidays={"端午": {"gift": "{{ n.union }}{% raw %}", "note": "<b>请带证件</b>"}})
    festival = next_festival("端午", date(2027, 1, 1))
    text = render_notice(settings, festival, notice_config(settings, "端午"), recipient="{{ 7*7 }}").text
    assert text.splitlines()[1] == "{{ 7*7 }}老师："
    assert "工会为每位会员准备了节日慰问品：{{ n.union }}{% raw %}。" in text
    assert "<b>请带证件</b>" in text


NO_GROUP = (
    "机器人还不知道任何群：把机器人拉进群，在群里 @ 它说一句「帮助」，它就记住了这个群"
    "（要按分工会发送，再由干部在群里发「本群归属 分工会名称」）；"
    "企业微信群机器人写在配置文件的 [wecom.robots] 里"
)


async def test_right_after_installation_notices_are_planned_with_why_they_go_nowhere(db: Database) -> None:
    items = await planned(db, make_settings(), "2027-06-01T00:00", "2027-06-10T00:00")
    notice = only(items, "holiday:2027-端午")
    assert recipients(notice) == [("holiday:2027-端午:chat:none", None, NO_GROUP)]
    assert notice.deliveries[0].nobody and not notice.reachable and not notice.started
    assert describe(notice) == [f"    发不出去：{NO_GROUP}"]


async def test_a_group_seen_before_the_roster_is_imported_gets_the_notice(db: Database) -> None:
    chat_id = await add_chat(db, "onebot", "111", "教职工群", None)
    items = await planned(db, settings_with(), "2027-06-01T00:00", "2027-06-10T00:00")
    assert recipients(only(items, "holiday:2027-端午")) == [
        (f"holiday:2027-端午:chat:{chat_id}", "onebot:group:111", None),
    ]


async def test_a_branch_without_groups_says_how_to_register_one(db: Database) -> None:
    await setup_union(db)
    settings = settings_with(holidays={"中秋": {"branches": ["外国语学院分工会"]}})
    async with db.write() as session:
        await session.execute(delete(Chat).where(col(Chat.chat_id) == "222"))
    items = await planned(db, settings, "2027-09-01T00:00", "2027-09-13T00:00")
    assert recipients(only(items, "holiday:2027-中秋")) == [(
        "holiday:2027-中秋:chat:none", None,
        "外国语学院分工会还没有登记群：把机器人拉进群，由干部在群里发「本群归属 分工会名称」登记这个群；"
        "企业微信群机器人写在配置文件的 [wecom.robots] 里",
    )]
