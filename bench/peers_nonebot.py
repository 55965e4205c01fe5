"""NoneBot2 + adapter-onebot (v11) doing what unionbot's ``提案`` does, for ``bench/peers.py``.

Runs in the throwaway venv ``bench/.peers-venv`` (never the project's), configured
through the environment by ``bench/peers.py`` (``DRIVER=~fastapi+~aiohttp``, port,
``ONEBOT_SECRET`` for HTTP POST, ``ONEBOT_ACCESS_TOKEN`` for the reverse WebSocket at
``/onebot/v11/ws``, ``ONEBOT_API_ROOTS`` for replies to HTTP POST events, ``PEERS_DB``).

The plugin: ``提案 标题：… 理由：… 建议：…`` in a group → the same fields checked,
the year's next number, one row inserted into SQLite and committed, and a reply
naming the number, @-ing the sender.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

FIELDS = re.compile(r"(标题|理由|建议)[：:]")
SCHEMA = """CREATE TABLE IF NOT EXISTS proposal (
    id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, year INTEGER NOT NULL, seq INTEGER NOT NULL,
    title TEXT NOT NULL, reason TEXT NOT NULL, suggestion TEXT NOT NULL, proposer TEXT NOT NULL,
    group_id TEXT NOT NULL, message_id TEXT NOT NULL UNIQUE, status TEXT NOT NULL, filed_at TEXT NOT NULL)"""


def read_fields(text: str) -> dict[str, str]:
    parts = FIELDS.split(text)
    fields = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if parts[0].strip() and "标题" not in fields:
        fields["标题"] = parts[0].strip()
    return fields


def plugin() -> None:
    from nonebot import on_command
    from nonebot.adapters.onebot.v11 import GroupMessageEvent, Message
    from nonebot.params import CommandArg

    db = sqlite3.connect(os.environ["PEERS_DB"], isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(SCHEMA)
    propose = on_command("提案", block=True)

    @propose.handle()
    async def file(event: GroupMessageEvent, args: Message = CommandArg()) -> None:  # noqa: B008
        fields = read_fields(args.extract_plain_text())
        missing = [key for key in ("标题", "理由", "建议") if not fields.get(key)]
        if missing:
            await propose.finish(f"提案还缺少：{'、'.join(missing)}", at_sender=True)
        if len(fields["标题"]) > 60 or len(fields["理由"]) > 2000 or len(fields["建议"]) > 2000:
            await propose.finish("提案内容太长了", at_sender=True)
        now = datetime.now(UTC)
        db.execute("BEGIN IMMEDIATE")
        try:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM proposal WHERE year = ?",
                             (now.year,)).fetchone()[0]
            number = f"T{now.year}-{seq:03d}"
            db.execute(
                "INSERT INTO proposal (number, year, seq, title, reason, suggestion, proposer, group_id, "
                "message_id, status, filed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'cosigning', ?)",
                (number, now.year, seq, fields["标题"], fields["理由"], fields["建议"], str(event.user_id),
                 str(event.group_id), f"{event.group_id}:{event.message_id}", now.isoformat()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        await propose.finish(f"提案已提交，编号 {number}《{fields['标题']}》。", at_sender=True)


def main() -> None:
    import nonebot
    from nonebot.adapters.onebot.v11 import Adapter

    nonebot.init()
    nonebot.get_driver().register_adapter(Adapter)
    sys.path.insert(0, str(Path(__file__).parent))
    nonebot.load_plugin("peers_nonebot")
    nonebot.run()


if __name__ == "__main__":
    main()
elif __name__ == "peers_nonebot":  # loaded by nonebot as the plugin
    plugin()
