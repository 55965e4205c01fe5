"""The platforms' published sample values (tests/data/protocol-vectors.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "protocol-vectors.json").read_text(encoding="utf-8")
)
