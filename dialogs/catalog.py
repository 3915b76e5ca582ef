"""Loading and checking the procedure catalogue (dialogs/procedures/*.yaml).

``Catalog.load()`` reads every definition; ``check()`` is what
``dvcbot catalog check`` runs in CI: schema errors, bad expressions, references
to unknown or later fields, choice values that do not exist, fields that can
never be reached, and strings missing from the English catalogue.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from .expr import ExprError, compile_expr
from .form import MORE, Form
from .i18n import DEFAULT_LANG, SUPPORTED, load_catalog
from .schema import FieldDef, Procedure, Section

PROCEDURES_DIR = Path(__file__).resolve().parent / "procedures"
# libyaml's parser when PyYAML was built with it: the same safe constructor, several times faster (every
# process start loads the whole catalogue)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def translatable_strings(proc: Procedure) -> Iterator[tuple[str, str]]:
    """(where, text) for every user-facing string of a definition."""
    yield "title", proc.title
    yield "short", proc.short
    if proc.greeting:
        yield "greeting", proc.greeting
    yield "agency.name", proc.agency.name
    if proc.agency.note:
        yield "agency.note", proc.agency.note
    if proc.processing_note:
        yield "processing_note", proc.processing_note
    yield "fee", proc.fee
    yield "result", proc.result
    if proc.who:
        yield "who", proc.who
    for i, step in enumerate(proc.steps):
        yield f"steps[{i}]", step
    for i, d in enumerate(proc.documents):
        yield f"documents[{i}]", d
    for i, fct in enumerate(proc.facts):
        yield f"facts[{i}]", fct.text
    for i, u in enumerate(proc.unverified):
        yield f"unverified[{i}]", u
    for i, st in enumerate(proc.standards):
        yield f"standards[{i}].name", st.name
    yield "sworn_statement", proc.sworn_statement
    if proc.subject is not None:
        yield "subject.label", proc.subject.label
    for s in proc.sections:
        yield f"{s.id}.title", s.title
        if s.about:
            yield f"{s.id}.about", s.about
        if s.repeat:
            yield f"{s.id}.repeat.item_label", s.repeat.item_label
            yield f"{s.id}.repeat.more_prompt", s.repeat.more_prompt
        for f in s.fields:
            where = f"{s.id}/{f.id}"
            yield f"{where}.prompt", f.prompt
            for attr in ("help", "label", "pattern_message", "confirm_label"):
                val = getattr(f, attr)
                if val:
                    yield f"{where}.{attr}", val
            if f.unknown is not None:
                yield f"{where}.unknown.say", f.unknown.say
                yield f"{where}.unknown.label", f.unknown.label
            for c in f.choices:
                yield f"{where}.choices.{c.value}", c.label
                if c.help:
                    yield f"{where}.choices.{c.value}.help", c.help
                if c.stop:
                    yield f"{where}.choices.{c.value}.stop", c.stop
            for k, con in enumerate(f.constraints):
                yield f"{where}.constraints[{k}]", con.message
            for k, con in enumerate(f.doubts):
                yield f"{where}.doubts[{k}]", con.message
    for i, note in enumerate(proc.nlu.notes):
        yield f"nlu.notes[{i}].say", note.say
    for r in proc.eligibility:
        yield f"eligibility.{r.id}.reason", r.reason
        yield f"eligibility.{r.id}.instead", r.instead
    for section in ("checks", "submit", "exports"):
        for i, call in enumerate(getattr(proc.effects, section)):
            for where, text in effect_texts(call.args):
                yield f"effects.{section}[{i}].{where}", text
    for leg in proc.legs:
        yield f"legs.{leg.id}.title", leg.title
        yield f"legs.{leg.id}.agency.name", leg.agency.name
        if leg.agency.note:
            yield f"legs.{leg.id}.agency.note", leg.agency.note
        if leg.note:
            yield f"legs.{leg.id}.note", leg.note


_DEFAULT: list[Catalog] = []  # Catalog.default(), once loaded


def _is_text_key(key: str) -> bool:
    return key in ("message", "request", "notice", "title", "label") or key.endswith(("_message", "_label", "_event"))


def effect_texts(args: object, where: str = "", texts: bool = False) -> Iterator[tuple[str, str]]:
    """(where, text) for the user-facing strings among an effect's arguments: ``message``, ``request``, ``notice``,
    ``title``, ``label``, any ``*_message``, ``*_label`` or ``*_event``, and the values of ``labels``."""
    if isinstance(args, dict):
        for k, v in args.items():
            sub = f"{where}.{k}" if where else str(k)
            if isinstance(v, str) and (texts or _is_text_key(str(k))):
                yield sub, v
            elif not isinstance(v, str):
                yield from effect_texts(v, sub, texts=k == "labels")
    elif isinstance(args, list):
        for i, v in enumerate(args):
            yield from effect_texts(v, f"{where}[{i}]")


@dataclass
class Catalog:
    procedures: dict[str, Procedure] = field(default_factory=dict)
    forms: dict[str, Form] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path | None = None) -> Catalog:
        cat = cls()
        for path in sorted((directory or PROCEDURES_DIR).glob("*.yaml")):
            try:
                data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
                proc = Procedure.model_validate(data)
            except (yaml.YAMLError, ValidationError, ValueError) as exc:
                cat.errors.append(f"{path.name}: {exc}")
                continue
            if proc.id in cat.procedures:
                cat.errors.append(f"{path.name}: duplicate procedure id {proc.id}")
                continue
            if path.stem != proc.id:
                cat.errors.append(f"{path.name}: file name must be the procedure id ({proc.id}.yaml)")
            cat.procedures[proc.id] = proc
            cat.forms[proc.id] = Form(proc)
            cat.files[proc.id] = path
        return cat

    @classmethod
    def default(cls) -> Catalog:
        """The catalogue of dialogs/procedures/, loaded once per process and shared by everything that needs
        it (the runtime, the form renderer, the commands): loading takes a second or two. Never modify it."""
        if not _DEFAULT:
            _DEFAULT.append(cls.load())
        return _DEFAULT[0]

    def get(self, proc_id: str) -> Procedure:
        return self.procedures[proc_id]

    def form(self, proc_id: str) -> Form:
        return self.forms[proc_id]

    def forget_walks(self) -> None:
        """Every form drops its kept walk (:meth:`Form.forget`): a turn has ended."""
        for form in self.forms.values():
            form.forget()

    def __iter__(self) -> Iterator[Procedure]:
        return iter(self.procedures.values())

    # -- checks -------------------------------------------------------------------------
    def check(self, langs: Iterable[str] = SUPPORTED) -> list[str]:
        problems = list(self.errors)
        for proc in self.procedures.values():
            problems += [f"{proc.id}: {p}" for p in check_procedure(self.forms[proc.id])]
            problems += [f"{proc.id}: {p}" for p in self._follow_up_problems(proc)]
            for lang in langs:
                if lang == DEFAULT_LANG:
                    continue
                cat = load_catalog(lang)
                for where, text in translatable_strings(proc):
                    if text not in cat:
                        problems.append(f"{proc.id}: {where}: no {lang} translation for {text[:60]!r}")
        return problems


    def _follow_up_problems(self, proc: Procedure) -> list[str]:
        """Each ``follow_ups`` entry names a procedure of the catalogue, and carries to its questions (outside a
        repeat) answers of this one's of the same kind (a choice's options among the other's), or to a text one."""
        problems: list[str] = []
        mine = self.forms[proc.id].fields_by_key()
        for k, follow in enumerate(proc.follow_ups):
            where = f"follow_ups[{k}]"
            if follow.procedure not in self.forms or follow.procedure == proc.id:
                problems.append(f"{where}: {follow.procedure!r} is no other procedure of the catalogue")
                continue
            theirs = self.forms[follow.procedure].fields_by_key()
            for target, sources in follow.carry.items():
                to = theirs.get(target)
                if to is None or "[]" in target:
                    problems.append(f"{where}.carry: {follow.procedure} has no question {target!r} outside a repeat")
                    continue
                for source in sources:
                    of = mine.get(source)
                    if of is None or "[]" in source:
                        problems.append(f"{where}.carry.{target}: no question {source!r} outside a repeat")
                    elif to.kind != "text" and (of.kind != to.kind or not {c.value for c in of.choices}
                                                <= {c.value for c in to.choices}):
                        problems.append(f"{where}.carry.{target}: {source!r} is not a {to.kind} question with "
                                        f"its options")
            for target, given in follow.values.items():
                to = theirs.get(target)
                if to is None or "[]" in target:
                    problems.append(f"{where}.values: {follow.procedure} has no question {target!r} outside a repeat")
                elif not (to.kind == "yes_no" and isinstance(given, bool)) and not (
                        to.kind == "choice" and given in {c.value for c in to.choices}):
                    problems.append(f"{where}.values.{target}: {given!r} is no answer of that question")
        return problems


