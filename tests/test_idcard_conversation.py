"""The ID card photo in conversations, driven through the runtime as a citizen would (real databases): the
funeral-support dossier filed typing only what the card does not say, every person block of every procedure,
what goes wrong (no QR, a bank QR, a card that contradicts itself), and Telegram and Zalo through their fakes."""
from __future__ import annotations

import logging
from datetime import date

import pytest

from bot.service import Runtime
from dialogs.catalog import Catalog
from storage.repo import DossierRepo
from tests.conftest import Chat, jpeg
from tests.idcard_images import Person, photo

PROC = "ho-tro-chi-phi-mai-tang"
OFFER = "Chụp mặt trước thẻ căn cước"
ADDRESS = "Thôn 3, Xã An Phượng, Huyện Thanh Hà, Hải Dương"

DECEASED = Person("030050001234", "", "Nguyễn Văn An", date(1950, 3, 5), "Nam", ADDRESS, date(2021, 6, 15))
ORGANIZER = Person("030175004321", "123456789", "Lê Thị Bình", date(1975, 2, 1), "Nữ",
                   "Xóm 2, Xã An Phượng, Huyện Thanh Hà, Hải Dương", date(2022, 1, 10))


def card_photo(p: Person, seed: int = 1, kind: str = "perspective") -> bytes:
    return photo(p.payload, seed, kind)


async def test_funeral_dossier_typing_only_what_the_card_does_not_say(chat: Chat, runtime: Runtime, caplog):
    caplog.set_level(logging.DEBUG)
    typed = 0

    async def say(text: str) -> None:
        nonlocal typed
        typed += 1
        await chat.say(text)

    await chat.press(PROC)
    await say("1")  # who is filing
    await chat.press("yes")  # consent: the cause of death is health data
    await say("thiên tai")
    await chat.expect("deceased.full_name")
    assert chat.ask.text.startswith(OFFER)  # the offer comes with the block's first question
    await chat.send_file(card_photo(DECEASED), "IMG_0001.jpg")
    await chat.expect("deceased.id_card")
    shown = chat.ask.text
    assert "NGUYỄN VĂN AN" in shown and "05/03/1950" in shown and "Nam" in shown
    assert "Xã An Phượng, Huyện Thanh Hà, Hải Dương → Thôn 3, Xã Hà Tây, Thành phố Hải Phòng" in shown
    assert [c.label for c in chat.ask.choices] == ["Đúng", "Sửa"]
    await chat.press("ok")
    await chat.expect("deceased.ethnicity")  # name, birth date, sex and residence were skipped
    await say("Kinh")
    await chat.expect("deceased.status")
    await say("Đã mất")
    await say("10/11/2026")
    await say("12/11/2026")
    await say("Nghĩa trang thôn 3")
    await chat.expect("organizer.kind")
    await say("1")
    await chat.expect("applicant.full_name")
    assert chat.ask.text.startswith(OFFER)
    await chat.send_file(card_photo(ORGANIZER, seed=2, kind="rotate"), "IMG_0002.jpg")
    assert "030175004321" in chat.ask.text and "10/01/2022" in chat.ask.text
    await say("đúng")
    await chat.expect("applicant.same_place")
    await say("có")
    await say("con")
    await say("0912345678")
    await chat.expect("docs.death_notice")
    await chat.send_file(jpeg(1), "giay-bao-tu.jpg")
    await chat.press("done")
    await chat.expect("_review")
    summary = chat.text()
    assert "Điền theo thẻ" not in summary and "Cách khai" not in summary  # the offer is not an answer
    await chat.press("confirm")
    await chat.press("yes")
    code = chat.dossier
    assert code
    async with runtime.sm() as db:
        dossier = await DossierRepo(db).by_code(code)
    a = dossier.answers
    assert a["deceased.full_name"] == "NGUYỄN VĂN AN" and a["deceased.birth_date"] == "1950-03-05"
    assert a["deceased.sex"] == "nam"
    assert a["deceased.residence"] == {"province_code": "31", "province": "Thành phố Hải Phòng",
                                       "commune_code": "10846", "commune": "Xã Hà Tây", "detail": "Thôn 3"}
    assert a["applicant.full_name"] == "LÊ THỊ BÌNH" and a["applicant.id_number"] == "030175004321"
    assert a["applicant.birth_date"] == "1975-02-01" and a["applicant.id_issue_date"] == "2022-01-10"
    assert a["applicant.residence"]["commune"] == "Xã Hà Tây" and a["applicant.residence"]["detail"] == "Xóm 2"
    assert a["deceased.id_card"] == a["applicant.id_card"] == "card"
    # the photos were read, not kept: only the death notice is an attachment
    assert [f["name"] for f in a["docs.death_notice"]] == ["giay-bao-tu.jpg"]
    stored = [p for p in runtime.attachments.root.rglob("*") if p.is_file()]
    assert all(p.read_bytes()[:2] != b"\xff\xd8" or p.read_bytes() == jpeg(1) for p in stored)
    # nothing read from the card reached the logs
    logged = caplog.text
    for secret in ("030175004321", "030050001234", "NGUYỄN", "Nguyễn Văn An", "An Phượng", "Bình"):
        assert secret not in logged
    # typed: filer, cause, ethnicity, died or missing, death and burial dates, burial place, organizer, same
    # place, relation, phone = 12 answers; the two cards saved 4 + 5 typed answers (and the address steps)
    assert typed == 12


