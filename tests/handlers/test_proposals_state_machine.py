"""Random sequences of proposal commands by random people never break the rules.

After three filings, Hypothesis draws 10 to 40 commands (提案, 附议, 撤回, 立案, 不立案,
转建议, 答复, 评价) for one of the first three proposals. Who sends each one is drawn
relative to the proposal as it stands ("its proposer", "another representative", "the
lead department's 承办人", "anyone at all"), so the sequences reach every status and
still try every kind of wrong sender and wrong order. They go through the real pipeline;
after every command the stored proposals must be valid and the statistics must add up.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from bot.pipeline import Pipeline
from models.db import Database
from models.dialog_state import DialogState
from models.org import Account, Member
from models.outbox import OutboxMessage
from models.proposals.stats import compute
from models.proposals.tables import (
    ADMITTED,
    Proposal,
    ProposalAssignment,
    ProposalCosign,
    ProposalCounter,
    ProposalEvent,
    ProposalRating,
    ProposalReply,
    ProposalRound,
    Status,
)
from tests.handlers.test_proposals_support import (
    DEPARTMENTS,
    YEAR,
    cast,
    make_pipeline,
    no,
    proposal_clock,
    proposal_settings,
    say,
)

MIN_COSIGNERS = 1
MAX_REHANDLE = 1
REPRESENTATIVES = ("zs", "ls", "ww")
ACTORS = ("zs", "ls", "ww", "of", "of2", "hq", "rs", "jw", "nd", "mb")
HANDLER_OF = {"后勤管理处": "hq", "人事处": "rs", "教务处": "jw"}
RESET = (ProposalEvent, ProposalRating, ProposalReply, ProposalCosign, ProposalAssignment, Proposal,
         ProposalRound, ProposalCounter, OutboxMessage, DialogState)

# the steps forward come up more often than the ones that end a proposal
VERBS = ["附议", "立案", "答复", "评价"] * 3 + ["评价", "提案", "撤回", "不立案", "转建议"]
COMMANDS = st.tuples(
    st.sampled_from(VERBS),
    st.integers(min_value=1, max_value=3),  # which proposal
    st.sampled_from(["fits", "fits", "fits", "helper", "anyone"]),  # who sends it
    st.integers(min_value=0, max_value=9),  # which one of them
    st.sampled_from(DEPARTMENTS),  # 立案: the lead department
    st.booleans(),  # 立案: with a helper department
    st.sampled_from(["采纳", "暂缓", "不能采纳"]),
    st.sampled_from(["满意", "基本满意", "不满意"]),
)
PRELUDE = [("提案", 0, "fits", i, "", False, "", "") for i in range(3)]


async def sender(db: Database, verb: str, seq: int, who: str, index: int) -> str:
    """The account that sends ``verb`` about proposal ``seq``, chosen as ``who`` says."""
    if who == "anyone":
        return ACTORS[index % len(ACTORS)]
    if verb in ("立案", "不立案", "转建议"):
        return ("of", "of2")[index % 2]
    async with db.read() as session:
        found = await session.scalar(select(Proposal).where(Proposal.number == no(seq))) if seq else None
        proposer = found and await session.scalar(
            select(Account.external_id).where(Account.member_id == found.proposer_id)
        )
        helpers = found and list(await session.scalars(
            select(ProposalAssignment.department)
            .where(ProposalAssignment.proposal_id == found.id, ProposalAssignment.lead.is_(False))  # type: ignore[attr-defined]
        ))
    if verb == "附议":
        others = [r for r in REPRESENTATIVES if r != proposer]
        return others[index % len(others)]
    if verb == "答复":
        if found is None or not found.lead_department:
            return list(HANDLER_OF.values())[index % len(HANDLER_OF)]
        if who == "helper" and helpers:
            return HANDLER_OF[helpers[index % len(helpers)]]
        return HANDLER_OF[found.lead_department]
    if verb in ("评价", "撤回") and proposer:
        return proposer
    return REPRESENTATIVES[index % len(REPRESENTATIVES)]


def text_of(command: tuple[Any, ...]) -> str:
    """The message for a drawn command."""
    verb, seq = command[0], command[1]
    number = no(seq)
    if verb == "提案":
        return "提案 标题：随机提案 理由：随机理由 建议：随机建议"
    if verb == "立案":
        lead, with_helper = command[4], command[5]
        helper = next(d for d in DEPARTMENTS if d != lead)
        return f"立案 {number} 主办 {lead}" + (f" 协办 {helper}" if with_helper else "")
    if verb in ("不立案", "转建议"):
        return f"{verb} {number} 随机理由"
    if verb == "答复":
        return f"答复 {number} {command[6]} 随机内容"
    if verb == "评价":
        return f"评价 {number} {command[7]} 随机意见"
    return f"{verb} {number}"


async def reset(db: Database) -> None:
    """Empty the proposal tables (the database is shared by the examples); cast people once."""
    async with db.write() as session:
        for table in RESET:
            await session.execute(delete(table))
        members = await session.scalar(select(func.count()).select_from(Member))
    if members == 0:
        await cast(db)


async def check_invariants(db: Database) -> None:
    async with db.read() as session:
        proposals = list(await session.scalars(select(Proposal).order_by(Proposal.seq)))
        cosigns = Counter(await session.scalars(select(ProposalCosign.proposal_id)))
        cosigners = {(c.proposal_id, c.member_id) for c in await session.scalars(select(ProposalCosign))}
        assignments = list(await session.scalars(select(ProposalAssignment)))
        replies = list(await session.scalars(select(ProposalReply)))
        ratings = list(await session.scalars(select(ProposalRating)))
        counter = await session.scalar(select(ProposalCounter.seq).where(ProposalCounter.year == YEAR))
        stats = await compute(session, today=proposal_clock().today(), year=YEAR)

    assert [p.seq for p in proposals] == list(range(1, len(proposals) + 1))
    assert counter == (len(proposals) or None)
    for p in proposals:
        status = Status(p.status)
        pid = p.id
        leads = [a.department for a in assignments if a.proposal_id == pid and a.lead]
        round_replies = [r for r in replies if r.proposal_id == pid and r.handling_round == p.handling_round]
        assert p.cosigner_count == cosigns[pid], p.number
        assert (pid, p.proposer_id) not in cosigners
        assert 1 <= p.handling_round <= 1 + MAX_REHANDLE
        if status is Status.COSIGNING:
            assert p.cosigner_count < MIN_COSIGNERS
        if status is Status.REVIEW:
            assert p.cosigner_count >= MIN_COSIGNERS
        if status in ADMITTED:
            assert p.cosigner_count >= MIN_COSIGNERS
            assert leads == [p.lead_department] and p.deadline is not None and p.decided_by is not None
        else:
            assert leads == [] and p.lead_department is None
            assert not [r for r in replies if r.proposal_id == pid]
        if status in (Status.REJECTED, Status.CONVERTED):
            assert p.decision_note
        if status is Status.ACCEPTED:
            assert not [r for r in round_replies if r.lead]
        if status is Status.REPLIED:
            assert [r for r in round_replies if r.lead]
        if status is Status.CLOSED:
            mine = [r for r in ratings if r.proposal_id == pid and r.member_id == p.proposer_id
                    and r.handling_round == p.handling_round]
            assert len(mine) == 1 and mine[0].rating == p.rating
        else:
            assert p.rating is None
        for r in ratings:
            if r.proposal_id == pid:
                assert r.member_id == p.proposer_id  # co-signers do not rate by default
    total = stats.total
    assert total.adds_up()
    assert total.received == len(proposals)
    assert dict(total.by_status) == {s: sum(1 for p in proposals if p.status == s.value) for s in Status}
    assert total.replied == sum(1 for p in proposals if p.replied_at is not None)
    assert sum(f.accepted for f in stats.departments.values()) == total.accepted


@settings(
    max_examples=80, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(commands=st.lists(COMMANDS, min_size=10, max_size=40))
async def test_random_commands_keep_proposals_valid(db: Database, commands: list[tuple[Any, ...]]) -> None:
    pipeline: Pipeline = make_pipeline(db, proposal_settings(min_cosigners=MIN_COSIGNERS,
                                                              max_rehandle=MAX_REHANDLE))
    await reset(db)
    for command in [*PRELUDE, *commands]:
        who = await sender(db, command[0], command[1], command[2], command[3])
        answer = await say(pipeline, who, text_of(command))
        assert answer.strip()
        await check_invariants(db)
