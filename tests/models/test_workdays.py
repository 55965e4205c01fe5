"""Working days on the statutory calendar (models/calendar/workdays.py)."""

from __future__ import annotations

from datetime import date

import pytest

from models.calendar.workdays import add_working_days, arrangement_known, is_working_day


def test_national_day_2026_is_off_and_its_make_up_days_are_working_days() -> None:
    assert not any(is_working_day(date(2026, 10, day)) for day in range(1, 8))
    assert is_working_day(date(2026, 9, 20))  # Sunday, 调休上班
    assert is_working_day(date(2026, 10, 10))  # Saturday, 调休上班
    assert not is_working_day(date(2026, 10, 11))


def test_counting_starts_the_day_after_and_crosses_the_break() -> None:
    assert add_working_days(date(2026, 9, 30), 5).day == date(2026, 10, 13)
    assert add_working_days(date(2026, 12, 4), 5).day == date(2026, 12, 11)
    assert add_working_days(date(2026, 12, 5), 1).day == date(2026, 12, 7)


def test_an_unknown_year_counts_monday_to_friday_and_says_which() -> None:
    assert not arrangement_known(2035)
    end = add_working_days(date(2035, 9, 28), 5)  # 国庆 2035 not known: weekdays only
    assert end.day == date(2035, 10, 5) and end.estimated_years == (2035,)
    assert add_working_days(date(2026, 9, 30), 5).estimated_years == ()


@pytest.mark.parametrize("count", [0, -1, 251])
def test_absurd_counts_are_refused(count: int) -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), count)
