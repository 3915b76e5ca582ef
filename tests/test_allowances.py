"""Allowances paid by bank account: registration by each kind of filer, bank and holder-name
checks, a second registration, the police identity check, each change flow with confirmation on the
registering chat, and the export for the social-affairs office (CSV and XLSX read back)."""
from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from bot import cases as officers
from bot.effects import register_export
from bot.service import Runtime
from dialogs.catalog import Catalog
from dialogs.messages import Incoming
from dialogs.textnorm import fold
from storage.allowance_models import AllowanceBeneficiary, AllowanceChange, IdentityCheck
from storage.models import DossierEvent, DossierLeg, OutboxMessage
from storage.repo import DossierRepo
from tests.conftest import Chat, jpeg

REG, CHG = "nhan-tro-cap-qua-tai-khoan", "bao-thay-doi-nhan-tro-cap"
_CATALOG = Catalog.load()
EXPORT = _CATALOG.get(REG).effects.exports[0].args  # the verified list, declared in the registration's YAML
CONFIRM_DAYS = next(c.args["days"] for c in _CATALOG.get(CHG).effects.submit if c.effect == "register.confirm_change")
BEN_ID = "068050001234"   # Lâm Đồng, male, born 1950
REP_ID = "068075001234"   # male, born 1975
ACCOUNT = "1234567890123"  # Agribank: 13 digits


async def start_registration(chat: Chat, filer: str = "self") -> None:
    await chat.press(REG)
    await chat.expect("allowance.type")
    await chat.press("xa_hoi")
    await chat.expect("filer.kind")
    await chat.press(filer)
    await chat.expect("consent.data")
    await chat.press("yes")


async def beneficiary(chat: Chat, name: str = "nguyễn văn an", id_number: str = BEN_ID) -> None:
    await chat.expect("beneficiary.full_name")
    await chat.say(name)
    await chat.expect("beneficiary.birth_date")
    await chat.say("5/3/1950")
    await chat.expect("beneficiary.id_number")
    await chat.say(id_number)


async def residence_and_phone(chat: Chat) -> None:
    await chat.expect("beneficiary.residence")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    await chat.expect("beneficiary.phone")
    await chat.say("0912345678")


async def rep(chat: Chat) -> None:
    await chat.expect("rep.full_name")
    await chat.say("Trần Văn Bình")
    await chat.expect("rep.birth_date")
    await chat.say("con trai")  # what they are to the beneficiary, asked after: kept for it (was “Ngày chưa đúng”)
    assert "Đã ghi “Con trai” cho câu “Quan hệ với người hưởng” (được hỏi ở sau)" in chat.text(), chat.text()
    await chat.expect("rep.birth_date")
    await chat.say("01/02/1975")
    await chat.expect("rep.id_number")
    await chat.say(REP_ID)
    await chat.expect("rep.phone")
    await chat.say("0987654321")
    await chat.expect("rep.authorisation")
    await chat.send_file(jpeg(3), "giay-uy-quyen.jpg")
    await chat.press("done")


async def account(chat: Chat, holder: str = "NGUYEN VAN AN", bank: str = "agri", number: str = ACCOUNT) -> None:
    await chat.expect("account.bank")
    await chat.say(bank)
    await chat.expect("account.number")
    await chat.say(number)
    await chat.expect("account.holder")
    await chat.say(holder)


async def submit(chat: Chat) -> str:
    await chat.expect("_review")
    await chat.press("confirm")
    await chat.press("yes")
    assert chat.dossier, chat.text()
    return chat.dossier


async def register_self(chat: Chat, **kw) -> str:
    await start_registration(chat, "self")
    await beneficiary(chat)
    await residence_and_phone(chat)
    await account(chat, **kw)
    return await submit(chat)


async def benef_rows(rt: Runtime) -> list[AllowanceBeneficiary]:
    async with rt.sm() as db:
        return list((await db.execute(select(AllowanceBeneficiary).order_by(AllowanceBeneficiary.id))).scalars())


async def add_officer(rt: Runtime, agency: str, role: str = "leader", name: str = "Cán bộ",
                      chat_key: str | None = None):
    async with rt.sm() as db, db.begin():
        o, invite = await officers.add_officer(db, full_name=name, agency=agency, commune_code="24958", role=role)
    if chat_key:
        await rt.handle(chat_key, Incoming(text=invite))
    return o.id


# ---------------------------------------------------------------------------------------------
async def test_self_registration_review_shows_bank_and_account_and_creates_register_and_police_leg(
        chat: Chat, runtime: Runtime):
    await start_registration(chat, "self")
    await beneficiary(chat)
    await residence_and_phone(chat)
    await account(chat)
    review = chat.text()
    assert "Agribank — Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam (mã BIN 970405)" in review
    assert "1234 5678 9012 3" in review and "NGUYEN VAN AN" in review
    code = await submit(chat)
    assert "Công an cấp xã sẽ đối chiếu" in chat.text() and "•••• 0123" in chat.text()
    async with runtime.sm() as db:
        d = await DossierRepo(db).by_code(code)
        legs = list((await db.execute(select(DossierLeg).where(DossierLeg.dossier_id == d.id)
                                      .order_by(DossierLeg.seq))).scalars())
        assert [leg.agency for leg in legs] == ["commune", "police"]
        assert d.answers["account.number"] == ACCOUNT and d.answers["account.bank"] == "970405"
        check = (await db.execute(select(IdentityCheck))).scalars().one()
        assert check.status == "pending" and check.leg_id == legs[1].id
    [b] = await benef_rows(runtime)
    assert (b.filer_kind, b.bank_bin, b.account_number, b.status, b.identity_status, b.commune_code) == \
        ("self", "970405", ACCOUNT, "active", "pending", "24958")
    assert b.registered_chat == chat.user and b.rep_name is None


