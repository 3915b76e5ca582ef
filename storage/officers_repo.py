"""Queries for officers, dossier legs, supplement requests, the notification outbox and reports.

Like storage/repo.py these run inside the caller's transaction and never commit, except the
outbox claim/mark helpers, which the notifier calls in short transactions of their own.
"""
from __future__ import annotations

import builtins
import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from . import filing, keys
from .db import rowcount
from .filing import SessionRows
from .models import (
    ChatLink,
    Dossier,
    DossierEvent,
    DossierLeg,
    Officer,
    OutboxMessage,
    Rating,
    SupplementRequest,
)


def secret_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def person_key(id_number: str) -> str:
    """The key a ChatLink stores for a person: an HMAC of the ID number under the deployment's secret key
    (storage/keys.py), never the number itself, nor a plain hash of it (12 digits of known structure are
    reversed in under a second)."""
    digits = "".join(ch for ch in str(id_number) if ch.isalnum()).upper()
    return keys.keyed_hash("person", digits)


_ACTIVE_WITH_CHAT = (Officer.active.is_(True), Officer.user_key.is_not(None))
_IN_SCOPE = {  # the common question of a filing (officers of an agency and commune, with a chat): prebuilt
    has_commune: select(Officer).where(
        Officer.agency == bindparam("agency"),
        Officer.commune_code == bindparam("commune") if has_commune else Officer.commune_code.is_(None),
        *_ACTIVE_WITH_CHAT).order_by(Officer.id)
    for has_commune in (True, False)}
_FOCAL_POINTS = select(Officer).where(Officer.focal_point.is_(True), *_ACTIVE_WITH_CHAT).order_by(Officer.id)


class OfficerRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add(self, *, full_name: str, agency: str, commune_code: str, role: str, focal_point: bool,
                  invite_hash: str, invite_expires_at: datetime | None) -> Officer:
        o = Officer(full_name=full_name, agency=agency, commune_code=commune_code, role=role,
                    focal_point=focal_point, invite_hash=invite_hash, invite_expires_at=invite_expires_at,
                    active=True, chat_state={})
        self.db.add(o)
        await self.db.flush()
        return o

    async def get(self, officer_id: int, *, lock: bool = False) -> Officer | None:
        stmt = select(Officer).where(Officer.id == officer_id)
        if lock:
            stmt = stmt.with_for_update()
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def by_user_key(self, user_key: str, *, lock: bool = False) -> Officer | None:
        stmt = select(Officer).where(Officer.user_key == user_key, Officer.active.is_(True))
        if lock:
            stmt = stmt.with_for_update()
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def by_invite(self, invite_hash: str) -> Officer | None:
        return (await self.db.execute(
            select(Officer).where(Officer.invite_hash == invite_hash).with_for_update())).scalar_one_or_none()

    async def in_scope(self, agency: str, commune_code: str | None, *, with_chat: bool = True,
                       roles: Iterable[str] | None = None) -> list[Officer]:
        if with_chat and roles is None:
            return list((await self.db.execute(_IN_SCOPE[commune_code is not None],
                                               {"agency": agency, "commune": commune_code})).scalars())
        stmt = select(Officer).where(Officer.agency == agency, Officer.commune_code == commune_code,
                                     Officer.active.is_(True)).order_by(Officer.id)
        if with_chat:
            stmt = stmt.where(Officer.user_key.is_not(None))
        if roles is not None:
            stmt = stmt.where(Officer.role.in_(list(roles)))
        return list((await self.db.execute(stmt)).scalars())

    async def list(self, *, agency: str | None = None, commune_code: str | None = None) -> list[Officer]:
        stmt = select(Officer).order_by(Officer.agency, Officer.commune_code, Officer.id)
        if agency:
            stmt = stmt.where(Officer.agency == agency)
        if commune_code:
            stmt = stmt.where(Officer.commune_code == commune_code)
        return list((await self.db.execute(stmt)).scalars())

    async def focal_points(self) -> builtins.list[Officer]:  # `list` here is the method above
        return list((await self.db.execute(_FOCAL_POINTS)).scalars())


class LegRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def of_dossier(self, dossier_id: int, *, lock: bool = False) -> list[DossierLeg]:
        stmt = select(DossierLeg).where(DossierLeg.dossier_id == dossier_id).order_by(DossierLeg.seq)
        if lock:
            stmt = stmt.with_for_update()
        return list((await self.db.execute(stmt)).scalars())

    async def get(self, leg_id: int, *, lock: bool = False) -> DossierLeg | None:
        stmt = select(DossierLeg).where(DossierLeg.id == leg_id)
        if lock:
            stmt = stmt.with_for_update()
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def dossier(self, code: str, *, lock: bool = False) -> Dossier | None:
        stmt = select(Dossier).where(Dossier.code == code).options(selectinload(Dossier.events),
                                                                    selectinload(Dossier.attachments))
        if lock:
            stmt = stmt.with_for_update()
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def in_scope(self, code: str, agency: str, commune_code: str | None, *,
                       lock: bool = False) -> tuple[Dossier, DossierLeg] | None:
        """The dossier and its leg for this agency and commune; None outside the officer's jurisdiction."""
        stmt = select(DossierLeg).join(Dossier, Dossier.id == DossierLeg.dossier_id).where(
            Dossier.code == code, DossierLeg.agency == agency, DossierLeg.commune_code == commune_code)
        if lock:
            stmt = stmt.with_for_update()
        leg = (await self.db.execute(stmt)).scalars().first()
        if leg is None:
            return None
        d = await self.dossier(code, lock=lock)
        return (d, leg) if d is not None else None

    async def queue(self, agency: str, commune_code: str | None, *, statuses: Iterable[str] | None = None,
                    claimed_by: int | None = None, limit: int | None = None) -> list[tuple[DossierLeg, Dossier]]:
        stmt = select(DossierLeg, Dossier).join(Dossier, Dossier.id == DossierLeg.dossier_id).where(
            DossierLeg.agency == agency, DossierLeg.commune_code == commune_code)
        if statuses is not None:
            stmt = stmt.where(DossierLeg.status.in_(list(statuses)))
        if claimed_by is not None:
            stmt = stmt.where(DossierLeg.claimed_by == claimed_by)
        stmt = stmt.order_by(DossierLeg.due_date, DossierLeg.id)
        if limit:
            stmt = stmt.limit(limit)
        return [(leg, d) for leg, d in (await self.db.execute(stmt)).all()]

    async def all_with_dossier(self, *, statuses: Iterable[str] | None = None, agency: str | None = None,
                               commune_code: str | None = None) -> list[tuple[DossierLeg, Dossier]]:
        stmt = select(DossierLeg, Dossier).join(Dossier, Dossier.id == DossierLeg.dossier_id)
        if statuses is not None:
            stmt = stmt.where(DossierLeg.status.in_(list(statuses)))
        if agency is not None:
            stmt = stmt.where(DossierLeg.agency == agency)
        if commune_code is not None:
            stmt = stmt.where(DossierLeg.commune_code == commune_code)
        return [(leg, d) for leg, d in (await self.db.execute(stmt.order_by(DossierLeg.id))).all()]

    async def for_citizen(self, user_key: str) -> list[Dossier]:
        conds = [Dossier.submitter_key == user_key, Dossier.applicant_key == user_key]
        stmt = select(Dossier).where(or_(*conds)).order_by(Dossier.submitted_at.desc(), Dossier.id.desc())
        return list((await self.db.execute(stmt)).scalars())

    async def last_event(self, leg_id: int, action: str) -> DossierEvent | None:
        return (await self.db.execute(
            select(DossierEvent).where(DossierEvent.leg_id == leg_id, DossierEvent.action == action)
            .order_by(DossierEvent.id.desc()).limit(1))).scalar_one_or_none()


class SupplementRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def open_for_chat(self, user_key: str) -> list[tuple[SupplementRequest, Dossier]]:
        stmt = select(SupplementRequest, Dossier).join(Dossier, Dossier.id == SupplementRequest.dossier_id).where(
            SupplementRequest.status == "open",
            Dossier.submitter_key == user_key).order_by(SupplementRequest.id)  # a follower only reads
        return [(r, d) for r, d in (await self.db.execute(stmt)).all()]

    async def get(self, request_id: int, *, lock: bool = False) -> SupplementRequest | None:
        stmt = select(SupplementRequest).where(SupplementRequest.id == request_id)
        if lock:
            stmt = stmt.with_for_update()
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def open_with_legs(self) -> list[tuple[SupplementRequest, DossierLeg, Dossier]]:
        """Every open request with its leg and dossier (the daily supplement deadline scan)."""
        stmt = (select(SupplementRequest, DossierLeg, Dossier)
                .join(DossierLeg, DossierLeg.id == SupplementRequest.leg_id)
                .join(Dossier, Dossier.id == SupplementRequest.dossier_id)
                .where(SupplementRequest.status == "open").order_by(SupplementRequest.id))
        return [(r, leg, d) for r, leg, d in (await self.db.execute(stmt)).all()]

    async def latest_for_leg(self, leg_id: int) -> SupplementRequest | None:
        return (await self.db.execute(
            select(SupplementRequest).where(SupplementRequest.leg_id == leg_id)
            .order_by(SupplementRequest.id.desc()).limit(1))).scalar_one_or_none()

    async def open_for_leg(self, leg_id: int) -> list[SupplementRequest]:
        return list((await self.db.execute(select(SupplementRequest).where(
            SupplementRequest.leg_id == leg_id, SupplementRequest.status == "open"))).scalars())


class CitizenRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def chats_of_person(self, pkey: str) -> list[str]:
        return await filing.chats_of_person(SessionRows(self.db), pkey)

    async def link(self, user_key: str, pkey: str) -> None:
        exists = (await self.db.execute(select(ChatLink.id).where(
            ChatLink.person_key == pkey, ChatLink.user_key == user_key))).first()
        if exists is None:
            self.db.add(ChatLink(person_key=pkey, user_key=user_key))
            await self.db.flush()

    async def rating(self, dossier_id: int) -> Rating | None:
        return (await self.db.execute(select(Rating).where(Rating.dossier_id == dossier_id))).scalar_one_or_none()

    async def rated_ids(self, dossier_ids: Sequence[int]) -> set[int]:
        if not dossier_ids:
            return set()
        return set((await self.db.execute(
            select(Rating.dossier_id).where(Rating.dossier_id.in_(list(dossier_ids))))).scalars())


