"""The turn pipeline: handlers in order, each answering or passing the turn on, in one transaction; after-commit
jobs once it committed. A feature is added by registering it, without touching the runtime."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import app
from bot.pipeline import ACCOUNTS, CITIZEN, OFFICER_CHAT, PASS, PLUGINS, Pipeline, Turn
from bot.service import Runtime
from dialogs.messages import Incoming, Message
from storage.models import Conversation


def test_the_built_in_features_are_registered_in_order():
    assert app.build_pipeline().names == ["officer_chat", "accounts", "privacy", "effects", "citizen"]
    assert OFFICER_CHAT < ACCOUNTS < PLUGINS < CITIZEN


def test_a_handler_name_is_registered_once():
    p = Pipeline()

    async def h(turn: Turn):
        return PASS
    p.add(h, name="x", order=1)
    with pytest.raises(ValueError):
        p.add(h, name="x", order=2)


class Echo:
    """A feature: answers “/echo …” before the citizen's conversation and queues an after-commit job."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.committed: list[bool] = []

    def register(self, pipeline: Pipeline) -> None:
        pipeline.add(self.handle, name="echo", order=PLUGINS - 1)

    async def handle(self, turn: Turn):
        self.seen.append(turn.message.text or "")
        if not (turn.message.text or "").startswith("/echo"):
            return PASS
        session = await turn.load_session()  # the citizen's session is there for a plug-in to read
        rt = turn.runtime

        async def after(replies):
            # runs after the commit: another connection already sees the turn's writes
            async with rt.sm() as db:
                row = (await db.execute(select(Conversation.user_key)
                                        .where(Conversation.user_key == turn.user_key))).first()
            self.committed.append(row is not None)
            return [*replies, Message("after commit")]
        turn.after_commit(after)
        await turn.save_session()
        return [Message(turn.message.text[len("/echo"):].strip() + f" ({session.lang})")]


async def test_a_registered_feature_answers_or_passes_and_its_job_runs_after_the_commit(db_url, tmp_path, clock):
    echo = Echo()
    rt = await Runtime(db_url, var_dir=tmp_path / "var", now=clock,
                       pipeline=app.build_pipeline((*app.FEATURES, echo))).open()
    try:
        assert rt.pipeline.names == ["officer_chat", "accounts", "privacy", "echo", "effects", "citizen"]
        replies = await rt.handle("console:e", Incoming(text="/echo xin chào"))
        assert [r.text for r in replies] == ["xin chào (vi)", "after commit"]
        assert echo.committed == [True]
        # anything else passes on to the citizen's conversation
        replies = await rt.handle("console:e", Incoming(text="menu"))
        assert replies[-1].field is not None and echo.seen == ["/echo xin chào", "menu"]
        assert echo.committed == [True]  # no job queued by a turn that passed on
    finally:
        await rt.close()


async def test_a_failing_tx_hook_rolls_the_turn_back_and_skips_the_jobs(runtime: Runtime):
    async def boom(db, replies):
        raise RuntimeError("inbox write failed")
    with pytest.raises(RuntimeError):
        await runtime.handle("console:rb", Incoming(text="hỗ trợ chi phí mai táng"), tx_hook=boom)
    async with runtime.sm() as db:
        assert (await db.execute(select(Conversation).where(Conversation.user_key == "console:rb"))).first() is None
