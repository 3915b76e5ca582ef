"""Free-text understanding in the conversation: intents, info questions, names, language."""
from __future__ import annotations

from tests.conftest import Chat

FUNERAL = "ho-tro-chi-phi-mai-tang"


async def at_the_deceaseds_name(chat: Chat) -> None:
    """The funeral support, filed for oneself, up to the deceased's name."""
    await chat.press(FUNERAL)
    await chat.say("1")
    await chat.press("yes")  # consent: the cause of death is health data
    await chat.say("1")
    await chat.expect("deceased.full_name")


async def test_free_text_lands_on_the_procedure(chat: Chat):
    await chat.say("xin tro cap mai tang cho ba noi bi lu cuon")
    await chat.expect("filer.role")
    assert chat.ask.procedure == FUNERAL


async def test_funeral_support_typed_at_the_menu_is_offered_first(chat: Chat):
    """“ho tro mai tang” lies word for word inside the death group's menu title, but the words name the
    emergency funeral support: it is offered first, never the death group opened outright."""
    await chat.say("ho tro mai tang")
    await chat.expect("procedure")
    values = [c.value for c in chat.ask.choices]
    assert values[0] == FUNERAL and "lien-thong-khai-tu" in values
    await chat.say("1")
    await chat.expect("filer.role")
    assert chat.ask.procedure == FUNERAL


async def test_a_person_swept_away_is_the_funeral_support_not_the_house(chat: Chat):
    """“bố tôi bị lũ cuốn trôi, mất tích 3 ngày nay” opened the housing support (the words “lũ cuốn trôi” of a house
    swept away). A person missing is the funeral support, offered first; the house's, which needs a word of the
    house, after it."""
    await chat.say("bo toi bi lu cuon troi mat tich 3 ngay nay")
    await chat.expect("procedure")
    assert [c.value for c in chat.ask.choices] == [FUNERAL, "ho-tro-nha-o"]
    await chat.say("1")
    assert chat.ask.procedure == FUNERAL
    await chat.say("menu")
    await chat.say("nhà tôi bị lũ cuốn trôi")  # the house: opened
    assert chat.ask.procedure == "ho-tro-nha-o"


async def test_a_menu_title_typed_in_part_still_opens_it(chat: Chat):
    await chat.say("khai tu")  # inside one title only, and the NLU agrees
    assert chat.ask.procedure == "lien-thong-khai-tu"


async def test_unsure_offers_the_closest_procedures(chat: Chat):
    await chat.say("giay khuyet tat")
    await chat.expect("procedure")
    values = [c.value for c in chat.ask.choices]
    assert 2 <= len(values) <= 3
    assert "doi-cap-lai-giay-xac-nhan-khuyet-tat" in values
    await chat.press("doi-cap-lai-giay-xac-nhan-khuyet-tat")
    await chat.expect("request.has_certificate")


async def test_numbers_pick_from_the_short_list_offered(chat: Chat):
    await chat.say("giay khuyet tat")
    await chat.expect("procedure")
    offered = [c.value for c in chat.ask.choices]
    await chat.say("9")  # not on the short list: asked again, nothing chosen
    assert chat.error and [c.value for c in chat.ask.choices] == offered
    await chat.say("2")
    assert chat.ask.procedure == offered[1]
    await chat.say("menu")
    await chat.expect("procedure")
    first = chat.ask.choices[0].value
    await chat.say("1")  # the full menu again: its own numbers
    assert chat.ask.procedure == first


async def test_words_not_understood_at_the_short_list_show_it_again(chat: Chat):
    """A wrong answer at the short list brings the same list back: a “1” typed next picks its first item, not
    the full menu's (birth registration)."""
    await chat.say("ho tro mai tang")
    offered = [c.value for c in chat.ask.choices]
    await chat.say("abc")
    assert chat.error and [c.value for c in chat.ask.choices] == offered
    await chat.say("1")
    await chat.expect("filer.role")
    assert chat.ask.procedure == offered[0] == FUNERAL


async def test_info_questions_at_any_step_keep_the_place(chat: Chat):
    await at_the_deceaseds_name(chat)
    await chat.expect("deceased.full_name")
    await chat.say("can giay to gi?")
    await chat.expect("deceased.full_name")
    assert "giấy báo tử" in chat.text()
    await chat.say("mất bao lâu")
    await chat.expect("deceased.full_name")
    assert "3 ngày làm việc" in chat.text()
    await chat.say("lệ phí bao nhiêu")
    assert "Không mất phí" in chat.text()
    assert (await chat.answers())["deceased.cause"] == "thien_tai"


