"""The focal point's dashboard: the statistics line per month and year to date (by procedure, agency or
commune, dossiers or legs, from bot/stats.py), charts as PNG, the drop-off funnel from drafts, the daily report
as sent (bot/reports.py), and CSV/XLSX exports. Counts only: no name, phone or ID number reaches these pages or
files."""
from __future__ import annotations

import asyncio
import base64
import csv
import io
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from dialogs import lifecycle as lc
from dialogs.i18n import N_, Translator, translator
from dialogs.textnorm import vi_sort_key
from storage.db import reading
from storage.models import DraftRow, Officer

from .. import reports, stats
from . import actions as act
from .app import FLASH, OFFICER, RUNTIME, lang_of, refuse, render

STALE_DRAFT = timedelta(days=1)  # a draft untouched this long counts as given up
GROUP_LABELS = {"procedure": N_("Theo thủ tục"), "agency": N_("Theo cơ quan"), "commune": N_("Theo xã")}
SCOPE_LABELS = {"unit": N_("Cơ quan của tôi"), "commune": N_("Cả xã (mọi cơ quan)")}


def allowed(officer: Officer) -> bool:
    return bool(officer.focal_point) or officer.role == lc.LEADER


def _params(request: web.Request) -> dict[str, Any]:
    rt = request.app[RUNTIME]
    today = rt.calendar.today(rt.now())
    q = request.query
    try:
        year = int(q.get("year", today.year))
        month = int(q.get("month", today.month))
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise ValueError
    except ValueError:
        year, month = today.year, today.month
    group = q.get("group") if q.get("group") in stats.GROUPS else "procedure"
    scope = q.get("scope") if q.get("scope") in SCOPE_LABELS else "unit"
    level = q.get("level") if q.get("level") in stats.LEVELS else "dossier"
    return {"year": year, "month": month, "group": group, "scope": scope, "level": level}


def _scope(officer: Officer, scope: str) -> dict[str, str | None]:
    return {"agency": officer.agency if scope == "unit" else None, "commune_code": officer.commune_code}


_month_bounds = stats.month_bounds


async def _guard(request: web.Request) -> web.Response | None:
    if not allowed(request[OFFICER]):
        _ = translator(lang_of(request))
        return refuse(request, _("Chỉ đầu mối báo cáo và lãnh đạo xem được bảng thống kê."), 403)
    return None


async def _stats(request: web.Request, p: dict[str, Any]) -> tuple[list[stats.StatRow], list[stats.StatRow]]:
    rt = request.app[RUNTIME]
    officer = request[OFFICER]
    first, end = _month_bounds(p["year"], p["month"])
    kw = dict(level=p["level"], group_by=p["group"], **_scope(officer, p["scope"]), calendar=rt.calendar,
              catalog=rt.catalog, now=rt.now(), lang=lang_of(request))
    async with reading(rt.sm) as db:
        month = await stats.period_stats(db, first, end, **kw)
        ytd = await stats.period_stats(db, date(p["year"], 1, 1), end, **kw)
    return month, ytd


