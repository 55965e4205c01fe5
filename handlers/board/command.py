"""``公开栏``: the board's address; in members mode a personal signed link, given only in
private chat (in a group it says to ask privately, so no personal link is ever posted)."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.registry import Command, Registry
from bot.render import say
from handlers.board import links
from handlers.board.pages import BASE


def register(registry: Registry) -> None:
    registry.add(Command(
        name="公开栏", aliases=("公开栏链接", "board"), handler=board_command, topic="notices",
        allow_unbound=True, args_optional=True,
        summary="得到公开栏网页（公告、公示、金点子、提案、活动）的个人链接，请私聊发送",
        usage="公开栏", example="公开栏",
    ))


def address(ctx: Context) -> str:
    return ctx.settings.server.public_url.rstrip("/") + BASE


async def board_command(ctx: Context, args: str) -> str:
    board = ctx.settings.board
    if board.access == "public":
        return say("board", "public_link", url=address(ctx))
    if ctx.is_group:
        return say("board", "ask_privately", bot=ctx.settings.union.bot_name)
    if ctx.member is None or ctx.member.id is None:
        return say("board", "bind_first")
    expires = ctx.now + timedelta(days=board.link_days)
    token = links.sign(board.key_file, ctx.member.id, int(expires.timestamp()))
    return say("board", "personal_link", url=f"{address(ctx)}enter?t={token}",
               until=expires.astimezone(ctx.tz), days=board.link_days)
