"""The citizen's side of the lifecycle, through the chat: a supplement round trip, /hoso and rating."""
from __future__ import annotations

from bot import cases as officers
from bot.cases.base import applicant_id_number
from bot.service import Runtime
from dialogs.messages import NAV_SKIP
from storage.repo import DossierRepo
from tests.conftest import Chat, jpeg
from tests.test_conversation_funeral import fill_household, fill_until_organizer, finish


async def _submitted(chat: Chat, helper: bool = False) -> str:
    await fill_until_organizer(chat, helper=helper)
    await fill_household(chat)
    await finish(chat)
    await chat.press("confirm")
    await chat.press("yes")
    return chat.dossier


async def _leader(runtime: Runtime, code: str, chat_key: str | None = None):
    """A leader of the dossier's agency and commune; with ``chat_key``, their chat (the invite redeemed)."""
    async with runtime.sm() as db, db.begin():
        d = await DossierRepo(db).by_code(code)
        o, invite = await officers.add_officer(db, full_name="Lò Văn Tâm", agency=d.agency,
                                               commune_code=d.commune_code, role="leader")
        if chat_key:
            await officers.redeem_invite(db, invite, chat_key, runtime.now())
        return o.id


async def _as_officer(runtime: Runtime, officer_id: int, action, *args):
    from storage.officers_repo import OfficerRepo
    async with runtime.sm() as db, db.begin():
        o = await OfficerRepo(db).get(officer_id)
        kw = {} if action in (officers.claim,) else {"calendar": runtime.calendar, "catalog": runtime.catalog}
        return await action(db, o, *args, runtime.now(), **kw)


async def test_supplement_round_trip_asks_only_the_requested_items(chat: Chat, runtime: Runtime):
    code = await _submitted(chat)
    assert "/theodoi" not in chat.text()  # filed by the organiser: no one else to follow it (others_follow)
    oid = await _leader(runtime, code)
    await _as_officer(runtime, oid, officers.claim, code)
    await _as_officer(runtime, oid, officers.receive, code)
    await _as_officer(runtime, oid, officers.claim, code)  # receiving hands the leg back to the queue
    await _as_officer(runtime, oid, officers.request_supplement, code, ["contact.phone", "docs.death_notice"],
                      "Ảnh giấy báo tử bị mờ; số điện thoại không liên lạc được.")
    await chat.say("/hoso")
    assert code in chat.text() and "bổ sung" in chat.text().lower()
    await chat.say("bổ sung")
    assert "Ảnh giấy báo tử bị mờ" in chat.text()
    await chat.expect("contact.phone")
    await chat.say("0987 654 321")
    await chat.expect("docs.death_notice")
    await chat.send_file(jpeg(9), "ro-net.jpg")
    await chat.press("done")
    await chat.expect("_supplement")
    assert "0987654321" in chat.text()
    await chat.press("send")
    assert chat.dossier == code and "Đã gửi bổ sung" in chat.text()
    await chat.expect("procedure")
    async with runtime.sm() as db:
        d = await DossierRepo(db).by_code(code)
        assert d.answers["contact.phone"] == "0987654321"
        assert d.answers["deceased.full_name"] == "NGUYỄN VĂN AN"  # untouched
        assert len(d.answers["docs.death_notice"]) == 1
        assert d.status == "resubmitted"
    # nothing left to supplement
    await chat.say("bổ sung")
    assert "không có hồ sơ nào cần bổ sung" in chat.text()


async def test_a_restart_during_a_supplement_resumes_it_with_the_answers_given(chat: Chat, runtime: Runtime, db_url,
                                                                               tmp_path, clock):
    from tests.conftest import shared_catalog
    code = await _submitted(chat)
    oid = await _leader(runtime, code)
    await _as_officer(runtime, oid, officers.claim, code)
    await _as_officer(runtime, oid, officers.receive, code)
    await _as_officer(runtime, oid, officers.claim, code)
    await _as_officer(runtime, oid, officers.request_supplement, code, ["contact.phone", "docs.death_notice"],
                      "Ảnh giấy báo tử bị mờ.")
    await chat.say("bổ sung")
    await chat.expect("contact.phone")
    await chat.say("0987 654 321")
    await chat.expect("docs.death_notice")
    # the console is started again (a new process on the same database), or /start is sent on Telegram
    again = Runtime(db_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog())
    await again.open(migrate=False)
    try:
        resumed = await Chat(again, chat.user).start()
        assert f"Chào bạn quay lại! Chúng ta tiếp tục bổ sung hồ sơ {code}." in resumed.text()
        await resumed.expect("docs.death_notice")  # the question where the citizen stopped
        await resumed.send_file(jpeg(9), "ro-net.jpg")
        await resumed.press("done")
        await resumed.expect("_supplement")
        assert "0987654321" in resumed.text()  # the answer given before the restart is kept
        await resumed.press("send")
        assert "Đã gửi bổ sung" in resumed.text()
        await (await resumed.say("/start")).expect("procedure")  # done: /start greets with the menu again
    finally:
        await again.close()
    async with runtime.sm() as db:
        d = await DossierRepo(db).by_code(code)
        assert d.answers["contact.phone"] == "0987654321" and d.status == "resubmitted"


