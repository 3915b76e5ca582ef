"""The outbox and the notifier: written with the change or not at all, delivered exactly once (even with two
workers), retried with backoff, 429s respected, rate limits kept, the crash window handled as documented."""
from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot import cases as off
from bot.notifier import Limits, MemorySender, Notifier, PermanentError, RateLimiter, RetryAfter, TransientError
from bot.service import Runtime
from dialogs import lifecycle as lc
from storage.db import make_engine, sessionmaker
from storage.models import DossierEvent, OutboxMessage
from storage.officers_repo import OfficerRepo, OutboxRepo
from tests.test_officers import leg_of, officer, submit

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class FakeTime:
    """Wall clock (for the database) and monotonic clock (for rate limits), moved by sleep()."""

    def __init__(self, start: datetime = T0):
        self.start = start
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)

    def clock(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(seconds, 0.0)
        await asyncio.sleep(0)


async def add_rows(sm, n: int, chats: int = 1, channel: str = "console", prefix: str = "m") -> None:
    async with sm() as db, db.begin():
        for i in range(n):
            await OutboxRepo(db).enqueue(chat_key=f"{channel}:c{i % chats}", kind="test", dedupe_key=f"{prefix}{i}",
                                         payload={"text": f"tin {i}"}, now=T0 - timedelta(seconds=1))


async def rows(sm) -> list[OutboxMessage]:
    async with sm() as db:
        return await OutboxRepo(db).list()


def notifier(rt: Runtime, sender, ft: FakeTime, **kw) -> Notifier:
    return Notifier(rt.sm, [sender], now=ft.now, clock=ft.clock, sleep=ft.sleep, rng=lambda: 1.0, **kw)


# ------------------------------------------------------------------------------------------
async def test_outbox_rows_live_and_die_with_the_status_change(runtime: Runtime):
    desk = await officer(runtime, lc.DESK)
    code = await submit(runtime)
    async with runtime.sm() as db:
        before = (await db.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
    async with runtime.sm() as db, db.begin() as tx:
        o = await OfficerRepo(db).get(desk)
        await off.claim(db, o, code, runtime.now())
        await off.receive(db, o, code, runtime.now())
        n = (await db.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
        assert n == before + 2  # the citizen's "received" and its receipt slip are there, in this transaction
        await tx.rollback()
    async with runtime.sm() as db:
        assert (await db.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == before
        assert (await db.execute(select(func.count()).select_from(DossierEvent))).scalar_one() == 1
    assert (await leg_of(runtime, code)).status == "submitted"


async def test_dedupe_key_enqueues_once(runtime: Runtime):
    async with runtime.sm() as db, db.begin():
        repo = OutboxRepo(db)
        assert await repo.enqueue(chat_key="telegram:1", kind="k", dedupe_key="same", payload={"text": "a"}, now=T0)
        assert not await repo.enqueue(chat_key="telegram:1", kind="k", dedupe_key="same", payload={"text": "b"},
                                      now=T0)
    [row] = await rows(runtime.sm)
    assert row.channel == "telegram" and row.payload == {"text": "a"} and row.status == "pending"


async def test_delivery_to_a_fake_channel_exactly_once(runtime: Runtime):
    await add_rows(runtime.sm, 5, chats=2)
    ft = FakeTime()
    sender = MemorySender("console")
    n = notifier(runtime, sender, ft)
    stats = await n.drain()
    assert stats.delivered == 5
    assert sorted(p["text"] for _c, p in sender.sent) == [f"tin {i}" for i in range(5)]
    # within one chat, in order
    assert [p["text"] for c, p in sender.sent if c == "console:c0"] == ["tin 0", "tin 2", "tin 4"]
    again = await n.drain()
    assert again.delivered == 0 and len(sender.sent) == 5
    for r in await rows(runtime.sm):
        assert (r.status, r.attempts, r.claimed_by) == ("delivered", 1, None)
        assert r.delivered_at is not None and r.provider_ref


async def test_an_idle_round_takes_no_write_lock(sqlite_url, tmp_path, monkeypatch):
    """With nothing due, a round only reads: it neither waits for another process's write lock nor takes one
    (on SQLite a write transaction would wait here, then fail "database is locked")."""
    monkeypatch.setenv("DVCBOT_DB_BUSY_SECONDS", "0.05")
    rt = await Runtime(sqlite_url, var_dir=tmp_path / "var").open(migrate=False)
    try:
        ft = FakeTime()
        sender = MemorySender("console")
        with sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None) as other:
            other.execute("BEGIN IMMEDIATE")  # another process writes, and holds the lock
            stats = await notifier(rt, sender, ft).run_once()
            assert (stats.delivered, stats.failed, stats.uncertain) == (0, 0, 0)
            other.execute("ROLLBACK")
        await add_rows(rt.sm, 1)
        assert (await notifier(rt, sender, ft).run_once()).delivered == 1
    finally:
        await rt.close()


async def test_two_workers_concurrently_deliver_each_row_once(runtime: Runtime, db_url):
    await add_rows(runtime.sm, 60, chats=15)
    engine_b = make_engine(db_url)
    try:
        sent = MemorySender("console", delay=0.002)
        later = lambda: T0 + timedelta(hours=1)  # noqa: E731
        a = Notifier(runtime.sm, [sent], worker_id="A", batch=7, now=later)
        b = Notifier(sessionmaker(engine_b), [sent], worker_id="B", batch=7, now=later)
        await asyncio.gather(a.drain(), b.drain(), a.drain())
    finally:
        await engine_b.dispose()
    texts = Counter(p["text"] for _c, p in sent.sent)
    assert len(texts) == 60 and set(texts.values()) == {1}
    assert all(r.status == "delivered" and r.attempts == 1 for r in await rows(runtime.sm))


async def test_transient_errors_are_retried_with_backoff(runtime: Runtime):
    await add_rows(runtime.sm, 1)
    ft = FakeTime()
    sender = MemorySender("console", script=[TransientError("connect refused"), TransientError("503"), None])
    n = notifier(runtime, sender, ft, backoff_base=10.0)
    s = await n.run_once()
    assert s.retried == 1
    [r] = await rows(runtime.sm)
    assert (r.status, r.attempts) == ("pending", 1) and "TransientError" in r.last_error
    assert r.next_attempt_at == ft.now() + timedelta(seconds=10)  # base · 2^0 (jitter factor 1.0 here)
    assert (await n.run_once()).retried == 0  # not due yet
    ft.t += 10
    await n.run_once()
    [r] = await rows(runtime.sm)
    assert (r.status, r.attempts) == ("pending", 2) and r.next_attempt_at == ft.now() + timedelta(seconds=20)
    ft.t += 20
    assert (await n.run_once()).delivered == 1
    [r] = await rows(runtime.sm)
    assert (r.status, r.attempts, r.last_error) == ("delivered", 3, None)
    assert len(sender.sent) == 1 and len(sender.calls) == 3


def test_backoff_is_capped_and_jittered():
    n = Notifier(None, [], backoff_base=5, backoff_cap=60, rng=lambda: 0.0)
    assert [n.backoff(k) for k in (1, 2, 3, 4, 5, 9)] == [2.5, 5.0, 10.0, 20.0, 30.0, 30.0]
    n.rng = lambda: 1.0
    assert n.backoff(9) == 60


async def test_gives_up_after_max_attempts_and_on_permanent_errors(runtime: Runtime):
    await add_rows(runtime.sm, 2, chats=2)
    ft = FakeTime()
    scripts = {"console:c0": [PermanentError("Forbidden: bot was blocked by the user")],
               "console:c1": [TransientError("down")] * 3}

    class ByChat(MemorySender):
        async def send(self, chat_key, payload):
            self.script = scripts[chat_key]
            return await super().send(chat_key, payload)

    sender = ByChat("console")
    n = notifier(runtime, sender, ft, max_attempts=3, backoff_base=1.0)
    for _ in range(5):
        await n.run_once()
        ft.t += 100
    by = {r.dedupe_key: r for r in await rows(runtime.sm)}
    assert by["m0"].status == "failed" and by["m0"].attempts == 1 and "PermanentError" in by["m0"].last_error
    assert by["m1"].status == "failed" and by["m1"].attempts == 3 and "gave up" in by["m1"].last_error
    assert sender.sent == []


async def test_retry_after_is_respected_and_halts_the_channel(runtime: Runtime):
    await add_rows(runtime.sm, 2, chats=1)  # two messages to one chat
    ft = FakeTime()
    sender = MemorySender("console", script=[RetryAfter(7)], clock=ft.clock)
    n = notifier(runtime, sender, ft)
    s = await n.run_once()
    assert (s.retried, s.delivered, s.skipped) == (1, 0, 1)
    by = {r.dedupe_key: r for r in await rows(runtime.sm)}
    assert by["m0"].status == "pending" and by["m0"].attempts == 0  # a 429 is not the message's fault
    assert by["m0"].next_attempt_at == T0 + timedelta(seconds=7)
    # the chat's next message stays behind the first, unsent
    assert by["m1"].status == "pending" and by["m1"].next_attempt_at == T0 + timedelta(seconds=7)
    assert len(sender.calls) == 1
    # the whole channel is halted for 7 s: a message to another chat waits too
    await add_rows(runtime.sm, 1, chats=1, prefix="other")
    async with runtime.sm() as db, db.begin():
        await db.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key == "other0")
                         .values(chat_key="console:elsewhere"))
    assert (await n.run_once()).delivered == 1
    assert sender.calls[-1] == ("console:elsewhere", 7.0)
    assert (await n.drain()).delivered == 2
    assert [p["text"] for c, p in sender.sent if c == "console:c0"] == ["tin 0", "tin 1"]


async def test_rate_limits_per_chat_and_global(runtime: Runtime):
    ft = FakeTime()
    await add_rows(runtime.sm, 4, chats=1, channel="telegram", prefix="a")   # one chat: 1 msg/s
    await add_rows(runtime.sm, 20, chats=20, channel="telegram", prefix="b")  # many chats: the bucket
    sender = MemorySender("telegram", clock=ft.clock)
    n = notifier(runtime, sender, ft, limits={"telegram": Limits(per_chat_interval=1.0, global_rate=5.0,
                                                                  global_burst=5.0)}, batch=50)
    assert (await n.drain()).delivered == 24
    times = sorted(t for _c, t in sender.calls)
    one_chat = [t for c, t in sender.calls if c == "telegram:c0"]
    # chat c0 got a, b messages: every two sends to it are at least 1 s apart
    assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(one_chat))
    # never more than burst + rate·t messages by time t
    for i, t in enumerate(times):
        assert i + 1 <= 5 + 5.0 * t + 1e-6
    assert times[-1] >= (24 - 5) / 5.0 - 1e-6