class OutboxRepo:
    """The transactional outbox. ``enqueue`` runs in the caller's transaction; the others are the notifier's."""

    def __init__(self, db: AsyncSession):
        self.db = db

    def _dialect(self) -> str:
        return self.db.get_bind().dialect.name

    async def enqueue(self, *, chat_key: str, kind: str, dedupe_key: str, payload: dict[str, Any],
                      now: datetime, dossier_id: int | None = None, channel: str | None = None) -> bool:
        """Add a notification unless one with the same dedupe key exists; returns whether it was added."""
        return await filing.enqueue(SessionRows(self.db), chat_key=chat_key, kind=kind, dedupe_key=dedupe_key,
                                    payload=payload, now=now, dossier_id=dossier_id, channel=channel)

    async def exists(self, dedupe_key: str) -> bool:
        return (await self.db.execute(select(OutboxMessage.id).where(
            OutboxMessage.dedupe_key == dedupe_key[:200]))).first() is not None

    async def anything_due(self, now: datetime, *, channels: Iterable[str] | None = None,
                           chats: Iterable[str] | None = None, kinds: Iterable[str] | None = None) -> bool:
        """Whether :meth:`claim` or :meth:`sweep_uncertain` has anything to do: one read, for an idle poll."""
        mine = [or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                    and_(OutboxMessage.status == "claimed", OutboxMessage.claimed_until < now))]
        if channels is not None:
            mine.append(OutboxMessage.channel.in_(list(channels)))
        if chats is not None:
            mine.append(OutboxMessage.chat_key.in_(list(chats)))
        if kinds is not None:
            mine.append(OutboxMessage.kind.in_(list(kinds)))
        stuck = and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now)
        stmt = select(OutboxMessage.id).where(or_(and_(*mine), stuck)).limit(1)
        return (await self.db.execute(stmt)).first() is not None

    async def claim(self, worker: str, now: datetime, *, limit: int = 20, lease: float = 60.0,
                    channels: Iterable[str] | None = None, chats: Iterable[str] | None = None,
                    kinds: Iterable[str] | None = None) -> list[OutboxMessage]:
        """Claim due rows for ``worker``: pending ones whose time has come, and claimed ones whose worker died
        before it started sending (their lease expired). On PostgreSQL rows locked by another worker are
        skipped (FOR UPDATE SKIP LOCKED); SQLite serialises the whole transaction (BEGIN IMMEDIATE)."""
        due = or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                  and_(OutboxMessage.status == "claimed", OutboxMessage.claimed_until < now))
        stmt = select(OutboxMessage.id).where(due)
        if channels is not None:
            stmt = stmt.where(OutboxMessage.channel.in_(list(channels)))
        if chats is not None:
            stmt = stmt.where(OutboxMessage.chat_key.in_(list(chats)))
        if kinds is not None:
            stmt = stmt.where(OutboxMessage.kind.in_(list(kinds)))
        stmt = stmt.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
        if self._dialect() == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list((await self.db.execute(stmt)).scalars())
        if not ids:
            return []
        await self.db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(
            status="claimed", claimed_by=worker, claimed_until=now + timedelta(seconds=lease)))
        rows = (await self.db.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                      .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                                      .execution_options(populate_existing=True))).scalars()
        return list(rows)

    async def start_sending(self, row_id: int, worker: str, now: datetime, lease: float) -> bool:
        """claimed → sending, only if this worker still holds the claim. After this the row is never sent
        again automatically: if the worker dies now, nobody can know whether the channel got it."""
        r = await self.db.execute(update(OutboxMessage).where(
            OutboxMessage.id == row_id, OutboxMessage.status == "claimed", OutboxMessage.claimed_by == worker)
            .values(status="sending", attempts=OutboxMessage.attempts + 1,
                    claimed_until=now + timedelta(seconds=lease)))
        return rowcount(r) == 1

    async def finish(self, row_id: int, worker: str, *, status: str, now: datetime, error: str | None = None,
                     next_attempt_at: datetime | None = None, provider_ref: str | None = None,
                     uncount: bool = False) -> bool:
        """Record the outcome of a send this worker started; ``uncount`` gives back the attempt (a 429)."""
        values: dict[str, Any] = {"status": status, "claimed_by": None, "claimed_until": None}
        if uncount:
            values["attempts"] = OutboxMessage.attempts - 1
        if status == "delivered":
            values.update(delivered_at=now, provider_ref=provider_ref, last_error=None)
        if error is not None:
            values["last_error"] = error[:300]
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        r = await self.db.execute(update(OutboxMessage).where(
            OutboxMessage.id == row_id, OutboxMessage.status == "sending", OutboxMessage.claimed_by == worker)
            .values(**values))
        return rowcount(r) == 1

    async def release(self, row_id: int, worker: str, next_attempt_at: datetime | None = None) -> None:
        """Give back a claimed row that was not sent (an earlier message to the same chat must be retried
        first: ``next_attempt_at`` keeps this one behind it)."""
        values: dict[str, Any] = {"status": "pending", "claimed_by": None, "claimed_until": None}
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        await self.db.execute(update(OutboxMessage).where(
            OutboxMessage.id == row_id, OutboxMessage.status == "claimed", OutboxMessage.claimed_by == worker)
            .values(**values))

    async def sweep_uncertain(self, now: datetime) -> int:
        """Rows left in 'sending' by a worker that died mid-send: mark failed, never re-send blindly."""
        r = await self.db.execute(update(OutboxMessage).where(
            OutboxMessage.status == "sending", OutboxMessage.claimed_until < now).values(
            status="failed", claimed_by=None, claimed_until=None,
            last_error="uncertain: the worker stopped while sending; not re-sent automatically"))
        return rowcount(r) or 0

    async def retry(self, row_id: int, now: datetime) -> bool:
        """An operator's decision to send a failed row again."""
        r = await self.db.execute(update(OutboxMessage).where(
            OutboxMessage.id == row_id, OutboxMessage.status == "failed").values(
            status="pending", next_attempt_at=now, attempts=0))
        return rowcount(r) == 1

    async def counts(self) -> dict[str, int]:
        rows = (await self.db.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all()
        return {s: n for s, n in rows}

    async def list(self, *, status: str | None = None, chat_key: str | None = None, kind: str | None = None,
                   dossier_id: int | None = None) -> list[OutboxMessage]:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if status:
            stmt = stmt.where(OutboxMessage.status == status)
        if chat_key:
            stmt = stmt.where(OutboxMessage.chat_key == chat_key)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        if dossier_id is not None:
            stmt = stmt.where(OutboxMessage.dossier_id == dossier_id)
        return list((await self.db.execute(stmt)).scalars())
