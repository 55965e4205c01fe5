"""Wording of user-facing text, kept in ``templates/notices`` so a union can change it.

Each capability has one plain-text template file of macros, e.g. ``basics.txt.j2``
with ``{% macro bind_ok(name) %}…{% endmacro %}``; ``say("basics", "bind_ok", name=…)``
renders one macro and trims the surrounding white space. A file may also hold a table of
words set at its top, ``{% set name = {…} %}``; ``table("cli_parser", "help")`` reads it.
"""

from __future__ import annotations

import contextlib
from functools import cache
from typing import Any

import jinja2
from jinja2.bccache import Bucket


class CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs, in Jinja's per-user temporary directory.

    Compiling a template file of macros takes ~0.1 s and ~5 MB at its peak (memory the
    process keeps); loading it compiled takes about a millisecond. A template whose text
    changed has another checksum and is compiled again. A cache that cannot be read or
    written is passed over: the template is compiled as without one. Entries are keyed
    by file, not by the environment's options, so only ``notices_env`` uses this cache.
    """

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # a truncated or foreign file
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def compiled_templates() -> jinja2.BytecodeCache | None:
    try:
        return CompiledTemplates()
    except (OSError, RuntimeError):  # no usable temporary directory (Jinja refuses an unsafe one)
        return None


@cache
def notices_env() -> jinja2.Environment:
    """Plain-text environment for chat messages (autoescape off)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("templates", "notices"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        bytecode_cache=compiled_templates(),
    )


@cache
def _module(template: str) -> Any:
    return notices_env().get_template(f"{template}.txt.j2").module


def say(template: str, name: str, /, **values: Any) -> str:
    """Render macro ``name`` of ``templates/notices/<template>.txt.j2``."""
    macro = getattr(_module(template), name, None)
    if macro is None:
        raise KeyError(f"no macro {name!r} in notices/{template}.txt.j2")
    return str(macro(**values)).strip()



def table(template: str, name: str, /) -> Any:
    """The value set at the top of ``templates/notices/<template>.txt.j2`` as ``name``."""
    value = getattr(_module(template), name, None)
    if value is None:
        raise KeyError(f"no table {name!r} in notices/{template}.txt.j2")
    return value
