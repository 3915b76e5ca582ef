"""Reports: the daily report to each agency's focal point, and the monthly statistics.

Daily report (sent on working days, from ``DAILY_AT`` local time, before 09:00), per procedure for
one agency and commune; the commune's focal point also gets the commune-wide report of the linked
(liên thông) groups across the four agencies (Plan 155). Its title states the period and the time it was
made; an on-demand report may cover today so far:

* **new** — legs submitted since the start of the previous working day (a Monday report covers
  Friday, Saturday and Sunday);
* **in progress** — legs open now (submitted … approved, including those waiting for a supplement);
* **due today** / **overdue** — open legs whose due date (paused clock included) is today / passed;
* **finished on time** / **finished late** — legs closed in the same window as "new" (a result
  returned or a rejection; withdrawals are not counted), early counting as on time.

It goes out through the outbox as a text and a PNG bar chart (matplotlib, Agg backend).

The overdue dossiers are listed by code with who holds them, so the focal point can chase them. Statistics
for a month or the year to date are in ``bot/stats.py``.
"""
from __future__ import annotations

import base64
import io
import logging
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.i18n import N_, translator
from dialogs.textnorm import vi_sort_key
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar, missing_official_year
from storage.officers_repo import LegRepo, OfficerRepo, OutboxRepo

from . import cases
from .cases.base import catalog_or_default
from .workers import run_in_worker

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


@dataclass
class DailyReport:
    """What a focal point gets: counts per procedure, the overdue dossiers, and the period they cover."""

    rows: list[DailyRow]
    start: datetime  # local; the period is start ≤ t < end
    end: datetime
    made_at: datetime
    overdue: list[tuple[str, str, str]] = field(default_factory=list)  # (code, agency, holder or "")


def report_window(day: date, now: datetime, calendar: WorkCalendar, *, so_far: bool = False) -> tuple[datetime,
                                                                                                      datetime]:
    """The period a report for ``day`` covers: the previous working day (a Monday report covers Friday to
    Sunday), or with ``so_far`` today from 00:00 until ``now``."""
    if so_far:
        return _local_midnight(day, calendar), calendar.to_local(now)
    return _local_midnight(calendar.previous_workday(day), calendar), _local_midnight(day, calendar)


async def daily_report(db: AsyncSession, agency: str | None, commune_code: str | None, day: date, now: datetime, *,
                       calendar: WorkCalendar | None = None, catalog: Catalog | None = None,
                       so_far: bool = False, procedures: set[str] | None = None) -> DailyReport:
    """The report for ``day``; ``agency=None`` covers every agency of the commune (the liên thông report),
    ``procedures`` limits it to some procedures."""
    calendar = calendar or DEFAULT_CALENDAR
    catalog = catalog_or_default(catalog)
    start, end = report_window(day, now, calendar, so_far=so_far)
    rows: dict[str, DailyRow] = {}
    overdue: list[tuple[str, str, int | None]] = []
    for leg, d in await LegRepo(db).all_with_dossier(agency=agency, commune_code=commune_code):
        if procedures is not None and d.procedure_id not in procedures:
            continue
        r = rows.get(d.procedure_id)
        if r is None:
            r = rows[d.procedure_id] = DailyRow(d.procedure_id, _title(d.procedure_id, catalog))
        if start <= leg.started_at < end:
            r.new += 1
        if leg.status not in lc.CLOSED:
            r.in_progress += 1
            due = cases.effective_due(leg, calendar, now)
            if due == day:
                r.due_today += 1
            elif due < day:
                r.overdue += 1
                overdue.append((d.code, leg.agency, leg.claimed_by))
        elif leg.closed_at is not None and start <= leg.closed_at < end and leg.status != lc.WITHDRAWN:
            if leg.timeliness == "late":
                r.late += 1
            else:
                r.on_time += 1
    repo = OfficerRepo(db)
    named: list[tuple[str, str, str]] = []
    for code, leg_agency, holder in overdue:
        o = await repo.get(holder) if holder is not None else None
        named.append((code, leg_agency, o.full_name if o is not None else ""))
    ordered = sorted(rows.values(), key=lambda r: vi_sort_key(r.title))
    return DailyReport(ordered, start, end, calendar.to_local(now), named)


def linked_procedures(catalog: Catalog) -> set[str]:
    """The procedures whose dossiers go to several agencies (the liên thông groups)."""
    return {pid for pid, p in catalog.procedures.items() if len(p.legs) > 1}


def report_text(agency: str | None, commune_code: str | None, day: date, report: DailyReport,
                lang: str = "vi") -> str:
    _ = translator(lang)
    if agency is None:
        unit = _("liên thông, mọi cơ quan — {place}", place=cases.unit_text("commune", commune_code, _)
                 .split(", ", 1)[-1])
    else:
        unit = cases.unit_text(agency, commune_code, _)
    lines = [_("📊 Báo cáo ngày {day} — {unit}", day=_.date(day), unit=unit),
             _("Kỳ báo cáo: từ {start} đến {end} · Cập nhật lúc {made}",
               start=report.start.strftime("%H:%M %d/%m/%Y"), end=report.end.strftime("%H:%M %d/%m/%Y"),
               made=report.made_at.strftime("%H:%M %d/%m/%Y"))]
    rows = report.rows
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
    if report.overdue:
        lines.append(_("⚠️ Hồ sơ quá hạn ({n}):", n=len(report.overdue)))
        for code, leg_agency, holder in report.overdue[:30]:
            who = holder or _("chưa có người nhận xử lý")
            agency_label = _(lc.AGENCY_LABELS[leg_agency]) if leg_agency in lc.AGENCY_LABELS else leg_agency
            lines.append(f"• {code} — {agency_label} — {who}")
        if len(report.overdue) > 30:
            lines.append(_("… và {n} hồ sơ khác.", n=len(report.overdue) - 30))
        lines.append(_("Gõ “/hoso” để xem và xử lý."))
    return "\n".join(lines)


