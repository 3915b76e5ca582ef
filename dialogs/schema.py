"""The shape of a procedure definition (dialogs/procedures/*.yaml), as pydantic models.

A definition is data only: identity and facts, ordered sections of fields,
repeat groups, eligibility rules and the sworn statement. Every user-facing
string is Vietnamese (the source language) and is translated through the
gettext catalogues in locales/ (see dialogs/i18n.py and the Babel extractor).

Why one module of this size: it is one schema, validated as a whole when a definition is loaded; its models refer
to one another (a field's choices, a section's repeat, a procedure's rules, legs and NLU words), and a definition's
author reads it top to bottom as the reference of what a YAML file may say.
"""
from __future__ import annotations

import itertools
import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .safe_re import UnsafePattern, compile_safe
from .textnorm import fold_words

FieldKind = Literal[
    "text", "name", "date", "time", "id_number", "phone", "email", "number", "money",
    "choice", "multi_choice", "yes_no", "address", "attachment", "confirm",
    "consent",  # the consent of the person filed for, with its time and text version (dialogs/kinds/consent.py)
    "bank", "bank_account",  # dialogs/banks.py
    "id_card",  # a photo of the ID card's QR fills the person block (dialogs/idcard.py)
]
# What the QR on a citizen ID card holds (dialogs/idcard.py), as the keys of an ``id_card`` field's mapping.
CARD_FIELDS = ("id_number", "old_id_number", "full_name", "birth_date", "sex", "address", "issue_date")

FileType = Literal["image", "pdf"]
FILE_TYPES: tuple[FileType, ...] = ("image", "pdf")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_PROC_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlsoAnswers(Strict):
    """Words of an option that also answer a text question asked later (``Choice.also_answers``)."""

    field: str
    # those of the option's ``also`` that answer it (“con gái”: the one filing is a daughter), not those that name
    # the other person (“mẹ tôi”)
    words: list[str] = Field(min_length=1)


class Choice(Strict):
    value: str
    label: str
    help: str | None = None
    # other words a citizen may type for this choice (“làm ruộng” for “Nông nghiệp”): matched, never shown
    also: list[str] = Field(default_factory=list)
    # fields whose answer, typed here, is this choice: the beneficiary's name for “Người hưởng trợ cấp”
    same_as: list[str] = Field(default_factory=list)
    # kind consent: choosing this is a refusal; this is said (the way forward), nothing is stored
    stop: str | None = None
    # a name of this list typed is this option (“dao” for “Dân tộc khác”), and answers the question asked next
    # (the name of the ethnic group: dialogs/spelling.py)
    also_in: Literal["ethnic_groups"] | None = None
    # one of ``also`` typed is this option, and also answers the question asked next (“chú” is “Người thân thích
    # khác”, and the kin asked next is Chú)
    also_answers_next: bool = False
    # one of ``also`` typed is this option, and also answers this text question asked later (“tôi là con gái” is
    # “Tôi là người thân trong gia đình”, and “Bạn là gì của người hưởng?” is Con gái), said so
    also_answers: AlsoAnswers | None = None
    # this option is the answer that names two or more of the others (“trẻ mồ côi và người già” at “Loại hình cơ
    # sở?”: “Cơ sở tổng hợp”), rather than a question which one
    for_several: bool = False


class Constraint(Strict):
    """A check over the answer being given (``value``) and earlier answers."""

    expr: str
    message: str


class Dated(Strict):
    """The validity of a piece of law held as data (a rule, a time limit, a route, an amount, a form).

    ``effective_from``/``effective_to`` (inclusive; either may be open) bound the period in which the
    version is in force. The day that decides is the answer named by ``date_field`` (the date of death,
    of birth …) when it is answered, otherwise the day of the check (the submission). ``verified`` says
    whether the figure or rule was read in the legal text; ``review_note`` is for the officer or lawyer
    reading docs/law.md and is never shown to citizens."""

    effective_from: date | None = None
    effective_to: date | None = None
    date_field: str | None = None
    verified: bool = True
    review_note: str | None = None

    def in_force(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and \
            (self.effective_to is None or day <= self.effective_to)

    def overlaps(self, other: Dated) -> bool:
        lo = max(self.effective_from or date.min, other.effective_from or date.min)
        hi = min(self.effective_to or date.max, other.effective_to or date.max)
        return lo <= hi

    @model_validator(mode="after")
    def _period_ok(self) -> Dated:
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} is before effective_from {self.effective_from}")
        return self


