"""The Zalo channel, end to end: our webhook app (or the long-polling loop) on 127.0.0.1 against a fake Zalo Bot
API server (tests/fakes/zalo_api.py); real databases (SQLite, and PostgreSQL when DVCBOT_TEST_PG is set)."""
from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientSession, web

from bot import cases as off
from bot.inbound import InboundLimits
from bot.notifier import Limits, Notifier
from bot.service import Runtime
from bot.zalo import ZaloChannel, ZaloConfig
from bot.zalo.render import render, split_text
from dialogs.i18n import translator
from dialogs.messages import Ask, ChoiceOut, Message
from storage.account_models import ZaloUpdate
from storage.officers_repo import LegRepo
from storage.repo import DossierRepo
from tests.conftest import jpeg
from tests.fakes.zalo_api import FakeZaloAPI

SECRET = "zalo-s3cret-Token"
CITIZEN = "e4ea2cd5189df1c3a88c"
PROC = "ho-tro-chi-phi-mai-tang"
TITLE = "Hỗ trợ chi phí mai táng (trợ giúp đột xuất)"  # typed in full: picks the procedure by its title
FAST = Limits(0.0, 1000.0, 1000.0)
OPEN = InboundLimits(chat_rate=1000.0, chat_burst=1000.0, global_rate=10_000.0, global_burst=10_000.0)


@pytest.fixture
async def fake():
    api = await FakeZaloAPI().start()
    yield api
    await api.stop()


