"""The runtime's promises: one chat's messages never race, across tasks and across processes."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.service import Runtime
from dialogs.messages import Incoming
from storage.models import Conversation
from tests.conftest import Chat, shared_catalog


async def _revision(rt: Runtime, user: str) -> int:
    async with rt.sm() as db:
        return (await db.execute(select(Conversation.revision).where(Conversation.user_key == user))).scalar_one()


async def test_quick_messages_from_one_chat_are_handled_in_order(runtime: Runtime):
    chat = await Chat(runtime, "console:burst").start()
    await chat.press("ho-tro-chi-phi-mai-tang")
    await chat.say("1")
    await chat.press("yes")  # consent: the cause of death is health data
    await chat.say("1")
    await chat.expect("deceased.full_name")
    before = await _revision(runtime, chat.user)
    # three messages at once: each must see the state the previous one left
    results = await asyncio.gather(*(runtime.handle(chat.user, Incoming(text=t))
                                     for t in ("Trần Văn Tư", "02/03/1945", "nam")))
    assert [r[-1].field for r in results] == ["deceased.birth_date", "deceased.sex", "deceased.ethnicity"]
    answers = await chat.answers()
    assert answers["deceased.full_name"] == "TRẦN VĂN TƯ"
    assert answers["deceased.birth_date"] == "1945-03-02"
    assert answers["deceased.sex"] == "nam"
    assert await _revision(runtime, chat.user) == before + 3
    assert len(runtime.locks) == 0  # locks are released and dropped


async def test_two_runtimes_on_one_database_do_not_lose_updates(db_url, tmp_path, clock):
    """Two processes (here: two runtimes with their own engines and locks) serving the same chat."""
    a = await Runtime(db_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog()).open()
    b = await Runtime(db_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog()).open(migrate=False)
    try:
        user = "console:shared"
        await a.start(user)
        before = await _revision(a, user)
        n = 12
        await asyncio.gather(*((a if i % 2 else b).handle(user, Incoming(text="trợ giúp")) for i in range(n)))
        assert await _revision(a, user) == before + n
    finally:
        await a.close()
        await b.close()
