"""教代会提案 — proposals: tables, the life cycle, numbering, rounds, queries, statistics and exports."""
