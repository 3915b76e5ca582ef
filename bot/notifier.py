"""The notifier: delivers the outbox (storage.models.OutboxMessage) through one ``Sender`` per channel.

Rows are written by bot/cases/ in the same transaction as the change they
report, so a notification exists if and only if the change committed. This
worker then:

1. **claims** due rows in a short transaction (``pending`` whose
   ``next_attempt_at`` has come, or ``claimed`` rows whose worker died before
   sending): status ``claimed``, ``claimed_by`` = this worker, a lease. On
   PostgreSQL the select uses ``FOR UPDATE SKIP LOCKED``, so several workers
   share the table without waiting on each other; SQLite serialises the whole
   claim transaction (``BEGIN IMMEDIATE``);
2. waits for the **rate limits** of the row's channel: at least
   ``per_chat_interval`` seconds between two messages to one chat (Telegram:
   1 s) and a global token bucket (Telegram: 30 messages/s; we default to 25).
   A ``RetryAfter`` from the channel (HTTP 429) halts the whole channel for
   that long, as python-telegram-bot's AIORateLimiter does;
3. marks the row ``sending`` (attempts + 1) in its own transaction — only if
   it still holds the claim — and then calls the sender;
4. records the outcome: ``delivered`` (with the provider's message id);
   ``pending`` again after a ``TransientError`` (exponential backoff with
   jitter: base·2^(n−1) seconds, capped, × a random factor in [0.5, 1]) or a
   ``RetryAfter`` (at exactly the time the channel asked for, not counted as an
   attempt); ``failed`` after ``max_attempts`` or a ``PermanentError`` (user
   blocked the bot, chat not found).

Exactly once, and the crash window
----------------------------------
A row is sent by one worker at a time (the claim) and is never sent again
once it is ``delivered``. The step that can go wrong is a crash *between* the
channel accepting the message and our ``delivered`` commit (or a timeout whose
outcome is unknown): nobody can tell whether the citizen got it, and Telegram
and Zalo have no idempotency key to ask. We choose **at most once** there: a
row left in ``sending`` after its lease is marked ``failed`` with
``last_error = "uncertain: ..."`` and is not re-sent automatically; any
exception that is not one of the three classified errors below is treated the
same way. An operator can re-send it (``dvcbot notify retry ID``) after
checking. A row that was only *claimed* when its worker died was never handed
to the channel, so it is claimed again after the lease.

The lease (``lease``, 120 s by default; ``dvcbot notify run --lease``) is how
long a row's worker may hold it before others treat the worker as dead: a
claimed row waits that long after a crash before it is sent. Make it longer
than the slowest preparation and send. A shorter one never sends twice, it
only costs certainty: a row prepared for longer than the lease is taken over
by another worker, and this one finds its claim gone and does not send; a row
*sent* for longer than the lease is marked uncertain by the next sweep, and
this worker then finds it no longer ``sending`` and leaves it so.

Notifications sent in several parts
-----------------------------------
A long text (over Telegram's 4096 or Zalo's 2000 characters), or a chart whose caption is too long, goes out
as several API calls. A 429 or a network error between two of them must not make the citizen get the first
parts twice when the row is retried. A sender that sends several parts says so with ``resumable = True``; it
is then given a :class:`Progress` and, after each part the channel accepted (but the last), saves how far it
got (``{"parts": n, ...}`` plus whatever it needs to render the rest identically, such as the code of a push's
choices). The notifier keeps that in the row itself, under the payload key ``"_progress"``, written in its own
small transaction only while this worker still holds the row in ``sending``. A retry of the row (after a
``RetryAfter`` or a ``TransientError``, or ``dvcbot notify retry`` after an uncertain failure) is handed the
saved progress and sends only the parts not yet accepted. The crash window stays one API call wide, as for a
one-part row: a part accepted by the channel whose progress was not yet saved is the "uncertain" case above.

Rows prepared before they are sent
----------------------------------
A row kind may have a *preparer* (``Notifier.preparers``, e.g. the citizen's form copy, bot/formcopy.py,
which renders the PDF the row carries). It runs after the claim and before the row is marked ``sending``:
a preparer killed or abandoned midway leaves the row ``claimed``, so it is claimed and prepared again after
the lease, and still sent once. A preparer that fails counts as a failed attempt (retried with backoff).

Limits are per process: run one notifier per bot token, or divide the global
rate between workers (``dvcbot telegram --processes N``; docs/deploy.md). Two
workers may deliver two messages to the same chat out of order; within one
worker, each chat's messages go in order.

``last_error`` never holds personal data: only error classes and the channel's
own error text, cut to 300 characters.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import random
import socket
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO, cast

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import reading, rowcount
from storage.models import OutboxMessage
from storage.officers_repo import OutboxRepo

log = logging.getLogger("dvcbot.notifier")


# -- senders ----------------------------------------------------------------------------------
class SendError(Exception):
    """Base class of the errors a sender reports; anything else counts as 'uncertain'."""


class TransientError(SendError):
    """The message certainly did not leave (connection refused, DNS, 5xx before accept): retry later."""


class PermanentError(SendError):
    """The message can never be delivered (bot blocked, chat not found, message invalid): give up."""


class RetryAfter(SendError):
    """The channel asked us to slow down (HTTP 429) for ``seconds``; the message was not sent."""

    def __init__(self, seconds: float, message: str = "rate limited"):
        super().__init__(f"{message}: retry after {seconds:g}s")
        self.seconds = float(seconds)


class Sender(Protocol):
    """One channel. ``send`` returns the provider's message id (or None) once the channel accepted it.
    A sender whose ``resumable`` attribute is true is called with ``progress=`` (a :class:`Progress`) too."""

    channel: str

    async def send(self, chat_key: str, payload: dict[str, Any]) -> str | None: ...


class ResumableSender(Protocol):
    """A sender that delivers one outbox row in several parts and says so with ``resumable = True``."""

    channel: str
    resumable: bool

    async def send(self, chat_key: str, payload: dict[str, Any], *, progress: Progress) -> str | None: ...


Preparer = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
"""Makes a row's payload ready to send (e.g. renders the file it carries), by row kind (``Notifier.preparers``).
It runs before the row is marked ``sending``: if it is killed or abandoned, the row is claimed again after its
lease. A :class:`SendError` it raises is classified as a send's would be; any other error is transient."""