async def test_no_qr_a_bank_qr_and_a_bad_card_lose_nothing(chat: Chat, runtime: Runtime):
    await chat.press(PROC)
    await chat.say("1")
    await chat.press("yes")  # consent: the cause of death is health data
    await chat.say("thiên tai")
    before = await chat.answers()
    # a photo with no QR: one short sentence with the hint, the same question
    await chat.send_file(b"GIF89a not really", "anh.gif")
    assert chat.error is not None and "không phải ảnh" in chat.error.text
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (800, 500), (200, 210, 220)).save(buf, "JPEG")
    await chat.send_file(buf.getvalue(), "trang.jpg")
    assert chat.error.text == ("Không tìm thấy mã QR trong ảnh. Hãy chụp thẳng, đủ sáng, cả thẻ trong khung rồi "
                               "gửi lại, hoặc gõ từng mục.")
    await chat.expect("deceased.full_name")
    assert chat.ask.text.startswith(OFFER)
    # a bank transfer QR
    vietqr = "00020101021138570010A00000072701270006970436011300110012345670208QRIBFTTA53037045802VN6304ABCD"
    await chat.send_file(photo(vietqr, 4, "rotate"))
    assert "chuyển khoản ngân hàng" in chat.error.text
    assert await chat.answers() == before
    # a card whose ID number does not match its own birth year: explained, not filled; the rest is
    bad = Person("030061001234", "", "Nguyễn Văn An", date(1960, 3, 5), "Nam", ADDRESS, date(2021, 6, 15))
    await chat.send_file(card_photo(bad, 5))
    await chat.expect("deceased.id_card")
    assert "NGUYỄN VĂN AN" in chat.ask.text
    # (the funeral's deceased block asks no ID number: nothing to explain there) — try the linked death group
    await chat.press("fix")
    assert [c.label for c in chat.ask.choices][-1] == "Gõ lại tất cả"
    await chat.press("f1")  # the birth date is wrong: it will be asked
    await chat.expect("deceased.birth_date")
    a = await chat.answers()
    assert a["deceased.full_name"] == "NGUYỄN VĂN AN" and "deceased.birth_date" not in a
    assert a["deceased.sex"] == "nam" and a["deceased.residence"]["commune"] == "Xã Hà Tây"


