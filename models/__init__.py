"""SQLModel tables, domain rules and database setup.

Importing this package registers every table on ``SQLModel.metadata``.
"""

from models.org import Account, Branch, Chat, Member, MemberChild, MemberRole, Role
from models.outbox import OutboxMessage
from models.records import AuditLog, DialogState, InboundRecord

__all__ = [
    "Account",
    "AuditLog",
    "Branch",
    "Chat",
    "DialogState",
    "InboundRecord",
    "Member",
    "MemberChild",
    "MemberRole",
    "OutboxMessage",
    "Role",
]