PROGRESS_KEY = "_progress"  # in an outbox row's payload: how far a multi-part send got


class Progress:
    """How far the delivery of one outbox row in several parts got. ``state`` is what the sender saved on an
    earlier try (``{}`` at first; ``state["parts"]`` = parts already accepted by the channel); ``save`` records
    more, durably, before the next part is sent."""

    def __init__(self, state: dict[str, Any] | None = None,
                 store: Callable[[dict[str, Any]], Awaitable[None]] | None = None):
        self.state: dict[str, Any] = dict(state or {})
        self._store = store

    @property
    def parts(self) -> int:
        """Parts the channel already accepted: skip them."""
        try:
            return max(0, int(self.state.get("parts") or 0))
        except (TypeError, ValueError):
            return 0

    async def save(self, **state: Any) -> None:
        self.state.update(state)
        if self._store is not None:
            await self._store(dict(self.state))


class MemorySender:
    """Keeps what it was asked to send (tests, dry runs). ``script`` lists exceptions (or None) to raise on
    the next calls, in order; ``delay`` simulates network time."""

    def __init__(self, channel: str = "console", *, script: list[BaseException | None] | None = None,
                 delay: float = 0.0, clock: Callable[[], float] | None = None):
        self.channel = channel
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.calls: list[tuple[str, float]] = []  # (chat_key, clock time) of every call, failed ones too
        self.script = list(script or [])
        self.delay = delay
        self.clock = clock or time.monotonic

    async def send(self, chat_key: str, payload: dict[str, Any]) -> str | None:
        self.calls.append((chat_key, self.clock()))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.script:
            exc = self.script.pop(0)
            if exc is not None:
                raise exc
        self.sent.append((chat_key, payload))
        return f"m{len(self.sent)}"


