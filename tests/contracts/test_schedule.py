"""Due dates of verifications: cycles, fiscal years, contract periods."""
from __future__ import annotations

import datetime as dt

import pytest

from contracts.schedule import Cycle, DueState, add_months, due_state, next_due

D = dt.date


@pytest.mark.parametrize("day, months, expected", [
    (D(2026, 1, 31), 1, D(2026, 2, 28)), (D(2024, 1, 31), 1, D(2024, 2, 29)), (D(2026, 11, 30), 3, D(2027, 2, 28)),
    (D(2026, 4, 1), 6, D(2026, 10, 1)), (D(2026, 12, 15), 1, D(2027, 1, 15)),
])
def test_add_months_clips_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize("cycle, last, expected", [
    (Cycle.MONTHLY, None, D(2026, 5, 1)),
    (Cycle.MONTHLY, D(2026, 8, 20), D(2026, 9, 20)),
    (Cycle.QUARTERLY, None, D(2026, 7, 1)),
    (Cycle.QUARTERLY, D(2026, 9, 30), D(2026, 12, 30)),
    (Cycle.HALF_YEARLY, D(2026, 10, 15), D(2027, 3, 31)),  # would be 2027-04-15: capped at the contract's end
    (Cycle.AT_COMPLETION, None, D(2027, 3, 31)),
])
def test_periodic_cycles_count_from_the_last_check_or_the_start(cycle, last, expected):
    assert next_due(cycle, D(2026, 4, 1), D(2027, 3, 31), last) == expected


def test_yearly_is_due_within_each_fiscal_year():
    start, end = D(2025, 10, 1), D(2028, 9, 30)
    # Never checked: due by the end of the 年度 the contract started in.
    assert next_due(Cycle.YEARLY, start, end, None) == D(2026, 3, 31)
    # Checked in FY2025 (even late in March): next by the end of FY2026.
    assert next_due(Cycle.YEARLY, start, end, D(2026, 3, 30)) == D(2027, 3, 31)
    # Checked in April: that is FY2026 already, so the next is due in FY2027.
    assert next_due(Cycle.YEARLY, start, end, D(2026, 4, 2)) == D(2028, 3, 31)
    # FY2028 ends after the contract: that check is due at the contract's end.
    assert next_due(Cycle.YEARLY, start, end, D(2027, 6, 1)) == D(2028, 9, 30)
    assert next_due(Cycle.YEARLY, start, end, D(2028, 5, 1)) == D(2028, 9, 30)


def test_a_contract_ending_before_the_next_due_date_is_checked_at_its_end():
    assert next_due(Cycle.QUARTERLY, D(2026, 4, 1), D(2026, 5, 15), None) == D(2026, 5, 15)
    assert next_due(Cycle.YEARLY, D(2026, 4, 1), D(2026, 9, 30), None) == D(2026, 9, 30)


def test_nothing_is_due_after_the_check_at_the_end():
    assert next_due(Cycle.MONTHLY, D(2026, 4, 1), D(2026, 9, 30), D(2026, 9, 30)) is None
    assert next_due(Cycle.AT_COMPLETION, D(2026, 4, 1), D(2026, 9, 30), D(2026, 10, 3)) is None


@pytest.mark.parametrize("due, expected", [
    (D(2026, 11, 25), DueState.OVERDUE), (D(2026, 11, 26), DueState.DUE_SOON), (D(2026, 12, 26), DueState.DUE_SOON),
    (D(2026, 12, 27), DueState.SCHEDULED), (None, None),
])
def test_due_state(due, expected):
    assert due_state(due, D(2026, 11, 26)) is expected
