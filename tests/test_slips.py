"""The desk's slips as PDFs: the receipt on receive, the supplement request, the refusal, the process-tracking
sheet and the apology with a new date, driven through the real runtime, the officer chat and the outbox."""
from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import pypdf

from bot import cases as off
from bot import formcopy
from bot.cases.base import field_label
from bot.notifier import MemorySender, Notifier
from bot.service import Runtime
from dialogs import lifecycle as lc
from dialogs.forms.slips import check_slips, load_slips
from dialogs.i18n import translator
from dialogs.messages import Ask, Incoming, Message
from dialogs.textnorm import fold
from storage.models import DossierEvent
from storage.officers_repo import LegRepo
from tests.test_officers import CITIZEN, chat_key, do, leg_of, officer, outbox, submit
from tests.test_web import desk  # noqa: F401  (the web desk fixture)


def pdf_text(path_or_bytes) -> str:
    """The PDF's text, whitespace folded; with DVCBOT_SLIPS_DIR set the PDF is also kept there to look at."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    assert data[:5] == b"%PDF-"
    if os.environ.get("DVCBOT_SLIPS_DIR"):
        title = str(pypdf.PdfReader(io.BytesIO(data)).metadata.title or "slip")
        out = Path(os.environ["DVCBOT_SLIPS_DIR"]) / f"{fold(title).replace(' ', '-')}.pdf"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    return " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages).split())


async def deliver(rt: Runtime) -> MemorySender:
    sender = MemorySender("console")
    n = Notifier(rt.sm, [sender], now=rt.now, chats=[CITIZEN])
    formcopy.attach(n, rt)
    await n.drain()
    return sender


async def press(rt: Runtime, key: str, **kw) -> list:
    replies = await rt.handle(key, Incoming(**kw))
    assert replies and isinstance(replies[-1], Ask)
    return replies


def files(replies) -> list[Message]:
    return [r for r in replies if isinstance(r, Message) and r.file is not None]


def test_slip_templates_are_dated_data_with_known_values():
    slips = load_slips()
    assert {t.kind for t in slips.values()} == {"receipt", "supplement", "refusal", "apology", "tracking"}
    assert all(t.legal_basis and t.verified is False for t in slips.values())  # the form texts were not read
    assert check_slips() == []


async def test_receipt_goes_to_the_citizen_on_receive_and_to_the_officer(runtime: Runtime):
    code = await submit(runtime)
    front = await officer(runtime, lc.DESK, name="Trần Thị Một Cửa")
    await do(runtime, front, off.claim, code)
    await do(runtime, front, off.receive, code)
    leg = await leg_of(runtime, code)
    [row] = await outbox(runtime, kind="slip")
    assert row.chat_key == CITIZEN and row.payload["slip"] == "receipt"
    assert "NGUYỄN" not in str(row.payload)  # no personal data in the row
    sender = await deliver(runtime)
    sent = {p["file"]["name"]: p for _k, p in sender.sent if "file" in p}
    name = f"{code}-giay-tiep-nhan.pdf"
    assert name in sent and "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in sent[name]["text"]
    text = pdf_text(runtime.attachments.get(sent[name]["file"]["sha256"]))
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text and code in text
    assert leg.due_date.strftime("%d/%m/%Y") in text and "Trần Thị Một Cửa" in text
    assert "Giấy báo tử" in text  # the papers received
    # the officer prints it from the dossier: “In phiếu” lists the slips of the leg
    key = await chat_key(runtime, front)
    r = await press(runtime, key, choice=f"open:{code}")
    assert f"slips:{code}" in [c.value for c in r[-1].choices]
    r = await press(runtime, key, choice=f"slips:{code}")
    values = [c.value for c in r[-1].choices]
    assert f"slip:receipt:{code}" in values and f"slip:tracking:{code}" in values
    assert f"slip:refusal:{code}" not in values
    r = await press(runtime, key, text="1")  # a typed number picks the first slip
    [doc] = files(r)
    assert doc.file.name == name and code in pdf_text(runtime.attachments.get(doc.file.sha256))


async def test_supplement_slip_lists_the_items_reason_and_deadline(runtime: Runtime):
    code = await submit(runtime)
    front = await officer(runtime, lc.DESK)
    await do(runtime, front, off.claim, code)
    req = await do(runtime, front, off.request_supplement, code, ["deceased.burial_date", "docs.death_notice"],
                   "Ảnh giấy báo tử bị mờ")
    [row] = await outbox(runtime, kind="slip")
    assert row.payload["slip"] == "supplement" and row.payload["ref"] == req.id
    sender = await deliver(runtime)
    [payload] = [p for _k, p in sender.sent if "file" in p and p["file"]["name"].endswith("phieu-bo-sung.pdf")]
    text = pdf_text(runtime.attachments.get(payload["file"]["sha256"]))
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text and code in text
    assert "Ảnh giấy báo tử bị mờ" in text and req.due_date.strftime("%d/%m/%Y") in text
    form = runtime.catalog.form("ho-tro-chi-phi-mai-tang")
    for path in ("deceased.burial_date", "docs.death_notice"):
        assert " ".join(field_label(form, path, translator("vi")).split()) in text


async def test_refusal_slip_carries_the_reason(runtime: Runtime):
    code = await submit(runtime)
    front = await officer(runtime, lc.DESK, name="Lê Văn Từ")
    key = await chat_key(runtime, front)
    await press(runtime, key, choice=f"claim:{code}")
    await press(runtime, key, choice=f"reject:{code}")
    await press(runtime, key, text="Người mất không thuộc diện hỗ trợ đột xuất.")
    await press(runtime, key, choice="yes")
    assert (await leg_of(runtime, code)).status == lc.REJECTED
    sender = await deliver(runtime)
    [payload] = [p for _k, p in sender.sent if "file" in p and p["file"]["name"] == f"{code}-phieu-tu-choi.pdf"]
    text = pdf_text(runtime.attachments.get(payload["file"]["sha256"]))
    assert "PHIẾU TỪ CHỐI" in text and "Người mất không thuộc diện hỗ trợ đột xuất." in text
    assert "Lê Văn Từ" in text and code in text


async def test_tracking_sheet_shows_every_hand_over(runtime: Runtime):
    code = await submit(runtime)
    front = await officer(runtime, lc.DESK, name="Trần Thị Một Cửa")
    spec = await officer(runtime, lc.SPECIALIST, name="Phạm Chuyên Môn")
    await do(runtime, front, off.claim, code)
    await do(runtime, front, off.receive, code)
    await do(runtime, spec, off.claim, code)
    await do(runtime, spec, off.review, code)
    await do(runtime, spec, off.approve, code, "12/QĐ-UBND")
    key = await chat_key(runtime, spec)
    await press(runtime, key, choice=f"open:{code}")
    r = await press(runtime, key, choice=f"slip:tracking:{code}")
    [doc] = files(r)
    assert doc.file.name == f"{code}-phieu-kiem-soat.pdf"
    text = pdf_text(runtime.attachments.get(doc.file.sha256))
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text and code in text
    assert "Trần Thị Một Cửa" in text and "Phạm Chuyên Môn" in text
    assert "Tiếp nhận" in text and "12/QĐ-UBND" in text
    assert (await leg_of(runtime, code)).due_date.strftime("%d/%m/%Y") in text


async def test_apology_for_a_late_leg_sets_a_new_date_and_tells_the_citizen(runtime: Runtime, clock):
    code = await submit(runtime)
    front = await officer(runtime, lc.DESK, name="Trần Thị Một Cửa")
    key = await chat_key(runtime, front)
    await do(runtime, front, off.claim, code)
    await do(runtime, front, off.receive, code)
    r = await press(runtime, key, choice=f"open:{code}")
    assert f"apology:{code}" not in [c.value for c in r[-1].choices]  # not late yet
    leg = await leg_of(runtime, code)
    clock.when = clock.when + timedelta(days=14)  # Monday 7 December 2026: well past the due date
    r = await press(runtime, key, choice=f"open:{code}")
    assert f"apology:{code}" in [c.value for c in r[-1].choices]
    r = await press(runtime, key, choice=f"apology:{code}")
    assert r[-1].field == "officer.apology_date"
    r = await press(runtime, key, text="12/12/2026")  # a Saturday
    assert any(getattr(m, "error", False) and "không phải ngày làm việc" in m.text for m in r)
    assert r[-1].field == "officer.apology_date"
    r = await press(runtime, key, text="01/12/2026")  # in the past
    assert r[-1].field == "officer.apology_date"
    r = await press(runtime, key, text="9/12/2026")
    assert r[-1].field == "officer.apology_reason"
    r = await press(runtime, key, text="Chờ xác minh nơi cư trú của người mất")
    [doc] = files(r)
    assert doc.file.name == f"{code}-phieu-xin-loi.pdf"
    text = pdf_text(runtime.attachments.get(doc.file.sha256))
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text and "09/12/2026" in text
    assert leg.due_date.strftime("%d/%m/%Y") in text and "Chờ xác minh nơi cư trú" in text
    assert "🗓" in "\n".join(m.text for m in r)  # the dossier now shows the new date
    # the audit trail has it; the leg stays late
    async with runtime.sm() as db:
        d = await LegRepo(db).dossier(code)
        [ev] = [e for e in (await db.execute(DossierEvent.__table__.select()
                                             .where(DossierEvent.dossier_id == d.id))).all()
                if e.action == lc.REAPPOINT]
        assert ev.data["new_date"] == "2026-12-09" and ev.to_status == ev.from_status
    assert (await leg_of(runtime, code)).due_date == leg.due_date
    [told] = await outbox(runtime, kind="citizen_reappointed")
    assert told.chat_key == CITIZEN and "09/12/2026" in told.payload["text"] and "xin lỗi" in told.payload["text"]
    # and the citizen's /hoso shows the new date
    async with runtime.sm() as db:
        [mine] = await off.citizen_dossiers(db, CITIZEN, runtime.calendar, runtime.now(), catalog=runtime.catalog)
    assert "hẹn lại ngày trả kết quả: 09/12/2026" in mine["status_label"]


async def test_apology_is_refused_to_a_specialist_who_does_not_hold_the_leg(runtime: Runtime, clock):
    code = await submit(runtime)
    front = await officer(runtime, lc.DESK)
    spec = await officer(runtime, lc.SPECIALIST)
    await do(runtime, front, off.claim, code)
    await do(runtime, front, off.receive, code)
    clock.when = clock.when + timedelta(days=14)
    try:
        await do(runtime, spec, off.apologise, code, (clock.when + timedelta(days=2)).date(), "Chờ xác minh")
    except off.ActionRefused as exc:
        assert exc.code == "role"
    else:
        raise AssertionError("a specialist without the leg may not apologise")
    assert not await outbox(runtime, kind="citizen_reappointed")


# -- the web desk ---------------------------------------------------------------------------------------------
async def test_web_desk_prints_each_slip_and_apologises_with_csrf(desk, clock):  # noqa: F811  (the fixture)
    from tests.test_web import post, submit_with_photo, version
    rt = desk.rt
    code, _sha = await submit_with_photo(rt)
    desk_id = await officer(rt, lc.DESK, name="Nguyễn Thu Hà")
    c = await desk.login(desk_id)
    page = f"/d/{code}"
    t = await (await c.get(page)).text()
    assert f"{page}/slip/tracking.pdf" in t and f"{page}/slip/receipt.pdf" not in t  # not received yet
    assert (await c.get(f"{page}/slip/receipt.pdf")).status == 404
    assert (await c.get(f"{page}/slip/nonsense.pdf")).status == 404
    await post(c, f"{page}/act/claim", {"v": await version(rt, code)}, page=page)
    await post(c, f"{page}/act/receive", {"v": await version(rt, code)}, page=page)
    t = await (await c.get(page)).text()
    assert f"{page}/slip/receipt.pdf" in t and 'id="act-apology"' not in t  # received; not late
    r = await c.get(f"{page}/slip/receipt.pdf")
    assert r.status == 200 and r.headers["Content-Type"] == "application/pdf"
    assert f'filename="{code}-giay-tiep-nhan.pdf"' in r.headers["Content-Disposition"]
    text = pdf_text(await r.read())
    leg = await leg_of(rt, code)
    assert code in text and leg.due_date.strftime("%d/%m/%Y") in text and "Nguyễn Thu Hà" in text
    # late: the apology form, with CSRF
    clock.when = clock.when + timedelta(days=14)
    c = await desk.login(desk_id)  # two weeks later: a new session
    t = await (await c.get(page)).text()
    assert 'id="act-apology"' in t
    r = await c.post(f"{page}/apology", data={"new_date": "2026-12-09", "reason": "Chờ xác minh"})
    assert r.status in (400, 403)  # no CSRF token
    r = await post(c, f"{page}/apology", {"v": await version(rt, code), "new_date": "2026-12-12",
                                            "reason": "Chờ xác minh nơi cư trú"}, page=page)
    assert r.status == 409 and "không phải ngày làm việc" in await r.text()
    r = await post(c, f"{page}/apology", {"v": await version(rt, code), "new_date": "2026-12-09",
                                            "reason": "Chờ xác minh nơi cư trú"}, page=page)
    t = await r.text()
    assert r.status == 200 and "09/12/2026" in t and f"{page}/slip/apology.pdf" in t
    text = pdf_text(await (await c.get(f"{page}/slip/apology.pdf")).read())
    assert "PHIẾU XIN LỖI" in text and "09/12/2026" in text
    [told] = await outbox(rt, kind="citizen_reappointed")
    assert "09/12/2026" in told.payload["text"]
    # another commune's officer gets nothing
    far = await desk.login(await officer(rt, lc.LEADER, commune="99999"))
    assert (await far.get(f"{page}/slip/tracking.pdf")).status == 404
    r = await post(far, f"{page}/apology", {"new_date": "2026-12-10", "reason": "Chờ xác minh"})
    assert r.status in (404, 409) and "thuộc phạm vi của bạn" in await r.text()


async def test_linked_death_group_each_agency_has_its_receipt_and_the_sheet_shows_both_parts(chat, runtime: Runtime):
    from tests.test_linked_legs import death_dossier
    code, commune = await death_dossier(chat, runtime)
    ubnd = await officer(runtime, lc.LEADER, name="Trần Lan", commune=commune, agency="commune")
    police = await officer(runtime, lc.LEADER, name="Đỗ Hùng", commune=commune, agency="police")
    for o in (ubnd, police):
        await do(runtime, o, off.claim, code)
        await do(runtime, o, off.receive, code)
    rows = await outbox(runtime, kind="slip", chat_key=chat.user)
    assert [r.payload["slip"] for r in rows] == ["receipt", "receipt"]  # one per agency's part
    assert len({r.payload["leg"] for r in rows}) == 2
    key = await chat_key(runtime, police)
    r = await press(runtime, key, choice=f"slip:receipt:{code}")
    [doc] = files(r)
    text = pdf_text(runtime.attachments.get(doc.file.sha256))
    assert "Công an cấp xã" in text and "Xóa đăng ký thường trú" in text and "Đỗ Hùng" in text
    r = await press(runtime, key, choice=f"slip:tracking:{code}")
    text = pdf_text(runtime.attachments.get(files(r)[0].file.sha256))
    assert "Đăng ký khai tử" in text and "Xóa đăng ký thường trú" in text
    assert "Trần Lan" in text and "Đỗ Hùng" in text