class Bot:
    """Our Zalo channel, fed through its webhook (``mode="webhook"``) or by long polling the fake."""

    def __init__(self, rt: Runtime, fake: FakeZaloAPI, mode: str = "webhook", **config: Any):
        self.rt, self.fake, self.mode = rt, fake, mode
        cfg = dict(token=fake.token, api_base=fake.base_url, secret=SECRET, limits=FAST, retry_delay=0.05,
                   inbound=OPEN)
        cfg.update(config)
        self.channel = ZaloChannel(rt, ZaloConfig(**cfg))
        self.channel.out.backoff = 0.01
        self.runner: web.AppRunner | None = None
        self.http: ClientSession | None = None
        self.poller: asyncio.Task | None = None
        self.stop_polling = asyncio.Event()
        self.url = self.base = ""

    async def start(self) -> Bot:
        self.http = ClientSession()
        if self.mode == "webhook":
            self.runner = web.AppRunner(self.channel.webhook_app(), access_log=None)
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]
            self.base = f"http://127.0.0.1:{port}"
            self.url = self.base + "/zalo/webhook"
        else:
            self.poller = asyncio.create_task(self.channel.run_polling(poll_timeout=1, stop=self.stop_polling))
        return self

    async def stop(self) -> None:
        if self.poller is not None:
            self.stop_polling.set()
            await asyncio.wait_for(self.poller, 10)
            await self.channel.close()
        if self.runner:
            await self.runner.cleanup()
            await self.channel.close()  # its tasks end here, not mid-query when the test's event loop closes
        if self.http:
            await self.http.close()

    async def post(self, update: Any, secret: str | None = SECRET) -> int:
        headers = {"X-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with self.http.post(self.url, json=update, headers=headers) as r:
            return r.status

    async def send(self, update: dict) -> None:
        if self.mode == "webhook":
            assert await self.post(update) == 200
        else:
            seen = self.channel.stats.accepted + self.channel.stats.duplicates
            self.fake.put_update(update)
            for _ in range(1000):
                if self.channel.stats.accepted + self.channel.stats.duplicates > seen:
                    break
                await asyncio.sleep(0.01)
        await self.channel.join(20)

    async def say(self, chat: str, text: str) -> str:
        await self.send(self.fake.text_update(chat, text))
        return self.fake.last(chat).text or ""

    async def pick(self, chat: str, label: str) -> str:
        """Answer with the number of the choice ``label`` (exactly, or as a prefix) in the last message."""
        number = choice_number(self.fake.last(chat).text or "", label)
        return await self.say(chat, number)


def choice_number(text: str, label: str) -> str:
    lines = re.findall(r"^(\d+)\. (.+)$", text, re.M)
    for n, lab in lines:
        if lab == label:
            return n
    for n, lab in lines:
        if lab.startswith(label):
            return n
    raise AssertionError(f"no choice {label!r} in {text!r}")


async def answers(rt: Runtime, chat: str) -> dict:
    s = await rt.session(f"zalo:{chat}")
    return dict(s.draft.answers) if s.draft else {}


def all_text(fake: FakeZaloAPI, chat: str) -> str:
    return "\n".join(m.text or "" for m in fake.sent(chat))


async def funeral(z: Bot, c: str) -> None:
    """The whole funeral-support procedure in typed text and numbers, with a photo of the death notice."""
    first = await z.say(c, "/start")
    assert first.startswith("Xin chào!") and "Hỗ trợ chi phí mai táng (trợ giúp đột xuất)" in first
    m = await z.pick(c, "Hỗ trợ chi phí mai táng")
    assert "Ai đang khai hồ sơ này?" in m and "Bước 1/" in m and "Gõ số thứ tự" in m
    assert "(Có thể gõ: “hủy” · “trợ giúp”)" in m
    m = await z.pick(c, "Tôi là người đứng ra mai táng")
    assert "nguyên nhân người mất" in m and "1. Tôi đồng ý" in m  # consent: the cause of death is health data
    m = await z.pick(c, "Tôi đồng ý")
    assert "Người mất qua đời (hoặc mất tích) vì lý do gì?" in m and "“quay lại”" in m
    await z.pick(c, "Thiên tai")
    m = await z.say(c, "nguyễn văn an")
    assert "Ngày tháng năm sinh" in m
    m = await z.say(c, "31/02/1950")
    assert m.startswith("⚠️") and "Ngày tháng năm sinh" in m
    await z.say(c, "5/3/1950")
    m = await z.pick(c, "Nam")
    assert "Dân tộc" in m
    for text in ("Kinh", "Lâm Đồng", "duc trong", "Thôn 3", "1", "10/11/2026", "12/11/2026"):
        await z.say(c, text)
    m = await z.say(c, "Nghĩa trang thôn 3")
    assert "Ai đứng ra mai táng" in m
    await z.pick(c, "Hộ gia đình hoặc cá nhân")
    for text in ("Nguyễn Văn Bình", "01/02/1975"):
        await z.say(c, text)
    m = await z.say(c, "068 075 001 234")
    assert "CCCD cấp ngày nào" in m and "“bỏ qua”" in m
    await z.say(c, "bỏ qua")
    await z.say(c, "Lâm Đồng")
    await z.say(c, "Đức Trọng")
    m = await z.say(c, "Thôn 3")
    assert "\n1. Có\n2. Không\n" in m  # yes/no as numbered choices
    await z.say(c, "1")
    m = await z.say(c, "con trai")
    assert "Số điện thoại để cán bộ liên hệ" in m
    m = await z.say(c, "0912 345 678")
    assert "giấy báo tử" in m and "📎" in m
    await z.send(z.fake.image_update(c, jpeg(1)))
    m = z.fake.last(c).text
    assert "Đã nhận 1 tệp" in m and "“Xong”" in m
    await z.say(c, "xong")
    m = z.fake.last(c).text
    assert "Thông tin đã đúng chưa?" in m
    await z.pick(c, "Đúng, nộp hồ sơ")
    await z.pick(c, "Tôi xin cam đoan")


async def check_submitted(rt: Runtime, fake: FakeZaloAPI, c: str) -> Any:
    text = all_text(fake, c)
    assert "Đã nộp hồ sơ thành công" in text and "Mã hồ sơ: MT-" in text
    async with rt.sm() as db:
        [d] = await DossierRepo(db).list()
    assert d.submitter_key == f"zalo:{c}" and d.answers["applicant.id_number"] == "068075001234"
    assert d.answers["contact.phone"] == "0912345678" and d.answers["deceased.birth_date"] == "1950-03-05"
    assert [a.mime for a in d.attachments] == ["image/jpeg"]
    assert rt.attachments.get(d.attachments[0].sha256) == jpeg(1)
    assert all(len(m.text or "") <= 2000 for m in fake.sent(c))
    # 408 is how getUpdates says “nothing new” when a long poll ends empty (a slow machine): not an error
    assert not [x for x in fake.calls if x.status >= 400 and not (x.method == "getupdates" and x.status == 408)]
    return d


# ------------------------------------------------------------------------------------------------
async def test_full_funeral_procedure_over_the_webhook_with_a_photo_and_the_pdf_link(runtime: Runtime,
                                                                                    fake: FakeZaloAPI):
    z = Bot(runtime, fake)
    z.channel.config.public_url = "http://placeholder"
    await z.start()
    try:
        z.channel.config.public_url = z.base  # the PDF copy of the form: a signed link served by our app
        await funeral(z, CITIZEN)
        d = await check_submitted(runtime, fake, CITIZEN)
        # the form copy follows from the outbox: the notifier renders it and posts its signed link
        assert "Tải tệp" not in all_text(fake, CITIZEN)
        await _notifier(runtime, z.channel).drain()
        text = all_text(fake, CITIZEN)
        assert text.count(f"Bản sao tờ khai (PDF) của bạn: {d.code}.pdf") == 1
        link = re.search(r"Tải tệp “" + re.escape(d.code) + r"\.pdf” tại: (\S+)", text)
        assert link, text
        async with z.http.get(link.group(1)) as r:
            assert r.status == 200 and (await r.read()).startswith(b"%PDF")
        async with z.http.get(link.group(1).replace("/zalo/files/", "/zalo/files/0")) as r:
            assert r.status in (403, 404)
        async with runtime.sm() as db:
            rows = list((await db.execute(ZaloUpdate.__table__.select())).mappings())
        assert rows and {r["status"] for r in rows} == {"done"} and all(r["payload"] == {} for r in rows)
    finally:
        await z.stop()


async def test_full_funeral_procedure_by_long_polling(runtime: Runtime, fake: FakeZaloAPI):
    z = await Bot(runtime, fake, mode="polling").start()
    try:
        await funeral(z, CITIZEN)
        await check_submitted(runtime, fake, CITIZEN)
        await _notifier(runtime, z.channel).drain()  # the form copy, from the outbox
        assert "Zalo chưa cho phép trợ lý gửi tệp" in all_text(fake, CITIZEN)  # no public URL: a note
        assert fake.method_calls("deleteWebhook") and fake.method_calls("sendChatAction")
    finally:
        await z.stop()


async def test_duplicates_are_handled_once_and_a_wrong_secret_is_refused(runtime: Runtime, fake: FakeZaloAPI):
    z = await Bot(runtime, fake).start()
    try:
        c = CITIZEN
        await z.say(c, "/start")
        u = fake.text_update(c, TITLE)
        statuses = await asyncio.gather(*(z.post(u) for _ in range(3)))
        assert statuses == [200, 200, 200]
        await z.channel.join(20)
        await z.send({"ok": True, "result": u})  # the wrapped shape, later: the same update
        assert len([m for m in fake.sent(c) if "Ai đang khai hồ sơ này?" in (m.text or "")]) == 1
        assert z.channel.stats.duplicates == 3
        # a wrong or missing secret: refused before anything is stored
        other = fake.text_update("someone-else", "/start")
        assert await z.post(other, secret="wrong-secret") == 401
        assert await z.post(other, secret=None) == 401
        async with z.http.post(z.url, data=b"{not json", headers={"X-Bot-Api-Secret-Token": SECRET}) as r:
            assert r.status == 400
        await z.channel.join(5)
        assert fake.sent("someone-else") == [] and z.channel.stats.accepted == 2
        async with runtime.sm() as db:
            rows = list((await db.execute(ZaloUpdate.__table__.select())).mappings())
        assert len(rows) == 2
        # no /start on Zalo: a first message gets the greeting; one that names a procedure, the first question too
        m = await z.say("new-1", "Xin chào")
        assert m.startswith("Xin chào!") and "Bạn cần làm thủ tục nào?" in m and "⚠️" not in m
        await z.say("new-2", "mai táng người chết do thiên tai")
        m = all_text(fake, "new-2")
        assert m.startswith("Xin chào!") and "Ai đang khai hồ sơ này?" in m and "⚠️" not in m
        # a sticker is explained and changes nothing
        before = await answers(runtime, c)
        await z.send(fake.sticker_update(c))
        assert "chỉ đọc được tin nhắn chữ và ảnh chụp" in fake.last(c).text
        assert await answers(runtime, c) == before
    finally:
        await z.stop()


async def test_a_reply_waits_out_429_and_retries_5xx(runtime: Runtime, fake: FakeZaloAPI):
    z = await Bot(runtime, fake).start()
    try:
        await z.say(CITIZEN, "/start")
        fake.fail("sendMessage", 1, retry_after=1)
        fake.fail("sendMessage", 1, status=502, description="Bad Gateway")
        m = await z.say(CITIZEN, TITLE)
        assert "Ai đang khai hồ sơ này?" in m
        assert [c.status for c in fake.method_calls("sendMessage")][-3:] == [429, 502, 200]
        assert z.channel.out.stats.retry_after == 1 and z.channel.out.stats.network_retries == 1
    finally:
        await z.stop()


async def _settled(fake: FakeZaloAPI, chat: str, quiet: float = 0.3, limit: float = 10.0) -> None:
    """Wait until no new message has reached ``chat`` for ``quiet`` seconds (at most ``limit``)."""
    loop = asyncio.get_running_loop()
    deadline, n, since = loop.time() + limit, -1, loop.time()
    while loop.time() < deadline:
        count = len(fake.sent(chat))
        if count != n:
            n, since = count, loop.time()
        elif loop.time() - since >= quiet:
            return
        await asyncio.sleep(0.05)


async def test_crash_after_receipt_is_recovered_at_start(runtime: Runtime, fake: FakeZaloAPI):
    from bot.zalo.inbox import InboxRepo, parse
    ups = [fake.text_update(CITIZEN, "/start"), fake.text_update(CITIZEN, TITLE)]
    async with runtime.sm() as db, db.begin():
        for u in ups:
            # stored as the channel stores it, on the real clock (the inbox purge runs on the real clock too)
            await InboxRepo(db).accept("1234567890", parse(u).key, u, f"zalo:{CITIZEN}", datetime.now(UTC))
    z = await Bot(runtime, fake).start()  # startup recovers the inbox
    try:
        await z.channel.join(20)
        await _settled(fake, CITIZEN)  # the queue is idle once the turns ran; their messages may still be on the way
        texts = [m.text for m in fake.sent(CITIZEN)]
        assert texts[0].startswith("Xin chào!") and "Ai đang khai hồ sơ này?" in texts[-1]
        await z.send(ups[1])  # delivered again after all: ignored
        await _settled(fake, CITIZEN)
        assert len(fake.sent(CITIZEN)) == len(texts)
    finally:
        await z.stop()


async def test_stopping_mid_poll_stores_the_update_the_poll_was_handed(runtime: Runtime, fake: FakeZaloAPI):
    """getUpdates has no offset: an update handed to a poll is never handed out again. Stopping while a poll is in
    flight must not hang up on it: the poll ends by itself and its update is stored before the loop returns,
    then handled by the next process from the inbox."""
    z = await Bot(runtime, fake, mode="polling").start()
    try:
        await z.say(CITIZEN, "xin chào")  # the loop is running
        n = len(fake.method_calls("getUpdates"))
        for _ in range(1000):  # wait until the next poll is in flight
            if len(fake.method_calls("getUpdates")) > n:
                break
            await asyncio.sleep(0.01)
        up = fake.text_update(CITIZEN, "1")
        z.stop_polling.set()  # stop asked, and the update arrives while that poll waits
        fake.put_update(up)
        await asyncio.wait_for(z.poller, 10)
        assert fake.updates == []  # the API handed it out…
        async with runtime.sm() as db:  # …and it is in the inbox
            keys = [r.event_key for r in (await db.execute(ZaloUpdate.__table__.select())).all()]
        assert f"message.text.received:{up['message']['message_id']}" in keys
    finally:
        await z.stop()


# ------------------------------------------------------------------------------------------------
# notifications and linked accounts
def _notifier(rt: Runtime, channel: ZaloChannel, *others, minutes: int = 1) -> Notifier:
    n = Notifier(rt.sm, list(others), now=lambda: rt.now() + timedelta(minutes=minutes))
    channel.attach_notifier(n)
    return n


async def test_citizen_notification_through_the_outbox_429_then_delivered(runtime: Runtime, fake: FakeZaloAPI):
    from tests.test_officers import submit
    z = await Bot(runtime, fake).start()
    try:
        code = await submit(runtime, user=f"zalo:{CITIZEN}")
        fake.fail("sendMessage", 1, retry_after=3)
        s = await _notifier(runtime, z.channel).drain()
        assert s.retried == 1 and s.delivered == 0 and fake.sent(CITIZEN) == []
        s = await _notifier(runtime, z.channel, minutes=5).drain()  # later: delivered
        assert s.delivered == 1
        [m] = fake.sent(CITIZEN)
        assert m.text.startswith(f"Biên nhận hồ sơ {code}")
        # a pushed message with choices gets numbered lines; a blocked chat is a permanent failure
        async with runtime.sm() as db, db.begin():
            await off.enqueue(db, f"zalo:{CITIZEN}", "test", "t1", "Thông báo thử", runtime.now())
            await off.enqueue(db, f"zalo:{CITIZEN}", "test", "t2", "Chọn một việc:", runtime.now(),
                               choices=[("a", "Xem hồ sơ"), ("b", "Nhận xử lý")])
        fake.fail("sendMessage", 1, status=500)
        s = await _notifier(runtime, z.channel, minutes=10).drain()
        assert s.retried == 1
        fake.fail("sendMessage", 1, status=403, description="user blocked the bot")
        s = await _notifier(runtime, z.channel, minutes=60).drain()
        assert s.delivered == 1 and s.failed == 1
        # the push's choices are not numbered (a number answers the chat's current question): typed codes
        text = fake.last(CITIZEN).text
        assert re.fullmatch(r"Chọn một việc:\nĐể chọn, gõ mã tương ứng:\n"
                            r"• (?P<c>[A-Z]{4})1: Xem hồ sơ\n• (?P=c)2: Nhận xử lý", text), text
    finally:
        await z.stop()


async def test_a_long_notification_cut_by_a_429_resumes_where_it_stopped(runtime: Runtime, fake: FakeZaloAPI):
    """A push over 2000 characters goes out as three messages; a 429 after the first, a connection-level 5xx
    after the second: each retry sends only the parts Zalo has not accepted yet, with the same choice code."""
    from storage.channel_models import TelegramButton
    z = await Bot(runtime, fake).start()
    try:
        blocks = [f"Phần {i}: " + f"nội dung thông báo dài số {i}. " * 55 for i in (1, 2, 3)]
        async with runtime.sm() as db, db.begin():
            await off.enqueue(db, f"zalo:{CITIZEN}", "test", "long1", "\n\n".join(blocks), runtime.now(),
                               choices=[("a", "Xem hồ sơ"), ("b", "Nhận xử lý")])
        fake.fail("sendMessage", 1, retry_after=1, after=1)
        s = await _notifier(runtime, z.channel).drain()
        assert s.retried == 1 and s.delivered == 0
        assert [m.text.split(":")[0] for m in fake.sent(CITIZEN)] == ["Phần 1"]
        fake.fail("sendMessage", 1, status=503, after=1)
        s = await _notifier(runtime, z.channel, minutes=10).drain()
        assert s.retried == 1 and [m.text.split(":")[0] for m in fake.sent(CITIZEN)] == ["Phần 1", "Phần 2"]
        s = await _notifier(runtime, z.channel, minutes=120).drain()
        assert s.delivered == 1
        sent = [m.text for m in fake.sent(CITIZEN)]
        assert [t.split(":")[0] for t in sent] == ["Phần 1", "Phần 2", "Phần 3"]  # each part once, in order
        assert [c.status for c in fake.method_calls("sendMessage")] == [200, 429, 200, 503, 200]
        m = re.search(r"Để chọn, gõ mã tương ứng:\n• (?P<c>[A-Z]{4})1: Xem hồ sơ\n• (?P=c)2: Nhận xử lý$", sent[-1])
        assert m, sent[-1]
        assert "Để chọn" not in sent[0] + sent[1]
        async with runtime.sm() as db:  # one code stored, the one shown
            rows = (await db.execute(TelegramButton.__table__.select().where(
                TelegramButton.chat_key == f"zalo:{CITIZEN}"))).all()
        assert len(rows) == 1 and rows[0].choices == [["a", "Xem hồ sơ"], ["b", "Nhận xử lý"]]
    finally:
        await z.stop()


async def test_allowance_confirmation_on_zalo_says_choose_and_lists_typed_codes(runtime: Runtime,
                                                                                 fake: FakeZaloAPI):
    """The push asking the chat that registered the old bank account to confirm a new one: on Zalo there are no
    buttons, so it says “chọn” (not “bấm”) and the sender lists the typed codes; typing one confirms."""
    from tests.conftest import Chat
    from tests.test_allowances import (
        _verified,
        benef_rows,
        change_residence,
        family_reporter,
        register_self,
        start_change,
        submit,
    )
    owner = await Chat(runtime, f"zalo:{CITIZEN}").start()
    await _verified(runtime, await register_self(owner))
    family = await Chat(runtime, "console:family").start()
    await start_change(family, "new_account", reporter="family")
    await change_residence(family)
    await family_reporter(family)
    await family.expect("consent.data")
    await family.press("yes")
    await family.say("vietcombank")
    await family.say("0071001234567")
    await family.say("NGUYEN VAN AN")
    await submit(family)
    z = await Bot(runtime, fake).start()
    try:
        n = len(fake.sent(CITIZEN))
        await _notifier(runtime, z.channel).drain()
        [push] = [m.text for m in fake.sent(CITIZEN)[n:] if "Yêu cầu đổi tài khoản" in (m.text or "")]
        assert "bấm" not in push.lower() and "nút" not in push.lower()
        assert "chọn “Đồng ý đổi” hoặc gõ “/xacnhan " in push and "chọn “Không đồng ý” (hoặc gõ “/tuchoi " in push
        m = re.search(r"\nĐể chọn, gõ mã tương ứng:\n• (?P<c>[A-Z]{4})1: Đồng ý đổi\n• (?P=c)2: Không đồng ý$", push)
        assert m, push
        reply = await z.say(CITIZEN, m.group(1) + "1")
        assert "Đã xác nhận" in reply, reply
        assert (await benef_rows(runtime))[0].account_number == "0071001234567"
    finally:
        await z.stop()


async def test_link_telegram_and_zalo_continue_the_draft_and_notify_the_preferred_chat(runtime: Runtime,
                                                                                        fake: FakeZaloAPI):
    """The real Telegram channel (fake Bot API) and the Zalo channel on one runtime."""
    from tests.fakes.telegram_api import FakeTelegramAPI
    from tests.test_officers import submit
    from tests.test_telegram import Bot as TelegramBot
    tg_api = await FakeTelegramAPI().start()
    tg = await TelegramBot(runtime, tg_api).start()
    z = await Bot(runtime, fake).start()
    t = 4242
    try:
        await tg.say(t, "/start")
        await tg.press(t, "Hỗ trợ chi phí mai táng")
        await tg.press(t, "Tôi là người đứng ra mai táng")
        m = await tg.press(t, "Tôi đồng ý")  # consent: the cause of death is health data
        assert "Người mất qua đời (hoặc mất tích) vì lý do gì?" in m.text
        m = await tg.say(t, "/lienket")
        code = re.search(r"Mã liên kết của bạn: ([0-9A-Z]{8})", m.text).group(1)
        m = await z.say(CITIZEN, "/lienket " + code)
        assert "Đã liên kết tài khoản (Telegram, Zalo)" in m and "Người mất qua đời (hoặc mất tích) vì lý do gì?" in m
        assert "Thông báo về hồ sơ sẽ gửi về Telegram" in m
        await z.pick(CITIZEN, "Thiên tai")  # the draft begun on Telegram, continued on Zalo
        m = await tg.say(t, "nguyễn văn an")  # and back on Telegram
        assert "Ngày tháng năm sinh" in m.text
        a = await answers(runtime, CITIZEN)
        assert a["deceased.cause"] == "thien_tai" and a["filer.role"] == "self" and "deceased.full_name" in a
        m = await z.say(CITIZEN, "/thongbao zalo")
        assert "Từ nay thông báo về hồ sơ sẽ gửi về Zalo" in m and "Ngày tháng năm sinh" in m
        # a dossier filed from Telegram: its notifications go to Zalo only
        code = await submit(runtime, user=f"telegram:{t}")
        n = len(tg_api.sent(t))
        notifier = Notifier(runtime.sm, [], now=lambda: runtime.now() + timedelta(minutes=1))
        tg.channel.attach_notifier(notifier)
        z.channel.attach_notifier(notifier)
        assert (await notifier.drain()).delivered == 1
        assert len(tg_api.sent(t)) == n and fake.last(CITIZEN).text.startswith(f"Biên nhận hồ sơ {code}")
        # a wrong code on Zalo: refused, the question comes again
        m = await z.say(CITIZEN, "/lienket ABCD2345")
        assert m.startswith("⚠️ Mã liên kết không đúng hoặc đã hết hạn") and "Ngày tháng năm sinh" in m
    finally:
        await z.stop()
        await tg.stop()
        await tg.channel.close()
        await tg_api.stop()


async def test_officer_on_zalo_acts_by_typed_codes_and_numbers(runtime: Runtime, fake: FakeZaloAPI):
    """Zalo has no buttons: the push's choices are typed codes, the dossier's actions numbered choices; a number
    typed while a push is on screen still answers the chat's own question, never the push."""
    from bot import cases as off
    from dialogs import lifecycle as lc
    from tests.test_officers import submit
    z = Bot(runtime, fake)
    z.channel.config.public_url = "http://placeholder"
    await z.start()
    o = "officer-zalo-1"
    try:
        z.channel.config.public_url = z.base
        async with runtime.sm() as db, db.begin():
            _o, invite = await off.add_officer(db, full_name="Lê Thị Hoa", agency="commune", commune_code="25222",
                                               role=lc.LEADER, now=runtime.now())
        await z.say(o, f"/canbo {invite}")
        assert "Xin chào Lê Thị Hoa" in all_text(fake, o)
        first = await submit(runtime, user=f"zalo:{CITIZEN}")
        second = await submit(runtime, user="zalo:someone-else")
        notifier = _notifier(runtime, z.channel)
        await notifier.drain()
        pushes = [m.text for m in fake.sent(o) if "Hồ sơ mới" in (m.text or "")]
        assert len(pushes) == 2 and all("\nNgười mất: NGUYỄN VĂN AN.\n" in p for p in pushes)
        codes = {}
        for p in pushes:
            dossier = re.search(r"Hồ sơ mới (\S+):", p).group(1)
            codes[dossier] = re.search(r"• ([A-Z]{4})2: Nhận xử lý", p).group(1)
        # open the first dossier, then claim the second through its push's code
        m = await z.say(o, first)
        assert f"📄 {first}" in m and re.search(r"^\d+\. ", m, re.M)
        m = await z.say(o, codes[second].lower() + " 2")  # typed loosely: lower case, a space
        assert "Bạn đã nhận xử lý hồ sơ" in all_text(fake, o)
        async with runtime.sm() as db:
            assert (await LegRepo(db).dossier(first)).status == lc.SUBMITTED  # the open one: untouched
        # the actions of the dossier now on screen, by number
        await z.pick(o, "Tiếp nhận")
        assert "Đã tiếp nhận hồ sơ" in all_text(fake, o)
        assert "vẫn do bạn xử lý" in all_text(fake, o)  # the unit's only officer keeps it: no second claim
        m = await z.pick(o, "Duyệt")
        assert "Số, ký hiệu văn bản kết quả" in m
        m = await z.say(o, "123/QĐ-UBND")
        assert "\n1. Đồng ý\n2. Sửa\n" in m  # shown back before it is done
        await z.say(o, "1")
        assert f"Đã duyệt hồ sơ {second} (số 123/QĐ-UBND)" in all_text(fake, o)
        async with runtime.sm() as db:
            assert (await LegRepo(db).dossier(second)).status == lc.APPROVED
        # the officer opens the files and the form: links served by our app (Zalo cannot upload files)
        await z.say(o, second)
        n = len(fake.sent(o))
        await z.pick(o, "Xem tệp và tờ khai")
        text = "\n".join(x.text or "" for x in fake.sent(o)[n:])
        link = re.search(r"Tải tệp “" + re.escape(second) + r"\.pdf” tại: (\S+)", text)
        assert link, text
        async with z.http.get(link.group(1)) as r:
            assert r.status == 200 and (await r.read()).startswith(b"%PDF")
        # a code that is not this chat's, or a number past the push's choices: plain text for the chat
        await z.say(o, codes[first] + "9")
        assert "⚠️" in fake.last(o).text
        await notifier.drain()
        assert "đã được duyệt, số văn bản kết quả: 123/QĐ-UBND" in all_text(fake, "someone-else")
        assert all(len(m.text or "") <= 2000 for m in fake.sent(o))
    finally:
        await z.stop()


# ------------------------------------------------------------------------------------------------
# rendering (no network)
def test_numbered_choices_nav_words_and_splitting_under_2000_characters():
    _ = translator("vi")
    para = "Đoạn văn có dấu tiếng Việt và biểu tượng 📄. " * 20
    long = "\n\n".join([para] * 8)
    chunks = split_text(long)
    assert len(chunks) >= 4 and all(len(c) <= 2000 for c in chunks)
    assert "".join(chunks).replace("\n", "").replace(" ", "") == long.replace("\n", "").replace(" ", "")
    ask = Ask(text="Câu hỏi?", procedure="p", field="f", kind="yes_no",
              choices=(ChoiceOut("yes", "Có"), ChoiceOut("no", "Không")), step="Bước 2/4", step_no=2, step_total=4,
              nav=("nav:back", "nav:help", "nav:cancel"))
    bubbles = render([Message("ngắn"), Message(long, error=True), ask], _)
    assert all(len(b.text) <= 2000 for b in bubbles) and bubbles[0].text.startswith("ngắn\n\n⚠️")
    assert bubbles[-1].text.endswith("Bước 2/4\nCâu hỏi?\n1. Có\n2. Không\nGõ số thứ tự hoặc nội dung lựa chọn.\n"
                                     "(Có thể gõ: “quay lại” · “hủy” · “trợ giúp”)")
    english = render([ask], translator("en"))
    assert english[-1].text.endswith("Type the number or the text of your choice.\n"
                                     "(You can type: “back” · “cancel” · “help”)")
    one_line = "x" * 4500  # no place to cut: cut hard
    assert [len(c) for c in split_text(one_line)] == [2000, 2000, 500]


async def test_a_too_big_photo_is_explained_and_other_events_are_ignored(runtime: Runtime, fake: FakeZaloAPI):
    z = await Bot(runtime, fake, max_image=1024 * 1024).start()
    try:
        c = CITIZEN
        await z.say(c, "/start")
        await z.say(c, TITLE)
        before = await answers(runtime, c)
        n = len(fake.sent(c))
        await z.send(fake.image_update(c, jpeg(2) + b"\0" * (1024 * 1024)))
        assert "Ảnh lớn hơn 1 MB" in fake.last(c).text and await answers(runtime, c) == before
        await z.send({"event_name": "user.follow", "message": {"message_id": "f1", "chat": {"id": c}}})
        assert len(fake.sent(c)) == n + 1
    finally:
        await z.stop()


def test_splitting_never_cuts_a_word_or_a_numbered_choice():
    from bot.telegram.render import split_text as telegram_split
    from bot.telegram.render import utf16_len
    choices = "\n".join(f"{i}. Lựa chọn số {i} 📄 có tên khá dài để thử chỗ cắt" for i in range(1, 300))
    words = " ".join(["Hỗ trợ", "chi phí", "mai táng", "⚠️", "📎"] * 900)
    for split, limit in ((split_text, 2000), (telegram_split, 4096)):
        for text in (choices, words, "Câu hỏi?\n\n" + choices + "\n\n" + words):
            chunks = split(text, limit)
            assert len(chunks) > 1 and all(utf16_len(c) <= limit for c in chunks)  # emoji count 2
            assert " ".join(chunks).split() == text.split()  # no word cut in two
            lines = [ln for c in chunks for ln in c.split("\n") if re.match(r"\d+\. ", ln)]
            assert all(re.fullmatch(r"(\d+)\. Lựa chọn số \1 📄 có tên khá dài để thử chỗ cắt", ln) for ln in lines)
            assert len(lines) == (299 if "1. Lựa" in text else 0)


async def test_zalo_officer_sees_the_chart_by_a_signed_link_or_is_sent_to_the_web_desk(runtime: Runtime,
                                                                                       fake: FakeZaloAPI):
    """Zalo's Bot API cannot upload a file: the report's chart goes as a photo by a signed link when the bot has a
    public URL; without one, the report says where to see it, and an officer opening papers is sent to the web
    desk instead of being told only that the file is kept."""
    import base64

    from bot import cases as off
    from dialogs import lifecycle as lc
    from storage.officers_repo import OutboxRepo
    from tests.test_officers import submit
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()
    z = Bot(runtime, fake)
    z.channel.config.public_url = "http://placeholder"
    await z.start()
    o = "officer-zalo-chart"
    try:
        z.channel.config.public_url = z.base
        async with runtime.sm() as db, db.begin():
            _o, invite = await off.add_officer(db, full_name="Lê Thị Hoa", agency="commune", commune_code="25222",
                                               role=lc.LEADER, focal_point=True, now=runtime.now())
        await z.say(o, f"/canbo {invite}")
        async with runtime.sm() as db, db.begin():
            for key in ("with-link", "without-link"):
                await OutboxRepo(db).enqueue(chat_key=f"zalo:{o}", kind="officer_report", dedupe_key=key,
                                             payload={"text": f"Báo cáo {key}", "image_png": png,
                                                      "image_name": "bao-cao.png"}, now=runtime.now())
        await _notifier(runtime, z.channel).drain()
        photos = [m for m in fake.sent(o) if m.kind == "photo"]
        assert len(photos) == 2 and photos[0].photo.startswith(z.base + "/zalo/files/")
        async with ClientSession() as http, http.get(photos[0].photo) as resp:
            assert resp.status == 200 and (await resp.read()).startswith(b"\x89PNG")
        # without a public URL: the note says where to see the chart, and papers point to the web desk
        z.channel.config.public_url = None
        notifier = _notifier(runtime, z.channel)
        async with runtime.sm() as db, db.begin():
            await OutboxRepo(db).enqueue(chat_key=f"zalo:{o}", kind="officer_report", dedupe_key="no-url",
                                         payload={"text": "Báo cáo không liên kết", "image_png": png},
                                         now=runtime.now())
        await notifier.drain()
        report = next(m.text for m in fake.sent(o) if "Báo cáo không liên kết" in (m.text or ""))
        assert "Biểu đồ không gửi được qua Zalo" in report and "/dangnhap" in report
        code = await submit(runtime, user="zalo:citizen-chart")
        await z.say(o, code)
        await z.pick(o, "Xem tệp và tờ khai")
        assert "Xem tệp trên bàn làm việc web: gõ /dangnhap" in all_text(fake, o)
    finally:
        await z.stop()


async def test_zalo_replies_of_a_committed_turn_survive_a_kill_before_they_are_sent(runtime: Runtime,
                                                                                    fake: FakeZaloAPI):
    """As on Telegram: the step committed, the process died while sending; the next start sends them, once."""
    from sqlalchemy import select
    a = await Bot(runtime, fake).start()
    await a.say(CITIZEN, "/start")
    fake.latency = 30
    assert await a.post(fake.text_update(CITIZEN, "hỗ trợ chi phí mai táng")) == 200
    held = []
    for _ in range(400):
        async with runtime.sm() as db:
            held = (await db.execute(select(ZaloUpdate.status).where(ZaloUpdate.status == "replying"))).scalars().all()
        if held:
            break
        await asyncio.sleep(0.025)
    assert held == ["replying"]
    before = len(fake.sent(CITIZEN))
    await a.channel.stop(drain=0)  # the kill
    await a.runner.cleanup()
    await a.http.close()
    await a.channel.client.close()
    fake.latency = 0
    b = await Bot(runtime, fake).start()
    try:
        await b.channel.join(20)  # the startup sent what was held
        after = [m.text or "" for m in fake.sent(CITIZEN)[before:]]
        assert sum("Ai đang khai hồ sơ này?" in t for t in after) == 1, after
        async with runtime.sm() as db:
            assert not (await db.execute(select(ZaloUpdate.id).where(ZaloUpdate.status == "replying"))).first()
    finally:
        await b.stop()


async def test_a_locked_database_is_said_busy_in_the_chat_s_own_language(sqlite_url, tmp_path, clock, fake,
                                                                        monkeypatch):
    """The busy notice cannot read the chat's language from a database that is locked or down: it uses the one
    this process last saw for the chat."""
    import sqlite3

    from tests.conftest import shared_catalog

    monkeypatch.setenv("DVCBOT_DB_BUSY_SECONDS", "0.3")
    rt = await Runtime(sqlite_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog()).open(migrate=False)
    z = await Bot(rt, fake).start()
    lock = sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None, timeout=10, check_same_thread=False)
    try:
        await z.say("c-en", "english")
        await z.say("c-vi", "xin chào")
        await asyncio.to_thread(lock.execute, "BEGIN IMMEDIATE")
        assert await z.post(fake.text_update("c-en", "funeral support")) == 503
        assert await z.post(fake.text_update("c-vi", "hỗ trợ mai táng")) == 503
        await asyncio.to_thread(lock.execute, "ROLLBACK")
        assert "The system is busy" in (fake.last("c-en").text or "")
        assert "Hệ thống đang bận" in (fake.last("c-vi").text or "")
    finally:
        lock.close()
        await z.stop()
        await rt.close()