async def test_guardian_registration_keeps_both_people_and_the_authorisation(chat: Chat, runtime: Runtime):
    await start_registration(chat, "guardian")
    await beneficiary(chat)
    await residence_and_phone(chat)
    await rep(chat)
    await chat.expect("account.owner")
    await chat.say("nguyen van an")  # “đứng tên ai?”: the beneficiary's name typed, not a label (same_as)
    await chat.expect("account.bank")
    assert (await chat.answers())["account.owner"] == "beneficiary"
    await chat.say("quay lại")
    await chat.say("Trần Văn Bình")  # and the guardian's own name is “Tôi”
    await chat.expect("account.bank")
    assert (await chat.answers())["account.owner"] == "rep"
    for said, owner in (("ten ong", "beneficiary"), ("tên tôi", "rep")):  # (as a family says it: “Chưa rõ”)
        await chat.say("quay lại")
        await chat.say(said)
        await chat.expect("account.bank")
        assert (await chat.answers())["account.owner"] == owner, said
    await chat.say("quay lại")
    await chat.press("beneficiary")
    await account(chat, holder="nguyen van an")
    code = await submit(chat)
    async with runtime.sm() as db:
        d = await DossierRepo(db).by_code(code)
        assert d.answers["rep.full_name"] == "Trần Văn Bình" and d.answers["beneficiary.full_name"] == "Nguyễn Văn An"
        assert len(d.answers["rep.authorisation"]) == 1
    [b] = await benef_rows(runtime)
    assert (b.filer_kind, b.rep_name, b.account_owner, b.holder_name) == \
        ("guardian", "Trần Văn Bình", "beneficiary", "NGUYEN VAN AN")


async def test_authorised_person_receives_on_own_account_and_holder_must_match_them(chat: Chat, runtime: Runtime):
    await start_registration(chat, "authorised")
    await beneficiary(chat)
    await residence_and_phone(chat)
    await rep(chat)
    await chat.press("rep")
    await account(chat, holder="NGUYEN VAN AN")  # the beneficiary's name, but the account is the receiver's
    assert chat.error and "không trùng với họ tên của bạn" in chat.error.text
    await chat.expect("account.holder")
    await chat.say("tran van binh")
    code = await submit(chat)
    [b] = await benef_rows(runtime)
    assert (b.filer_kind, b.account_owner, b.holder_name) == ("authorised", "rep", "TRAN VAN BINH")
    rows = None
    async with runtime.sm() as db:
        rows = await register_export.rows(db, EXPORT, "24958")
    assert rows == []  # not verified yet
    assert code


async def test_a_relative_filling_in_records_themselves_and_the_beneficiarys_consent(chat: Chat, runtime: Runtime):
    """A grandchild types for their grandmother, who registers: no authorisation is asked, the account must be the
    beneficiary's, and the helper's name, phone and how the beneficiary agreed go with the dossier."""
    await chat.press(REG)
    await chat.press("xa_hoi")
    await chat.expect("filer.kind")
    await chat.say("tôi khai giúp bà")
    await chat.expect("filer.full_name")
    await chat.say("Trần Văn Bình")
    await chat.expect("filer.phone")
    await chat.say("0987654321")
    await chat.expect("consent.subject")
    assert "người hưởng trợ cấp đồng ý" in chat.ask.text
    await chat.say("bà đồng ý rồi")  # agreed, but how is what is recorded; never a request for another procedure
    await chat.expect("consent.subject")
    assert chat.error and "đã đồng ý như thế nào" in chat.error.text and "thủ tục khác" not in chat.text()
    await chat.say("bà chưa đồng ý")  # the refusal, said so: no dead end, the question stays
    await chat.expect("consent.subject")
    assert "Người hưởng có thể tự đăng ký" in chat.text()
    await chat.press("in_person")
    await beneficiary(chat)  # (no consent.data: the beneficiary's own consent is recorded instead)
    await chat.expect("beneficiary.residence")
    await chat.say("Lâm Đồng, Thôn 3")  # the house's part with the province: kept while the commune is asked
    await chat.say("Đức Trọng")
    await chat.expect("beneficiary.phone")
    assert "Nếu là số đã khai ở trên, gõ “như trên”" in chat.ask.text
    await chat.say("như trên")  # the helper's own number, given for the household too
    await account(chat, holder="TRAN VAN BINH")  # the helper's account: not allowed
    assert chat.error and "phải đứng tên người hưởng" in chat.error.text
    await chat.say("nguyen van an")
    code = await submit(chat)
    async with runtime.sm() as db:
        d = await DossierRepo(db).by_code(code)
        assert d.answers["filer.full_name"] == "Trần Văn Bình" and d.answers["filer.phone"] == "0987654321"
        assert d.answers["beneficiary.phone"] == "0987654321"
        assert d.answers["beneficiary.residence"]["detail"] == "Thôn 3"
        assert d.answers["consent.subject"]["how"] == "in_person"
        assert not any(k.startswith("rep.") or k == "account.owner" for k in d.answers)
    [b] = await benef_rows(runtime)
    assert (b.filer_kind, b.account_owner, b.holder_name, b.rep_name) == ("helper", "beneficiary", "NGUYEN VAN AN",
                                                                          None)