class ConsoleSender:
    """Prints notifications (``dvcbot notify run`` without a real channel); images go to ``image_dir``."""

    def __init__(self, channel: str = "console", out: TextIO | None = None, image_dir: str | Path = "var/outbox",
                 locate: Callable[[str], str] | None = None):
        self.channel = channel
        self.locate = locate  # where a stored file is (the attachment store's ``locate``)
        self.out = out or sys.stdout
        self.image_dir = Path(image_dir)
        self.count = 0

    async def send(self, chat_key: str, payload: dict[str, Any]) -> str | None:
        self.count += 1
        lines = [f"── → {chat_key} ──", str(payload.get("text") or payload.get("caption") or "")]
        for i, c in enumerate(payload.get("choices") or [], 1):
            lines.append(f"  {i}. {c.get('label')}  [{c.get('value')}]")
        file = payload.get("file")
        if isinstance(file, dict):
            sha = str(file.get("sha256") or "")
            where = self.locate(sha) if sha and self.locate else file.get("path") or file.get("name")
            lines.append(f"  [tệp: {where}]")
        if payload.get("image_png"):
            self.image_dir.mkdir(parents=True, exist_ok=True)
            path = self.image_dir / f"{payload.get('image_name') or f'image-{self.count}'}.png"
            path.write_bytes(base64.b64decode(payload["image_png"]))
            lines.append(f"  [ảnh: {path}]")
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()
        return f"console-{self.count}"


# -- rate limits ------------------------------------------------------------------------------
@dataclass
class Limits:
    per_chat_interval: float = 1.0   # seconds between two messages to one chat
    global_rate: float = 25.0        # messages per second, all chats of the channel
    global_burst: float = 25.0       # bucket size


#: Telegram: about 1 msg/s per chat and 30 msg/s overall (we stay a little below). Zalo's limits are not
#: published: be conservative and honour its 429s.
DEFAULT_LIMITS = {"telegram": Limits(1.0, 25.0, 25.0), "zalo": Limits(1.0, 10.0, 10.0),
                  "console": Limits(0.0, 1000.0, 1000.0)}


class RateLimiter:
    """A token bucket for the channel plus a minimum spacing per chat, and a global halt after a 429."""

    def __init__(self, limits: Limits, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]):
        self.limits = limits
        self.clock = clock
        self.sleep = sleep
        self.tokens = limits.global_burst
        self.updated = clock()
        self.last: dict[str, float] = {}
        self.sent_at: dict[str, float] = {}
        self.halt_until = 0.0
        self.lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        self.tokens = min(self.limits.global_burst, self.tokens + (now - self.updated) * self.limits.global_rate)
        self.updated = now

    async def space(self, chat_key: str) -> None:
        """Just before the send itself: keep the per-chat spacing between actual sends (the database
        write between ``wait`` and the send takes time too)."""
        while True:
            delay = self.sent_at.get(chat_key, float("-inf")) + self.limits.per_chat_interval - self.clock()
            if delay <= 1e-6:
                self.sent_at[chat_key] = self.clock()
                if len(self.sent_at) > 10000:
                    cutoff = self.clock() - 60
                    self.sent_at = {k: v for k, v in self.sent_at.items() if v > cutoff}
                return
            await self.sleep(delay)

    def halt(self, seconds: float) -> None:
        self.halt_until = max(self.halt_until, self.clock() + seconds)

    async def wait(self, chat_key: str) -> None:
        while True:
            async with self.lock:
                now = self.clock()
                self._refill(now)
                waits = [self.halt_until - now]
                if chat_key in self.last:
                    waits.append(self.last[chat_key] + self.limits.per_chat_interval - now)
                if self.tokens < 1:
                    waits.append((1 - self.tokens) / self.limits.global_rate)
                delay = max(waits)
                if delay <= 1e-6:  # (float dust must not make us sleep for nothing, forever)
                    self.tokens -= 1
                    self.last[chat_key] = now
                    if len(self.last) > 10000:  # forget chats we have not written to for a while
                        cutoff = now - 60
                        self.last = {k: v for k, v in self.last.items() if v > cutoff}
                    return
            await self.sleep(delay)


# -- the worker -------------------------------------------------------------------------------
def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunStats:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    uncertain: int = 0
    skipped: int = 0

    def __iadd__(self, other: RunStats) -> RunStats:
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        return self


