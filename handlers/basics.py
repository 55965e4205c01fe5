"""Basics: 帮助 (help), 绑定 (bind a chat account to a member), 我 (who am I)."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from bot import dialogs
from bot.args import split_args
from bot.context import Context
from bot.errors import UserError
from bot.registry import Command, Registry
from bot.render import say
from bot.text import shown
from models.base import execute_core, table_of
from models.members import (
    account_by_external,
    account_of_member,
    branch_name,
    channels_of_member,
    member_by_staff_no,
)
from models.org import Account, Role, role_allows

STAFF_NO = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
GUESSED_WORDS = {  # words people try for a command
    "报名": ("join", "signup", "参加", "参与", "我要报名"),
    "活动": ("events", "event", "活动安排", "最近活动"),
    "绑定": ("bind", "注册", "认证"),
    "我": ("me", "whoami", "我是谁"),
    "提案": ("提交提案", "写提案", "我要提案"),
    "取消报名": ("不去了", "退出活动"),
    "节日": ("慰问", "节日慰问", "放假"),
}
PLANNED_WORDS: dict[str, tuple[str, ...]] = {}  # capabilities this version does not have yet
TOPIC_ORDER = ("basics", "proposals", "events", "funds", "ideas", "notices", "calendar")


def register(registry: Registry) -> None:
    registry.add(Command(
        name="帮助", aliases=("help", "菜单", "menu", "?"), handler=partial(help_command, registry),
        allow_unbound=True,
        summary="查看能用的命令，或某个命令的用法", usage="帮助 [命令]", example="帮助 绑定",
    ))
    registry.add(Command(
        name="绑定", aliases=("绑定工号",), handler=bind_command, allow_unbound=True,
        args_optional=True,
        summary="把本平台账号绑定到你的工号", usage="绑定 <工号> <姓名>",
        example="绑定 10001 张三",
    ))
    registry.add(Command(
        name="我", aliases=("我的信息", "个人信息"), handler=me_command,
        summary="查看自己的姓名、分工会和身份", usage="我", example="我",
    ))
    registry.add_dialog(BIND_DIALOG)
    for command, words in GUESSED_WORDS.items():
        registry.add_synonyms(command, words)
    for topic, words in PLANNED_WORDS.items():
        registry.add_planned(topic, words)


# ---------------------------------------------------------------- 帮助


async def help_command(registry: Registry, ctx: Context, args: str) -> str:
    """帮助 lists the commands of ``registry`` the sender may use, or explains one."""
    groups = _usable_by_topic(registry, ctx)
    if args:
        word = args.split()[0]
        for topic, commands in groups.items():
            if word == say("basics", "topic_label", topic=topic):
                return say("basics", "help_topic", topic=topic, group=commands)
        return _help_for(registry, ctx, word)
    return say("basics", "help_list", groups=list(groups.items()), bound=ctx.member is not None)


def _usable_by_topic(registry: Registry, ctx: Context) -> dict[str, list[Command]]:
    """The commands the sender may use, by topic in ``TOPIC_ORDER``."""
    usable = [c for c in registry.commands() if _may_use(ctx, c)]
    usable.sort(key=lambda c: TOPIC_ORDER.index(c.topic) if c.topic in TOPIC_ORDER else 99)
    groups: dict[str, list[Command]] = {}
    for command in usable:
        groups.setdefault(command.topic, []).append(command)
    return groups


def _help_for(registry: Registry, ctx: Context, word: str) -> str:
    found = registry.match(word)
    if found is None:
        raise UserError(say("basics", "help_unknown", word=word))
    command = found[0]
    if not _may_use(ctx, command):
        if ctx.member is None:
            raise UserError(say("basics", "bind_first"))
        raise UserError(say("basics", "denied", command=command.name, role=command.role.label))
    return say("basics", "help_one", command=command)


def _may_use(ctx: Context, command: Command) -> bool:
    if command.allow_unbound:
        return True
    return ctx.member is not None and role_allows(command.role, ctx.roles)


# ---------------------------------------------------------------- 绑定


def parse_staff_no(text: str) -> str:
    value = text.strip()
    if not STAFF_NO.match(value):
        raise UserError(say("basics", "bad_staff_no", text=shown(value, 40)))
    return value


def parse_name(text: str) -> str:
    value = " ".join(text.split())
    if not value or len(value) > 64:
        raise UserError(say("basics", "bad_name"))
    return value


BIND_DIALOG = dialogs.Dialog(
    name="bind",
    steps=(
        dialogs.Step("staff_no", ("basics", "ask_staff_no"), parse_staff_no),
        dialogs.Step("name", ("basics", "ask_name"), parse_name),
    ),
    finish=lambda ctx, values: bind(ctx, values["staff_no"], values["name"], None),
    command="绑定",
)


async def bind_command(ctx: Context, args: str) -> Any:
    parts = split_args(args)
    officer = ctx.has_role(Role.OFFICER)
    if ctx.member is not None and not officer and len(parts) < 2:
        return say("basics", "bind_already", name=ctx.member.name, other=False)
    target: str | None = None
    if officer and len(ctx.incoming.mentions) == 1:
        target = ctx.incoming.mentions[0]
    elif len(parts) >= 3 and not await _is_full_name(ctx, parts):
        if not officer:
            raise UserError(say("basics", "bind_others_officer_only"))
        target = parts.pop()
    if len(parts) < 2:
        if not ctx.is_group:
            values = {"staff_no": parse_staff_no(parts[0])} if parts else {}
            return await dialogs.start(ctx, BIND_DIALOG, values)
        raise UserError(say("basics", "bind_usage"))
    staff_no = parse_staff_no(parts[0])
    name = parse_name(" ".join(parts[1:]))
    return await bind(ctx, staff_no, name, target)


async def _is_full_name(ctx: Context, parts: list[str]) -> bool:
    """``绑定 10009 John Smith``: is everything after the 工号 the member's name?"""
    member = await member_by_staff_no(ctx.session, parts[0])
    return member is not None and member.name == " ".join(parts[1:])


