"""A filing's rows on the driver, and the outbox row of any notification.

A citizen's filing writes a dossier, its first event, its attachments, one leg per receiving agency and the
outbox rows that tell officers and citizens; it reads who those are (officers in the leg's scope, focal points,
the chats linked to the applicant's ID number, where a linked chat's notifications go). Through the async ORM
each of those statements cost 0.1–0.3 ms of CPU, most of the filing step (docs/benchmarks.md); on the driver a
few microseconds. The statements are written once, with ``?`` placeholders, against :class:`Rows`: a lean
turn's own transaction (:class:`~storage.chatstore.ChatTx`), or :class:`SessionRows` over an ORM session's
connection (the turn on the ORM path, an officer's action). Values are written as the ORM writes them (the same
columns read back the same through the models): :func:`answers_out` for encrypted JSON, ``Rows.time`` and
``Rows.date`` for the column types.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from .chatstore.base import answers_out, column_time, dump_json, numbered


class Rows(Protocol):
    """Statements in the caller's transaction, with ``?`` placeholders (:class:`~storage.chatstore.ChatTx`'s
    surface)."""

    dialect: str

    async def fetch(self, sql: str, *params: Any) -> list[tuple[Any, ...]]: ...

    async def execute(self, sql: str, *params: Any) -> int: ...

    def time(self, at: datetime) -> Any: ...


def as_date(rows: Rows, value: date) -> Any:
    """A ``Date`` column's value: ``YYYY-MM-DD`` text on SQLite, as the ORM writes it."""
    return value.isoformat() if rows.dialect == "sqlite" else value


def aware(at: datetime) -> datetime:
    """A naive instant is UTC (as ``UTCDateTime`` takes it)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def read_date(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


class SessionRows:
    """:class:`Rows` over an ORM session's connection, in its transaction: what the session holds is flushed
    first, so a statement sees it."""

    def __init__(self, db: AsyncSession):
        self.db = db
        self.dialect = db.get_bind().dialect.name

    async def _run(self, sql: str, params: tuple[Any, ...]) -> Any:
        await self.db.flush()
        conn = await self.db.connection()
        return await conn.exec_driver_sql(numbered(sql) if self.dialect == "postgresql" else sql, params)

    async def fetch(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self._run(sql, params)]

    async def execute(self, sql: str, *params: Any) -> int:
        return int((await self._run(sql, params)).rowcount)

    def time(self, at: datetime) -> Any:
        return column_time(self.dialect, aware(at))


def rows_of(db: AsyncSession | Rows) -> Rows:
    return SessionRows(db) if isinstance(db, AsyncSession) else db


def _json(rows: Rows) -> str:
    return "?::json" if rows.dialect == "postgresql" else "?"


# --------------------------------------------------------------------------------------------------------------
# the dossier
_DOSSIER_COLUMNS = ("code", "idempotency_key", "procedure_id", "procedure_version", "agency", "commune_code",
                    "applicant_key", "submitter_key", "applicant_name", "answers", "lang", "status",
                    "submitted_at", "due_date")


# PostgreSQL: one round trip for the dossier, its first event and its attachments (a data-modifying WITH runs
# whether or not the statement reads it; a conflict inserts no dossier, so neither of the others)
_PG_FILING = (
    "WITH d AS ({dossier}), "
    "e AS (INSERT INTO dossier_events (dossier_id, at, to_status, actor, role) "
    "SELECT id, ?::timestamptz, ?::text, ?::text, ?::text FROM d), "
    "a AS (INSERT INTO attachments (dossier_id, field_path, sha256, mime, size, name) "
    "SELECT d.id, x.path, x.sha256, x.mime, x.size, x.name FROM d, "
    "json_to_recordset(?::json) AS x(path text, sha256 text, mime text, size int, name text)) "
    "SELECT id FROM d")


@dataclass
class NewDossier:
    """What a filing inserted (or found filed already under its idempotency key)."""

    id: int
    code: str
    due_date: date
    created: bool


async def insert_dossier(rows: Rows, values: dict[str, Any], make_code: Callable[[], str],
                         attachments: Sequence[dict[str, Any]]) -> NewDossier:
    """The dossier row once per idempotency key (``ON CONFLICT DO NOTHING``: a filing committed meanwhile, or a
    drawn code already taken, inserts nothing), its first event and its attachments. ``values`` holds every
    column but ``code``, which ``make_code`` draws (again, on a rare collision)."""
    marks = ", ".join(_json(rows) if c == "answers" else "?" for c in _DOSSIER_COLUMNS)
    sql = (f"INSERT INTO dossiers ({', '.join(_DOSSIER_COLUMNS)}) VALUES ({marks}) ON CONFLICT DO NOTHING "
           "RETURNING id")
    at = aware(values["submitted_at"])
    event = (rows.time(at), values["status"], values["submitter_key"], "citizen")
    together = rows.dialect == "postgresql"  # the event and attachments ride on the dossier's statement
    extra: tuple[Any, ...] = ()
    if together:
        sql = _PG_FILING.format(dossier=sql)
        extra = (*event, dump_json([{k: a.get(k) for k in ("path", "sha256", "mime", "size", "name")}
                                    for a in attachments]))
    for _attempt in range(5):
        code = make_code()
        row = dict(values, code=code, answers=answers_out(values["answers"]), submitted_at=rows.time(at),
                   due_date=as_date(rows, values["due_date"]))
        got = await rows.fetch(sql, *(row[c] for c in _DOSSIER_COLUMNS), *extra)
        if not got:  # filed already (rare, so looked up only then), or the code was taken
            old = await rows.fetch("SELECT id, code, due_date FROM dossiers WHERE idempotency_key = ?",
                                   values["idempotency_key"])
            if old:
                return NewDossier(old[0][0], old[0][1], read_date(old[0][2]), False)
            continue
        dossier_id = got[0][0]
        if together:
            return NewDossier(dossier_id, code, values["due_date"], True)
        await rows.execute("INSERT INTO dossier_events (dossier_id, at, to_status, actor, role) "
                           "VALUES (?, ?, ?, ?, ?)", dossier_id, *event)
        for a in attachments:
            await rows.execute("INSERT INTO attachments (dossier_id, field_path, sha256, mime, size, name) "
                               "VALUES (?, ?, ?, ?, ?, ?)", dossier_id, a["path"], a["sha256"], a["mime"],
                               a["size"], a.get("name"))
        return NewDossier(dossier_id, code, values["due_date"], True)
    raise RuntimeError("could not draw a free dossier code")


_LEG_COLUMNS = ("dossier_id", "seq", "agency", "commune_code", "status", "processing_days", "started_at",
                "due_date", "pauses", "paused_workdays", "version", "created_at", "updated_at")


async def insert_leg(rows: Rows, values: dict[str, Any]) -> int:
    """One leg of a new dossier (every column of ``_LEG_COLUMNS``); its id."""
    marks = ", ".join(_json(rows) if c == "pauses" else "?" for c in _LEG_COLUMNS)
    row = dict(values, pauses=dump_json(values["pauses"]), due_date=as_date(rows, values["due_date"]),
               started_at=rows.time(aware(values["started_at"])),
               created_at=rows.time(aware(values["created_at"])), updated_at=rows.time(aware(values["updated_at"])))
    got = await rows.fetch(f"INSERT INTO dossier_legs ({', '.join(_LEG_COLUMNS)}) VALUES ({marks}) RETURNING id",
                           *(row[c] for c in _LEG_COLUMNS))
    return int(got[0][0])


# --------------------------------------------------------------------------------------------------------------
# who hears of it
@dataclass(frozen=True)
class OfficerRow:
    """What a push needs of an officer (active, with a chat)."""

    id: int
    user_key: str
    agency: str
    commune_code: str
    role: str
    active: bool = True


async def officers_and_focal_points(rows: Rows, agency: str, commune_code: str | None
                                    ) -> tuple[list[OfficerRow], list[OfficerRow]]:
    """The active officers with a chat of ``agency`` in ``commune_code``, and the active focal points with a chat
    (who hear of a leg nobody is in scope for), each by id: one statement for both."""
    scope = "agency = ? AND commune_code IS NULL" if commune_code is None else "agency = ? AND commune_code = ?"
    got = await rows.fetch(f"SELECT id, user_key, agency, commune_code, role, ({scope}), focal_point FROM officers "
                           f"WHERE active AND user_key IS NOT NULL AND (({scope}) OR focal_point) ORDER BY id",
                           *((agency,) if commune_code is None else (agency, commune_code)) * 2)
    return [OfficerRow(*r[:5]) for r in got if r[5]], [OfficerRow(*r[:5]) for r in got if r[6]]


async def chats_of_person(rows: Rows, pkey: str) -> list[str]:
    """The chats linked to an ID number's key (storage/officers_repo.py ``person_key``), in linking order."""
    return [r[0] for r in await rows.fetch("SELECT user_key FROM chat_links WHERE person_key = ? ORDER BY id",
                                           pkey)]


