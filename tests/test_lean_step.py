"""The lean step (storage/chatstore/): an ordinary chat step reads and writes the chat's own rows on the driver,
in one transaction, and anything more (the filing, an officer's chat, a linked chat, a command that reads other
rows) runs on the ORM path. A photo is stored outside the transaction, then its step runs lean again. Both paths
give the same conversation and the same dossier."""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3

import pytest
from sqlalchemy import func, select

from bot import formcopy
from bot.service import Runtime
from dialogs.messages import Incoming
from storage.models import Conversation, OutboxMessage
from storage.officers_repo import LegRepo
from storage.repo import DossierRepo
from tests.conftest import Chat, jpeg, shared_catalog

PROC = "ho-tro-chi-phi-mai-tang"


def script() -> list[Incoming]:
    t, c = (lambda s: Incoming(text=s)), (lambda s: Incoming(choice=s))
    return [
        c(PROC), t("1"), c("yes"), t("thien tai"), t("Nguyễn Văn An"), t("5/3/1950"), t("nam"), t("Kinh"),
        t("Lâm Đồng"), t("duc trong"), t("Thôn 3"), t("1"), t("10/11/2026"), t("12/11/2026"), t("Nghĩa trang thôn 3"),
        t("1"), t("Nguyễn Văn Bình"), t("01/02/1975"), t("068 075 001 234"), t("bỏ qua"), t("Lâm Đồng"),
        t("Đức Trọng"), t("Thôn 3"), t("có"), t("con trai"), t("0912 345 678"),
        Incoming(file=_photo()), c("done"), c("confirm"), c("yes"),
    ]


def _photo():
    from dialogs.messages import IncomingFile
    return IncomingFile(data=jpeg(3), name="giay-bao-tu.jpg")


async def _file(rt: Runtime, user: str) -> tuple[list[str], dict]:
    """The whole procedure; every reply's text, and the dossier's answers."""
    said = [r.text for r in await rt.start(user)]
    for msg in script():
        said += [r.text for r in await rt.handle(user, msg)]
    async with rt.sm() as db:
        (dossier,) = await DossierRepo(db).list(submitter_key=user)
        return said, dict(dossier.answers)


async def _runtime(url: str, tmp_path, clock, *, lean: bool) -> Runtime:
    rt = Runtime(url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog(), lean=lean)
    return await rt.open(migrate=False)


async def test_an_ordinary_step_is_lean_and_files_the_same_dossier(db_url, tmp_path, clock):
    orm = await _runtime(db_url, tmp_path, clock, lean=False)
    try:
        said_orm, answers_orm = await _file(orm, "console:orm")
    finally:
        await orm.close()
    rt = await _runtime(db_url, tmp_path, clock, lean=True)
    try:
        said, answers = await _file(rt, "console:lean")
        assert rt.chats is not None
        # every step was lean, the chat's very first one (it creates the conversation's row) and the filing too
        # (its rows through an ORM session in the same transaction). The photo was stored outside the
        # transaction, then its step ran lean
        assert rt.lean_turns >= len(script())
        assert rt.lean_fallbacks == 0
        assert rt.lean_outside == 1
    finally:
        await rt.close()
    codes = [s for s in said if "MT-" in s]
    assert codes, "the citizen heard the dossier's code"
    strip = lambda xs: [x for x in xs if "MT-" not in x]  # noqa: E731  (codes are random)
    assert strip(said) == strip(said_orm)
    assert answers == answers_orm
    assert answers["deceased.full_name"].lower() == "nguyễn văn an"


async def test_what_the_lean_step_writes_the_orm_path_reads(sqlite_url, tmp_path, clock):
    """A draft saved by the lean step is encrypted at rest as the ORM writes it, and the ORM path (here a photo
    and the filing) goes on from it; back and forth without losing an answer."""
    rt = await _runtime(sqlite_url, tmp_path, clock, lean=True)
    try:
        chat = await Chat(rt).start()
        await chat.press(PROC)
        await chat.say("1")
        await chat.press("yes")
        await chat.say("thien tai")
        await chat.say("Nguyễn Văn An")
        path = sqlite_url.split("///", 1)[1]
        with sqlite3.connect(path) as raw:
            (stored,) = raw.execute("SELECT answers FROM drafts WHERE user_key = ?", (chat.user,)).fetchone()
        assert json.loads(stored).startswith("enc:"), "answers are encrypted at rest"
        assert "Nguyễn" not in stored
        orm = await _runtime(sqlite_url, tmp_path, clock, lean=False)
        try:
            assert (await Chat(orm).answers())["deceased.full_name"].lower() == "nguyễn văn an"
        finally:
            await orm.close()
    finally:
        await rt.close()


