from __future__ import annotations

import pytest

from bot.context import Context
from bot.registry import Command, Registry
from models.org import Role, role_allows


async def _noop(ctx: Context, args: str) -> str:
    return args


def _registry() -> Registry:
    registry = Registry()
    for name, aliases in (("提案", ()), ("提案列表", ()), ("我", ("我的信息",)), ("我的提案", ()),
                          ("附议", ())):
        registry.add(Command(name=name, aliases=aliases, handler=_noop,
                             summary="s", usage=name, example=name))
    return registry


@pytest.mark.parametrize(
    ("text", "word", "args"),
    [
        ("提案", "提案", ""),
        ("提案列表 已立案", "提案列表", "已立案"),
        ("我的提案", "我的提案", ""),
        ("我的信息", "我", ""),
        ("附议T2026-007", "附议", "T2026-007"),
        ("附议 T2026-007", "附议", "T2026-007"),
        ("/附议 T2026-007", "附议", "T2026-007"),
        ("#我", "我", ""),
        ("＃我", "我", ""),
        ("  我  ", "我", ""),
        ("提案 标题:食堂 理由:晚 建议:延", "提案", "标题:食堂 理由:晚 建议:延"),
    ],
)
def test_match_finds_the_longest_word(text: str, word: str, args: str) -> None:
    found = _registry().match(text)
    assert found is not None
    assert found[0].name == word
    assert found[1] == args


@pytest.mark.parametrize("text", ["我想问一下", "提案很好", "你好", "", "#", "附议了吗"])
def test_match_needs_a_word_boundary(text: str) -> None:
    assert _registry().match(text) is None


def test_a_word_cannot_be_registered_twice() -> None:
    registry = _registry()
    with pytest.raises(ValueError, match="我的信息"):
        registry.add(Command(name="我的信息", handler=_noop, summary="", usage="", example=""))


def test_role_rules() -> None:
    member = frozenset({Role.MEMBER})
    officer = frozenset({Role.MEMBER, Role.OFFICER})
    admin = frozenset({Role.MEMBER, Role.ADMIN})
    assert role_allows(Role.MEMBER, member)
    assert not role_allows(Role.OFFICER, member)
    assert role_allows(Role.OFFICER, officer)
    assert not role_allows(Role.REPRESENTATIVE, officer)
    assert all(role_allows(role, admin) for role in Role)
