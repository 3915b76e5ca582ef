"""Reports: the daily report to each agency's focal point, and the monthly statistics.

Daily report (sent on working days, from ``DAILY_AT`` local time, before 09:00), per procedure for
one agency and commune:

* **new** — legs submitted since the start of the previous working day (a Monday report covers
  Friday, Saturday and Sunday);
* **in progress** — legs open now (submitted … approved, including those waiting for a supplement);
* **due today** / **overdue** — open legs whose due date (paused clock included) is today / passed;
* **finished on time** / **finished late** — legs closed in the same window as "new" (a result
  returned or a rejection; withdrawals are not counted), early counting as on time.

It goes out through the outbox as a text and a PNG bar chart (matplotlib, Agg backend).

Monthly statistics (``monthly_stats``) follow the tables communes publish ("tình hình giải quyết
thủ tục hành chính"): received in the month, carried over from before, handled (early, on time,
late), the late rate, and what is still in progress at the end of the month (of which overdue).
"""
from __future__ import annotations

import base64
import io
from dataclasses import asdict, dataclass
import logging
import time as _time
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.i18n import N_, translator
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.officers_repo import LegRepo, OfficerRepo, OutboxRepo

from . import officers

log = logging.getLogger("dvcbot.reports")

DAILY_AT = time(7, 30)  # local time; the report must be there before 09:00

COLUMNS = [("new", N_("Mới nhận")), ("in_progress", N_("Đang giải quyết")), ("due_today", N_("Đến hạn hôm nay")),
           ("overdue", N_("Quá hạn")), ("on_time", N_("Xong đúng hạn")), ("late", N_("Xong trễ hạn"))]


@dataclass
class DailyRow:
    procedure: str
    title: str
    new: int = 0
    in_progress: int = 0
    due_today: int = 0
    overdue: int = 0
    on_time: int = 0
    late: int = 0


def _local_midnight(d: date, calendar: WorkCalendar) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=calendar.tz)


def _title(proc_id: str, catalog: Catalog, lang: str = "vi") -> str:
    _ = translator(lang)
    return _(catalog.get(proc_id).title) if proc_id in catalog.procedures else proc_id


async def daily_report(db: AsyncSession, agency: str, commune_code: str | None, day: date, now: datetime, *,
                       calendar: WorkCalendar | None = None, catalog: Catalog | None = None) -> list[DailyRow]:
    calendar = calendar or DEFAULT_CALENDAR
    catalog = officers._cat(catalog)
    start = _local_midnight(calendar.previous_workday(day), calendar)
    end = _local_midnight(day, calendar)
    rows: dict[str, DailyRow] = {}
    for leg, d in await LegRepo(db).all_with_dossier(agency=agency, commune_code=commune_code):
        r = rows.get(d.procedure_id)
        if r is None:
            r = rows[d.procedure_id] = DailyRow(d.procedure_id, _title(d.procedure_id, catalog))
        if start <= leg.started_at < end:
            r.new += 1
        if leg.status not in lc.CLOSED:
            r.in_progress += 1
            due = officers.effective_due(leg, calendar, now)
            if due == day:
                r.due_today += 1
            elif due < day:
                r.overdue += 1
        elif leg.closed_at is not None and start <= leg.closed_at < end and leg.status != lc.WITHDRAWN:
            if leg.timeliness == "late":
                r.late += 1
            else:
                r.on_time += 1
    return sorted(rows.values(), key=lambda r: r.title)


def report_text(agency: str, commune_code: str | None, day: date, rows: list[DailyRow], lang: str = "vi") -> str:
    _ = translator(lang)
    lines = [_("📊 Báo cáo ngày {day} — {unit}", day=_.date(day), unit=officers.unit_text(agency, commune_code, _))]
    if not rows:
        lines.append(_("Không có hồ sơ nào."))
        return "\n".join(lines)
    total = DailyRow("", "")
    for r in rows:
        lines.append(f"\n{r.title}")
        lines.append(" · ".join(f"{_(label)}: {getattr(r, key)}" for key, label in COLUMNS))
        for key, _label in COLUMNS:
            setattr(total, key, getattr(total, key) + getattr(r, key))
    lines.append("\n" + _("Tổng cộng") + ": " + " · ".join(f"{_(label)}: {getattr(total, key)}"
                                                            for key, label in COLUMNS))
    if total.overdue:
        lines.append(_("⚠️ Có {n} hồ sơ quá hạn: gõ “/hoso” để xem và xử lý.", n=total.overdue))
    return "\n".join(lines)


