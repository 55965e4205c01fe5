"""经费 settings (``[funds]`` and ``[funds.limits]``), checked against the category tree."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.config.errors import ConfigProblem
from models.funds.amounts import DEFAULT_MAX_YUAN
from models.funds.categories import CategoryFileError, CategoryTree, load_tree
from models.funds.refusals import Refused

DEFAULT_RELIEF_TYPES = {
    "生日": "职工集体福利", "生育": "职工集体福利", "住院": "职工集体福利", "丧事": "职工集体福利",
    "退休": "职工集体福利", "节日": "职工集体福利", "困难帮扶": "困难职工帮扶",
}


class FundsSettings(BaseModel):
    """经费 (``[funds]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    categories_file: str = ""  # empty: the built-in 基层工会经费收支管理办法 tree
    publish: str = Field(default="quarterly", pattern="^(monthly|quarterly|yearly|off)$")
    publish_time: str = Field(default="09:00", pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")
    require_review: bool = True
    key_file: str = "data/funds_signing.key"
    max_amount_yuan: int = Field(default=DEFAULT_MAX_YUAN, ge=1, le=1_000_000_000)
    transfer_expense: str = "补助下级支出"
    transfer_income: str = "上级工会补助收入"
    relief_types: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_RELIEF_TYPES))
    limits: dict[str, float] = Field(default_factory=dict)  # 慰问类型 → 元 per member per year

    @field_validator("categories_file")
    @classmethod
    def _tree(cls, value: str) -> str:
        try:
            load_tree(value or None)
        except CategoryFileError as exc:
            raise ConfigProblem("funds", exc.code, **exc.values) from None
        return value

    @model_validator(mode="after")
    def _categories_exist(self) -> FundsSettings:
        tree = self.tree
        _leaf(tree, self.transfer_expense, "expense", "transfer_expense")
        _leaf(tree, self.transfer_income, "income", "transfer_income")
        for kind, category in self.relief_types.items():
            _leaf(tree, category, "expense", f"relief_types.{kind}")
        for kind, amount in self.limits.items():
            if kind not in self.relief_types:
                raise ConfigProblem("funds", "config_limit_kind", kind=kind, known=list(self.relief_types))
            if amount <= 0:
                raise ConfigProblem("funds", "config_limit_positive", kind=kind)
        return self

    @property
    def tree(self) -> CategoryTree:
        return load_tree(self.categories_file or None)

    def limit_fen(self, kind: str) -> int | None:
        amount = self.limits.get(kind)
        return None if amount is None else round(amount * 100)


def _leaf(tree: CategoryTree, name: str, kind: str, key: str) -> None:
    try:
        tree.match(name, "expense" if kind == "expense" else "income")
    except Refused:
        raise ConfigProblem("funds", "config_category", key=key, name=name) from None