async def test_the_allowance_named_as_people_name_it_is_read_and_said_back(chat: Chat):
    """“tro cap nguoi cao tuoi” was “Chưa rõ lựa chọn” (every option opens “Trợ cấp”, the words are not in a row
    in any label): the one label holding them all is taken and said back; words two labels hold stay asked."""
    await chat.press(REG)
    await chat.expect("allowance.type")
    await chat.say("tro cap nguoi cao tuoi")
    assert chat.error is None and "Đã ghi: Trợ cấp hưu trí xã hội (người cao tuổi không có lương hưu)." in chat.text()
    assert (await chat.answers())["allowance.type"] == "huu_tri_xa_hoi"
    await chat.say("quay lại")
    await chat.expect("allowance.type")
    await chat.say("xa hoi hang thang")  # “Trợ cấp xã hội hằng tháng” and “Cả … và trợ cấp xã hội hằng tháng”
    assert chat.error is not None
    await chat.expect("allowance.type")


async def test_words_no_name_takes_typed_at_a_spelling_wait_for_their_question(chat: Chat):
    """“ba dong y roi” typed while the helper's name waited for its spelling was read as the name typed again,
    refused, and the phone typed before it dropped (“Chưa ghi”), the name asked again: words the name question
    would refuse wait for a question after, as the phone does."""
    await chat.press(REG)
    await chat.press("huu_tri_xa_hoi")
    await chat.expect("filer.kind")
    await chat.press("helper")
    await chat.expect("filer.full_name")
    await chat.say("le van tuan")
    await chat.say("0912345678")
    await chat.say("ba dong y roi")
    assert chat.error and "“ba dong y roi” sẽ được dùng cho câu hỏi sau đó" in chat.text()
    await chat.say("1")
    assert "Đã ghi các câu trả lời bạn gõ trước: “0912345678”." in chat.text()
    await chat.expect("consent.subject")  # consent said without how: asked how, with its options
    assert chat.error and "đồng ý như thế nào" in chat.error.text
    answers = await chat.answers()
    assert answers["filer.full_name"] == "Lê Văn Tuấn" and answers["filer.phone"] == "0912345678"


async def test_bank_unknown_ambiguous_and_account_format(chat: Chat, runtime: Runtime):
    await start_registration(chat, "self")
    await beneficiary(chat)
    await residence_and_phone(chat)
    await chat.expect("account.bank")
    await chat.say("chưa có tài khoản")  # no account yet: told the allowance still comes in cash
    assert chat.error and "tiền mặt" in chat.error.text and "Chưa tìm thấy ngân hàng" not in chat.text()
    await chat.expect("account.bank")
    await chat.say("ngân hàng xyz")
    assert chat.error and "Chưa tìm thấy ngân hàng" in chat.error.text
    await chat.expect("account.bank")
    await chat.say("viet")
    assert chat.error and "nhiều ngân hàng" in chat.error.text
    values = [c.value for c in chat.ask.choices]
    assert {"970436", "970415"} <= set(values)  # Vietcombank, VietinBank offered as buttons
    await chat.say(str(values.index("970436") + 1))  # a typed number picks one
    await chat.expect("account.number")
    await chat.say("12ab")
    assert chat.error and "chỉ gồm chữ số" in chat.error.text
    await chat.say("123")
    assert chat.error and "từ 6 đến 19 chữ số" in chat.error.text
    await chat.say("0071 0012 3456 78")
    await chat.expect("account.holder")
    assert (await chat.answers())["account.bank"] == "970436"
    assert (await chat.answers())["account.number"] == "00710012345678"
    # back to the bank: Agribank numbers have 13 digits
    await chat.say("quay lại")
    await chat.say("quay lại")
    await chat.expect("account.bank")
    await chat.press("970405")  # a button value works too; the 14-digit number no longer fits
    assert "Agribank có 13 chữ số" in chat.text()
    await chat.expect("account.number")
    await chat.say("12345678")
    assert chat.error and "Agribank có 13 chữ số" in chat.error.text
    await chat.say("1234 5678 9012 3")
    await chat.expect("account.holder")


async def test_an_account_number_typed_with_the_bank_answers_both(chat: Chat, runtime: Runtime):
    """“tk agribank 1234 5678 9012 4” at “Ngân hàng nào?” got “Chưa tìm thấy ngân hàng “tk agribank 1234…””: the
    number said back, and nothing taken. The bank is read without it, and the number answers the question after
    it; typed alone at the bank's question, it is asked for later and never said back."""
    await start_registration(chat, "self")
    await beneficiary(chat)
    await residence_and_phone(chat)
    await chat.expect("account.bank")
    await chat.say("0011001234567")
    assert chat.error and "số tài khoản được hỏi ngay sau đó" in chat.error.text and "0011" not in chat.text()
    await chat.say("tk agribank 1234 5678 9012 4")
    await chat.expect("account.holder")
    answers = await chat.answers()
    assert (answers["account.bank"], answers["account.number"]) == ("970405", "1234567890124")
    await chat.say("quay lại")
    await chat.say("quay lại")
    await chat.expect("account.bank")
    await chat.say("agribank, stk 1234 5678 9012 5")  # both answered before: the number is answered anew
    await chat.expect("account.holder")
    assert (await chat.answers())["account.number"] == "1234567890125"


async def test_holder_name_must_match_the_beneficiary(chat: Chat, runtime: Runtime):
    await start_registration(chat, "self")
    await beneficiary(chat)
    await residence_and_phone(chat)
    await account(chat, holder="NGUYEN VAN BA")
    assert chat.error and "không trùng với họ tên người hưởng" in chat.error.text
    await chat.expect("account.holder")
    await chat.say("Nguyễn  văn AN")  # diacritics, case and spaces do not matter
    await chat.expect("_review")