def law_day(dated: Dated | None, answers: dict[str, Any], today: date, field: str | None = None) -> date:
    """The day that decides which version of a dated fact applies: the answer named by the fact's
    ``date_field`` (or ``field``) when it holds a date, otherwise ``today``."""
    name = field or (dated.date_field if dated is not None else None)
    raw = answers.get(name) if name else None
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return today
    return today


class Fact(Dated):
    """A dated fact (amount, time limit, agency, form version) with its legal reference.

    Facts with the same ``key`` are versions of one fact and may not overlap in time; the info card
    shows the version in force on the day."""

    text: str
    source: str | None = None
    as_of: date | None = None
    key: str | None = None


class Standard(Strict):
    """A dated legal standard (an income band, an amount) read by expressions as ``std.<key>``.

    The period in force on the day of the check is used; after the last recorded period the latest
    one is applied and the citizen is told that no newer standard is recorded."""

    name: str
    source: str
    valid_from: date
    valid_to: date | None = None
    values: dict[str, float]
    verified: bool = True
    review_note: str | None = None  # for docs/law.md only


class Unknown(Strict):
    """A required answer the citizen may not know (a deceased parent's ID number): a reply such as "không nhớ"
    is taken as "not known" instead of being refused, ``say`` tells the citizen where the information can be
    found and what happens next, and ``label`` is what the summary and the officer read in its place (the
    form keeps its dotted line for the officer to fill in)."""

    say: str
    label: str