async def test_a_card_that_contradicts_itself_is_explained(runtime: Runtime):
    chat = await Chat(runtime, "console:khaitu").start()
    await chat.press("lien-thong-khai-tu")
    await reach(chat, "lien-thong-khai-tu", "requester.full_name")
    bad = Person("030061001234", "", "Trần Văn Cường", date(1960, 3, 5), "Nam",
                 "Số 5, Phường Dịch Vọng, Quận Cầu Giấy, Hà Nội", date(2021, 6, 15))
    await chat.send_file(card_photo(bad, 6))
    text = chat.ask.text
    assert "“Số định danh cá nhân" in text or "không khớp với năm sinh 1960" in text
    assert "không khớp với năm sinh 1960" in text
    assert "nay thuộc một trong: " in text  # Dịch Vọng was split between wards
    await chat.press("ok")
    await chat.expect("requester.id_card")
    labels = [c.label for c in chat.ask.choices]
    assert "Phường Cầu Giấy" in labels and labels[-1] == "Nơi khác"
    await chat.press(next(c.value for c in chat.ask.choices if c.label == "Phường Cầu Giấy"))
    await chat.expect("requester.id_number")  # the one field the card could not give
    a = await chat.answers()
    assert a["requester.full_name"] == "TRẦN VĂN CƯỜNG" and "requester.id_number" not in a
    assert a["requester.residence"]["commune"] == "Phường Cầu Giấy"
    await chat.say("001060012345")
    assert chat.field != "requester.id_number"


async def test_typing_at_the_offer_answers_the_first_question_and_back_goes_before_it(chat: Chat):
    await chat.press(PROC)
    await chat.say("1")
    await chat.press("yes")  # consent: the cause of death is health data
    await chat.say("thiên tai")
    await chat.expect("deceased.full_name")
    await chat.say("quay lại")
    await chat.expect("deceased.cause")
    await chat.say("thiên tai")
    await chat.say("lê thị mây")
    await chat.expect("deceased.birth_date")
    assert not chat.ask.text.startswith(OFFER)
    a = await chat.answers()
    assert a["deceased.full_name"] == "LÊ THỊ MÂY" and a["deceased.id_card"] == "typed"
    await chat.say("quay lại")
    await chat.expect("deceased.full_name")
    await chat.say("quay lại")
    await chat.expect("deceased.cause")


# ---------------------------------------------------------------------------------------------
# every person block of every procedure, through the runtime
def _offers() -> list[tuple[str, str]]:
    catalog = Catalog.load()
    return [(p.id, f.id) for p in catalog.procedures.values() for s in p.sections for f in s.fields
            if f.kind == "id_card"]


# answers that lead to each block (the first choice elsewhere)
ROUTES = {
    "ho-tro-chi-phi-mai-tang": {"organizer.kind": "household"},
    "doi-cap-lai-giay-xac-nhan-khuyet-tat": {"filer.role": "representative"},
    "xac-dinh-muc-do-khuyet-tat": {"filer.role": "representative"},
    "lien-thong-khai-sinh": {"case.border_foreign_parent": "no", "residence.collective": "no",
                             "requester.relation": "ong", "head.who": "other"},
    "lien-thong-khai-tu": {"removal.was_head": "no", "head.is_requester": "no"},
    "nhan-tro-cap-qua-tai-khoan": {"filer.kind": "guardian"},
    "bao-thay-doi-nhan-tro-cap": {},
}


class Driver:
    """Answers whatever is asked with something valid, until the bot offers the card for ``target``."""

    def __init__(self, chat: Chat, proc: str, routes: dict[str, str]):
        self.chat, self.proc, self.routes = chat, proc, routes
        self.form = Catalog.load().form(proc)

    async def answer(self) -> None:
        ask, chat = self.chat.ask, self.chat
        f = self.form.field(ask.field)
        base = ask.field.rsplit(".", 1)[-1]
        if ask.field in self.routes:
            v = self.routes[ask.field]
            values = [c.value for c in ask.choices]
            return await (chat.press(v) if v in values else chat.say(v))
        kind = ask.kind
        if kind in ("choice", "multi_choice", "confirm") and ask.choices:
            return await chat.press(ask.choices[0].value)
        if kind == "yes_no":
            return await chat.press("yes")
        if kind == "attachment":
            await chat.send_file(jpeg(7), "giay.jpg")
            if chat.field == ask.field and chat.ask.choices:
                await chat.press("done")
            return
        if kind == "address":
            await chat.say("Phường Ba Đình, Hà Nội")
            if chat.field == ask.field:
                await chat.say("Số 1")
            return
        text = {"name": "Trần Văn Cường", "phone": "0912345678", "email": "a@example.com", "number": "2",
                "time": "14:30",
                "money": "2000000", "id_number": "001070012345", "bank": "vietcombank",
                "bank_account": "0011001234567"}.get(kind)
        if kind == "date":
            text = "05/03/1970" if "birth" in base and not base.startswith("child") else "20/11/2026"
            if ask.field == "child.birth_date":
                text = "01/11/2026"
        if text is None:
            text = "Kinh" if "ethnic" in base else "Nội dung"
        if f is not None and f.kind == "text" and not f.letters:  # a document's number
            text = "125"
        if f is not None and f.kind == "id_number" and (f.sex_field or "").endswith("sex"):
            text = "001070012345"
        await chat.say(text)
        if chat.error is not None and "giới tính" in chat.error.text and kind == "id_number":
            await chat.say("001170012345")
        if chat.error is not None and chat.field == ask.field and ask.optional:
            await chat.say("bỏ qua")


