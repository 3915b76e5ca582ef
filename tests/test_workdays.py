"""The Vietnamese working-day calendar (dialogs/workdays.py)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest

from dialogs.workdays import DEFAULT_CALENDAR, VN_TZ, WorkCalendar, calendar_from_config

CAL = DEFAULT_CALENDAR


def vn(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN_TZ)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(n) for n in range((end - start).days + 1)]


# -- holidays ---------------------------------------------------------------------------

def test_tet_2026_matches_holidays_data():
    vn_2026 = holidays.country_holidays("VN", years=2026)
    tet = days(date(2026, 2, 16), date(2026, 2, 20))  # Mon..Fri: eve + days 1-4
    assert all(d in vn_2026 for d in tet)
    assert not any(CAL.is_workday(d) for d in days(date(2026, 2, 14), date(2026, 2, 22)))
    assert CAL.is_workday(date(2026, 2, 13)) and CAL.is_workday(date(2026, 2, 23))
    assert CAL.next_workday(date(2026, 2, 13)) == date(2026, 2, 23)
    # received Friday morning before Tết with a 1-day limit: due the Monday after
    assert CAL.due_date(vn(2026, 2, 13, 9), 1) == date(2026, 2, 23)


def test_tet_2027_is_only_an_estimate():
    """The package's Tết 2027 is an estimate until the official schedule is recorded: the calendar follows
    whatever the package says (no date pinned here), and the data says it is an estimate."""
    from dialogs.workdays import OFFICIAL_CALENDAR
    assert 2027 not in OFFICIAL_CALENDAR.official_years
    assert any(e["year"] == 2027 for e in OFFICIAL_CALENDAR.estimates)
    vn_2027 = holidays.country_holidays("VN", years=2027)
    for d in days(date(2027, 1, 20), date(2027, 2, 28)):
        if d in vn_2027 and d.weekday() < 5:
            assert not CAL.is_workday(d)


def test_new_year_2026_swap_is_official_data():
    # Friday 2/1/2026 off, Saturday 10/1/2026 worked (dialogs/data/calendar_vn.yaml)
    assert not CAL.is_workday(date(2026, 1, 2)) and CAL.is_holiday(date(2026, 1, 2))
    assert CAL.is_workday(date(2026, 1, 10))
    # received Wednesday 31/12/2025 with 2 working days: Mon 5/1, Tue 6/1
    assert CAL.due_date(vn(2025, 12, 31, 9), 2) == date(2026, 1, 6)
    # without the recorded decisions the package alone gets it wrong
    bare = WorkCalendar(official=None)
    assert bare.is_workday(date(2026, 1, 2)) and not bare.is_workday(date(2026, 1, 10))


def test_missing_official_schedule_is_reported():
    from dialogs.workdays import OfficialCalendar, missing_official_year
    assert missing_official_year(date(2026, 12, 4)) == 2027
    assert missing_official_year(date(2026, 12, 4), OfficialCalendar({"official_years": [2027]})) is None


def test_reunification_and_labour_day():
    assert not CAL.is_workday(date(2026, 4, 30)) and not CAL.is_workday(date(2026, 5, 1))
    assert CAL.is_workday(date(2026, 4, 29)) and CAL.is_workday(date(2026, 5, 4))
    # 2027: 1/5 is a Saturday, so Monday 3/5 is the day off in lieu
    assert not CAL.is_workday(date(2027, 5, 3))
    assert CAL.public_holiday(date(2027, 5, 3)) is not None
    # Hùng Kings' Day 2026 fell on Sunday 26/4: Monday 27/4 off
    assert not CAL.is_workday(date(2026, 4, 27))
    assert CAL.due_date(vn(2026, 4, 28, 9), 2) == date(2026, 5, 4)  # Wed 29/4, then Mon 4/5


def test_national_day_with_extra_day_and_swapped_saturday():
    # 2025: Monday 1/9 and Tuesday 2/9
    assert not CAL.is_workday(date(2025, 9, 1)) and not CAL.is_workday(date(2025, 9, 2))
    # 2026: Tue 1/9 and Wed 2/9, plus Mon 31/8 swapped for Saturday 22/8
    for d in (date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2)):
        assert not CAL.is_workday(d)
    assert CAL.is_workday(date(2026, 8, 22))  # make-up Saturday from the holidays data
    assert CAL.is_workday(date(2026, 9, 3))
    assert CAL.is_holiday(date(2026, 8, 31)) and not CAL.is_holiday(date(2026, 8, 22))


def test_vietnam_culture_day_is_a_day_off_with_its_basis_recorded():
    from dialogs.workdays import OFFICIAL_CALENDAR, OfficialCalendar
    assert CAL.public_holiday(date(2026, 11, 24)) is not None and not CAL.is_workday(date(2026, 11, 24))
    [basis] = [h for h in OFFICIAL_CALENDAR.holidays if h["month_day"] == "11-24"]
    assert "28/2026/QH16" in basis["source"]
    assert CAL.is_workday(date(2025, 11, 24))  # a Monday, before the resolution
    # a package holiday listed without a basis is a working day
    no_basis = OfficialCalendar({"not_holidays": [{"month_day": "11-24", "from": "2026-01-01", "source": "none"}]})
    assert WorkCalendar(official=no_basis).is_workday(date(2026, 11, 24))


def test_weekend():
    assert CAL.is_workday(date(2026, 12, 4))  # Friday
    assert not CAL.is_workday(date(2026, 12, 5)) and not CAL.is_workday(date(2026, 12, 6))
    assert CAL.next_workday(date(2026, 12, 4)) == date(2026, 12, 7)
    assert CAL.previous_workday(date(2026, 12, 7)) == date(2026, 12, 4)
    assert not CAL.is_holiday(date(2026, 12, 5))


def test_datetimes_are_read_in_local_time():
    # 23:30 UTC on Friday is already Saturday in Vietnam
    assert not CAL.is_workday(datetime(2026, 12, 4, 23, 30, tzinfo=UTC))


# -- deadlines --------------------------------------------------------------------------

def test_cutoff_both_sides():
    assert CAL.start_day(vn(2026, 12, 7, 14, 59)) == date(2026, 12, 7)
    assert CAL.start_day(vn(2026, 12, 7, 15, 0)) == date(2026, 12, 8)
    assert CAL.due_date(vn(2026, 12, 7, 14, 59), 3) == date(2026, 12, 10)
    assert CAL.due_date(vn(2026, 12, 7, 15, 0), 3) == date(2026, 12, 11)
    # the same instants given in UTC, and as naive local times
    assert CAL.start_day(datetime(2026, 12, 7, 7, 59, tzinfo=UTC)) == date(2026, 12, 7)
    assert CAL.start_day(datetime(2026, 12, 7, 8, 0, tzinfo=UTC)) == date(2026, 12, 8)
    assert CAL.start_day(datetime(2026, 12, 7, 14, 59)) == date(2026, 12, 7)


def test_examples_from_the_convention():
    assert CAL.due_date(vn(2026, 12, 4, 16), 1) == date(2026, 12, 8)    # Fri 16:00 → Tue
    assert CAL.due_date(vn(2026, 12, 7, 10), 3) == date(2026, 12, 10)   # Mon 10:00 → Thu
    assert CAL.due_date(vn(2026, 12, 5, 9), 1) == date(2026, 12, 8)     # Saturday → from Monday
    assert CAL.due_date(vn(2026, 12, 7, 10), 0) == date(2026, 12, 7)
    with pytest.raises(ValueError):
        CAL.due_date(vn(2026, 12, 7), -1)


def test_add_workdays_and_between():
    assert CAL.add_workdays(date(2026, 12, 4), 1) == date(2026, 12, 7)
    assert CAL.add_workdays(date(2026, 12, 7), -1) == date(2026, 12, 4)
    assert CAL.add_workdays(date(2026, 12, 7), 0) == date(2026, 12, 7)
    assert CAL.add_workdays(date(2026, 12, 7), 10) == date(2026, 12, 21)
    assert CAL.workdays_between(date(2026, 12, 4), date(2026, 12, 7)) == 1
    assert CAL.workdays_between(date(2026, 12, 7), date(2026, 12, 4)) == -1
    assert CAL.workdays_between(date(2026, 12, 7), date(2026, 12, 7)) == 0
    assert CAL.workdays_between(date(2026, 12, 7), date(2026, 12, 21)) == 10
    assert CAL.workdays_between(date(2026, 2, 13), date(2026, 2, 23)) == 1
    for n in range(0, 30):
        assert CAL.workdays_between(date(2026, 1, 2), CAL.add_workdays(date(2026, 1, 2), n)) == n


def test_makeup_saturday_and_extra_holiday():
    cal = WorkCalendar(makeup_workdays=[date(2026, 12, 12)], extra_holidays=["2026-12-14"])
    assert cal.is_workday(date(2026, 12, 12))
    assert not cal.is_workday(date(2026, 12, 14)) and cal.is_holiday(date(2026, 12, 14))
    assert cal.next_workday(date(2026, 12, 11)) == date(2026, 12, 12)
    # received Friday 16:00: day 0 is the make-up Saturday, +1 skips Sunday and the extra holiday
    assert cal.start_day(vn(2026, 12, 11, 16)) == date(2026, 12, 12)
    assert cal.due_date(vn(2026, 12, 11, 16), 1) == date(2026, 12, 15)
    assert CAL.due_date(vn(2026, 12, 11, 16), 1) == date(2026, 12, 15)  # Mon 14 → Tue 15 by default too
    assert CAL.due_date(vn(2026, 12, 11, 16), 0) == date(2026, 12, 14)
    # a declared working day wins even over a public holiday
    assert WorkCalendar(makeup_workdays=[date(2026, 9, 2)]).is_workday(date(2026, 9, 2))
    with pytest.raises(ValueError):
        WorkCalendar(makeup_workdays=[date(2026, 12, 12)], extra_holidays=[date(2026, 12, 12)])


def test_from_config():
    cal = WorkCalendar.from_config({"makeup_workdays": ["2026-12-12"], "extra_holidays": [date(2026, 12, 14)],
                                    "cutoff": "16:30"})
    assert cal.is_workday(date(2026, 12, 12)) and not cal.is_workday(date(2026, 12, 14))
    assert cal.cutoff == time(16, 30)
    assert cal.start_day(vn(2026, 12, 7, 16)) == date(2026, 12, 7)
    assert calendar_from_config(None) is DEFAULT_CALENDAR
    assert calendar_from_config({}) is DEFAULT_CALENDAR
    assert calendar_from_config({"extra_holidays": ["2027-02-11"]}).is_holiday(date(2027, 2, 11))
    with pytest.raises(ValueError):
        WorkCalendar.from_config({"makeup_workday": ["2026-12-12"]})  # typo
    with pytest.raises(ValueError):
        WorkCalendar.from_config({"extra_holidays": ["12/14/2026"]})


# -- paused clock -------------------------------------------------------------------------

RECEIVED = vn(2026, 12, 7, 10)  # Monday; 5 working days → Monday 14/12


def test_no_pause_is_the_plain_due_date():
    assert CAL.due_date(RECEIVED, 5) == date(2026, 12, 14)
    assert CAL.due_date_with_pauses(RECEIVED, 5, [], now=vn(2026, 12, 9)) == date(2026, 12, 14)


def test_closed_pauses():
    due = CAL.due_date_with_pauses
    # asked Tue 10:00, answered Thu 10:00: Wed and Thu do not count → +2 working days
    assert due(RECEIVED, 5, [(vn(2026, 12, 8, 10), vn(2026, 12, 10, 10))], now=vn(2026, 12, 11)) \
        == date(2026, 12, 16)
    # answered Thu 16:00 (after the cut-off): the clock restarts Friday → +3
    assert due(RECEIVED, 5, [(vn(2026, 12, 8, 10), vn(2026, 12, 10, 16))], now=vn(2026, 12, 11)) \
        == date(2026, 12, 17)
    # asked and answered the same morning: nothing lost
    assert due(RECEIVED, 5, [(vn(2026, 12, 8, 9), vn(2026, 12, 8, 11))], now=vn(2026, 12, 11)) \
        == date(2026, 12, 14)
    # asked Friday, answered Monday morning: only Monday is paused (weekend is not counted anyway)
    assert due(RECEIVED, 5, [(vn(2026, 12, 11, 10), vn(2026, 12, 14, 9))], now=vn(2026, 12, 14)) \
        == date(2026, 12, 15)
    # overlapping pauses count each day once
    assert due(RECEIVED, 5, [(vn(2026, 12, 8, 10), vn(2026, 12, 10, 10)),
                             (vn(2026, 12, 9, 10), vn(2026, 12, 10, 11))], now=vn(2026, 12, 11)) \
        == date(2026, 12, 16)
    # a pause that starts after the due date does not move it
    assert due(RECEIVED, 5, [(vn(2026, 12, 15, 10), vn(2026, 12, 18, 10))], now=vn(2026, 12, 18)) \
        == date(2026, 12, 14)
    with pytest.raises(ValueError):
        due(RECEIVED, 5, [(vn(2026, 12, 10), vn(2026, 12, 8))], now=vn(2026, 12, 11))


def test_open_pause_extends_through_now():
    due = CAL.due_date_with_pauses
    pause = [(vn(2026, 12, 8, 10), None)]
    # still waiting on Thursday morning: Wed and Thu are paused
    assert due(RECEIVED, 5, pause, now=vn(2026, 12, 10, 9)) == date(2026, 12, 16)
    # still waiting on Friday 16:00: the earliest restart is Monday → Wed..Mon paused
    assert due(RECEIVED, 5, pause, now=vn(2026, 12, 11, 16)) == date(2026, 12, 18)
    # the due date keeps moving while the citizen does not answer
    assert due(RECEIVED, 5, pause, now=vn(2026, 12, 21, 9)) == date(2026, 12, 25)


# -- classification ------------------------------------------------------------------------

DUE = date(2026, 12, 10)  # Thursday


@pytest.mark.parametrize("finished, expected", [
    (vn(2026, 12, 9, 16), "early"),
    (vn(2026, 12, 10, 8), "on_time"),
    (vn(2026, 12, 10, 23, 59), "on_time"),
    (vn(2026, 12, 11, 8), "late"),
])
def test_classify_closed(finished, expected):
    assert CAL.classify(DUE, finished, now=vn(2026, 12, 20)) == expected


@pytest.mark.parametrize("now, expected", [
    (vn(2026, 12, 7, 9), "in_time"),
    (vn(2026, 12, 9, 9), "due_soon"),     # due tomorrow (next working day)
    (vn(2026, 12, 10, 17), "due_soon"),   # due today
    (vn(2026, 12, 11, 0, 1), "overdue"),
])
def test_classify_open(now, expected):
    assert CAL.classify(DUE, None, now=now) == expected


def test_classify_due_soon_over_a_weekend():
    monday = date(2026, 12, 14)
    assert CAL.classify(monday, None, now=vn(2026, 12, 11, 9)) == "due_soon"   # Friday
    assert CAL.classify(monday, None, now=vn(2026, 12, 10, 9)) == "in_time"    # Thursday
    # a finish time in UTC is read in Vietnamese time: 17:30 UTC Thu = 00:30 Fri in Vietnam
    assert CAL.classify(DUE, datetime(2026, 12, 10, 17, 30, tzinfo=UTC), now=vn(2026, 12, 20)) == "late"