class FieldDef(Strict):
    id: str
    kind: FieldKind
    prompt: str
    help: str | None = None
    label: str | None = None  # short label for the summary; defaults to the prompt
    required: bool = True
    relevant: str | None = None
    choices: list[Choice] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)
    # like constraints, but an answer that fails one is only unusual: its message is said ({value}: the answer as
    # read) and the answer is taken once confirmed (a date, a number, an amount: engine/collect.py, ``doubted``)
    doubts: list[Constraint] = Field(default_factory=list)
    pii: bool = False
    example: str | None = None
    # text
    min_len: int | None = None
    max_len: int | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    # text: the answer needs a letter (a bare “1” is an option's number typed at the wrong question); false for a
    # document's number. A ``pattern`` decides instead, where there is one
    letters: bool = True
    # text: written as this list spells it when it names an entry (dialogs/spelling.py: "e de" -> "Ê Đê"); a
    # place typed without diacritics is spelled from the lists of places and confirmed ("places"); "relations" is
    # written so when it names an entry and kept as typed when it does not
    spelling: Literal["ethnic_groups", "places", "relations"] | None = None
    # name, text: in capitals, as paper forms want a name and as a bank prints its account holder's
    upper: bool = False
    # date
    past_only: bool = False
    future_only: bool = False
    not_before: date | None = None
    # a birth date whose papers may show only the year (those registered long ago: TT 04/2020/TT-BTP Điều 18):
    # a year alone is then an answer, stored as "1941" (dialogs/kinds/date.py)
    year_only: bool = False
    # a required answer that may be left unknown, and what is said then (see Unknown)
    unknown: Unknown | None = None
    # id_number: paths of the same person's date of birth and sex, for cross-checks
    birth_date_field: str | None = None
    sex_field: str | None = None
    # id_number: the person's sex when the question itself says it (the mother, the father) ...
    sex: Literal["nam", "nu"] | None = None
    # ... or when ``sex_field`` holds an answer that implies it (requester.relation: me -> nu, cha -> nam)
    sex_values: dict[str, Literal["nam", "nu"]] = Field(default_factory=dict)
    # id_number: the old 9-digit identity card number (CMND) is also taken (the deceased may never have had
    # a CCCD; the form's line reads "Giấy tờ tùy thân")
    accept_cmnd: bool = False
    # bank_account: path of the `bank` answer, for the bank's account-number length
    bank_field: str | None = None
    # number / money
    min: float | None = None
    max: float | None = None
    integer: bool = True
    # money: the period the amount is for (“một tháng”): “2 triệu một tháng” is taken, and “24 triệu một năm”
    # asked again with the sum to do
    per: Literal["month", "year"] | None = None
    # money: the amount is each person's (an income per head): a household's total typed is asked again, with
    # the division to do
    per_person: bool = False
    # multi_choice
    min_selected: int | None = None
    max_selected: int | None = None
    # the citizen may also answer the choices one at a time, yes or no (“từng mục”)
    one_by_one: bool = False
    # yes_no: the everyday words that say yes or no to this question (“vẫn ở đó”, “ở chỗ khác” at “Nơi ở hiện nay
    # có giống nơi thường trú không?”), matched as a choice's also words are; never shown
    yes_also: list[str] = Field(default_factory=list)
    no_also: list[str] = Field(default_factory=list)
    # address
    ask_detail: bool = True
    # address, phone, text: earlier questions (of the same kind; a name for a text) whose answer may be given again
    # with one press or “như trên” (the mother's residence, the same as the applicant's; the helper's number as the
    # contact's; the applicant's name as an account's holder); the first answered one is what “như trên” takes
    same_as: list[str] = Field(default_factory=list)
    # attachment
    accept: list[FileType] = Field(default_factory=lambda: list(FILE_TYPES))
    max_mb: float = 10
    min_count: int = 1
    max_count: int = 1
    # confirm: the button label; ``notice``: a statement only to be read (“Tôi đã hiểu”), not a consent nor an oath:
    # something else typed at it (the next question's answer, typed ahead) is taken as read and answers what comes
    # next, instead of being refused and lost
    confirm_label: str | None = None
    notice: bool = False
    # id_card: which field of the same block each card field fills, e.g. {full_name: applicant.full_name};
    # in a repeat group, the ids as written in the group (full_name, not members[0].full_name)
    id_card: dict[str, str] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_ok(cls, v: str) -> str:
        if not _ID_RE.match(v):
            raise ValueError(f"field id {v!r} must be dotted lower_snake_case")
        return v

    @model_validator(mode="after")
    def _kind_options(self) -> FieldDef:
        if self.kind in ("choice", "multi_choice", "consent") and not self.choices:
            raise ValueError(f"field {self.id}: kind {self.kind} needs choices")
        if self.kind not in ("choice", "multi_choice", "consent") and self.choices:
            raise ValueError(f"field {self.id}: kind {self.kind} takes no choices")
        if self.doubts and self.kind not in ("date", "number", "money"):
            raise ValueError(f"field {self.id}: doubts are only for kinds date, number and money")
        if self.notice and self.kind != "confirm":
            raise ValueError(f"field {self.id}: notice is only for kind confirm")
        if self.kind != "consent" and any(c.stop for c in self.choices):
            raise ValueError(f"field {self.id}: a choice's stop is only for kind consent")
        if self.kind == "consent" and (all(c.stop for c in self.choices) or not any(c.stop for c in self.choices)):
            raise ValueError(f"field {self.id}: kind consent needs a refusal (stop) and a way to agree")
        values = [c.value for c in self.choices]
        if len(values) != len(set(values)):
            raise ValueError(f"field {self.id}: duplicate choice values")
        if not self.letters and self.kind != "text":
            raise ValueError(f"field {self.id}: letters (false: a bare number is an answer) is only for kind text")
        also = [fold_words(w) for c in self.choices for w in c.also]  # (as parsing.match_also compares them)
        if self.kind != "choice" and any(c.also_in or c.also_answers_next or c.also_answers for c in self.choices):
            raise ValueError(f"field {self.id}: also_in, also_answers_next and also_answers are only for kind choice")
        if any(c.also_answers and (c.also_in or c.also_answers_next or not {fold_words(w) for w in c.also_answers.words}
                                   <= {fold_words(w) for w in c.also}) for c in self.choices):
            raise ValueError(f"field {self.id}: also_answers names words of the option's also, and goes without "
                             f"also_in or also_answers_next")
        if sum(c.for_several for c in self.choices) > 1 or (self.kind != "choice" and any(
                c.for_several for c in self.choices)):
            raise ValueError(f"field {self.id}: for_several is for one option of a kind choice")
        if any(c.also_answers_next and (not c.also or c.also_in) for c in self.choices):
            raise ValueError(f"field {self.id}: also_answers_next needs the option's also words, and not also_in")
        if len(also) != len(set(also)) or "" in also:
            raise ValueError(f"field {self.id}: a word in also is empty or given for two choices")
        if self.year_only and (self.kind != "date" or not self.past_only):
            raise ValueError(f"field {self.id}: year_only is only for a date in the past (past_only)")
        if (self.yes_also or self.no_also) and self.kind != "yes_no":
            raise ValueError(f"field {self.id}: yes_also and no_also are only for kind yes_no")
        if {fold_words(w) for w in self.yes_also} & {fold_words(w) for w in self.no_also}:
            raise ValueError(f"field {self.id}: a word in both yes_also and no_also")
        if self.one_by_one and self.kind != "multi_choice":
            raise ValueError(f"field {self.id}: one_by_one is only for multi_choice")
        if self.kind == "attachment" and self.min_count > self.max_count:
            raise ValueError(f"field {self.id}: min_count > max_count")
        if self.pattern is not None:
            try:
                compile_safe(self.pattern)
            except UnsafePattern as exc:
                raise ValueError(f"field {self.id}: pattern: {exc}") from None
        if (self.kind == "id_card") != bool(self.id_card):
            raise ValueError(f"field {self.id}: kind id_card needs an id_card mapping, and only it takes one")
        unknown = set(self.id_card) - set(CARD_FIELDS)
        if unknown:
            raise ValueError(f"field {self.id}: id_card keys {sorted(unknown)} are not card fields {CARD_FIELDS}")
        if self.spelling is not None and self.kind != "text":
            raise ValueError(f"field {self.id}: spelling is only for text")
        if (self.sex is not None or self.accept_cmnd) and self.kind != "id_number":
            raise ValueError(f"field {self.id}: sex and accept_cmnd are only for id_number")
        if self.sex is not None and self.sex_field is not None:
            raise ValueError(f"field {self.id}: give either sex or sex_field")
        if self.sex_values and self.sex_field is None:
            raise ValueError(f"field {self.id}: sex_values reads the answer of sex_field")
        if self.unknown is not None and not self.required:
            raise ValueError(f"field {self.id}: an optional question is skipped when unknown; unknown is for "
                             "required ones")
        if self.kind == "id_card" and self.required:
            raise ValueError(f"field {self.id}: an id_card offer is never required (the citizen may type instead)")
        return self

    @property
    def summary_label(self) -> str:
        return self.label or self.prompt