async def reach(chat: Chat, proc: str, path: str) -> None:
    driver = Driver(chat, proc, ROUTES.get(proc, {}))
    for _ in range(90):
        if chat.field == path and OFFER in chat.ask.text.split("\n")[0]:
            return
        assert chat.field not in ("_review", "_eligibility"), "\n".join(chat.transcript[-8:])
        await driver.answer()
    raise AssertionError(f"never offered the card before {path}:\n" + "\n".join(chat.transcript[-10:]))


@pytest.mark.parametrize("proc, offer", _offers())
async def test_the_card_fills_each_person_block(runtime: Runtime, proc: str, offer: str):
    catalog = Catalog.load()
    form = catalog.form(proc)
    section, field = form.lookup(offer.replace("[]", "[0]") if "." in offer else f"members[0].{offer}")
    first = section.fields[[f.id for f in section.fields].index(field.id) + 1].id
    first_item = 1 if section.repeat and section.repeat.first_from else 0  # (member 1 is the head, filled)
    prefix = f"{section.id}[{first_item}]." if section.repeat else ""
    chat = await Chat(runtime, f"console:{proc}:{offer}").start()
    await chat.press(proc)
    await reach(chat, proc, prefix + first)
    female = section.id in ("mother",)
    p = Person("001185004321" if female else "001085004321", "", "Phạm Thị Hoa" if female else "Phạm Văn Hoà",
               date(1985, 6, 7), "Nữ" if female else "Nam", ADDRESS, date(2021, 6, 15))
    await chat.send_file(card_photo(p, seed=hash(offer) % 1000, kind="jpeg40"))
    await chat.expect(prefix + offer)
    assert "Thông tin đọc từ thẻ căn cước" in chat.ask.text, chat.ask.text
    await chat.press("ok")
    a = await chat.answers()
    mapping = {k: prefix + v for k, v in field.id_card.items()}
    filled = {k: a.get(path) for k, path in mapping.items() if form.slot_for(path, a) is not None}
    assert filled.get("full_name", "").lower() in ("phạm văn hoà", "phạm thị hoa"), filled
    if "birth_date" in filled:
        assert filled["birth_date"] == "1985-06-07"
    if "id_number" in filled:
        assert filled["id_number"] == p.id_number
    if "address" in filled:
        assert filled["address"]["commune"] == "Xã Hà Tây"
    if "issue_date" in filled:
        assert filled["issue_date"] == "2021-06-15"
    assert chat.field not in mapping.values()  # their questions are skipped
    assert a[prefix + offer] == "card"


# ---------------------------------------------------------------------------------------------
# the channels
from tests.fakes.telegram_api import FakeTelegramAPI  # noqa: E402
from tests.fakes.zalo_api import FakeZaloAPI  # noqa: E402
from tests.test_telegram import Bot as TelegramBot  # noqa: E402
from tests.test_zalo import Bot as ZaloBot  # noqa: E402
from tests.test_zalo import choice_number  # noqa: E402


