"""The Vietnamese working-day calendar used for processing deadlines.

Time limits for administrative procedures are counted in *working days*
(ngày làm việc): Monday to Friday, minus public holidays, plus any Saturday the
government declares a working day to make up for a bridge holiday.

Holiday data
------------
Public holidays come from the ``holidays`` package (``holidays.VN``, default
language Vietnamese). It models: Tết Dương lịch (1/1); Tết Nguyên Đán (lunar
new year's eve + days 1–4 since 2013, plus the weekday substitutes it computes
when one of those falls on a weekend, e.g. "29 Tết" before or "Mùng năm/sáu"
after); Giỗ Tổ Hùng Vương (10/3 lunar, since 2007); 30/4; 1/5; Quốc khánh 2/9
plus the extra adjoining day since 2021 (1/9 or 3/9); Ngày Văn hóa Việt Nam
(24/11, since 2026); the substitute day off on the next working day when a
fixed holiday falls on a weekend ("nghỉ bù", e.g. Hùng Kings' Day 2026 on
Sunday 26/4 → Monday 27/4); and the government's one-off day swaps
("Ngày nghỉ (thay cho ngày ...)", e.g. Friday 2/5/2025 off in exchange for
Saturday 26/4/2025, Monday 31/8/2026 off for Saturday 22/8/2026). The swapped
Saturdays are read from the package (``weekend_workdays``) and treated as
working days. Years the package only estimates (future Tết swaps are decided
each autumn) can be corrected with ``extra_holidays`` / ``makeup_workdays``:
in a file named by the ``DVCBOT_CALENDAR`` environment variable (see
:func:`load_calendar`), which every ``dvcbot`` process reads at start-up.

Official decisions are data with their source: ``dialogs/data/calendar_vn.yaml`` records the
government's one-off days off and make-up Saturdays (e.g. the 2026 New Year swap: Friday 2/1 off,
Saturday 10/1 worked), fixed days off outside the Labour Code with their basis (24/11, Ngày Văn hóa
Việt Nam, from 01/07/2026 under Nghị quyết 28/2026/QH16), package holidays no legal basis was found
for (none at present; they would count as working days), the years whose official schedule is
recorded, and what is still an estimate (Tết 2027). :func:`missing_official_year` tells the daily report
when next year's schedule is missing.

Counting convention
-------------------
* A dossier received on a working day before the cut-off (15:00 local time)
  has that day as **day 0**; one received later, or on a day off, has the next
  working day as day 0. The clock does not count day 0.
* A time limit of N working days ends on the **N-th working day after day 0**:
  received Monday 10:00 with N = 3 → due Thursday; received Friday 16:00 with
  N = 1 → day 0 is Monday, due Tuesday.
* Naive datetimes are taken to be local (Asia/Ho_Chi_Minh) time; aware ones are
  converted.

Paused clock
------------
When the agency asks the citizen for something (supplementing the dossier),
the clock stops. For a pause from ``start`` to ``end``:

* the working day on which the pause starts still counts (the agency worked
  on the dossier that day);
* ``end`` is treated like a fresh receipt with the same cut-off: its day 0 is
  ``start_day(end)``;
* every working day after the pause-start day, up to and including that
  restart day, is not counted — each one moves the due date one working day
  later;
* a pause that is still open is treated as if it ended *now*, so the due date
  shown moves forward as the wait goes on;
* pauses that begin after the due date has been reached do not move it
  (an agency that is already late cannot stop the clock), and overlapping
  pauses count each day once.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "CALENDAR_ENV",
    "DEFAULT_CALENDAR",
    "DEFAULT_CUTOFF",
    "OFFICIAL_CALENDAR",
    "VN_TZ",
    "OfficialCalendar",
    "Status",
    "WorkCalendar",
    "calendar_from_config",
    "calendar_from_env",
    "load_calendar",
    "missing_official_year",
]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_CUTOFF = time(15, 0)

Status = Literal["early", "on_time", "late", "overdue", "due_soon", "in_time"]

_ONE_DAY = timedelta(days=1)
_MAX_STEPS = 366 * 200  # a safety bound for the day-by-day walks


def _to_date(v: date | str) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        return date.fromisoformat(v.strip())
    raise TypeError(f"expected a date or an ISO date string, got {type(v).__name__}")


_OFFICIAL_FILE = os.path.join(os.path.dirname(__file__), "data", "calendar_vn.yaml")


class OfficialCalendar:
    """The government's decisions recorded in ``dialogs/data/calendar_vn.yaml`` (see the module docs)."""

    def __init__(self, data: Mapping[str, Any]):
        self.official_years: frozenset[int] = frozenset(int(y) for y in data.get("official_years") or ())
        self.days: list[dict[str, Any]] = [dict(d, date=_to_date(d["date"])) for d in data.get("days") or ()]
        for d in self.days:
            if d.get("kind") not in ("day_off", "workday") or not str(d.get("source") or "").strip():
                raise ValueError(f"calendar day {d['date']}: needs kind day_off/workday and a source")
        self.holidays: list[dict[str, Any]] = [dict(h) for h in data.get("holidays") or ()]
        self.not_holidays: list[dict[str, Any]] = [dict(n) for n in data.get("not_holidays") or ()]
        for h in [*self.holidays, *self.not_holidays]:
            if not str(h.get("source") or "").strip():
                raise ValueError(f"calendar entry {h.get('month_day')}: needs a source")
        self.estimates: list[dict[str, Any]] = [dict(e) for e in data.get("estimates") or ()]

    @classmethod
    def load(cls, path: str = _OFFICIAL_FILE) -> OfficialCalendar:
        import yaml
        with open(path, encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh) or {})

    @property
    def day_offs(self) -> list[date]:
        return [d["date"] for d in self.days if d["kind"] == "day_off"]

    @property
    def workdays(self) -> list[date]:
        return [d["date"] for d in self.days if d["kind"] == "workday"]

    @staticmethod
    def _matches(entries: list[dict[str, Any]], d: date) -> dict[str, Any] | None:
        for n in entries:
            if d.strftime("%m-%d") != str(n["month_day"]):
                continue
            lo, hi = n.get("from"), n.get("until")
            if (lo is None or _to_date(lo) <= d) and (hi is None or d <= _to_date(hi)):
                return n
        return None

    def not_a_holiday(self, d: date) -> bool:
        """Whether ``d`` is a package holiday that no legal basis was found for."""
        return self._matches(self.not_holidays, d) is not None

    def fixed_holidays(self, year: int) -> dict[date, str]:
        """The recorded fixed days off of ``year`` (with a basis outside the package)."""
        out = {}
        for h in self.holidays:
            month, day = (int(x) for x in str(h["month_day"]).split("-"))
            d = date(year, month, day)
            if self._matches([h], d):
                out[d] = str(h.get("name") or "")
        return out


