"""The citizen's form copy: an outbox job, rendered off the request path, delivered exactly once even when the
render is killed or abandoned midway."""
from __future__ import annotations

import asyncio
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from bot import formcopy, workers
from bot.notifier import MemorySender, Notifier
from bot.service import Runtime
from storage.officers_repo import OutboxRepo
from storage.repo import DossierRepo
from tests.test_forms import SUBMITTED, funeral

CODE = "MT-2611-FORMCOPY"
CHAT = "console:citizen"


async def file_dossier(rt: Runtime) -> None:
    """A stored dossier and its form-copy row, written in one transaction as the filing step does."""
    async with rt.sm() as db, db.begin():
        await DossierRepo(db).create(
            code=CODE, idempotency_key="citizen:mt:1", procedure_id="ho-tro-chi-phi-mai-tang", procedure_version=1,
            agency="commune", commune_code="24958", submitter_key=CHAT, applicant_key=None,
            applicant_name="NGUYỄN THỊ BÌNH", answers=funeral(), lang="vi", submitted_at=SUBMITTED,
            due_date=date(2026, 11, 26), attachments=[])
        assert await formcopy.enqueue(db, CHAT, CODE, "vi", rt.now())
        assert not await formcopy.enqueue(db, CHAT, CODE, "vi", rt.now())  # once per chat


def notifier(rt: Runtime, sender: MemorySender, *, minutes: float = 0, executor=None) -> Notifier:
    n = Notifier(rt.sm, [sender], now=lambda: rt.now() + timedelta(minutes=minutes), lease=60)
    formcopy.attach(n, rt, executor=executor)
    return n


def delivered_once(sender: MemorySender, rt: Runtime) -> dict:
    [(to, payload)] = sender.sent
    assert to == CHAT and payload["file"]["name"] == f"{CODE}.pdf"
    assert rt.attachments.get(payload["file"]["sha256"])[:5] == b"%PDF-"
    return payload


class Stalled(ThreadPoolExecutor):
    """Renders only once ``go`` is set; ``started`` says a render began."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.started, self.go = threading.Event(), threading.Event()

    def submit(self, fn, /, *args, **kwargs):
        def stalled():
            self.started.set()
            self.go.wait(30)
            return fn(*args, **kwargs)
        return super().submit(stalled)


async def test_an_abandoned_render_is_claimed_again_and_the_form_arrives_once(runtime: Runtime):
    await file_dossier(runtime)
    first, stalled = MemorySender("console"), Stalled()
    task = asyncio.create_task(notifier(runtime, first, executor=stalled).run_once())
    assert await asyncio.to_thread(stalled.started.wait, 10)
    task.cancel()  # the process stops mid-render (as after kill -9: nothing more runs)
    with pytest.raises(asyncio.CancelledError):
        await task
    async with runtime.sm() as db:
        [row] = await OutboxRepo(db).list(kind=formcopy.KIND)
    assert row.status == "claimed" and row.attempts == 0  # never handed to the channel
    # before the lease runs out nobody takes it; after, another notifier renders it again and sends it
    second = MemorySender("console")
    assert (await notifier(runtime, second).drain()).delivered == 0
    assert (await notifier(runtime, second, minutes=2).drain()).delivered == 1
    delivered_once(second, runtime)
    stalled.go.set()  # the abandoned render finishes: nobody sends its result
    stalled.shutdown(wait=True)
    assert (await notifier(runtime, second, minutes=5).drain()).delivered == 0
    assert first.sent == [] and len(second.sent) == 1


async def test_a_killed_worker_process_is_replaced_and_the_form_arrives_once(runtime: Runtime, caplog):
    await file_dossier(runtime)
    sender = MemorySender("console")
    task = asyncio.create_task(notifier(runtime, sender).drain())
    pool = workers.worker_pool()
    for _ in range(500):  # the worker process exists as soon as the render is submitted
        procs = dict(getattr(pool, "_processes", None) or {})
        if procs:
            break
        await asyncio.sleep(0.01)
    for pid in procs:
        os.kill(pid, signal.SIGKILL)
    stats = await task
    assert stats.delivered == 1 and "the worker process died" in caplog.text  # killed mid-render
    delivered_once(sender, runtime)
    assert (await notifier(runtime, sender, minutes=5).drain()).delivered == 0 and len(sender.sent) == 1


async def test_a_render_that_fails_is_retried_with_backoff(runtime: Runtime):
    await file_dossier(runtime)

    class Failing(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            return super().submit(lambda: (_ for _ in ()).throw(OSError("disk full")))

    sender = MemorySender("console")
    stats = await notifier(runtime, sender, executor=Failing(max_workers=1)).drain()
    assert stats.retried == 1 and sender.sent == []
    async with runtime.sm() as db:
        [row] = await OutboxRepo(db).list(kind=formcopy.KIND)
    assert row.status == "pending" and row.attempts == 1 and "prepare: OSError" in row.last_error
    assert (await notifier(runtime, sender, minutes=90).drain()).delivered == 1
    delivered_once(sender, runtime)