async def _to_applicant_block(say) -> None:
    # the menu entry, who files, consent (the cause of death is health data), the cause, the deceased…
    for text in ("Hỗ trợ chi phí mai táng (trợ giúp đột xuất)", "1", "đồng ý", "1", "nguyễn văn an", "5/3/1950", "1",
                 "Kinh", "Lâm Đồng", "duc trong", "Thôn 3", "1", "10/11/2026", "12/11/2026", "Nghĩa trang", "1"):
        await say(text)


async def test_telegram_photo_or_file_fills_the_block(runtime: Runtime):
    api = await FakeTelegramAPI().start()
    bot = await TelegramBot(runtime, api).start()
    try:
        c = 777
        await bot.say(c, "/start")
        await _to_applicant_block(lambda t: bot.say(c, t))
        assert bot.asked(c).startswith("▰") or OFFER in bot.asked(c)
        assert OFFER in api.last(c).text
        await bot.send(api.photo_update(c, card_photo(ORGANIZER, 11, "blur")))
        m = api.last(c)
        assert "LÊ THỊ BÌNH" in m.text and m.labels()[:2] == ["Đúng", "Sửa"]
        # the button carries a token, never the card's data
        for row in m.reply_markup["inline_keyboard"]:
            for b in row:
                assert "030175004321" not in b.get("callback_data", "") and "BÌNH" not in b.get("callback_data", "")
        m = await bot.press(c, "Đúng")
        assert "Nơi ở hiện nay có giống nơi thường trú" in m.text
        s = await runtime.session(f"telegram:{c}")
        assert s.draft.answers["applicant.id_number"] == "030175004321"
        # a card sent as a file (a document) works the same, in another chat
        c2 = 778
        await bot.say(c2, "/start")
        await _to_applicant_block(lambda t: bot.say(c2, t))
        await bot.send(api.document_update(c2, card_photo(ORGANIZER, 12, "rotate"), "the.jpg"))
        assert "LÊ THỊ BÌNH" in api.last(c2).text
    finally:
        await bot.stop()
        await api.stop()


async def test_zalo_photo_fills_the_block(runtime: Runtime):
    api = await FakeZaloAPI().start()
    bot = await ZaloBot(runtime, api).start()
    try:
        c = "a1b2c3d4e5f6a7b8c9d0"
        await bot.say(c, "xin chào")
        await _to_applicant_block(lambda t: bot.say(c, t))
        assert OFFER in api.last(c).text
        await bot.send(api.image_update(c, card_photo(ORGANIZER, 13, "low_light")))
        text = api.last(c).text
        assert "LÊ THỊ BÌNH" in text and "Xóm 2, Xã An Phượng" in text
        await bot.say(c, choice_number(text, "Đúng"))
        assert "Nơi ở hiện nay có giống nơi thường trú" in api.last(c).text
        s = await runtime.session(f"zalo:{c}")
        assert s.draft.answers["applicant.residence"]["commune"] == "Xã Hà Tây"
        for call in api.calls:  # the card's data never went into a URL
            assert "030175004321" not in str(call.params.get("photo", "")) + str(call.params.get("url", ""))
    finally:
        await bot.stop()
        await api.stop()



async def test_console_tep_sends_the_card(tmp_path, sqlite_url, clock):
    import io

    from bot.console import run_console
    card = tmp_path / "ảnh thẻ.jpg"
    card.write_bytes(card_photo(DECEASED, 21, "small_in_large"))
    async with Runtime(sqlite_url, var_dir=tmp_path / "var", now=clock) as rt:
        ids = [c.value for c in rt.engine.menu_choices(await rt.session("console:the"))]
        lines = [str(ids.index(PROC) + 1), "1", "đồng ý", "1", f"/tep {card}", "1", "/thoat"]
        stdout = io.StringIO()
        await run_console(rt, "the", stdin=io.StringIO("\n".join(lines) + "\n"), stdout=stdout)
        out = stdout.getvalue()
        session = await rt.session("console:the")
    assert "(Gửi ảnh thẻ: gõ /tep" in out
    assert "  1. Đúng\n  2. Sửa" in out
    a = session.draft.answers
    assert a["deceased.full_name"] == "NGUYỄN VĂN AN" and a["deceased.residence"]["commune"] == "Xã Hà Tây"
    assert list(tmp_path.joinpath("var").rglob("*.jpg")) == []