async def test_a_name_after_the_words_that_introduce_it(chat: Chat):
    """“ong toi ten la tran van binh” (“my grandfather is called …”): the name after the words is what is spelled
    and filed; “tình nguyện viên” where a name is asked is a role, asked again."""
    await at_the_deceaseds_name(chat)
    await chat.say("tình nguyện viên")
    await chat.expect("deceased.full_name")
    assert chat.error is not None and "không hỏi vai trò" in chat.text()
    await chat.say("ong toi ten la tran van binh")
    assert chat.ask.choices[0].label == "TRẦN VĂN BÌNH"
    await chat.say("đúng")
    assert (await chat.answers())["deceased.full_name"] == "TRẦN VĂN BÌNH"


async def test_a_place_typed_at_the_name_spelling_is_not_the_name_again(chat: Chat):
    """At “Tên có dấu có phải là …?”, “lam dong” (the address typed ahead) was read as the name typed again and
    offered as “LÂM ĐỒNG”. A text every word of which is a place is kept for the questions after, as a date is."""
    await at_the_deceaseds_name(chat)
    await chat.say("nguyen van an")
    await chat.say("lam dong")
    await chat.expect("deceased.full_name")
    assert chat.error is not None and "chọn cách viết tên trước" in chat.text() and "“lam dong”" in chat.text()
    assert chat.ask.choices[0].label == "NGUYỄN VĂN AN"
    await chat.say("tran van binh")  # a name typed again, without diacritics: still their name
    assert chat.ask.choices[0].label == "TRẦN VĂN BÌNH"


async def test_name_without_diacritics_is_confirmed(chat: Chat):
    await at_the_deceaseds_name(chat)
    await chat.say("nguyen van an")
    await chat.expect("deceased.full_name")
    labels = [c.label for c in chat.ask.choices]
    assert "NGUYỄN VĂN AN" in labels[0]
    await chat.say("đúng")
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"] == "NGUYỄN VĂN AN"
    # keeping it as typed is always possible
    await chat.say("quay lại")
    await chat.say("tran thi hoa")
    await chat.press("typed")
    assert (await chat.answers())["deceased.full_name"] == "TRAN THI HOA"
    # an answer to the next question typed too early does not replace the name: the choice is asked
    # again, and what was typed answers the next question once the spelling is chosen
    await chat.say("quay lại")
    await chat.say("le van tam")
    await chat.say("5/3/1950")
    assert chat.error and "chọn cách viết tên trước" in chat.text() and "5/3/1950" in chat.text()
    await chat.expect("deceased.full_name")
    await chat.say("1")
    await chat.expect("deceased.sex")
    answers = await chat.answers()
    assert answers["deceased.full_name"] == "LÊ VĂN TÂM"
    assert answers["deceased.birth_date"] == "1950-03-05"
    # when the name is corrected later on, the next question is no longer the one after it: an early
    # answer is then not applied anywhere (the citizen is simply asked the next open question)
    await chat.say("quay lại")
    await chat.say("quay lại")
    await chat.expect("deceased.full_name")
    await chat.say("pham van hung")
    await chat.say("12345")
    assert chat.error
    await chat.press("proposal")
    await chat.expect("deceased.sex")
    assert not chat.error and "Chưa ghi: “12345”." in chat.text()  # said, not dropped without a word
    answers = await chat.answers()
    assert answers["deceased.full_name"] == "PHẠM VĂN HÙNG"
    assert answers["deceased.birth_date"] == "1950-03-05"


async def test_a_name_of_one_word_is_asked_in_full_or_kept(chat: Chat):
    """“co” typed by habit at a full-name question is not taken as the name: the full name is asked for (and,
    as a yes or no word, not offered to be kept), and a name of one word can still be kept (typed again, or with
    the button)."""
    await at_the_deceaseds_name(chat)
    await chat.say("co")
    await chat.expect("deceased.full_name")
    assert chat.error is not None and chat.error.text.startswith("Câu này hỏi họ và tên.") and not chat.ask.choices
    await chat.say("Hà")
    assert "một chữ" in chat.text() and [c.value for c in chat.ask.choices] == ["typed"]
    assert "deceased.full_name" not in await chat.answers()
    await chat.say("nguyen van an")  # the name in full: its spelling is proposed as usual
    await chat.say("đúng")
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"] == "NGUYỄN VĂN AN"
    await chat.say("quay lại")
    await chat.say("Hà")
    await chat.say("hà")  # the same word again: it is the name
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"] == "HÀ"
    await chat.say("quay lại")
    await chat.say("Nhung")
    await chat.say("1")  # the option's number
    await chat.expect("deceased.birth_date")
    assert (await chat.answers())["deceased.full_name"] == "NHUNG"