class Repeat(Strict):
    min: int = 1
    max: int = 10
    item_label: str
    more_prompt: str
    # the first item is someone already described (the head of household, member 1): its fields copied from
    # these earlier answers (field id -> the earlier field) and set to these options (field id -> value), never
    # asked; an earlier answer changed later is followed while the copy was not changed itself
    first_from: dict[str, str] = Field(default_factory=dict)
    first_values: dict[str, str] = Field(default_factory=dict)


class Section(Strict):
    id: str
    title: str
    # who or what the section is about, in a few words (“người mất”): qualifies a field's label read out of
    # context (a supplement request) when another section has a field of the same label; default: the title
    about: str | None = None
    relevant: str | None = None
    repeat: Repeat | None = None
    fields: list[FieldDef]

    @field_validator("id")
    @classmethod
    def _id_ok(cls, v: str) -> str:
        if not _ID_RE.match(v):
            raise ValueError(f"section id {v!r} must be lower_snake_case")
        return v


class Rule(Dated):
    """An eligibility rule: when ``ineligible_if`` holds, the citizen is stopped early.

    Several versions of a rule may share an ``id`` when their periods do not overlap (see ``Dated``)."""

    id: str
    ineligible_if: str
    reason: str
    legal_ref: str
    instead: str


AGENCY_KEYS = ("commune", "police", "social_insurance", "social_affairs")


class Agency(Strict):
    key: str  # routing key for officers: commune, police, social_insurance, social_affairs
    name: str
    note: str | None = None

    @field_validator("key")
    @classmethod
    def _key_ok(cls, v: str) -> str:
        if v not in AGENCY_KEYS:
            raise ValueError(f"agency key {v!r} must be one of {AGENCY_KEYS}")
        return v