async def bind(ctx: Context, staff_no: str, name: str, target: str | None) -> str:
    """Bind ``target`` (an officer naming someone) or the sender's account to a member."""
    session, channel = ctx.session, ctx.incoming.channel
    external_id = target or ctx.incoming.sender_id
    by_officer = target is not None and target != ctx.incoming.sender_id
    member = await member_by_staff_no(session, staff_no)
    if member is None or not member.active or member.name != name:
        raise UserError(say("basics", "bind_mismatch"))
    current = await account_by_external(session, channel, external_id)
    if current is not None and current.member_id == member.id:
        return say("basics", "bind_already", name=member.name, other=by_officer)
    if current is not None and not by_officer:
        raise UserError(say("basics", "bind_account_taken"))
    previous = await account_of_member(session, member.id or 0, channel)
    if previous is not None and not by_officer:
        raise UserError(say("basics", "bind_member_taken", staff_no=staff_no))
    before = {
        "account_member": current.member_id if current else None,
        "member_account": previous.external_id if previous else None,
    }
    for stale in (current, previous):
        if stale is not None:
            await session.delete(stale)
            await session.flush()
    try:
        await execute_core(session, insert(table_of(Account)), {
            "channel": channel, "external_id": external_id, "member_id": member.id,
            "bound_at": ctx.now, "bound_by": ctx.member.id if by_officer and ctx.member else None,
        })
    except IntegrityError:
        raise UserError(say("basics", "bind_member_taken", staff_no=staff_no)) from None
    await ctx.audit(
        "bind", f"member:{staff_no}", actor=ctx.member or member, before=before,
        after={"channel": channel, "account": external_id},
    )
    return say(
        "basics", "bind_ok", name=member.name, branch=await branch_name(session, member.branch_id),
        other=by_officer, account=external_id,
    )


# ---------------------------------------------------------------- 我


async def me_command(ctx: Context, args: str) -> str:
    member = ctx.member
    assert member is not None
    channels = await channels_of_member(ctx.session, member.id or 0)
    roles = [r.label for r in Role if r in ctx.roles and r is not Role.MEMBER] or [Role.MEMBER.label]
    return say(
        "basics", "me", member=member, branch=await branch_name(ctx.session, member.branch_id),
        roles=roles, private=not ctx.is_group, channels=channels,
    )

