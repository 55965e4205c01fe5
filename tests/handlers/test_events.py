"""活动报名 through the pipeline, as officers and staff use it in chats."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.config import Settings
from bot.messages import Reply
from bot.pipeline import Pipeline
from models.audit import AuditLog
from models.db import Database
from models.dialog_state import DialogState
from models.events.links import DownloadLink
from models.events.tables import Event, Signup
from models.org import Chat, Member, Role
from models.outbox import OutboxMessage
from tests.clock import FrozenClock
from tests.factories import get_branch, make_member, make_settings, message

CREATE = "发起活动 教职工羽毛球赛 时间 下周六 下午2点到4点 地点 体育馆 名额 2 可带 1"
HOW_TO = "报名请发送「报名 A1 尺码 …」（…处填写你的尺码）；带家属在编号后写 +人数，例如「报名 A1 +1」。"


@pytest.fixture
def settings() -> Settings:
    """QQ (OneBot) can push; WeCom and the console cannot."""
    return make_settings(
        onebot={"enabled": True, "api_url": "http://127.0.0.1:3000"},
        server={"public_url": "https://union.example.edu.cn/"},
    )


@pytest.fixture
async def people(db: Database) -> dict[str, Member]:
    """An officer and four staff of 计算机学院; 李四 and 赵六 can only be reached by replies."""
    found = {
        "officer": await make_member(db, "10001", "王干部", roles=[Role.OFFICER],
                                     accounts=[("console", "officer"), ("onebot", "q0")]),
        "zhang": await make_member(db, "10002", "张三", accounts=[("console", "zhang"), ("onebot", "q2")]),
        "li": await make_member(db, "10003", "李四", gender="男", accounts=[("console", "li")]),
        "zhao": await make_member(db, "10004", "赵六", accounts=[("console", "zhao")]),
        "qian": await make_member(db, "10005", "钱七", accounts=[("console", "qian"), ("onebot", "q5")]),
        "sun": await make_member(db, "10006", "孙八", branch="机关分工会", accounts=[("console", "sun")]),
    }
    async with db.write() as session:
        cs = (await get_branch(session, "计算机学院分工会")).id
        office = (await get_branch(session, "机关分工会")).id
        for channel, chat_id, kind, name, branch in (
            ("onebot", "g-cs", "group", "计算机学院教职工群", cs),
            ("onebot", "g-jg", "group", "机关教职工群", office),
            ("onebot", "g-all", "group", "全校教职工群", None),
            ("wecom", "计算机学院通知机器人", "robot", "计算机学院通知机器人", cs),
            ("qq_official", "g-qq", "group", "计算机学院QQ群", cs),
        ):
            session.add(Chat(channel=channel, chat_id=chat_id, chat_type=kind, name=name, branch_id=branch))
    return found


async def say(pipeline: Pipeline, sender: str, words: str, **kw: object) -> str:
    reply = await pipeline.handle(message(words, sender=sender, **kw))  # type: ignore[arg-type]
    assert reply is not None
    return reply.text


async def outbox(db: Database, like: str = "event:%") -> list[tuple[str, str, str]]:
    async with db.read() as session:
        rows = (await session.execute(
            select(OutboxMessage.key, OutboxMessage.target, OutboxMessage.payload)
            .where(OutboxMessage.key.like(like)).order_by(OutboxMessage.id)  # type: ignore[attr-defined]
        )).all()
    return [(key, target, Reply.from_json(payload).text) for key, target, payload in rows]


async def counts(db: Database) -> tuple[int, ...]:
    async with db.read() as session:
        return tuple([
            int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Event, Signup, AuditLog, OutboxMessage, DownloadLink)
        ])


async def signups(db: Database) -> list[tuple[str, str, int, str | None]]:
    async with db.read() as session:
        rows = (await session.execute(
            select(Member.name, Signup.status, Signup.guests, Signup.note)
            .join(Member, Member.id == Signup.member_id).order_by(Signup.seq)  # type: ignore[arg-type]
        )).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


# ---------------------------------------------------------------- 发起活动


async def test_create_in_one_message_announces_to_the_branch_chats(
    pipeline: Pipeline, db: Database, people: dict[str, Member]
) -> None:
    answer = await say(pipeline, "officer", CREATE + " 填写 尺码 备注 请自带球拍")
    lines = answer.splitlines()
    assert lines[0] == "已发起活动 A1 教职工羽毛球赛。"
    assert lines[1].startswith("时间：") and lines[1].endswith("14:00–16:00")
    assert lines[2:4] == ["地点：体育馆", "名额：2 人（每人可带 1 位家属，家属也占名额）"]
    assert lines[5:8] == ["对象：计算机学院分工会", "报名需填写：尺码", "备注：请自带球拍"]
    assert lines[8] == HOW_TO
    assert lines[9] == "已在 1 个群发出通知：计算机学院教职工群。"
    assert lines[10:] == [
        "「计算机学院通知机器人」没能通知：企业微信未在配置中启用。",
        "「计算机学院QQ群」没能通知：QQ 开放平台机器人只能被动回复，不能主动发消息。",
    ]
    sent = await outbox(db)
    assert [(key.rsplit(":", 1)[0], target) for key, target, _ in sent] == [
        ("event:A1:announce:chat", "g-cs")
    ]
    text = sent[0][2]
    assert text.startswith("【活动报名】A1 教职工羽毛球赛\n")
    assert HOW_TO in text
    async with db.read() as session:
        event = await session.scalar(select(Event))
        log = await session.scalar(select(AuditLog).where(AuditLog.action == "event.create"))
    assert event is not None and (event.capacity, event.max_guests, event.field_names) == (2, 1, ["尺码"])
    assert log is not None and log.target == "event:A1" and log.actor == "王干部"


async def test_whole_union_event_for_women_reaches_every_group_chat(
    pipeline: Pipeline, db: Database, people: dict[str, Member]
) -> None:
    await make_member(db, "10090", "陈主席", branch="示范大学工会", roles=[Role.OFFICER],
                      accounts=[("onebot", "q9")])  # whole-union events are the 校工会's
    answer = await say(pipeline, "q9", CREATE + " 对象 全校女职工", chat_type="group",
                       channel="onebot", chat_id="g-cs")
    assert "对象：全校女职工" in answer
    assert "已在 2 个群发出通知：机关教职工群、全校教职工群。" in answer  # not again in this chat
    assert [target for _, target, _ in await outbox(db)] == ["g-jg", "g-all"]
    assert "不在报名范围内" in await say(pipeline, "li", "报名 A1")  # 李四 is a man
    assert "报名成功" in await say(pipeline, "sun", "报名 A1")  # 机关 is in the whole union


async def test_create_in_a_group_says_what_is_missing(
    pipeline: Pipeline, db: Database, people: dict[str, Member], clock: FrozenClock
) -> None:
    before = await counts(db)
    clock.now = datetime(2027, 6, 1, 4, 0, tzinfo=UTC)
    answer = await say(pipeline, "officer", "发起活动 羽毛球赛 时间 明天 14:00", chat_type="group")
    assert answer.startswith("发起活动还缺地点、名额。请写成：发起活动 教职工羽毛球赛 时间 6月22日 14:00")
    assert await counts(db) == before


async def test_guided_dialog_asks_again_for_what_was_wrong(
    pipeline: Pipeline, db: Database, people: dict[str, Member]
) -> None:
    assert (await say(pipeline, "officer", "发起活动")).endswith("请发送活动名称，例如：教职工羽毛球赛")
    assert (await say(pipeline, "officer", "读书分享会")).startswith("请发送活动时间")
    assert (await say(pipeline, "officer", "明天 3点")).startswith("「明天 3点」是上午还是下午？")
    assert (await say(pipeline, "officer", "明天 下午3点")).startswith("请发送活动地点")
    assert (await say(pipeline, "officer", "图书馆报告厅")).startswith("请发送名额")
    assert (await say(pipeline, "officer", "零")).startswith("名额「零」不对：请写 1 到 100000")
    assert (await say(pipeline, "officer", "四十人")).startswith("还有其他要求吗？")
    late = await say(pipeline, "officer", "截止 后天 可带 1")
    assert late.startswith("报名截止时间") and "晚于活动开始时间" in late
    assert "还有其他要求吗？" in late
    done = await say(pipeline, "officer", "截止 明天 12:00 对象 本分工会")
    assert done.startswith("已发起活动 A1 读书分享会。")
    assert "地点：图书馆报告厅" in done and "名额：40 人" in done
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(DialogState)) == 0


async def test_a_past_time_found_at_the_end_of_the_dialog_is_asked_for_again(
    pipeline: Pipeline, db: Database, people: dict[str, Member]
) -> None:
    await say(pipeline, "officer", "发起活动 读书分享会 地点 报告厅 名额 20 备注 无")
    asked = await say(pipeline, "officer", "2020-05-01 14:00")
    assert asked.startswith("「2020-05-01 14:00」已经过去了。") and asked.endswith("下午2点到4点")
    done = await say(pipeline, "officer", "下周一 14:00")
    assert done.startswith("已发起活动 A1 读书分享会。")


# ---------------------------------------------------------------- 报名, 取消报名, waitlist


async def test_sign_up_waitlist_and_promotion_with_a_private_notice(
    pipeline: Pipeline, db: Database, people: dict[str, Member]
) -> None:
    await say(pipeline, "officer", CREATE)
    first = await say(pipeline, "zhang", "报名 A1 +1 素食")
    assert first.startswith("报名成功！A1 教职工羽毛球赛，你是第 1 位（本人和 1 位家属，共 2 人）。")
    assert "备注：素食" in first
    waiting = await say(pipeline, "qian", "报名")  # the only open event: no code needed
    assert waiting.startswith("A1 教职工羽毛球赛名额已满，你已进入候补，排第 1 位（本人 1 人）。")
    assert "排第 2 位" in await say(pipeline, "zhao", "报名 A1")
    again = await say(pipeline, "zhang", "报名 A1 +0")
    assert again == "已更新你在 A1 教职工羽毛球赛的报名：本人 1 人，备注：素食。\n你仍是第 1 位。"
    promoted = await outbox(db, "event:A1:promoted:%")
    assert [(key, target) for key, target, _ in promoted] == [
        (f"event:A1:promoted:member:{people['qian'].id}:seq:2", "q5")
    ]
    assert promoted[0][2].startswith("好消息：A1 教职工羽毛球赛空出了名额，你已从候补转为正式报名，是第 2 位")
    assert await signups(db) == [
        ("张三", "confirmed", 0, "素食"), ("钱七", "confirmed", 0, None), ("赵六", "waitlist", 0, None),
    ]


async def test_cancel_in_a_group_mentions_who_cannot_be_told_privately(
    pipeline: Pipeline, db: Database, people: dict[str, Member]
) -> None:
    await say(pipeline, "officer", CREATE)
    await say(pipeline, "zhang", "报名 A1 +1")
    await say(pipeline, "zhao", "报名 A1")
    answer = await say(pipeline, "zhang", "取消报名 A1", chat_type="group")
    assert answer == (
        "已取消你在 A1 教职工羽毛球赛的报名。想再参加可以重新发送「报名 A1」（将排在最后）。\n"
        "@赵六 你已从候补转为 A1 的正式报名。"
    )
    twice = await say(pipeline, "zhang", "取消报名 A1")
    assert twice.startswith("你已经取消过 A1 的报名了，无需再次取消。")
    assert await signups(db) == [("张三", "cancelled", 1, None), ("赵六", "confirmed", 0, None)]


async def test_required_fields_must_be_filled(
    pipeline: Pipeline, db: Database, people: dict[str, Member]
) -> None:
    await say(pipeline, "officer", CREATE + " 填写 尺码")
    missing = await say(pipeline, "zhang", "报名 A1 +1")
    assert missing == "报名 A1 需要填写尺码，例如：报名 A1 尺码 …（…处写你的尺码）。"
    ok = await say(pipeline, "zhang", "报名 A1 +1 尺码 XL 晚到十分钟")
    assert "尺码：XL" in ok and "备注：晚到十分钟" in ok
    async with db.read() as session:
        answers = await session.scalar(select(Signup.answers))
    assert json.loads(answers or "{}") == {"尺码": "XL"}


# ---------------------------------------------------------------- 修改活动, 取消活动


async def test_raising_capacity_promotes_and_moving_tells_everyone(
    pipeline: Pipeline, db: Database, people: dict[str, Member]
) -> None:
    await say(pipeline, "officer", CREATE)
    for who in ("zhang", "li", "qian", "zhao"):
        await say(pipeline, who, "报名 A1")
    refused = await say(pipeline, "officer", "修改活动 A1 名额 1")
    assert refused == "A1 已有 2 人报名（含家属），名额不能少于 2。例如：修改活动 A1 名额 2"
    answer = await say(pipeline, "officer", "修改活动 A1 名额 3 地点 风雨操场")
    assert answer.startswith("已修改 A1 教职工羽毛球赛：地点、名额。")
    assert "名额增加后，钱七 已从候补转为正式报名。" in answer
    assert "已私信通知 2 位报名者。" in answer  # 张三 and 钱七 have QQ
    assert "以下 2 人没有绑定能接收通知的账号，请另行告知：李四、赵六。" in answer
    keys = [key for key, _, _ in await outbox(db, "event:A1:changed:%")]
    assert keys == [
        f"event:A1:changed:1:member:{people['zhang'].id}",
        f"event:A1:changed:1:member:{people['qian'].id}",
        "event:A1:changed:1:chat:1",
    ]
    notice = (await outbox(db, "event:A1:changed:1:member:%"))[0][2]
    assert "地点改为：风雨操场（原为 体育馆）" in notice and "时间改为" not in notice
    assert [s for _, s, _, _ in await signups(db)] == ["confirmed", "confirmed", "confirmed", "waitlist"]


async def test_cancelling_an_event_tells_everyone_and_closes_it(
    pipeline: Pipeline, db: Database, people: dict[str, Member]
) -> None:
    await say(pipeline, "officer", CREATE)
    await say(pipeline, "zhang", "报名 A1")
    await say(pipeline, "li", "报名 A1")
    answer = await say(pipeline, "officer", "取消活动 A1 场地临时检修")
    assert answer.splitlines()[:2] == [
        "已取消活动 A1 教职工羽毛球赛（原因：场地临时检修）。", "共有 2 人报名，已私信通知其中 1 人。",
    ]
    assert "请另行告知：李四。" in answer
    told = await outbox(db, "event:A1:cancelled:%")
    assert [key for key, _, _ in told] == [
        f"event:A1:cancelled:member:{people['zhang'].id}", "event:A1:cancelled:chat:1",
    ]
    assert "原因：场地临时检修" in told[0][2]
    again = await say(pipeline, "officer", "取消活动 A1")
    assert again.startswith("A1 已于 ")
    assert again.endswith("由王干部取消（原因：场地临时检修），不能重复取消。")
    closed = await say(pipeline, "zhao", "报名 A1")
    assert closed.startswith("A1 已于 ")
    assert closed.endswith("取消（原因：场地临时检修），不能再报名了。发送「活动」看看其他活动。")
    assert "已取消" in await say(pipeline, "zhang", "活动 A1")


async def test_refusals_on_a_cancelled_event_name_the_cancellation_and_the_command(
    pipeline: Pipeline, db: Database, people: dict[str, Member]
) -> None:
    await say(pipeline, "officer", CREATE)
    await say(pipeline, "zhang", "报名 A1")
    await say(pipeline, "officer", "取消活动 A1 下雨")
    async with db.read() as session:
        at = (await session.scalar(select(Event.cancelled_at))).astimezone(ZoneInfo("Asia/Shanghai"))
    weekday = "一二三四五六日"[at.weekday()]
    cancelled = f"A1 已于 {at.month}月{at.day}日（周{weekday}）{at:%H:%M} "
    assert await say(pipeline, "officer", "修改活动 A1 名额 40") == (
        cancelled + "由王干部取消（原因：下雨），不能再修改了。"
    )
    assert await say(pipeline, "zhang", "取消报名 A1") == (
        cancelled + "取消（原因：下雨），你的报名已随活动一起取消，无需再取消报名。"
    )
    assert await say(pipeline, "zhang", "报名 A1") == (
        cancelled + "取消（原因：下雨），你的报名已随活动一起取消。发送「活动」看看其他活动。"
    )
    assert await say(pipeline, "zhang", "签到 A1") == cancelled + "取消（原因：下雨），不需要签到了。"
    assert "不能再报名或签到" not in await say(pipeline, "officer", "取消活动 A1")


async def test_a_second_withdrawal_says_it_was_withdrawn_and_never_is_told_apart(
    pipeline: Pipeline, db: Database, people: dict[str, Member]
) -> None:
    await say(pipeline, "officer", CREATE)
    await say(pipeline, "zhang", "报名 A1")
    assert (await say(pipeline, "zhang", "取消报名 A1")).startswith("已取消你在 A1 ")
    assert await say(pipeline, "zhang", "取消报名 A1") == (
        "你已经取消过 A1 的报名了，无需再次取消。发送「活动 A1」可以查看活动情况。"
    )
    never = await say(pipeline, "qian", "取消报名 A1")
    assert never == "你没有报名 A1，无需取消。发送「活动 A1」可以查看活动情况。"
    assert (await say(pipeline, "zhang", "签到 A1")).startswith("你已经取消了 A1 的报名，不能签到。")


async def test_after_the_deadline_one_signed_up_is_told_their_sign_up_stands(
    pipeline: Pipeline, db: Database, people: dict[str, Member], clock: FrozenClock
) -> None:
    await say(pipeline, "officer", CREATE)
    await say(pipeline, "zhang", "报名 A1")
    async with db.write() as session:
        await session.execute(update(Event).values(deadline=clock() - timedelta(minutes=1)))
    amend = await say(pipeline, "zhang", "报名 A1 +1")
    assert "截止，不能再修改报名了，你的报名保持不变。" in amend
    late = await say(pipeline, "qian", "报名 A1")
    assert "截止，不能再报名了。" in late and "保持不变" not in late


async def test_an_event_that_has_ended_is_called_ended_not_started(
    pipeline: Pipeline, db: Database, people: dict[str, Member], clock: FrozenClock
) -> None:
    await say(pipeline, "officer", CREATE)
    await say(pipeline, "zhang", "报名 A1")
    async with db.write() as session:  # started an hour ago, ends in an hour
        start = clock() - timedelta(hours=1)
        await session.execute(update(Event).values(starts_at=start, ends_at=start + timedelta(hours=2)))
    started = await say(pipeline, "zhang", "取消报名 A1")
    assert started.startswith("A1 已于 ") and "开始，不能再取消报名了。" in started
    async with db.write() as session:  # ended an hour ago
        await session.execute(update(Event).values(ends_at=clock() - timedelta(hours=1)))
    for sender, words, tail in (
        ("zhang", "取消报名 A1", "结束，不能再取消报名了。"),
        ("officer", "修改活动 A1 名额 40", "结束，不能再修改了。"),
        ("officer", "取消活动 A1", "结束，不能再取消了。"),
        ("qian", "报名 A1", "结束，不能再报名了。发送「活动」看看近期的其他活动。"),
        ("qian", "签到 A1", "结束，签到已关闭。"),
    ):
        answer = await say(pipeline, sender, words)
        assert answer.startswith("A1 已于 ") and answer.endswith(tail), answer
        assert "开始" not in answer


# ---------------------------------------------------------------- views


async def test_views_show_places_and_own_status_and_hide_phones_in_groups(
    pipeline: Pipeline, db: Database, people: dict[str, Member]
) -> None:
    await say(pipeline, "officer", CREATE + " 填写 尺码")
    await say(pipeline, "zhang", "报名 A1 +1 尺码 L 素食")
    await say(pipeline, "qian", "报名 A1 尺码 M")
    listing = await say(pipeline, "qian", "活动")
    assert listing.splitlines()[1].endswith("｜体育馆｜名额已满，可候补（你在候补）")
    detail = await say(pipeline, "zhang", "活动 A1")
    assert "报名情况：已占 2 个名额（含家属），剩 0 个，候补 1 人。" in detail
    assert "你的报名：第 1 位，本人和 1 位家属，共 2 人，备注：素食。" in detail
    in_group = await say(pipeline, "officer", "名单 A1", chat_type="group")
    assert in_group.splitlines()[1:] == [
        "正式报名 1 人，另带家属 1 人，共占 2/2 个名额。",
        "1. 张三（计算机学院分工会） +1 尺码：L｜素食",
        "候补 1 人：",
        "1. 钱七（计算机学院分工会） 尺码：M",
    ]
    private = await say(pipeline, "officer", "名单 A1")
    assert "1. 张三（计算机学院分工会） 13800000000 +1 尺码：L｜素食" in private
    assert await say(pipeline, "zhang", "名单 A1") == "「名单」需要干部身份才能使用。如有疑问请联系工会干部。"
    assert "不在报名范围内" not in await say(pipeline, "sun", "活动")  # 机关 does not see A1
    assert "A1" not in await say(pipeline, "sun", "活动")


async def test_export_answers_with_a_private_expiring_link(
    pipeline: Pipeline, db: Database, people: dict[str, Member], clock: FrozenClock
) -> None:
    await say(pipeline, "officer", CREATE)
    reply = await pipeline.handle(message("导出 A1", sender="officer"))
    assert reply is not None and reply.file_url is not None
    assert reply.file_url.startswith("https://union.example.edu.cn/files/")
    assert len(reply.file_url.rsplit("/", 1)[1]) == 32
    assert reply.text.startswith("A1 教职工羽毛球赛报名名单（XLSX，现有 0 条报名）下载链接如下，60 分钟")
    csv_reply = await pipeline.handle(message("导出 A1 csv", sender="officer"))
    assert csv_reply is not None and "（CSV，" in csv_reply.text
    async with db.read() as session:
        links = (await session.execute(select(DownloadLink.fmt, DownloadLink.expires_at))).all()
    assert [fmt for fmt, _ in links] == ["xlsx", "csv"]
    assert [at for _, at in links] == [clock() + timedelta(minutes=60)] * 2
    in_group = await say(pipeline, "officer", "导出 A1", chat_type="group")
    assert in_group == "「导出」只能私聊使用，请私聊机器人发送。"


async def test_check_in_from_the_margin_before_the_start(
    pipeline: Pipeline, db: Database, people: dict[str, Member], clock: FrozenClock
) -> None:
    await say(pipeline, "officer", CREATE)
    await say(pipeline, "zhang", "报名 A1")
    await say(pipeline, "qian", "报名 A1 +1")
    assert (await say(pipeline, "zhang", "签到 A1")).startswith("A1 的签到从 ")
    async with db.write() as session:  # the event now starts in ten minutes
        start = clock() + timedelta(minutes=10)
        await session.execute(update(Event).values(starts_at=start, ends_at=start + timedelta(hours=2)))
    done = await say(pipeline, "zhang", "签到")
    assert done.startswith("签到成功！A1 教职工羽毛球赛，本人 1 人，签到时间 ")
    assert (await say(pipeline, "zhang", "签到 A1")).startswith("你已经在 ")
    assert await say(pipeline, "qian", "签到 A1") == (
        "你在 A1 的候补名单上，还没有正式名额，不能签到。如已到场，请找现场的工会干部。"
    )
    assert "已签到 1 人" in await say(pipeline, "officer", "名单 A1")
    assert "✓已签到" in await say(pipeline, "officer", "名单 A1")


async def test_statistics_of_the_current_year(
    pipeline: Pipeline, db: Database, people: dict[str, Member], clock: FrozenClock
) -> None:
    await say(pipeline, "officer", CREATE)
    answer = await say(pipeline, "officer", "活动统计")
    year = clock.now.astimezone(ZoneInfo("Asia/Shanghai")).year
    assert answer.splitlines()[0].startswith(f"{year} 年活动统计（截至 ")
    assert "这一年还没有举办过活动。" in answer
    past = await say(pipeline, "officer", "活动统计 2020年")
    assert past == "2020 年活动统计\n这一年还没有举办过活动。"


# ---------------------------------------------------------------- bad input changes nothing


@pytest.mark.parametrize(
    ("sender", "words", "expected"),
    [
        ("zhang", "报名 A1 +9", "A1 每人最多带 1 位家属，你写了 9 位。"),
        ("zhang", "报名 A1 -1", "家属人数不能是负数（「-1」）。"),
        ("zhang", "报名 A1 +abc", "「+abc」不是家属人数。"),
        ("zhang", "报名 A1 +", "「+」不是家属人数。"),
        ("zhang", "报名 A99", "没有编号为 A99 的活动。"),
        ("zhang", "报名 A0", "「A0」不是活动编号。"),
        ("zhang", "报名 A99999999999", "不是活动编号。"),
        ("zhang", "报名 3", "「3」不是活动编号。"),
        ("zhang", "报名 A1 " + "长" * 101, "备注最多 100 个字，你写了 101 个字"),
        ("sun", "报名 A1", "A1 只面向计算机学院分工会，你不在报名范围内。"),
        ("zhang", "取消报名 A1", "你没有报名 A1，无需取消。"),
        ("zhang", "签到 A1", "你没有报名 A1，不能签到。"),
        ("zhang", "发起活动 x 时间 明天 10:00 地点 y 名额 3", "「发起活动」需要干部身份才能使用。"),
        ("officer", "发起活动 " + "名" * 41 + " 时间 明天 10:00 地点 y 名额 3", "活动名称最多 40 个字"),
        ("officer", "发起活动 x 时间 明天 10:00 地点 y 名额 0", "名额「0」不对：请写 1 到 5000 之间的人数"),
        ("officer", "发起活动 x 时间 明天 10:00 地点 y 名额 999999", "名额「999999」不对"),
        ("officer", "发起活动 x 时间 明天 10:00 地点 y 名额 -5", "名额「-5」不对"),
        ("officer", "发起活动 x 时间 2020-01-01 10:00 地点 y 名额 3", "已经过去了"),
        ("officer", "发起活动 x 时间 明天 14:00-13:00 地点 y 名额 3", "不能早于开始时间"),
        ("officer", "发起活动 x 时间 明天 10:00 地点 y 名额 3 截止 后天 9:00", "晚于活动开始时间"),
        ("officer", "发起活动 x 时间 明天 10:00 地点 y 名额 3 可带 99", "“可带”「99」不对"),
        ("officer", "发起活动 x 时间 明天 10:00 地点 y 名额 3 对象 火星学院", "没有叫「火星学院」的分工会"),
        ("officer", "发起活动 x 时间 明天 10:00 地点 y 名额 3 名额 4", "「名额」写了两次"),
        ("officer", "修改活动 A1", "请写出要改的项目，例如：修改活动 A1 名额 40"),
        ("officer", "修改活动 A1 随便改改", "看不懂「随便改改」"),
        ("officer", "修改活动 A1 名额 很多", "名额「很多」不对"),
        ("officer", "修改活动 A1 时间 2020-01-01 10:00", "已经过去了"),
        ("officer", "取消活动", "「取消活动」后面还要写上内容，用法：取消活动 <编号> [原因]"),
        ("officer", "取消活动 A1 " + "因" * 201, "原因最多 200 个字"),
        ("officer", "活动统计 1999", "年度「1999」不对"),
        ("officer", "导出 A1 pdf", "不能导出成「pdf」"),
        ("officer", "名单", "「名单」后面还要写上内容，用法：名单 <编号>，例如：名单 A1"),
    ],
)
async def test_bad_input_gets_one_sentence_and_changes_nothing(
    pipeline: Pipeline, db: Database, people: dict[str, Member], sender: str, words: str, expected: str
) -> None:
    await say(pipeline, "officer", CREATE)
    before = await counts(db)
    async with db.read() as session:
        event_before = (await session.scalar(select(Event))).model_dump()  # type: ignore[union-attr]
    answer = await say(pipeline, sender, words)
    assert expected in answer
    assert "\n" not in answer
    assert await counts(db) == before
    async with db.read() as session:
        assert (await session.scalar(select(Event))).model_dump() == event_before  # type: ignore[union-attr]


async def test_with_no_chat_of_the_audience_the_officer_is_told(
    pipeline: Pipeline, db: Database, people: dict[str, Member]
) -> None:
    await make_member(db, "10090", "陈主席", branch="示范大学工会", roles=[Role.OFFICER],
                      accounts=[("console", "chen")])
    answer = await say(pipeline, "chen", CREATE + " 对象 机关分工会")
    assert answer.endswith("已在 1 个群发出通知：机关教职工群。")
    async with db.write() as session:
        await session.execute(update(Chat).values(branch_id=None))
    answer = await say(pipeline, "chen", CREATE + " 对象 机关分工会")
    assert answer.endswith("还没有属于这个范围的群登记在机器人里，请把报名方式转告大家。")
    assert answer.startswith("已发起活动 A2 ")


async def test_statistics_of_a_past_year_for_the_work_report(
    pipeline: Pipeline, db: Database, people: dict[str, Member], clock: FrozenClock
) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    async with db.write() as session:
        for number, (month, branch, status) in enumerate(
            [(3, None, "open"), (5, people["zhang"].branch_id, "open"), (6, None, "cancelled")], start=1
        ):
            event = Event(number=number, title=f"活动{number}", place="操场", capacity=50,
                          starts_at=datetime(2025, month, 8, 14, tzinfo=tz), audience_branch_id=branch,
                          status=status)
            session.add(event)
            await session.flush()
            for seq, who in enumerate(("zhang", "li", "sun"), start=1):
                session.add(Signup(event_id=event.id or 0, member_id=people[who].id or 0, seq=seq,
                                   place_seq=seq, status="confirmed", guests=1 if who == "li" else 0,
                                   checked_in_at=clock() if who != "sun" else None))
    answer = await say(pipeline, "officer", "活动统计 2025")
    assert answer.splitlines() == [
        "2025 年活动统计",
        "全年开展活动 2 场次，报名 8 人次，签到 6 人次，共 2 位教职工签到参加。",
        "另有 1 场已取消，不计在内。",
        "各分工会（场次按活动面向的单位，人次按报名者所在的分工会）：",
        "· 全校性活动：1 场次（参加人次计入各人所在的分工会）",
        "· 计算机学院分工会：1 场次，报名 6 人次，签到 6 人次",
        "· 机关分工会：0 场次，报名 2 人次，签到 0 人次",
    ]
