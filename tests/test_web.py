"""The officers' web desk over HTTP, on real databases (SQLite and PostgreSQL): sign-in with a code from the
chat, sessions, CSRF, every route, each permission and each jurisdiction refusal, and the citizen told through
the same outbox as from the chat."""
from __future__ import annotations

import csv
import io
import logging
import re
from datetime import UTC, timedelta
from typing import Any

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot import cases as off
from bot.notifier import MemorySender, Notifier
from bot.service import Runtime
from bot.web import auth
from bot.web.server import WebConfig, make_app
from dialogs import lifecycle as lc
from dialogs.form import FOLLOWS
from dialogs.messages import Incoming
from storage.models import Officer
from storage.officers_repo import OfficerRepo
from storage.web_models import WebLogin
from tests.conftest import jpeg
from tests.test_officers import answers, chat_key, leg_of, officer, outbox, submit

CCCD = "068075001234"
PHONE = "0912345678"
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


class Desk:
    """The web app on a test server, and browsers (clients) signed in as officers."""

    def __init__(self, rt: Runtime, server: TestServer):
        self.rt = rt
        self.server = server
        self.clients: list[TestClient] = []

    async def browser(self) -> TestClient:
        c = TestClient(self.server, cookie_jar=CookieJar(unsafe=True))
        await c.start_server()
        self.clients.append(c)
        return c

    async def code_from_chat(self, officer_id: int) -> str:
        replies = await self.rt.handle(await chat_key(self.rt, officer_id), Incoming(text="/dangnhap"))
        m = re.search(r"\b(\d{6})\b", replies[0].text)
        assert m, replies[0].text
        return m.group(1)

    async def login(self, officer_id: int, client: TestClient | None = None) -> TestClient:
        c = client or await self.browser()
        code = await self.code_from_chat(officer_id)
        r = await c.post("/login", data={"code": code, "csrf": await csrf(c, "/login")}, allow_redirects=False)
        assert r.status == 303, await r.text()
        return c


async def csrf(c: TestClient, path: str) -> str:
    r = await c.get(path)
    m = CSRF_RE.search(await r.text())
    assert m, await r.text()
    return m.group(1)


async def post(c: TestClient, path: str, data: dict[str, Any] | list[tuple[str, Any]] | None = None, *,
               page: str | None = None, **kw):
    token = await csrf(c, page or "/queue")
    items = list(data.items()) if isinstance(data, dict) else list(data or [])
    return await c.post(path, data=[*items, ("csrf", token)], **kw)


async def version(rt: Runtime, code: str) -> int:
    return (await leg_of(rt, code)).version


@pytest.fixture
async def desk(runtime: Runtime):
    app = make_app(runtime, WebConfig(secret=b"test-secret", page_size=3))
    server = TestServer(app)
    await server.start_server()
    d = Desk(runtime, server)
    try:
        yield d
    finally:
        for c in d.clients:
            await c.close()
        await server.close()


async def submit_with_photo(rt: Runtime, **kw) -> tuple[str, str]:
    data = jpeg(7)
    sha = rt.attachments.put(data)
    photo = {"sha256": sha, "mime": "image/jpeg", "size": len(data), "name": "giay-bao-tu.jpg"}
    return await submit(rt, ans=answers(**{"docs.death_notice": [photo]}), **kw), sha