async def test_language_switch(chat: Chat):
    await chat.say("/language")
    await chat.expect("procedure")
    assert "Which procedure" in chat.ask.text or "procedure" in chat.ask.text.lower()
    await chat.press(FUNERAL)
    assert "Funeral" in chat.text() or "funeral" in chat.text()
    await chat.say("/ngonngu")
    assert "thủ tục" in chat.text().lower() or "khai" in chat.text().lower()


async def test_request_typed_in_english(chat: Chat):
    await chat.say("/language")
    await chat.say("I want to register my father's death")
    assert chat.ask.procedure == "lien-thong-khai-tu"
    await chat.say("menu")
    await chat.say("funeral costs for my grandfather who died in the flood")
    assert chat.ask.procedure == FUNERAL
    await chat.say("menu")
    await chat.say("I want to get married")  # a service the assistant does not offer: said so, menu again
    await chat.expect("procedure")
    assert chat.error


async def test_answers_typed_in_english_in_the_english_bot(chat: Chat):
    """In English, an option is picked by its English label as shown (“Poor household”), a date may be
    “yesterday”, and a volunteer says so in English; before, only the numbers worked."""
    await chat.say("/language")
    await chat.press("ho-tro-nha-o")
    await chat.say("poor household")
    await chat.say("collapsed")
    await chat.say("natural disaster")
    await chat.expect("house.event_date")
    await chat.say("yesterday")
    await chat.say("I am a volunteer")
    answers = await chat.answers()
    assert (answers["household.status"], answers["house.damage"]) == ("ho_ngheo", "do_sap")
    assert answers["house.cause"] == "thien_tai" and answers["filer.role"] == "helper"
    assert answers["house.event_date"] == "2026-11-22"


AVERAGE = "xac-nhan-ho-muc-song-trung-binh"


async def test_weak_evidence_for_another_procedure_is_no_offer_in_a_form(chat: Chat):
    """“chuyen vao nam” scores 0.56 for the bank registration (“chuyển … vào”): enough to start it from the menu,
    not to interrupt a form (``nlu.SWITCH_CONFIDENT``); the question says what it needs."""
    await chat.press(AVERAGE)
    await chat.expect("household.occupation")
    await chat.say("chuyen vao nam")
    assert chat.error is not None and "thủ tục khác" not in chat.text()
    await chat.expect("household.occupation")


async def test_the_words_of_an_account_are_needed_to_offer_the_bank_registration(chat: Chat):
    """“tại bị bão số 3 quét qua” at the house's damage offered the bank registration (0.78: “tại … qua”, folded, are
    the words of “qua tài khoản”): it now needs a word of an account (``nlu.requires``)."""
    await chat.press("ho-tro-nha-o")
    await chat.say("hộ nghèo")
    await chat.expect("house.damage")
    await chat.say("tai bi bao so 3 quet qua")
    assert chat.error is not None and "thủ tục khác" not in chat.text()
    await chat.expect("house.damage")


async def test_another_request_typed_at_a_question_is_offered_and_the_draft_kept(chat: Chat):
    """A citizen in the wrong procedure types what they want at a question that cannot take it: the procedure
    it names is offered (the draft kept), a service the catalogue lacks is said so, and the question stays."""
    await chat.press(AVERAGE)
    first = chat.field
    await chat.say("toi muon lam giay khai tu cho bo")
    assert [c.value for c in chat.ask.choices] == ["switch", "stay"]
    assert "Đăng ký khai tử" in chat.ask.text and "được lưu lại" in chat.ask.text
    await chat.say("2")  # stay: the same question
    await chat.expect(first)
    await chat.say("1")
    second = chat.field
    await chat.say("bo toi mat roi, lam khai tu")
    assert [c.value for c in chat.ask.choices] == ["switch", "stay"]
    await chat.say("2 triệu")  # answering the question instead is an answer
    third = chat.field
    assert third != second and chat.error is None
    assert (await chat.answers())[second] == 2_000_000
    await chat.say("quay lại")
    await chat.expect(second)
    await chat.say("dang ky ket hon")  # not in the catalogue: said so, the question again
    assert "chưa hỗ trợ dịch vụ này" in chat.text() and "vẫn được giữ" in chat.text()
    await chat.expect(second)
    await chat.say("bo toi mat roi, lam khai tu")  # offered at a question gone back to…
    await chat.say("2")
    await chat.expect(second)  # …staying asks that question again, not the next open one
    await chat.say("bo toi mat roi, lam khai tu")
    await chat.press("switch")
    assert chat.ask.procedure == "lien-thong-khai-tu" and "đã được lưu" in chat.text()
    await chat.say("menu")
    await chat.press(AVERAGE)  # the draft is where it was left
    assert "khai dở" in chat.text()
    await chat.expect(third)
    assert (await chat.answers())[second] == 2_000_000


