"""A sample union for the board's tests, screenshots and benchmarks.

``fill(db, now=…)`` writes into an empty, migrated database: a 校工会 with two 分工会,
members with phone numbers (one inactive), admitted and not yet admitted proposals
(hostile titles among them), 公告 and 公示 (one open, one past its 公示期, one with a
result and an objection), named and anonymous ideas, and events with places left, full
or cancelled. ``Sample`` names what the tests look for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import insert

from models.base import table_of
from models.db import Database
from models.events.tables import CANCELLED, Event
from models.ideas.tables import Idea
from models.ideas.tables import Status as IdeaStatus
from models.notices.tables import Kind, Notice, NoticeObjection, State
from models.org import Branch, Member, MemberRole, Role
from models.proposals.tables import (
    Proposal,
    ProposalAssignment,
    ProposalReply,
    Status,
)

ROOT = "示范大学工会"
BRANCHES = ("计算机学院分工会", "外国语学院分工会")
SCRIPT = "<script>alert('board')</script>"
IMG = '"><img src=x onerror=alert(1)>'
LONG_WORD = "长" * 150 + "W" * 150  # 300 characters without a space
PHONES = ("13800000001", "13911112222", "13722223333", "15044445555", "18655556666")


@dataclass
class Sample:
    """Ids, numbers and texts of the sample union."""

    root: int = 0
    branches: dict[str, int] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=dict)  # name → id
    inactive: int = 0
    phones: tuple[str, ...] = PHONES
    anonymous_names: tuple[str, ...] = ()  # who filed the anonymous ideas
    objector: str = ""
    hostile: tuple[str, ...] = (SCRIPT, IMG, LONG_WORD)
    public_proposals: list[str] = field(default_factory=list)
    private_proposals: list[str] = field(default_factory=list)  # not yet admitted
    open_disclosure: str = "S1"
    expired_disclosure: str = "S2"
    withdrawn_notice: str = "G3"


async def fill(db: Database, *, now: datetime, extra_proposals: int = 0) -> Sample:
    """Write the sample union; ``extra_proposals`` more admitted proposals for benchmarks."""
    sample = Sample()
    async with db.write() as session:
        root = Branch(name=ROOT)
        session.add(root)
        await session.flush()
        sample.root = root.id or 0
        for name in BRANCHES:
            branch = Branch(name=name, parent_id=root.id)
            session.add(branch)
            await session.flush()
            sample.branches[name] = branch.id or 0
    await _members(db, sample)
    await _proposals(db, sample, now, extra_proposals)
    await _notices(db, sample, now)
    await _ideas(db, sample, now)
    await _events(db, sample, now)
    return sample


PEOPLE = (  # name, branch, roles, phone, active
    ("王主席", ROOT, (Role.OFFICER,), PHONES[0], True),
    ("张代表", BRANCHES[0], (Role.REPRESENTATIVE,), PHONES[1], True),
    ("李匿名", BRANCHES[0], (), PHONES[2], True),
    ("赵异议", BRANCHES[1], (), PHONES[3], True),
    ("钱离职", BRANCHES[1], (), PHONES[4], False),
)


async def _members(db: Database, sample: Sample) -> None:
    async with db.write() as session:
        for number, (name, branch, roles, phone, active) in enumerate(PEOPLE, 1):
            branch_id = sample.root if branch == ROOT else sample.branches[branch]
            member = Member(staff_no=f"9{number:04d}", name=name, branch_id=branch_id, phone=phone,
                            birth_date=date(1980, 1, number), gender="女", active=active)
            session.add(member)
            await session.flush()
            assert member.id is not None
            sample.members[name] = member.id
            for role in {Role.MEMBER, *roles}:
                session.add(MemberRole(member_id=member.id, role=role.value))
    sample.inactive = sample.members["钱离职"]
    sample.anonymous_names = ("李匿名",)
    sample.objector = "赵异议"


PROPOSALS = (  # title, status, lead, helpers, reply, rating
    ("关于增设校车班次的提案", Status.CLOSED, "后勤处", ("保卫处",), "已于下学期起增开两班。", "satisfied"),
    (SCRIPT, Status.ACCEPTED, "信息中心", (), None, None),
    (IMG, Status.REPLIED, "人事处", (), f"答复：{LONG_WORD}", None),
    ("建议" + LONG_WORD[:190], Status.ACCEPTED, "教务处", (), None, None),
    ("关于食堂延长晚餐时间的提案", Status.COSIGNING, None, (), None, None),
    ("关于教工子女入园的提案", Status.REVIEW, None, (), None, None),
)


async def _proposals(db: Database, sample: Sample, now: datetime, extra: int) -> None:
    proposer = sample.members["张代表"]
    async with db.write() as session:
        for seq, (title, status, lead, helpers, reply, rating) in enumerate(PROPOSALS, 1):
            number = f"T{now.year}-{seq:03d}"
            admitted = lead is not None
            proposal = Proposal(
                number=number, year=now.year, seq=seq, title=title, reason=f"理由：请联系 {PHONES[1]}",
                suggestion="建议内容", proposer_id=proposer, status=status.value,
                filed_at=now - timedelta(days=30),
                decided_at=now - timedelta(days=20) if admitted else None, lead_department=lead,
                deadline=(now + timedelta(days=10)).date() if admitted else None, rating=rating,
                replied_at=now - timedelta(days=5) if reply else None, cosigner_count=2,
            )
            session.add(proposal)
            await session.flush()
            (sample.public_proposals if admitted else sample.private_proposals).append(number)
            for department in ((lead,) if lead else ()) + helpers:
                session.add(ProposalAssignment(proposal_id=proposal.id or 0, department=department,
                                               lead=department == lead))
            if reply:
                session.add(ProposalReply(
                    proposal_id=proposal.id or 0, department=lead or "", lead=True, handling_round=1,
                    outcome="adopted", content=reply, author_id=sample.members["王主席"],
                    replied_at=now - timedelta(days=5),
                ))
    if extra:
        await bulk_proposals(db, proposer=proposer, year=now.year - 1, count=extra, now=now)


async def bulk_proposals(db: Database, *, proposer: int, year: int, count: int, now: datetime) -> None:
    """``count`` admitted proposals of ``year`` with a lead department each, in batches."""
    for start in range(0, count, 2000):
        rows = [{
            "number": f"T{year}-{seq:03d}", "year": year, "seq": seq,
            "title": f"第 {seq} 号提案：改进校园服务",
            "reason": "理由", "suggestion": "建议", "proposer_id": proposer,
            "status": (Status.ACCEPTED, Status.REPLIED, Status.CLOSED)[seq % 3].value, "cosigner_count": 2,
            "filed_at": now - timedelta(days=400), "decided_at": now - timedelta(days=390),
            "lead_department": "后勤处", "handling_round": 1, "updated_at": now,
        } for seq in range(start + 1, min(start + 2000, count) + 1)]
        async with db.write() as session:
            await session.execute(insert(table_of(Proposal)), rows)


async def _notices(db: Database, sample: Sample, now: datetime) -> None:
    officer, root = sample.members["王主席"], sample.root
    computing = sample.branches[BRANCHES[0]]
    rows = (  # number, kind, branch, title, body, state, ends_at, category
        ("S1", Kind.DISCLOSURE, root, "2026年度优秀工会积极分子评选结果", f"拟表彰名单：张代表。{SCRIPT}",
         State.PUBLISHED, now + timedelta(days=3), "评优结果"),
        ("S2", Kind.DISCLOSURE, computing, IMG, "公示期已过的公示。", State.PUBLISHED,
         now - timedelta(days=2), "院务"),
        ("G1", Kind.ANNOUNCEMENT, root, "", f"关于元旦放假的通知\n{LONG_WORD}", State.PUBLISHED, None, None),
        ("G2", Kind.ANNOUNCEMENT, computing, "S2 公示结果", "公示期内未收到异议，结果有效。", State.PUBLISHED,
         None, None),
        ("G3", Kind.ANNOUNCEMENT, root, "已撤回的公告", "这条公告已撤回，不应出现。", State.WITHDRAWN,
         None, None),
    )
    async with db.write() as session:
        ids: dict[str, int] = {}
        for seq, (number, kind, branch, title, body, state, ends_at, category) in enumerate(rows, 1):
            notice = Notice(
                number=number, kind=kind.value, seq=seq, branch_id=branch, author_id=officer, title=title,
                body=body, category=category, state=state.value, publish_at=now - timedelta(days=seq),
                published_at=now - timedelta(days=seq), ends_at=ends_at,
                refers_to_id=ids.get("S2") if number == "G2" else None,
            )
            session.add(notice)
            await session.flush()
            ids[number] = notice.id or 0
        session.add(NoticeObjection(number="Y1", notice_id=ids["S1"], member_id=sample.members["赵异议"],
                                    text=f"异议内容，电话 {PHONES[3]}"))


IDEAS = (  # title, anonymous, submitter, status, supports, note, department
    ("食堂增加夜宵窗口", False, "张代表", IdeaStatus.GOLDEN, 12, "本轮金点子，后勤处落实。", None),
    (IMG[:60], True, "李匿名", IdeaStatus.ADOPTED, 9, "采纳，交信息中心办理。", "信息中心"),
    ("图书馆延长开放时间", True, "李匿名", IdeaStatus.OPEN, 7, None, None),
    (SCRIPT, False, "张代表", IdeaStatus.OPEN, 3, None, None),
    ("增设教工子女暑期托管班", False, "王主席", IdeaStatus.ARCHIVED, 1, "已有类似安排。", None),
)


async def _ideas(db: Database, sample: Sample, now: datetime) -> None:
    async with db.write() as session:
        for seq, (title, anonymous, who, status, supports, note, department) in enumerate(IDEAS, 1):
            member = sample.members[who]
            branch = sample.branches.get(next(p[1] for p in PEOPLE if p[0] == who), sample.root)
            judged = status != IdeaStatus.OPEN
            session.add(Idea(
                number=f"D{seq}", seq=seq, year=now.year, branch_id=branch, anonymous=anonymous,
                member_id=None if anonymous else member, author_tag=f"{seq:064x}" if anonymous else None,
                dup_tag=f"dup{seq}", title=title, content=f"{title}。联系电话 {PHONES[2]}",
                status=status.value,
                support_count=supports, submitted_at=now - timedelta(days=10 - seq),
                judged_at=now - timedelta(days=1) if judged else None,
                judged_by=sample.members["王主席"] if judged else None, judge_note=note,
                department=department,
            ))


async def _events(db: Database, sample: Sample, now: datetime) -> None:
    rows = (  # number, title, place, starts in days, capacity, taken, waiting, branch, status
        (1, "教职工羽毛球赛", "体育馆", 5, 30, 12, 0, None, "open"),
        (2, SCRIPT, IMG, 7, 10, 10, 3, sample.branches[BRANCHES[0]], "open"),
        (3, "已取消的活动", "礼堂", 3, 20, 0, 0, None, CANCELLED),
        (4, "上个月的活动", "礼堂", -30, 20, 20, 0, None, "open"),
        (5, "外语角", "外语楼", 2, 15, 4, 0, sample.branches[BRANCHES[1]], "open"),
    )
    async with db.write() as session:
        for number, title, place, days, capacity, taken, waiting, branch, status in rows:
            session.add(Event(
                number=number, title=title[:64], place=place, starts_at=now + timedelta(days=days),
                ends_at=now + timedelta(days=days, hours=2), capacity=capacity, places_taken=taken,
                confirmed_count=taken, waiting_count=waiting, audience_branch_id=branch, status=status,
                created_by=sample.members["王主席"], note="请穿运动鞋" if number == 1 else None,
            ))
