"""The console channel: ``unionbot chat`` — one message per line from stdin, replies to stdout.

It runs the same pipeline as the platforms. ``--as`` is the console user's id: when it is
a 工号 from the roster, the console account is bound to that member automatically;
any other id starts unbound and can try ``绑定``.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import TextIO

from bot.config import Settings
from bot.messages import Incoming, Reply
from bot.pipeline import Pipeline
from bot.render import say
from models.db import Database
from models.members import account_by_external, account_of_member, member_by_staff_no
from models.org import Account

CHANNEL = "console"


async def console_identity(db: Database, user: str) -> str:
    """The console account id to speak as; binds ``user`` when it is an active 工号."""
    async with db.write() as session:
        if await account_by_external(session, CHANNEL, user) is not None:
            return user
        member = await member_by_staff_no(session, user)
        if member is None or not member.active:
            return user
        existing = await account_of_member(session, member.id or 0, CHANNEL)
        if existing is not None:
            return str(existing.external_id)
        session.add(Account(channel=CHANNEL, external_id=user, member_id=member.id or 0))
        return user


def format_reply(reply: Reply, speaker: str, group: str | None) -> str:
    prefix = f"@{speaker} " if group and reply.mention_sender else ""
    text = prefix + reply.text
    if reply.file_url:
        text += f"\n{reply.file_url}"
    return text


async def run_console(
    *, pipeline: Pipeline, settings: Settings, user: str, group: str | None,
    stdin: TextIO | None = None, stdout: TextIO | None = None,
) -> int:
    """Read messages until end of input (default: the process's stdin and stdout, as they
    are when called); return the number of messages sent."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    speaker = await console_identity(pipeline.db, user)
    interactive = stdin.isatty()
    if interactive:
        greeting = say("console", "greeting", bot_name=settings.union.bot_name, group=group, user=user)
        print(greeting, file=stdout)
    loop = asyncio.get_running_loop()
    count = 0
    while True:
        if interactive:
            print("> ", end="", file=stdout, flush=True)
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        if not line.strip():
            continue
        count += 1
        incoming = Incoming(
            channel=CHANNEL,
            chat_id=f"group:{group}" if group else f"private:{speaker}",
            chat_type="group" if group else "private",
            sender_id=speaker,
            text=line.rstrip("\n"),
            message_id=uuid.uuid4().hex,
            chat_name=group,
        )
        reply = await pipeline.handle(incoming)
        if reply is not None:
            print(format_reply(reply, user, group), file=stdout, flush=True)
        elif interactive:
            print(say("console", "ignored"), file=stdout, flush=True)
    return count