async def funnel(request: web.Request) -> list[dict[str, Any]]:
    """Per procedure of this agency: where unfinished drafts stopped (the section of their next question),
    counted, with the dossiers submitted for comparison. Reads answers only to find the next question."""
    rt = request.app[RUNTIME]
    officer = request[OFFICER]
    cat = rt.catalog
    _ = translator(lang_of(request))
    now = datetime.now(UTC)  # drafts are stamped by the database's clock, not the runtime's
    mine = {pid for pid, p in cat.procedures.items()
            if p.agency.key == officer.agency or any(leg.agency.key == officer.agency for leg in p.legs)}
    async with reading(rt.sm) as db:
        drafts = (await db.execute(select(DraftRow.procedure_id, DraftRow.answers, DraftRow.updated_at)
                                   .where(DraftRow.procedure_id.in_(sorted(mine))))).all()
        legs = await act.queue(db, officer, include_closed=True)
    submitted = Counter(d.procedure_id for _l, d in legs)
    out: dict[str, dict[str, Any]] = {}
    today = rt.calendar.today(rt.now())
    for pid, answers, updated in drafts:
        if pid not in cat.forms:
            continue
        row = out.setdefault(pid, {"title": _(cat.get(pid).title), "steps": Counter(), "active": 0, "stopped": 0})
        if updated is not None and now - updated < STALE_DRAFT:
            row["active"] += 1
            continue
        row["stopped"] += 1
        slot = cat.form(pid).next_slot(answers or {}, today)
        row["steps"][_(slot.section.title) if slot is not None else _("Xem lại và cam đoan")] += 1
    for pid in mine:
        if submitted.get(pid) and pid not in out:
            out[pid] = {"title": _(cat.get(pid).title), "steps": Counter(), "active": 0, "stopped": 0}
    rows = []
    for pid, r in sorted(out.items(), key=lambda kv: vi_sort_key(kv[1]["title"])):
        order = [_(s.title) for s in cat.get(pid).sections] + [_("Xem lại và cam đoan")]
        steps = sorted(r["steps"].items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
        rows.append({"title": r["title"], "submitted": submitted.get(pid, 0), "active": r["active"],
                     "stopped": r["stopped"], "steps": steps, "max": max([n for _s, n in steps] or [1])})
    return rows


async def dashboard_page(request: web.Request) -> web.StreamResponse:
    if (denied := await _guard(request)) is not None:
        return denied
    rt = request.app[RUNTIME]
    officer = request[OFFICER]
    _ = translator(lang_of(request))
    p = _params(request)
    month, ytd = await _stats(request, p)
    lang = lang_of(request)
    async with reading(rt.sm) as db:
        sent = [m for m in await act.outbox_for(db, chat_key=officer.user_key, kind="officer_daily_report")][-5:]
    sent.reverse()
    reports_sent = [{"id": m.id, "at": rt.calendar.to_local(m.created_at), "text": m.payload.get("text", ""),
                     "image": bool(m.payload.get("image_png")), "status": m.status} for m in sent]
    today = rt.calendar.today(rt.now())
    async with reading(rt.sm) as db:
        report = await reports.daily_report(db, officer.agency, officer.commune_code, today, rt.now(),
                                            calendar=rt.calendar, catalog=rt.catalog, so_far=True)
    live = reports.report_text(officer.agency, officer.commune_code, today, report, lang)
    query = f"year={p['year']}&month={p['month']}&group={p['group']}&scope={p['scope']}&level={p['level']}"
    return render(request, "dashboard.html", p=p, month=[r.as_dict() for r in month],
                  ytd=[r.as_dict() for r in ytd], line=lambda r: stats.headline(r.counts, lang),
                  month_rows=month, ytd_rows=ytd, columns=stats.COLUMNS, groups=GROUP_LABELS, scopes=SCOPE_LABELS,
                  levels=stats.LEVEL_LABELS, query=query,
                  funnel=await funnel(request), sent=reports_sent, live=live,
                  unit=act.unit_text(officer.agency, officer.commune_code, _),
                  years=list(range(today.year - 2, today.year + 1)))


async def send_report(request: web.Request) -> web.StreamResponse:
    """Queue the report of today so far (text and chart) to the focal point's own chat, to forward from there,
    as ``dvcbot officer report --send`` does (one per minute: a second click is not a second message)."""
    if (denied := await _guard(request)) is not None:
        return denied
    rt = request.app[RUNTIME]
    officer = request[OFFICER]
    _ = translator(lang_of(request))
    now = rt.now()
    day = rt.calendar.today(now)
    async with rt.sm() as db, db.begin():
        report = await reports.daily_report(db, officer.agency, officer.commune_code, day, now,
                                            calendar=rt.calendar, catalog=rt.catalog, so_far=True)
        text = reports.report_text(officer.agency, officer.commune_code, day, report)
        png = await asyncio.to_thread(reports.report_chart, report.rows, text.splitlines()[0].replace("📊 ", ""))
        stamp = rt.calendar.to_local(now).strftime("%Y-%m-%dT%H%M")
        queued = await act.enqueue_report(db, officer, stamp, day, now, text, base64.b64encode(png).decode("ascii"))
    request[FLASH] = _("Đã gửi báo cáo hôm nay vào cuộc trò chuyện của bạn; bạn có thể chuyển tiếp từ đó.") \
        if queued else _("Báo cáo hôm nay đã được gửi vào cuộc trò chuyện của bạn trước đó.")
    return await dashboard_page(request)


# -- charts ---------------------------------------------------------------------------------------------
def _figure(title: str, labels: list[str], values: list[int], _: Translator, *, color: str,
            horizontal: bool = False) -> bytes:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    fig = Figure(figsize=(8, 3.2 if not horizontal else max(3.2, 1.4 + 0.6 * len(labels))), dpi=100)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=11)
    if not any(values):
        ax.set_axis_off()  # no broken axis: say so
        ax.text(0.5, 0.5, _("Không có dữ liệu"), ha="center", va="center", fontsize=14, color="#555",
                transform=ax.transAxes)
    elif horizontal:
        bars = ax.barh(range(len(labels)), values, color=color, height=0.5)
        ax.set_yticks(range(len(labels)), [lab if len(lab) <= 32 else lab[:30] + "…" for lab in labels], fontsize=9)
        ax.set_ylim(len(labels) - 0.5 + max(0, 2 - len(labels)) * 0.5, -0.5 - max(0, 2 - len(labels)) * 0.5)
        ax.bar_label(bars, fontsize=9, padding=2)
        ax.xaxis.get_major_locator().set_params(integer=True)
    else:
        ax.bar(range(len(labels)), values, color=color)
        ax.set_xticks(range(len(labels)), labels, fontsize=7, rotation=90)
        ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


