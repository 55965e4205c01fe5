"""金点子 — ideas: tables, submission, rounds, support, 评选, views, statistics and export."""