async def test_an_answer_read_from_words_is_said_back(chat: Chat):
    """“tam 2 trieu ruoi” was filed as 2.500.000 đ without a word: an answer read from words (an amount, a date
    such as “hôm kia”, a time) is said back before the next question; digits typed as they are filed are not."""
    await chat.press(AVERAGE)
    await chat.say("trồng lúa")
    income = chat.field
    await chat.say("tam 2 trieu ruoi")
    assert chat.text().startswith("Đã ghi: 2.500.000 đ.\n") and chat.field != income
    await chat.say("quay lại")
    await chat.say("2.500.000")
    assert "Đã ghi" not in chat.text() and chat.field != income
    from dialogs import kinds
    date, number = kinds.get("date"), kinds.get("number")
    assert [date.said_back(None, raw, None) for raw in ("05/03/1941", "5/3", "hôm kia", "5/3/41")] == \
        [False, True, True, True]  # (a date without its year, or with two digits of it, is read too)
    assert [number.said_back(None, raw, None) for raw in ("2", "2 bản", "hai", "không cần")] == \
        [False, False, True, True]


async def test_a_name_typed_at_another_question_is_not_a_request(chat: Chat):
    """“Le Thi Hoa” shares two folded words with the funeral support (“lễ” of tang lễ, “hỏa” of hỏa táng): typed
    ahead at a yes/no question, it is a name, so the question is asked again and no procedure is offered."""
    await chat.press("dang-ky-co-so-tro-giup-xa-hoi")
    first = chat.field
    for name in ("Le Thi Hoa", "Lê Thị Hoa"):
        await chat.say(name)
        await chat.expect(first)
        assert chat.error is not None and "thủ tục khác" not in chat.text()


async def test_an_address_typed_at_another_question_is_not_a_request(chat: Chat):
    """“xã” and “số (nhà)” of an address are words of “cơ sở trợ giúp xã hội”: an address typed ahead at a choice
    is asked again, with no other procedure offered."""
    await chat.press("ho-tro-chi-phi-mai-tang")
    first = chat.field
    for address in ("nghe an, xa yen thanh", "Thôn Đông, xã Thạch Hà, Hà Tĩnh",
                    "ap 3 xa tan thanh long an", "thon 5 xa yen thanh nghe an",  # (without commas too)
                    "so nha 12 thon dong, xa hai hau, nam dinh", "số 5 ngõ 3 phường Hoàn Kiếm Hà Nội"):  # (“số”)
        await chat.say(address)
        await chat.expect(first)
        assert chat.error is not None and "thủ tục khác" not in chat.text()


async def test_another_request_at_the_address_question_is_offered_too(chat: Chat):
    await chat.press("lien-thong-khai-tu")
    await chat.say("1")
    where = chat.field
    assert "tỉnh/thành phố" in chat.ask.text
    await chat.say("toi muon lam khai sinh cho con")  # no province: a request for the birth group
    assert [c.value for c in chat.ask.choices] == ["switch", "stay"] and "Đăng ký khai sinh" in chat.ask.text
    await chat.press("stay")
    await chat.expect(where)
    await chat.say("lam dong")  # the address goes on from the province
    await chat.expect(where)
    assert "Lâm Đồng" in chat.ask.text and chat.error is None
    await chat.say("toi muon lam khai sinh cho con")  # at the commune: offered too, the province kept
    assert [c.value for c in chat.ask.choices] == ["switch", "stay"]
    await chat.press("stay")
    await chat.expect(where)
    assert "Lâm Đồng" in chat.ask.text and "Xã, phường" in chat.ask.text
    await chat.say("Đức Trọng")  # the address completed from where it was
    address = (await chat.answers())[where]
    assert "Lâm Đồng" in address["province"] and "Đức Trọng" in address["commune"] and chat.error is None