def report_chart(rows: list[DailyRow], title: str, lang: str = "vi") -> bytes:
    """A grouped horizontal bar chart (one group per procedure) as PNG bytes."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    _ = translator(lang)
    names = [r.title if len(r.title) <= 42 else r.title[:40] + "…" for r in rows] or [_("Không có hồ sơ")]
    n_groups, n_series = len(names), len(COLUMNS)
    height = 0.8 / n_series
    fig = Figure(figsize=(10, 1.4 + 0.9 * n_groups), dpi=110)
    ax = fig.add_subplot()
    colors = ["#4c78a8", "#9ecae9", "#f58518", "#e45756", "#54a24b", "#b279a2"]
    for j, (key, label) in enumerate(COLUMNS):
        values = [getattr(r, key) for r in rows] or [0]
        ys = [i + (j - (n_series - 1) / 2) * height for i in range(n_groups)]
        bars = ax.barh(ys, values, height=height, label=_(label), color=colors[j % len(colors)])
        ax.bar_label(bars, labels=[str(v) if v else "" for v in values], fontsize=7, padding=2)
    ax.set_yticks(range(n_groups), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)  # never over a bar
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


async def enqueue_daily_reports(db: AsyncSession, now: datetime, *, calendar: WorkCalendar | None = None,
                                catalog: Catalog | None = None, force: bool = False) -> int:
    """Queue today's report for every focal point (once per officer and day; only on working days, from
    DAILY_AT on, unless ``force``). Returns how many were queued."""
    calendar = calendar or DEFAULT_CALENDAR
    local = calendar.to_local(now)
    day = local.date()
    if not force and (not calendar.is_workday(day) or local.time() < DAILY_AT):
        return 0
    outbox = OutboxRepo(db)
    n = 0
    cache: dict[tuple[str, str | None], tuple[str, str]] = {}
    for o in await OfficerRepo(db).focal_points():
        dedupe = f"report:{day.isoformat()}:{o.id}"
        if await outbox.exists(dedupe):
            continue
        scope = (o.agency, o.commune_code)
        if scope not in cache:
            rows = await daily_report(db, o.agency, o.commune_code, day, now, calendar=calendar, catalog=catalog)
            text = report_text(o.agency, o.commune_code, day, rows)
            png = report_chart(rows, text.splitlines()[0].replace("📊 ", ""))
            cache[scope] = (text, base64.b64encode(png).decode("ascii"))
        text, png64 = cache[scope]
        n += await outbox.enqueue(chat_key=o.user_key, kind="officer_daily_report", dedupe_key=dedupe, now=now,
                                  payload={"text": text, "image_png": png64,
                                           "image_name": f"bao-cao-{o.agency}-{o.commune_code}-{day.isoformat()}"})
    return n


# -- monthly statistics -------------------------------------------------------------------------
MONTH_COLUMNS = [("received", N_("Tiếp nhận mới")), ("carried_over", N_("Kỳ trước chuyển sang")),
                 ("handled", N_("Đã giải quyết")), ("early", N_("Trước hạn")), ("on_time", N_("Đúng hạn")),
                 ("late", N_("Trễ hạn")), ("late_rate", N_("Tỷ lệ trễ hạn (%)")),
                 ("in_progress", N_("Đang giải quyết")), ("overdue", N_("Trong đó quá hạn"))]


async def monthly_stats(db: AsyncSession, year: int, month: int, *, agency: str | None = None,
                        commune_code: str | None = None, calendar: WorkCalendar | None = None,
                        catalog: Catalog | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """One row per procedure (and a total row with procedure ``"*"``) for the given month. For the current
    month, "in progress" and "overdue" are as of ``now``."""
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return await period_stats(db, first, nxt, agency=agency, commune_code=commune_code, calendar=calendar,
                              catalog=catalog, now=now)


GROUPS = ("procedure", "agency", "commune")


def _group_of(group: str, leg: Any, d: Any, catalog: Catalog) -> tuple[str, str]:
    if group == "agency":
        return leg.agency, translator("vi")(lc.AGENCY_LABELS.get(leg.agency, leg.agency))
    if group == "commune":
        from dialogs.address import commune
        unit = commune(leg.commune_code) if leg.commune_code else None
        return leg.commune_code or "-", unit.full_name if unit is not None else (leg.commune_code or "-")
    return d.procedure_id, _title(d.procedure_id, catalog)


async def period_stats(db: AsyncSession, first: date, end: date, *, agency: str | None = None,
                       commune_code: str | None = None, calendar: WorkCalendar | None = None,
                       catalog: Catalog | None = None, now: datetime | None = None,
                       group: str = "procedure") -> list[dict[str, Any]]:
    """The monthly table for any period of days [first, end) (a month, the year to date), one row per
    procedure, agency or commune (``group``; the key in ``"procedure"``), and a total row ``"*"``."""
    calendar = calendar or DEFAULT_CALENDAR
    catalog = officers._cat(catalog)
    start, end_at = _local_midnight(first, calendar), _local_midnight(end, calendar)
    as_of = min(end_at, now) if now is not None else end_at
    as_of_day = calendar.to_local(as_of).date()
    rows: dict[str, dict[str, Any]] = {}

    def row(pid: str, title: str) -> dict[str, Any]:
        return rows.setdefault(pid, {"procedure": pid, "title": title, **{k: 0 for k, _l in MONTH_COLUMNS}})

    for leg, d in await LegRepo(db).all_with_dossier(agency=agency, commune_code=commune_code):
        if leg.started_at >= as_of or (leg.closed_at is not None and leg.closed_at < start):
            continue
        r = row(*_group_of(group, leg, d, catalog))
        if leg.started_at >= start:
            r["received"] += 1
        else:
            r["carried_over"] += 1
        if leg.closed_at is not None and leg.closed_at < as_of:
            if leg.status != lc.WITHDRAWN:
                r["handled"] += 1
                r[leg.timeliness or "on_time"] += 1
        else:
            r["in_progress"] += 1
            if officers.effective_due(leg, calendar, as_of) < as_of_day:  # (a leg waiting for the citizen is
                r["overdue"] += 1                                             # not overdue while its clock waits)
    total = {"procedure": "*", "title": translator("vi")("Tổng cộng"), **{k: 0 for k, _l in MONTH_COLUMNS}}
    out = sorted(rows.values(), key=lambda r: r["title"])
    for r in out:
        for k, _l in MONTH_COLUMNS:
            total[k] += r[k]
    for r in out + [total]:
        r["late_rate"] = round(100.0 * r["late"] / r["handled"], 1) if r["handled"] else 0.0
    return out + [total]


def stats_table(rows: list[dict[str, Any]], year: int, month: int, lang: str = "vi") -> str:
    _ = translator(lang)
    head = [_("Thủ tục")] + [_(label) for _k, label in MONTH_COLUMNS]
    body = [[r["title"][:45]] + [f"{r[k]:g}" if isinstance(r[k], float) else str(r[k]) for k, _l in MONTH_COLUMNS]
            for r in rows]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    fmt = lambda cells: " | ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])  # noqa: E731
                                   for i, c in enumerate(cells))
    lines = [_("Tình hình giải quyết thủ tục hành chính tháng {month}/{year}", month=month, year=year), fmt(head),
             "-+-".join("-" * w for w in widths)]
    lines += [fmt(b) for b in body]
    return "\n".join(lines)


async def run_daily(db: AsyncSession, now: datetime, *, calendar: WorkCalendar | None = None,
                    catalog: Catalog | None = None) -> dict[str, int]:
    """The notifier's daily jobs: focal-point reports and the due-tomorrow / overdue pushes (working days,
    from DAILY_AT). Safe to call often: every notification has a dedupe key."""
    calendar = calendar or DEFAULT_CALENDAR
    local = calendar.to_local(now)
    if not calendar.is_workday(local.date()) or local.time() < DAILY_AT:
        return {"reports": 0, "deadline_pushes": 0}
    reports = await enqueue_daily_reports(db, now, calendar=calendar, catalog=catalog)
    pushes = await officers.scan_deadlines(db, calendar, now, catalog=catalog)
    return {"reports": reports, "deadline_pushes": pushes}


class DailyJobs:
    """The scheduler of the long-running notifier (``Notifier.run``: ``dvcbot notify run`` and the Telegram
    and Zalo processes): call it as often as you like (the notifier calls it before every delivery round).
    On a working day, from ``DAILY_AT`` local time, it runs :func:`run_daily` once and then stays quiet until
    the next day; before that, and on days off, it does not touch the database. A process started later in
    the day catches up at once. If the run fails it is tried again after ``retry`` seconds. Several processes
    may run it at the same time: every notification it writes has a dedupe key, so each report and each
    deadline push is queued once."""

    def __init__(self, sm: async_sessionmaker, *, calendar: WorkCalendar | None = None,
                 catalog: Catalog | None = None, now: Callable[[], datetime] | None = None,
                 clock: Callable[[], float] = _time.monotonic, retry: float = 300.0):
        self.sm = sm
        self.calendar = calendar or DEFAULT_CALENDAR
        self.catalog = catalog
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.clock = clock
        self.retry = retry
        self.done_day: date | None = None
        self._retry_at = float("-inf")

    def due(self, now: datetime) -> bool:
        local = self.calendar.to_local(now)
        return (local.date() != self.done_day and self.calendar.is_workday(local.date())
                and local.time() >= DAILY_AT and self.clock() >= self._retry_at)

    async def __call__(self) -> dict[str, int] | None:
        now = self.now()
        if not self.due(now):
            return None
        try:
            async with self.sm() as db, db.begin():
                done = await run_daily(db, now, calendar=self.calendar, catalog=self.catalog)
        except Exception:
            self._retry_at = self.clock() + self.retry
            raise
        self.done_day = self.calendar.to_local(now).date()
        log.info("daily jobs for %s: %s", self.done_day, done)
        return done