async def test_rate_limiter_unit():
    ft = FakeTime()
    rl = RateLimiter(Limits(per_chat_interval=1.0, global_rate=2.0, global_burst=2.0), ft.clock, ft.sleep)
    for key in ("x", "y", "z", "x"):
        await rl.wait(key)
    assert ft.t == pytest.approx(1.0)  # z waited 0.5 s for a token, the second x until 1 s after the first
    rl.halt(3)
    await rl.wait("w")
    assert ft.t == pytest.approx(4.0)


async def test_crash_window(runtime: Runtime):
    """A row only claimed by a dead worker is delivered by another; one left 'sending' is never re-sent."""
    await add_rows(runtime.sm, 2, chats=2)
    async with runtime.sm() as db, db.begin():
        claimed = await OutboxRepo(db).claim("dead", T0, limit=2, lease=30)
        assert len(claimed) == 2
        assert await OutboxRepo(db).start_sending(claimed[1].id, "dead", T0, 30)
    ft = FakeTime(T0 + timedelta(seconds=60))  # both leases expired
    sender = MemorySender("console")
    s = await notifier(runtime, sender, ft).drain()
    assert s.delivered == 1 and [p["text"] for _c, p in sender.sent] == ["tin 0"]
    by = {r.dedupe_key: r for r in await rows(runtime.sm)}
    assert by["m1"].status == "failed" and by["m1"].last_error.startswith("uncertain")
    # an unknown exception from the channel is treated the same way: not re-sent
    await add_rows(runtime.sm, 1, prefix="z")
    sender2 = MemorySender("console", script=[TimeoutError()])
    s = await notifier(runtime, sender2, ft).drain()
    assert s.uncertain == 1 and sender2.sent == []
    # an operator can decide to send it again
    async with runtime.sm() as db, db.begin():
        assert await OutboxRepo(db).retry(by["m1"].id, ft.now())
    assert (await notifier(runtime, sender, ft).drain()).delivered == 1


