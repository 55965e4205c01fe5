"""The ``unionbot`` command line (verbs of DESIGN §7)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli.common import progress_bar, settings_of, setup_logging
from bot.cli.i18n import Parser, chinese_argparse, number_of
from bot.config import Settings
from bot.errors import ConfigError

logger = logging.getLogger(__name__)




# ---------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.app import create_app, for_serving
    from bot.server import serve_until_stopped

    settings = settings_of(args)
    setup_logging(settings)
    asyncio.run(serve_until_stopped(for_serving(create_app(settings)), settings))
    return 0


# ---------------------------------------------------------------- chat


def cmd_chat(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    setup_logging(settings, quiet=True)
    asyncio.run(_chat(settings, args.user, args.group))
    return 0


async def _chat(settings: Settings, user: str, group: str | None) -> None:
    from bot.app import open_database
    from bot.channels.console import run_console
    from bot.metrics import Metrics
    from bot.pipeline import Pipeline
    from handlers import build_registry
    async with open_database(settings) as db:
        pipeline = Pipeline(
            db=db, settings=settings, registry=build_registry(), metrics=Metrics()
        )
        await run_console(pipeline=pipeline, settings=settings, user=user, group=group)


# ---------------------------------------------------------------- members import


def cmd_members_import(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    setup_logging(settings, quiet=True)
    return asyncio.run(_members_import(settings, args))





async def _members_import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import open_database
    from models.roster import RosterError, import_roster

    async with open_database(settings) as db:
        try:
            report = await import_roster(
                db=db, path=Path(args.file), union_name=settings.union.name,
                dry_run=args.dry_run, deactivate_missing=args.deactivate_missing,
                progress=progress_bar("导入名册"),
            )
        except RosterError as exc:
            print(f"导入失败：{exc}", file=sys.stderr)
            return 2
    print(report.summary())
    return 1 if report.rejected else 0


# ---------------------------------------------------------------- db upgrade


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    setup_logging(settings, quiet=True)
    print(asyncio.run(_db_upgrade(settings)))
    return 0


async def _db_upgrade(settings: Settings) -> str:
    from models import migrate
    from models.db import Database

    db = Database(settings.database.url)
    try:
        await migrate.upgrade(db)
        state = await migrate.status(db)
    finally:
        await db.dispose()
    return f"数据库已是最新结构（版本 {state['current']}）。"


# ---------------------------------------------------------------- proposals export


def cmd_proposals_export(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    setup_logging(settings, quiet=True)
    return asyncio.run(_proposals_export(settings, args.year, Path(args.file)))


async def _proposals_export(settings: Settings, year: int | None, path: Path) -> int:
    from datetime import datetime

    from bot.app import open_database
    from models.proposals.export import export_proposals

    tz = settings.union.tz
    today = datetime.now(tz).date()
    year = today.year if year is None else year
    if path.suffix.lower() != ".xlsx":
        print(f"导出失败：文件名要以 .xlsx 结尾，例如 提案{year}.xlsx", file=sys.stderr)
        return 2
    if not 2000 <= year <= 2100:
        print(f"导出失败：年度 {year} 不对，请写 2000 到 2100 之间的年份，例如 --year {today.year}",
              file=sys.stderr)
        return 2
    async with open_database(settings) as db:
        try:
            done = await export_proposals(db, path, year=year, tz=tz, today=today)
        except OSError as exc:
            print(f"导出失败：无法写入 {path}：{exc.strerror or exc}", file=sys.stderr)
            return 2
    print(f"已导出 {year} 年度提案 {done.count} 件及统计 → {path}")
    return 0


# ---------------------------------------------------------------- holidays


def cmd_holidays(args: argparse.Namespace) -> int:
    from models.calendar.festivals import format_year

    try:
        print(format_year(args.year))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


# ---------------------------------------------------------------- events export


def cmd_events_export(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    setup_logging(settings, quiet=True)
    return asyncio.run(_events_export(settings, args.code, Path(args.file)))


async def _events_export(settings: Settings, code: str, path: Path) -> int:
    from bot.app import open_database
    from models.events.export import export_roster
    from models.events.queries import event_by_number
    from models.events.tables import parse_code

    fmt = path.suffix.lower().lstrip(".")
    number = parse_code(code)
    if fmt not in ("xlsx", "csv"):
        print(f"导出失败：文件名要以 .xlsx 或 .csv 结尾，例如 {code}名单.xlsx", file=sys.stderr)
        return 2
    if number is None:
        print(f"导出失败：「{code}」不是活动编号，活动编号是 A 加数字，例如 A3", file=sys.stderr)
        return 2
    async with open_database(settings) as db, db.read() as session:
        event = await event_by_number(session, number)
        if event is None:
            print(f"导出失败：没有编号为 A{number} 的活动", file=sys.stderr)
            return 2
        built = await export_roster(session, event, tz=settings.union.tz, fmt=fmt)
    try:
        await asyncio.to_thread(path.write_bytes, built.data)
    except OSError as exc:
        print(f"导出失败：无法写入 {path}：{exc.strerror}", file=sys.stderr)
        return 2
    print(f"已导出 {event.code} {event.title}的报名名单：{built.rows} 条报名 → {path}")
    return 0


# ---------------------------------------------------------------- helpers





# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    common.add_argument(
        "--config", metavar="配置文件", default=None,
        help="配置文件（默认：当前目录下的 config.toml，没有则用内置默认值）",
    )
    parser = Parser(prog="unionbot", description="高校工会助手 unionbot")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="命令")

    serve = verbs.add_parser("serve", parents=[common], help="启动服务（webhook、公示页面、定时任务）")
    serve.set_defaults(func=cmd_serve)

    chat = verbs.add_parser("chat", parents=[common], help="在终端里和机器人对话（控制台渠道）")
    chat.add_argument("--as", dest="user", required=True, metavar="工号",
                      help="以这个工号的身份说话（不在名册中的名字则是未绑定的访客）")
    chat.add_argument("--group", metavar="群名", help="在这个群里说话（默认私聊）")
    chat.set_defaults(func=cmd_chat)

    members = verbs.add_parser("members", help="会员名册")
    member_verbs = members.add_subparsers(dest="members_verb", required=True, metavar="子命令")
    imp = member_verbs.add_parser("import", parents=[common], help="导入名册（CSV 或 XLSX）")
    imp.add_argument("file", metavar="名册文件", help="名册文件：.csv（UTF-8 或 GBK）或 .xlsx")
    imp.add_argument("--dry-run", action="store_true", help="只检查、不写入，报告将会发生的变化")
    imp.add_argument("--deactivate-missing", action="store_true",
                     help="把名册里没有的在册会员标记为停用（默认不动他们）")
    imp.set_defaults(func=cmd_members_import)

    db = verbs.add_parser("db", help="数据库")
    db_verbs = db.add_subparsers(dest="db_verb", required=True, metavar="子命令")
    up = db_verbs.add_parser("upgrade", parents=[common], help="把数据库结构升级到最新版本")
    up.set_defaults(func=cmd_db_upgrade)

    proposals = verbs.add_parser("proposals", help="教代会提案")
    proposal_verbs = proposals.add_subparsers(dest="proposals_verb", required=True, metavar="子命令")
    p_export = proposal_verbs.add_parser(
        "export", parents=[common], help="导出某一年度的全部提案和统计（XLSX）"
    )
    p_export.add_argument("--year", type=number_of(int, "--year 2026"), metavar="年度",
                          help="例如 2026（默认：今年）")
    p_export.add_argument("file", metavar="文件.xlsx", help="保存到的文件，以 .xlsx 结尾")
    p_export.set_defaults(func=cmd_proposals_export)

    holidays = verbs.add_parser("holidays", parents=[common], help="列出某一年的节日和放假安排")
    holidays.add_argument("year", metavar="年份", help="例如 2027")
    holidays.set_defaults(func=cmd_holidays)

    events = verbs.add_parser("events", help="活动报名")
    event_verbs = events.add_subparsers(dest="events_verb", required=True, metavar="子命令")
    export = event_verbs.add_parser("export", parents=[common], help="导出活动的报名名单（XLSX 或 CSV）")
    export.add_argument("code", metavar="编号", help="活动编号，例如 A3")
    export.add_argument("file", metavar="文件", help="保存到的文件：以 .xlsx 或 .csv 结尾")
    export.set_defaults(func=cmd_events_export)

    from bot.cli import funds as cli_funds
    from bot.cli import outbox as cli_outbox
    from bot.cli import scheduler as cli_scheduler
    cli_outbox.add_parsers(verbs, common)
    cli_scheduler.add_parsers(verbs, common)
    cli_funds.add_parsers(verbs, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with chinese_argparse():
        args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result

