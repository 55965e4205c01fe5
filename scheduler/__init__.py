"""The union's calendar (holidays, lunar festivals) and the scheduled jobs."""