def _literal_comparisons(source: str) -> Iterator[tuple[str, object]]:
    """(reference, literal) pairs compared with ==, != or in."""
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        return

    def ref(node: ast.AST) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            parts.append(node.id)
            return ".".join(reversed(parts))
        return None

    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        items = [node.left, *node.comparators]
        for a, op, b in zip(items[:-1], node.ops, items[1:], strict=True):
            if not isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)):
                continue
            r = ref(a)
            if r is None:
                continue
            if isinstance(b, ast.Constant):
                yield r, b.value
            elif isinstance(b, (ast.List, ast.Tuple, ast.Set)):
                for e in b.elts:
                    if isinstance(e, ast.Constant):
                        yield r, e.value


# a question that offers earlier answers again (``same_as``): the kinds of the questions it may name
_SAME_AS_KINDS = {"address": ("address",), "phone": ("phone",), "text": ("name", "text")}
_SAME_AS_WHAT = {"address": "an address", "phone": "a phone", "text": "a name or text"}


def _first_item_problems(s: Section, known: Callable[[str], str | None], fields_by_key: Mapping[str, FieldDef],
                         order: Mapping[str, int]) -> list[str]:
    """A repeat group's ``first_from`` / ``first_values``: fields of the group, filled from earlier answers of the
    same kind (a choice's options among the field's) or with one of the field's options."""
    assert s.repeat is not None
    problems: list[str] = []
    fields = {f.id: f for f in s.fields}
    start = min(order[f"{s.id}[].{f.id}"] for f in s.fields)
    for fid, ref in s.repeat.first_from.items():
        where = f"section {s.id}.repeat.first_from.{fid}"
        same = known(ref)
        if fid not in fields:
            problems.append(f"{where}: no field {fid!r} in the group")
        elif same is None or same != ref:
            problems.append(f"{where}: unknown field {ref!r}")
        elif order[same] >= start:
            problems.append(f"{where}: {ref!r} is not asked before the group")
        elif fields_by_key[same].kind != fields[fid].kind:
            problems.append(f"{where}: {ref!r} is not a {fields[fid].kind} question")
        elif not {c.value for c in fields_by_key[same].choices} <= {c.value for c in fields[fid].choices}:
            problems.append(f"{where}: an option of {ref!r} is not one of the field's")
    for fid, value in s.repeat.first_values.items():
        where = f"section {s.id}.repeat.first_values.{fid}"
        if fid not in fields or value not in {c.value for c in fields[fid].choices}:
            problems.append(f"{where}: no field {fid!r} of the group with the option {value!r}")
    return problems