async def test_second_registration_for_the_same_id_is_pointed_to_a_change(runtime: Runtime):
    first = await Chat(runtime, "console:first").start()
    first_code = await register_self(first)
    other = await Chat(runtime, "console:other").start()
    await start_registration(other, "self")
    await beneficiary(other)
    assert other.error and "đã đăng ký nhận trợ cấp qua tài khoản" in other.error.text
    assert "Báo thay đổi" in other.error.text and first_code not in other.error.text  # not disclosed to others
    await other.expect("procedure")
    assert [c.value for c in other.ask.choices] == [CHG, REG]  # a short list: report a change, or retype
    await other.say("1")  # the number shown is the one picked
    assert other.ask.procedure == CHG
    assert len(await benef_rows(runtime)) == 1


async def _verified(runtime: Runtime, code: str, police_chat: str = "console:police", matched: bool = True,
                    note: str = "không") -> Chat:
    """The commune police officer completes the identity check in the officer chat."""
    await add_officer(runtime, "police", chat_key=police_chat)
    cop = Chat(runtime, police_chat)
    async with runtime.sm() as db:
        check = (await db.execute(select(IdentityCheck).order_by(IdentityCheck.id.desc()))).scalars().first()
        pushed = (await db.execute(select(OutboxMessage).where(OutboxMessage.kind == "officer_identity_check")))\
            .scalars().all()
    assert pushed == [] or all("idv:open" in str(p.payload) for p in pushed)
    await cop.say(code)  # the dossier, as the police leg's officer sees it
    assert f"idv:open:{check.id}" in [c.value for c in cop.ask.choices]
    assert "0123" in cop.text() and "1234 5678" not in cop.text() and ACCOUNT not in cop.text()  # masked
    await cop.press(f"idv:open:{check.id}")
    assert "Nguyễn Văn An" in cop.text() and BEN_ID in cop.text() and "05/03/1950" in cop.text()
    await cop.say("khớp" if matched else "không khớp")
    await cop.expect("officer.identity_note")
    await cop.say(note)
    assert "Đã ghi kết quả xác thực" in cop.text()
    return cop


async def test_police_verification_leg_is_done_by_an_officer_and_the_commune_sees_it(chat: Chat, runtime: Runtime):
    code = await register_self(chat)
    await _verified(runtime, code)
    async with runtime.sm() as db:
        d = await DossierRepo(db).by_code(code)
        legs = {leg.agency: leg for leg in (await db.execute(select(DossierLeg).where(DossierLeg.dossier_id == d.id)))
                .scalars()}
        assert legs["police"].status == "result_issued" and legs["commune"].status == "submitted"
        ev = (await db.execute(select(DossierEvent).where(DossierEvent.dossier_id == d.id)
                               .order_by(DossierEvent.id.desc()))).scalars().first()
        assert ev.data["verification"] == "matched" and ev.role == "leader"
    [b] = await benef_rows(runtime)
    assert b.identity_status == "matched"
    # the commune's social-affairs officer sees the outcome before approving
    await add_officer(runtime, "commune", chat_key="console:xa")
    xa = Chat(runtime, "console:xa")
    await xa.say(code)
    assert "Xác thực CSDL quốc gia về dân cư: Khớp" in xa.text()
    # and exports the verified list from the chat
    await xa.say("/danhsach")
    sent = next(m for m in xa.messages if m.file is not None)
    assert "1 người" in sent.text and sent.file.name.endswith(".xlsx")
    import io

    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(runtime.attachments.get(sent.file.sha256)))
    assert wb.active.cell(row=3, column=2).value == "Nguyễn Văn An"


async def test_mismatch_keeps_the_person_out_of_the_export(chat: Chat, runtime: Runtime, tmp_path: Path):
    code = await register_self(chat)
    await _verified(runtime, code, matched=False, note="sai ngày sinh")
    [b] = await benef_rows(runtime)
    assert (b.identity_status, b.identity_note) == ("mismatch", "sai ngày sinh")
    async with runtime.sm() as db:
        assert await register_export.rows(db, EXPORT, "24958") == []


# ---------------------------------------------------------------------------------------------
# changes
async def start_change(chat: Chat, kind: str, reporter: str = "self", name: str = "Nguyễn Văn An",
                       id_number: str = BEN_ID, typed: str | None = None) -> None:
    await chat.press(CHG)
    await chat.expect("change.kind")
    if typed is not None:
        await chat.say(typed)
        assert "thủ tục khác" not in chat.text() and (await chat.answers())["change.kind"] == kind
    else:
        await chat.press(kind)
    await chat.expect("reporter.kind")
    await chat.press(reporter)
    await chat.expect("beneficiary.full_name")
    await chat.say(name)
    await chat.expect("beneficiary.id_number")
    await chat.say(id_number)


async def change_residence(chat: Chat) -> None:
    await chat.expect("beneficiary.residence")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")


async def family_reporter(chat: Chat) -> None:
    await chat.expect("reporter.full_name")
    await chat.say("Nguyễn Thị Hoa")
    await chat.expect("reporter.relation")
    await chat.say("con gái")
    await chat.expect("reporter.phone")
    await chat.say("0977123456")


