"""经费 — the fund ledger: amounts, periods, categories, the append-only hash-chained
ledger with 冲销 / 拨付 / 慰问, statements, signed checkpoints, verification, import and
export. One ledger per branch; the ledger of the root branch is the union's own."""
