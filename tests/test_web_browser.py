"""The web desk in a real browser (headless Chromium driven by Selenium), against a real server and database.

The scenario of a desk morning: sign in with a code taken from the officer chat, find a dossier by CCCD, open a
photo, receive the dossier, request a supplement, see the citizen's chat receive it (through the outbox and the
notifier), approve, and print the receipt. Skipped when chromium/chromedriver are missing, except with CI=true
(.ci/run installs them), where it must run. With DVCBOT_SCREENSHOTS=docs/img it saves screenshots of the queue,
a dossier and the dashboard there.
"""
from __future__ import annotations

import asyncio
import base64
import io
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot import cases as off
from bot import reports
from bot.notifier import MemorySender, Notifier
from bot.service import Runtime
from bot.web.server import WebConfig, make_app
from dialogs import lifecycle as lc
from dialogs.messages import Incoming
from storage.officers_repo import OfficerRepo
from tests.conftest import VN, Chat, FixedClock
from tests.test_officers import answers, leg_of

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
IN_CI = os.environ.get("CI") == "true"

if not (CHROMIUM and CHROMEDRIVER) and not IN_CI:
    pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)
selenium = pytest.importorskip("selenium") if not IN_CI else __import__("selenium")

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CCCD = "068085004321"
SHOTS = os.environ.get("DVCBOT_SCREENSHOTS")