def check_procedure(form: Form) -> list[str]:
    proc = form.proc
    problems: list[str] = []
    order: dict[str, int] = {}
    n = 0
    for s in proc.sections:
        for f in s.fields:
            order[f"{s.id}[].{f.id}" if s.repeat else f.id] = n
            n += 1
        if s.repeat:
            order[s.id] = n  # the group itself, for count()
    fields = form.fields_by_key()
    choice_values = {key: {c.value for c in f.choices} for key, f in fields.items()
                     if f.kind in ("choice", "multi_choice")}
    kinds = {key: f.kind for key, f in fields.items()}

    def known(ref: str) -> str | None:
        key = form.key_of(ref)
        if key in order:
            return key  # a field, or a repeat group (for count())
        head = ref
        while "." in head:  # sub-key of a structured answer
            head = head.rpartition(".")[0]
            if head in order and kinds.get(head) == "address":
                return head
        return None

    def check_expr(where: str, source: str | None, *, before: int | None, group: str | None,
                   allow_value: bool = False) -> None:
        if not source:
            return
        try:
            expr = compile_expr(source)
        except ExprError as exc:
            problems.append(f"{where}: bad expression {source!r}: {exc}")
            return
        for ref in expr.refs:
            if ref == "value" and allow_value:
                continue
            if ref.startswith("std."):
                if not proc.standards or ref[4:] not in proc.standards[0].values:
                    problems.append(f"{where}: unknown standard {ref!r} in {source!r}")
                continue
            key = known(ref)
            if key is None:
                problems.append(f"{where}: unknown field {ref!r} in {source!r}")
            elif before is not None and order[key] >= before:
                problems.append(f"{where}: refers to {ref!r}, which is asked later; the question can never be reached")
        for name in expr.item_refs:
            if group is None:
                problems.append(f"{where}: 'item.{name}' used outside a repeat group")
            elif f"{group}[].{name}" not in order:
                problems.append(f"{where}: unknown item field {name!r}")
        for ref, lit in _literal_comparisons(source):
            key = f"{group}[].{ref[5:]}" if ref.startswith("item.") else form.key_of(ref)
            if key in choice_values and isinstance(lit, str) and lit not in choice_values[key]:
                problems.append(f"{where}: {ref!r} has no choice {lit!r}; this condition never holds")
            if kinds.get(key) == "yes_no" and isinstance(lit, str):
                problems.append(f"{where}: {ref!r} is yes/no; compare with True/False, not {lit!r}")

    for s in proc.sections:
        first = min((order[f"{s.id}[].{f.id}" if s.repeat else f.id] for f in s.fields), default=0)
        check_expr(f"section {s.id}.relevant", s.relevant, before=first, group=None)
        if not s.fields:
            problems.append(f"section {s.id} has no fields")
        if s.repeat is not None:
            problems += _first_item_problems(s, known, fields, order)
        for f in s.fields:
            key = f"{s.id}[].{f.id}" if s.repeat else f.id
            where = f"field {key}"
            if f.id == MORE:
                problems.append(f"{where}: the id {MORE} is reserved")
            check_expr(f"{where}.relevant", f.relevant, before=order[key], group=s.id if s.repeat else None)
            for what, checks in (("constraints", f.constraints), ("doubts", f.doubts)):
                for k, c in enumerate(checks):
                    check_expr(f"{where}.{what}[{k}]", c.expr, before=order[key] + 1,
                               group=s.id if s.repeat else None, allow_value=True)
            for option in f.choices:
                for ref in option.same_as:
                    same = known(ref)
                    if same is None:
                        problems.append(f"{where}.choices[{option.value}].same_as: unknown field {ref!r}")
                    elif order[same] >= order[key]:
                        problems.append(f"{where}.choices[{option.value}].same_as: {ref!r} is asked later")
                if option.also_answers is not None:
                    later = known(option.also_answers.field)
                    if later is None or later != option.also_answers.field or s.repeat:
                        problems.append(f"{where}.choices[{option.value}].also_answers: unknown field "
                                        f"{option.also_answers.field!r} (or in a repeated section)")
                    elif kinds.get(later) != "text" or order[later] <= order[key]:
                        problems.append(f"{where}.choices[{option.value}].also_answers: {later!r} is not a text "
                                        f"question asked later")
            for ref in f.same_as:
                same = known(ref)
                if f.kind not in _SAME_AS_KINDS:
                    problems.append(f"{where}.same_as: only an address, a phone or a text question takes it "
                                    f"(options have their own)")
                elif same is None:
                    problems.append(f"{where}.same_as: unknown field {ref!r}")
                elif kinds.get(same) not in _SAME_AS_KINDS[f.kind] or same != ref:
                    problems.append(f"{where}.same_as: {ref!r} is not {_SAME_AS_WHAT[f.kind]} question")
                elif order[same] >= order[key]:
                    problems.append(f"{where}.same_as: {ref!r} is asked later")
            for attr in ("birth_date_field", "sex_field"):
                ref = getattr(f, attr)
                if ref and ref.startswith("item."):
                    if not s.repeat or f"{s.id}[].{ref[5:]}" not in order:
                        problems.append(f"{where}.{attr}: unknown item field {ref!r}")
                    continue
                if ref and known(ref) is None:
                    problems.append(f"{where}.{attr}: unknown field {ref!r}")
            for card_field, target in f.id_card.items():
                tkey = f"{s.id}[].{target}" if s.repeat else target
                hit = form.lookup(f"{s.id}[0].{target}" if s.repeat else target)
                if hit is None or hit[0].id != s.id:
                    problems.append(f"{where}.id_card.{card_field}: {target!r} is not a field of section {s.id}")
                elif order[tkey] <= order[key]:
                    problems.append(f"{where}.id_card.{card_field}: {target!r} comes before the card offer")
            if f.relevant and f.relevant.strip() in ("False", "None", "0"):
                problems.append(f"{where}: relevant is always false; the question can never be reached")
    for r in proc.eligibility:
        check_expr(f"eligibility {r.id}", r.ineligible_if, before=None, group=None)
    for leg in proc.legs:
        check_expr(f"leg {leg.id}.when", leg.when, before=None, group=None)
        for k, rule in enumerate(leg.days_rules):
            check_expr(f"leg {leg.id}.days_rules[{k}]", rule.when, before=None, group=None)
    for k, follow in enumerate(proc.follow_ups):
        check_expr(f"follow_ups[{k}].when", follow.when, before=None, group=None)
    check_expr("others_follow", proc.others_follow, before=None, group=None)
    if proc.legs and all(leg.when for leg in proc.legs):
        problems.append("legs: every leg is conditional; make at least one leg unconditional")
    problems += _check_law(proc, known, kinds)
    for ref in proc.applicant_name_fields:
        if known(ref) is None:
            problems.append(f"applicant_name_fields: unknown field {ref!r}")
    for ref in proc.subject.fields if proc.subject is not None else []:
        if known(ref) is None:
            problems.append(f"subject.fields: unknown field {ref!r}")
    for k, said in enumerate(proc.nlu.answers if proc.nlu is not None else []):
        kind = kinds.get(said.field) if known(said.field) == said.field else None
        if said.after:
            if kind != "date":
                problems.append(f"nlu.answers[{k}]: {said.field!r}: after reads only a date outside a repeat")
        elif kind not in ("yes_no", "choice"):
            problems.append(f"nlu.answers[{k}]: {said.field!r} is no yes/no or choice question outside a repeat")
        elif said.value is None and kind != "choice":
            problems.append(f"nlu.answers[{k}]: {said.field!r}: only a choice is answered by its options' words")
        elif said.value is not None and ((kind == "yes_no" and not isinstance(said.value, bool)) or
                                         (kind == "choice" and said.value not in choice_values.get(said.field, set()))):
            problems.append(f"nlu.answers[{k}]: {said.value!r} is no answer of {said.field!r}")
    return problems