async def test_a_photo_is_stored_outside_the_transaction_and_its_step_runs_lean(sqlite_url, tmp_path, clock):
    """The photo's file is written before the step that refers to it commits, but not while the step holds the
    single writer; a file the question refuses is not stored at all."""
    rt = await _runtime(sqlite_url, tmp_path, clock, lean=True)
    try:
        chat = await Chat(rt).start()
        for msg in script()[:26]:
            chat._got(await rt.handle(chat.user, msg))
        question = chat.field
        refused = b"<html><script>alert(1)</script></html>"
        await chat.send_file(refused, "giay-bao-tu.html")
        assert chat.error is not None and chat.field == question
        assert rt.lean_outside == 0 and not rt.attachments.exists(hashlib.sha256(refused).hexdigest())
        lean, fallbacks = rt.lean_turns, rt.lean_fallbacks
        await chat.send_file(jpeg(3), "giay-bao-tu.jpg")
        assert chat.error is None
        assert (rt.lean_outside, rt.lean_turns - lean, rt.lean_fallbacks - fallbacks) == (1, 1, 0)
        sha = hashlib.sha256(jpeg(3)).hexdigest()
        assert rt.attachments.get(sha) == jpeg(3)
        await chat.press("done")
        assert [f["sha256"] for f in (await chat.answers())[question]] == [sha]
    finally:
        await rt.close()


async def test_a_step_waits_for_another_writer_without_blocking_the_loop(sqlite_url, tmp_path, clock):
    """Another process holds SQLite's write lock: the lean step waits on the event loop (other chats' tasks go
    on meanwhile) and runs once the lock is free; nothing fails and nothing is lost."""
    rt = await _runtime(sqlite_url, tmp_path, clock, lean=True)
    try:
        chat = await Chat(rt).start()
        await chat.press(PROC)
        other = sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        ticks = 0
        released = asyncio.Event()

        async def meanwhile() -> None:
            nonlocal ticks
            while not released.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        async def release_later() -> None:
            await asyncio.sleep(0.3)
            other.execute("COMMIT")
            other.close()
            released.set()

        before = rt.lean_turns
        await asyncio.gather(chat.say("1"), meanwhile(), release_later())
        assert ticks > 3, "the event loop ran other work while the step waited"
        assert rt.lean_turns == before + 1
        assert chat.field != "filer.choice" or chat.error is None
        assert (await chat.answers()), "the answer was kept"
    finally:
        await rt.close()


async def test_the_write_ahead_log_is_checkpointed_off_the_loop(sqlite_url, tmp_path, clock):
    """The store's own connection never checkpoints SQLite's write-ahead log (a checkpoint syncs the file: tens
    of milliseconds with every chat waiting): every few commits a passive checkpoint runs on a worker thread, and
    the log is then written again from its start instead of growing."""
    from storage.chatstore import SqliteChatStore
    rt = await _runtime(sqlite_url, tmp_path, clock, lean=True)
    try:
        store = rt.chats
        assert isinstance(store, SqliteChatStore)
        assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        store.checkpoint_every = 4
        wal = sqlite_url.split("///", 1)[1] + "-wal"
        sizes = []
        for n in range(6):  # six citizens, twelve steps each: more than 70 commits
            chat = await Chat(rt, user=f"wal:{n}").start()
            await chat.press(PROC)
            for text in ("1", "yes", "thien tai", "Nguyễn Văn An", "5/3/1950", "nam", "Kinh", "Lâm Đồng",
                         "duc trong", "Thôn 3"):
                await chat.say(text)
                await store.checkpointed()
            sizes.append(os.path.getsize(wal))
        assert max(sizes) == min(sizes), f"the log was written again from its start, not grown: {sizes}"
        assert (await Chat(rt, user="wal:0").answers())["deceased.full_name"] == "NGUYỄN VĂN AN"
    finally:
        await rt.close()