class DaysRule(Dated):
    """A different time limit when a condition over the answers holds (e.g. 5 days when verification is needed)."""

    when: str
    days: int = Field(ge=0)
    legal_ref: str | None = None  # defaults to the leg's legal basis


class LegDef(Dated):
    """One receiving agency's part of a linked (liên thông) procedure.

    A submission creates one dossier leg per leg whose ``when`` holds over the answers; each leg has its own
    agency (officer queue), status and due date. A procedure without ``legs`` has one implicit leg: its
    ``agency`` with its ``processing_days``."""

    id: str
    title: str
    agency: Agency
    processing_days: int = Field(ge=0)
    days_rules: list[DaysRule] = Field(default_factory=list)  # the first that holds sets the time limit
    when: str | None = None
    forms: list[str] = Field(default_factory=list)  # official form templates this agency needs
    # the legs (ids, declared earlier) whose result this one waits for: it is approved and returned only once
    # they have one (the birth or death extract number), and closed when they are rejected
    after: list[str] = Field(default_factory=list)
    # the sections (ids) of the form this agency's part uses: what its officers may ask the citizen to supplement,
    # and whose changes they are told of when another agency's supplement changes them; empty: every section
    sections: list[str] = Field(default_factory=list)
    legal_basis: list[str] = Field(default_factory=list)
    note: str | None = None

    @field_validator("after", "sections", mode="before")
    @classmethod
    def _after_list(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class Clock(Dated):
    """When the time limit starts: at the chat's submission, or at the desk's receipt of a complete
    dossier (then the chat shows only an expected date), and whether it starts again after a supplement."""

    starts: Literal["submission", "desk_receipt"] = "desk_receipt"
    restarts_after_supplement: bool = True
    legal_ref: str


class NluPhrases(Strict):
    """Phrases that mean the procedure, with how strongly (1: clearly this one; lower: a life event it
    shares with another procedure)."""

    weight: float = Field(gt=0, le=1)
    texts: list[str] = Field(min_length=1)


class NluAnswer(Strict):
    """Words of the request that opened the procedure which answer one of its first questions (“bà tôi đang hưởng
    trợ cấp hưu trí xã hội vừa mất” answers “Người mất có đang hưởng trợ cấp hưu trí xã hội?”): taken and said back
    when that question is among those asked first, before any other is (engine/menu.py, ``answer_from_request``)."""

    field: str
    # with ``value``, the words that say it; without, a choice's options' own ``also`` words, whole in the request,
    # of one option only (“nhà tôi trồng lúa” at “sống chủ yếu bằng nghề gì?”: Nông nghiệp)
    value: bool | str | None = None
    words: list[str] = Field(default_factory=list)
    # or the words right before the answer, which is read from what follows them as the field's kind reads a typed
    # answer (a date: “bố tôi mất hôm qua”, “mất ngày 1/12”: the date of death), then kept for that question
    after: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _words_with_value(self) -> NluAnswer:
        if self.after:
            if self.value is not None or self.words:
                raise ValueError(f"nlu.answers {self.field}: after reads the answer; no value nor words with it")
        elif (self.value is None) != (not self.words):
            raise ValueError(f"nlu.answers {self.field}: a value needs its words, and words their value")
        return self


class NluNote(Strict):
    """Something to say when the request that opened the procedure holds one of ``words`` (folded, whole words,
    not after a “không”): “làm khai sinh cho 2 bé sinh đôi” is told that each child has a dossier of its own."""

    words: list[str] = Field(min_length=1)
    say: str


class Nlu(Strict):
    """How people ask for the procedure in their own words (dialogs/nlu.py indexes these)."""

    phrases: list[NluPhrases] = Field(default_factory=list)
    # a message must hold one of these (folded, whole words) for the procedure to be opened from it; otherwise it
    # is offered at most: the procedures of a death ask for a word of death, so “mẹ tôi 80 tuổi chưa có lương hưu”
    # opens none of them
    requires: list[str] = Field(default_factory=list)
    # a message holding one of these (folded, whole words) opens the procedure no more, offered at most: a word of
    # death opens no registration of a bank account (“mẹ tôi đang hưởng trợ cấp hằng tháng vừa mất”)
    excludes: list[str] = Field(default_factory=list)
    # words that describe a person's condition or an event (“bại não”, “câm điếc”): they open the procedure from
    # the menu, but typed as an answer inside another procedure that asks about the same (the re-issue of the
    # disability certificate asks the kind of disability) they are that answer, and no switch to this one is
    # offered unless the message asks for it without them (dialogs/nlu.py, ``switch_to``)
    describes: list[str] = Field(default_factory=list)
    answers: list[NluAnswer] = Field(default_factory=list)
    notes: list[NluNote] = Field(default_factory=list)


class EffectCall(Strict):
    """A named, generic effect (bot/effects/): a database check during the conversation, a change to a
    register at submission, or an export. ``args`` are the effect's own; ``catalog check`` validates them."""

    effect: str
    when: str | None = None  # an expression over the answers; the effect runs only when it holds
    args: dict[str, Any] = Field(default_factory=dict)


class CheckCall(EffectCall):
    """A check run as soon as one of the ``after`` fields is answered, and again at submission."""

    after: list[str] = Field(min_length=1)


class Effects(Strict):
    checks: list[CheckCall] = Field(default_factory=list)
    submit: list[EffectCall] = Field(default_factory=list)
    exports: list[EffectCall] = Field(default_factory=list)


class Subject(Strict):
    """The person a dossier is about, named to officers beside the applicant: the deceased, the child."""

    label: str  # as officers read it: “Người mất”, “Trẻ được khai sinh”
    fields: list[str]  # the first answered one names the person


class FollowUp(Strict):
    """Another procedure of the catalogue that a submitted dossier calls for (the death registered, the funeral
    support of a social-pension recipient): offered right after the receipt, its draft begun with the answers
    ``carry`` names already given (each question of the other procedure from the first answered field of this
    one listed for it: the same kind of question, or a text one that takes the answer as it reads). Validated
    against both procedures by ``dvcbot catalog check``."""

    procedure: str
    when: str  # an expression over this procedure's answers: the follow-up is offered when it holds
    carry: dict[str, list[str]] = Field(default_factory=dict)  # the other's field -> this one's, first answered
    # the other's questions answered as given (the one who filed this one files that one: ``filer.role: self``)
    values: dict[str, str | bool] = Field(default_factory=dict)

    @field_validator("carry", mode="before")
    @classmethod
    def _one_or_more(cls, v: Any) -> Any:
        return {k: [x] if isinstance(x, str) else x for k, x in v.items()} if isinstance(v, dict) else v


class Procedure(Strict):
    id: str
    version: int = 1
    menu_order: int = 100  # place in the menu (smaller first); ties by id
    code_prefix: str
    title: str
    short: str
    # said first when a citizen opens the procedure, before its card (“Xin chia buồn cùng gia đình.”)
    greeting: str | None = None
    agency: Agency
    legal_basis: list[str]
    processing_days: int
    processing_note: str | None = None
    fee: str
    result: str
    steps: list[str] = Field(default_factory=list)
    documents: list[str]
    who: str | None = None
    facts: list[Fact] = Field(default_factory=list)
    unverified: list[str] = Field(default_factory=list)
    applicant_name_fields: list[str] = Field(default_factory=list)  # first answered one names the applicant
    subject: Subject | None = None  # whom the dossier is about when that is not the applicant (the deceased)
    sections: list[Section]
    eligibility: list[Rule] = Field(default_factory=list)
    legs: list[LegDef] = Field(default_factory=list)
    sworn_statement: str
    source: str | None = None
    keywords: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)
    standards: list[Standard] = Field(default_factory=list)
    # the answer whose date picks the standard in force (e.g. deceased.death_date); none: the day of the check
    standards_date: str | None = None
    clock: list[Clock] = Field(default_factory=list)
    # the national procedure code(s) (mã thủ tục hành chính) this definition follows
    national_code: str | None = None

    def clock_at(self, day: date) -> Clock | None:
        return next((c for c in self.clock if c.in_force(day)), None)

    def rules_at(self, answers: dict[str, Any], today: date) -> list[Rule]:
        """The eligibility rules in force, each judged on its own day (see ``Dated``)."""
        return [r for r in self.eligibility if r.in_force(law_day(r, answers, today))]

    def facts_at(self, day: date) -> list[Fact]:
        return [f for f in self.facts if f.in_force(day)]

    def standard_for(self, answers: dict[str, Any], today: date) -> tuple[Standard | None, bool]:
        """:meth:`standard_at` on the day named by ``standards_date`` (the date of death …), or today."""
        return self.standard_at(law_day(None, answers, today, self.standards_date))
    nlu: Nlu = Field(default_factory=Nlu)
    effects: Effects = Field(default_factory=Effects)
    follow_ups: list[FollowUp] = Field(default_factory=list)  # the first whose ``when`` holds is offered
    # whether someone else named in the dossier with an ID number may follow it (“/theodoi”): the receipt says how
    # only then (an expression; absent: whenever an ID number is in it; “False” where only the filer's is a living
    # person's, the death registration's requester)
    others_follow: str | None = None

    def standard_at(self, day: date) -> tuple[Standard | None, bool]:
        """The standard in force on ``day``, and whether it is only the latest one recorded (its
        period has ended and no newer one is in the definition)."""
        if not self.standards:
            return None, False
        ordered = sorted(self.standards, key=lambda st: st.valid_from)
        for st in reversed(ordered):
            if st.valid_from <= day and (st.valid_to is None or day <= st.valid_to):
                return st, False
        if day < ordered[0].valid_from:
            return ordered[0], False
        return ordered[-1], True

    @field_validator("id")
    @classmethod
    def _pid_ok(cls, v: str) -> str:
        if not _PROC_ID_RE.match(v):
            raise ValueError(f"procedure id {v!r} must be kebab-case")
        return v

    @field_validator("code_prefix")
    @classmethod
    def _prefix_ok(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z]{2,4}", v):
            raise ValueError("code_prefix must be 2-4 capital letters")
        return v

    @model_validator(mode="after")
    def _standards_ok(self) -> Procedure:
        ordered = sorted(self.standards, key=lambda st: st.valid_from)
        for st in ordered:
            if st.valid_to is not None and st.valid_to < st.valid_from:
                raise ValueError(f"standard {st.name!r}: valid_to before valid_from")
            if set(st.values) != set(ordered[0].values):
                raise ValueError(f"standard {st.name!r}: every period needs the same values")
        for a, b in itertools.pairwise(ordered):
            if a.valid_to is None or a.valid_to >= b.valid_from:
                raise ValueError(f"standards {a.name!r} and {b.name!r} overlap")
        return self

    @model_validator(mode="after")
    def _unique_ids(self) -> Procedure:
        seen: set[str] = set()
        for s in self.sections:
            if s.id in seen:
                raise ValueError(f"duplicate section id {s.id}")
            seen.add(s.id)
        fids: set[str] = set()
        for s in self.sections:
            for f in s.fields:
                key = f"{s.id}[].{f.id}" if s.repeat else f.id
                if key in fids:
                    raise ValueError(f"duplicate field id {key}")
                fids.add(key)
        earlier: set[str] = set()
        for leg in self.legs:
            unknown = [sid for sid in leg.sections if sid not in seen]
            if unknown:
                raise ValueError(f"leg {leg.id!r}: sections {unknown} are not sections of this procedure")
            for up in leg.after:
                if up not in earlier:
                    raise ValueError(f"leg {leg.id!r}: after {up!r} must name a leg declared before it")
            earlier.add(leg.id)
        for what, items in (("leg", [(leg.id, leg) for leg in self.legs]),
                            ("eligibility rule", [(r.id, r) for r in self.eligibility]),
                            ("fact", [(f.key, f) for f in self.facts if f.key]),
                            ("clock", [("clock", c) for c in self.clock])):
            for i, (key, a) in enumerate(items):
                for key2, b in items[i + 1:]:
                    if key == key2 and a.overlaps(b):
                        raise ValueError(f"{what} {key!r}: two versions overlap in time "
                                         f"({a.effective_from}–{a.effective_to} and "
                                         f"{b.effective_from}–{b.effective_to})")
        return self