async def test_the_dossiers_asked_for_in_everyday_words(chat: Chat):
    """“tình trạng hồ sơ” opened the care facility's registration, and “kiểm tra hồ sơ” the bank registration (a
    word of theirs): a question about the dossiers filed lists them, at the menu and in the middle of a form."""
    code = await _submitted(chat)
    for asked in ("tình trạng hồ sơ", "kiem tra ho so", "hồ sơ của mẹ tôi tới đâu rồi ạ?",
                  "dạ cho em hỏi hồ sơ đã được duyệt chưa", "trang thai", "xem tiến độ"):  # (alone: “Chưa rõ…”)
        await chat.say(asked)
        assert "Hồ sơ của bạn" in chat.text() and code in chat.text(), asked
        await chat.expect("procedure")
    await chat.press("ho-tro-nha-o")
    first = chat.field
    await chat.say("tien do ho so")
    assert code in chat.text()
    await chat.expect(first)  # the question asked stays
    await chat.say("hồ sơ gồm những gì")  # what to prepare: not the dossiers filed
    assert code not in chat.text()
    await chat.say("what is the status of my application?")  # in English too
    assert code in chat.text()


async def test_thanks_and_greetings_are_answered_and_never_taken_for_an_answer(chat: Chat):
    """“cảm ơn” after the filing was “⚠️ Chưa rõ bạn cần thủ tục nào”, and at a name question “CAM ON” (or “ALO”)
    was offered as the name."""
    await _submitted(chat)
    await chat.say("cảm ơn bạn nhiều")
    assert not chat.error and "không có gì" in chat.text()
    await chat.expect("procedure")
    await chat.press("ho-tro-nha-o")
    for text in ("hộ nghèo", "hư hỏng nặng", "hỏa hoạn", "20/11/2026", "1"):
        await chat.say(text)
    await chat.expect("rep.full_name")
    await chat.say("dạ cám ơn ạ")
    assert not chat.error and "không có gì" in chat.text() and "CAM ON" not in chat.text()
    await chat.expect("rep.full_name")
    await chat.say("alo")  # back in the chat: greeted, and told where it stands
    assert not chat.error and "Chào bạn! Chúng ta đang khai hồ sơ “Hỗ trợ làm nhà ở" in chat.text()
    await chat.expect("rep.full_name")
    assert "rep.full_name" not in await chat.answers()


async def test_rating_after_close(chat: Chat, runtime: Runtime):
    code = await _submitted(chat)
    await chat.say("đánh giá 5")
    assert chat.error and "chưa có hồ sơ nào" in chat.text()
    oid = await _leader(runtime, code)
    for action, *args in ((officers.claim,), (officers.receive,), (officers.claim,),
                          (officers.approve, "123/QĐ-UBND"), (officers.claim,), (officers.return_result,)):
        await _as_officer(runtime, oid, action, code, *args)
    await chat.say("/hoso")
    assert "đánh giá" in chat.text()
    await chat.say("danh gia 4")
    assert "Cảm ơn" in chat.text()
    await chat.say(f"đánh giá {code} 5")
    assert chat.error and "đã đánh giá" in chat.text()
    await chat.say("đánh giá 3")  # without a code: the latest closed dossier, already rated
    assert chat.error and f"đã đánh giá hồ sơ {code}" in chat.text()


