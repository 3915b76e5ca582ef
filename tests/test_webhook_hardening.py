"""Both webhooks under hostile or unlucky traffic (reliability findings D2, D3, D6, D12): bad requests get a 4xx,
never a 500; floods are limited per chat and per process; a chat's updates are applied in order even when two
processes share the work; Zalo file links cannot be turned into pages on our domain."""
from __future__ import annotations

import asyncio
import json
import re

import pytest
from aiohttp import ClientSession

from bot.inbound import InboundLimiter, InboundLimits
from bot.service import Runtime
from bot.telegram import TelegramChannel, TelegramConfig
from bot.telegram.inbox import InboxRepo
from bot.zalo.inbox import parse
from storage.account_models import ZaloUpdate
from storage.channel_models import TelegramUpdate
from tests.conftest import jpeg
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI
from tests.test_telegram import FAST, OPEN, SECRET, TOKEN
from tests.test_telegram import Bot as TgBot
from tests.test_zalo import SECRET as ZSECRET
from tests.test_zalo import Bot as ZBot

CHAT = 5151
FUNERAL_BURST = ["/start", "hỗ trợ chi phí mai táng", "1", "đồng ý", "thien tai", "nguyễn văn an", "5/3/1950", "nam",
                 "Kinh", "Lâm Đồng", "duc trong", "Thôn 3", "1", "10/11/2026", "12/11/2026", "Nghĩa trang thôn 3"]


@pytest.fixture
async def tfake():
    api = await FakeTelegramAPI().start()
    yield api
    await api.stop()


@pytest.fixture
async def zfake():
    api = await FakeZaloAPI().start()
    yield api
    await api.stop()


async def raw_post(http: ClientSession, url: str, body: bytes, headers: dict) -> int:
    async with http.post(url, data=body, headers={"Content-Type": "application/json", **headers}) as r:
        return r.status


# -- Telegram: 4xx, never 500 -----------------------------------------------------------------------------------
async def test_telegram_bad_requests_get_4xx_never_500(runtime: Runtime, tfake: FakeTelegramAPI):
    b = await TgBot(runtime, tfake).start()
    try:
        good = tfake.text_update(CHAT, "/start")
        h = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        cases = {
            "non-ASCII secret": (json.dumps(good).encode(), {"X-Telegram-Bot-Api-Secret-Token": "sécret☃"}, 401),
            "latin-1 bytes secret": (json.dumps(good).encode(), {"X-Telegram-Bot-Api-Secret-Token": "s\xe9"}, 401),
            "update_id 2**70": (json.dumps({**good, "update_id": 2 ** 70}).encode(), h, 400),
            "update_id true": (json.dumps({**good, "update_id": True}).encode(), h, 400),
            "update_id negative": (json.dumps({**good, "update_id": -1}).encode(), h, 400),
            "chat id 2**70": (json.dumps({"update_id": 77, "message": {**good["message"], "chat": {
                "id": 2 ** 70, "type": "private"}}}).encode(), h, 400),
            "chat id of 300 characters": (json.dumps({"update_id": 78, "message": {**good["message"], "chat": {
                "id": "9" * 300, "type": "private"}}}).encode(), h, 400),
            "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, h, 400),
            "nested 60 deep": (json.dumps({"update_id": 79, "x": json.loads("[" * 60 + "]" * 60)}).encode(), h, 400),
            "bad UTF-8": (b'{"update_id": 80, "x": "\xff\xfe"}', h, 400),
            "not JSON": (b"{not json", h, 400),
            "a list": (b"[1, 2]", h, 400),
            "over 1 MB": (b'{"update_id": 81, "x": "' + b"a" * (1024 * 1024 + 10) + b'"}', h, 413),
        }
        for name, (body, headers, want) in cases.items():
            assert await raw_post(b.http, b.url, body, headers) == want, name
        async with runtime.sm() as db:
            assert (await db.execute(TelegramUpdate.__table__.select())).first() is None  # nothing stored
        assert await b.post(good) == 200  # and the bot still works
        await b.channel.join(10)
        assert tfake.last(CHAT).text.startswith("Xin chào")
    finally:
        await b.stop()