async def test_change_for_an_unregistered_id_points_to_registration(chat: Chat, runtime: Runtime):
    """A new account for a person not registered is the registration itself: it is offered first."""
    await start_change(chat, "new_account")
    assert chat.error and "Chưa tìm thấy đăng ký" in chat.error.text
    await chat.expect("procedure")
    assert [c.value for c in chat.ask.choices] == [REG, CHG]
    await chat.say("2")  # back to the change report, at the ID question (the refused ID is not kept)
    assert chat.ask.procedure == CHG and chat.field == "beneficiary.id_number"
    await chat.say("menu")
    await chat.expect("procedure")
    assert chat.ask.choices[0].value == "lien-thong-khai-sinh"  # the full menu keeps its usual order


async def test_a_move_of_a_person_paid_in_cash_is_reported_to_the_commune(chat: Chat):
    """A grandson reporting his grandmother's move was told to register a bank account: a person paid in cash
    reports a move (a death, another level) to the commune directly; the ID question stays, to retype a slip."""
    await start_change(chat, "moved")
    assert chat.error and "báo trực tiếp cho Ủy ban nhân dân cấp xã" in chat.error.text
    assert "Đăng ký nhận trợ cấp hằng tháng qua tài khoản" not in chat.text()
    await chat.expect("beneficiary.id_number")


async def test_new_account_takes_effect_only_when_the_registering_chat_confirms(runtime: Runtime):
    owner = await Chat(runtime, "console:owner").start()
    code = await register_self(owner)
    await _verified(runtime, code)
    family = await Chat(runtime, "console:family").start()
    await start_change(family, "new_account", reporter="family")
    await change_residence(family)
    await family_reporter(family)
    await family.expect("consent.data")  # the account number is asked only with consent
    await family.press("yes")
    await family.expect("new.bank")
    await family.say("vietcombank")
    await family.say("0071001234567")
    await family.expect("new.holder")
    await family.say("NGUYEN THI HOA")  # not the beneficiary's name
    assert family.error and "không trùng" in family.error.text
    offered = [c.label for c in family.ask.choices]  # the names given above: the beneficiary's, the reporter's
    assert len(offered) == 2 and fold(offered[0]) == "nguyen van an"
    await family.say("1")  # the beneficiary's, by its number
    assert fold((await family.answers())["new.holder"]) == "nguyen van an"
    change_code = await submit(family)
    assert "Đã gửi yêu cầu xác nhận tới kênh chat đã dùng để đăng ký tài khoản cũ" in family.text()
    # until confirmed, the old account stays (in the register and in the export)
    [b] = await benef_rows(runtime)
    assert (b.bank_bin, b.account_number) == ("970405", ACCOUNT)
    async with runtime.sm() as db:
        assert (await register_export.rows(db, EXPORT, "24958"))[0]["account_number"] == ACCOUNT
        push = (await db.execute(select(OutboxMessage).where(OutboxMessage.kind == "allowance_confirm")))\
            .scalars().one()
    assert push.chat_key == "console:owner" and "•••• 4567" in push.payload["text"]
    assert "0071001234567" not in push.payload["text"]
    ok = next(c["value"] for c in push.payload["choices"] if c["value"].startswith("alw:ok:"))
    pin = ok.rsplit(":", 1)[1]
    # another chat cannot confirm with the code
    await family.say(f"/xacnhan {pin}")
    assert family.error and "Mã xác nhận không đúng" in family.error.text
    assert (await benef_rows(runtime))[0].account_number == ACCOUNT
    # the registering chat confirms (typed command)
    await owner.say(f"/xacnhan {pin.lower()}")
    assert "Đã xác nhận" in owner.text() and "•••• 4567" in owner.text()
    [b] = await benef_rows(runtime)
    assert (b.bank_bin, b.account_number) == ("970436", "0071001234567")
    async with runtime.sm() as db:
        assert (await register_export.rows(db, EXPORT, "24958"))[0]["bank_short"] == "Vietcombank"
        ch = (await db.execute(select(AllowanceChange))).scalars().one()
        assert ch.status == "confirmed"
        told = (await db.execute(select(OutboxMessage).where(OutboxMessage.kind == "allowance_decided")))\
            .scalars().one()
        assert told.chat_key == "console:family" and change_code in told.payload["text"]
    await owner.press(ok)  # pressing the button again: already handled
    assert owner.error and "đã được xử lý" in owner.error.text


async def test_refused_or_unconfirmed_new_account_keeps_the_old_one(runtime: Runtime):
    owner = await Chat(runtime, "console:owner").start()
    await register_self(owner)
    await start_change(owner, "new_account")
    await change_residence(owner)
    await owner.expect("consent.data")
    await owner.press("yes")
    await owner.say("bidv")
    await owner.say("12345678901234")
    await owner.say("Nguyen Van An")
    await submit(owner)
    async with runtime.sm() as db:
        push = (await db.execute(select(OutboxMessage).where(OutboxMessage.kind == "allowance_confirm")))\
            .scalars().one()
    no = next(c["value"] for c in push.payload["choices"] if c["value"].startswith("alw:no:"))
    await owner.press(no)
    assert "Tài khoản cũ vẫn được giữ" in owner.text()
    [b] = await benef_rows(runtime)
    assert b.account_number == ACCOUNT
    async with runtime.sm() as db:
        assert (await db.execute(select(AllowanceChange))).scalars().one().status == "refused"


