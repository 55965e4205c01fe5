"""活动报名 — events: the command words (``register``), sign-ups, officers' commands and views."""

from handlers.events.signups import register

__all__ = ["register"]
