"""The citizen's copy of the filled official form: a follow-up document delivered from the outbox.

The filing step writes rows only. In its transaction, :func:`enqueue` adds an outbox row of kind
``form_copy`` for the chat that filed (payload: the dossier code, the caption in the chat's language; no
personal data). The notifier *prepares* such a row before it sends it (:class:`FormCopies`, the preparer of
that kind, see ``Notifier.preparers``): it renders the PDF in a worker process, stores it in the attachment
store (content-addressed: rendering the same form again gives the same file) and hands the channel's sender
the payload with the file.

Exactly once: the notifier marks a row ``sending`` only after preparing it. A render that is killed or
abandoned (the process stops, the worker process dies) leaves the row ``claimed``; after its lease it is
claimed again and rendered again, and the citizen gets the form once. A render that fails is retried with the
notifier's backoff, like a send that did not leave.

Why a worker process (bot/workers.py): fpdf2 and fontTools are pure Python and hold the GIL for the whole
render (about 0.1 s even with the fonts parsed once, dialogs/forms/fontcache.py); in a thread of the bot's
process they slow every chat's step down while they run. :func:`render_form` is what officers use too when
they open a dossier's form.
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.forms import render_pdf
from dialogs.i18n import translator
from storage import filing
from storage.attachments import AttachmentStore
from storage.filing import Rows, rows_of
from storage.models import Dossier

from . import slipcopy
from .notifier import PermanentError
from .workers import run_in_worker

log = logging.getLogger("dvcbot.formcopy")

KIND = "form_copy"
MIME = "application/pdf"


async def render_form(procedure_id: str, answers: dict[str, Any], *, submitted_at: datetime | None,
                      code: str | None, template: str | None = None, executor: Executor | None = None) -> bytes:
    """The filled form (or the leg form ``template``) as PDF bytes, rendered in the worker process
    (bot/workers.py) or ``executor``."""
    return await run_in_worker(render_pdf, procedure_id, answers, submitted_at=submitted_at, code=code,
                               template=template, executor=executor)


async def enqueue(db: AsyncSession | Rows, chat_key: str, code: str, lang: str, now: datetime, *,
                  dossier_id: int | None = None) -> bool:
    """In the filing transaction: the form copy of dossier ``code`` (its id, if the caller has it) for
    ``chat_key``, once per chat."""
    rows = rows_of(db)
    if dossier_id is None:
        found = await rows.fetch("SELECT id FROM dossiers WHERE code = ?", code)
        dossier_id = found[0][0] if found else None
    _ = translator(lang)
    payload = {"form": code, "lang": lang, "text": _("Bản sao tờ khai (PDF) của bạn: {name}", name=code + ".pdf")}
    return await filing.enqueue(rows, chat_key=chat_key, kind=KIND, dedupe_key=f"{KIND}:{code}:{chat_key}",
                                payload=payload, now=now, dossier_id=dossier_id)


class FormCopies:
    """The notifier's preparer of ``form_copy`` rows: the payload gains ``file`` (``sha256``, ``name``,
    ``mime``: the sender reads the bytes from the attachment store) once the form is rendered and stored."""

    def __init__(self, sm: async_sessionmaker, store: AttachmentStore, *, executor: Executor | None = None):
        self.sm = sm
        self.store = store
        self.executor = executor
        self.rendered = 0

    async def __call__(self, payload: dict[str, Any]) -> dict[str, Any]:
        code = str(payload.get("form") or "")
        async with self.sm() as db:
            d = (await db.execute(select(Dossier).where(Dossier.code == code))).scalar_one_or_none()
            if d is None:
                raise PermanentError("no such dossier")
            procedure, answers, when = d.procedure_id, dict(d.answers or {}), d.submitted_at
        pdf = await render_form(procedure, answers, submitted_at=when, code=code, executor=self.executor)
        sha = await asyncio.to_thread(self.store.put, pdf)
        self.rendered += 1
        return {**payload, "file": {"sha256": sha, "name": f"{code}.pdf",
                                    "mime": MIME}}


def attach(notifier: Any, runtime: Any, *, executor: Executor | None = None) -> FormCopies:
    """Make ``notifier`` deliver form copies and the desk's slips (bot/slipcopy.py), rendered with ``runtime``'s
    database and attachment store."""
    prep = FormCopies(runtime.sm, runtime.attachments, executor=executor)
    notifier.preparers[KIND] = prep
    slipcopy.attach(notifier, runtime, executor=executor)
    return prep
