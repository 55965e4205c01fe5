"""Every kind of scheduled message, as a list of sources (see :mod:`scheduler.occasions`).

To add one, write a small module with a class that has a ``name``
and the two methods of ``scheduler.occasions.Source``, and add an instance here.
"""

from __future__ import annotations

from scheduler.birthdays import Birthdays
from scheduler.event_reminders import EventReminders
from scheduler.funds_drafts import FundDrafts
from scheduler.holiday_notices import HolidayNotices
from scheduler.idea_rounds import IdeaRoundClosed, IdeaRoundReminders
from scheduler.notices import NoticeExpiries, NoticePublications
from scheduler.occasions import Source
from scheduler.proposal_reminders import OverdueDigest, ProposalDeadlines
from scheduler.recurring_disclosures import RecurringDisclosures

SOURCES: tuple[Source, ...] = (
    HolidayNotices(), Birthdays(), EventReminders(), ProposalDeadlines(), OverdueDigest(), FundDrafts(),
    IdeaRoundReminders(), IdeaRoundClosed(), NoticePublications(), NoticeExpiries(), RecurringDisclosures(),
)


def source_named(name: str, sources: tuple[Source, ...] = SOURCES) -> Source:
    """The source called ``name``; KeyError when there is none."""
    for source in sources:
        if source.name == name:
            return source
    raise KeyError(name)