async def test_commands_said_politely(chat: Chat):
    """“dạ quay lại ạ”, “giúp tôi với”, “thôi không làm nữa”: the commands, the polite words around them aside;
    giving up asks first, and nothing is lost by saying no."""
    await chat.press("ho-tro-chi-phi-mai-tang")
    first = chat.field
    await chat.say("1")
    second = chat.field
    await chat.say("dạ quay lại ạ")
    await chat.expect(first)
    await chat.say("giúp tôi với")
    assert chat.field == first and "chọn “Tôi khai giúp”" in chat.text()  # the question's own help
    await chat.say("thôi không làm nữa")
    assert "Bạn có chắc muốn hủy hồ sơ đang khai không?" in chat.text()
    await chat.press("no")
    await chat.expect(first)
    assert (await chat.answers())[first] is not None and second != first


async def test_help_at_a_choice_without_its_own_says_how_to_leave(chat: Chat):
    await chat.press("bao-thay-doi-nhan-tro-cap")
    first = chat.field
    await chat.say("trợ giúp")  # not “Trả lời ngắn gọn, đúng như trên giấy tờ”: there is nothing to copy
    assert "Gõ số thứ tự của lựa chọn" in chat.text() and "gõ “menu” để chọn thủ tục khác" in chat.text()
    await chat.expect(first)


async def test_a_condition_alone_is_no_request_but_a_request_with_it_is(chat: Chat):
    """A condition (``nlu.describes`` of the disability assessment: “bại não”, “tai biến”) typed at a question
    another procedure asks is no request for the assessment; asked for in words, with the condition, it is offered."""
    await chat.press(AVERAGE)
    first = chat.field
    await chat.say("con toi bi bai nao")
    await chat.expect(first)
    assert chat.error is not None and "thủ tục khác" not in chat.text()
    await chat.say("bo toi bi tai bien, liet nua nguoi, can xac dinh muc do khuyet tat")
    assert [c.value for c in chat.ask.choices] == ["switch", "stay"] and "mức độ khuyết tật" in chat.ask.text


async def test_the_request_that_opens_a_procedure_answers_its_first_questions(chat: Chat):
    """“xin cấp lại giấy xác nhận khuyết tật vì bị mất” was followed by “Đã từng được cấp giấy chưa?”, “Bạn đề nghị
    gì?” and “Vì sao cần cấp lại?”, each said already: the first questions the request answers (``nlu.answers``) are
    taken, said back in a list, and reached again by “quay lại”; the first one it does not answer is asked."""
    await chat.say("xin cap lai giay xac nhan khuyet tat vi bi mat")
    await chat.expect("request.reason")
    assert "Theo điều bạn vừa gõ, trợ lý đã ghi:\n• Đã có Giấy xác nhận khuyết tật: Có" in chat.text()
    a = await chat.answers()
    assert (a["request.has_certificate"], a["request.type"], a["request.reissue_reason"]) == (True, "cap_lai", "mat")
    await chat.say("quay lại")
    await chat.expect("request.reissue_reason")


async def test_a_request_answers_only_what_it_says(chat: Chat):
    """Negated words answer nothing (“không hưởng hưu trí xã hội”); of two options, the one whose words hold the
    other's is meant (“cận nghèo”, not “nghèo”); words of two options leave the question to be asked."""
    await chat.say("ba toi khong huong tro cap huu tri xa hoi, vua mat, xin ho tro mai tang")
    await chat.expect("deceased.had_social_pension")
    assert "Theo điều bạn vừa gõ" not in chat.text()
    await chat.say("menu")
    await chat.say("nha toi ho can ngheo bi bao lam sap nha, xin ho tro lam nha")
    a = await chat.answers()
    assert (a["household.status"], a["house.damage"], a["house.cause"]) == ("ho_can_ngheo", "do_sap", "thien_tai")
    await chat.say("menu")
    await chat.say("dang ky nhan tro cap nguoi co cong va bao tro xa hoi qua tai khoan")
    await chat.expect("allowance.type")  # two kinds said, “cả hai” not: asked
    await chat.say("menu")
    await chat.say("ong hang xom chet duoi nuoc, khong co con chau, toi dung ra lo chon cat")
    assert (await chat.answers())["filer.role"] == "self"  # (“hàng xóm” is the dead man, no helper's word)
    await chat.say("menu")
    # a helper's “cho ông”, and a guardian's own words: filed as the helper before, now asked
    await chat.say("dang ky nhan tro cap qua ngan hang cho ong toi, toi la nguoi giam ho")
    assert "filer.kind" not in await chat.answers() and "Theo điều bạn vừa gõ" not in chat.text()