async def test_moving_away_takes_the_beneficiary_off_the_list(chat: Chat, runtime: Runtime):
    code = await register_self(chat)
    await _verified(runtime, code)
    # (it offered the bank registration: “chuyển … vào” weighed for it, though weakly; an option's own words now)
    await start_change(chat, "moved", typed="chuyen vao sai gon")
    await change_residence(chat)
    await chat.expect("moved.date")
    await chat.say("01/12/2026")
    await chat.expect("moved.to")
    await chat.say("Phường Xuân Hương, Lâm Đồng")
    await submit(chat)
    assert "chuyển đi" in chat.text()
    [b] = await benef_rows(runtime)
    assert b.status == "moved"
    async with runtime.sm() as db:
        assert await register_export.rows(db, EXPORT, "24958") == []
    # after moving away, the person may register again (at the new place)
    await start_registration(chat, "self")
    await beneficiary(chat)
    await chat.expect("beneficiary.residence")


async def report_death(family: Chat) -> str:
    await start_change(family, "deceased", reporter="family")
    await change_residence(family)
    await family_reporter(family)
    await family.expect("death.date")
    await family.say("20/11/2026")
    await family.expect("death.notice")
    await family.send_file(jpeg(5), "giay-bao-tu.jpg")
    await family.press("done")
    return await submit(family)


async def test_death_reported_by_family_stops_payment_once_an_officer_confirms(runtime: Runtime):
    owner = await Chat(runtime, "console:owner").start()
    reg_code = await register_self(owner)
    await _verified(runtime, reg_code)
    family = await Chat(runtime, "console:family").start()
    code = await report_death(family)
    assert "Xin chia buồn" in family.text() and "chỉ dừng sau khi cán bộ xã" in family.text()
    # reported, unconfirmed: still paid, and the export says so
    [b] = await benef_rows(runtime)
    assert b.status == "active"
    async with runtime.sm() as db:
        [row] = await register_export.rows(db, EXPORT, "24958")
        told = (await db.execute(select(OutboxMessage).where(OutboxMessage.kind == "allowance_notice")))\
            .scalars().one()
    assert row["pending"] == "Đã qua đời"
    assert told.chat_key == "console:owner" and code in told.payload["text"]  # the beneficiary's chat is told
    # the commune officer checks the certificate and confirms from the dossier
    await add_officer(runtime, "commune", chat_key="console:xa")
    xa = Chat(runtime, "console:xa")
    await xa.say(code)
    confirm = next(c.value for c in xa.ask.choices if c.value.startswith("chg:ok:"))
    await xa.press(confirm)
    assert "Cán bộ đã xác nhận thay đổi" in xa.text()
    [b] = await benef_rows(runtime)
    assert b.status == "deceased"
    async with runtime.sm() as db:
        assert await register_export.rows(db, EXPORT, "24958") == []
        d = await DossierRepo(db).by_code(code)
        ev = (await db.execute(select(DossierEvent).where(DossierEvent.dossier_id == d.id)
                               .order_by(DossierEvent.id.desc()))).scalars().first()
        ch = (await db.execute(select(AllowanceChange))).scalars().one()
        decided = (await db.execute(select(OutboxMessage).where(OutboxMessage.kind == "allowance_decided")))\
            .scalars().one()
    # the audit: who reported, from which chat, who confirmed and how
    assert (ev.actor, ev.role, ev.unit) == ("console:xa", "leader", "commune/24958")
    assert ev.data["reported_by"] == "console:family" and ev.data["decided_via"] == "officer"
    assert (ch.status, ch.reported_by, ch.data["decided_by"]) == ("confirmed", "console:family", "console:xa")
    assert d.answers["reporter.full_name"] == "Nguyễn Thị Hoa" and d.answers["reporter.phone"] == "0977123456"
    assert decided.chat_key == "console:family"


async def test_a_change_typed_in_everyday_words_is_the_option_not_another_procedure(chat: Chat, runtime: Runtime):
    """“mẹ tôi đã mất” at “what changed” is the beneficiary's death, not a request to register a death (the
    death group): the option's everyday words (``also:``) answer the question before any procedure switch."""
    await chat.press(CHG)
    for typed, kind in (("toi muon bao me toi da mat", "deceased"), ("ba chuyen nha ra ha noi roi", "moved"),
                        ("doi so tai khoan", "new_account"), ("giam muc huong", "benefit_level")):
        await chat.expect("change.kind")
        await chat.say(typed)
        await chat.expect("reporter.kind")
        assert (await chat.answers())["change.kind"] == kind, typed
        await chat.say("quay lại")
    await chat.say("mẹ tôi mất rồi")
    await chat.say("toi la con")  # “I am her child”: family
    assert (await chat.answers())["reporter.kind"] == "family"
    await chat.say("quay lại")
    await chat.say("me toi")  # “my mother” (whose death it is): her family too
    assert (await chat.answers())["reporter.kind"] == "family"
    await chat.say("quay lại")
    await chat.say("chinh toi")  # the beneficiary reporting their own death is stopped, citing the plan itself
    assert "không thể tự báo mình qua đời" in chat.text() and "Kế hoạch" in chat.text()
    assert "seeds/" not in chat.text()


async def test_who_reports_said_in_words_also_answers_the_relation(chat: Chat, runtime: Runtime):
    """“tôi là con gái” at “Ai đang báo thay đổi?” is the family's option, and “Bạn là gì của người hưởng?”, asked
    later, was asked anyway: it is answered Con gái, said so. “mẹ tôi” (the other person) answers nothing more."""
    owner = await Chat(runtime, "console:owner").start()
    await _verified(runtime, await register_self(owner))
    await chat.press(CHG)
    await chat.say("bo chuyen vao sai gon")
    await chat.expect("reporter.kind")
    await chat.say("toi la con gai")
    assert "Đã ghi “Con gái” cho câu “Quan hệ với người hưởng” (được hỏi ở sau)" in chat.text(), chat.text()
    await chat.expect("beneficiary.full_name")
    await chat.say("Nguyễn Văn An")
    await chat.say(BEN_ID)
    await change_residence(chat)
    await chat.expect("reporter.full_name")
    await chat.say("Nguyễn Thị Hoa")
    await chat.expect("reporter.phone")  # the relation not asked again
    assert (await chat.answers())["reporter.relation"] == "Con gái"
    await chat.say("quay lại")
    await chat.expect("reporter.relation")  # and there to be changed, as it was answered
    await chat.say("menu")
    await chat.say("hủy")
    await chat.press(CHG)
    await chat.say("bo chuyen vao sai gon")
    await chat.say("me toi")
    assert (await chat.answers())["reporter.kind"] == "family" and "cho câu" not in chat.text()