# project notes, seed files and newspapers are not a legal basis (they belong in review_note)
_NOT_LAW_RE = re.compile(r"seeds/|reference/|\.md\b|\btheo báo\b|\bbáo [A-ZĐ]", re.IGNORECASE)
_OPTIONAL_SAID_RE = re.compile(r"không bắt buộc|bỏ qua", re.IGNORECASE)
_PLACEHOLDER_RE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _check_law(proc: Procedure, known: Callable[[str], str | None], kinds: Mapping[str, str]) -> list[str]:
    """Every dated fact has a legal source, a date field that is a date question, and placeholders that
    a standard defines (overlapping versions are refused when the definition is loaded)."""
    problems: list[str] = []
    for i, fct in enumerate(proc.facts):
        if not (fct.source or "").strip():
            problems.append(f"facts[{i}]: no legal source for {fct.text[:60]!r}")
        elif _NOT_LAW_RE.search(fct.source or ""):
            problems.append(f"facts[{i}]: the source shown to citizens must be the legal basis, not {fct.source!r}")
    for r in proc.eligibility:
        if not r.legal_ref.strip():
            problems.append(f"eligibility {r.id}: no legal reference")
    for leg in proc.legs:
        if not leg.legal_basis:
            problems.append(f"leg {leg.id}: no legal basis")
    for c in proc.clock:
        if not c.legal_ref.strip():
            problems.append("clock: no legal reference")
    shown = [(f"eligibility {r.id}", r.legal_ref) for r in proc.eligibility] + \
        [("clock", c.legal_ref) for c in proc.clock] + \
        [(f"leg {leg.id}.days_rules[{k}]", d.legal_ref or "")
         for leg in proc.legs for k, d in enumerate(leg.days_rules)] + \
        [(f"standards[{k}]", st.source) for k, st in enumerate(proc.standards)]
    for where, ref in shown:  # each is read by citizens (“Căn cứ: …”), as a fact's source is
        if _NOT_LAW_RE.search(ref):
            problems.append(f"{where}: the reference shown to citizens must be the legal basis, not {ref!r}")
    dated = [(f"facts[{i}]", f) for i, f in enumerate(proc.facts)] + \
        [(f"eligibility {r.id}", r) for r in proc.eligibility] + \
        [(f"leg {leg.id}", leg) for leg in proc.legs] + \
        [(f"leg {leg.id}.days_rules[{k}]", d) for leg in proc.legs for k, d in enumerate(leg.days_rules)]
    fields = [(where, d.date_field) for where, d in dated if d.date_field]
    if proc.standards_date:
        fields.append(("standards_date", proc.standards_date))
    for where, ref in fields:
        key = known(ref)
        if key is None:
            problems.append(f"{where}: date_field {ref!r} is not a question of this procedure")
        elif kinds.get(key) != "date":
            problems.append(f"{where}: date_field {ref!r} is not a date question")
    std_keys = set(proc.standards[0].values) if proc.standards else set()
    for s in proc.sections:
        for f in s.fields:
            for name in _PLACEHOLDER_RE.findall(f.prompt):
                if name not in std_keys:
                    problems.append(f"field {f.id}: placeholder {{{name}}} is not a standard's value")
            if _OPTIONAL_SAID_RE.search(f.prompt):  # an officer may ask for an optional answer: it is then required
                problems.append(f"field {f.id}: the prompt says it may be skipped; the bot adds that to an optional "
                                "question itself (required: false)")
    return problems