class Notifier:
    def __init__(self, sm: async_sessionmaker, senders: dict[str, Sender] | list[Sender], *,
                 worker_id: str | None = None, limits: dict[str, Limits] | None = None, max_attempts: int = 8,
                 backoff_base: float = 5.0, backoff_cap: float = 3600.0, lease: float = 120.0, batch: int = 20,
                 now: Callable[[], datetime] = _utcnow, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, rng: Callable[[], float] = random.random,
                 preparers: dict[str, Preparer] | None = None, chats: Iterable[str] | None = None,
                 kinds: Iterable[str] | None = None,
                 write: Callable[[], contextlib.AbstractAsyncContextManager[AsyncSession]] | None = None):
        self.sm = sm
        # each write transaction's session: the runtime's (Runtime.orm_write), so that on SQLite a round runs
        # inline on the FIFO writer's own connection, queued with the chats' steps of this process, instead of
        # polling for the file's lock and hopping to aiosqlite's thread while it holds it
        self.write = write
        self.preparers: dict[str, Preparer] = dict(preparers or {})
        self.chats = list(chats) if chats is not None else None  # only these chats' rows (the console's own)
        self.kinds = list(kinds) if kinds is not None else None  # only rows of these kinds
        self.senders = {s.channel: s for s in senders} if isinstance(senders, list) else dict(senders)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{random.randrange(1 << 30):x}"
        limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.limiters = {ch: RateLimiter(limits.get(ch, Limits()), clock, sleep) for ch in self.senders}
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.lease = lease
        self.batch = batch
        self.now = now
        self.clock = clock
        self.sleep = sleep
        self.rng = rng

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        if self.write is not None:
            async with self.write() as db:
                yield db
        else:
            async with self.sm() as db, db.begin():
                yield db

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after ``attempts`` failed ones: capped exponential, jittered."""
        delay = min(self.backoff_cap, self.backoff_base * (2 ** max(0, attempts - 1)))
        return delay * (0.5 + 0.5 * self.rng())

    async def run_once(self) -> RunStats:
        """Claim one batch of due rows and deliver them. Returns what happened."""
        async with reading(self.sm) as db:  # an idle round only reads: it takes no write lock
            if not await OutboxRepo(db).anything_due(self.now(), channels=list(self.senders), chats=self.chats,
                                                     kinds=self.kinds):
                return RunStats()
        async with self._write() as db:  # one write transaction per round with something to do
            repo = OutboxRepo(db)
            await repo.sweep_uncertain(self.now())
            rows = await repo.claim(self.worker_id, self.now(), limit=self.batch, lease=self.lease,
                                    channels=list(self.senders), chats=self.chats, kinds=self.kinds)
        by_chat: dict[str, list] = defaultdict(list)
        for r in rows:
            by_chat[r.chat_key].append(r)
        results = await asyncio.gather(*(self._deliver_chat(rs) for rs in by_chat.values()))
        stats = RunStats()
        for s in results:
            stats += s
        return stats

    async def _deliver_chat(self, rows: list) -> RunStats:
        """One chat's rows, in order. If one must be retried, the later ones wait behind it."""
        stats = RunStats()
        for i, row in enumerate(rows):
            retry_at = await self._deliver(row, stats)
            if retry_at is not None:
                async with self._write() as db:
                    for later in rows[i + 1:]:
                        await OutboxRepo(db).release(later.id, self.worker_id, next_attempt_at=retry_at)
                stats.skipped += len(rows) - i - 1
                break
        return stats

    async def _deliver(self, row, stats: RunStats) -> datetime | None:
        """Send one claimed row; returns the time of the next try if it is to be retried."""
        sender = self.senders[row.channel]
        limiter = self.limiters[row.channel]
        payload = dict(row.payload or {})
        saved = payload.pop(PROGRESS_KEY, None)
        prepare = self.preparers.get(row.kind)
        failure: SendError | None = None
        if prepare is not None:  # still only claimed: killed or abandoned here, the row is claimed again later
            try:
                payload = await prepare(payload)
            except SendError as exc:
                failure = exc
            except Exception as exc:
                log.warning("outbox %s: preparing it failed (%s)", row.id, type(exc).__name__)
                failure = TransientError(f"prepare: {type(exc).__name__}")
        if failure is None:
            await limiter.wait(row.chat_key)
        async with self._write() as db:
            ok = await OutboxRepo(db).start_sending(row.id, self.worker_id, self.now(), self.lease)
        if not ok:  # the claim was lost (lease expired and someone else took it)
            stats.skipped += 1
            return None
        attempts = row.attempts + 1
        status, error, next_at, ref, uncount = "delivered", None, None, None, False
        try:
            if failure is not None:  # nothing was sent: classified as a send would be
                raise failure
            await limiter.space(row.chat_key)
            if getattr(sender, "resumable", False):
                progress = Progress(saved if isinstance(saved, dict) else None,
                                    lambda state: self._save_progress(row.id, payload, state))
                ref = await cast(ResumableSender, sender).send(row.chat_key, payload, progress=progress)
            else:
                ref = await sender.send(row.chat_key, payload)
        except RetryAfter as exc:
            limiter.halt(exc.seconds)
            status, error, uncount = "pending", f"RetryAfter: {exc.seconds:g}s", True
            next_at = self.now() + timedelta(seconds=exc.seconds)
        except TransientError as exc:
            if attempts >= self.max_attempts:
                status, error = "failed", f"TransientError (gave up after {attempts}): {exc}"
            else:
                status, error = "pending", f"TransientError: {exc}"
                next_at = self.now() + timedelta(seconds=self.backoff(attempts))
        except PermanentError as exc:
            status, error = "failed", f"PermanentError: {exc}"
        except Exception as exc:
            status, error = "failed", f"uncertain: {type(exc).__name__}"
            log.warning("outbox %s: sender raised %s; marked failed (uncertain)", row.id, type(exc).__name__)
        async with self._write() as db:
            held = await OutboxRepo(db).finish(row.id, self.worker_id, status=status, now=self.now(), error=error,
                                               next_attempt_at=next_at, provider_ref=ref, uncount=uncount)
        if not held:  # slower than the lease: another worker swept it as uncertain meanwhile; it stays so
            log.warning("outbox %s: the lease (%gs) ran out while sending; left failed (uncertain), not re-sent",
                        row.id, self.lease)
            status, error = "failed", "uncertain: the lease ran out while sending"
        if status == "delivered":
            stats.delivered += 1
        elif status == "pending":
            stats.retried += 1
        elif error and error.startswith("uncertain"):
            stats.uncertain += 1
        else:
            stats.failed += 1
        log.info("outbox %s kind=%s channel=%s -> %s%s", row.id, row.kind, row.channel, status,
                 f" ({error})" if error else "")
        return next_at if status == "pending" else None

    async def _save_progress(self, row_id: int, payload: dict[str, Any], state: dict[str, Any]) -> None:
        """Record in the row how far its multi-part send got, while this worker still holds it."""
        async with self._write() as db:
            r = await db.execute(update(OutboxMessage).where(
                OutboxMessage.id == row_id, OutboxMessage.status == "sending",
                OutboxMessage.claimed_by == self.worker_id).values(payload={**payload, PROGRESS_KEY: state}))
        if not rowcount(r):  # the lease ran out and the row was swept: stop here (at most once)
            raise RuntimeError("outbox row no longer held")

    async def drain(self, max_rounds: int = 1000) -> RunStats:
        """Deliver until nothing is due now (tests, ``notify run --once``)."""
        total = RunStats()
        for _ in range(max_rounds):
            s = await self.run_once()
            total += s
            if s.delivered + s.retried + s.failed + s.uncertain + s.skipped == 0:
                break
        return total

    async def run(self, *, stop: asyncio.Event | None = None, idle: float = 1.0,
                  tick: Callable[[], Awaitable[Any]] | None = None) -> None:
        """Deliver forever (until ``stop`` is set). ``tick`` runs before each round: the long-running
        processes — ``dvcbot notify run`` and the Telegram and Zalo processes — pass ``jobs.standard_jobs``
        (daily reports and deadline pushes, draft reminders), so they need no cron job."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            if tick is not None:
                try:
                    await tick()
                except Exception:
                    log.exception("scheduled job failed")
            s = await self.run_once()
            if s.delivered + s.retried + s.failed + s.uncertain + s.skipped == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle)