# -- sign-in and sessions -------------------------------------------------------------------------------------
async def test_sign_in_with_a_code_from_the_chat(desk: Desk):
    rt = desk.rt
    code, _sha = await submit_with_photo(rt)
    oid = await officer(rt, lc.DESK)
    c = await desk.browser()
    r = await c.get("/queue", allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/login"
    login_code = await desk.code_from_chat(oid)
    r = await c.post("/login", data={"code": login_code, "csrf": await csrf(c, "/login")}, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/queue"
    cookie = r.headers["Set-Cookie"]
    assert auth.COOKIE in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    r = await c.get("/queue")
    assert r.status == 200 and code in await r.text()
    assert r.headers["X-Content-Type-Options"] == "nosniff" and "no-store" in r.headers["Cache-Control"]
    # single use
    other = await desk.browser()
    r = await other.post("/login", data={"code": login_code, "csrf": await csrf(other, "/login")})
    assert r.status == 401 and "đã dùng" in await r.text()
    # only the hashes are stored
    async with rt.sm() as db:
        rows = list((await db.execute(select(WebLogin))).scalars())
    assert rows and all(login_code not in (x.code_hash, x.link_hash) for x in rows)


async def test_code_is_attempt_limited_and_expires(desk: Desk, clock):
    rt = desk.rt
    oid = await officer(rt, lc.DESK)
    good = await desk.code_from_chat(oid)
    wrong = "000000" if good != "000000" else "111111"
    for _attempt in range(auth.MAX_ATTEMPTS):  # from several addresses' worth of browsers: the code itself counts
        c = await desk.browser()
        r = await c.post("/login", data={"code": wrong, "csrf": await csrf(c, "/login")})
        assert r.status == 401
    c = await desk.browser()
    r = await c.post("/login", data={"code": good, "csrf": await csrf(c, "/login")})
    assert r.status in (401, 429)  # void after too many wrong guesses (and this address is slowed down)
    # a fresh code expires after a few minutes
    fresh = await desk.code_from_chat(oid)
    clock.when += timedelta(minutes=auth.LOGIN_MINUTES + 1)
    c = await desk.browser()
    r = await c.post("/login", data={"code": fresh, "csrf": await csrf(c, "/login")})
    assert r.status == 401


async def test_one_time_link_is_used_by_post_only(desk: Desk, monkeypatch):
    rt = desk.rt
    oid = await officer(rt, lc.DESK)
    monkeypatch.setenv("DVCBOT_WEB_URL", "https://desk.example")
    replies = await rt.handle(await chat_key(rt, oid), Incoming(text="/dangnhap"))
    m = re.search(r"https://desk\.example(/login/link/[\w\-]+)", replies[0].text)
    assert m
    c = await desk.browser()
    for _ in range(2):  # a chat app's link preview must not use it up
        r = await c.get(m.group(1))
        assert r.status == 200
    token = re.search(r'name="token" value="([^"]+)"', await r.text()).group(1)
    r = await c.post("/login/link", data={"token": token, "csrf": CSRF_RE.search(await r.text()).group(1)},
                     allow_redirects=False)
    assert r.status == 303
    assert (await c.get("/queue")).status == 200
    c2 = await desk.browser()
    r = await c2.post("/login/link", data={"token": token, "csrf": await csrf(c2, f"/login/link/{token}")})
    assert r.status == 401


async def test_csrf_logout_idle_and_deactivation(desk: Desk, clock):
    rt = desk.rt
    oid = await officer(rt, lc.DESK)
    c = await desk.login(oid)
    r = await c.post("/queue", data={"q": "x"})
    assert r.status == 403 and "Biểu mẫu" in await r.text()
    r = await c.post("/queue", data={"q": "x", "csrf": "forged"})
    assert r.status == 403
    # logout ends the session at once, even for a stolen copy of the cookie
    stolen = c.session.cookie_jar.filter_cookies(c.make_url("/"))[auth.COOKIE].value
    r = await post(c, "/logout", allow_redirects=False)
    assert r.status == 303
    thief = await desk.browser()
    thief.session.cookie_jar.update_cookies({auth.COOKIE: stolen}, c.make_url("/"))
    assert (await thief.get("/queue", allow_redirects=False)).status == 303
    # idle timeout
    c = await desk.login(oid)
    clock.when += timedelta(minutes=auth.IDLE_MINUTES + 1)
    assert (await c.get("/queue", allow_redirects=False)).status == 303
    # deactivation ends it on the next request
    c = await desk.login(oid)
    assert (await c.get("/queue")).status == 200
    async with rt.sm() as db, db.begin():
        await db.execute(update(Officer).where(Officer.id == oid).values(active=False))
    assert (await c.get("/queue", allow_redirects=False)).status == 303
    # and a deactivated officer gets no code (their chat is no longer an officer's)
    replies = await rt.handle(await chat_key(rt, oid), Incoming(text="/dangnhap"))
    assert not re.search(r"\b\d{6}\b", replies[0].text)


async def test_a_tampered_cookie_is_refused(desk: Desk):
    oid = await officer(desk.rt, lc.DESK)
    c = await desk.login(oid)
    value = c.session.cookie_jar.filter_cookies(c.make_url("/"))[auth.COOKIE].value
    token, mac = value.rsplit(".", 1)
    bad = await desk.browser()
    forged = ("y" if mac[0] == "x" else "x") + mac[1:]  # one character of the signature changed
    bad.session.cookie_jar.update_cookies({auth.COOKIE: token + "." + forged}, c.make_url("/"))
    assert (await bad.get("/queue", allow_redirects=False)).status == 303


# -- the queue ----------------------------------------------------------------------------------------------
async def test_queue_filters_search_sort_and_pages(desk: Desk, clock, caplog):
    rt = desk.rt
    desk_id = await officer(rt, lc.DESK)
    leader = await officer(rt, lc.LEADER)
    early = clock.when - timedelta(days=10)
    late_code = await submit(rt, when=early)
    codes = [await submit(rt) for _ in range(3)]
    other = await submit(rt, ans=answers(**{"applicant.id_number": "001099000111", "contact.phone": "0987000111",
                                            "applicant.full_name": "TRẦN THỊ CÚC"}))
    async with rt.sm() as db, db.begin():
        o = await OfficerRepo(db).get(desk_id)
        await off.claim(db, o, codes[0], rt.now(), calendar=rt.calendar)
    c = await desk.login(desk_id)
    r = await c.get("/queue")
    page1 = await r.text()
    assert "5 hồ sơ" in page1 and 'aria-current="page"' in page1  # page size 3: two pages
    assert late_code in page1  # sorted by due date: the overdue one first
    assert "quá hạn" in page1 and "ngày" in page1
    t = await (await c.get("/queue?page=2")).text()
    assert sum(x in t for x in [*codes, other, late_code]) == 2
    r = await c.get("/queue?f=mine")
    t = await r.text()
    assert codes[0] in t and "1 hồ sơ" in t
    r = await c.get("/queue?f=unclaimed")
    t = await r.text()
    assert codes[0] not in t and "4 hồ sơ" in t
    r = await c.get("/queue?f=overdue")
    assert "1 hồ sơ" in await r.text() and late_code in await r.text()
    r = await c.get("/queue?f=waiting")
    assert "0 hồ sơ" in await r.text()
    r = await c.get("/queue?sort=code&dir=desc")
    t = await r.text()
    shown = re.findall(r'href="/d/([^"]+)"', t)
    assert shown == sorted([*codes, other, late_code], reverse=True)[:3]
    r = await c.get(f"/queue?proc={'ho-tro-chi-phi-mai-tang'}&status=submitted")
    assert "5 hồ sơ" in await r.text()
    # search by POST only: CCCD, phone, name, code
    caplog.set_level(logging.DEBUG)
    for q in ("001099000111", "0987 000 111", "tran thi cuc", other.lower()):
        r = await post(c, "/queue", {"q": q})
        t = await r.text()
        assert "Tìm thấy 1 hồ sơ" in t and other in t, q
    r = await c.get("/queue?q=001099000111")  # a query string is not a search
    assert "5 hồ sơ" in await r.text()
    assert "001099000111" not in caplog.text and "0987" not in caplog.text and "CÚC" not in caplog.text
    # a leader of the same unit sees the same queue; others see none of it
    lc_client = await desk.login(leader)
    assert "5 hồ sơ" in await (await lc_client.get("/queue")).text()
    far = await officer(rt, lc.LEADER, commune="99999")
    police = await officer(rt, lc.LEADER, agency="police")
    for outsider in (far, police):
        oc = await desk.login(outsider)
        t = await (await oc.get("/queue")).text()
        assert "0 hồ sơ" in t and other not in t
        t = await (await post(oc, "/queue", {"q": "001099000111"})).text()
        assert other not in t


# -- a dossier, its files and actions -----------------------------------------------------------------------
async def test_dossier_page_files_and_form(desk: Desk):
    rt = desk.rt
    code, sha = await submit_with_photo(rt)
    oid = await officer(rt, lc.DESK)
    c = await desk.login(oid)
    r = await c.get(f"/d/{code}")
    t = await r.text()
    assert r.status == 200 and code in t and "NGUYỄN VĂN AN" in t and "Thôn 3" in t  # answers by section
    assert "<dt>Người mất</dt><dd>NGUYỄN VĂN AN</dd>" in t  # whom the dossier is about, beside the applicant
    assert "Các phần việc và cơ quan" in t and "Lịch sử xử lý" in t and "UBND cấp xã" in t
    assert f"/d/{code}/file/{sha}" in t and "Nhận xử lý" in t
    r = await c.get(f"/d/{code}/file/{sha}")
    assert r.status == 200 and r.headers["Content-Type"] == "image/jpeg"
    assert r.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in r.headers["Content-Security-Policy"]
    assert (await r.read()).startswith(b"\xff\xd8")
    assert (await c.get(f"/d/{code}/file/{'0' * 64}")).status == 404  # not this dossier's
    assert (await c.get(f"/d/{code}/file/..%2F..%2Fetc")).status == 404
    r = await c.get(f"/d/{code}/form.pdf")
    assert r.status == 200 and r.headers["Content-Type"] == "application/pdf"
    assert (await r.read()).startswith(b"%PDF")
    r = await c.get(f"/d/{code}/receipt")
    assert r.status == 409  # not received yet
    assert (await c.get("/d/MT-0000-NOTACODE")).status == 404
    assert 'id="follows"' not in t
    later = await submit(rt, ans=answers(**{FOLLOWS: code}))  # a dossier a receipt's follow-up began
    t = await (await c.get(f"/d/{later}")).text()
    assert f'<dd id="follows"><a href="/d/{code}">{code}</a></dd>' in t  # the one it carries on from, one click


async def test_jurisdiction_refusals_on_every_dossier_route(desk: Desk):
    rt = desk.rt
    code, sha = await submit_with_photo(rt)
    far = await officer(rt, lc.LEADER, commune="99999")
    police = await officer(rt, lc.LEADER, agency="police")
    for outsider in (far, police):
        c = await desk.login(outsider)
        for path in (f"/d/{code}", f"/d/{code}/file/{sha}", f"/d/{code}/form.pdf", f"/d/{code}/receipt"):
            r = await c.get(path)
            assert r.status == 404, path
            assert "thuộc phạm vi của bạn" in await r.text() or r.status == 404
        for verb in ("claim", "receive", "supplement", "approve", "reject", "return", "reassign", "release",
                     "review"):
            r = await post(c, f"/d/{code}/act/{verb}", {"v": "1", "stage": "confirm", "reason": "x",
                                                        "number": "1/QĐ"})
            assert r.status in (404, 409), verb
            assert "thuộc phạm vi của bạn" in await r.text(), verb
    leg = await leg_of(rt, code)
    assert leg.status == lc.SUBMITTED and leg.claimed_by is None


async def test_the_whole_desk_flow_notifies_the_citizen_through_the_outbox(desk: Desk):
    rt = desk.rt
    code, _sha = await submit_with_photo(rt)
    desk_id = await officer(rt, lc.DESK, name="Nguyễn Thu Hà")
    spec = await officer(rt, lc.SPECIALIST, name="Lê Văn Minh")
    leader = await officer(rt, lc.LEADER, name="Phạm Quốc Tuấn")
    d = await desk.login(desk_id)
    s = await desk.login(spec)
    ld = await desk.login(leader)
    page = f"/d/{code}"
    # the specialist cannot take a dossier not yet received (no button, and a refusal if forced)
    t = await (await s.get(page)).text()
    assert 'id="act-claim"' not in t
    r = await post(s, f"{page}/act/claim", {"v": await version(rt, code)}, page=page)
    assert r.status == 409 and "error" in await r.text()
    # the desk claims and receives
    r = await post(d, f"{page}/act/claim", {"v": await version(rt, code)}, page=page)
    assert r.status == 200 and "Bạn đã nhận xử lý hồ sơ" in await r.text()
    stale = await version(rt, code) - 1
    r = await post(d, f"{page}/act/receive", {"v": stale}, page=page)
    assert r.status == 409 and "vừa được người khác thay đổi" in await r.text()
    r = await post(d, f"{page}/act/receive", {"v": await version(rt, code)}, page=page)
    assert "Đã tiếp nhận hồ sơ" in await r.text()
    assert [m.chat_key for m in await outbox(rt, kind="citizen_received")] == ["console:citizen"]
    r = await d.get(f"{page}/receipt")
    t = await r.text()
    assert r.status == 200 and "GIẤY TIẾP NHẬN HỒ SƠ" in t and code in t and "/static/print.js" in t
    # the desk cannot approve: not offered, refused when forced
    r = await post(d, f"{page}/act/approve", {"v": await version(rt, code), "stage": "confirm", "number": "1/QĐ"},
                   page=page)
    assert r.status == 409
    # the specialist claims, reviews and asks for a supplement with the per-item picker
    await post(s, f"{page}/act/claim", {"v": await version(rt, code)}, page=page)
    await post(s, f"{page}/act/review", {"v": await version(rt, code)}, page=page)
    r = await post(s, f"{page}/act/supplement", {"v": await version(rt, code)}, page=page)
    t = await r.text()
    assert 'name="item" value="contact.phone"' in t and "<legend>" in t
    r = await post(s, f"{page}/act/supplement", {"v": await version(rt, code), "stage": "submit", "reason": ""},
                   page=page)
    assert r.status == 409  # a reason is required
    r = await post(s, f"{page}/act/supplement", [("v", await version(rt, code)), ("stage", "submit"),
                                                ("item", "contact.phone"), ("item", "docs.death_notice"),
                                                ("reason", "Ảnh giấy báo tử bị mờ.")], page=page)
    assert "Đã gửi yêu cầu bổ sung" in await r.text()
    [note] = await outbox(rt, kind="citizen_needs_supplement")
    assert note.chat_key == "console:citizen" and "bị mờ" in note.payload["text"]
    # the citizen's chat receives it, through the same notifier as from the chat
    sender = MemorySender("console")
    await Notifier(rt.sm, [sender], sleep=_no_sleep).run_once()
    assert any(k == "console:citizen" and "bị mờ" in p["text"] for k, p in sender.sent)
    async with rt.sm() as db, db.begin():
        [req] = await off.open_supplement_requests(db, "console:citizen")
        await off.resubmit(db, req["id"], {"contact.phone": "0987654321"}, "console:citizen", rt.now(),
                           calendar=rt.calendar)
    # approve is confirmed a second time, as in the chat
    r = await post(s, f"{page}/act/approve", {"v": await version(rt, code)}, page=page)
    assert 'id="number"' in await r.text()
    r = await post(s, f"{page}/act/approve", {"v": await version(rt, code), "stage": "submit", "number": ""},
                   page=page)
    assert r.status == 422
    r = await post(s, f"{page}/act/approve", {"v": await version(rt, code), "stage": "submit",
                                              "number": "15/QĐ-UBND"}, page=page)
    assert 'id="confirm"' in await r.text() and (await leg_of(rt, code)).status == lc.RESUBMITTED
    r = await post(s, f"{page}/act/approve", {"v": await version(rt, code), "stage": "confirm",
                                              "number": "15/QĐ-UBND"}, page=page)
    assert "Đã duyệt hồ sơ" in await r.text()
    assert (await leg_of(rt, code)).result_number == "15/QĐ-UBND"
    assert [m.chat_key for m in await outbox(rt, kind="citizen_approved")] == ["console:citizen"]
    # the leader reassigns the approved dossier to the desk, which returns the result
    r = await post(ld, f"{page}/act/reassign", {"v": await version(rt, code)}, page=page)
    assert "Nguyễn Thu Hà" in await r.text()
    r = await post(ld, f"{page}/act/reassign", {"v": await version(rt, code), "stage": "submit",
                                                "target": str(desk_id)}, page=page)
    assert "Đã giao lại hồ sơ" in await r.text()
    r = await post(d, f"{page}/act/return", {"v": await version(rt, code)}, page=page)
    assert "Đã trả kết quả hồ sơ" in await r.text()
    assert (await leg_of(rt, code)).status == lc.RESULT_ISSUED
    t = await (await d.get(page)).text()
    assert "15/QĐ-UBND" in t and "Hồ sơ này hiện không có thao tác nào dành cho bạn." in t
    # the audit trail is the chat's: the same events, by role and unit
    assert t.count("Bộ phận một cửa") >= 2 and "Công chức chuyên môn" in t


async def test_reject_is_confirmed_and_release_and_language(desk: Desk):
    rt = desk.rt
    code = await submit(rt)
    leader = await officer(rt, lc.LEADER)
    c = await desk.login(leader)
    page = f"/d/{code}"
    await post(c, f"{page}/act/claim", {"v": await version(rt, code)}, page=page)
    r = await post(c, f"{page}/act/release", {"v": await version(rt, code)}, page=page)
    assert "Đã trả hồ sơ" in await r.text() and (await leg_of(rt, code)).claimed_by is None
    await post(c, f"{page}/act/claim", {"v": await version(rt, code)}, page=page)
    r = await post(c, f"{page}/act/reject", {"v": await version(rt, code), "stage": "submit",
                                             "reason": "Không thuộc diện hỗ trợ."}, page=page)
    assert 'id="confirm"' in await r.text() and (await leg_of(rt, code)).status == lc.SUBMITTED
    r = await post(c, f"{page}/act/reject", {"v": await version(rt, code), "stage": "confirm",
                                             "reason": "Không thuộc diện hỗ trợ."}, page=page)
    assert "Đã từ chối hồ sơ" in await r.text()
    assert [m.chat_key for m in await outbox(rt, kind="citizen_rejected")] == ["console:citizen"]
    r = await post(c, "/lang", {"lang": "en", "back": page}, page=page)
    t = await r.text()
    assert 'lang="en"' in t and "Processing history" in t and "Rejected" in t
    r = await post(c, "/lang", {"lang": "vi", "back": "//evil.example"}, page=page, allow_redirects=False)
    assert r.headers["Location"] == "/queue"
    assert (await post(c, f"{page}/act/explode", {"v": "1"}, page=page)).status == 404


# -- the dashboard ------------------------------------------------------------------------------------------
async def _no_sleep(_s: float) -> None:
    return None


async def test_dashboard_is_for_focal_points_and_leaders(desk: Desk):
    rt = desk.rt
    code = await submit(rt)
    plain = await officer(rt, lc.DESK)
    focal = await officer(rt, lc.DESK, focal=True)
    c = await desk.login(plain)
    t = await (await c.get("/queue")).text()
    assert 'href="/dashboard"' not in t
    for path in ("/dashboard", "/dashboard/chart/daily.png", "/dashboard/export.csv", "/dashboard/report/1.png"):
        assert (await c.get(path)).status == 403, path
    assert (await post(c, "/dashboard/report", page="/queue")).status == 403
    f = await desk.login(focal)
    # the focal point sends today's report to their chat (to forward it); the daily job then sends no second one
    r = await post(f, "/dashboard/report", page="/dashboard")
    assert "Đã gửi báo cáo hôm nay vào cuộc trò chuyện của bạn" in await r.text()
    r = await post(f, "/dashboard/report", page="/dashboard")
    assert "đã được gửi vào cuộc trò chuyện của bạn trước đó" in await r.text()
    [sent] = await outbox(rt, kind="officer_daily_report")
    assert sent.chat_key == await chat_key(rt, focal) and "Báo cáo ngày" in sent.payload["text"]
    r = await f.get("/dashboard")
    t = await r.text()
    assert r.status == 200 and "Số hồ sơ xử lý: 0 · Trước &amp; đúng hạn: 0 · Trễ hạn: 0 · Tỉ lệ trễ hạn: 0%" in t
    assert "Từ đầu năm 2026" in t and "Báo cáo ngày" in t and f"/dashboard/report/{sent.id}.png" in t
    assert "Người dân dừng ở bước nào" in t
    for group in ("agency", "commune"):
        assert (await f.get(f"/dashboard?group={group}&scope=commune")).status == 200
    for kind in ("daily", "late"):
        r = await f.get(f"/dashboard/chart/{kind}.png?year=2026&month=11")
        assert r.status == 200 and (await r.read()).startswith(b"\x89PNG")
    r = await f.get("/dashboard/chart/daily.png?year=2025&month=1")  # nothing then: a chart that says so
    assert r.status == 200 and (await r.read()).startswith(b"\x89PNG")
    r = await f.get(f"/dashboard/report/{sent.id}.png")
    assert r.status == 200 and (await r.read()).startswith(b"\x89PNG")
    other = await officer(rt, lc.LEADER, commune="99999", focal=True)
    assert (await (await desk.login(other)).get(f"/dashboard/report/{sent.id}.png")).status == 404
    r = await f.get("/dashboard/export.csv?year=2026&month=11")
    body = (await r.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "Kỳ" and any(code in row for row in rows)
    assert CCCD not in body and PHONE not in body and "NGUYỄN" not in body
    r = await f.get("/dashboard/export.xlsx?year=2026&month=11")
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(await r.read()))
    assert wb.sheetnames == ["Thống kê", "Hồ sơ"] and wb["Hồ sơ"]["A2"].value == code


async def test_funnel_counts_where_drafts_stopped(desk: Desk, clock):
    rt = desk.rt
    focal = await officer(rt, lc.LEADER, focal=True)
    from tests.conftest import Chat
    from tests.test_conversation_funeral import fill_until_organizer
    ch = await Chat(rt, "console:quitter").start()
    await fill_until_organizer(ch)
    c = await desk.login(focal)
    t = await (await c.get("/dashboard")).text()
    assert "Đang khai: 1 · Dừng giữa chừng: 0" in t
    from datetime import datetime

    from storage.models import DraftRow
    async with rt.sm() as db, db.begin():  # two days later (drafts carry the database's own clock)
        await db.execute(update(DraftRow).values(updated_at=datetime.now(UTC) - timedelta(days=2)))
    c = await desk.login(focal)
    t = await (await c.get("/dashboard")).text()
    assert "Dừng giữa chừng: 1" in t
    step = re.search(r'<th scope="row">([^<]+)</th><td data-label="Số tờ khai"><meter min="0" max="1" value="1">', t)
    assert step, t[t.index("Người dân dừng"):][:1500]
    assert "NGUYỄN" not in t[t.index("Người dân dừng"):]  # counts and step names only


async def test_dvcbot_web_serves(tmp_path):
    """`dvcbot web --listen` in a process of its own, on a fresh SQLite database."""
    import asyncio
    import os
    import socket
    import sys
    from pathlib import Path

    import aiohttp
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    env.pop("DVCBOT_WEB_SECRET", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--db", f"sqlite:///{tmp_path}/d.db", "--var", str(tmp_path / "var"),
        "web", "--listen", f"127.0.0.1:{port}", env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(1200):  # a generous start-up allowance on a busy machine
                try:
                    async with http.get(f"http://127.0.0.1:{port}/login") as r:
                        assert r.status == 200 and "Mã đăng nhập" in await r.text()
                        break
                except aiohttp.ClientConnectionError:
                    assert proc.returncode is None, (await proc.stderr.read()).decode()
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("dvcbot web did not start")
        assert (tmp_path / "var" / "web-secret").stat().st_mode & 0o777 == 0o600
    finally:
        proc.terminate()
        await proc.wait()


async def test_small_routes_files_by_recorded_type_and_the_access_log(desk: Desk, caplog):
    rt = desk.rt
    assert (await (await desk.browser()).get("/healthz")).status == 200
    anon = await desk.browser()
    r = await anon.get("/static/desk.css")
    assert r.status == 200 and "text/css" in r.headers["Content-Type"]
    r = await anon.get("/", allow_redirects=False)
    assert r.status == 303  # to the queue, which sends a stranger to /login
    pdf_bytes = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    html = b"<script>alert(1)</script>"
    files = []
    for data, mime, name in ((pdf_bytes, "application/pdf", "giay.pdf"), (html, "text/html", "x.html")):
        files.append({"sha256": rt.attachments.put(data), "mime": mime, "size": len(data), "name": name})
    code = await submit(rt, ans=answers(**{"docs.death_notice": files}))
    oid = await officer(rt, lc.DESK)
    c = await desk.login(oid)
    r = await c.get("/login", allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/queue"
    t = await (await c.get(f"/d/{code}")).text()
    assert f'<object data="/d/{code}/file/{files[0]["sha256"]}" type="application/pdf"' in t  # embedded
    r = await c.get(f"/d/{code}/file/{files[0]['sha256']}")
    assert r.headers["Content-Type"] == "application/pdf" and r.headers["Content-Disposition"] == "inline"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    r = await c.get(f"/d/{code}/file/{files[1]['sha256']}")  # never served as a page of ours
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["Content-Disposition"].startswith("attachment")
    # the access log: route and status, never a one-time link's token
    from bot.web.app import AccessLogger
    lines: list[str] = []

    class Req:
        method, path = "GET", "/login/link/SECRET-TOKEN"

    class Resp:
        status = 200
    logger = logging.getLogger("dvcbot.web.access.test")
    logger.setLevel(logging.INFO)
    logger.addHandler(type("H", (logging.Handler,), {"emit": lambda self, rec: lines.append(rec.getMessage())})())
    AccessLogger(logger, "").log(Req(), Resp(), 0.01)
    assert lines == ["GET /login/link/… 200 10ms"]


async def test_the_daily_report_names_who_holds_an_overdue_dossier(desk: Desk, clock):
    rt = desk.rt
    focal = await officer(rt, lc.DESK, name="Nguyễn Thu Hà", focal=True)
    code = await submit(rt, when=clock.when - timedelta(days=10))
    async with rt.sm() as db, db.begin():
        o = await OfficerRepo(db).get(focal)
        await off.claim(db, o, code, rt.now(), calendar=rt.calendar)
    c = await desk.login(focal)
    r = await c.get("/dashboard")
    t = await r.text()
    assert r.status == 200 and f"{code} — UBND cấp xã — Nguyễn Thu Hà" in t