# -- Telegram: inbound limits ------------------------------------------------------------------------------------
async def test_telegram_flooding_chat_is_limited_and_told_once(runtime: Runtime, tfake: FakeTelegramAPI):
    limits = InboundLimits(chat_rate=0.001, chat_burst=3, global_rate=10_000, global_burst=10_000, notice_every=60)
    b = await TgBot(runtime, tfake, inbound=limits).start()
    try:
        for i in range(10):
            assert await b.post(tfake.text_update(CHAT, "x" * 4096 if i else "/start")) == 200
        assert await b.post(tfake.text_update(CHAT + 1, "/start")) == 200  # another chat is not affected
        await b.channel.join(20)
        texts = [m.text for m in tfake.sent(CHAT)]
        assert sum("quá nhanh" in t for t in texts) == 1
        assert b.channel.stats.limited == 7 and b.channel.stats.turns == 4
        assert tfake.last(CHAT + 1).text.startswith("Xin chào")
        async with runtime.sm() as db:
            rows = list((await db.execute(TelegramUpdate.__table__.select())).mappings())
        refused = [r for r in rows if r["error"] == "RateLimited"]
        assert len(refused) == 7 and all(r["status"] == "failed" and r["payload"] == {} for r in refused)
    finally:
        await b.stop()


async def test_telegram_global_flood_gets_429_and_is_delivered_again(runtime: Runtime, tfake: FakeTelegramAPI):
    limits = InboundLimits(chat_rate=1000, chat_burst=1000, global_rate=0.001, global_burst=2)
    b = await TgBot(runtime, tfake, inbound=limits).start()
    try:
        statuses = [await b.post(tfake.text_update(CHAT + i, "/start")) for i in range(4)]
        assert statuses == [200, 200, 429, 429]
    finally:
        await b.stop()


def test_inbound_limiter_refills():
    now = [0.0]
    lim = InboundLimiter(InboundLimits(chat_rate=1, chat_burst=2), clock=lambda: now[0])
    assert [lim.allow_chat("a") for _ in range(3)] == [True, True, False]
    now[0] += 1.0
    assert lim.allow_chat("a") and not lim.allow_chat("a")
    assert lim.allow_chat("b")
    assert lim.should_notice("a") and not lim.should_notice("a")


# -- Telegram: one chat's updates in order, across two processes ------------------------------------------------
async def test_two_processes_apply_a_burst_in_update_id_order(runtime: Runtime, tfake: FakeTelegramAPI, db_url,
                                                              tmp_path, clock):
    """Probe 3 (D2): a chat's burst alternates between two webhook processes on one database. Before, 88 of 100
    drafts ended with answers in the wrong fields; now every draft equals the one-process result."""
    other = Runtime(db_url, var_dir=tmp_path / "var2", now=clock)
    await other.open(migrate=False)
    cfg = dict(token=TOKEN, api_base=tfake.base_url, limits=FAST, inbound=OPEN, set_commands=False)
    a, b = TelegramChannel(runtime, TelegramConfig(**cfg)), TelegramChannel(other, TelegramConfig(**cfg))
    try:
        if not a.hooks:
            pytest.skip("Runtime.handle has no tx_hook")
        chats = [CHAT + i for i in range(4)]
        for text in FUNERAL_BURST:  # posted back to back, each stored before the next is posted
            for n, c in enumerate(chats):
                await (a if (FUNERAL_BURST.index(text) + n) % 2 == 0 else b).accept(tfake.text_update(c, text))
        await asyncio.gather(a.join(60), b.join(60))
        single = TelegramChannel(runtime, TelegramConfig(**cfg))
        for text in FUNERAL_BURST:
            await single.accept(tfake.text_update(CHAT + 99, text))
            await single.join(20)
        await single.close()
        want = dict((await runtime.session(f"telegram:{CHAT + 99}")).draft.answers)
        assert want["deceased.burial_place"] == "Nghĩa trang thôn 3"
        for c in chats:
            got = dict((await runtime.session(f"telegram:{c}")).draft.answers)
            assert got == want, c
        assert a.stats.late + b.stats.late == 0
    finally:
        await a.close()
        await b.close()
        await other.close()


async def test_an_update_older_than_one_applied_is_not_applied_and_the_person_is_told(runtime: Runtime,
                                                                                     tfake: FakeTelegramAPI):
    b = await TgBot(runtime, tfake).start()
    try:
        await b.say(CHAT, "/start")
        await b.say(CHAT, "hỗ trợ chi phí mai táng")
        early = tfake.text_update(CHAT, "1")            # typed first…
        later = tfake.text_update(CHAT, "2")            # …but this one arrives and is applied first
        await b.send(later)
        await b.send(early)
        answers = dict((await runtime.session(f"telegram:{CHAT}")).draft.answers)
        assert list(answers) == ["filer.role"] and answers["filer.role"] != "self"  # "1" was not applied after "2"
        assert "đến chậm" in tfake.last(CHAT).text
        assert b.channel.stats.late == 1
        async with runtime.sm() as db:
            st = await InboxRepo(db).status(b.channel.bot_id, early["update_id"])
        assert st == "failed"
    finally:
        await b.stop()


