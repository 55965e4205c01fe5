"""SQLModel tables, domain rules and database setup.

Importing this package registers every table on ``SQLModel.metadata``.
"""

from models.event_links import DownloadLink
from models.events import Event, Signup
from models.org import Account, Branch, Chat, Member, MemberChild, MemberRole, Role
from models.outbox import OutboxMessage
from models.proposals import (
    Proposal,
    ProposalAssignment,
    ProposalCosign,
    ProposalCounter,
    ProposalEvent,
    ProposalRating,
    ProposalReply,
    ProposalRound,
)
from models.records import AuditLog, DialogState, InboundRecord

__all__ = [
    "Account",
    "AuditLog",
    "Branch",
    "Chat",
    "DialogState",
    "DownloadLink",
    "Event",
    "InboundRecord",
    "Member",
    "MemberChild",
    "MemberRole",
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
