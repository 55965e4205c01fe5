"""The data behind ``bench/board.py``: a large union seeded with bulk inserts.

A 校工会 with ten 分工会, 400 members (every one with a phone number, which no board page
may show), 10,000 proposals in every status with their departments, replies and co-signs,
1,000 公告 and 公示, one ledger of 100,000 chained entries over this year, 5,000 ideas
(one in four anonymous) with supports, and 40 upcoming events. Everything goes in with
``INSERT … VALUES`` of many rows at a time, so seeding takes seconds, not minutes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from funds import day_totals, entries
from ideas import seed_ideas
from sqlalchemy import insert, update

from models.base import table_of
from models.db import Database
from models.events.tables import Event, Signup
from models.funds.tables import FundDayTotal, FundEntry, FundLedger
from models.notices.tables import Notice, NoticeCounter
from models.org import Account, Branch, Member, MemberRole
from models.proposals.tables import (
    Proposal,
    ProposalAssignment,
    ProposalCosign,
    ProposalCounter,
    ProposalReply,
    Status,
    format_number,
)

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime.now(UTC)
YEAR = NOW.astimezone(TZ).year
BRANCHES = 10
MEMBERS = 400
OFFICER = "officer"  # the QQ account of the 校工会 officer (member id MEMBERS + 1)
MEMBER = "qq1"  # the QQ account of an ordinary member
DEPARTMENTS = ["教务处", "人事处", "科研处", "财务处", "后勤管理处", "国有资产管理处", "学生工作处"]
STATUS_MIX = [Status.CLOSED] * 4 + [Status.REPLIED, Status.ACCEPTED, Status.ACCEPTED, Status.REJECTED,
                                    Status.CONVERTED, Status.WITHDRAWN, Status.REVIEW, Status.COSIGNING]
REPLIED = (Status.REPLIED, Status.CLOSED)
ADMITTED = (Status.ACCEPTED, *REPLIED)


async def seed_people(db: Database) -> list[int]:
    """The branches, the members and their accounts; the member ids in order."""
    async with db.write() as session:
        await session.execute(insert(Branch), [{"id": 1, "name": "示范大学工会", "parent_id": None}] + [
            {"id": i + 2, "name": f"第{i + 1}学院分工会", "parent_id": 1} for i in range(BRANCHES)])
        await session.execute(insert(Member), [
            {"id": i + 1, "staff_no": f"{100000 + i}", "name": f"会员{i}",
             "branch_id": 1 + i % (BRANCHES + 1), "department": DEPARTMENTS[i % len(DEPARTMENTS)],
             "phone": f"139{i:08d}"}
            for i in range(MEMBERS)
        ] + [{"id": MEMBERS + 1, "staff_no": "900000", "name": "王干部", "branch_id": 1,
              "phone": "13912345678"}])
        roles = [{"member_id": i + 1, "role": "member"} for i in range(MEMBERS + 1)]
        roles += [{"member_id": i + 1, "role": "representative"} for i in range(MEMBERS)]
        roles += [{"member_id": MEMBERS + 1, "role": "officer"}]
        await session.execute(insert(MemberRole), roles)
        await session.execute(insert(Account), [
            {"channel": "onebot", "external_id": f"qq{i + 1}", "member_id": i + 1, "bound_at": NOW}
            for i in range(MEMBERS)
        ] + [{"channel": "onebot", "external_id": OFFICER, "member_id": MEMBERS + 1, "bound_at": NOW}])
    return list(range(1, MEMBERS + 1))


def _proposal(seq: int, cosigners: int, filed: datetime) -> dict[str, object]:
    status = STATUS_MIX[seq % len(STATUS_MIX)]
    return {
        "number": format_number(YEAR, seq), "year": YEAR, "seq": seq, "round_id": None,
        "title": f"关于改进第{seq}项工作的提案", "reason": "现状和问题" * 20, "suggestion": "具体建议" * 20,
        "category": None, "proposer_id": seq % MEMBERS + 1, "status": status.value,
        "cosigner_count": cosigners, "filed_at": filed, "handling_round": 1, "updated_at": filed,
        "lead_department": DEPARTMENTS[seq % len(DEPARTMENTS)] if status in ADMITTED else None,
        "deadline": date(YEAR, 4, 1) + timedelta(days=seq % 300) if status in ADMITTED else None,
        "replied_at": filed if status in REPLIED else None,
        "rating": ("satisfied", "fair", "unsatisfied")[seq % 3] if status is Status.CLOSED else None,
        "decided_at": filed if status not in (Status.COSIGNING, Status.REVIEW) else None,
    }


async def seed_proposals(db: Database, count: int) -> None:
    filed = datetime(YEAR, 3, 1, tzinfo=UTC)
    rows = [_proposal(seq, 2, filed) for seq in range(1, count + 1)]
    admitted = [(seq, row) for seq, row in enumerate(rows, 1) if row["lead_department"]]
    async with db.write() as session:
        for chunk in range(0, count, 2000):
            await session.execute(insert(Proposal), rows[chunk:chunk + 2000])
        await session.execute(insert(ProposalAssignment), [
            {"proposal_id": seq, "department": row["lead_department"], "lead": True}
            for seq, row in admitted])
        await session.execute(insert(ProposalReply), [
            {"proposal_id": seq, "department": row["lead_department"], "lead": True, "handling_round": 1,
             "outcome": "adopted",
             "content": "已研究，按建议落实。" * 5, "author_id": seq % MEMBERS + 1, "replied_at": filed}
            for seq, row in admitted if row["replied_at"] is not None])
        cosigns = [{"proposal_id": seq, "member_id": (seq + k) % MEMBERS + 1, "at": filed}
                   for seq in range(1, count + 1) for k in (1, 2)]
        for chunk in range(0, len(cosigns), 5000):
            await session.execute(insert(ProposalCosign), cosigns[chunk:chunk + 5000])
        await session.execute(insert(ProposalCounter).values(year=YEAR, seq=count))


def _notice(seq: int) -> dict[str, object]:
    disclosure = seq % 2 == 0
    published = NOW - timedelta(hours=seq * 5)
    number = seq // 2 if disclosure else (seq + 1) // 2
    return {
        "number": f"{'S' if disclosure else 'G'}{number}",
        "kind": "disclosure" if disclosure else "announcement", "seq": number,
        "branch_id": 1 + seq % (BRANCHES + 1), "author_id": MEMBERS + 1,
        "title": f"第{number}号公示：评优结果" if disclosure else "", "body": "公开的内容。" * 40,
        "category": "评优" if disclosure else None, "state": "published",
        "publish_at": published, "published_at": published,
        "ends_at": published + timedelta(days=7) if disclosure else None, "estimated": False,
        "created_at": published,
    }


async def seed_notices(db: Database, count: int) -> None:
    async with db.write() as session:
        await session.execute(insert(Notice), [_notice(seq) for seq in range(1, count + 1)])
        await session.execute(insert(NoticeCounter), [
            {"prefix": "S", "seq": count // 2}, {"prefix": "G", "seq": count - count // 2}])


async def seed_ledger(db: Database, count: int) -> None:
    """The 校工会's ledger: ``count`` chained entries from 1 January to today."""
    async with db.write() as session:
        ledger = FundLedger(branch_id=1, opened_on=date(YEAR, 1, 1))
        session.add(ledger)
        await session.flush()
        rows, head, balance = entries(ledger.id or 0, count)
        for chunk in range(0, len(rows), 5000):
            await session.execute(insert(table_of(FundEntry)), rows[chunk:chunk + 5000])
        await session.execute(insert(table_of(FundDayTotal)), day_totals(rows))
        await session.execute(update(table_of(FundLedger)).values(
            entry_count=count, head_hash=head, balance_fen=balance))


async def seed_events(db: Database, count: int) -> None:
    async with db.write() as session:
        await session.execute(insert(Event), [
            {"id": n, "number": n, "title": f"第{n}期教职工羽毛球活动", "place": "体育馆二楼",
             "starts_at": NOW + timedelta(days=3 + n), "capacity": 30, "audience_branch_id": 1 + n % 3,
             "status": "open", "created_by": MEMBERS + 1, "places_taken": n % 20,
             "confirmed_count": n % 20, "last_seq": n % 20, "last_place": n % 20}
            for n in range(1, count + 1)])
        await session.execute(insert(Signup), [
            {"event_id": n, "member_id": k + 1, "seq": k + 1, "place_seq": k + 1, "status": "confirmed",
             "signed_up_at": NOW}
            for n in range(1, count + 1) for k in range(n % 20)])


async def seed_all(db: Database, *, proposals: int, notices: int, entries: int, ideas: int,
                   key: Path) -> None:
    members = await seed_people(db)
    await seed_proposals(db, proposals)
    await seed_notices(db, notices)
    await seed_ledger(db, entries)
    await seed_ideas(db, members, ideas, ideas * 4, key)
    await seed_events(db, 40)
