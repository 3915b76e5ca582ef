"""The review of all answers, editing one of them, and going on to the sworn statement."""
from __future__ import annotations

import re

from .. import parsing
from ..form import MORE
from ..i18n import translator
from ..kinds import display
from ..messages import NAV_BACK, NAV_CANCEL, NAV_HELP, Ask, ChoiceOut, Incoming, Message
from ..parsing import is_yes
from ..pending import EditField, EditSection, RemoveItem, Revisit
from ..protocol import Outcome
from ..textnorm import fold, fold_words
from .parts import EngineParts
from .session import Session

# “xem lại”, “cho tôi xem lại thông tin”: the summary asked for again (folded)
_SHOW_AGAIN = re.compile(r"^(?:cho\s+(?:toi|em|minh)\s+)?(?:xem|hien|doc|gui)\s+lai(?:\s+(?:thong tin|ho so|tat ca|het|"
                         r"cac thong tin|nhung gi da khai))?(?:\s+(?:a|nhe|di))?$")
# “sửa số điện thoại”, “đổi lại ngày sinh”, “ngày sinh sai rồi”, “sửa”: an answer named to be edited (folded)
_EDIT_ASKED = re.compile(r"^(?:(?:toi\s+|em\s+|cho\s+(?:toi|em)\s+)?(?:muon\s+)?(?:sua|doi|chinh|chinh sua|ghi)"
                         r"(?:\s+lai)?(?:\s+(?:cho\s+)?(?:muc|cau|phan|thong tin))?(?P<what>(?:\s+\S+){0,6})"
                         r"|(?:(?P<what2>(?:\S+\s+){0,5}?\S+)\s+)?(?:bi\s+)?(?:sai|nham|chua dung)(?:\s+roi)?)$")


def _item(key: str) -> tuple[str, int]:
    """A repeat group's item as the review names it, “members[2]”: (“members”, 2); (key, -1) when it is none."""
    name, _sep, rest = key.partition("[")
    return (name, int(rest[:-1])) if rest.endswith("]") and rest[:-1].isdigit() else (key, -1)