class SlowSender(MemorySender):
    """A send (or a preparation) that outlives a short lease: ``meanwhile`` runs while it is in flight."""

    def __init__(self, meanwhile):
        super().__init__("console")
        self.meanwhile = list(meanwhile)

    async def send(self, chat_key, payload):
        if self.meanwhile:
            await self.meanwhile.pop(0)()
        return await super().send(chat_key, payload)


async def test_a_short_lease_never_sends_twice(runtime: Runtime):
    """A 5-second lease (``dvcbot notify run --lease 5``) with two notifiers: a send slower than the lease is
    marked uncertain by the other notifier's sweep and not sent again, and the slow one does not mark it delivered;
    a preparation slower than the lease is taken over by the other notifier, and the slow one then does not send."""
    ft = FakeTime()
    await add_rows(runtime.sm, 1)
    b_stats = []

    async def other_notifier_runs_after_the_lease() -> None:
        ft.t += 6
        b_stats.append(await b.run_once())

    sender = SlowSender([other_notifier_runs_after_the_lease])
    a = notifier(runtime, sender, ft, worker_id="A", lease=5)
    b = notifier(runtime, sender, ft, worker_id="B", lease=5)
    s = await a.run_once()
    assert len(sender.calls) == 1 and b_stats[0].delivered == 0  # B swept it, did not send it
    assert s.delivered == 0 and s.uncertain == 1
    [row] = await rows(runtime.sm)
    assert row.status == "failed" and row.last_error.startswith("uncertain") and row.delivered_at is None
    ft.t += 60
    assert (await a.drain()).delivered == 0 and (await b.drain()).delivered == 0 and len(sender.calls) == 1

    # the preparation outlives the lease: B takes the row over and sends it; A finds its claim gone
    async with runtime.sm() as db, db.begin():
        await OutboxRepo(db).enqueue(chat_key="console:p", kind="prepared", dedupe_key="p1",
                                     payload={"text": "tin p"}, now=ft.now())
    prepared: list[str] = []

    def preparer(name: str, slow: bool):
        async def prepare(payload):
            prepared.append(name)
            if slow:
                await other_notifier_runs_after_the_lease()
            return payload
        return prepare

    sender2 = MemorySender("console")
    a = notifier(runtime, sender2, ft, worker_id="A", lease=5, preparers={"prepared": preparer("A", True)})
    b = notifier(runtime, sender2, ft, worker_id="B", lease=5, preparers={"prepared": preparer("B", False)})
    s = await a.run_once()
    assert prepared == ["A", "B"] and b_stats[-1].delivered == 1 and s.skipped == 1 and s.delivered == 0
    assert [p["text"] for _c, p in sender2.sent] == ["tin p"]
    ft.t += 60
    assert (await a.drain()).delivered == 0 and (await b.drain()).delivered == 0 and len(sender2.sent) == 1