def report_chart(rows: list[DailyRow], title: str, lang: str = "vi") -> bytes:
    """A grouped horizontal bar chart (one group per procedure) as PNG bytes."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    _ = translator(lang)
    if not any(getattr(r, key) for r in rows for key, _l in COLUMNS):
        return _empty_chart(title, _("Không có hồ sơ nào trong kỳ báo cáo."))
    names = [r.title if len(r.title) <= 42 else r.title[:40] + "…" for r in rows]
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
    locator = ax.xaxis.get_major_locator()
    if isinstance(locator, MaxNLocator):  # the default AutoLocator is one
        locator.set_params(integer=True)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)  # never over a bar
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _empty_chart(title: str, note: str) -> bytes:
    """No data: say so in words, not with a broken axis."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 2.2), dpi=110)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    ax.text(0.5, 0.45, note, ha="center", va="center", fontsize=12, transform=ax.transAxes)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


async def enqueue_daily_reports(db: AsyncSession, now: datetime, *, calendar: WorkCalendar | None = None,
                                catalog: Catalog | None = None, force: bool = False) -> int:
    """Queue today's report for every focal point (once per officer and day; only on working days, from
    DAILY_AT on), and for the commune's focal points also the commune-wide report of the linked groups.
    With ``force`` (on demand, e.g. ``dvcbot officer report --send``) the reports cover today so far and are
    queued whatever the time. Returns how many were queued."""
    calendar = calendar or DEFAULT_CALENDAR
    catalog = catalog_or_default(catalog)
    local = calendar.to_local(now)
    day = local.date()
    if not force and (not calendar.is_workday(day) or local.time() < DAILY_AT):
        return 0
    outbox = OutboxRepo(db)
    n = 0
    linked = linked_procedures(catalog)
    cache: dict[tuple[str | None, str | None], tuple[str, str] | None] = {}

    async def made(agency: str | None, commune_code: str | None) -> tuple[str, str] | None:
        """The report's text and chart; None for a linked-groups report of a commune that has none."""
        if (agency, commune_code) not in cache:
            report = await daily_report(db, agency, commune_code, day, now, calendar=calendar, catalog=catalog,
                                        so_far=force, procedures=linked if agency is None else None)
            if agency is None and not report.rows:
                cache[(agency, commune_code)] = None
            else:
                text = report_text(agency, commune_code, day, report)
                missing = missing_official_year(day)
                if missing is not None:  # deadlines past 31/12 rest on the holidays package's estimate
                    _ = translator("vi")
                    text += "\n" + _(
                        "⚠️ Chưa có lịch nghỉ lễ, Tết chính thức năm {year} trong dữ liệu; hạn xử lý sau 31/12 đang "
                        "tính theo lịch ước tính. Cần cập nhật dialogs/data/calendar_vn.yaml.", year=missing)
                # matplotlib holds the GIL for about 0.2 s a chart: drawn in the worker process, off the loop
                png = await run_in_worker(report_chart, report.rows, text.splitlines()[0].replace("📊 ", ""))
                cache[(agency, commune_code)] = (text, base64.b64encode(png).decode("ascii"))
        return cache[(agency, commune_code)]

    stamp = day.isoformat() if not force else calendar.to_local(now).strftime("%Y-%m-%dT%H%M")
    for o in await OfficerRepo(db).focal_points():
        scopes: list[tuple[str | None, str]] = [(o.agency, "report")]
        if o.agency == "commune" and linked:
            scopes.append((None, "report-linked"))
        for agency, prefix in scopes:
            dedupe = f"{prefix}:{stamp}:{o.id}"
            if await outbox.exists(dedupe):
                continue
            got = await made(agency, o.commune_code)
            if got is None:
                continue
            text, png64 = got
            name = f"bao-cao-{agency or 'lien-thong'}-{o.commune_code}-{day.isoformat()}"
            assert o.user_key is not None  # focal_points() returns only officers with a chat
            n += await outbox.enqueue(chat_key=o.user_key, kind="officer_daily_report", dedupe_key=dedupe, now=now,
                                      payload={"text": text, "image_png": png64, "image_name": name})
    return n


async def run_daily(db: AsyncSession, now: datetime, *, calendar: WorkCalendar | None = None,
                    catalog: Catalog | None = None) -> dict[str, int]:
    """The notifier's daily jobs: focal-point reports and the due-tomorrow / overdue pushes (working days,
    from DAILY_AT). Safe to call often: every notification has a dedupe key."""
    calendar = calendar or DEFAULT_CALENDAR
    local = calendar.to_local(now)
    if not calendar.is_workday(local.date()) or local.time() < DAILY_AT:
        return {"reports": 0, "deadline_pushes": 0}
    reports = await enqueue_daily_reports(db, now, calendar=calendar, catalog=catalog)
    pushes = await cases.scan_deadlines(db, calendar, now, catalog=catalog)
    pushes += await cases.scan_supplements(db, calendar, now, catalog=catalog)
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
        self.now = now or (lambda: datetime.now(UTC))
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
