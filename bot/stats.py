"""Statistics of dossiers handled, in the form communes publish them, and their CSV/XLSX export.

The seed (the commune's “Kết quả giải quyết TTHC”) gives one line: “Số hồ sơ xử lý: 1162 · Trước & đúng hạn:
1161 · Trễ hạn: 1 · Tỉ lệ trễ hạn: 0.1%”, with the year to date. :func:`period_stats` counts any period,
grouped by procedure, agency or commune, at one of two levels that are labelled and never mixed:

* **dossiers** (``level="dossier"``): a linked dossier counts once; it is handled when all its legs are closed,
  late if any leg was late, rejected if any leg was rejected;
* **legs** (``level="leg"``): each agency's part counts on its own (what one agency's officers did).

Rejections are counted as handled (the dossier was decided) and also in their own column; withdrawals are not
handled and have their own column. “Trước & đúng hạn” is early + on time; the late rate is late / handled.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.address import commune as find_commune
from dialogs.catalog import Catalog
from dialogs.i18n import N_, translator
from dialogs.textnorm import vi_sort_key
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.models import Dossier, DossierLeg
from storage.officers_repo import LegRepo

from .cases.deadlines import effective_due

LEVELS = ("dossier", "leg")
GROUPS = ("procedure", "agency", "commune")


@dataclass
class Counts:
    received: int = 0
    carried_over: int = 0
    handled: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    rejected: int = 0
    withdrawn: int = 0
    in_progress: int = 0
    overdue: int = 0

    @property
    def timely(self) -> int:
        """“Trước & đúng hạn”."""
        return self.early + self.on_time

    @property
    def late_rate(self) -> float:
        return round(100.0 * self.late / self.handled, 1) if self.handled else 0.0

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


COLUMNS: list[tuple[str, str]] = [
    ("received", N_("Tiếp nhận mới")), ("carried_over", N_("Kỳ trước chuyển sang")),
    ("handled", N_("Số hồ sơ xử lý")), ("timely", N_("Trước & đúng hạn")), ("early", N_("Trước hạn")),
    ("on_time", N_("Đúng hạn")), ("late", N_("Trễ hạn")), ("late_rate", N_("Tỉ lệ trễ hạn (%)")),
    ("rejected", N_("Trong đó từ chối")), ("withdrawn", N_("Đã rút")),
    ("in_progress", N_("Đang giải quyết")), ("overdue", N_("Trong đó quá hạn")),
]
LEVEL_LABELS = {"dossier": N_("hồ sơ"), "leg": N_("phần việc của từng cơ quan")}


@dataclass
class StatRow:
    key: str  # a procedure id, agency key or commune code; "*" for the total
    title: str
    counts: Counts = field(default_factory=Counts)

    def as_dict(self) -> dict[str, Any]:
        c = self.counts
        return {"key": self.key, "title": self.title, **{k: getattr(c, k) for k, _l in COLUMNS}}


@dataclass
class _Item:
    """A leg, or a whole dossier, as the statistics see it."""

    procedure: str
    agency: str
    commune: str | None
    started_at: datetime
    closed_at: datetime | None
    status: str  # open | done | rejected | withdrawn
    timeliness: str | None
    due: date | None  # open items: the due date now (paused clocks included)


def _local_midnight(d: date, calendar: WorkCalendar) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=calendar.tz)


def _leg_item(leg: DossierLeg, d: Dossier, calendar: WorkCalendar, as_of: datetime) -> _Item:
    status = {lc.REJECTED: "rejected", lc.WITHDRAWN: "withdrawn", lc.RESULT_ISSUED: "done"}.get(leg.status, "open")
    closed = leg.closed_at if leg.closed_at is not None and leg.closed_at <= as_of else None
    if closed is None:
        status = "open"
    return _Item(d.procedure_id, leg.agency, leg.commune_code, leg.started_at, closed, status, leg.timeliness,
                 effective_due(leg, calendar, as_of) if status == "open" else None)


def _dossier_item(items: list[_Item]) -> _Item:
    first = items[0]
    started = min(i.started_at for i in items)
    if any(i.status == "open" for i in items):
        dues = [i.due for i in items if i.due is not None]
        return _Item(first.procedure, first.agency, first.commune, started, None, "open", None,
                     min(dues) if dues else None)
    closed = max(i.closed_at for i in items if i.closed_at is not None)
    statuses = {i.status for i in items}
    status = "withdrawn" if statuses == {"withdrawn"} else "rejected" if "rejected" in statuses else "done"
    decided = [i for i in items if i.status != "withdrawn"]
    timeliness = "late" if any(i.timeliness == "late" for i in decided) else \
        "early" if decided and all(i.timeliness == "early" for i in decided) else "on_time"
    return _Item(first.procedure, first.agency, first.commune, started, closed, status, timeliness, None)


async def period_stats(db: AsyncSession, start: date, end: date, *, level: str = "dossier",
                       group_by: str = "procedure", agency: str | None = None, commune_code: str | None = None,
                       procedures: Iterable[str] | None = None, calendar: WorkCalendar | None = None,
                       catalog: Catalog | None = None, now: datetime | None = None,
                       lang: str = "vi") -> list[StatRow]:
    """Rows for the local days ``start`` ≤ day < ``end`` (one per group, sorted by title) and a last total row
    (key ``"*"``). For a period not over yet, “in progress” and “overdue” are as of ``now``."""
    if level not in LEVELS or group_by not in GROUPS:
        raise ValueError("unknown level or grouping")
    calendar = calendar or DEFAULT_CALENDAR
    lo, hi = _local_midnight(start, calendar), _local_midnight(end, calendar)
    as_of = min(hi, now) if now is not None else hi
    as_of_day = calendar.to_local(as_of).date()
    wanted = set(procedures) if procedures is not None else None
    pairs = await LegRepo(db).all_with_dossier(agency=agency, commune_code=commune_code)
    by_dossier: dict[int, list[_Item]] = {}
    items: list[_Item] = []
    for leg, d in pairs:
        if wanted is not None and d.procedure_id not in wanted:
            continue
        item = _leg_item(leg, d, calendar, as_of)
        if level == "leg":
            items.append(item)
        else:
            by_dossier.setdefault(d.id, []).append(item)
    items += [_dossier_item(v) for v in by_dossier.values()]

    _ = translator(lang)
    rows: dict[str, StatRow] = {}
    for it in items:
        if it.started_at >= as_of or (it.closed_at is not None and it.closed_at < lo):
            continue
        key = {"procedure": it.procedure, "agency": it.agency, "commune": it.commune or "-"}[group_by]
        row = rows.get(key)
        if row is None:
            row = rows[key] = StatRow(key, _group_title(group_by, key, catalog, _))
        c = row.counts
        if it.started_at >= lo:
            c.received += 1
        else:
            c.carried_over += 1
        if it.closed_at is not None:
            if it.status == "withdrawn":
                c.withdrawn += 1
            else:
                c.handled += 1
                setattr(c, it.timeliness or "on_time", getattr(c, it.timeliness or "on_time") + 1)
                c.rejected += it.status == "rejected"
        else:
            c.in_progress += 1
            if it.due is not None and it.due < as_of_day:
                c.overdue += 1
    out = sorted(rows.values(), key=lambda r: vi_sort_key(r.title))
    total = StatRow("*", _("Tổng cộng"))
    for r in out:
        total.counts.add(r.counts)
    return [*out, total]


def _group_title(group_by: str, key: str, catalog: Catalog | None, _: Any) -> str:
    if group_by == "procedure":
        return _(catalog.get(key).title) if catalog is not None and key in catalog.procedures else key
    if group_by == "agency":
        return _(lc.AGENCY_LABELS[key]) if key in lc.AGENCY_LABELS else key
    unit = find_commune(key) if key != "-" else None
    return f"{unit.full_name} ({unit.code})" if unit is not None else key


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1)


def headline(c: Counts, lang: str = "vi") -> str:
    """The seed's one line: “Số hồ sơ xử lý: N · Trước & đúng hạn: N · Trễ hạn: N · Tỉ lệ trễ hạn: x%”."""
    _ = translator(lang)
    rate = format(c.late_rate, "g")
    return _("Số hồ sơ xử lý: {handled} · Trước & đúng hạn: {timely} · Trễ hạn: {late} · Tỉ lệ trễ hạn: {rate}%",
             handled=c.handled, timely=c.timely, late=c.late, rate=rate)