def photo_jpeg() -> bytes:
    """A real, decodable photo of a paper (so the browser can show it)."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (900, 1200), (250, 248, 240))
    d = ImageDraw.Draw(img)
    d.rectangle((40, 40, 860, 1160), outline=(60, 60, 60), width=4)
    d.text((300, 120), "GIAY BAO TU", fill=(20, 20, 20))
    for i in range(14):
        d.line((100, 260 + 60 * i, 800, 260 + 60 * i), fill=(160, 160, 160), width=2)
    d.ellipse((600, 900, 800, 1100), outline=(200, 30, 30), width=6)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=80)
    return buf.getvalue()


async def submit(rt: Runtime, *, when: datetime, ans: dict) -> str:
    """A dossier as the runtime stores it at submission, then the lifecycle hook (legs, pushes, receipt)."""
    from dialogs.codes import new_dossier_code
    from storage.repo import DossierRepo
    proc = rt.catalog.get("ho-tro-chi-phi-mai-tang")
    async with rt.sm() as db, db.begin():
        d, _created = await DossierRepo(db).create(
            code=lambda: new_dossier_code(proc.code_prefix, when.date()), idempotency_key=uuid.uuid4().hex,
            procedure_id=proc.id, procedure_version=proc.version, agency="commune", commune_code="25222",
            submitter_key="console:citizen" if ans.get("applicant.id_number") == CCCD
            else f"console:{uuid.uuid4().hex}",
            applicant_key=None, applicant_name=ans["applicant.full_name"], answers=ans, lang="vi", submitted_at=when,
            due_date=rt.calendar.due_date(when, proc.processing_days),
            attachments=[dict(a, path="docs.death_notice") for a in ans["docs.death_notice"]])
        await off.on_submitted(db, d, rt.calendar, when, catalog=rt.catalog)
        return d.code


class Server:
    """The runtime and the web app in a thread of their own, so the synchronous browser can talk to them."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=VN))  # a Monday morning
        self.rt = Runtime(f"sqlite+aiosqlite:///{tmp}/dvcbot.db", var_dir=tmp / "var", now=self.clock)
        self.call(self.rt.open())
        self.runner = None
        self.port = 0

    def call(self, coro, timeout: float = 120):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self) -> None:
        from aiohttp import web
        app = make_app(self.rt, WebConfig(secret=os.urandom(32)))
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def start(self) -> str:
        self.call(self._start())
        return f"http://127.0.0.1:{self.port}"

    async def _stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        await self.rt.close()

    def stop(self) -> None:
        self.call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def seed(rt: Runtime) -> dict:
    """A commune's month: dossiers finished on time and late, one overdue, new ones this morning, officers."""
    async def add(role, name, focal=False):
        async with rt.sm() as db, db.begin():
            o, invite = await off.add_officer(db, full_name=name, agency="commune", commune_code="25222", role=role,
                                              focal_point=focal, now=rt.now())
            key = f"console:officer-{uuid.uuid4().hex[:6]}"
            await off.redeem_invite(db, invite, key, rt.now())
            return o.id, key

    leader, leader_key = await add(lc.LEADER, "Phạm Quốc Tuấn", focal=True)
    await add(lc.DESK, "Nguyễn Thu Hà")
    await add(lc.SPECIALIST, "Lê Văn Minh")

    async def act(when, fn, code, *args):
        async with rt.sm() as db, db.begin():
            o = await OfficerRepo(db).get(leader)
            kw = {"calendar": rt.calendar}
            if fn not in (off.claim, off.release):
                kw["catalog"] = rt.catalog
            await fn(db, o, code, *args, when, **kw)

    names = ["TRẦN VĂN HÙNG", "LÊ THỊ MAI", "PHẠM VĂN ĐỨC", "VÕ THỊ LAN", "ĐỖ MINH KHOA", "HOÀNG THỊ YẾN",
             "BÙI VĂN SƠN", "NGÔ THỊ HẠNH"]
    base = datetime(2026, 11, 2, 8, 30, tzinfo=VN)
    for i, name in enumerate(names[:4]):  # finished in November, the last one late
        when = base + timedelta(days=i * 2)
        code = await submit(rt, when=when, ans=answers(**{"applicant.full_name": name,
                                                         "applicant.id_number": f"0680750{i:05d}"}))
        done = when + timedelta(days=1 if i < 3 else 9)
        for fn in (off.claim, off.receive):  # received at once: the time limit runs from the desk's receipt
            await act(when + timedelta(minutes=30), fn, code)
        for fn, *args in ((off.claim,), (off.approve, f"{10 + i}/QĐ-UBND"), (off.claim,), (off.return_result,)):
            await act(done, fn, code, *args)
    overdue = await submit(rt, when=datetime(2026, 11, 13, 10, 0, tzinfo=VN),
                           ans=answers(**{"applicant.full_name": names[4], "applicant.id_number": "068090001111"}))
    await act(datetime(2026, 11, 13, 14, 0, tzinfo=VN), off.claim, overdue)
    await act(datetime(2026, 11, 13, 14, 5, tzinfo=VN), off.receive, overdue)
    for i, name in enumerate(names[5:]):
        await submit(rt, when=rt.now() - timedelta(minutes=50 - i * 10),
                     ans=answers(**{"applicant.full_name": name, "applicant.id_number": f"06809500{i:04d}"}))
    data = photo_jpeg()
    sha = rt.attachments.put(data)
    photo = {"sha256": sha, "mime": "image/jpeg", "size": len(data), "name": "giay-bao-tu.jpg"}
    target = await submit(rt, when=rt.now() - timedelta(minutes=20),
                          ans=answers(**{"applicant.id_number": CCCD, "docs.death_notice": [photo]}))
    from storage.models import DraftRow  # citizens who started and stopped (the drop-off funnel)
    stale = datetime.now(VN) - timedelta(days=3)
    full = answers()
    stops = [["filer.role"], ["filer.role", "deceased.cause", "deceased.full_name"],
             ["filer.role", "deceased.cause", "deceased.full_name", "deceased.birth_date", "deceased.sex"],
             [k for k in full if not k.startswith(("applicant.", "contact.", "docs."))],
             [k for k in full if not k.startswith(("contact.", "docs."))]]
    async with rt.sm() as db, db.begin():
        for i, keys in enumerate(stops + stops[3:]):
            db.add(DraftRow(id=uuid.uuid4().hex, user_key=f"console:draft-{i}", procedure_id="ho-tro-chi-phi-mai-tang",
                            procedure_version=1, answers={k: full[k] for k in keys}, history=[], revision=1,
                            created_at=stale, updated_at=stale))
    async with rt.sm() as db, db.begin():  # the report the focal point received this morning
        await reports.enqueue_daily_reports(db, rt.now(), calendar=rt.calendar, catalog=rt.catalog, force=True)
    return {"leader": leader, "leader_key": leader_key, "target": target}


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def browser(tmp_path):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM or "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="dvcbot-chrome-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--window-size=1366,768", "--lang=vi"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER or "/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(60)
    viewport(driver)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def viewport(driver, width: int = 1366, height: int = 768, mobile: bool = False) -> None:
    """The page's own size (an office screen, or a phone), whatever the window decorations."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


def shot(driver, name: str, full: bool = False) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    if full:
        h = driver.execute_script("return document.documentElement.scrollHeight")
        viewport(driver, 1366, min(max(768, h), 4000))
    driver.save_screenshot(str(Path(SHOTS) / name))
    if full:
        viewport(driver)


def test_a_desk_morning_in_the_browser(server: Server, browser):
    t0 = time.monotonic()
    rt = server.rt
    seeded = server.call(seed(rt))
    url = server.start()
    code = seeded["target"]
    # (htmx swaps the page's parts: an element read while it is being replaced is retried, not an error; chromium
    # reports it as “Node with given id does not belong to the document”, which is no StaleElementReference)
    wait = WebDriverWait(browser, 20, ignored_exceptions=(WebDriverException,))
    b = browser

    # sign in with a code taken from the chat
    b.get(url + "/queue")
    assert b.current_url.endswith("/login")
    assert b.switch_to.active_element.get_attribute("id") == "code"  # the code box has the focus
    replies = server.call(rt.handle(seeded["leader_key"], Incoming(text="/dangnhap")))
    login_code = re.search(r"\b(\d{6})\b", replies[0].text).group(1)
    box = b.find_element(By.ID, "code")
    assert b.find_element(By.CSS_SELECTOR, "label[for=code]").text  # a labelled control
    box.send_keys(login_code)
    box.send_keys(Keys.ENTER)
    wait.until(EC.url_contains("/queue"))
    assert "Phạm Quốc Tuấn" in b.page_source
    rows = b.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")
    assert len(rows) == 5 and "quá hạn" in rows[0].text  # the overdue one first, days left in working days
    shot(b, "web-queue.png")
    ActionChains(b).send_keys(Keys.TAB).perform()  # keyboard: the first stop skips to the content
    assert b.switch_to.active_element.get_attribute("class") == "skip"
    viewport(b, 390, 844, mobile=True)  # a phone: the table becomes cards, nothing scrolls sideways
    b.refresh()
    assert b.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    shot(b, "web-queue-phone.png")
    viewport(b)
    b.refresh()

    # find the dossier by CCCD (a POST: the number never enters the address bar)
    q = b.find_element(By.ID, "q")
    q.send_keys(CCCD)
    q.send_keys(Keys.ENTER)
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "p.count"), "Tìm thấy 1 hồ sơ"))
    assert CCCD not in b.current_url
    b.find_element(By.LINK_TEXT, code).click()
    wait.until(EC.url_contains(f"/d/{code}"))

    # open the photo: it is shown inline, then full size in a tab of its own
    img = b.find_element(By.CSS_SELECTOR, "figure img")
    wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0)
    main = b.current_window_handle
    b.find_element(By.ID, "photo-1").click()
    wait.until(lambda d: len(d.window_handles) == 2)
    b.switch_to.window(next(h for h in b.window_handles if h != main))
    assert b.execute_script("return document.images.length && document.images[0].naturalWidth") == 900
    b.close()
    b.switch_to.window(main)

    # receive the dossier (claim, then receive), as the chat does
    b.find_element(By.ID, "act-claim").click()
    wait.until(EC.presence_of_element_located((By.ID, "done")))
    b.find_element(By.ID, "act-receive").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "done"), "Đã tiếp nhận hồ sơ"))
    assert server.call(leg_of(rt, code)).status == lc.RECEIVED

    # request a supplement with the per-item picker
    b.find_element(By.ID, "act-claim").click()
    wait.until(EC.presence_of_element_located((By.ID, "act-supplement")))
    b.find_element(By.ID, "act-supplement").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "input[name=item]")))
    b.find_element(By.CSS_SELECTOR, "input[name=item][value='contact.phone']").click()
    b.find_element(By.ID, "reason").send_keys("Số điện thoại không liên lạc được, vui lòng cho số khác.")
    b.find_element(By.CSS_SELECTOR, "form[action$='/act/supplement'] button[type=submit]").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "done"), "Đã gửi yêu cầu bổ sung"))

    # the citizen's chat receives it: the notifier delivers the outbox row to the citizen's chat
    sender = MemorySender("console")

    async def _no_sleep(_s):
        return None
    notifier = Notifier(rt.sm, [sender], sleep=_no_sleep, batch=100)
    for _ in range(10):  # deliver the whole outbox (the morning's pushes first)
        server.call(notifier.run_once())
    got = [p["text"] for k, p in sender.sent if k == "console:citizen"]
    assert any(code in t and "không liên lạc được" in t for t in got), got
    citizen = Chat(rt, "console:citizen")
    server.call(citizen.start())
    server.call(citizen.say("bổ sung"))
    assert "không liên lạc được" in citizen.text()
    server.call(citizen.say("0987 654 321"))
    server.call(citizen.press("send"))
    assert "Đã gửi bổ sung" in citizen.text()

    # the officer sees what changed, and approves (confirmed a second time)
    b.get(f"{url}/d/{code}")
    assert "0912345678 → 0987654321" in b.page_source
    shot(b, "web-dossier.png", full=True)
    b.find_element(By.ID, "act-approve").click()
    wait.until(EC.presence_of_element_located((By.ID, "number"))).send_keys("25/QĐ-UBND")
    b.find_element(By.CSS_SELECTOR, "form[action$='/act/approve'] button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.ID, "confirm"))).click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "done"), "Đã duyệt hồ sơ"))
    assert server.call(leg_of(rt, code)).result_number == "25/QĐ-UBND"

    # print the receipt: the browser's own print to PDF
    b.find_element(By.ID, "receipt-link").click()
    wait.until(EC.presence_of_element_located((By.ID, "print")))
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in b.page_source and code in b.page_source
    pdf = base64.b64decode(b.print_page())
    assert pdf.startswith(b"%PDF")
    if SHOTS:
        (Path(SHOTS) / "web-receipt.pdf").write_bytes(pdf) if os.environ.get("DVCBOT_KEEP_PDF") else None
    # and the desk's own receipt slip (Mẫu số 01) as a PDF, linked from the dossier page
    b.get(f"{url}/d/{code}")
    href = b.find_element(By.ID, "slip-receipt").get_attribute("href")
    data = b.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.arrayBuffer()).then(buf => {"
        " let s = ''; new Uint8Array(buf).forEach(c => { s += String.fromCharCode(c); }); done(btoa(s)); });", href)
    slip = base64.b64decode(data)
    assert slip.startswith(b"%PDF")
    import pypdf
    assert code in pypdf.PdfReader(io.BytesIO(slip)).pages[0].extract_text()

    # the focal point's dashboard
    b.get(url + "/dashboard?year=2026&month=11")
    stat = b.find_element(By.CSS_SELECTOR, "p.statline").text
    assert stat.startswith("Số hồ sơ xử lý: 4") and "Trễ hạn: 1" in stat and "25%" in stat
    charts = b.find_elements(By.CSS_SELECTOR, ".charts img")
    wait.until(lambda d: all(d.execute_script("return arguments[0].naturalWidth", c) > 0 for c in charts))
    shot(b, "web-dashboard.png", full=True)
    # sign out: the session is over
    b.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    wait.until(EC.url_contains("/login"))
    b.get(url + "/queue")
    assert b.current_url.endswith("/login")
    print(f"\nbrowser scenario: {time.monotonic() - t0:.1f} s")