# -- Zalo ---------------------------------------------------------------------------------------------------------
async def test_zalo_bad_requests_get_4xx_never_500(runtime: Runtime, zfake: FakeZaloAPI):
    z = await ZBot(runtime, zfake).start()
    try:
        good = zfake.text_update("abc123", "xin chào")
        h = {"X-Bot-Api-Secret-Token": ZSECRET}
        long_chat = json.loads(json.dumps(good))
        long_chat["message"]["chat"]["id"] = "c" * 300
        cases = {
            "non-ASCII secret": (json.dumps(good).encode(), {"X-Bot-Api-Secret-Token": "sécret☃"}, 401),
            "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, h, 400),
            "not JSON": (b"{not json", h, 400),
            "chat id of 300 characters": (json.dumps(long_chat).encode(), h, 400),
            "over 1 MB": (b'{"event_name": "x", "y": "' + b"a" * (1024 * 1024 + 10) + b'"}', h, 413),
        }
        for name, (body, headers, want) in cases.items():
            assert await raw_post(z.http, z.url, body, headers) == want, name
        async with runtime.sm() as db:
            assert (await db.execute(ZaloUpdate.__table__.select())).first() is None
    finally:
        await z.stop()


def test_zalo_long_message_ids_are_not_truncated_into_one_key():
    a = {"event_name": "message.text.received", "message": {"message_id": "m" * 250 + "A", "text": "1",
                                                             "chat": {"id": "u1"}}}
    b = json.loads(json.dumps(a))
    b["message"]["message_id"] = "m" * 250 + "B"
    ka, kb = parse(a).key, parse(b).key
    assert ka != kb and len(ka) <= 200 and len(kb) <= 200


async def test_zalo_file_links_are_downloads_under_our_name_and_type(runtime: Runtime, zfake: FakeZaloAPI):
    z = await ZBot(runtime, zfake, public_url="http://127.0.0.1").start()
    try:
        ch = z.channel
        polyglot = b"%PDF-1.4 <html><script>alert(document.domain)</script></html>"
        sha = runtime.attachments.put(polyglot)
        link = ch.file_link(sha, "MT-2611-7KQ4XP9Z-1.pdf")
        path = link.split("127.0.0.1", 1)[1]
        async with z.http.get(z.base + path) as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("application/pdf")
            assert r.headers["Content-Disposition"] == 'attachment; filename="MT-2611-7KQ4XP9Z-1.pdf"'
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in r.headers["Content-Security-Policy"]
        # the name is signed: changing it to x.html is refused
        forged = re.sub(r"/[^/]+$", "/x.html", path)
        async with z.http.get(z.base + forged) as r:
            assert r.status == 403
        # a stored file that is neither an image nor a PDF is an opaque download, whatever its name says
        sha2 = runtime.attachments.put(b"<svg onload=alert(1)></svg>")
        async with z.http.get(z.base + ch.file_link(sha2, "anh.svg").split("127.0.0.1", 1)[1]) as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("application/octet-stream")
            assert r.headers["Content-Disposition"] == 'attachment; filename="anh.bin"'
    finally:
        await z.stop()


async def test_zalo_flooding_chat_is_limited(runtime: Runtime, zfake: FakeZaloAPI):
    limits = InboundLimits(chat_rate=0.001, chat_burst=2, global_rate=10_000, global_burst=10_000)
    z = await ZBot(runtime, zfake, inbound=limits).start()
    try:
        for i in range(5):
            assert await z.post(zfake.text_update("flood1", f"xin chào {i}")) == 200
        await z.channel.join(20)
        assert z.channel.stats.limited == 3
        assert sum("quá nhanh" in (m.text or "") for m in zfake.sent("flood1")) == 1
    finally:
        await z.stop()


async def test_zalo_image_url_to_an_internal_service_is_not_fetched(runtime: Runtime, zfake: FakeZaloAPI):
    """D11: an image event naming http://127.0.0.1:<port>/admin made the bot call that internal service."""
    from aiohttp import web

    hits: list[str] = []

    async def admin(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=jpeg(9), content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/admin/secret", admin)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    z = await ZBot(runtime, zfake).start()
    try:
        ev = zfake.image_update("ssrf1", jpeg(1))
        ev["message"]["photo_url"] = f"http://127.0.0.1:{port}/admin/secret"
        assert await z.post(ev) == 200
        await z.channel.join(20)
        assert hits == []
        assert not await z.channel.client.url_allowed("file:///etc/passwd")
        assert not await z.channel.client.url_allowed("https://127.0.0.1/x")
        assert not await z.channel.client.url_allowed("https://[::1]/x")
        assert await z.channel.client.url_allowed(zfake.base_url + "/files/a.jpg")  # the API's own files
    finally:
        await z.stop()
        await runner.cleanup()