#: The recorded official decisions (dialogs/data/calendar_vn.yaml).
OFFICIAL_CALENDAR = OfficialCalendar.load()


def missing_official_year(today: date, official: OfficialCalendar = OFFICIAL_CALENDAR) -> int | None:
    """Next year, when its official schedule (holidays, swaps, Tết) is not recorded yet; else ``None``."""
    return None if today.year + 1 in official.official_years else today.year + 1


class WorkCalendar:
    """Working days in Vietnam: Mon–Fri minus public holidays, plus make-up days.

    ``extra_holidays``: additional days off (e.g. a Tết swap the ``holidays``
    package does not know yet). ``makeup_workdays``: days declared working days
    (usually Saturdays), which win over weekends and holidays. ``cutoff``: a
    dossier received at or after this local time counts from the next working
    day. ``tz``: the local time zone (a tzinfo or an IANA name).
    """

    def __init__(
        self,
        extra_holidays: Iterable[date | str] = (),
        makeup_workdays: Iterable[date | str] = (),
        cutoff: time = DEFAULT_CUTOFF,
        tz: tzinfo | str = VN_TZ,
        official: OfficialCalendar | None = OFFICIAL_CALENDAR,
    ) -> None:
        self.extra_holidays: frozenset[date] = frozenset(_to_date(d) for d in extra_holidays)
        self.makeup_workdays: frozenset[date] = frozenset(_to_date(d) for d in makeup_workdays)
        # the government's recorded decisions (the configured days above win over them)
        self.official = official
        self._official_off = frozenset(official.day_offs) if official is not None else frozenset()
        self._official_work = frozenset(official.workdays) if official is not None else frozenset()
        both = self.extra_holidays & self.makeup_workdays
        if both:
            raise ValueError("dates listed both as extra holidays and make-up working days: "
                             + ", ".join(sorted(d.isoformat() for d in both)))
        if cutoff.tzinfo is not None:
            raise ValueError("cutoff must be a naive local time")
        self.cutoff = cutoff
        self.tz: tzinfo = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._lock = threading.Lock()
        self._loaded: set[int] = set()
        self._public: dict[date, str] = {}
        self._lib_makeup: set[date] = set()

    def __repr__(self) -> str:
        return (f"WorkCalendar(extra_holidays={len(self.extra_holidays)}, "
                f"makeup_workdays={len(self.makeup_workdays)}, cutoff={self.cutoff:%H:%M}, tz={self.tz})")

    # -- holiday data ------------------------------------------------------------------
    def _load(self, year: int) -> None:
        # Swaps can cross a year boundary (a Saturday in late December made up for
        # a day off in January), so the following year's data is loaded too.
        for y in (year, year + 1):
            if y in self._loaded:
                continue
            with self._lock:
                if y in self._loaded:
                    continue
                data = holidays.country_holidays("VN", years=y)
                official = self.official
                self._public.update({d: n for d, n in data.items()
                                     if official is None or not official.not_a_holiday(d)})
                if official is not None:
                    for d, n in official.fixed_holidays(y).items():
                        self._public.setdefault(d, n)
                self._lib_makeup.update(getattr(data, "weekend_workdays", ()))
                self._loaded.add(y)

    def public_holiday(self, d: date) -> str | None:
        """The (Vietnamese) name of the public holiday on ``d`` per the ``holidays`` data."""
        d = self._day(d)
        self._load(d.year)
        return self._public.get(d)

    def is_holiday(self, d: date) -> bool:
        """Whether ``d`` is a day off other than a plain weekend (public or extra holiday)."""
        d = self._day(d)
        if d in self.makeup_workdays:
            return False
        if d in self.extra_holidays or (d in self._official_off and d not in self._official_work):
            return True
        return d not in self._official_work and self.public_holiday(d) is not None

    def is_workday(self, d: date) -> bool:
        """Mon–Fri and not a holiday, or a declared make-up working day."""
        d = self._day(d)
        if d in self.makeup_workdays:
            return True
        if d in self.extra_holidays:
            return False
        if d in self._official_work:
            return True
        if d in self._official_off:
            return False
        self._load(d.year)
        if d.weekday() >= 5:
            return d in self._lib_makeup
        return d not in self._public

    # -- time helpers ------------------------------------------------------------------
    def to_local(self, dt: datetime) -> datetime:
        """``dt`` in local time; a naive datetime is taken to be local already."""
        if dt.tzinfo is None:
            return dt.replace(tzinfo=self.tz)
        return dt.astimezone(self.tz)

    def _day(self, d: date) -> date:
        if isinstance(d, datetime):
            return self.to_local(d).date()
        return d

    def today(self, now: datetime | None = None) -> date:
        """The local date now (or of ``now``)."""
        return self.to_local(now).date() if now is not None else datetime.now(self.tz).date()

    # -- stepping ----------------------------------------------------------------------
    def next_workday(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d = self._day(d)
        for _ in range(_MAX_STEPS):
            d += _ONE_DAY
            if self.is_workday(d):
                return d
        raise RuntimeError("no working day found")  # pragma: no cover

    def previous_workday(self, d: date) -> date:
        """The last working day strictly before ``d``."""
        d = self._day(d)
        for _ in range(_MAX_STEPS):
            d -= _ONE_DAY
            if self.is_workday(d):
                return d
        raise RuntimeError("no working day found")  # pragma: no cover

    def add_workdays(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (before it if ``n`` < 0; ``start`` if 0)."""
        d = self._day(start)
        step = self.next_workday if n >= 0 else self.previous_workday
        for _ in range(abs(n)):
            d = step(d)
        return d

    def workdays_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative (−count of (b, a]) if b is before a."""
        a, b = self._day(a), self._day(b)
        if b < a:
            return -self.workdays_between(b, a)
        count = 0
        d = a
        while d < b:
            d += _ONE_DAY
            count += self.is_workday(d)
        return count

    # -- deadlines ---------------------------------------------------------------------
    def start_day(self, received_at: datetime) -> date:
        """Day 0 of the clock: the receiving day if it is a working day and the
        local time is before the cut-off, otherwise the next working day."""
        local = self.to_local(received_at)
        d = local.date()
        if self.is_workday(d) and local.time() < self.cutoff:
            return d
        return self.next_workday(d)

    def due_date(self, received_at: datetime, n: int) -> date:
        """The last day of an ``n``-working-day time limit: ``n`` working days after day 0."""
        if n < 0:
            raise ValueError("a time limit cannot be negative")
        return self.add_workdays(self.start_day(received_at), n)

    def paused_spans(self, pauses: Sequence[tuple[datetime, datetime | None]],
                     now: datetime) -> list[tuple[date, date]]:
        """The pauses as day spans (a, b]: working days in them do not count."""
        spans = []
        for start, end in pauses:
            if end is not None and self.to_local(end) < self.to_local(start):
                raise ValueError(f"pause ends ({end}) before it starts ({start})")
            first = self.to_local(start).date()
            restart = self.start_day(end if end is not None else now)
            if restart > first:
                spans.append((first, restart))
        return spans

    def due_date_with_pauses(self, received_at: datetime, n: int,
                             pauses: Sequence[tuple[datetime, datetime | None]],
                             now: datetime) -> date:
        """:meth:`due_date`, not counting working days spent waiting for the citizen.

        ``pauses`` are (start, end) pairs; ``end`` is ``None`` for a pause that
        is still open, which is taken to end at ``now``. See the module docs for
        the exact rule.
        """
        if n < 0:
            raise ValueError("a time limit cannot be negative")
        spans = self.paused_spans(pauses, now)
        d = self.start_day(received_at)
        counted = 0
        for _ in range(_MAX_STEPS):
            if counted >= n:
                return d
            d = self.next_workday(d)
            if not any(a < d <= b for a, b in spans):
                counted += 1
        raise RuntimeError("deadline walk did not end")  # pragma: no cover

    def classify(self, due: date, finished_at: datetime | None, now: datetime) -> Status:
        """Where a dossier stands against its due date.

        Finished dossiers: ``"early"`` (finished before the due day), ``"on_time"``
        (on it), ``"late"`` (after it). Open ones: ``"overdue"`` (today is after
        the due day), ``"due_soon"`` (due today or on the next working day),
        otherwise ``"in_time"``.
        """
        if finished_at is not None:
            f = self.to_local(finished_at).date()
            return "early" if f < due else "on_time" if f == due else "late"
        today = self.to_local(now).date()
        if today > due:
            return "overdue"
        if due <= self.next_workday(today):
            return "due_soon"
        return "in_time"

    # -- configuration -----------------------------------------------------------------
    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> WorkCalendar:
        """Build from a config mapping (e.g. a YAML section)::

            makeup_workdays: ["2026-08-22"]   # ISO strings or YAML dates
            extra_holidays: ["2027-02-11"]
            cutoff: "15:00"                   # optional
            tz: "Asia/Ho_Chi_Minh"            # optional

        Unknown keys are an error, so a typo does not silently change deadlines.
        """
        config = dict(config or {})
        unknown = set(config) - {"makeup_workdays", "extra_holidays", "cutoff", "tz"}
        if unknown:
            raise ValueError(f"unknown calendar settings: {', '.join(sorted(unknown))}")
        cutoff = config.get("cutoff", DEFAULT_CUTOFF)
        if isinstance(cutoff, str):
            cutoff = time.fromisoformat(cutoff.strip())
        return cls(
            extra_holidays=config.get("extra_holidays") or (),
            makeup_workdays=config.get("makeup_workdays") or (),
            cutoff=cutoff,
            tz=config.get("tz", VN_TZ),
        )


def calendar_from_config(config: Mapping[str, Any] | None) -> WorkCalendar:
    """Same as :meth:`WorkCalendar.from_config`; returns :data:`DEFAULT_CALENDAR` for an empty config."""
    if not config:
        return DEFAULT_CALENDAR
    return WorkCalendar.from_config(config)


#: The environment variable naming a calendar file (YAML or JSON, the keys of :meth:`WorkCalendar.from_config`)
#: that every ``dvcbot`` process reads at start-up, e.g. ``DVCBOT_CALENDAR=/etc/dvcbot/calendar.yaml``.
CALENDAR_ENV = "DVCBOT_CALENDAR"


def load_calendar(path: str | os.PathLike[str]) -> WorkCalendar:
    """A calendar from a YAML (or JSON) file with the keys of :meth:`WorkCalendar.from_config`::

        # the government's make-up Saturdays and extra days off the ``holidays`` data does not know yet
        makeup_workdays: [2027-02-20]
        extra_holidays: [2027-02-12]
        cutoff: "15:00"

    Errors (missing file, unknown key, a date listed twice) name the file, so a typo does not silently
    change deadlines."""
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        if not isinstance(data, Mapping):
            raise ValueError("expected a mapping of settings")
        return WorkCalendar.from_config(data)
    except (OSError, ValueError, TypeError, yaml.YAMLError) as exc:
        raise ValueError(f"calendar file {os.fspath(path)!r}: {exc}") from exc


def calendar_from_env(environ: Mapping[str, str] | None = None) -> WorkCalendar:
    """The calendar named by ``$DVCBOT_CALENDAR``, or the plain one (``holidays`` data, 15:00 cut-off)."""
    path = (os.environ if environ is None else environ).get(CALENDAR_ENV, "").strip()
    return load_calendar(path) if path else WorkCalendar()


#: The calendar every process uses unless given another: the ``holidays`` data and the 15:00 cut-off, plus
#: the make-up working days and extra holidays of the file named by ``$DVCBOT_CALENDAR``, if set.
DEFAULT_CALENDAR = calendar_from_env()