async def test_applicant_follows_a_dossier_a_volunteer_filed(chat: Chat, runtime: Runtime):
    """A volunteer files; the applicant's own chat types “/theodoi CODE 1234” and then hears of every change."""
    from sqlalchemy import select

    from storage.models import OutboxMessage
    code = await _submitted(chat, helper=True)
    assert "/theodoi" in chat.text()
    # no officer of that commune uses the assistant yet: the volunteer is told which commune, not “yours”
    assert "Lưu ý: UBND cấp xã ở Xã Đức Trọng chưa nhận hồ sơ qua Trợ lý." in chat.text()
    binh = await Chat(runtime, "console:binh").start()
    await binh.say("/theodoi")
    assert "4 số cuối" in binh.text()
    await binh.say(f"/theodoi {code} 9999")
    assert binh.error and "chưa khớp" in binh.text()
    await binh.say("/theodoi HT-2611-AAAAAAAA 1234")  # an unknown code gets the same answer
    assert binh.error and "chưa khớp" in binh.text()
    await binh.say(f"theo doi {code.lower()} 1234")  # applicant.id_number is 068 075 001 234
    assert not binh.error and code in binh.text()
    async with runtime.sm() as db:
        d = await DossierRepo(db).by_code(code)
        assert d.applicant_key == "console:binh" and d.submitter_key == chat.user
    oid = await _leader(runtime, code)
    await _as_officer(runtime, oid, officers.claim, code)
    await _as_officer(runtime, oid, officers.receive, code)
    async with runtime.sm() as db:
        rows = (await db.execute(select(OutboxMessage).where(OutboxMessage.kind.like("citizen%")))).scalars().all()
        received = {r.chat_key for r in rows if r.kind != "citizen_submitted"}
    assert received == {chat.user, "console:binh"}
    # guessing the four digits is cut off after five wrong tries a day
    tam = await Chat(runtime, "console:tam").start()
    for pin in ("0001", "0002", "0003", "0004", "0005"):
        await tam.say(f"/theodoi {code} {pin}")
        assert "chưa khớp" in tam.text()
    await tam.say(f"/theodoi {code} 1234")
    assert tam.error and "sai nhiều lần" in tam.text()
    async with runtime.sm() as db:
        assert (await DossierRepo(db).by_code(code)).applicant_key == "console:binh"


async def test_citizen_withdraws_a_dossier_from_the_chat(chat: Chat, runtime: Runtime):
    from sqlalchemy import select

    from storage.models import OutboxMessage as Outbox

    code = await _submitted(chat)
    oid = await _leader(runtime, code, chat_key="console:tam")
    await _as_officer(runtime, oid, officers.claim, code)
    await _as_officer(runtime, oid, officers.receive, code)
    await chat.say("rút hồ sơ")  # without a code: how to do it
    assert "rút hồ sơ MT-" in chat.text() and not chat.error
    await chat.expect("procedure")
    await chat.say(f"rut ho so {code.lower()}")  # asked first, with the code
    await chat.expect("_withdraw")
    assert code in chat.ask.text
    await chat.say("không")
    assert "vẫn được giải quyết" in chat.text()
    await chat.expect("procedure")
    async with runtime.sm() as db:
        assert (await DossierRepo(db).by_code(code)).status == "received"
    await chat.say(f"/ruthoso {code}")
    await chat.say("có")
    assert f"Đã rút hồ sơ {code}" in chat.text()
    await chat.expect("procedure")
    async with runtime.sm() as db:
        assert (await DossierRepo(db).by_code(code)).status == "withdrawn"
        kinds = [r.kind for r in (await db.execute(select(Outbox).where(Outbox.dossier_id.is_not(None)))).scalars()]
    assert "officer_withdrawn" in kinds  # the officers are told
    await chat.say(f"rút hồ sơ {code}")  # a closed dossier cannot be withdrawn again
    await chat.press("yes")
    assert chat.error and "không rút được" in chat.text()
    # withdrawing in the middle of a new form keeps the place
    await chat.press("ho-tro-chi-phi-mai-tang")
    await chat.say("1")
    await chat.press("yes")  # consent to the cause of death (health data)
    await chat.expect("deceased.cause")
    await chat.say(f"rút hồ sơ {code}")
    await chat.press("no")
    await chat.expect("deceased.cause")


async def test_the_desk_is_told_when_a_result_is_ready(chat: Chat, runtime: Runtime):
    from sqlalchemy import select

    from storage.models import OutboxMessage

    code = await _submitted(chat)
    async with runtime.sm() as db, db.begin():
        d = await DossierRepo(db).by_code(code)
        ids = {}
        for name, role, chat_key in (("Lò Văn Tâm", "leader", "console:tam"),
                                     ("Hà Thị Mai", "receiving_desk", "console:mai"),
                                     ("Vì Văn Sáu", "specialist", "console:sau")):
            o, invite = await officers.add_officer(db, full_name=name, agency=d.agency, commune_code=d.commune_code,
                                                   role=role)
            await officers.redeem_invite(db, invite, chat_key, runtime.now())
            ids[role] = o.id
    for action, *args in ((officers.claim,), (officers.receive,), (officers.claim,), (officers.approve, "7/QĐ")):
        await _as_officer(runtime, ids["leader"], action, code, *args)
    async with runtime.sm() as db:
        rows = (await db.execute(select(OutboxMessage).where(OutboxMessage.kind == "officer_result_ready"))).scalars()
        told = {r.chat_key: r.payload["text"] for r in rows}
    assert set(told) == {"console:mai"}  # the desk (the specialist cannot return results; the leader approved)
    assert code in told["console:mai"] and "7/QĐ" in told["console:mai"]


