"""The form cursor: which questions apply, in which order, given the answers so far.

Answers are a flat JSON dict keyed by field path. A path is the field id
(``who.full_name``) or, inside a repeat group, ``group[i].field``
(``members[1].relation``). The hidden ``group[i]._more`` answer records whether
the citizen wanted another item. The cursor is recomputed from the answers on
every step (the XLSForm way), so relevance changes and edits need no bookkeeping.

Answers of a branch switched off are kept aside under ``_hidden`` (see :meth:`Form.prune`): switched on
again, its questions show them as the answer given before ("giữ nguyên" keeps it). They are dropped at
submission (:func:`submitted`).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, NamedTuple

from .expr import compile_expr, is_year, truthy
from .schema import FieldDef, Procedure, Section, law_day

_LOOKUPS_KEPT = 4096
_PATH_RE = re.compile(r"^(?P<sec>[a-z][a-z0-9_]*)\[(?P<idx>\d+)\]\.(?P<fid>[a-z_][a-z0-9_.]*)$")
MORE = "_more"
HIDDEN = "_hidden"  # answers of branches switched off, kept until submission
FOLLOWS = "_follows"  # the code of the dossier whose ``follow_ups`` began this draft: submitted with it


def previous(answers: dict[str, Any], path: str) -> tuple[bool, Any]:
    """Whether ``path`` was answered, now or in a branch switched off since, and that answer."""
    if path in answers:
        return True, answers[path]
    hidden = answers.get(HIDDEN)
    if isinstance(hidden, dict) and path in hidden:
        return True, hidden[path]
    return False, None


def follows(answers: dict[str, Any]) -> str | None:
    """The dossier this one carries on from (its code), where its draft was begun by a ``follow_ups``."""
    code = answers.get(FOLLOWS)
    return code if isinstance(code, str) and code else None


def answered(answers: dict[str, Any]) -> list[str]:
    """The paths answered (neither the answers kept aside nor the dossier it carries on from)."""
    return [k for k in answers if k not in (HIDDEN, FOLLOWS)]


def submitted(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers as submitted: those of the branches that apply, without the ones kept aside."""
    return {k: v for k, v in answers.items() if k != HIDDEN}


@dataclass(frozen=True)
class PlannedLeg:
    """One agency leg a submission will create (see schema.LegDef)."""

    id: str
    title: str
    agency: str        # agency key: officers' queue
    agency_name: str
    days: int          # working days
    forms: tuple[str, ...] = ()
    after: tuple[str, ...] = ()  # the legs whose result this one waits for (schema.LegDef.after)
    sections: tuple[str, ...] = ()  # the sections this agency's part uses (schema.LegDef.sections); () = all


class Slot(NamedTuple):
    """One question of the form as it applies now. A named tuple, not a frozen dataclass: a walk makes one per
    question, two walks a step, and a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__`` (1.4 µs against 0.5 µs)."""

    path: str
    field: FieldDef
    section: Section
    index: int | None = None  # type: ignore[assignment]  # a repeat group's instance (shadows tuple.index)
    synthetic: bool = False   # a helper question, not an answer of the form: "add another?", the ID card offer


# how people say at “Hộ còn thành viên nào khác không?” that there are more, or that all are given
# (not “còn” alone, which is typed “con”: “con gai”, a daughter, names the next one, engine/collect.py)
_MORE_YES = ["còn người nữa", "thêm người", "còn người", "còn ạ", "vẫn còn"]
_MORE_NO = ["hết", "hết rồi", "hết người", "đủ rồi", "đủ", "vậy thôi", "thế thôi", "chỉ vậy", "chỉ vậy thôi",
            "chỉ có vậy", "chỉ có vậy thôi", "không còn", "không còn ai", "không còn ai nữa", "xong rồi", "hết ạ"]


def _more_field(section: Section) -> FieldDef:
    assert section.repeat is not None
    # built without validation: "_more" is deliberately outside the ids a definition may use
    return FieldDef.model_construct(id=MORE, kind="yes_no", prompt=section.repeat.more_prompt, required=True,
                                    yes_also=_MORE_YES, no_also=_MORE_NO,
                                    **{k: v.get_default(call_default_factory=True)
                                       for k, v in FieldDef.model_fields.items()
                                       if k not in ("id", "kind", "prompt", "required", "yes_also", "no_also")})