async def test_commands_on_other_rows_stay_lean_and_account_commands_take_the_orm_path(sqlite_url, tmp_path, clock):
    """A command that reads the cases' tables (here “/hoso”, the chat's dossiers) is answered lean, with an ORM
    session in the step's transaction; one that moves the chat's own conversation (``/lienket``, linking chats
    to one account) takes the ORM path."""
    rt = await _runtime(sqlite_url, tmp_path, clock, lean=True)
    try:
        chat = await Chat(rt).start()
        lean, before = rt.lean_turns, rt.lean_fallbacks
        await chat.say("/hoso")
        assert (rt.lean_turns - lean, rt.lean_fallbacks - before) == (1, 0)
        assert "hồ sơ" in chat.text().lower()
        await chat.say("/lienket")
        assert rt.lean_fallbacks == before + 1
    finally:
        await rt.close()


async def test_the_filing_runs_in_the_lean_step_and_all_or_nothing(db_url, tmp_path, clock):
    """The filing is a lean step: the dossier's rows are written by an ORM session in the step's one transaction
    with the chat's rows (SQLite: on the lean writer's own connection, inline, storage/inline.py; PostgreSQL: on
    the step's connection, in a savepoint); the runtime's ORM engine writes nothing of it. If anything in the
    turn fails, nothing of it is kept: the draft is as it was, there is no dossier, and the same answer files
    it."""
    from sqlalchemy import event

    rt = await _runtime(db_url, tmp_path, clock, lean=True)
    seen: list[str] = []
    event.listen(rt.db_engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    user = "console:inline"
    await rt.start(user)
    for msg in script()[:-1]:
        await rt.handle(user, msg)

    async def fails(turn, dossier):
        raise RuntimeError("a submission effect failed")

    rt.pipeline.submitted.append(fails)
    try:
        with pytest.raises(RuntimeError):
            await rt.handle(user, script()[-1])
        async with rt.sm() as db:
            assert await DossierRepo(db).list(submitter_key=user) == []
        assert (await rt.session(user)).draft is not None
        rt.pipeline.submitted.remove(fails)
        seen.clear()
        lean, fallbacks = rt.lean_turns, rt.lean_fallbacks
        said = [r.text for r in await rt.handle(user, script()[-1])]
        assert any("MT-" in s for s in said)
        assert (rt.lean_turns - lean, rt.lean_fallbacks - fallbacks) == (1, 0), "the filing was one lean step"
        assert not [s for s in seen if "INSERT" in s or "UPDATE" in s], "the filing went through the ORM's pool"
        async with rt.sm() as db:
            (dossier,) = await DossierRepo(db).list(submitter_key=user)
            legs = await LegRepo(db).of_dossier(dossier.id)
            copies = list((await db.execute(
                select(OutboxMessage).where(OutboxMessage.kind == formcopy.KIND))).scalars())
        assert dossier.answers["deceased.full_name"].lower() == "nguyễn văn an"
        assert [leg.status for leg in legs] == ["submitted"]
        assert [(r.chat_key, r.dossier_id) for r in copies] == [(user, dossier.id)]
        assert (await rt.session(user)).draft is None, "the draft went with the same commit"
    finally:
        await rt.close()


async def test_the_orm_path_after_a_lean_try_does_not_look_the_chat_up_again(db_url, tmp_path, clock):
    """A lean try read, under the chat's lock, that the chat uses its own conversation: the ORM path it hands
    the message to (on PostgreSQL, “/hoso”) takes no second look at the chat's account link before its turn."""
    from sqlalchemy import event

    rt = await _runtime(db_url, tmp_path, clock, lean=True)
    try:
        chat = await Chat(rt).start()
        await chat.press(PROC)
        seen: list[str] = []
        event.listen(rt.db_engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
        await chat.say("/hoso")
        assert "hồ sơ" in chat.text().lower()
        lookups = [s for s in seen if "account_identities" in s and "primary_key" in s]
        assert len(lookups) <= 1, lookups  # the turn's own (PostgreSQL's ORM path); none on SQLite (lean)
    finally:
        await rt.close()


async def test_a_single_statement_write_refuses_a_second(db_url, tmp_path, clock):
    """Storing an inbound update is one statement: on PostgreSQL it runs without BEGIN/COMMIT, so the store
    refuses a second statement in the same block on either database (it would not be atomic with the first)."""
    rt = await _runtime(db_url, tmp_path, clock, lean=True)
    try:
        assert rt.chats is not None
        async with rt.chats.write(single=True) as tx:
            assert (await tx.fetch("SELECT count(*) FROM conversations"))[0][0] == 0
            with pytest.raises(RuntimeError):
                await tx.fetch("SELECT 1")
    finally:
        await rt.close()


async def test_a_turns_replies_marked_sent_ride_on_the_next_transaction(db_url, tmp_path, clock):
    """Marking a turn's replies sent may be lost in a crash at no cost but sending them again, so the SQLite store
    writes it at the start of its next write transaction instead of one of its own (one commit fewer per turn):
    that transaction sees it, a rolled-back one hands it on, and with no transaction coming a timer or closing
    the store writes it. PostgreSQL writes it at once."""
    rt = await _runtime(db_url, tmp_path, clock, lean=True)
    try:
        store = rt.chats
        assert store is not None
        await Chat(rt, user="soon:1").start()
        sql = "UPDATE conversations SET lang = ? WHERE user_key = ?"

        async def lang() -> str:
            async with store.read() as tx:
                return (await tx.fetch("SELECT lang FROM conversations WHERE user_key = ?", "soon:1"))[0][0]

        await store.soon(sql, "en", "soon:1")
        if store.dialect != "sqlite":
            assert await lang() == "en"
            return
        assert await lang() == "vi", "held for the next transaction"
        with pytest.raises(ZeroDivisionError):
            async with store.write() as tx:
                assert (await tx.fetch("SELECT lang FROM conversations WHERE user_key = ?", "soon:1"))[0][0] == "en"
                raise ZeroDivisionError
        assert await lang() == "vi", "rolled back with the transaction that carried it, and kept"
        async with store.write(single=True) as tx:
            await tx.fetch("SELECT 1")
        assert await lang() == "en", "written by the next one"
        await store.soon(sql, "vi", "soon:1")
        for _ in range(100):  # no transaction comes: the store runs one for it a moment later
            await asyncio.sleep(0.01)
            if await lang() == "vi":
                break
        assert await lang() == "vi"
        await store.soon(sql, "en", "soon:1")
    finally:
        await rt.close()
    if store.dialect == "sqlite":  # closing writes what is held
        path = db_url.split("///", 1)[1]
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT lang FROM conversations WHERE user_key = 'soon:1'").fetchone()[0] == "en"


async def test_a_step_that_waited_for_the_chat_reads_the_drafts_written_meanwhile(db_url, tmp_path, clock):
    """Two steps of one chat at once (two processes): the second waits for the chat's lock, then reads the
    drafts as the first committed them, not as they stood when it began to wait (PostgreSQL: a statement that
    waited for a row lock sees its subqueries as of before the wait, so the drafts are read after it)."""
    rt = await _runtime(db_url, tmp_path, clock, lean=True)
    other = await _runtime(db_url, tmp_path / "2", clock, lean=True)
    try:
        chat = await Chat(rt).start()
        await chat.press(PROC)
        assert rt.chats is not None and other.chats is not None
        async with rt.chats.transaction(chat.user) as first:
            rows = first.rows
            (draft,) = rows.drafts
            waiting = asyncio.ensure_future(_drafts_after_lock(other.chats, chat.user))
            await asyncio.sleep(0.2)
            assert not waiting.done()
            changed = {**draft, "answers": {**draft["answers"], "marker": "written meanwhile"},
                       "revision": draft["revision"] + 1}
            await first.save(rows.data or {}, rows.lang or "vi", [changed], [])
        (seen,) = await asyncio.wait_for(waiting, 30)
        assert seen["answers"].get("marker") == "written meanwhile"
    finally:
        await other.close()
        await rt.close()


async def test_a_new_chat_made_by_two_processes_at_once_is_made_once(pg_url, tmp_path, clock):
    """PostgreSQL: a new chat's first step has no row to lock. Two processes given its first messages at once
    both begin; the second one's insert waits for the first's commit, inserts nothing, and its step is rolled
    back (NotHere) and run again on the row as committed: the ORM path, in the runtime."""
    from storage.chatstore import NotHere

    rt = await _runtime(pg_url, tmp_path, clock, lean=True)
    other = await _runtime(pg_url, tmp_path / "2", clock, lean=True)
    try:
        assert rt.chats is not None and other.chats is not None
        user = "telegram:7001"

        async def second() -> None:
            async with other.chats.transaction(user) as tx:
                assert tx.rows.data is None and tx.rows.revision is None  # nothing there when it began
                began.set_result(None)
                await asyncio.sleep(0.1)  # (the first inserts meanwhile)
                await tx.save({"marker": "second"}, "vi", [], [])

        began: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        async with rt.chats.transaction(user) as tx:
            assert tx.rows.data is None
            task = asyncio.ensure_future(second())
            await began
            await tx.save({"marker": "first"}, "vi", [], [])
            await asyncio.sleep(0.3)
            assert not task.done()  # its insert waits for this commit
        with pytest.raises(NotHere):
            await asyncio.wait_for(task, 30)
        async with rt.chats.transaction(user) as tx:
            assert tx.rows.data == {"marker": "first"} and tx.rows.revision == 1
        # through the runtimes: both first messages answered, the second on the ORM path
        fresh = "telegram:7002"
        a, b = await asyncio.gather(rt.start(fresh), other.start(fresh))
        assert a and b and rt.lean_fallbacks + other.lean_fallbacks <= 1
        async with rt.sm() as db:
            assert await db.scalar(select(func.count()).select_from(Conversation)
                                   .where(Conversation.user_key == fresh)) == 1
    finally:
        await other.close()
        await rt.close()


async def _drafts_after_lock(store, user: str) -> list[dict]:
    async with store.transaction(user) as tx:
        return tx.rows.drafts


async def test_the_store_writes_the_conversation_with_several_drafts_and_deletes_one(db_url, tmp_path, clock):
    """``save`` with two drafts and one deleted (PostgreSQL writes the conversation with the first draft in one
    statement): what the next step reads is exactly what was saved."""
    rt = await _runtime(db_url, tmp_path, clock, lean=True)
    try:
        chat = await Chat(rt).start()
        await chat.press(PROC)
        assert rt.chats is not None
        async with rt.chats.transaction(chat.user) as tx:
            rows = tx.rows
            (draft,) = rows.drafts
            other = {**draft, "id": "bench-other-draft", "procedure": "other-proc", "answers": {"a": 1},
                     "history": ["a"], "revision": 1}
            changed = {**draft, "answers": {"x": "ý"}, "revision": draft["revision"] + 1}
            await tx.save({**(rows.data or {}), "marker": 1}, "en", [changed, other], [])
        async with rt.chats.transaction(chat.user) as tx:
            assert tx.rows.data is not None and tx.rows.data["marker"] == 1 and tx.rows.lang == "en"
            got = {d["id"]: (d["procedure"], d["answers"], d["history"]) for d in tx.rows.drafts}
            assert got == {draft["id"]: (PROC, {"x": "ý"}, draft["history"]), "bench-other-draft": ("other-proc",
                                                                                           {"a": 1}, ["a"])}
            await tx.save(tx.rows.data, "vi", [], ["other-proc"])
        async with rt.chats.transaction(chat.user) as tx:
            assert [d["id"] for d in tx.rows.drafts] == [draft["id"]] and tx.rows.lang == "vi"
    finally:
        await rt.close()


async def test_a_connection_the_server_closed_is_replaced_not_reused(pg_url, tmp_path, clock):
    """PostgreSQL: the store's engine does not ping on checkout, so a pooled connection the server closed (a
    restart, ``pg_terminate_backend``) is noticed as closed and replaced: the chat's next steps are served."""
    import asyncpg

    db_url = pg_url
    rt = await _runtime(db_url, tmp_path, clock, lean=True)
    try:
        chat = await Chat(rt).start()
        await chat.press(PROC)
        await chat.say("1")
        dsn = "postgresql://" + db_url.split("://", 1)[1]
        admin = await asyncpg.connect(dsn)
        try:
            killed = await admin.fetchval("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        finally:
            await admin.close()
        assert killed >= 1
        await asyncio.sleep(0.2)  # the client reads the server's goodbye
        lean = rt.lean_turns
        await chat.press("yes")
        await chat.say("thien tai")
        assert rt.lean_turns - lean == 2, "both steps were lean, on fresh connections"
        draft = (await rt.session(chat.user)).draft
        assert draft is not None and len(draft.answers) >= 3, draft.answers
    finally:
        await rt.close()


def test_the_rows_json_takes_what_orjson_refuses():
    """A step's rows are written with orjson; an integer beyond 64 bits (which orjson refuses) is written by the
    standard library instead of failing the step, and a ``NaN`` written before orjson is still read."""
    import math

    from storage.chatstore.base import dump_json, load_json

    assert dump_json({"a": "Bà", 1: [True, None, 1.5]}) == '{"a":"Bà","1":[true,null,1.5]}'
    assert dump_json({"n": 10 ** 20}) == '{"n":100000000000000000000}'
    assert math.isnan(load_json('{"x":NaN}')["x"]) and load_json(b'{"a":"B\\u00e0"}') == {"a": "Bà"}