async def test_death_report_needs_the_certificate_and_another_reporter(chat: Chat, runtime: Runtime):
    await register_self(chat)
    await chat.press(CHG)
    await chat.expect("change.kind")
    await chat.press("deceased")
    await chat.expect("reporter.kind")
    await chat.press("self")
    assert "không thể tự báo mình qua đời" in chat.text()
    await chat.say("quay lại")
    await chat.expect("reporter.kind")
    await chat.press("family")
    await chat.say("Nguyễn Văn An")
    await chat.say(BEN_ID)
    await change_residence(chat)
    await family_reporter(chat)
    await chat.expect("death.date")
    await chat.say("20/11/2026")
    await chat.expect("death.notice")
    await chat.say("bỏ qua")
    await chat.expect("death.notice")  # required: the payment stops only on the certificate


async def test_a_neighbour_may_report_a_death_and_nothing_else(runtime: Runtime):
    """An elderly beneficiary living alone: a neighbour or the village head reports the death (an officer still
    confirms it on the certificate); a new account, a move or a benefit change is told to be the family's."""
    owner = await Chat(runtime, "console:owner").start()
    await _verified(runtime, await register_self(owner))
    neighbour = await Chat(runtime, "console:neighbour").start()
    await neighbour.press(CHG)
    await neighbour.press("new_account")
    await neighbour.expect("reporter.kind")
    await neighbour.say("tôi là hàng xóm")
    assert "chỉ báo giúp khi người hưởng đã qua đời" in neighbour.text()
    await neighbour.say("quay lại")
    await neighbour.say("quay lại")
    await neighbour.expect("change.kind")
    await neighbour.press("deceased")
    await neighbour.expect("beneficiary.full_name")  # (who reports was answered: kept)
    await neighbour.say("Nguyễn Văn An")
    await neighbour.say(BEN_ID)
    await change_residence(neighbour)
    await neighbour.expect("reporter.full_name")
    await neighbour.say("Phạm Văn Tư")
    await neighbour.say("trưởng thôn")
    await neighbour.say("0977123456")
    await neighbour.expect("death.date")
    await neighbour.say("20/11/2026")
    await neighbour.send_file(jpeg(5), "giay-bao-tu.jpg")
    await neighbour.press("done")
    code = await submit(neighbour)
    assert "chỉ dừng sau khi cán bộ xã" in neighbour.text() and code
    [b] = await benef_rows(runtime)
    assert b.status == "active"  # still paid until an officer confirms


async def test_an_officer_may_refuse_a_reported_death(runtime: Runtime):
    owner = await Chat(runtime, "console:owner").start()
    await register_self(owner)
    family = await Chat(runtime, "console:family").start()
    code = await report_death(family)
    await add_officer(runtime, "commune", chat_key="console:xa")
    xa = Chat(runtime, "console:xa")
    await xa.say(code)
    await xa.press(next(c.value for c in xa.ask.choices if c.value.startswith("chg:no:")))
    assert "không xác nhận" in xa.text()
    [b] = await benef_rows(runtime)
    assert b.status == "active"
    async with runtime.sm() as db:
        assert (await db.execute(select(AllowanceChange))).scalars().one().status == "refused"
    # decided once: no more buttons, and a replayed one is refused
    await xa.say(code)
    assert not any(c.value.startswith("chg:") for c in xa.ask.choices)
    async with runtime.sm() as db:
        ch_id = (await db.execute(select(AllowanceChange))).scalars().one().id
    await xa.press(f"chg:ok:{ch_id}")
    assert xa.error and "Không tìm thấy thay đổi đang chờ xác nhận" in xa.error.text
    [b] = await benef_rows(runtime)
    assert b.status == "active"


async def test_moving_away_reported_by_another_chat_waits_for_the_registering_chat(runtime: Runtime):
    owner = await Chat(runtime, "console:owner").start()
    reg_code = await register_self(owner)
    await _verified(runtime, reg_code)
    other = await Chat(runtime, "console:other").start()
    await start_change(other, "moved", reporter="family")
    await change_residence(other)
    await family_reporter(other)
    await other.expect("moved.date")
    await other.say("01/12/2026")
    await other.expect("moved.to")
    await other.say("Phường Xuân Hương, Lâm Đồng")
    await submit(other)
    assert "chỉ có hiệu lực khi" in other.text()
    [b] = await benef_rows(runtime)
    assert b.status == "active"
    async with runtime.sm() as db:
        push = (await db.execute(select(OutboxMessage).where(OutboxMessage.kind == "allowance_confirm")))\
            .scalars().one()
        assert (await register_export.rows(db, EXPORT, "24958"))[0]["pending"] == "Chuyển nơi ở"
    assert push.chat_key == "console:owner"
    await owner.press(next(c["value"] for c in push.payload["choices"] if c["value"].startswith("alw:ok:")))
    assert "Đã xác nhận người hưởng chuyển đi" in owner.text()
    assert "Tại nơi ở mới, vui lòng liên hệ Ủy ban nhân dân cấp xã" in owner.text()  # what to do next, said
    [b] = await benef_rows(runtime)
    assert b.status == "moved"