def _offer_open(f: FieldDef, path: str, prefix: str, answers: dict[str, Any]) -> bool:
    """An ID card offer applies until it is answered, unless its block was already answered without it
    (a draft begun before the offer existed, a dossier sent back for a supplement)."""
    if f.kind != "id_card" or path in answers:
        return True
    return not any(prefix + target in answers for target in f.id_card.values())


class Form:
    """A procedure definition with compiled expressions and path lookups."""

    def __init__(self, proc: Procedure):
        self.proc = proc
        self._by_key: dict[str, tuple[Section, FieldDef]] = {}
        self._more: dict[str, FieldDef] = {}
        for s in proc.sections:
            if s.repeat:
                self._more[s.id] = _more_field(s)
            for f in s.fields:
                key = f"{s.id}[].{f.id}" if s.repeat else f.id
                self._by_key[key] = (s, f)
        self.groups = {s.id: s for s in proc.sections if s.repeat}
        # an answer a repeat group's first item is copied from (``first_from``) -> the paths of its copies
        self.first_copies: dict[str, list[str]] = {}
        for s in proc.sections:
            for fid, ref in (s.repeat.first_from.items() if s.repeat is not None else ()):
                self.first_copies.setdefault(ref, []).append(f"{s.id}[0].{fid}")
        # path → (section, field) or None, as :meth:`lookup` found it: the cursor asks for the same few paths
        # over and over (every relevance check resolves its answers through them)
        self._looked_up: dict[str, tuple[Section, FieldDef] | None] = {}
        self._memo: _Memo | None = None  # the cursor's last walk (:meth:`_remembered`)

    # -- lookups -------------------------------------------------------------------
    def key_of(self, path: str) -> str:
        m = _PATH_RE.match(path)
        return f"{m['sec']}[].{m['fid']}" if m else path

    def lookup(self, path: str) -> tuple[Section, FieldDef] | None:
        try:
            return self._looked_up[path]
        except KeyError:
            pass
        m = _PATH_RE.match(path)
        if m and m["fid"] == MORE and m["sec"] in self._more:
            hit: tuple[Section, FieldDef] | None = self.groups[m["sec"]], self._more[m["sec"]]
        else:
            hit = self._by_key.get(self.key_of(path))
        if len(self._looked_up) >= _LOOKUPS_KEPT:  # (paths are the definition's and its answers': a bound anyway)
            self._looked_up.clear()
        self._looked_up[path] = hit
        return hit

    def field(self, path: str) -> FieldDef | None:
        hit = self.lookup(path)
        return hit[1] if hit else None

    @cached_property
    def shared_labels(self) -> frozenset[str]:
        """The short labels (msgids) that fields of more than one section use (“Họ và tên”)."""
        seen: dict[str, set[str]] = {}
        for s in self.proc.sections:
            for f in s.fields:
                seen.setdefault(f.summary_label, set()).add(s.id)
        return frozenset(lab for lab, secs in seen.items() if len(secs) > 1)

    def label(self, path: str, _: Callable[[str], str]) -> str:
        """A field's short label as read out of its section (a supplement request, a change, a list of items):
        a repeat group's item is numbered (“Họ và tên (thành viên 2)”), and a label another section also uses is
        qualified by what its section is about (``about``, else its title: “Họ và tên (người mất)”); the path if
        there is no such field."""
        hit = self.lookup(path)
        if hit is None:
            return path
        section, f = hit
        label = _(f.summary_label)
        m = _PATH_RE.match(path)
        if section.repeat and m and m["idx"] is not None:
            return f"{label} ({_(section.repeat.item_label)} {int(m['idx']) + 1})"
        if f.summary_label in self.shared_labels:
            about = _(section.about) if section.about else _(section.title)
            return f"{label} ({about[:1].lower() + about[1:]})"
        return label

    @cached_property
    def field_keys(self) -> frozenset[str]:
        return frozenset(self._by_key)

    def fields_by_key(self) -> dict[str, FieldDef]:
        """Every field of the form by its key (``members[].relation`` for a repeat group's field)."""
        return {key: sf[1] for key, sf in self._by_key.items()}

    def instances(self, answers: dict[str, Any], group: str) -> int:
        prefix = f"{group}["
        seen = set()
        for k in answers:
            if k.startswith(prefix):
                m = _PATH_RE.match(k)
                if m and m["sec"] == group:
                    seen.add(int(m["idx"]))
        return len(seen)

    # -- typed values --------------------------------------------------------------
    def typed(self, path: str, raw: Any) -> Any:
        f = self.field(path)
        if raw is None or f is None:
            return raw
        if f.kind == "date" and isinstance(raw, str):
            if is_year(raw):  # a year alone (``year_only``): kept so
                return raw
            try:
                return date.fromisoformat(raw)
            except ValueError:
                return None
        return raw

    def resolver(self, answers: dict[str, Any], today: date | None = None):
        def resolve(path: str) -> Any:
            if path.startswith("std."):  # the dated standard in force on its day (schema.Standard)
                st, _stale = self.proc.standard_for(answers, today or date.today())
                return st.values.get(path[4:]) if st is not None else None
            if path in answers:
                return self.typed(path, answers[path])
            if path in self.groups:
                return self.instances(answers, path)
            # sub-keys of structured answers, e.g. requester.address.province_code
            head, _, tail = path.rpartition(".")
            while head:
                if head in answers and isinstance(answers[head], dict):
                    return answers[head].get(tail)
                head, _, more = head.rpartition(".")
                tail = f"{more}.{tail}"
            return None

        return resolve

    def item_resolver(self, answers: dict[str, Any], group: str, index: int):
        def item(name: str) -> Any:
            p = f"{group}[{index}].{name}"
            return self.typed(p, answers.get(p))

        def others(name: str) -> list[Any]:
            """The answers to ``name`` in the group's other items (for ``others('id_number')``)."""
            out = []
            for key, v in answers.items():
                head, sep, rest = key.partition("].")
                if sep and rest == name and head.startswith(group + "[") and head[len(group) + 1:].isdigit() \
                        and int(head[len(group) + 1:]) != index and v is not None:
                    out.append(self.typed(key, v))
            return out

        item.others = others  # type: ignore[attr-defined]
        return item

    def undecided(self, answers: dict[str, Any], today: date | None = None) -> int:
        """How many more questions may come on top of :meth:`slots`: those whose condition still waits for an
        answer (a branch not chosen yet). Progress shows them in the total, so that the total goes down as
        branches close instead of jumping up when one opens. Counted with the conditions :meth:`slots`
        evaluated for the same answers, and kept with its walk."""
        memo = self._remembered(answers, today)
        if memo.undecided is None:
            memo.undecided = self._undecided(memo.walk)
        return memo.undecided

    def _undecided(self, walk: _Walk) -> int:
        n = 0
        decided, never = walk.decided, walk.never
        for s in self.proc.sections:
            sv = decided(s.relevant)
            if sv is None and never(s.relevant):
                sv = False
            if sv is False or (s.repeat is not None and sv is True):
                continue  # a relevant repeat group is counted item by item in slots()
            for f in s.fields:
                fv = True if s.repeat is not None else decided(f.relevant)
                if fv is None and never(f.relevant):
                    fv = False
                if (sv is None and fv is not False) or (sv is True and fv is None):
                    n += max(1, s.repeat.min) if s.repeat is not None else 1
        return n

    def holds(self, source: str | None, answers: dict[str, Any], *, group: str | None = None,
              index: int | None = None, value: Any = None, today: date | None = None) -> bool:
        if not source:
            return True
        item = self.item_resolver(answers, group, index) if group is not None and index is not None else None
        return truthy(compile_expr(source).evaluate(self.resolver(answers, today), value=value, item=item,
                                                   today=today))

    def planned_legs(self, answers: dict[str, Any], today: date | None = None) -> list[PlannedLeg]:
        """The legs a submission of these answers creates: every leg whose ``when`` holds, with its time
        limit (the first ``days_rules`` entry that holds, else ``processing_days``). A procedure without
        ``legs`` has one leg: its own agency and time limit. Only the versions in force on their day
        (schema.Dated) count."""
        p = self.proc
        if not p.legs:
            return [PlannedLeg("main", p.title, p.agency.key, p.agency.name, p.processing_days)]
        out = []
        day = today or date.today()
        for leg in p.legs:
            if not leg.in_force(law_day(leg, answers, day)) or not self.holds(leg.when, answers, today=today):
                continue
            days = next((r.days for r in leg.days_rules
                         if r.in_force(law_day(r, answers, day)) and self.holds(r.when, answers, today=today)),
                        leg.processing_days)
            out.append(PlannedLeg(leg.id, leg.title, leg.agency.key, leg.agency.name, days, tuple(leg.forms),
                                  tuple(leg.after), tuple(leg.sections)))
        return out

    # -- the cursor ----------------------------------------------------------------
    def slots(self, answers: dict[str, Any], today: date | None = None) -> tuple[Slot, ...]:
        """Every question that applies now, in order (answered or not).

        A step asks this several times (the question answered, the answers that depend on it, the next
        question, its number), mostly of the same answers: the last walk is kept (:meth:`_remembered`)."""
        memo = self._remembered(answers, today)
        if memo.slots is None:
            memo.slots = tuple(self._walk(memo.walk))
        return memo.slots

    def slots_after(self, path: str, answers: dict[str, Any], today: date | None = None) -> tuple[Slot, ...]:
        """The questions that apply now after the one at ``path``, in order (none if it is not among them)."""
        slots = self.slots(answers, today)
        at = next((i for i, s in enumerate(slots) if s.path == path), None)
        return () if at is None else slots[at + 1:]

    @property
    def keeps_walk(self) -> bool:
        """Whether a walk, and so a copy of some conversation's answers, is kept now."""
        return self._memo is not None

    def forget(self) -> None:
        """Drop the kept walk and its copy of the answers: the engine calls this when a turn ends, so that no
        conversation's answers stay in memory after its turn (the walk is kept within a turn)."""
        self._memo = None

    def _remembered(self, answers: dict[str, Any], today: date | None) -> _Memo:
        """The walk of these answers on this day: the last one, while the answers are equal to a copy of those
        it was made of, else a new one. Answers are replaced, never changed in place (the ``_hidden`` ones
        aside, which no condition reads), so a shallow copy tells them apart."""
        day = today or date.today()
        memo = self._memo
        if memo is None or memo.day != day or memo.answers != answers:
            kept = dict(answers)  # (the walk reads the copy: the caller's answers change after it returns)
            memo = self._memo = _Memo(kept, day, _Walk(self, kept, day))
        return memo

    def _walk(self, walk: _Walk) -> Iterator[Slot]:
        answers, holds = walk.answers, walk.holds
        for s in self.proc.sections:
            if not holds(s.relevant):
                continue
            if s.repeat is None:
                for f in s.fields:  # (the common case, a field with no condition, checked inline: 60 a step)
                    if f.kind == "id_card":
                        if holds(f.relevant) and _offer_open(f, f.id, "", answers):
                            yield Slot(f.id, f, s, None, True)
                    elif f.relevant is None or holds(f.relevant):
                        yield Slot(f.id, f, s)
                continue
            i = 0
            while i < s.repeat.max:
                for f in s.fields:
                    path = f"{s.id}[{i}].{f.id}"
                    if holds(f.relevant, s.id, i) and _offer_open(f, path, f"{s.id}[{i}].", answers):
                        yield Slot(path, f, s, i, synthetic=f.kind == "id_card")
                if i + 1 >= s.repeat.max:
                    break
                if i + 1 < s.repeat.min:
                    i += 1
                    continue
                more = f"{s.id}[{i}].{MORE}"
                yield Slot(more, self._more[s.id], s, i, synthetic=True)
                if answers.get(more) is True:
                    i += 1
                    continue
                break

    def next_slot(self, answers: dict[str, Any], today: date | None = None) -> Slot | None:
        for slot in self.slots(answers, today):
            if slot.path not in answers:
                return slot
        return None

    def slot_for(self, path: str, answers: dict[str, Any], today: date | None = None) -> Slot | None:
        for slot in self.slots(answers, today):
            if slot.path == path:
                return slot
        return None

    def items(self, answers: dict[str, Any], section: str) -> int:
        """How many items of the repeat group ``section`` have answers."""
        return 1 + max((int(m["idx"]) for k in answers if (m := _PATH_RE.match(k)) and m["sec"] == section),
                       default=-1)

    def without_item(self, answers: dict[str, Any], section: str, index: int) -> dict[str, Any]:
        """The answers with item ``index`` of the repeat group ``section`` taken out: the items after it move up one,
        and the last one left says no other follows (its “another?” answered no)."""
        n = self.items(answers, section)
        out: dict[str, Any] = {}
        for k, v in answers.items():
            m = _PATH_RE.match(k)
            if m is None or m["sec"] != section:
                out[k] = v
            elif (i := int(m["idx"])) != index:
                out[f"{section}[{i - (i > index)}].{m['fid']}"] = v
        for i in range(n - 1):
            out[f"{section}[{i}].{MORE}"] = i < n - 2
        return out

    def prune(self, answers: dict[str, Any], today: date | None = None) -> list[str]:
        """Set aside the answers that no longer apply (a branch switched off), under ``_hidden``, so that
        switching the branch on again offers them back; return their paths."""
        dropped: list[str] = []
        while True:
            live = {s.path for s in self.slots(answers, today)}
            gone = [k for k in answers if k not in live and k not in (HIDDEN, FOLLOWS)]
            if not gone:
                hidden = answers.get(HIDDEN)
                if isinstance(hidden, dict):  # answered again: nothing to offer back
                    for k in [k for k in hidden if k in answers]:
                        del hidden[k]
                    if not hidden:
                        del answers[HIDDEN]
                return dropped
            hidden = answers.setdefault(HIDDEN, {})
            if not isinstance(hidden, dict):
                hidden = answers[HIDDEN] = {}
            for k in gone:
                hidden[k] = answers.pop(k)
            dropped.extend(gone)


