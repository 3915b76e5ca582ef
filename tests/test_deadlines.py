"""Deadlines of dossier legs: holidays, the 15:00 cut-off, make-up days, the paused clock, classification,
and the due-tomorrow / overdue pushes."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from bot import cases as off
from bot.service import Runtime
from dialogs import lifecycle as lc
from dialogs.workdays import WorkCalendar
from storage.officers_repo import LegRepo, OfficerRepo
from tests.conftest import VN
from tests.test_officers import do, leg_of, officer, outbox, submit


def at(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


@pytest.mark.parametrize("when,due", [
    (at(2026, 11, 23, 9), date(2026, 11, 27)),     # Tue 24/11 is Vietnam Culture Day
    (at(2026, 11, 20, 14, 59), date(2026, 11, 26)),  # Friday before 15:00: Friday is day 0
    (at(2026, 11, 20, 15, 0), date(2026, 11, 27)),   # at 15:00: counts from Monday
    (at(2026, 11, 21, 10), date(2026, 11, 27)),      # Saturday: counts from Monday
    (at(2026, 4, 29, 10), date(2026, 5, 6)),         # 30/4 and 1/5 are off
    (at(2026, 8, 20, 10), date(2026, 8, 24)),        # Saturday 22/8/2026 is a make-up working day
])
async def test_due_date_of_the_leg(runtime: Runtime, when, due):
    code = await submit(runtime, when=when)
    leg = await leg_of(runtime, code)
    assert leg.due_date == due and leg.processing_days == 3


async def test_configurable_makeup_working_day(runtime: Runtime):
    runtime.calendar = WorkCalendar(makeup_workdays=["2026-11-28"])  # a Saturday declared a working day
    code = await submit(runtime, when=at(2026, 11, 25, 10))
    assert (await leg_of(runtime, code)).due_date == date(2026, 11, 28)
    runtime.calendar = WorkCalendar(extra_holidays=["2026-11-26"])
    code = await submit(runtime, when=at(2026, 11, 25, 10))
    assert (await leg_of(runtime, code)).due_date == date(2026, 12, 1)


async def test_the_clock_pauses_while_waiting_for_the_citizen(runtime: Runtime, clock):
    desk = await officer(runtime, lc.DESK)
    code = await submit(runtime, when=at(2026, 11, 23, 9))  # due Friday 27/11
    clock.when = at(2026, 11, 23, 10)
    await do(runtime, desk, off.claim, code)
    await do(runtime, desk, off.request_supplement, code, ["contact.phone"], "Số điện thoại sai")
    leg = await leg_of(runtime, code)
    assert leg.paused_since is not None and leg.due_date == date(2026, 11, 27)
    # while paused, the due date shown moves forward day by day
    assert off.effective_due(leg, runtime.calendar, at(2026, 11, 23, 14)) == date(2026, 11, 27)
    # an answer after 15:00 would count from the next working day, so that day is lost already
    assert off.effective_due(leg, runtime.calendar, at(2026, 11, 23, 16)) == date(2026, 11, 30)
    assert off.effective_due(leg, runtime.calendar, at(2026, 11, 25, 9)) == date(2026, 11, 30)
    assert off.effective_due(leg, runtime.calendar, at(2026, 11, 26, 9)) == date(2026, 12, 1)
    async with runtime.sm() as db:
        [item] = await off.citizen_dossiers(db, "console:citizen", runtime.calendar, at(2026, 11, 26, 9))
    assert item["due_date"] == date(2026, 12, 1) and item["status"] == "needs_supplement"
    # resubmitted Thursday 26/11 at 16:00 (after the cut-off): Wed, Thu and Fri do not count
    clock.when = at(2026, 11, 26, 16)
    async with runtime.sm() as db, db.begin():
        [req] = await off.open_supplement_requests(db, "console:citizen")
        await off.resubmit(db, req["id"], {"contact.phone": "0987654321"}, "console:citizen", clock.when)
    leg = await leg_of(runtime, code)
    assert leg.paused_since is None and leg.due_date == date(2026, 12, 2)
    assert leg.paused_workdays == 3
    async with runtime.sm() as db:
        d = await LegRepo(db).dossier(code)
        assert d.due_date == date(2026, 12, 2)  # the dossier's overall due date follows its legs
    # a second supplement: the procedure's clock (restarts_after_supplement, NĐ 61/2018 Art. 19 §4 as recorded
    # in its YAML) starts the time limit again from the resubmission: 3 working days from Tuesday 01/12
    clock.when = at(2026, 11, 30, 9)
    await do(runtime, desk, off.claim, code)
    await do(runtime, desk, off.request_supplement, code, ["contact.phone"], "Vẫn sai")
    clock.when = at(2026, 12, 1, 9)
    async with runtime.sm() as db, db.begin():
        [req] = await off.open_supplement_requests(db, "console:citizen")
        await off.resubmit(db, req["id"], {"contact.phone": "0911111111"}, "console:citizen", clock.when)
    assert (await leg_of(runtime, code)).due_date == date(2026, 12, 4)


async def test_the_time_limit_runs_from_the_desks_receipt(runtime: Runtime, clock):
    """The chat's date is an estimate; the desk's receipt sets the appointment date and the citizen hears it."""
    desk = await officer(runtime, lc.DESK)
    code = await submit(runtime, when=at(2026, 11, 23, 9))  # estimated: Friday 27/11
    assert (await leg_of(runtime, code)).due_date == date(2026, 11, 27)
    clock.when = at(2026, 11, 25, 10)  # received on Wednesday: 3 working days from Thursday 26/11
    await do(runtime, desk, off.claim, code)
    await do(runtime, desk, off.receive, code)
    leg = await leg_of(runtime, code)
    assert leg.received_at is not None and leg.due_date == date(2026, 11, 30)
    async with runtime.sm() as db:
        d = await LegRepo(db).dossier(code)
        assert d.due_date == date(2026, 11, 30)
        [item] = await off.citizen_dossiers(db, "console:citizen", runtime.calendar, clock.when)
    assert item["due_date"] == date(2026, 11, 30)


async def _close(runtime: Runtime, code: str, leader: int, when: datetime, received: datetime) -> None:
    await do(runtime, leader, off.claim, code, now=received)
    await do(runtime, leader, off.receive, code, now=received)  # the time limit runs from here
    await do(runtime, leader, off.claim, code, now=when)
    await do(runtime, leader, off.approve, code, "1/QĐ", now=when)
    await do(runtime, leader, off.claim, code, now=when)
    await do(runtime, leader, off.return_result, code, now=when)


@pytest.mark.parametrize("finish,expected", [
    (at(2026, 11, 26, 10), "early"), (at(2026, 11, 27, 16), "on_time"), (at(2026, 11, 30, 8), "late")])
async def test_closed_dossiers_are_classed(runtime: Runtime, finish, expected):
    leader = await officer(runtime, lc.LEADER)
    code = await submit(runtime, when=at(2026, 11, 23, 9))
    await _close(runtime, code, leader, finish, received=at(2026, 11, 23, 9, 30))  # due Friday 27/11
    leg = await leg_of(runtime, code)
    assert leg.timeliness == expected and off.deadline_class(leg, runtime.calendar, finish) == expected


async def test_open_dossiers_due_soon_and_overdue(runtime: Runtime):
    code = await submit(runtime, when=at(2026, 11, 23, 9))  # due Friday 27/11
    leg = await leg_of(runtime, code)
    cal = runtime.calendar
    assert off.deadline_class(leg, cal, at(2026, 11, 23, 12)) == "in_time"
    assert off.deadline_class(leg, cal, at(2026, 11, 26, 12)) == "due_soon"
    assert off.deadline_class(leg, cal, at(2026, 11, 27, 12)) == "due_soon"
    assert off.deadline_class(leg, cal, at(2026, 11, 28, 12)) == "overdue"
    assert off.days_left(leg.due_date, cal, at(2026, 11, 23, 12)) == 3
    assert off.days_left(leg.due_date, cal, at(2026, 11, 27, 12)) == 0
    assert off.days_left(leg.due_date, cal, at(2026, 11, 28, 12)) == -1  # Saturday: late already
    assert off.days_left(leg.due_date, cal, at(2026, 12, 1, 12)) == -2


async def test_due_tomorrow_and_overdue_pushes(runtime: Runtime):
    desk = await officer(runtime, lc.DESK)
    spec = await officer(runtime, lc.SPECIALIST)
    code = await submit(runtime, when=at(2026, 11, 23, 9))  # due Friday 27/11
    await do(runtime, desk, off.claim, code)
    async with runtime.sm() as db, db.begin():
        assert await off.scan_deadlines(db, runtime.calendar, at(2026, 11, 25, 8)) == 0
        assert await off.scan_deadlines(db, runtime.calendar, at(2026, 11, 26, 8)) == 1  # to the assignee only
        assert await off.scan_deadlines(db, runtime.calendar, at(2026, 11, 26, 9)) == 0  # once
    [push] = await outbox(runtime, kind="officer_due_tomorrow")
    assert code in push.payload["text"] and "27/11/2026" in push.payload["text"]
    await do(runtime, desk, off.release, code)
    async with runtime.sm() as db, db.begin():
        assert await off.scan_deadlines(db, runtime.calendar, at(2026, 11, 30, 8)) == 2  # nobody has it: all
        assert await off.scan_deadlines(db, runtime.calendar, at(2026, 11, 30, 14)) == 0  # once a day
        # still overdue the next working day: one reminder per leg and officer again, and no more that day
        assert await off.scan_deadlines(db, runtime.calendar, at(2026, 12, 1, 8)) == 2
        assert await off.scan_deadlines(db, runtime.calendar, at(2026, 12, 1, 16)) == 0
    pushes = await outbox(runtime, kind="officer_overdue")
    assert len(pushes) == 4 and "quá hạn 1 ngày" in pushes[0].payload["text"]
    assert "quá hạn 2 ngày" in pushes[-1].payload["text"]
    assert len({p.dedupe_key for p in pushes}) == 4
    del spec


async def test_no_push_once_the_dossier_is_closed(runtime: Runtime):
    leader = await officer(runtime, lc.LEADER)
    code = await submit(runtime, when=at(2026, 11, 23, 9))  # due Friday 27/11
    async with runtime.sm() as db, db.begin():
        assert await off.scan_deadlines(db, runtime.calendar, at(2026, 11, 30, 8)) == 1
    await do(runtime, leader, off.claim, code, now=at(2026, 11, 30, 9))
    await do(runtime, leader, off.reject, code, "Không đủ điều kiện", now=at(2026, 11, 30, 9))
    async with runtime.sm() as db, db.begin():
        assert await off.scan_deadlines(db, runtime.calendar, at(2026, 12, 1, 8)) == 0


async def test_no_push_while_the_clock_is_paused(runtime: Runtime):
    desk = await officer(runtime, lc.DESK)
    code = await submit(runtime, when=at(2026, 11, 23, 9))
    await do(runtime, desk, off.claim, code, now=at(2026, 11, 23, 10))
    await do(runtime, desk, off.request_supplement, code, ["contact.phone"], "Sai số",
             now=at(2026, 11, 23, 10))
    async with runtime.sm() as db, db.begin():
        assert await off.scan_deadlines(db, runtime.calendar, at(2026, 12, 7, 8)) == 0


def test_calendar_file_from_the_environment(tmp_path):
    from dialogs import workdays
    path = tmp_path / "calendar.yaml"
    path.write_text("# Tết 2027 swap\nmakeup_workdays: [2026-11-28]\nextra_holidays: ['2026-11-26']\n",
                    encoding="utf-8")
    cal = workdays.calendar_from_env({workdays.CALENDAR_ENV: str(path)})
    assert cal.is_workday(date(2026, 11, 28)) and not cal.is_workday(date(2026, 11, 26))
    assert cal.due_date(at(2026, 11, 25, 10), 3) == date(2026, 11, 30)  # Thu 26 off, Sat 28 worked
    plain = workdays.calendar_from_env({})
    assert not plain.makeup_workdays and plain.cutoff == workdays.DEFAULT_CUTOFF
    path.write_text("makeup_workday: [2026-11-28]\n", encoding="utf-8")  # a typo must not pass silently
    with pytest.raises(ValueError, match=r"calendar\.yaml"):
        workdays.calendar_from_env({workdays.CALENDAR_ENV: str(path)})
    with pytest.raises(ValueError, match=r"missing\.yaml"):
        workdays.load_calendar(tmp_path / "missing.yaml")


# --- 1-working-day legs, escalation and nobody in scope (officer desk D8, D15) -----------------------------
async def test_a_one_day_leg_is_pushed_when_filed_due_today_morning_and_afternoon(chat, runtime: Runtime):
    from bot.jobs import AfternoonDeadlines
    from tests.test_conversation_linked import birth_docs, birth_insurance, birth_people, birth_residence, birth_start
    from tests.test_conversation_linked import officer as agency_officer
    from tests.test_conversation_linked import submit as submit_linked
    await agency_officer(runtime, "commune", "24958")  # before the dossier: it must be pushed to them
    async with runtime.sm() as db, db.begin():
        o = (await OfficerRepo(db).list())[0]
        o.user_key = "console:clerk"
    await birth_start(chat)
    await birth_people(chat)
    await birth_residence(chat)
    await birth_insurance(chat)
    await birth_docs(chat)
    code = await submit_linked(chat)  # Monday 23/11 09:00; the commune leg is due the next working day
    legs = {leg.agency: leg for leg in await _legs(runtime, code)}
    assert legs["commune"].commune_code == "24958"
    due = legs["commune"].due_date
    assert due == runtime.calendar.next_workday(date(2026, 11, 23))
    pushed = [m for m in await outbox(runtime) if m.chat_key == "console:clerk"]
    assert [m.kind for m in pushed] == ["officer_new", "officer_due_tomorrow"]  # told at once, not when late
    async with runtime.sm() as db, db.begin():  # the due day's morning: due today, once
        assert await off.scan_deadlines(db, runtime.calendar, at(due.year, due.month, due.day, 7, 31)) >= 1
        assert await off.scan_deadlines(db, runtime.calendar, at(due.year, due.month, due.day, 8, 0)) == 0
    job = AfternoonDeadlines(runtime.sm, calendar=runtime.calendar,
                             now=lambda: at(due.year, due.month, due.day, 13, 59))
    assert await job() is None
    job.now = lambda: at(due.year, due.month, due.day, 14, 0)
    assert (await job())["due_today_pushes"] >= 1
    assert await job() is None  # once a day
    kinds = [m.kind for m in await outbox(runtime) if m.chat_key == "console:clerk"]
    assert kinds.count("officer_due_today") == 2


async def test_overdue_escalates_to_the_leader(runtime: Runtime):
    desk = await officer(runtime, lc.DESK, name="Văn thư")
    leader = await officer(runtime, lc.LEADER, name="Chủ tịch")
    code = await submit(runtime, when=at(2026, 11, 16, 9))  # due Thu 19/11
    await do(runtime, desk, off.claim, code, now=at(2026, 11, 16, 10))
    async with runtime.sm() as db, db.begin():
        await off.scan_deadlines(db, runtime.calendar, at(2026, 11, 20, 7, 31))
    overdue = [m for m in await outbox(runtime) if m.kind == "officer_overdue"]
    async with runtime.sm() as db:
        keys = {(await OfficerRepo(db).get(i)).user_key for i in (desk, leader)}
    assert {m.chat_key for m in overdue} == keys  # the holder and the leader


async def test_a_dossier_nobody_would_see_alerts_the_focal_point_and_says_so(runtime: Runtime):
    await officer(runtime, lc.LEADER, name="Đầu mối xã", focal=True, agency="police")
    code = await submit(runtime)  # the commune has a police focal point but no commune officer
    pushed = [m for m in await outbox(runtime) if m.kind == "officer_unassigned"]
    assert len(pushed) == 1 and code in pushed[0].payload["text"] and "chưa có cán bộ" in pushed[0].payload["text"]
    [receipt] = [m for m in await outbox(runtime) if m.kind == "citizen_submitted"]
    assert "ngày hẹn trên có thể thay đổi" in receipt.payload["text"]


async def _legs(rt: Runtime, code: str):
    async with rt.sm() as db:
        d = await LegRepo(db).dossier(code)
        return await LegRepo(db).of_dossier(d.id)


async def test_a_supplement_has_a_deadline_a_reminder_and_an_end(runtime: Runtime):
    """Officer desk D6: the citizen reads the deadline and is reminded; once it passes the dossier can be
    returned (rejected for not supplementing), and a leader can always give it to someone else."""
    desk = await officer(runtime, lc.DESK, name="Văn thư")
    leader = await officer(runtime, lc.LEADER, name="Chủ tịch")
    code = await submit(runtime, when=at(2026, 11, 25, 9))
    await do(runtime, desk, off.claim, code, now=at(2026, 11, 25, 10))
    async with runtime.sm() as db, db.begin():
        o = await OfficerRepo(db).get(desk)
        req = await off.request_supplement(db, o, code, ["contact.phone"], "Số điện thoại không liên lạc được",
                                           at(2026, 11, 25, 10), calendar=runtime.calendar, days=5)
        due = req.due_date
    assert due == runtime.calendar.due_date(at(2026, 11, 25, 10), 5)
    [told] = [m for m in await outbox(runtime) if m.kind == "citizen_needs_supplement"]
    assert f"Hạn bổ sung: hết ngày {due:%d/%m/%Y}" in told.payload["text"]
    with pytest.raises(off.ActionRefused) as exc:  # still within the deadline
        await do(runtime, desk, off.reject, code, "Trả lại hồ sơ do không bổ sung", now=at(2026, 11, 26, 9))
    assert "còn trong hạn bổ sung" in exc.value.text("vi")
    # two working days before: one reminder to the citizen, however often the daily job runs
    before = runtime.calendar.previous_workday(runtime.calendar.previous_workday(due))
    for hh in (7, 9):
        async with runtime.sm() as db, db.begin():
            await off.scan_supplements(db, runtime.calendar, at(before.year, before.month, before.day, hh, 31))
    assert len([m for m in await outbox(runtime) if m.kind == "citizen_supplement_reminder"]) == 1
    # the day after the deadline: the holder and the leader hear it; the desk returns the dossier
    late = runtime.calendar.next_workday(due)
    async with runtime.sm() as db, db.begin():
        await off.scan_supplements(db, runtime.calendar, at(late.year, late.month, late.day, 7, 31))
    assert len([m for m in await outbox(runtime) if m.kind == "officer_supplement_late"]) == 2
    await do(runtime, leader, off.reassign, code, desk, now=at(late.year, late.month, late.day, 8))
    await do(runtime, desk, off.reject, code, "Trả lại hồ sơ do không bổ sung trong hạn",
             now=at(late.year, late.month, late.day, 9))
    assert (await leg_of(runtime, code)).status == lc.REJECTED