async def test_a_request_for_twins_is_told_one_dossier_a_child(chat: Chat):
    """“làm giấy khai sinh cho 2 bé sinh đôi” went on as for one child, whose name question then took “Nguyễn Văn An
    và Nguyễn Văn Bình” as one name: the request's words say each child has a dossier of its own (``nlu.notes``),
    before the first question; a request without them is not told so."""
    await chat.say("lam giay khai sinh cho 2 be sinh doi")
    assert "Mỗi bé được đăng ký khai sinh bằng một hồ sơ riêng." in chat.text()
    await chat.expect("case.situation")
    await chat.say("menu")
    await chat.say("hủy")
    await chat.say("lam giay khai sinh cho con")
    assert "hồ sơ riêng" not in chat.text()


async def test_a_single_mothers_request_is_told_its_path_at_once(chat: Chat):
    """“làm giấy khai sinh cho con, mẹ đơn thân không có bố”: the case is read from the request, so the linked
    group's limit (both parents known) and what to do instead are said before any question."""
    await chat.say("lam giay khai sinh cho con, me don than khong co bo")
    assert "Trường hợp khai sinh: Chưa xác định được cha hoặc mẹ" in chat.text()
    assert chat.field == "_eligibility" and "không thuộc diện" in chat.text()


async def test_a_request_offered_several_procedures_answers_the_one_picked(chat: Chat):
    """“mẹ tôi đang hưởng trợ cấp vừa chuyển vào Sài Gòn” offers three procedures; the one picked by its number
    takes its first answers from those words still (the change: a move)."""
    await chat.say("me toi dang huong tro cap vua chuyen vao sai gon o voi toi")
    assert chat.field == "procedure" and len(chat.ask.choices) >= 2
    assert chat.ask.choices[0].value == "bao-thay-doi-nhan-tro-cap"
    await chat.say("1")
    await chat.expect("reporter.kind")
    assert "• Nội dung thay đổi: Người hưởng chuyển nơi ở khỏi xã" in chat.text()
    assert (await chat.answers())["change.kind"] == "moved"


async def test_a_request_answers_later_questions_kept_for_them(chat: Chat):
    """“nhà tôi bị lũ cuốn trôi hết”: the household's standing, not said, is asked first; the damage and its cause,
    said, are kept for their questions (listed with “câu hỏi sau”), which are then not asked."""
    await chat.say("nha toi bi lu cuon troi het, xin ho tro lam nha")
    await chat.expect("household.status")
    assert "• Tình trạng thiệt hại về nhà ở: Bị trôi (câu hỏi sau)" in chat.text()
    await chat.say("ho ngheo")
    await chat.expect("house.event_date")
    a = await chat.answers()
    assert (a["household.status"], a["house.damage"], a["house.cause"]) == ("ho_ngheo", "troi", "thien_tai")


async def test_a_request_says_who_files_for_a_later_section(chat: Chat):
    """“làm lại giấy khuyết tật cho bà nội bị mất”: who files (“cho bà”, a helper's words) is asked in the next
    section, after the reason; it is kept for it and not asked. A grandchild who types “con cháu” there when it is
    asked, or a grown child “tôi là con”, is a helper too (they were refused, the label naming no kin)."""
    await chat.say("lam lai giay khuyet tat cho ba noi bi mat")
    await chat.expect("request.reason")
    assert "• Người làm đơn: Tôi khai giúp (người thân, tình nguyện viên, người quen) (câu hỏi sau)" in chat.text()
    await chat.say("bi mat khi lu ve")
    await chat.expect("filer.full_name")
    assert (await chat.answers())["filer.role"] == "helper"
    await chat.say("quay lại")
    await chat.expect("filer.role")
    for typed in ("con chau", "toi la con", "chau ngoai"):
        await chat.say(typed)
        await chat.expect("filer.full_name")
        assert (await chat.answers())["filer.role"] == "helper"
        await chat.say("quay lại")
    await chat.say("con toi")  # a parent's words
    assert (await chat.answers())["filer.role"] == "representative"
