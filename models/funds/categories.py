"""The category tree — 收支科目: code, name, aliases, income or expense, a parent.

The tree is data: ``models/funds/categories.toml`` (the 基层工会经费收支管理办法 tree) by
default, or the union's own TOML or CSV file (``[funds] categories_file``). CSV columns:
``code,name,kind,parent,aliases`` (aliases separated by ``、`` or ``;``; kind ``income``
/ ``expense`` or 收入 / 支出). Entries are posted to leaves; a statement totals them per
top-level category and per leaf.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from models.funds.refusals import Refused, Unusable

Kind = Literal["income", "expense"]
DEFAULT_FILE = Path(__file__).with_name("categories.toml")
_KIND_WORDS: dict[str, Kind] = {"income": "income", "收入": "income", "收": "income",
                                "expense": "expense", "支出": "expense", "支": "expense"}


class CategoryFileError(Unusable):
    """The category file cannot be used; ``code`` and ``values`` name the row and the problem."""


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name: str
    kind: Kind
    parent: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(slots=True)
class CategoryTree:
    """All categories by code, in file order."""

    by_code: dict[str, Category]
    children: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for category in self.by_code.values():
            if category.parent is not None:
                self.children.setdefault(category.parent, []).append(category.code)

    def is_leaf(self, code: str) -> bool:
        return code not in self.children

    def top(self, code: str) -> Category:
        category = self.by_code[code]
        while category.parent is not None:
            category = self.by_code[category.parent]
        return category

    def path(self, code: str) -> str:
        """``职工活动支出/文体活动``."""
        category = self.by_code[code]
        if category.parent is None:
            return category.name
        return f"{self.path(category.parent)}/{category.name}"

    def tops(self, kind: Kind) -> list[Category]:
        return [c for c in self.by_code.values() if c.kind == kind and c.parent is None]

    def leaves_under(self, code: str) -> list[Category]:
        if self.is_leaf(code):
            return [self.by_code[code]]
        return [leaf for child in self.children[code] for leaf in self.leaves_under(child)]

    def lookup(self, text: str) -> Category:
        """The category (any level) ``text`` names exactly; ``Refused`` with candidates."""
        wanted = _norm(text)
        hits = [c for c in self.by_code.values()
                if wanted in _words(c) or wanted == _norm(self.path(c.code))]
        if len(hits) == 1:
            return hits[0]
        if hits:
            paths = [self.path(c.code) for c in hits]
            raise Refused("category_ambiguous", text=text.strip(), candidates=paths)
        raise Refused("category_unknown", text=text.strip(),
                      candidates=_near(self, list(self.by_code.values()), wanted))

    def match(self, text: str, kind: Kind | None = None) -> Category:
        """The leaf ``text`` names (code, name, alias or path); ``Refused`` with candidates."""
        return _match(self, text, kind)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold().replace(" ", "")


def _words(category: Category) -> set[str]:
    return {_norm(w) for w in (category.code, category.name, *category.aliases)}


def _match(tree: CategoryTree, text: str, kind: Kind | None) -> Category:
    wanted = _norm(text)
    pool = [c for c in tree.by_code.values() if kind is None or c.kind == kind]
    if not wanted:
        raise Refused("category_missing", candidates=[tree.path(c.code) for c in pool if c.parent is None])
    if "/" in wanted:
        hits = [c for c in pool if _norm(tree.path(c.code)) == wanted]
        if not hits:
            head, _, tail = wanted.rpartition("/")
            hits = [c for c in pool if tail in _words(c) and c.parent is not None
                    and head in _words(tree.by_code[c.parent])]
    else:
        hits = [c for c in pool if wanted in _words(c)]
    if len(hits) == 1 and tree.is_leaf(hits[0].code):
        return hits[0]
    if hits:
        leaves = [leaf for hit in hits for leaf in tree.leaves_under(hit.code)]
        if len(leaves) == 1:
            return leaves[0]
        raise Refused("category_ambiguous", text=text.strip(), candidates=[tree.path(c.code) for c in leaves])
    raise Refused("category_unknown", text=text.strip(), candidates=_near(tree, pool, wanted))


def _near(tree: CategoryTree, pool: list[Category], wanted: str) -> list[str]:
    """Leaves whose words contain, are contained in, or look like ``wanted``."""
    leaves = [c for c in pool if tree.is_leaf(c.code)]
    scored: list[tuple[float, str]] = []
    for category in leaves:
        words = _words(category) | {_norm(tree.path(category.code))}
        best = max(difflib.SequenceMatcher(None, wanted, word).ratio() for word in words)
        if any(wanted in word or (len(word) > 1 and word in wanted) for word in words):
            best += 1
        if best >= 0.5:
            scored.append((best, tree.path(category.code)))
    scored.sort(key=lambda item: -item[0])
    return [path for _score, path in scored[:5]]


# ---------------------------------------------------------------- loading


@cache
def load_tree(path: str | None = None) -> CategoryTree:
    """The tree of ``path`` (TOML or CSV); the built-in tree when ``path`` is empty."""
    file = Path(path) if path else DEFAULT_FILE
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise CategoryFileError("categories_unreadable", file=file, error=exc.strerror) from None
    if file.suffix.lower() == ".csv":
        rows = _csv_rows(raw)
    else:
        try:
            rows = tomllib.loads(raw.decode("utf-8")).get("category", [])
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CategoryFileError("categories_malformed", file=file, error=str(exc)) from None
    return _build(rows, file)


def _csv_rows(raw: bytes) -> list[dict[str, Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CategoryFileError("categories_encoding")
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        aliases = [a for a in re.split(r"[、;；,，]", row.get("aliases") or "") if a.strip()]
        rows.append({**row, "aliases": aliases})
    return rows


def _build(rows: list[dict[str, Any]], file: Path) -> CategoryTree:
    by_code: dict[str, Category] = {}
    for number, row in enumerate(rows, start=1):
        code, name = str(row.get("code") or "").strip(), str(row.get("name") or "").strip()
        kind = _KIND_WORDS.get(str(row.get("kind") or "").strip())
        parent = str(row.get("parent") or "").strip() or None
        if not code or not name or kind is None:
            raise CategoryFileError("categories_incomplete", file=file, number=number)
        if code in by_code:
            raise CategoryFileError("categories_duplicate", file=file, code=code)
        if parent is not None and (parent not in by_code or by_code[parent].kind != kind):
            raise CategoryFileError("categories_parent", file=file, code=code, parent=parent)
        aliases = tuple(str(a).strip() for a in row.get("aliases") or () if str(a).strip())
        by_code[code] = Category(code, name, kind, parent, aliases)
    if not by_code:
        raise CategoryFileError("categories_empty", file=file)
    return CategoryTree(by_code)
