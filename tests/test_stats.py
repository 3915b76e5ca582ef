"""Statistics in the seed's form (dossiers and legs apart, rejections and withdrawals apart, year to date), the
on-demand report of today so far, the commune-wide report of the linked groups, and honest empty charts."""
from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from bot import cases as off
from bot import reports, stats
from bot.service import Runtime
from dialogs import lifecycle as lc
from tests.conftest import Chat
from tests.test_conversation_linked import (
    act,
    birth_docs,
    birth_insurance,
    birth_people,
    birth_residence,
    birth_start,
    dossier,
)
from tests.test_conversation_linked import officer as agency_officer
from tests.test_conversation_linked import submit as submit_chat
from tests.test_officers import COMMUNE, do, officer, outbox, submit
from tests.test_reports import _finish, _scenario, at


async def period(rt: Runtime, start: date, end: date, **kw) -> list[stats.StatRow]:
    async with rt.sm() as db:
        return await stats.period_stats(db, start, end, calendar=rt.calendar, catalog=rt.catalog, **kw)


async def test_month_in_the_seeds_form_with_rejections_and_withdrawals_apart(runtime: Runtime):
    await _scenario(runtime)
    leader = await officer(runtime, lc.LEADER, name="Trưởng bộ phận")
    rejected = await submit(runtime, when=at(2026, 11, 26, 9))
    withdrawn = await submit(runtime, when=at(2026, 11, 26, 9), user="console:other")
    await do(runtime, leader, off.claim, rejected, now=at(2026, 11, 26, 10))
    await do(runtime, leader, off.reject, rejected, "Không thuộc diện hỗ trợ", now=at(2026, 11, 26, 10))
    async with runtime.sm() as db, db.begin():
        await off.withdraw(db, withdrawn, "console:other", at(2026, 11, 26, 11), "Người nộp rút",
                           calendar=runtime.calendar, catalog=runtime.catalog)
    nov = await period(runtime, *stats.month_bounds(2026, 11), agency="commune", commune_code=COMMUNE,
                       now=at(2026, 12, 3, 9))
    total = nov[-1].counts
    assert (total.received, total.handled, total.timely, total.late) == (8, 3, 2, 1)
    assert (total.rejected, total.withdrawn) == (1, 1)
    assert total.late_rate == 33.3 and (total.in_progress, total.overdue) == (4, 2)
    assert stats.headline(total) == "Số hồ sơ xử lý: 3 · Trước & đúng hạn: 2 · Trễ hạn: 1 · Tỉ lệ trễ hạn: 33.3%"
    dec = await period(runtime, *stats.month_bounds(2026, 12), agency="commune", commune_code=COMMUNE,
                       now=at(2026, 12, 3, 9))
    assert (dec[-1].counts.carried_over, dec[-1].counts.received, dec[-1].counts.handled) == (4, 0, 0)
    ytd = (await period(runtime, date(2026, 1, 1), date(2026, 12, 1), now=at(2026, 12, 3, 9)))[-1].counts
    text = stats.stats_text(nov, "Tình hình giải quyết tháng 11/2026", ytd=ytd, ytd_month=11)
    assert "Đơn vị đếm: hồ sơ" in text and "Trong đó từ chối: 1 · Rút hồ sơ (không tính vào số xử lý): 1" in text
    assert "Đến tháng 11 đã giải quyết trước & đúng hạn: 66.7% (2/3)" in text
    assert max(len(line) for line in text.splitlines()) <= 160  # readable on a phone: no wide table
    book = load_workbook(io.BytesIO(stats.to_xlsx(nov, "Tháng 11/2026")))
    sheet = book.active
    assert sheet["A1"].value == "Tháng 11/2026" and sheet["B2"].value == "Tiếp nhận mới"
    assert sheet.cell(row=sheet.max_row, column=1).value == "Tổng cộng"
    csv_text = stats.to_csv(nov).decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("Nhóm,Tiếp nhận mới,Kỳ trước chuyển sang,Số hồ sơ xử lý")