async def test_rating_as_the_result_message_says_never_starts_a_procedure(chat: Chat, runtime: Runtime):
    """The result push says “gõ “đánh giá CODE””: typed as told (or just “đánh giá”), the bot asks how many stars."""
    from sqlalchemy import select

    from storage.models import OutboxMessage
    await chat.say("đánh giá")  # no dossier yet: asked, then told kindly; never the disability procedure
    await chat.expect("_rating")
    await chat.say("5")
    assert chat.error and "chưa có hồ sơ nào" in chat.text()
    await chat.expect("procedure")
    code = await _submitted(chat)
    oid = await _leader(runtime, code)
    for action, *args in ((officers.claim,), (officers.receive,), (officers.claim,),
                          (officers.approve, "123/QĐ-UBND"), (officers.claim,), (officers.return_result,)):
        await _as_officer(runtime, oid, action, code, *args)
    async with runtime.sm() as db:
        [result] = [m.payload["text"] for m in (await db.execute(select(OutboxMessage))).scalars()
                    if m.kind == "citizen_result_issued"]
    assert f"gõ “đánh giá {code}” rồi chọn từ 1 đến 5 sao" in result
    await chat.say(f"danh gia {code}")  # as the message says, without diacritics
    await chat.expect("_rating")
    assert "⭐⭐⭐⭐⭐" in [c.label for c in chat.ask.choices]
    await chat.say("bon sao")
    assert "Cảm ơn bạn đã đánh giá" in chat.text()
    await chat.expect("procedure")
    await chat.say("đánh giá")
    await chat.say("hmm")  # not a number of stars: asked again, not lost
    assert chat.error and "từ 1 đến 5 sao" in chat.text()
    await chat.expect("_rating")
    await chat.say("bỏ qua")
    await chat.expect("procedure")


async def test_withdrawing_a_linked_dossier_tells_the_citizen_once(chat: Chat, runtime: Runtime):
    from sqlalchemy import select

    from storage.models import OutboxMessage
    from tests.test_conversation_linked import birth_docs, birth_insurance, birth_people, birth_residence, birth_start
    from tests.test_conversation_linked import submit as submit_linked
    await birth_start(chat)
    await birth_people(chat)
    await birth_residence(chat)
    await birth_insurance(chat)
    await birth_docs(chat)
    code = await submit_linked(chat)
    await chat.say(f"rút hồ sơ {code}")
    await chat.press("yes")
    assert f"Đã rút hồ sơ {code}" in chat.text()
    async with runtime.sm() as db:
        kinds = [m.kind for m in (await db.execute(select(OutboxMessage))).scalars()]
    assert kinds.count("citizen_withdrawn") == 0  # this chat reads the confirmation; no message per agency


async def test_following_is_read_only_and_guesses_are_limited_per_dossier(chat: Chat, runtime: Runtime):
    """A chat that follows a dossier (“/theodoi”) hears of it and lists it, but cannot answer its supplement
    request or withdraw it; many chats guessing the four digits lock the dossier and alert its officers."""
    from sqlalchemy import select

    from bot.cases.citizen import FOLLOW_GUESSES_PER_DOSSIER
    from storage.models import OutboxMessage
    code = await _submitted(chat)
    binh = await Chat(runtime, "console:binh").start()
    await binh.say(f"/theodoi {code} 1234")
    assert not binh.error and "Tình trạng hiện nay: Đã nộp, chờ tiếp nhận" in binh.text()  # where it stands
    oid = await _leader(runtime, code, chat_key="console:tam")
    await _as_officer(runtime, oid, officers.claim, code)
    await _as_officer(runtime, oid, officers.receive, code)
    await _as_officer(runtime, oid, officers.claim, code)
    await _as_officer(runtime, oid, officers.request_supplement, code, ["contact.phone"], "Số điện thoại sai.")
    await binh.say("/hoso")
    assert code in binh.text() and "đến khi người nộp hồ sơ bổ sung" in binh.text()  # the follower sees it …
    await binh.say("bổ sung")
    assert "không có hồ sơ nào cần bổ sung" in binh.text()  # … but cannot answer for the filer
    await binh.say(f"rút hồ sơ {code}")
    await binh.press("yes")
    assert binh.error and "chỉ người đã nộp hồ sơ mới rút được" in binh.text()
    async with runtime.sm() as db:
        assert (await DossierRepo(db).by_code(code)).status == "needs_supplement"
    await chat.say("bổ sung")  # the filer still can
    await chat.expect("contact.phone")
    await chat.say("quay lại")
    # one wrong guess from each of many chats: the per-chat limit never trips, the per-dossier one does
    for i in range(FOLLOW_GUESSES_PER_DOSSIER):
        guesser = await Chat(runtime, f"console:g{i}").start()
        await guesser.say(f"/theodoi {code} {i:04d}")
        assert "chưa khớp" in guesser.text()
    last = await Chat(runtime, "console:last").start()
    await last.say(f"/theodoi {code} 1234")  # even the right digits: locked for the day
    assert last.error and "tạm khóa" in last.text()
    async with runtime.sm() as db:
        d = await DossierRepo(db).by_code(code)
        assert d.applicant_key == "console:binh"
        alerts = (await db.execute(select(OutboxMessage).where(OutboxMessage.kind == "officer_follow_alert")))
        [alert] = alerts.scalars().all()
    assert alert.chat_key == "console:tam" and code in alert.payload["text"] and "tạm khóa" in alert.payload["text"]