async def chart(request: web.Request) -> web.StreamResponse:
    if (denied := await _guard(request)) is not None:
        return denied
    rt = request.app[RUNTIME]
    _ = translator(lang_of(request))
    p = _params(request)
    first, end = _month_bounds(p["year"], p["month"])
    officer = request[OFFICER]
    sc = _scope(officer, p["scope"])
    async with reading(rt.sm) as db:
        legs = await act.legs_in(db, **sc)
    kind = request.match_info["kind"]
    now = rt.now()
    if kind == "daily":
        days = [first + timedelta(days=i) for i in range((end - first).days)]
        per = Counter(rt.calendar.to_local(leg.started_at).date() for leg, _d in legs)
        png = await asyncio.to_thread(_figure, _("Hồ sơ mới theo ngày, tháng {m}/{y}", m=p["month"], y=p["year"]),
                                      [d.strftime("%d") for d in days], [per.get(d, 0) for d in days], _,
                                      color="#2f6f9f")
    elif kind == "late":
        per: Counter[str] = Counter()
        for leg, d in legs:
            closed_late = leg.closed_at is not None and leg.timeliness == "late" and \
                first <= rt.calendar.to_local(leg.closed_at).date() < end
            open_late = leg.status in lc.CLOCK_RUNNING and act.effective_due(leg, rt.calendar, now) < \
                min(end, rt.calendar.today(now))
            if closed_late or open_late:
                per[act.proc_title(d, rt.catalog, _)[:45]] += 1
        labels = sorted(per)
        png = await asyncio.to_thread(_figure, _("Phần việc trễ hạn, tháng {m}/{y}", m=p["month"], y=p["year"]),
                                      labels, [per[k] for k in labels], _, color="#c0392b", horizontal=True)
    else:
        raise web.HTTPNotFound()
    return web.Response(body=png, content_type="image/png")


async def report_png(request: web.Request) -> web.StreamResponse:
    """The chart of a daily report as it was sent (the focal point's own outbox rows only)."""
    if (denied := await _guard(request)) is not None:
        return denied
    rt = request.app[RUNTIME]
    officer = request[OFFICER]
    try:
        row_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with reading(rt.sm) as db:
        rows = await act.outbox_for(db, chat_key=officer.user_key, kind="officer_daily_report")
    hit = next((m for m in rows if m.id == row_id and m.payload.get("image_png")), None)
    if hit is None:
        raise web.HTTPNotFound()
    return web.Response(body=base64.b64decode(hit.payload["image_png"]), content_type="image/png",
                        headers={"Content-Disposition": f'inline; filename="bao-cao-{row_id}.png"'})


