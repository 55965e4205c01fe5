"""SQLModel tables, domain rules and database setup.

Importing this package registers every table on ``SQLModel.metadata``.
"""

from models.audit import AuditLog
from models.dialog_state import DialogState
from models.events.links import DownloadLink
from models.events.tables import Event, Signup
from models.funds.tables import (
    FundBudget,
    FundCheckpoint,
    FundCounter,
    FundDayTotal,
    FundEntry,
    FundKey,
    FundLedger,
    FundRelief,
    FundStatement,
)
from models.ideas.tables import Idea, IdeaCounter, IdeaRound, IdeaSupport
from models.inbound import InboundRecord
from models.notices.tables import Notice, NoticeCounter, NoticeObjection
from models.org import Account, Branch, Chat, Member, MemberChild, MemberRole, Role
from models.outbox import OutboxMessage
from models.proposals.tables import (
    Proposal,
    ProposalAssignment,
    ProposalCosign,
    ProposalCounter,
    ProposalEvent,
    ProposalRating,
    ProposalReply,
    ProposalRound,
)

__all__ = [
    "Account",
    "AuditLog",
    "Branch",
    "Chat",
    "DialogState",
    "DownloadLink",
    "Event",
    "FundBudget",
    "FundCheckpoint",
    "FundCounter",
    "FundDayTotal",
    "FundEntry",
    "FundKey",
    "FundLedger",
    "FundRelief",
    "FundStatement",
    "Idea",
    "IdeaCounter",
    "IdeaRound",
    "IdeaSupport",
    "InboundRecord",
    "Member",
    "MemberChild",
    "MemberRole",
    "Notice",
    "NoticeCounter",
    "NoticeObjection",
    "OutboxMessage",
    "Proposal",
    "ProposalAssignment",
    "ProposalCosign",
    "ProposalCounter",
    "ProposalEvent",
    "ProposalRating",
    "ProposalReply",
    "ProposalRound",
    "Role",
    "Signup",
]
