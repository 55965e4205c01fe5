"""活动报名 — events: tables and domain rules, sign-ups, queries, statistics and exports."""