# -- exports --------------------------------------------------------------------------------------------
async def _export_rows(request: web.Request) -> tuple[list[str], list[list[Any]], list[str], list[list[Any]], str]:
    rt = request.app[RUNTIME]
    _ = translator(lang_of(request))
    p = _params(request)
    month, ytd = await _stats(request, p)
    head = [_("Kỳ"), _("Nhóm")] + [_(label) for _k, label in stats.COLUMNS]
    table = [[f"{p['month']:02d}/{p['year']}", r.title] + [getattr(r.counts, k) for k, _l in stats.COLUMNS]
             for r in month]
    table += [[_("Từ đầu năm {y}", y=p["year"]), r.title] + [getattr(r.counts, k) for k, _l in stats.COLUMNS]
              for r in ytd]
    first, end = _month_bounds(p["year"], p["month"])
    async with reading(rt.sm) as db:
        legs = await act.legs_in(db, **_scope(request[OFFICER], p["scope"]))
    lhead = [_("Mã hồ sơ"), _("Thủ tục"), _("Cơ quan"), _("Trạng thái"), _("Ngày nộp"), _("Hạn giải quyết"),
             _("Ngày kết thúc"), _("Đúng hạn / trễ hạn"), _("Số văn bản kết quả")]
    lrows = []
    start_at = datetime.combine(first, datetime.min.time(), tzinfo=rt.calendar.tz)
    end_at = datetime.combine(end, datetime.min.time(), tzinfo=rt.calendar.tz)
    for leg, d in legs:  # legs open in the period: codes and dates, never who filed them
        if leg.started_at >= end_at or (leg.closed_at is not None and leg.closed_at < start_at):
            continue
        lrows.append([d.code, act.proc_title(d, rt.catalog, _), _(lc.AGENCY_LABELS.get(leg.agency, leg.agency)),
                      _(lc.STATUS_LABELS[leg.status]), rt.calendar.to_local(leg.started_at).date().isoformat(),
                      act.effective_due(leg, rt.calendar, rt.now()).isoformat(),
                      rt.calendar.to_local(leg.closed_at).date().isoformat() if leg.closed_at else "",
                      leg.timeliness or "", leg.result_number or ""])
    name = f"thong-ke-{request[OFFICER].commune_code}-{p['year']}-{p['month']:02d}"
    return head, table, lhead, lrows, name


async def export(request: web.Request) -> web.StreamResponse:
    if (denied := await _guard(request)) is not None:
        return denied
    head, table, lhead, lrows, name = await _export_rows(request)
    fmt = request.match_info["fmt"]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(head)
        w.writerows(table)
        w.writerow([])
        w.writerow(lhead)
        w.writerows(lrows)
        return web.Response(body=("\ufeff" + buf.getvalue()).encode("utf-8"), content_type="text/csv",
                            charset="utf-8", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt == "xlsx":
        body = await asyncio.to_thread(_xlsx, head, table, lhead, lrows, translator(lang_of(request)))
        return web.Response(body=body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    raise web.HTTPNotFound()


def _xlsx(head, table, lhead, lrows, _: Translator) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = _("Thống kê")[:31]
    ws.append(head)
    for row in table:
        ws.append(row)
    ws2 = wb.create_sheet(_("Hồ sơ")[:31])
    ws2.append(lhead)
    for row in lrows:
        ws2.append(row)
    for sheet in (ws, ws2):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/dashboard", dashboard_page)
    r.add_post("/dashboard/report", send_report)
    r.add_get("/dashboard/chart/{kind}.png", chart)
    r.add_get("/dashboard/report/{id}.png", report_png)
    r.add_get("/dashboard/export.{fmt}", export)
