"""The linked death group, worked end to end by the commune's desk and leader, the commune police and the social
insurance office, with one supplement and one late part: the order of the parts, the slips, the apology letter,
the pushes and the statistics, as the people involved see them.

The test writes what everyone read, in order, as a transcript (``DVCBOT_TRANSCRIPT=path`` keeps it; the copy in
docs/transcripts/linked-death-group.md was made that way)."""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path

from bot import cases as off
from bot.service import Runtime
from bot.stats import period_stats, stats_text
from dialogs import lifecycle as lc
from dialogs.messages import Ask, Incoming
from storage.officers_repo import LegRepo, OutboxRepo
from tests.conftest import VN, Chat
from tests.test_conversation_linked import death_payment, death_people, death_start, submit
from tests.test_officers import chat_key, officer

COMMUNE = "24958"  # Xã Đức Trọng, Tỉnh Lâm Đồng: where the script's family lives


class Transcript:
    """What each person read, in order: their own turns, and the notifications queued for them."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.lines: list[str] = []
        self.names: dict[str, str] = {}
        self.seen = 0

    def head(self, text: str) -> None:
        self.lines.append(f"\n### {text}\n")

    def turn(self, who: str, typed: str, replies: list) -> None:
        self.lines.append(f"**{who}** ▸ {typed}")
        for r in replies:
            body = r.text.replace("\n", "\n> ")
            buttons = " · ".join(f"[{c.label}]" for c in getattr(r, "choices", ())[:8]) if isinstance(r, Ask) else ""
            self.lines.append(f"> {body}" + (f"\n> {buttons}" if buttons else ""))
            if getattr(r, "file", None) is not None:
                self.lines.append(f"> 📎 {r.file.name}")
        self.lines.append("")

    async def pushes(self) -> list:
        async with self.rt.sm() as db:
            rows = await OutboxRepo(db).list()
        new = rows[self.seen:]
        self.seen = len(rows)
        for m in new:
            who = self.names.get(m.chat_key, m.chat_key)
            text = str(m.payload.get("text") or "").replace("\n", "\n> ")
            f = m.payload.get("file") or {}
            self.lines.append(f"📨 *{who}* ({m.kind})\n> {text}" + (f"\n> 📎 {f.get('name')}" if f else ""))
        if new:
            self.lines.append("")
        return new

    def text(self) -> str:
        return "\n".join(self.lines)


async def test_linked_death_group_worked_by_three_agencies(chat: Chat, runtime: Runtime, clock, tmp_path: Path):
    log = Transcript(runtime)
    # the officers of Xã Đức Trọng: the one-stop desk, the commune leader (focal point), the police, social insurance
    desk = await officer(runtime, lc.DESK, name="Lê Thu", commune=COMMUNE)
    leader = await officer(runtime, lc.LEADER, name="Trần Lan", commune=COMMUNE, focal=True)
    police = await officer(runtime, lc.LEADER, name="Đỗ Hùng", commune=COMMUNE, agency="police")
    bhxh = await officer(runtime, lc.LEADER, name="Phạm Mai", commune=COMMUNE, agency="social_insurance")
    keys = {desk: "Lê Thu (một cửa, UBND xã)", leader: "Trần Lan (lãnh đạo UBND xã, đầu mối)",
            police: "Đỗ Hùng (Công an xã)", bhxh: "Phạm Mai (Bảo hiểm xã hội)"}
    for oid, name in keys.items():
        log.names[await chat_key(runtime, oid)] = name
    log.names[chat.user] = "Người dân (Nguyễn Văn Bình)"

    async def act(oid: int, **kw) -> list:
        replies = await runtime.handle(await chat_key(runtime, oid), Incoming(**kw))
        log.turn(keys[oid], kw.get("text") or f"[{kw.get('choice')}]", replies)
        return replies

    def said(replies) -> str:
        return "\n".join(r.text for r in replies)

    # --- Monday 23/11/2026, 09:00: the son files the death group with the funeral allowance, paid to his bank
    log.head("Thứ Hai 23/11/2026, 09:00 — người dân nộp hồ sơ liên thông khai tử")
    await death_start(chat)
    await death_people(chat)
    await chat.expect("benefit.si_status")
    await chat.say("1")
    await chat.press("yes")
    await death_payment(chat, "bank")
    code = await submit(chat)
    log.turn("Người dân", "Tôi xin cam đoan", chat.replies)
    pushes = await log.pushes()
    agencies = {await chat_key(runtime, o) for o in (desk, police, bhxh)}
    assert {m.chat_key for m in pushes if m.kind == "officer_new"} >= agencies

    # --- the desk receives the commune's part: the receipt slip goes to the citizen
    log.head("09:30 — một cửa tiếp nhận phần khai tử")
    await act(desk, choice=f"open:{code}")
    await act(desk, choice=f"claim:{code}")
    await act(desk, choice=f"receive:{code}")
    pushes = await log.pushes()
    assert any(m.kind == "slip" and m.chat_key == chat.user for m in pushes)

    # --- the police cannot finish before the death extract; they ask for a supplement meanwhile
    log.head("10:00 — Công an xã tiếp nhận, chưa thể duyệt trước khi có trích lục khai tử, yêu cầu bổ sung")
    r = await act(police, choice=f"open:{code}")
    assert "chờ kết quả “Đăng ký khai tử”" in said(r)
    await act(police, choice=f"claim:{code}")
    await act(police, choice=f"receive:{code}")
    r = await act(police, choice=f"approve:{code}")
    assert "Chưa thể “Duyệt”" in said(r)
    async with runtime.sm() as db, db.begin():
        from storage.officers_repo import OfficerRepo
        o = await OfficerRepo(db).get(police)
        await off.request_supplement(db, o, code, ["deceased.death_time"],
                                     "Giờ chết trên giấy báo tử là 15 giờ 45, khác giờ đã khai.", runtime.now(),
                                     calendar=runtime.calendar, catalog=runtime.catalog)
    log.lines.append(f"**{keys[police]}** ▸ Yêu cầu bổ sung: Giờ chết — “Giờ chết trên giấy báo tử là 15 giờ 45”\n")
    pushes = await log.pushes()
    assert any(m.kind == "citizen_needs_supplement" for m in pushes)

    # --- social insurance receives its part the same morning: its 9 working days run from here
    log.head("10:30 — Bảo hiểm xã hội tiếp nhận phần trợ cấp mai táng")
    await act(bhxh, choice=f"open:{code}")
    await act(bhxh, choice=f"claim:{code}")
    await act(bhxh, choice=f"receive:{code}")
    await log.pushes()

    # --- the citizen answers the supplement in the chat; the commune, whose registration uses the hour, hears
    log.head("11:00 — người dân bổ sung giờ chết")
    clock.when += timedelta(hours=2)
    await chat.say("bổ sung")
    log.turn("Người dân", "bổ sung", chat.replies)
    await chat.say("15h45")
    log.turn("Người dân", "15h45", chat.replies)
    send = next(c.value for c in chat.ask.choices if c.label == "Gửi bổ sung")
    await chat.press(send)
    log.turn("Người dân", "[Gửi bổ sung]", chat.replies)
    pushes = await log.pushes()
    assert any(m.kind == "officer_supplement_received" for m in pushes)
    leader_key = await chat_key(runtime, leader)
    desk_key = await chat_key(runtime, desk)
    assert any("15:45" in str(m.payload.get("text")) and m.chat_key in (leader_key, desk_key) for m in pushes), \
        "the commune's part uses the hour of death: its officers hear of the change"

    # --- the commune leader registers the death: the extract number reaches the police's part
    log.head("14:00 — lãnh đạo UBND xã đăng ký khai tử, số trích lục đến phần của Công an")
    clock.when += timedelta(hours=3)
    await act(leader, choice=f"open:{code}")
    await act(leader, choice=f"claim:{code}")
    await act(leader, choice=f"review:{code}")
    await act(leader, choice=f"approve:{code}")
    await act(leader, text="15/2026/TLKT")
    await act(leader, choice="yes")
    await log.pushes()
    await act(desk, choice=f"open:{code}")  # the one-stop desk hands the extract over
    await act(desk, choice=f"claim:{code}")
    await act(desk, choice=f"return:{code}")
    await log.pushes()
    r = await act(police, choice=f"open:{code}")
    assert "15/2026/TLKT" in said(r)
    await act(police, choice=f"claim:{code}")
    await act(police, choice=f"review:{code}")
    await act(police, choice=f"approve:{code}")
    await act(police, text="XTT-77/CAX")
    await act(police, choice="yes")
    await act(police, choice=f"return:{code}")
    await log.pushes()

    # --- Tuesday 08/12: the social-insurance part (due Monday 07/12) is late; the morning run escalates
    log.head("Thứ Ba 08/12/2026, 08:00 — phần Bảo hiểm xã hội quá hạn")
    clock.when = datetime(2026, 12, 8, 8, 0, tzinfo=VN)
    async with runtime.sm() as db, db.begin():
        await off.scan_deadlines(db, runtime.calendar, runtime.now(), catalog=runtime.catalog)
    pushes = await log.pushes()
    bhxh_key = await chat_key(runtime, bhxh)
    assert any(m.kind == "officer_overdue" and m.chat_key == bhxh_key for m in pushes)
    r = await act(bhxh, choice=f"apology:{code}")
    assert r[-1].field.endswith("apology_date"), said(r)
    r = await act(bhxh, text="10/12/2026")
    if r[-1].field.endswith("apology_reason"):
        r = await act(bhxh, text="Chờ xác minh quá trình đóng bảo hiểm xã hội.")
    pushes = await log.pushes()
    assert any(m.kind == "citizen_reappointed" and m.chat_key == chat.user for m in pushes)

    log.head("Thứ Năm 10/12/2026 — Bảo hiểm xã hội giải quyết (trễ hạn)")
    clock.when = datetime(2026, 12, 10, 9, 0, tzinfo=VN)
    await act(bhxh, choice=f"open:{code}")
    await act(bhxh, choice=f"review:{code}")
    await act(bhxh, choice=f"approve:{code}")
    await act(bhxh, text="1234/QĐ-BHXH")
    await act(bhxh, choice="yes")
    await act(bhxh, choice=f"return:{code}")
    await log.pushes()

    # --- the parts' order and timeliness, and the statistics as the focal point forwards them
    async with runtime.sm() as db:
        d = await LegRepo(db).dossier(code)
        legs = await LegRepo(db).of_dossier(d.id)
        got = [(leg.agency, leg.status, leg.result_number, leg.timeliness) for leg in legs]
        rows = await period_stats(db, date(2026, 11, 1), date(2027, 1, 1), level="leg", group_by="agency",
                                  commune_code=COMMUNE, calendar=runtime.calendar, catalog=runtime.catalog,
                                  now=runtime.now())
    assert got[0][:3] == ("commune", lc.RESULT_ISSUED, "15/2026/TLKT")
    assert got[1][:3] == ("police", lc.RESULT_ISSUED, "XTT-77/CAX")
    assert got[2][:3] == ("social_insurance", lc.RESULT_ISSUED, "1234/QĐ-BHXH") and got[2][3] == "late"
    report = stats_text(rows, "Thống kê Xã Đức Trọng, 01/11–31/12/2026", level="leg")
    log.head("Thống kê của đầu mối (phần việc, theo cơ quan)")
    log.lines.append("```\n" + report + "\n```")
    assert "Trễ hạn: 1" in report and "Số hồ sơ xử lý: 3" in report

    out = tmp_path / "transcript.md"
    out.write_text(log.text(), encoding="utf-8")
    if os.environ.get("DVCBOT_TRANSCRIPT"):
        Path(os.environ["DVCBOT_TRANSCRIPT"]).write_text(
            "# Nhóm liên thông khai tử: một ngày làm việc của ba cơ quan\n\n"
            "Made by `DVCBOT_TRANSCRIPT=docs/transcripts/linked-death-group.md pytest "
            "tests/test_death_group_day.py -k sqlite` (tests/test_death_group_day.py).\n" + log.text(),
            encoding="utf-8")