def stats_text(rows: list[StatRow], title: str, *, level: str = "dossier", ytd: Counts | None = None,
               ytd_month: int | None = None, lang: str = "vi") -> str:
    """Readable on a phone: a headline, then one short block per group (no wide table)."""
    _ = translator(lang)
    total = rows[-1].counts if rows else Counts()
    lines = [title, _("Đơn vị đếm: {unit}", unit=_(LEVEL_LABELS[level])), headline(total, lang)]
    if total.rejected or total.withdrawn:
        lines.append(_("Trong đó từ chối: {r} · Rút hồ sơ (không tính vào số xử lý): {w}",
                       r=total.rejected, w=total.withdrawn))
    if ytd is not None and ytd_month is not None:
        rate = format(round(100.0 * ytd.timely / ytd.handled, 1) if ytd.handled else 0.0, "g")
        lines.append(_("Đến tháng {m:02d} đã giải quyết trước & đúng hạn: {rate}% ({timely}/{handled})",
                       m=ytd_month, rate=rate, timely=ytd.timely, handled=ytd.handled))
    for r in rows[:-1]:
        c = r.counts
        lines.append(f"\n{r.title}")
        lines.append(_("Mới {received} · Kỳ trước {carried} · Xử lý {handled} (đúng hạn {timely}, trễ {late}) · "
                       "Đang giải quyết {open} (quá hạn {overdue})", received=c.received, carried=c.carried_over,
                       handled=c.handled, timely=c.timely, late=c.late, open=c.in_progress, overdue=c.overdue))
    if len(rows) <= 1:
        lines.append(_("Không có hồ sơ nào trong kỳ."))
    return "\n".join(lines)


def export_rows(rows: list[StatRow], lang: str = "vi") -> tuple[list[str], list[list[Any]]]:
    _ = translator(lang)
    head = [_("Nhóm")] + [_(label) for _k, label in COLUMNS]
    body = [[r.title] + [getattr(r.counts, k) for k, _l in COLUMNS] for r in rows]
    return head, body


def to_csv(rows: list[StatRow], lang: str = "vi") -> bytes:
    head, body = export_rows(rows, lang)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(head)
    w.writerows(body)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def to_xlsx(rows: list[StatRow], title: str, lang: str = "vi") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.worksheet import Worksheet

    head, body = export_rows(rows, lang)
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook starts with one worksheet
    ws.title = "Thong ke"
    ws.append([title])
    ws["A1"].font = Font(bold=True)
    ws.append(head)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for line in body:
        ws.append(line)
    ws.column_dimensions["A"].width = 60
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