async def test_benefit_level_change_is_recorded(chat: Chat, runtime: Runtime):
    await register_self(chat)
    await start_change(chat, "benefit_level")
    await change_residence(chat)
    await chat.expect("level.description")
    await chat.say("Tăng mức hưởng theo quyết định 12/QĐ-UBND từ tháng 12/2026")
    await chat.expect("level.decision")
    await chat.say("bỏ qua")
    await submit(chat)
    [b] = await benef_rows(runtime)
    assert b.status == "active" and "12/QĐ-UBND" in b.benefit_note


async def test_change_with_a_name_that_does_not_match_the_register_is_asked_again(chat: Chat, runtime: Runtime):
    await register_self(chat)
    await start_change(chat, "moved", name="Lê Văn Cường")
    assert chat.error and "không khớp với thông tin đã đăng ký" in chat.error.text
    await chat.expect("beneficiary.id_number")


# ---------------------------------------------------------------------------------------------
async def test_export_csv_and_xlsx(chat: Chat, runtime: Runtime, tmp_path: Path):
    code = await register_self(chat)
    await _verified(runtime, code)
    async with runtime.sm() as db:
        rows = await register_export.rows(db, EXPORT, "24958")
    assert len(rows) == 1
    r = rows[0]
    assert (r["full_name"], r["birth_date"], r["id_number"], r["bank_bin"], r["account_number"]) == \
        ("Nguyễn Văn An", "05/03/1950", BEN_ID, "970405", ACCOUNT)
    assert "Đức Trọng" in r["residence"] and r["phone"] == "0912345678" and r["dossier"] == code
    csv_path, xlsx_path = tmp_path / "ds.csv", tmp_path / "ds.xlsx"
    register_export.write_csv(EXPORT, rows, csv_path)
    register_export.write_xlsx(EXPORT, rows, xlsx_path, commune_code="24958", now=runtime.now())
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][:4] == ["STT", "Họ và tên", "Ngày sinh", "Số CCCD/định danh cá nhân"]
    assert table[1][1] == "Nguyễn Văn An" and ACCOUNT in table[1]
    from openpyxl import load_workbook
    ws = load_workbook(xlsx_path).active
    assert "Xã Đức Trọng, Tỉnh Lâm Đồng" in ws["A1"].value  # the commune by name, not by code
    header = [c.value for c in ws[2]]
    assert header[:2] == ["STT", "Họ và tên"] and "Số tài khoản" in header
    values = [c.value for c in ws[3]]
    assert values[1] == "Nguyễn Văn An" and values[header.index("Số tài khoản")] == ACCOUNT
    assert values[header.index("Mã BIN")] == "970405"
    assert ws.max_row == 3


async def test_cli_verify_and_export(chat: Chat, runtime: Runtime, tmp_path: Path):
    """`dvcbot allowance checks|verify|export`: the police complete the check, the commune exports XLSX."""
    import asyncio
    import contextlib
    import io

    from bot import cli
    code = await register_self(chat)
    police = await add_officer(runtime, "police")
    base = ["--db", runtime.db_url, "--var", str(tmp_path / "var"), "allowance"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert await asyncio.to_thread(cli.main, [*base, "checks", "--as", str(police)]) == 0
    check_id = int(out.getvalue().split()[0])
    assert code in out.getvalue()
    with contextlib.redirect_stdout(io.StringIO()):
        assert await asyncio.to_thread(cli.main, [*base, "verify", str(check_id), "--as", str(police), "--match"]) == 0
        mismatch = [*base, "verify", str(check_id), "--as", str(police), "--mismatch"]
        assert await asyncio.to_thread(cli.main, mismatch) == 1  # already answered
    xlsx = tmp_path / "ds.xlsx"
    with contextlib.redirect_stdout(io.StringIO()):
        export = [*base, "export", "--commune", "24958", "--format", "xlsx", "--out", str(xlsx)]
        assert await asyncio.to_thread(cli.main, export) == 0
    from openpyxl import load_workbook
    ws = load_workbook(xlsx).active
    assert ws.max_row == 3 and ws.cell(row=3, column=2).value == "Nguyễn Văn An"


async def test_unconfirmed_new_account_expires_and_the_old_account_stays(runtime: Runtime, clock):
    from datetime import timedelta
    owner = await Chat(runtime, "console:owner").start()
    await register_self(owner)
    await start_change(owner, "new_account")
    await change_residence(owner)
    await owner.expect("consent.data")
    await owner.press("yes")
    await owner.say("vietinbank")
    await owner.say("100012345678")
    await owner.say("NGUYEN VAN AN")
    await submit(owner)
    async with runtime.sm() as db:
        push = (await db.execute(select(OutboxMessage).where(OutboxMessage.kind == "allowance_confirm")))\
            .scalars().one()
    pin = push.payload["choices"][0]["value"].rsplit(":", 1)[1]
    clock.when = clock.when + timedelta(days=CONFIRM_DAYS + 1)
    await owner.say(f"/xacnhan {pin}")
    assert owner.error and "hết hạn" in owner.error.text
    assert (await benef_rows(runtime))[0].account_number == ACCOUNT
    async with runtime.sm() as db:
        assert (await db.execute(select(AllowanceChange))).scalars().one().status == "expired"
