"""A filing's rows written on the driver (storage/filing.py) read back through the models exactly as the ORM
would have written them, on either database, from a lean step's transaction and from an ORM session."""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select, text

from bot.service import Runtime
from storage import filing
from storage.filing import SessionRows
from storage.models import Attachment, Dossier, DossierEvent, DossierLeg, OutboxMessage

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ANSWERS = {"deceased.full_name": "NGUYỄN VĂN AN", "deceased.id_number": "001086001234",
           "docs.death_notice": [{"sha256": "ab" * 32, "mime": "image/jpeg", "size": 10, "name": "a.jpg"}],
           "amount": 1_500_000, "nested": {"1": ["x", None, True]}}


def dossier_values(key: str) -> dict:
    return dict(idempotency_key=key, procedure_id="ho-tro-chi-phi-mai-tang", procedure_version=2, agency="commune",
                commune_code="24958", applicant_key=None, submitter_key="console:u1", applicant_name="NGUYỄN VĂN AN",
                answers=ANSWERS, lang="vi", status="submitted", submitted_at=AT, due_date=date(2026, 11, 26))


async def write_filing(rows: filing.Rows, key: str) -> tuple[filing.NewDossier, filing.NewDossier]:
    codes = iter(["MT-2611-AAAAAAAA", "MT-2611-AAAAAAAA", "MT-2611-BBBBBBBB", "MT-2611-CCCCCCCC"])
    first = await filing.insert_dossier(rows, dossier_values(key), lambda: next(codes),
                                        [{"path": "docs.death_notice", "sha256": "ab" * 32, "mime": "image/jpeg",
                                          "size": 10, "name": "a.jpg"}])
    again = await filing.insert_dossier(rows, dossier_values(key), lambda: next(codes), [])
    await filing.insert_leg(rows, dict(dossier_id=first.id, seq=1, agency="commune", commune_code="24958",
                                       status="submitted", processing_days=3, started_at=AT,
                                       due_date=date(2026, 11, 26), pauses=[], paused_workdays=0, version=0,
                                       created_at=AT, updated_at=AT))
    assert await filing.enqueue(rows, chat_key="telegram:7", kind="k", dedupe_key=f"d:{key}",
                                payload={"text": "Hồ sơ mới", "choices": [{"value": "open:x", "label": "Xem"}]},
                                now=AT, dossier_id=first.id)
    assert not await filing.enqueue(rows, chat_key="telegram:7", kind="k", dedupe_key=f"d:{key}",
                                    payload={"text": "khác"}, now=AT)
    return first, again


async def check_read_back(runtime: Runtime, first: filing.NewDossier, again: filing.NewDossier, key: str) -> None:
    assert first.created and not again.created and again.id == first.id and again.code == first.code
    assert again.due_date == date(2026, 11, 26)
    async with runtime.sm() as db:
        d = (await db.execute(select(Dossier).where(Dossier.id == first.id))).scalar_one()
        assert d.code == first.code and d.idempotency_key == key and d.answers == ANSWERS
        assert d.submitted_at == AT and d.due_date == date(2026, 11, 26) and d.status == "submitted"
        stored = (await db.execute(text("SELECT answers FROM dossiers WHERE id = :i"), {"i": d.id})).scalar_one()
        assert "NGUY" not in str(stored) and "001086001234" not in str(stored)  # encrypted at rest
        [event] = (await db.execute(select(DossierEvent).where(DossierEvent.dossier_id == d.id))).scalars()
        assert (event.to_status, event.actor, event.role, event.at) == ("submitted", "console:u1", "citizen", AT)
        [att] = (await db.execute(select(Attachment).where(Attachment.dossier_id == d.id))).scalars()
        assert (att.field_path, att.size, att.name) == ("docs.death_notice", 10, "a.jpg")
        [leg] = (await db.execute(select(DossierLeg).where(DossierLeg.dossier_id == d.id))).scalars()
        assert leg.pauses == [] and leg.due_date == date(2026, 11, 26) and leg.started_at == AT
        [row] = (await db.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"d:{key}"))).scalars()
        assert row.channel == "telegram" and row.status == "pending" and row.next_attempt_at == AT
        assert row.payload == {"text": "Hồ sơ mới", "choices": [{"value": "open:x", "label": "Xem"}]}


async def test_a_filing_on_a_lean_steps_transaction_reads_back_through_the_models(runtime: Runtime):
    assert runtime.chats is not None
    async with runtime.chats.write() as tx:
        first, again = await write_filing(tx, "console:u1:lean")
    await check_read_back(runtime, first, again, "console:u1:lean")


async def test_a_filing_through_an_orm_session_reads_back_through_the_models(runtime: Runtime):
    async with runtime.sm() as db, db.begin():
        first, again = await write_filing(SessionRows(db), "console:u1:orm")
    await check_read_back(runtime, first, again, "console:u1:orm")


async def test_a_filing_rolled_back_leaves_nothing(runtime: Runtime):
    async with runtime.sm() as db:
        async with db.begin():
            await write_filing(SessionRows(db), "console:u1:gone")
            await db.rollback()
        assert (await db.execute(select(Dossier))).first() is None
        assert (await db.execute(select(OutboxMessage))).first() is None
