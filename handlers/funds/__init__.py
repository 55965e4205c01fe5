"""经费 — the fund ledger's commands: 经费, 记账, 冲销, 拨付, 慰问, 经费公示, 审核."""

from handlers.funds.commands import register

__all__ = ["register"]