async def test_officer_push_and_citizen_notification_delivered(runtime: Runtime):
    desk = await officer(runtime, lc.DESK)
    code = await submit(runtime)
    ft = FakeTime(T0 + timedelta(hours=1))
    sender = MemorySender("console")
    await notifier(runtime, sender, ft).drain()
    got = {c: p for c, p in sender.sent}
    assert "console:citizen" in got and code in got["console:citizen"]["text"]
    officer_chat = next(c for c in got if c.startswith("console:officer"))
    assert [c["value"] for c in got[officer_chat]["choices"]] == [f"open:{code}", f"claim:{code}"]
    assert all(len(c["value"].encode()) <= 64 for c in got[officer_chat]["choices"])
    del desk


class PartsSender:
    """A channel that sends a payload's ``parts`` one API call each, resumable as TelegramSender and ZaloSender
    are; ``script`` lists what each call does (None: accepted)."""

    channel = "console"
    resumable = True

    def __init__(self, script=()):
        self.script = list(script)
        self.accepted: list[str] = []

    async def send(self, chat_key, payload, progress=None):
        parts = payload["parts"]
        for i in range(progress.parts if progress else 0, len(parts)):
            exc = self.script.pop(0) if self.script else None
            if exc is not None:
                raise exc
            self.accepted.append(parts[i])
            if progress is not None and i < len(parts) - 1:
                await progress.save(parts=i + 1)
        return "ok"


async def test_a_multi_part_row_resumes_after_retry_after_and_after_an_uncertain_failure(runtime: Runtime):
    """Progress is kept in the row: a 429 between parts, then a timeout (uncertain: not re-sent until an operator
    retries it), and each part reaches the channel once."""
    async with runtime.sm() as db, db.begin():
        await OutboxRepo(db).enqueue(chat_key="console:c0", kind="test", dedupe_key="long",
                                     payload={"parts": ["p1", "p2", "p3", "p4"]}, now=T0 - timedelta(seconds=1))
    ft = FakeTime()
    sender = PartsSender([None, RetryAfter(5), None, TimeoutError()])
    s = await notifier(runtime, sender, ft).drain()
    assert s.retried == 1 and sender.accepted == ["p1"]
    ft.t += 10
    s = await notifier(runtime, sender, ft).drain()
    assert s.uncertain == 1 and sender.accepted == ["p1", "p2"]
    [row] = await rows(runtime.sm)
    assert row.status == "failed" and row.last_error.startswith("uncertain")
    assert row.payload == {"parts": ["p1", "p2", "p3", "p4"], "_progress": {"parts": 2}}
    async with runtime.sm() as db, db.begin():
        assert await OutboxRepo(db).retry(row.id, ft.now())
    assert (await notifier(runtime, sender, ft).drain()).delivered == 1
    assert sender.accepted == ["p1", "p2", "p3", "p4"]
    # senders that are not resumable get the payload as it was enqueued
    mem = MemorySender("console")
    async with runtime.sm() as db, db.begin():
        await OutboxRepo(db).enqueue(chat_key="console:c1", kind="test", dedupe_key="plain", payload={"text": "x"},
                                     now=T0 - timedelta(seconds=1))
    await notifier(runtime, mem, ft).drain()
    assert mem.sent == [("console:c1", {"text": "x"})]
