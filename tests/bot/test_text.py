from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.text import normalize, strip_mention


def test_normalize_folds_full_width_and_spaces() -> None:
    assert normalize("＃绑定\u3000１０００１\u3000\u3000张三 ") == "#绑定 10001 张三"
    assert normalize("标题：食堂\r\n\r\n  理由：晚上") == "标题:食堂\n理由:晚上"
    assert normalize("\u200b帮助\ufeff") == "帮助"


def test_strip_mention() -> None:
    assert strip_mention("@工会助手 帮助", "工会助手") == ("帮助", True)
    assert strip_mention("帮助 @工会助手", "工会助手") == ("帮助", True)
    assert strip_mention("帮助", "工会助手") == ("帮助", False)


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