async def notify_keys(rows: Rows, keys: Iterable[str]) -> list[str]:
    """Where the notifications meant for ``keys`` go: a linked chat's account's preferred chat (once each)."""
    keys = [k for k in keys if k]
    if not keys:
        return []
    got = await rows.fetch("SELECT i.user_key, a.notify_key FROM account_identities i JOIN accounts a "
                           f"ON a.id = i.account_id WHERE i.user_key IN ({', '.join('?' * len(keys))})", *keys)
    target = {k: n for k, n in got}
    out: list[str] = []
    for k in keys:
        t = target.get(k) or k
        if t not in out:
            out.append(t)
    return out


# --------------------------------------------------------------------------------------------------------------
# the outbox
def channel_of(chat_key: str) -> str:
    """``telegram:123`` → ``telegram``; a key without a prefix is a console chat."""
    head, sep, _rest = chat_key.partition(":")
    return head[:20] if sep and head else "console"


async def enqueue(rows: Rows, *, chat_key: str, kind: str, dedupe_key: str, payload: dict[str, Any],
                  now: datetime, dossier_id: int | None = None, channel: str | None = None) -> bool:
    """An outbox row for ``chat_key`` unless one with the same dedupe key exists; whether it was added."""
    at = rows.time(aware(now))
    return bool(await rows.execute(
        "INSERT INTO outbox (channel, chat_key, kind, dedupe_key, dossier_id, payload, status, attempts, "
        f"next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, {_json(rows)}, 'pending', 0, ?, ?) "
        "ON CONFLICT (dedupe_key) DO NOTHING", channel or channel_of(chat_key), chat_key, kind, dedupe_key[:200],
        dossier_id, dump_json(payload), at, at))
