"""Daily reports for focal points (counts, chart, schedule) and the monthly statistics."""
from __future__ import annotations

import base64
from datetime import date, datetime

from bot import cases as off
from bot import reports
from bot.service import Runtime
from dialogs import lifecycle as lc
from tests.conftest import VN
from tests.test_officers import COMMUNE, do, officer, outbox, submit

DISABILITY = "doi-cap-lai-giay-xac-nhan-khuyet-tat"


def at(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


async def _finish(rt: Runtime, leader: int, code: str, when: datetime, received: datetime) -> None:
    for step in (off.claim, off.receive):  # received at once: the time limit runs from the desk's receipt
        await do(rt, leader, step, code, now=received)
    await do(rt, leader, off.claim, code, now=when)
    await do(rt, leader, off.approve, code, "9/QĐ-UBND", now=when)
    await do(rt, leader, off.claim, code, now=when)
    await do(rt, leader, off.return_result, code, now=when)


async def _scenario(rt: Runtime) -> dict[str, str]:
    leader = await officer(rt, lc.LEADER, focal=True)
    codes = {
        "old_overdue": await submit(rt, when=at(2026, 11, 16, 9)),       # due Thu 19/11: overdue
        "due_today": await submit(rt, when=at(2026, 11, 19, 9)),         # due Wed 25/11 (24/11 off)
        "new_fri": await submit(rt, when=at(2026, 11, 27, 10)),           # new in Monday's window
        "new_sat": await submit(rt, when=at(2026, 11, 28, 10), procedure=DISABILITY),
        "done_late": await submit(rt, when=at(2026, 11, 20, 9)),         # due Thu 26/11, done Fri 27/11
        "done_early": await submit(rt, when=at(2026, 11, 25, 9)),        # due Mon 30/11, done Fri 27/11
        "other_commune": await submit(rt, when=at(2026, 11, 27, 10), commune="99999"),
    }
    await _finish(rt, leader, codes["done_late"], at(2026, 11, 27, 11), received=at(2026, 11, 20, 9, 30))
    await _finish(rt, leader, codes["done_early"], at(2026, 11, 27, 12), received=at(2026, 11, 25, 9, 30))
    return codes


async def test_daily_report_counts(runtime: Runtime):
    codes = await _scenario(runtime)
    day = date(2026, 11, 30)  # Monday: the window is Friday 27/11 00:00 → Monday 00:00
    async with runtime.sm() as db:
        report = await reports.daily_report(db, "commune", COMMUNE, day, at(2026, 11, 30, 7, 30),
                                            calendar=runtime.calendar)
    by = {r.procedure: r for r in report.rows}
    funeral, disab = by["ho-tro-chi-phi-mai-tang"], by[DISABILITY]
    assert (funeral.new, funeral.in_progress, funeral.overdue, funeral.on_time, funeral.late) == (1, 3, 2, 1, 1)
    assert (disab.new, disab.in_progress) == (1, 1)
    # due today: Wednesday 25/11 for the dossier filed on 19/11
    async with runtime.sm() as db:
        report = await reports.daily_report(db, "commune", COMMUNE, date(2026, 11, 25), at(2026, 11, 25, 7, 30),
                                            calendar=runtime.calendar)
    assert {r.procedure: r.due_today for r in report.rows}["ho-tro-chi-phi-mai-tang"] == 1
    text = reports.report_text("commune", COMMUNE, day, report)
    assert "Báo cáo ngày 30/11/2026" in text and "Quá hạn" in text and "Hỗ trợ chi phí mai táng" in text
    # the period and the time it was made are stated; the overdue dossiers are named with who holds them
    assert "Kỳ báo cáo: từ 00:00 23/11/2026 đến 00:00 25/11/2026 · Cập nhật lúc 07:30 25/11/2026" in text
    assert f"• {codes['old_overdue']} — UBND cấp xã — chưa có người nhận xử lý" in text
    png = reports.report_chart(report.rows, "Báo cáo")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000


async def test_an_overdue_dossier_is_named_with_the_officer_who_holds_it(runtime: Runtime):
    leader = await officer(runtime, lc.LEADER, name="Trần Thị Lan", focal=True)
    code = await submit(runtime, when=at(2026, 11, 16, 9))  # due Thursday 19/11
    await do(runtime, leader, off.claim, code, now=at(2026, 11, 16, 10))
    async with runtime.sm() as db:
        report = await reports.daily_report(db, "commune", COMMUNE, date(2026, 11, 30), at(2026, 11, 30, 7, 30),
                                            calendar=runtime.calendar)
    assert f"• {code} — UBND cấp xã — Trần Thị Lan" in reports.report_text("commune", COMMUNE, date(2026, 11, 30),
                                                                            report)


async def test_daily_reports_are_queued_on_working_days_before_nine_once(runtime: Runtime):
    await _scenario(runtime)
    async with runtime.sm() as db, db.begin():
        assert await reports.run_daily(db, at(2026, 11, 29, 8), calendar=runtime.calendar) == \
            {"reports": 0, "deadline_pushes": 0}  # Sunday
        assert (await reports.run_daily(db, at(2026, 11, 30, 7), calendar=runtime.calendar))["reports"] == 0
        done = await reports.run_daily(db, at(2026, 11, 30, 7, 31), calendar=runtime.calendar)
        assert done["reports"] == 1 and done["deadline_pushes"] >= 1
        again = await reports.run_daily(db, at(2026, 11, 30, 8, 0), calendar=runtime.calendar)
        assert again == {"reports": 0, "deadline_pushes": 0}
    [rep] = await outbox(runtime, kind="officer_daily_report")
    assert "30/11/2026" in rep.payload["text"]
    assert base64.b64decode(rep.payload["image_png"]).startswith(b"\x89PNG")


async def test_the_notifiers_scheduler_runs_the_daily_jobs_once_a_working_day(runtime: Runtime):
    await _scenario(runtime)
    when = [at(2026, 11, 29, 8)]  # Sunday
    jobs = reports.DailyJobs(runtime.sm, calendar=runtime.calendar, now=lambda: when[0])
    assert await jobs() is None
    when[0] = at(2026, 11, 30, 7, 0)  # Monday, too early
    assert await jobs() is None
    when[0] = at(2026, 11, 30, 7, 31)
    done = await jobs()
    assert done["reports"] == 1 and done["deadline_pushes"] >= 1
    when[0] = at(2026, 11, 30, 8, 30)
    assert await jobs() is None  # once a day
    when[0] = at(2026, 12, 1, 10, 0)  # a process started late still sends that day's report
    assert (await jobs())["reports"] == 1
    sent = await outbox(runtime, kind="officer_daily_report")
    assert sorted(r.dedupe_key.split(":")[1] for r in sent) == ["2026-11-30", "2026-12-01"]


async def test_a_long_running_notifier_delivers_the_daily_report_without_a_cron_job(runtime: Runtime):
    """What the Telegram and Zalo processes do: ``Notifier.run(tick=standard_jobs(…))`` runs the daily jobs."""
    import asyncio

    from bot.jobs import standard_jobs
    from bot.notifier import MemorySender, Notifier
    await _scenario(runtime)
    sender = MemorySender("console")
    stop = asyncio.Event()
    now = lambda: at(2026, 11, 30, 7, 45)  # noqa: E731
    tick = standard_jobs(runtime.sm, calendar=runtime.calendar, catalog=runtime.catalog, now=now,
                         attachments=runtime.attachments)
    task = asyncio.create_task(Notifier(runtime.sm, [sender], now=now).run(stop=stop, idle=0.01, tick=tick))
    for _ in range(1000):
        if any("Báo cáo ngày 30/11/2026" in p["text"] for _c, p in sender.sent):
            break
        await asyncio.sleep(0.01)
    for _ in range(5):  # a few more rounds: nothing is queued twice
        await asyncio.sleep(0.02)
    stop.set()
    await task
    daily = [p for _c, p in sender.sent if p["text"].startswith("📊")]
    assert len(daily) == 1 and daily[0]["image_png"]
    assert len(await outbox(runtime, kind="officer_daily_report")) == 1