class Review(EngineParts):
    """The ``reviewing`` state and its edit menus."""

    def summary(self, session: Session) -> str:
        _ = translator(session.lang)
        form, answers = self.form(session), session.require_draft().answers
        lines = [_("Xin kiểm tra lại thông tin đã khai:")]
        current = None
        for slot in form.slots(answers, self.today()):
            if slot.synthetic or slot.path not in answers:
                continue
            title = _(slot.section.title)
            if slot.index is not None:
                assert slot.section.repeat is not None  # an indexed slot is in a repeat group
                title += f" — {_(slot.section.repeat.item_label)} {slot.index + 1}"
            if title != current:
                lines.append(f"\n【{title}】")
                current = title
            lines.append(f"• {_(slot.field.summary_label)}: {display(slot.field, answers[slot.path], _)}")
        return "\n".join(lines)

    def show_review(self, session: Session, out: Outcome) -> None:
        if self.check_eligibility(session, out):
            return
        out.replies.append(Message(self.summary(session)))
        self.review_ask(session, out)

    def review_ask(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        out.replies.append(Ask(text=_("Thông tin đã đúng chưa?"), procedure=session.procedure, field="_review",
                               kind="choice", choices=(ChoiceOut("confirm", _("Đúng, nộp hồ sơ")),
                                                       ChoiceOut("edit", _("Sửa thông tin")),
                                                       ChoiceOut("cancel", _("Hủy hồ sơ"))),
                               nav=(NAV_BACK, NAV_HELP, NAV_CANCEL)))

    def on_review(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        _ = translator(session.lang)
        if isinstance(session.pending, (EditSection, EditField)):
            return self._on_edit_pick(session, msg, text, command, out)
        if isinstance(session.pending, RemoveItem):
            return self._on_remove(session, msg, text, command, out)
        if command == "back":
            return self.back(session, out)
        if command == "help":
            out.replies.append(Message(_("Chọn “Đúng, nộp hồ sơ” nếu mọi thông tin đã đúng; “Sửa thông tin” để "
                                         "sửa một mục.")))
            return self.review_ask(session, out)
        value = msg.choice or parsing.match_choice(text, [("confirm", _("Đúng, nộp hồ sơ")),
                                                          ("edit", _("Sửa thông tin")),
                                                          ("cancel", _("Hủy hồ sơ"))])
        if value is None and text and is_yes(text):
            value = "confirm"
        if value == "confirm":
            session.complete = self.form(session).next_slot(session.require_draft().answers, self.today()) is None
            if not session.complete:
                return self.advance(session, out)
            session.confirm()
            return self.sworn_ask(session, out)
        if value is None and text and _SHOW_AGAIN.match(fold(text).strip(" .!?")):
            return self.show_review(session, out)  # “xem lại”: the summary again, scrolled away on a small phone
        if value is None and text and (asked := _EDIT_ASKED.match(fold(text).strip(" .!?"))):
            # “sửa số điện thoại”, “ngày sinh sai rồi”: that answer's question, when one answer's label says it
            said = (asked["what"] or asked["what2"] or "").strip()
            if not said:
                return self.edit_menu(session, out, None)
            form, answers = self.form(session), session.require_draft().answers
            said = fold_words(said)  # (“khuyết tật nghe nói” names “Khuyết tật nghe, nói”)
            named = [s.path for s in form.slots(answers, self.today()) if not s.synthetic and s.path in answers
                     and re.search(rf"(?<!\w){re.escape(said)}(?!\w)", fold_words(_(s.field.summary_label)))]
            if len(named) == 1:
                return self.start_edit(session, named[0], out)
            return self.edit_menu(session, out, None)
        if value == "edit":
            return self.edit_menu(session, out, None)
        if value == "cancel":
            return self.ask_cancel(session, msg, "", out)
        out.replies.append(Message(_("Vui lòng chọn một trong các lựa chọn bên dưới."), error=True))
        self.review_ask(session, out)

    def edit_menu(self, session: Session, out: Outcome, section: str | None) -> None:
        _ = translator(session.lang)
        form, answers = self.form(session), session.require_draft().answers
        slots = [s for s in form.slots(answers, self.today()) if not s.synthetic and s.path in answers]
        if section is None:
            seen: list[ChoiceOut] = []
            keys = set()
            for s in slots:
                key = s.section.id if s.index is None else f"{s.section.id}[{s.index}]"
                if key not in keys:
                    keys.add(key)
                    title = _(s.section.title)
                    if s.index is not None:
                        assert s.section.repeat is not None  # an indexed slot is in a repeat group
                        title += f" — {_(s.section.repeat.item_label)} {s.index + 1}"
                    seen.append(ChoiceOut(key, title))
            listed = self._with_adds(session, seen)
            if len(listed) == 1:
                section = seen[0].value
            else:
                session.pending = EditSection(options=[c.value for c in listed])
                out.replies.append(Ask(text=_("Bạn muốn sửa phần nào?"), procedure=session.procedure,
                                       field="_edit_section", kind="choice", choices=tuple(listed),
                                       nav=(NAV_BACK, NAV_HELP, NAV_CANCEL)))
                return
        choices = []
        for s in slots:
            key = s.section.id if s.index is None else f"{s.section.id}[{s.index}]"
            if key == section:
                shown = display(s.field, answers[s.path], _)
                choices.append(ChoiceOut(s.path, f"{_(s.field.summary_label)}: {shown[:60]}"))
        if len(choices) == 1:
            return self.start_edit(session, choices[0].value, out)
        choices += self._removal(session, section)
        session.pending = EditField(section=section, options=[c.value for c in choices])
        out.replies.append(Ask(text=_("Chọn mục cần sửa:"), procedure=session.procedure, field="_edit_field",
                               kind="choice", choices=tuple(choices), nav=(NAV_BACK, NAV_HELP, NAV_CANCEL)))

    def _on_edit_pick(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        _ = translator(session.lang)
        pending = session.pending
        if command == "back":
            if isinstance(pending, EditField) and len(self._edit_sections(session)) > 1:
                return self.edit_menu(session, out, None)
            session.pending = None
            return self.show_review(session, out)
        asked: list[Ask] = []
        tmp = Outcome()
        self.edit_menu(session, tmp, pending.section if isinstance(pending, EditField) else None)
        asked = [r for r in tmp.replies if isinstance(r, Ask)]
        choices = asked[-1].choices if asked else ()
        value = msg.choice if msg.choice in {c.value for c in choices} else \
            parsing.match_choice(text, [(c.value, c.label) for c in choices]) if text else None
        if value is None:
            out.replies.append(Message(_("Vui lòng chọn mục cần sửa trong danh sách (gõ số thứ tự của mục, ví dụ 2)."),
                                       error=True))
            out.replies.extend(tmp.replies)
            return
        if value.startswith("+"):
            return self._add_item(session, value[1:], out)
        if value.startswith("-"):
            return self.remove_ask(session, value[1:], out)
        if isinstance(session.pending, EditSection):
            return self.edit_menu(session, out, value)
        self.start_edit(session, value, out)

    # -- a repeat group's items added and taken out at the review -------------------------------------------------
    def _with_adds(self, session: Session, seen: list[ChoiceOut]) -> list[ChoiceOut]:
        """The review's parts, each repeat group's last item followed by “Thêm thành viên” while it has room."""
        _ = translator(session.lang)
        form, answers = self.form(session), session.require_draft().answers
        listed: list[ChoiceOut] = []
        for i, c in enumerate(seen):
            listed.append(c)
            group = form.groups.get(c.value.split("[", 1)[0]) if "[" in c.value else None
            if group is None or group.repeat is None or (i + 1 < len(seen) and seen[i + 1].value.startswith(
                    f"{group.id}[")) or form.items(answers, group.id) >= group.repeat.max:
                continue
            listed.append(ChoiceOut(f"+{group.id}", _("Thêm {item}", item=_(group.repeat.item_label).lower())))
        return listed

    def _removal(self, session: Session, key: str) -> list[ChoiceOut]:
        """“Xóa thành viên 3 khỏi hồ sơ”, for an item of a repeat group above its least number, not the first when it
        is copied from above (the head of household)."""
        _ = translator(session.lang)
        form = self.form(session)
        name, index = _item(key)
        group = form.groups.get(name)
        if group is None or group.repeat is None or index < 0:
            return []
        if form.items(session.require_draft().answers, name) <= group.repeat.min or (
                index == 0 and (group.repeat.first_from or group.repeat.first_values)):
            return []
        return [ChoiceOut(f"-{key}", _("Xóa {item} {n} khỏi hồ sơ", item=_(group.repeat.item_label).lower(),
                                        n=index + 1))]

    def _add_item(self, session: Session, section: str, out: Outcome) -> None:
        """Another item of a repeat group, asked now as the others were; the review follows."""
        draft = session.require_draft()
        draft.answers[f"{section}[{self.form(session).items(draft.answers, section) - 1}].{MORE}"] = True
        draft.revision += 1
        session.dirty_drafts.add(draft.procedure)
        session.pending = None
        out.accepted = True
        session.edit()
        self.advance(session, out)

    def _item_said(self, session: Session, key: str) -> str:
        """An item as the citizen knows it: “thành viên 3 (Lê Văn Minh)”."""
        _ = translator(session.lang)
        form, answers = self.form(session), session.require_draft().answers
        name, index = _item(key)
        group = form.groups.get(name)
        item = _(group.repeat.item_label).lower() if group is not None and group.repeat is not None else name
        said = _("{item} {n}", item=item, n=index + 1)
        first = next((s for s in form.slots(answers, self.today()) if not s.synthetic and s.path in answers
                      and s.path.startswith(f"{key}.")), None)
        return f"{said} ({display(first.field, answers[first.path], _)[:40]})" if first is not None else said

    def remove_ask(self, session: Session, key: str, out: Outcome) -> None:
        _ = translator(session.lang)
        session.pending = RemoveItem(item=key)
        out.replies.append(Ask(text=_("Xóa {what} khỏi hồ sơ? Những gì đã khai ở mục này sẽ bị bỏ.",
                                      what=self._item_said(session, key)),
                               procedure=session.procedure, field="_remove_item", kind="choice",
                               choices=(ChoiceOut("yes", _("Xóa")), ChoiceOut("no", _("Không xóa"))),
                               nav=(NAV_BACK, NAV_HELP, NAV_CANCEL)))

    def _on_remove(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        _ = translator(session.lang)
        pending = session.pending
        assert isinstance(pending, RemoveItem)
        key = pending.item
        options = [("yes", _("Xóa")), ("no", _("Không xóa"))]
        value = msg.choice or (parsing.match_choice(text, options) if text else None)
        if value is None and command is None and text:
            value = "yes" if is_yes(text) else "no" if parsing.is_no(text) else None
        if value is None and command not in ("back", "cancel"):
            out.replies.append(Message(_("Vui lòng chọn “Xóa” hoặc “Không xóa”."), error=True))
            return self.remove_ask(session, key, out)
        session.pending = None
        if value != "yes":
            return self.show_review(session, out)
        said = self._item_said(session, key)
        draft, form = session.require_draft(), self.form(session)
        name, index = _item(key)
        draft.answers = form.without_item(draft.answers, name, index)
        form.prune(draft.answers, self.today())
        draft.history = [p for p in draft.history if p in draft.answers]
        draft.revision += 1
        session.dirty_drafts.add(draft.procedure)
        out.accepted = True
        out.replies.append(Message(_("Đã xóa {what} khỏi hồ sơ.", what=said)))
        self.show_review(session, out)

    def start_edit(self, session: Session, path: str, out: Outcome) -> None:
        if session.state == "reviewing":
            session.edit()
        session.pending = Revisit(path=path)
        slot = self.form(session).slot_for(path, session.require_draft().answers, self.today())
        assert slot is not None, path  # an edit is offered for a live question only
        out.replies.append(self.ask_for(session, slot))

    def _edit_sections(self, session: Session) -> set[str]:
        form, answers = self.form(session), session.require_draft().answers
        return {s.section.id if s.index is None else f"{s.section.id}[{s.index}]"
                for s in form.slots(answers, self.today()) if not s.synthetic and s.path in answers}
