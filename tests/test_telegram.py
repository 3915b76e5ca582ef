"""The Telegram channel, end to end: the real aiogram bot and our webhook app on 127.0.0.1, against a fake Bot
API server (tests/fakes/telegram_api.py) set through aiogram's custom API server setting; real databases
(SQLite, and PostgreSQL when DVCBOT_TEST_PG is set)."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientSession, web

from bot import cases as off
from bot.inbound import InboundLimits
from bot.notifier import Limits, Notifier
from bot.service import Runtime
from bot.telegram import TelegramChannel, TelegramConfig
from bot.telegram.inbox import InboxRepo, without_echo
from bot.telegram.render import ask_token, inline_keyboard, render, split_text, utf16_len
from dialogs import lifecycle as lc
from dialogs.i18n import translator
from dialogs.messages import Ask, ChoiceOut, Incoming, Message
from storage.channel_models import TelegramUpdate
from storage.officers_repo import LegRepo, SupplementRepo
from storage.repo import DossierRepo
from tests.conftest import jpeg, pdf, shared_catalog
from tests.fakes.telegram_api import FakeTelegramAPI, Sent

TOKEN = "123456:TEST-token"
SECRET = "s3cr3t_Token-1"
CITIZEN = 4242
PROC = "ho-tro-chi-phi-mai-tang"
FAST = Limits(0.0, 1000.0, 1000.0)  # no rate limiting unless a test asks for it
OPEN = InboundLimits(chat_rate=1000.0, chat_burst=1000.0, global_rate=10_000.0, global_burst=10_000.0)


@pytest.fixture
async def fake():
    api = await FakeTelegramAPI().start()
    yield api
    await api.stop()


class Bot:
    """Our webhook app, served on a free port, and the people writing to it."""

    def __init__(self, rt: Runtime, fake: FakeTelegramAPI, **config: Any):
        self.rt = rt
        self.fake = fake
        cfg = dict(token=TOKEN, api_base=fake.base_url, secret=SECRET, limits=FAST, album_window=0.25,
                   retry_delay=0.05, inbound=OPEN)
        cfg.update(config)
        self.channel = TelegramChannel(rt, TelegramConfig(**cfg))
        self.runner: web.AppRunner | None = None
        self.http: ClientSession | None = None
        self.url = ""
        self.webhook_replies: list[dict] = []  # Bot API calls returned in the webhook's HTTP responses

    async def start(self) -> Bot:
        self.runner = web.AppRunner(self.channel.webhook_app(), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/telegram/webhook"
        self.http = ClientSession()
        return self

    async def stop(self) -> None:
        if self.http:
            await self.http.close()
        if self.runner:
            await self.runner.cleanup()
        # the channel's own tasks (inbox purge, update workers) end here, not mid-query when the test's event
        # loop closes: a cancelled SQLite query left for the loop's teardown can hang it
        await self.channel.stop(drain=5)

    async def post(self, update: dict, secret: str | None = SECRET) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with self.http.post(self.url, json=update, headers=headers) as r:
            reply = await r.json() if r.status == 200 else {}
        if reply.get("method"):  # a call in the webhook's response: Telegram makes it, as the fake does here
            assert await self.fake.webhook_response(reply), reply
            self.webhook_replies.append(reply)
        return r.status

    async def send(self, update: dict) -> None:
        assert await self.post(update) == 200
        await self.channel.join(20)

    # a person -----------------------------------------------------------------------------------
    async def say(self, chat: int, text: str) -> Sent:
        await self.send(self.fake.text_update(chat, text))
        return self.fake.last(chat)

    async def press(self, chat: int, label: str, message: Sent | None = None) -> Sent:
        await self.send(self.fake.press(chat, label, message))
        return self.fake.last(chat)

    def asked(self, chat: int) -> str:
        return self.fake.last_with_keyboard(chat).text or ""


@pytest.fixture
async def tg(runtime, fake):
    b = await Bot(runtime, fake).start()
    yield b
    await b.stop()


async def answers(rt: Runtime, chat: int) -> dict:
    s = await rt.session(f"telegram:{chat}")
    return dict(s.draft.answers) if s.draft else {}


def all_text(fake: FakeTelegramAPI, chat: int) -> str:
    return "\n".join(m.text or "" for m in fake.sent(chat))


# ------------------------------------------------------------------------------------------------
async def test_full_funeral_procedure_with_buttons_text_photo_album_and_contact(tg: Bot, fake: FakeTelegramAPI,
                                                                               runtime: Runtime):
    c = CITIZEN
    first = await tg.say(c, "/start")
    assert first.text.startswith("Xin chào!") and "Hỗ trợ chi phí mai táng (trợ giúp đột xuất)" in first.labels()
    # the command menu, in Vietnamese and English
    assert [x["command"] for x in fake.commands["vi"]] == ["start", "hoso", "trogiup", "huy", "ngonngu"]
    assert fake.commands["en"][1]["description"] == "My applications"
    assert fake.commands["vi"][1]["description"] == "Xem hồ sơ đã nộp"

    m = await tg.press(c, "Hỗ trợ chi phí mai táng")
    assert "Ai đang khai hồ sơ này?" in m.text and "Bước 1/" in m.text and "▰" in m.text
    assert fake.sent(c)[0].text.endswith("➡️ Hỗ trợ chi phí mai táng (trợ giúp đột xuất)")  # the pressed one
    assert fake.sent(c)[0].reply_markup is None
    assert m.labels()[-2:] == ["Hủy", "Trợ giúp"]  # the nav row (nothing to go back to yet)
    m = await tg.press(c, "Tôi là người đứng ra mai táng")
    assert "nguyên nhân người mất" in m.text and m.labels()[0] == "Tôi đồng ý"  # consent: health data
    m = await tg.press(c, "Tôi đồng ý")
    assert "Người mất qua đời (hoặc mất tích) vì lý do gì?" in m.text
    assert m.labels()[-3:] == ["Quay lại", "Hủy", "Trợ giúp"]
    await tg.press(c, "Thiên tai")
    m = await tg.say(c, "nguyễn văn an")
    assert "Ngày tháng năm sinh" in m.text
    m = await tg.say(c, "31/02/1950")  # dates are typed, and checked
    assert m.text.startswith("⚠️") and "Ngày tháng năm sinh" in m.text
    await tg.say(c, "5/3/1950")
    m = await tg.press(c, "Nam")
    assert "Dân tộc" in m.text
    await tg.say(c, "Kinh")
    await tg.say(c, "Lâm Đồng")
    await tg.say(c, "duc trong")
    await tg.say(c, "Thôn 3")
    await tg.press(c, "Đã mất")
    await tg.say(c, "10/11/2026")
    await tg.say(c, "12/11/2026")
    m = await tg.say(c, "Nghĩa trang thôn 3")
    assert "Ai đứng ra mai táng" in m.text
    await tg.press(c, "Hộ gia đình hoặc cá nhân")
    await tg.say(c, "Nguyễn Văn Bình")
    await tg.say(c, "01/02/1975")
    await tg.say(c, "068 075 001 234")
    m = tg.fake.last(c)
    assert "CCCD cấp ngày nào" in m.text and "Bỏ qua" in m.labels()
    await tg.press(c, "Bỏ qua")
    await tg.say(c, "Lâm Đồng")
    await tg.say(c, "Đức Trọng")
    await tg.say(c, "Thôn 3")
    m = tg.fake.last(c)
    assert m.labels()[:2] == ["Có", "Không"]
    await tg.press(c, "Có")
    m = await tg.say(c, "con trai")

    # the phone: a contact-sharing keyboard, nav words as plain buttons
    assert "Số điện thoại để cán bộ liên hệ" in m.text
    kb = m.keyboard()
    assert kb[0]["request_contact"] is True and [b["text"] for b in kb[1:]] == ["Quay lại", "Hủy", "Trợ giúp"]
    await tg.send(fake.contact_update(c, "+84912345678"))
    # the contact keyboard goes away with the next message that has no inline keyboard
    after = fake.sent(c)[-2:]
    assert after[0].reply_markup == {"remove_keyboard": True}
    assert "giấy báo tử" in after[1].text and "📎" in after[1].text

    # one photo, then an album of two (counted as one answer; the question takes at most three files)
    await tg.send(fake.photo_update(c, jpeg(1)))
    assert "Đã nhận 1 tệp" in fake.last(c).text and "Xong" in fake.last(c).labels()
    before = len(fake.sent(c))
    parts = [fake.photo_update(c, jpeg(2), media_group_id="alb-1"),  # (made first: making a PDF takes longer
             fake.document_update(c, pdf(), "bao-tu.pdf", media_group_id="alb-1")]  # than the album's window)
    for part in parts:
        assert await tg.post(part) == 200
    await tg.channel.join(20)
    assert len(fake.sent(c)) == before + 1  # one reply for the album
    assert "Thông tin đã đúng chưa?" in tg.asked(c)
    a = await answers(runtime, c)
    assert a["contact.phone"] == "0912345678" and a["deceased.birth_date"] == "1950-03-05"
    assert [f["mime"] for f in a["docs.death_notice"]] == ["image/jpeg", "image/jpeg", "application/pdf"]

    await tg.press(c, "Đúng, nộp hồ sơ")
    m = await tg.press(c, "Tôi xin cam đoan")
    text = all_text(fake, c)
    assert "Đã nộp hồ sơ thành công" in text and "Mã hồ sơ: MT-" in text
    async with runtime.sm() as db:
        [d] = await DossierRepo(db).list()
    assert d.submitter_key == f"telegram:{c}" and d.answers["applicant.id_number"] == "068075001234"
    # the citizen's copy of the filled form follows as a document, sent by the notifier from the outbox (the
    # filing step itself writes rows only)
    assert not [s for s in fake.sent(c) if s.kind == "document"]
    await _notifier(runtime, tg.channel).drain()
    [form] = [s for s in fake.sent(c) if s.kind == "document"]
    assert form.file_name == f"{d.code}.pdf" and form.file.startswith(b"%PDF") and d.code in form.text
    assert len(d.attachments) == 3 and all(runtime.attachments.exists(x.sha256) for x in d.attachments)
    # every keyboard the bot sent respected the 64-byte callback limit (the fake rejects longer ones)
    assert all(len(b["callback_data"].encode()) <= 64 for s in fake.sent(c) for b in s.buttons())
    assert not [x for x in fake.calls if x.status >= 400]


async def test_stale_buttons_and_unsupported_messages_change_nothing(tg: Bot, fake: FakeTelegramAPI,
                                                                     runtime: Runtime):
    c = CITIZEN
    await tg.say(c, "/start")
    await tg.press(c, "Hỗ trợ chi phí mai táng")
    role_question = fake.last(c)
    await tg.say(c, "1")  # answered by typing: the buttons above are now stale
    await tg.press(c, "Tôi đồng ý")  # consent: the cause of death is health data
    cause_question = dataclasses.replace(fake.last(c))  # as a slow client still shows it
    await tg.press(c, "Thiên tai")
    n = len(fake.sent(c))
    state = await answers(runtime, c)
    await tg.press(c, "Tôi khai giúp người khác", role_question)  # an old question's button
    await tg.press(c, "Hỏa hoạn", cause_question)                 # a double press on an answered question…
    assert len(fake.sent(c)) == n                                 # …no reply, no step
    assert await answers(runtime, c) == state
    stale = [a for a in fake.callback_answers if a.get("text")]
    assert len(stale) == 2 and all(a["text"].startswith("Nút này đã cũ") for a in stale)
    assert state["filer.role"] == "self" and state["deceased.cause"] == "thien_tai"
    # garbage callback data is stale too
    await tg.send(fake.callback_update(c, fake.last(c), "c:zzzz:99"))
    await tg.send(fake.callback_update(c, fake.last(c), "nonsense"))
    assert len(fake.sent(c)) == n and await answers(runtime, c) == state
    # stickers and files over the 20 MB download limit are explained, and change nothing either
    await tg.send(fake.sticker_update(c))
    assert "chỉ đọc được tin nhắn chữ" in fake.last(c).text
    big = fake.document_update(c, b"%PDF-1.4 small", "lon.pdf")
    big["message"]["document"]["file_size"] = 30 * 1024 * 1024
    await tg.send(big)
    assert "lớn hơn 20 MB" in fake.last(c).text and await answers(runtime, c) == state


async def test_voice_video_location_edits_and_odd_files_get_a_polite_answer(tg: Bot, fake: FakeTelegramAPI,
                                                                            runtime: Runtime):
    """Whatever a person sends, they get a short Vietnamese answer and the conversation is unchanged: no crash,
    no silence, no apology for an error."""
    c = CITIZEN
    await tg.say(c, "/start")
    await tg.press(c, "Hỗ trợ chi phí mai táng")
    await tg.press(c, "Tôi là người đứng ra mai táng")
    await tg.press(c, "Tôi đồng ý")  # consent: the cause of death is health data
    typed = fake.text_update(c, "Thiên tai")
    await tg.send(typed)
    state = await answers(runtime, c)
    asked = tg.asked(c)
    assert "Họ và tên người mất?" in asked
    for kind in ("voice", "video", "video_note", "audio", "animation", "location", "venue", "poll", "dice"):
        n = len(fake.sent(c))
        await tg.send(fake.media_update(c, kind))
        new = fake.sent(c)[n:]
        assert len(new) == 1 and "chỉ đọc được tin nhắn chữ, ảnh chụp, tệp" in new[0].text, (kind, new)
    # an edited message is not an answer: the person is asked to send it again
    n = len(fake.sent(c))
    await tg.send(fake.edited_update(c, "Hỏa hoạn", typed["message"]["message_id"]))
    [m] = fake.sent(c)[n:]
    assert "tin nhắn đã sửa" in m.text and "tin nhắn mới" in m.text
    # a file where a name is expected, and a file of a type we do not take: explained by the engine
    await tg.send(fake.document_update(c, b"\x00\x00\x00\x18ftypmp42" + b"\0" * 100, "video.mp4", "video/mp4"))
    assert fake.last(c).text.startswith("⚠️") and "Họ và tên người mất?" in fake.last(c).text
    assert await answers(runtime, c) == state and tg.asked(c).endswith(asked)
    # an album mixing photos and a video: the video is explained, the photos still arrive together (one reply)
    n = len(fake.sent(c))
    video = fake.media_update(c, "video")
    video["message"]["media_group_id"] = "alb-9"
    for u in (fake.photo_update(c, jpeg(3), media_group_id="alb-9"), video,
              fake.photo_update(c, jpeg(4), media_group_id="alb-9")):
        assert await tg.post(u) == 200
    await tg.channel.join(20)
    new = fake.sent(c)[n:]
    assert len(new) == 2 and "chỉ đọc được tin nhắn chữ" in new[0].text and "Họ và tên người mất?" in new[1].text
    assert await answers(runtime, c) == state
    assert tg.channel.stats.failed == 0 and not [x for x in fake.calls if x.status >= 400]
    assert "đã có lỗi" not in all_text(fake, c)


async def test_duplicate_webhook_deliveries_are_handled_once_and_the_secret_is_checked(tg: Bot, fake: FakeTelegramAPI,
                                                                                        runtime: Runtime):
    c = CITIZEN
    await tg.say(c, "/start")
    u = fake.press(c, "Hỗ trợ chi phí mai táng")
    statuses = await asyncio.gather(*(tg.post(u) for _ in range(3)))  # concurrent redeliveries
    assert statuses == [200, 200, 200]
    await tg.channel.join(20)
    await tg.send(u)  # and one more, later
    asked = [m for m in fake.sent(c) if m.text and "Ai đang khai hồ sơ này?" in m.text]
    assert len(asked) == 1
    t = fake.text_update(c, "1")
    await tg.send(t)
    await tg.send(t)
    assert (await answers(runtime, c)) == {"filer.role": "self"}
    assert tg.channel.stats.duplicates == 4
    assert not tg.channel._slots and not tg.channel._inflight  # (nothing left waiting for a duplicate)
    async with runtime.sm() as db:
        rows = list((await db.execute(TelegramUpdate.__table__.select())).mappings())
    assert len(rows) == 3 and {r["status"] for r in rows} == {"done"} and all(r["payload"] == {} for r in rows)

    # a wrong or missing secret token is refused before anything is stored
    other = fake.text_update(CITIZEN + 1, "/start")
    assert await tg.post(other, secret="wrong") == 401
    assert await tg.post(other, secret=None) == 401
    async with tg.http.post(tg.url, data=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
        assert r.status == 400
    await tg.channel.join(5)
    assert fake.sent(CITIZEN + 1) == [] and tg.channel.stats.accepted == 3


async def test_a_burst_of_429_is_waited_out_and_network_errors_retried(tg: Bot, fake: FakeTelegramAPI):
    tg.channel.config.reply_wait = 0  # every reply is the bot's own call (none rides on the webhook's response)
    await tg.say(CITIZEN, "/start")
    fake.fail("sendMessage", 2, retry_after=1)
    m = await tg.press(CITIZEN, "Hỗ trợ chi phí mai táng")
    assert "Ai đang khai hồ sơ này?" in m.text  # it still arrived, after waiting what Telegram asked, twice
    assert tg.channel.out.stats.retry_after == 2
    assert [c.status for c in fake.method_calls("sendMessage")][-3:] == [429, 429, 200]
    # network and server errors: retried with backoff
    tg.channel.out.backoff = 0.01
    fake.fail("sendMessage", 2, status=502, description="Bad Gateway")
    m = await tg.say(CITIZEN, "/start")
    assert "Ai đang khai hồ sơ này?" in m.text and tg.channel.out.stats.network_retries == 2


async def test_rate_limiter_allows_a_short_burst_per_chat_then_one_message_a_second():
    from bot.telegram.sending import BurstRateLimiter

    class Clock:
        t = 100.0
    waits: list[float] = []

    async def sleep(d: float) -> None:
        waits.append(round(d, 3))
        Clock.t += max(d, 1e-6)
    lim = BurstRateLimiter(Limits(1.0, 30.0, 30.0), per_chat_burst=3, clock=lambda: Clock.t, sleep=sleep)
    for _ in range(5):
        await lim.wait("telegram:1")
    assert waits == [1.0, 1.0]  # three at once, then one a second
    await lim.wait("telegram:2")  # another chat has its own bucket
    assert waits == [1.0, 1.0]
    lim.halt(7)  # a 429 anywhere halts everyone
    await lim.wait("telegram:3")
    assert waits[-1] == 7.0
    for i in range(40):  # the global bucket: 30 a second
        await lim.wait(f"telegram:{100 + i}")
    assert sum(waits[3:]) == pytest.approx(10 / 30, abs=0.05)


async def test_the_rate_limiter_gives_a_token_now_or_says_no_without_waiting():
    from bot.telegram.sending import BurstRateLimiter

    class Clock:
        t = 100.0
    lim = BurstRateLimiter(Limits(1.0, 30.0, 30.0), per_chat_burst=2, clock=lambda: Clock.t)
    assert lim.take_now("telegram:1") and lim.take_now("telegram:1")
    assert not lim.take_now("telegram:1")  # the chat's burst is spent: its reply waits, as a call
    assert lim.take_now("telegram:2")
    Clock.t += 1.0
    assert lim.take_now("telegram:1")
    lim.halt(5)  # after a 429 nothing goes without waiting
    assert not lim.take_now("telegram:3")


def test_the_reply_in_the_webhook_response_can_be_turned_off(monkeypatch):
    """``dvcbot telegram --reply-wait 0`` (or ``DVCBOT_TELEGRAM_REPLY_WAIT=0``): every reply is a Bot API call,
    whose failures the bot sees (a blocked bot's 403), at one call more per typed message."""
    from bot.cli import build_parser
    from bot.telegram.cli import channel_options

    def config(*argv: str) -> TelegramConfig:
        return TelegramConfig(token=TOKEN, **channel_options(build_parser().parse_args(["telegram", *argv])))

    assert config().reply_wait == 2.0 and config("--reply-wait", "0").reply_wait == 0
    assert config("--reply-wait", "-1").reply_wait == 0
    monkeypatch.setenv("DVCBOT_TELEGRAM_REPLY_WAIT", "0.5")
    assert config().reply_wait == 0.5 and config().album_window == 0.8


async def test_a_typed_message_gets_its_turns_last_reply_in_the_webhook_response(tg: Bot, fake: FakeTelegramAPI,
                                                                                runtime: Runtime):
    """Telegram makes a call returned as the webhook's response: a typed message's next question goes there, once
    the turn has committed, and costs the bot no call and no round trip. Earlier messages of the turn go first,
    as calls; the inbox row is done once the response is written."""
    from sqlalchemy import select
    c = CITIZEN
    made = tg.channel.out.stats.calls
    m = await tg.say(c, "/start")
    assert "Xin chào" in (m.text or "") and m.labels()  # the menu, with its buttons
    [reply] = tg.webhook_replies
    assert reply["method"] == "sendMessage" and reply["chat_id"] == c and reply["reply_markup"]["inline_keyboard"]
    assert tg.channel.out.stats.calls == made and tg.channel.stats.webhook_replies == 1
    n = len(fake.sent(c))
    m = await tg.say(c, "hỗ trợ chi phí mai táng")  # more than one message: the last in the response
    assert "Ai đang khai hồ sơ này?" in (m.text or "") and len(tg.webhook_replies) == 2
    assert [s.text for s in fake.sent(c)[n:]][-1] == m.text
    await tg.say(c, "1")
    async with runtime.sm() as db:
        statuses = (await db.execute(select(TelegramUpdate.status))).scalars().all()
    assert statuses and set(statuses) == {"done"}
    # a press still has its callback answered there, and its next question sent as a call
    made = tg.channel.out.stats.calls
    await tg.press(c, fake.last_with_keyboard(c).labels()[0])
    assert tg.webhook_replies[-1]["method"] == "answerCallbackQuery" and tg.channel.out.stats.calls > made


async def test_a_reply_the_webhook_could_not_wait_for_goes_as_a_call(runtime: Runtime, fake: FakeTelegramAPI):
    """A typed message queued behind its chat's previous update (whose reply Telegram is slow to take): the
    webhook answers it empty after ``reply_wait``, and its turn's reply goes as a call when its turn comes."""
    b = await Bot(runtime, fake, reply_wait=0.05).start()
    try:
        await b.say(CITIZEN, "/start")
        slow = fake.hold("sendMessage")
        assert await b.post(fake.press(CITIZEN, "Hỗ trợ chi phí mai táng")) == 200  # its question hangs
        assert await b.post(fake.text_update(CITIZEN, "1")) == 200  # waits its turn: answered empty
        assert [r["method"] for r in b.webhook_replies] == ["sendMessage", "answerCallbackQuery"]
        slow.set()
        await b.channel.join(10)
        asks = [c.params["text"] for c in fake.method_calls("sendMessage")]
        assert "Ai đang khai hồ sơ này?" in asks[-2] and asks[-1] == fake.last(CITIZEN).text
    finally:
        await b.stop()


async def test_a_webhook_request_cut_off_while_it_waits_leaves_the_reply_to_a_call(tg: Bot, fake: FakeTelegramAPI):
    await tg.say(CITIZEN, "/start")
    slow = fake.hold("sendMessage")
    assert await tg.post(fake.press(CITIZEN, "Hỗ trợ chi phí mai táng")) == 200  # its question hangs
    update = fake.text_update(CITIZEN, "1")
    assert await tg.channel.accept(update, respond=True)
    waiting = asyncio.ensure_future(tg.channel.turn_reply(update))
    await asyncio.sleep(0.05)
    waiting.cancel()  # the request is gone (Telegram hung up; the server stops)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    slow.set()
    await tg.channel.join(10)
    assert fake.method_calls("sendMessage")[-1].params["text"] == fake.last(CITIZEN).text
    assert "lý do gì" in (fake.last(CITIZEN).text or "") or "đồng ý" in (fake.last(CITIZEN).text or "").lower()


async def test_a_kill_before_the_webhook_response_is_written_sends_the_reply_at_the_next_start(
        runtime: Runtime, fake: FakeTelegramAPI):
    """The turn committed and handed its last reply to the webhook's response; the process dies before writing
    it, so Telegram never got it and posts the update again. The next process sends the reply once (from the
    inbox, where the turn held it) and takes the repeated update as the duplicate it is."""
    from sqlalchemy import select
    a = await Bot(runtime, fake).start()
    await a.send(fake.text_update(CITIZEN, "/start"))
    update = fake.text_update(CITIZEN, "hỗ trợ chi phí mai táng")
    assert await a.channel.accept(update, respond=True)
    turn = await a.channel.turn_reply(update)  # … and here the process dies: no response, nothing marked sent
    assert turn is not None and "Ai đang khai hồ sơ này?" in json.loads(turn.body)["text"]
    async with runtime.sm() as db:
        assert (await db.execute(select(TelegramUpdate.status).where(
            TelegramUpdate.id == turn.held))).scalar_one() == "replying"
    before = len(fake.sent(CITIZEN))
    await a.channel.stop(drain=0)
    await a.http.close()
    await a.runner.cleanup()
    await a.channel.bot.session.close()
    b = await Bot(runtime, fake).start()
    try:
        await b.channel.join(20)
        assert await b.post(update) == 200  # Telegram's repeat: a duplicate, answered with nothing
        await b.channel.join(20)
        after = [m.text or "" for m in fake.sent(CITIZEN)[before:]]
        assert sum("Ai đang khai hồ sơ này?" in t for t in after) == 1, after
        assert b.channel.stats.duplicates == 1 and b.webhook_replies == []
        r = await b.say(CITIZEN, "1")
        assert "lý do gì" in (r.text or "") or "đồng ý" in (r.text or "").lower(), r.text
    finally:
        await b.stop()


async def test_a_webhook_response_that_could_not_be_written_is_sent_as_a_call(tg: Bot, fake: FakeTelegramAPI):
    await tg.say(CITIZEN, "/start")
    update = fake.text_update(CITIZEN, "hỗ trợ chi phí mai táng")
    assert await tg.channel.accept(update, respond=True)
    turn = await tg.channel.turn_reply(update)
    assert turn is not None
    await tg.channel.webhook_sent(turn, written=False)  # Telegram hung up before the response was written
    await tg.channel.join(10)
    assert "Ai đang khai hồ sơ này?" in (fake.last(CITIZEN).text or "")
    assert fake.method_calls("sendMessage")[-1].params["text"] == json.loads(turn.body)["text"]


async def test_multi_choice_toggles_then_done(tg: Bot, fake: FakeTelegramAPI, runtime: Runtime):
    c = CITIZEN
    await tg.say(c, "/start")
    await tg.press(c, "Đăng ký hoạt động cơ sở trợ giúp xã hội")
    for _ in range(4):
        await tg.press(c, "Có")
    await tg.press(c, "Tôi là người đứng đầu cơ sở")  # who is filing
    await tg.say(c, "Mái ấm Tình Thương")
    await tg.say(c, "xa duc trong, lam dong")
    await tg.say(c, "Số 12 đường Lê Lợi")
    m = await tg.say(c, "0977 833 181")  # typed instead of shared: fine too
    assert "Loại hình cơ sở" in m.text
    m = await tg.press(c, "Cơ sở chăm sóc người cao tuổi")
    assert "Cơ sở làm những việc gì?" in m.text and m.labels()[0].startswith("☐ ")
    n = len(fake.sent(c))
    await tg.press(c, "☐ Chăm sóc, nuôi dưỡng")
    await tg.press(c, "☐ Tư vấn")
    await tg.press(c, "☐ Phục hồi")
    await tg.press(c, "✅ Phục hồi")  # pressed again: unselected
    assert len(fake.sent(c)) == n  # toggles edit the keyboard, they send nothing
    assert [lab[:2] for lab in m.labels()[:4]] == ["✅ ", "☐ ", "✅ ", "☐ "]
    m = await tg.press(c, "Xong")
    assert "Cơ sở chăm sóc, phục vụ những ai?" in m.text
    a = await answers(runtime, c)
    assert a["facility.functions"] == ["nuoi_duong", "tu_van"] and a["facility.phone"] == "0977833181"


async def test_a_linked_chat_speaks_the_language_its_account_switched_to(tg: Bot, fake: FakeTelegramAPI,
                                                                          runtime: Runtime):
    """The Telegram chat of a linked account takes its buttons' language from the account's conversation, so
    after the Zalo chat switched to English its buttons are in English too."""
    c = CITIZEN
    await runtime.handle("zalo:77", Incoming(text="hỗ trợ chi phí mai táng"))  # the account's conversation
    out = await runtime.handle("zalo:77", Incoming(text="/lienket"))
    code = re.search(r"Mã liên kết của bạn: (\w+)", out[0].text).group(1)
    await tg.say(c, "/start")
    await tg.say(c, f"/lienket {code}")
    m = await tg.say(c, "tro giup")
    assert "Trợ giúp" in m.labels()
    out = await runtime.handle("zalo:77", Incoming(text="english"))
    assert (await runtime.session("zalo:77")).lang == "en", out
    labels = (await tg.say(c, "help")).labels()
    assert "Help" in labels and "Trợ giúp" not in labels


async def test_after_a_restart_the_channel_answers_in_the_language_the_chat_chose(tg: Bot, fake: FakeTelegramAPI,
                                                                                 runtime: Runtime):
    """The channel's own answers (a voice message it cannot read) are in the chat's language, read from the
    database on the chat's first update after a restart, when nothing is remembered yet."""
    c = CITIZEN
    await tg.say(c, "/start")
    await tg.say(c, "english")
    assert (await runtime.session(f"telegram:{c}")).lang == "en"
    restarted = await Bot(runtime, fake).start()
    try:
        n = len(fake.sent(c))
        await restarted.send(fake.media_update(c, "voice"))
        [m] = fake.sent(c)[n:]
        assert "chỉ đọc được" not in m.text and "text" in m.text, m.text
    finally:
        await restarted.stop()


async def test_crash_after_receipt_is_recovered_at_start(runtime: Runtime, fake: FakeTelegramAPI):
    """An update stored by a process that died before handling it is handled by the next one, in order."""
    ups = [fake.text_update(CITIZEN, "/start"), fake.text_update(CITIZEN, "hỗ trợ chi phí mai táng")]
    async with runtime.sm() as db, db.begin():
        for u in ups:
            # stored as the channel stores it, on the real clock (the inbox purge runs on the real clock too)
            await InboxRepo(db).accept(123456, u, f"telegram:{CITIZEN}", datetime.now(UTC))
    b = await Bot(runtime, fake).start()  # startup recovers the inbox
    try:
        await b.channel.join(20)
        texts = [m.text for m in fake.sent(CITIZEN)]
        assert texts[0].startswith("Xin chào!") and "Ai đang khai hồ sơ này?" in texts[-1]
        await b.send(ups[1])  # Telegram redelivers it after all: ignored
        assert len(fake.sent(CITIZEN)) == len(texts)
    finally:
        await b.stop()


async def test_two_processes_apply_one_update_once(runtime: Runtime, fake: FakeTelegramAPI, db_url, tmp_path, clock):
    """Two workers (say, a restarted process recovering its inbox while the old one still runs) handle the
    same stored update at once: the step and the inbox row commit together, so only one applies it."""
    other = Runtime(db_url, var_dir=tmp_path / "var2", now=clock, catalog=shared_catalog())
    await other.open(migrate=False)
    a = TelegramChannel(runtime, TelegramConfig(token=TOKEN, api_base=fake.base_url, limits=FAST))
    b = TelegramChannel(other, TelegramConfig(token=TOKEN, api_base=fake.base_url, limits=FAST))
    try:
        if not a.hooks:
            pytest.skip("Runtime.handle has no tx_hook yet (see docs/telegram.md)")
        c = f"telegram:{CITIZEN}"
        for u in (fake.text_update(CITIZEN, "/start"), fake.text_update(CITIZEN, "hỗ trợ chi phí mai táng")):
            await a.accept(u)
            await a.join(10)
        u = fake.text_update(CITIZEN, "1")
        async with runtime.sm() as db, db.begin():
            row = await InboxRepo(db).accept(123456, u, c, datetime.now(UTC))
        from bot.telegram.inbox import UpdateJob
        await asyncio.gather(a._process(c, UpdateJob(row, u)), b._process(c, UpdateJob(row, u)))
        assert await answers(runtime, CITIZEN) == {"filer.role": "self"}
        assert a.stats.duplicates + b.stats.duplicates == 1
    finally:
        await a.close()
        await b.close()
        await other.close()


async def test_long_polling_stores_then_handles_and_ignores_replays(runtime: Runtime, fake: FakeTelegramAPI):
    ch = TelegramChannel(runtime, TelegramConfig(token=TOKEN, api_base=fake.base_url, limits=FAST))
    task = asyncio.create_task(ch.run_polling(polling_timeout=1, handle_signals=False))
    try:
        u = fake.text_update(CITIZEN, "/start")
        fake.put_update(u)
        await fake.wait_messages(CITIZEN, 1)
        fake.put_update(dict(u))  # the same update again (e.g. the offset was never confirmed)
        fake.put_update(fake.text_update(CITIZEN, "hồ sơ mai táng"))
        await fake.wait_messages(CITIZEN, 2)
        await asyncio.sleep(0.3)
        await ch.join(10)
        assert len(fake.sent(CITIZEN)) == 2 and ch.stats.duplicates == 1
        assert fake.method_calls("deleteWebhook")
    finally:
        await ch.dp.stop_polling()
        await asyncio.wait_for(task, 10)
        await ch.close()


# ------------------------------------------------------------------------------------------------
# notifications and officers
@dataclass(frozen=True)
class FileReply:
    """What an officer's "open attachment" / "PDF form" reply could look like (see docs/telegram.md)."""

    name: str
    mime: str
    sha256: str | None = None
    data: bytes | None = None
    caption: str | None = None
    type: str = "file"


async def _submit(rt: Runtime, chat: int) -> str:
    from tests.test_officers import submit
    return await submit(rt, user=f"telegram:{chat}")


def _notifier(rt: Runtime, channel: TelegramChannel) -> Notifier:
    n = Notifier(rt.sm, [], now=lambda: rt.now() + timedelta(minutes=1), write=rt.orm_write)  # as `dvcbot telegram`
    channel.attach_notifier(n)
    return n


async def test_citizen_is_notified_through_the_outbox(tg: Bot, fake: FakeTelegramAPI, runtime: Runtime):
    code = await _submit(runtime, CITIZEN)
    stats = await _notifier(runtime, tg.channel).drain()
    assert stats.delivered == 1
    [m] = fake.sent(CITIZEN)
    assert m.text.startswith(f"Biên nhận hồ sơ {code}") and m.reply_markup is None
    # a 429 on a notification: the notifier reschedules it at the time Telegram asked
    async with runtime.sm() as db, db.begin():
        await off.enqueue(db, f"telegram:{CITIZEN}", "test", "t1", "Thông báo thử", runtime.now())
    fake.fail("sendMessage", 1, retry_after=7)
    s = await _notifier(runtime, tg.channel).drain()
    assert s.retried == 1 and s.delivered == 0 and tg.channel.limiter.halt_until > time.monotonic() + 5


async def test_a_long_notification_cut_by_a_429_or_a_network_error_resumes_where_it_stopped(
        tg: Bot, fake: FakeTelegramAPI, runtime: Runtime):
    """A notification sent as three messages: a 429 after the first and a 5xx after the second. Each retry sends
    only the parts Telegram has not accepted yet, and the buttons come once, under the last part."""
    blocks = [f"Phần {i}: " + f"nội dung thông báo dài số {i}. " * 110 for i in (1, 2, 3)]
    text = "\n\n".join(blocks)
    assert [c.split(":")[0] for c in split_text(text)] == ["Phần 1", "Phần 2", "Phần 3"]
    async with runtime.sm() as db, db.begin():
        await off.enqueue(db, f"telegram:{CITIZEN}", "test", "long1", text, runtime.now(),
                           choices=[("a", "Xem hồ sơ"), ("b", "Nhận xử lý")])
    fake.fail("sendMessage", 1, retry_after=1, after=1)
    s = await _notifier(runtime, tg.channel).drain()
    assert s.retried == 1 and s.delivered == 0
    assert [m.text.split(":")[0] for m in fake.sent(CITIZEN)] == ["Phần 1"]
    fake.fail("sendMessage", 1, status=502, description="Bad Gateway", after=1)
    later = Notifier(runtime.sm, [], now=lambda: runtime.now() + timedelta(minutes=10), write=runtime.orm_write)
    tg.channel.attach_notifier(later)
    s = await later.drain()
    assert s.retried == 1 and s.delivered == 0
    assert [m.text.split(":")[0] for m in fake.sent(CITIZEN)] == ["Phần 1", "Phần 2"]
    last = Notifier(runtime.sm, [], now=lambda: runtime.now() + timedelta(hours=2), write=runtime.orm_write)
    tg.channel.attach_notifier(last)
    s = await last.drain()
    assert s.delivered == 1
    sent = fake.sent(CITIZEN)
    assert [m.text for m in sent] == split_text(text)  # each part exactly once, in order
    assert [m.labels() for m in sent] == [[], [], ["Xem hồ sơ", "Nhận xử lý"]]
    # 1 + 2 + 1 sendMessage calls that got through, 2 that failed: nothing was sent twice
    assert [c.status for c in fake.method_calls("sendMessage")] == [200, 429, 200, 502, 200]
    # the buttons are the ones stored on the first try (one stored set), and work
    from storage.channel_models import TelegramButton
    async with runtime.sm() as db:
        rows = (await db.execute(TelegramButton.__table__.select().where(
            TelegramButton.chat_key == f"telegram:{CITIZEN}"))).all()
    assert len(rows) == 1 and sent[-1].buttons()[0]["callback_data"].startswith(f"p:{rows[0].token}")
    n = len(sent)
    await tg.press(CITIZEN, "Xem hồ sơ", sent[-1])
    assert len(fake.sent(CITIZEN)) > n


async def test_officer_approves_a_dossier_through_buttons(tg: Bot, fake: FakeTelegramAPI, runtime: Runtime):
    officer_chat = 777
    async with runtime.sm() as db, db.begin():
        _o, invite = await off.add_officer(db, full_name="Lê Thị Hoa", agency="commune", commune_code="25222",
                                          role=lc.LEADER, now=runtime.now())
    m = await tg.say(officer_chat, f"/canbo {invite}")
    assert "Xin chào Lê Thị Hoa" in all_text(fake, officer_chat)
    code = await _submit(runtime, CITIZEN)
    notifier = _notifier(runtime, tg.channel)
    await notifier.drain()
    push = fake.last(officer_chat)
    assert f"Hồ sơ mới {code}" in push.text and push.labels() == ["Xem hồ sơ", "Nhận xử lý"]
    assert all(b["callback_data"].startswith("p:") for b in push.buttons())
    assert fake.last(CITIZEN).text.startswith(f"Biên nhận hồ sơ {code}")

    m = await tg.press(officer_chat, "Nhận xử lý", push)
    assert "Bạn đã nhận xử lý hồ sơ" in all_text(fake, officer_chat)
    m = await tg.press(officer_chat, "Tiếp nhận")
    assert "Đã tiếp nhận hồ sơ" in all_text(fake, officer_chat)
    assert "vẫn do bạn xử lý" in all_text(fake, officer_chat)  # a leader alone: no second claim
    m = await tg.press(officer_chat, "Duyệt")
    assert "Số, ký hiệu văn bản kết quả" in m.text and m.labels() == ["Hủy"]
    m = await tg.say(officer_chat, "123/QĐ-UBND")
    assert "Duyệt hồ sơ" in m.text and m.labels()[:2] == ["Đồng ý", "Sửa"]  # shown back before it is done
    m = await tg.press(officer_chat, "Đồng ý")
    assert f"Đã duyệt hồ sơ {code} (số 123/QĐ-UBND)" in all_text(fake, officer_chat)
    async with runtime.sm() as db:
        assert (await LegRepo(db).dossier(code)).status == lc.APPROVED

    await notifier.drain()
    citizen = all_text(fake, CITIZEN)
    assert f"Hồ sơ {code}" in citizen and "đã được tiếp nhận" in citizen
    assert "đã được duyệt, số văn bản kết quả: 123/QĐ-UBND" in citizen
    # the push keeps its buttons, usable later whatever the officer was asked meanwhile
    n = len(fake.sent(officer_chat))
    await tg.press(officer_chat, "Xem hồ sơ", push)
    later = "\n".join(x.text or "" for x in fake.sent(officer_chat)[n:])
    assert f"📄 {code}" in later and "Đã duyệt, chờ trả kết quả" in later

    # files an officer opens (an attachment from the store, a generated PDF) go out as documents
    sha = runtime.attachments.put(jpeg(9))
    ask = Ask(text="Bạn muốn làm gì với hồ sơ này?", procedure=None, field="officer.dossier", kind="choice",
              choices=(ChoiceOut("queue", "Về hàng đợi"),))
    await tg.channel.deliver(officer_chat, [FileReply("giay-bao-tu.jpg", "image/jpeg", sha256=sha,
                                                      caption="Giấy báo tử"),
                                            FileReply("MT-1.pdf", "application/pdf", data=pdf()), ask])
    docs = [x for x in fake.sent(officer_chat) if x.kind == "document"]
    assert {c.content_type for c in fake.method_calls("sendDocument")} == {"multipart/form-data"}  # (files)
    assert [(d.file, d.file_name, d.text) for d in docs] == [(jpeg(9), "giay-bao-tu.jpg", "Giấy báo tử"),
                                                             (pdf(), "MT-1.pdf", None)]
    assert fake.last(officer_chat).labels() == ["Về hàng đợi"]


# ------------------------------------------------------------------------------------------------
# rendering (no network)
async def test_officer_ticks_supplement_items_in_place(tg: Bot, fake: FakeTelegramAPI, runtime: Runtime):
    officer_chat = 778
    async with runtime.sm() as db, db.begin():
        _o, invite = await off.add_officer(db, full_name="Lê Thị Hoa", agency="commune", commune_code="25222",
                                          role=lc.LEADER, now=runtime.now())
    await tg.say(officer_chat, f"/canbo {invite}")
    code = await _submit(runtime, CITIZEN)
    await _notifier(runtime, tg.channel).drain()
    await tg.press(officer_chat, "Nhận xử lý", fake.last(officer_chat))
    m = await tg.press(officer_chat, "Yêu cầu bổ sung")
    assert "Theo phần:" in m.text and all(lab.startswith("☐ ") for lab in m.labels()[:-2])
    assert m.labels()[-2:] == ["Xong", "Hủy"] and "☐ Họ và tên (người mất)" in m.labels()
    n = len(fake.sent(officer_chat))
    await tg.press(officer_chat, "☐ Họ và tên (người mất)")
    await tg.press(officer_chat, "☐ Số điện thoại")
    await tg.press(officer_chat, "☐ Ngày sinh (người mất)")
    await tg.press(officer_chat, "✅ Ngày sinh (người mất)")  # pressed again: unticked
    assert len(fake.sent(officer_chat)) == n  # each tick edits the same message's keyboard, nothing new is sent
    ticked = [lab for lab in m.labels() if lab.startswith("✅ ")]
    assert ticked == ["✅ Họ và tên (người mất)", "✅ Số điện thoại"]
    m = await tg.press(officer_chat, "Xong")
    assert "Lý do yêu cầu bổ sung" in m.text
    await tg.say(officer_chat, "Họ tên và số điện thoại cần kiểm tra lại.")
    async with runtime.sm() as db:
        d = await LegRepo(db).dossier(code)
        [req] = await SupplementRepo(db).open_for_leg((await LegRepo(db).of_dossier(d.id))[0].id)
    assert req.fields == ["deceased.full_name", "contact.phone"]


def test_long_texts_are_split_under_the_limit():
    _ = translator("vi")
    para = "Đoạn văn có dấu tiếng Việt và biểu tượng 📄. " * 40
    long = "\n\n".join([para] * 6)
    chunks = split_text(long)
    assert len(chunks) >= 3 and all(utf16_len(c) <= 4096 for c in chunks)
    assert "".join(chunks).replace("\n", "").replace(" ", "") == long.replace("\n", "").replace(" ", "")
    ask = Ask(text="Câu hỏi?", procedure="p", field="f", kind="yes_no",
              choices=(ChoiceOut("yes", "Có"), ChoiceOut("no", "Không")), step="Bước 2/4", step_no=2, step_total=4,
              nav=("nav:back", "nav:help", "nav:cancel"))
    bubbles = render([Message("ngắn"), Message(long, error=True), ask], _)
    assert all(utf16_len(b.text) <= 4096 for b in bubbles) and bubbles[0].text.startswith("ngắn\n\n⚠️")
    assert bubbles[-1].markup is not None and bubbles[-1].text.endswith("Câu hỏi?")
    assert "▰▰▰▰▰▱▱▱▱▱ Bước 2/4" in bubbles[-1].text
    rows = bubbles[-1].markup.inline_keyboard
    assert [b.text for b in rows[0]] == ["Có", "Không"] and [b.text for b in rows[1]] == ["Quay lại", "Hủy",
                                                                                           "Trợ giúp"]
    english = render([ask], translator("en"))
    assert [b.text for b in english[-1].markup.inline_keyboard[1]] == ["Back", "Cancel", "Help"]


def test_a_question_asked_again_gets_the_kept_keyboard_in_its_own_words():
    """The same question (same words, same ticks) gets the very keyboard made for it before; another language,
    other labels, other ticks or another question each get their own."""
    vi, en = translator("vi"), translator("en")
    ask = Ask(text="Câu hỏi?", procedure="p", field="f", kind="yes_no",
              choices=(ChoiceOut("yes", "Có"), ChoiceOut("no", "Không")), nav=("nav:back", "nav:cancel"))
    token = ask_token(ask)
    kb = inline_keyboard(ask, token, vi)
    assert inline_keyboard(ask, token, vi) is kb and ask_token(ask) == token
    assert [b.text for b in inline_keyboard(ask, token, en).inline_keyboard[1]] == ["Back", "Cancel"]
    relabelled = replace(ask, choices=(ChoiceOut("yes", "Yes"), ChoiceOut("no", "No")))
    assert ask_token(relabelled) == token  # (the same values: a press on the older keyboard still counts)
    assert [b.text for b in inline_keyboard(relabelled, token, vi).inline_keyboard[0]] == ["Yes", "No"]
    other = replace(ask, field="g")
    assert ask_token(other) != token
    multi = replace(ask, kind="multi_choice", multi=True)
    t = ask_token(multi)
    assert [r[0].text for r in inline_keyboard(multi, t, vi, [1]).inline_keyboard[:2]] == ["☐ Có", "✅ Không"]
    assert [r[0].text for r in inline_keyboard(multi, t, vi, [0]).inline_keyboard[:2]] == ["✅ Có", "☐ Không"]
    assert inline_keyboard(multi, t, vi, [1]) is inline_keyboard(multi, t, vi, (1,))


async def test_a_press_is_read_without_the_keyboard_telegram_sends_back(tg: Bot, fake: FakeTelegramAPI,
                                                                        runtime: Runtime):
    """Telegram sends the pressed message's whole inline keyboard back with every press; no handler reads it, so
    it is neither stored in the inbox nor read into aiogram's models. The press works as before."""
    from sqlalchemy import select
    c = CITIZEN
    await tg.say(c, "/start")
    u = fake.press(c, "Hỗ trợ chi phí mai táng")
    kept = json.dumps(u, sort_keys=True)
    lean = without_echo(u)
    assert "reply_markup" in u["callback_query"]["message"] and json.dumps(u, sort_keys=True) == kept
    assert "reply_markup" not in lean["callback_query"]["message"]
    assert lean["callback_query"]["data"] == u["callback_query"]["data"] and lean["update_id"] == u["update_id"]
    assert lean["callback_query"]["message"]["text"] == u["callback_query"]["message"]["text"]
    assert without_echo(lean) is lean and without_echo(fake.text_update(c, "xin chào"))["message"]["text"] == "xin chào"
    stored: list[str] = []
    tg.channel.queues.put = lambda key, job: stored.append(json.dumps(job.raw))  # type: ignore[method-assign]
    assert await tg.channel.accept(u)  # stored first (as polling stores it), not yet handled: the row as kept
    async with runtime.sm() as db:
        payload = (await db.execute(select(TelegramUpdate.payload).where(
            TelegramUpdate.update_id == u["update_id"]))).scalar_one()
    assert payload == lean and "reply_markup" not in stored[0]
    del tg.channel.queues.put
    await tg.channel.recover()  # handled from the row: the press works as before
    await tg.channel.join(20)
    assert "Ai đang khai hồ sơ này?" in fake.last(c).text


async def test_an_update_of_an_idle_chat_is_stored_by_its_own_step(tg: Bot, fake: FakeTelegramAPI, runtime: Runtime):
    """On the embedded store, a typed message or a press of a chat with nothing under way is stored by its step's
    own transaction (one commit, not two), and the webhook answers Telegram once that has committed. An update
    that turns out to be no step (it does not parse, or an older one of the chat waits) is stored on its own
    first, and handled as before."""
    from sqlalchemy import select
    c = CITIZEN
    await tg.say(c, "/start")
    store = runtime.chats
    traced: list[str] = []
    embedded = bool(getattr(store, "single_writer", False))
    if embedded:
        store.conn.set_trace_callback(traced.append)
    try:
        await tg.press(c, "Hỗ trợ chi phí mai táng")
        m = await tg.say(c, "1")
    finally:
        if embedded:
            store.conn.set_trace_callback(None)
    assert "Người mất" in m.text or "người mất" in m.text
    assert (await answers(runtime, c)) == {"filer.role": "self"}
    if embedded:  # each update's row and its step's conversation in one transaction
        txs: list[list[str]] = [[]]
        for sql in traced:
            txs[-1].append(sql)
            if sql.startswith(("COMMIT", "ROLLBACK")):
                txs.append([])
        stored = [t for t in txs if any(x.startswith("INSERT INTO telegram_updates") for x in t)]
        assert len(stored) == 2, [t[:3] for t in txs]
        assert all(any(x.startswith("UPDATE conversations") for x in t) and t[-1] == "COMMIT" for t in stored)

    # an update that does not parse: stored on its own (as refused), the person told, Telegram answered 200
    bad = fake.text_update(c, "xin chào")
    bad["message"]["from"] = {"id": "not a number", "is_bot": False, "first_name": "Dân"}
    n = len(fake.sent(c))
    assert await tg.post(bad) == 200
    await tg.channel.join(20)
    assert len(fake.sent(c)) == n + 1 and "chỉ đọc được tin nhắn chữ" in fake.last(c).text
    async with runtime.sm() as db:
        st = (await db.execute(select(TelegramUpdate.status).where(
            TelegramUpdate.update_id == bad["update_id"]))).scalar_one()
    assert st == "failed"

    # an older update of the chat still waits in the inbox: the newer one is stored, the older applied first
    older, newer = fake.text_update(c, "1"), fake.text_update(c, "2")  # I agree; then the cause: a fire
    async with runtime.sm() as db, db.begin():
        await InboxRepo(db).accept(tg.channel.bot_id, older, f"telegram:{c}", datetime.now(UTC))
    await tg.send(newer)
    assert await answers(runtime, c) == {"filer.role": "self", "consent.sensitive": True, "deceased.cause": "hoa_hoan"}
    async with runtime.sm() as db:
        sts = (await db.execute(select(TelegramUpdate.status).where(
            TelegramUpdate.update_id.in_((older["update_id"], newer["update_id"]))))).scalars().all()
    assert len(sts) == 2 and set(sts) <= {"done", "replying"}
    assert tg.channel.stats.failed == 0 and tg.channel.stats.late == 0


async def test_a_press_asks_the_next_question_without_waiting_for_the_mark(tg: Bot, fake: FakeTelegramAPI):
    """The pressed question is marked (editMessageText) while the step runs: the next question does not wait
    for that round trip, and a mark that fails leaves the step standing."""
    c = CITIZEN
    await tg.say(c, "/start")
    gate = fake.hold("editMessageText")
    press = asyncio.ensure_future(tg.press(c, "Hỗ trợ chi phí mai táng"))

    async def next_question_and_the_mark_held() -> None:  # (the two requests may reach the API in either order)
        while not any("Ai đang khai hồ sơ này?" in (m.text or "") for m in fake.sent(c)) \
                or not fake.method_calls("editMessageText"):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(next_question_and_the_mark_held(), 20)  # it comes while the API still holds the mark
    assert not press.done()
    assert not (fake.sent(c)[0].text or "").endswith("➡️ Hỗ trợ chi phí mai táng (trợ giúp đột xuất)")
    gate.set()
    await press
    assert fake.sent(c)[0].text.endswith("➡️ Hỗ trợ chi phí mai táng (trợ giúp đột xuất)")
    # the API refuses the next mark for good: the answer is kept all the same, and the next question comes
    asked = len(fake.sent(c))
    fake.fail("editMessageText", 10, status=400, description="Bad Request: message can't be edited")
    await tg.press(c, "Tôi khai giúp người khác")
    assert (await answers(tg.rt, c))["filer.role"] != "self" and len(fake.sent(c)) == asked + 1
    assert not fake.sent(c)[asked - 1].text.endswith("➡️ Tôi khai giúp người khác")


async def test_a_press_is_answered_in_the_webhook_response_and_costs_two_bot_api_calls(tg: Bot,
                                                                                        fake: FakeTelegramAPI):
    c = CITIZEN
    await tg.say(c, "/start")
    made, replied = tg.channel.out.stats.calls, len(tg.webhook_replies)
    m = await tg.press(c, "Hỗ trợ chi phí mai táng")
    assert "Ai đang khai hồ sơ này?" in m.text
    # answerCallbackQuery rides on the webhook's 200 (Telegram makes that call); the bot itself makes two:
    # the pressed question shows the choice (editMessageText) and the next question (sendMessage)
    [reply] = tg.webhook_replies[replied:]
    assert reply["method"] == "answerCallbackQuery"
    assert reply["callback_query_id"] == fake.callback_answers[-1]["callback_query_id"]
    assert tg.channel.out.stats.calls - made == 2
    assert fake.sent(c)[0].text.endswith("➡️ Hỗ trợ chi phí mai táng (trợ giúp đột xuất)")
    # both go as one JSON body each (aiogram would URL-encode them), the keyboard as a JSON object in it
    edit, ask = fake.method_calls("editMessageText")[-1], fake.method_calls("sendMessage")[-1]
    assert edit.content_type == ask.content_type == "application/json"
    assert ask.params["reply_markup"]["inline_keyboard"] and isinstance(ask.params["chat_id"], int)
    # a press on an old question's button is left to the handler, which says the button is stale
    role_question = dataclasses.replace(fake.last(c))
    await tg.say(c, "1")  # answered by typing (its reply rides on the webhook's response: see below)
    await tg.press(c, "Tôi khai giúp người khác", role_question)
    assert [r["method"] for r in tg.webhook_replies[replied:]] == ["answerCallbackQuery", "sendMessage"]
    assert fake.callback_answers[-1]["text"].startswith("Nút này đã cũ")


async def test_replies_of_a_committed_turn_survive_a_kill_before_they_are_sent(runtime: Runtime,
                                                                               fake: FakeTelegramAPI):
    """The process dies after the step committed and before its replies went out (here: its workers are
    cancelled while the Bot API is slow). The next process sends those replies first, once, then goes on."""
    from sqlalchemy import select
    a = await Bot(runtime, fake, reply_wait=0).start()  # (no reply rides on the webhook's response)
    await a.send(fake.text_update(CITIZEN, "/start"))
    fake.latency = 30  # every Bot API answer now takes 30 s: the next turn commits, its send hangs
    assert await a.post(fake.text_update(CITIZEN, "hỗ trợ chi phí mai táng")) == 200
    for _ in range(400):
        async with runtime.sm() as db:
            held = (await db.execute(select(TelegramUpdate.status).where(
                TelegramUpdate.status == "replying"))).scalars().all()
        if held:
            break
        await asyncio.sleep(0.025)
    assert held == ["replying"]
    before = len(fake.sent(CITIZEN))
    await a.channel.stop(drain=0)  # the kill: queued work is cancelled mid-send
    await a.http.close()
    await a.runner.cleanup()
    await a.channel.bot.session.close()
    fake.latency = 0
    assert (await runtime.session(f"telegram:{CITIZEN}")).draft.procedure == "ho-tro-chi-phi-mai-tang"
    b = await Bot(runtime, fake).start()  # the next process: startup sends what was held
    try:
        await b.channel.join(20)
        after = [m.text for m in fake.sent(CITIZEN)[before:]]
        assert sum("Ai đang khai hồ sơ này?" in (t or "") for t in after) == 1, after
        async with runtime.sm() as db:
            assert not (await db.execute(select(TelegramUpdate.id).where(
                TelegramUpdate.status == "replying"))).first()
        r = await b.say(CITIZEN, "1")  # and the conversation goes on from there
        assert "lý do gì" in (r.text or "") or "đồng ý" in (r.text or "").lower(), r.text
    finally:
        await b.stop()


async def test_a_locked_database_keeps_every_message_and_says_the_system_is_busy(sqlite_url, tmp_path, clock,
                                                                                  fake: FakeTelegramAPI,
                                                                                  monkeypatch):
    """Another process holds the SQLite write lock: the webhook answers 503 (Telegram posts the update again) and
    the person hears “Hệ thống đang bận” once; an update already stored waits in the inbox and is applied once the
    lock is gone; the health endpoint says so meanwhile. Nothing is half-written or dropped."""
    import sqlite3
    monkeypatch.setenv("DVCBOT_DB_BUSY_SECONDS", "0.3")
    rt = Runtime(sqlite_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog())
    await rt.open(migrate=False)
    b = await Bot(rt, fake, retry_delay=0.05, busy_retry_max=0.2).start()
    path = sqlite_url.split("///", 1)[1]
    lock = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
    try:
        await b.send(fake.text_update(CITIZEN, "/start"))
        health = b.url.replace("/telegram/webhook", "/healthz")
        async with b.http.get(health) as r:
            assert r.status == 200 and (await r.json())["db"] == "ok"
        # 1. the lock is taken before the update arrives: 503, and the person is told, once
        await asyncio.to_thread(lock.execute, "BEGIN IMMEDIATE")
        async with b.http.get(health) as r:
            assert r.status == 503 and (await r.json())["db"] == "unavailable"
        update = fake.text_update(CITIZEN, "hỗ trợ chi phí mai táng")
        assert await b.post(update) == 503
        assert await b.post(update) == 503  # Telegram tries again: still busy, not told twice
        busy = [m for m in fake.sent(CITIZEN) if "Hệ thống đang bận" in (m.text or "")]
        assert len(busy) == 1
        await asyncio.to_thread(lock.execute, "ROLLBACK")
        await b.send(update)  # posted again once the lock is gone: applied
        assert "Ai đang khai hồ sơ này?" in (fake.last(CITIZEN).text or "")
        # 2. the lock is taken after the update is stored: it waits in the inbox and is applied afterwards
        fake.latency = 0.5  # the turn before it is still sending when the lock is taken
        await b.post(fake.text_update(CITIZEN, "1"))
        stored = fake.text_update(CITIZEN, "đồng ý")  # the consent before the cause of death
        assert await b.post(stored) == 200
        await asyncio.to_thread(lock.execute, "BEGIN IMMEDIATE")
        await asyncio.sleep(1.5)
        await asyncio.to_thread(lock.execute, "ROLLBACK")
        fake.latency = 0
        await b.channel.join(20)
        async with rt.sm() as db:
            assert await InboxRepo(db).status(123456, stored["update_id"]) == "done"
        s = await rt.session(f"telegram:{CITIZEN}")
        assert s.draft.answers.get("filer.role") == "self"
        assert s.draft.answers.get("consent.sensitive") is True
    finally:
        lock.close()
        await b.stop()
        await rt.close()


def test_every_filter_of_the_router_runs_on_the_event_loop():
    """aiogram runs a filter that is a plain callable (a bare ``F.text``) in a worker thread, a thread hop per check
    on every update: the router's filters are all awaitable."""
    from bot.telegram.handlers import build_router

    router = build_router()
    filters = [f for observer in router.observers.values() for h in observer.handlers for f in h.filters or []]
    assert len(filters) >= 5
    assert all(f.awaitable for f in filters), [f.callback for f in filters if not f.awaitable]