@dataclass
class _Memo:
    """The cursor's last walk: a copy of the answers it was made of, its day, its evaluated conditions, and what
    was asked of it so far."""

    answers: dict[str, Any]
    day: date
    walk: _Walk
    slots: tuple[Slot, ...] | None = None
    undecided: int | None = None


class _Walk:
    """The form's conditions as one walk over it (:meth:`Form.slots`, :meth:`Form.undecided`) evaluates them:
    with one resolver, and each condition outside a repeat group once (the fields of a block share theirs). The
    answers do not change during a walk: its callers read them (collect.py lists the slots before it changes
    anything)."""

    def __init__(self, form: Form, answers: dict[str, Any], today: date | None):
        self.form, self.answers, self.today = form, answers, today
        self.resolve = form.resolver(answers, today)
        self.values: dict[str, Any] = {}
        self.askable: dict[str, bool] = {}  # field path → whether it may still be asked (:meth:`never`)
        self.nevers: dict[str, bool] = {}  # condition → :meth:`never`

    def value(self, source: str) -> Any:
        if source not in self.values:
            self.values[source] = compile_expr(source).evaluate(self.resolve, today=self.today)
        return self.values[source]

    def holds(self, source: str | None, group: str | None = None, index: int | None = None) -> bool:
        if not source:
            return True
        if group is None or index is None:
            return truthy(self.value(source))
        item = self.form.item_resolver(self.answers, group, index)
        return truthy(compile_expr(source).evaluate(self.resolve, item=item, today=self.today))

    def decided(self, source: str | None) -> bool | None:
        """Whether a condition holds: True, False, or None while it waits for an answer."""
        if not source:
            return True
        v = self.value(source)
        return None if v is None else truthy(v)

    def never(self, source: str | None) -> bool:
        """Whether a condition that waits for an answer (:meth:`decided` is None) waits only for answers that
        will never come: every field it reads is answered (or skipped), or is one no question will ask (its own
        condition, or its section's, is False or waits only for such answers). Such a condition never holds, so
        its questions are not among those that may still come (a form's last question is not “39 of 52”)."""
        if source is None:
            return False
        known = self.nevers.get(source)
        if known is None:
            known = self.nevers[source] = not self._may_come(source)
        return known

    def _may_come(self, source: str) -> bool:
        """Whether an answer that ``source`` reads may still be given."""
        return any(self._askable(ref) for ref in compile_expr(source).refs)

    def _askable(self, ref: str) -> bool:
        if ref in self.answers:
            return False
        known = self.askable.get(ref)
        if known is not None:
            return known
        if ref.startswith("std.") or "[" in ref or ref in self.form.groups:
            return True  # (a dated standard, a repeat group's answers: counted as they were)
        head = ref
        while head:  # a sub-key of a structured answer (``requester.address.province_code``) is its field's
            if head in self.answers:
                return False
            hit = self.form.lookup(head)
            if hit is not None:
                self.askable[ref] = True  # (while it is worked out: a condition reading itself back counts)
                found = True
                for c in (hit[0].relevant, hit[1].relevant):
                    v = self.decided(c)
                    if v is False or (v is None and self.never(c)):
                        found = False
                        break
                self.askable[ref] = found
                return found
            head = head.rpartition(".")[0]
        return True  # (not a field of this form: as before)