async def test_a_linked_dossier_counts_once_as_a_dossier_and_per_agency_as_legs(chat: Chat, runtime: Runtime):
    await birth_start(chat)
    await birth_people(chat)
    await birth_residence(chat)
    await birth_insurance(chat)
    await birth_docs(chat)
    code = await submit_chat(chat)
    commune = (await dossier(runtime, code))["commune_code"]
    clerk = await agency_officer(runtime, "commune", commune)
    for fn in (off.claim, off.receive, off.claim):
        await act(runtime, clerk, fn, code)
    await act(runtime, clerk, off.approve, code, "15/2026/TLKS")
    await act(runtime, clerk, off.claim, code)
    await act(runtime, clerk, off.return_result, code)
    police = await agency_officer(runtime, "police", commune)
    await act(runtime, police, off.claim, code)
    await act(runtime, police, off.reject, code, "Chỗ ở không hợp pháp")
    month = stats.month_bounds(2026, 11)
    legs = (await period(runtime, *month, level="leg", commune_code=commune))[-1].counts
    whole = (await period(runtime, *month, level="dossier", commune_code=commune))[-1].counts
    assert (legs.received, legs.handled, legs.rejected, legs.in_progress) == (3, 2, 1, 1)
    assert (whole.received, whole.handled, whole.in_progress) == (1, 0, 1)  # the insurance leg is still open
    by_agency = {r.key: r.counts for r in await period(runtime, *month, level="leg", group_by="agency")}
    assert by_agency["police"].rejected == 1 and by_agency["commune"].handled == 1
    assert by_agency["social_insurance"].in_progress == 1


async def test_report_of_today_so_far_counts_the_days_work(runtime: Runtime):
    leader = await officer(runtime, lc.LEADER, focal=True)
    code = await submit(runtime, when=at(2026, 12, 4, 8))
    await _finish(runtime, leader, code, at(2026, 12, 4, 10), received=at(2026, 12, 4, 9))
    async with runtime.sm() as db:
        report = await reports.daily_report(db, "commune", COMMUNE, date(2026, 12, 4), at(2026, 12, 4, 11),
                                            calendar=runtime.calendar, so_far=True)
    [row] = report.rows
    assert (row.new, row.on_time) == (1, 1)
    text = reports.report_text("commune", COMMUNE, date(2026, 12, 4), report)
    assert "Kỳ báo cáo: từ 00:00 04/12/2026 đến 11:00 04/12/2026" in text
    async with runtime.sm() as db, db.begin():  # on demand: today so far, whatever the hour
        assert await reports.enqueue_daily_reports(db, at(2026, 12, 4, 11), calendar=runtime.calendar,
                                                   force=True) == 1
    [sent] = await outbox(runtime, kind="officer_daily_report")
    assert "Mới nhận: 1" in sent.payload["text"] and "Xong đúng hạn: 1" in sent.payload["text"]


async def test_commune_focal_point_gets_the_linked_groups_report_across_agencies(chat: Chat, runtime: Runtime):
    await birth_start(chat)
    await birth_people(chat)
    await birth_residence(chat)
    await birth_insurance(chat)
    await birth_docs(chat)
    code = await submit_chat(chat)
    commune = (await dossier(runtime, code))["commune_code"]
    await officer(runtime, lc.LEADER, focal=True, commune=commune)
    async with runtime.sm() as db, db.begin():  # a week later, every leg is overdue
        assert await reports.enqueue_daily_reports(db, at(2026, 12, 3, 7, 45), calendar=runtime.calendar) == 2
    texts = [m.payload["text"] for m in await outbox(runtime, kind="officer_daily_report")]
    linked = next(t for t in texts if "liên thông, mọi cơ quan" in t)
    assert "Đăng ký khai sinh" in linked and "Hồ sơ quá hạn (3)" in linked
    for agency in ("UBND cấp xã", "Công an cấp xã", "Bảo hiểm xã hội"):
        assert f"• {code} — {agency} — chưa có người nhận xử lý" in linked


def test_an_empty_chart_says_so():
    png = reports.report_chart([], "Báo cáo ngày 04/12/2026")
    assert png.startswith(b"\x89PNG")
    empty_rows = [reports.DailyRow("x", "Thủ tục")]
    assert reports.report_chart(empty_rows, "Báo cáo").startswith(b"\x89PNG")


async def test_rows_sort_in_vietnamese_alphabetical_order_not_by_code_point(runtime: Runtime):
    for pid in ("xac-dinh-muc-do-khuyet-tat", "doi-cap-lai-giay-xac-nhan-khuyet-tat",
                "dang-ky-co-so-tro-giup-xa-hoi", "ho-tro-chi-phi-mai-tang", "bao-thay-doi-nhan-tro-cap"):
        await submit(runtime, when=at(2026, 11, 16, 9), procedure=pid)
    nov = await period(runtime, *stats.month_bounds(2026, 11), agency="commune", commune_code=COMMUNE,
                       now=at(2026, 12, 3, 9))
    assert [r.title.split()[0] for r in nov[:-1]] == ["Báo", "Đăng", "Đổi,", "Hỗ", "Xác"]
    async with runtime.sm() as db:
        daily = await reports.daily_report(db, "commune", COMMUNE, date(2026, 11, 16), at(2026, 11, 17, 8),
                                           calendar=runtime.calendar, catalog=runtime.catalog)
    assert [r.title.split()[0] for r in daily.rows] == ["Báo", "Đăng", "Đổi,", "Hỗ", "Xác"]