async def test_a_withdrawn_dossier_is_not_offered_for_rating(chat: Chat, runtime: Runtime):
    code = await _submitted(chat)
    async with runtime.sm() as db, db.begin():
        await officers.withdraw(db, code, chat.user, runtime.now(), calendar=runtime.calendar,
                                catalog=runtime.catalog)
    await chat.say("/hoso")
    assert code in chat.text() and "Đã rút" in chat.text() and "đánh giá" not in chat.text()
    await chat.say("đánh giá 5")
    assert chat.error and "chưa có hồ sơ nào đã giải quyết xong" in chat.text()
    await chat.say(f"đánh giá {code} 5")
    assert chat.error and "đã được rút nên không cần đánh giá" in chat.text()


async def test_the_volunteer_and_the_applicant_share_one_rating_and_are_told_who_gave_it(chat: Chat,
                                                                                          runtime: Runtime):
    code = await _submitted(chat)  # the applicant's ID number ends in 1234 (tests.test_conversation_funeral)
    async with runtime.sm() as db, db.begin():
        d = await DossierRepo(db).by_code(code)
        last4 = "".join(ch for ch in applicant_id_number(d, runtime.catalog) if ch.isdigit())[-4:]
        await officers.follow_dossier(db, "console:nguoi-dung-ten", code, last4, catalog=runtime.catalog,
                                      now=runtime.now())
    oid = await _leader(runtime, code)
    await _as_officer(runtime, oid, officers.claim, code)
    await _as_officer(runtime, oid, officers.reject, code, "Không thuộc diện hỗ trợ")
    async with runtime.sm() as db, db.begin():
        await officers.rate(db, code, "console:nguoi-dung-ten", 4)
    await chat.say("/hoso")
    assert code in chat.text() and "đánh giá" not in chat.text()  # rated once for the dossier
    await chat.say(f"đánh giá {code} 5")
    assert chat.error and f"Người đứng tên hồ sơ {code} đã đánh giá 4 sao" in chat.text()
    assert "Bạn đã đánh giá" not in chat.text()


async def test_an_optional_item_the_officer_asks_for_cannot_be_skipped(chat: Chat, runtime: Runtime):
    code = await _submitted(chat)
    oid = await _leader(runtime, code)
    for action in (officers.claim, officers.receive, officers.claim):
        await _as_officer(runtime, oid, action, code)
    await _as_officer(runtime, oid, officers.request_supplement, code, ["applicant.id_issue_date"],
                      "Thiếu ngày cấp CCCD.")
    await chat.say("bổ sung")
    await chat.expect("applicant.id_issue_date")
    assert NAV_SKIP not in chat.ask.nav and not chat.ask.optional  # no “Bỏ qua” button: the officer needs it
    assert "bắt buộc" not in chat.ask.text and "bỏ qua" not in chat.ask.text  # nor a word that it may be skipped
    await chat.say("bỏ qua")
    await chat.expect("applicant.id_issue_date")
    assert chat.error and "Cán bộ cần thông tin này" in chat.text()
    await chat.say("không có")  # not known yet: asked again, never sent back empty
    await chat.expect("applicant.id_issue_date")
    await chat.say("15/08/2021")
    await chat.expect("_supplement")
    await chat.press("send")
    async with runtime.sm() as db:
        assert (await DossierRepo(db).by_code(code)).answers["applicant.id_issue_date"] == "2021-08-15"
