"""Sub-dialogs: what a conversation is in the middle of, besides its macro-state.

A session's ``pending`` is one of these typed values (or None): a short dialog the next message
answers first, such as a confirmation, a list of edit choices or the province/commune steps of an
address. Each class has a ``kind`` discriminator and is stored as a plain JSON object
``{"kind": ..., field: value, ...}`` — the same shape the sessions stored in the database have always
had, so old sessions load unchanged (``from_data``).

Field kinds with a multi-turn answer (dialogs/kinds/) define their own sub-dialog next to their
handling and register it here with ``@register``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

REGISTRY: dict[str, type[Pending]] = {}
P = TypeVar("P", bound="type[Pending]")


def register(cls: P) -> P:
    """Class decorator: make a sub-dialog loadable from its stored ``kind``."""
    for kind in cls.kinds:
        REGISTRY[kind] = cls
    return cls


@dataclass
class Pending:
    """Base class. ``path`` is the question the sub-dialog is about, when it is about one."""

    kinds: ClassVar[tuple[str, ...]] = ()

    @property
    def kind(self) -> str:
        return self.kinds[0]

    @property
    def about(self) -> str | None:
        """The field path this sub-dialog keeps the cursor on, if any."""
        return getattr(self, "path", None)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.metadata.get("omit_none"):
                continue
            data[f.name] = to_data(value) if isinstance(value, Pending) else _plain(value)
        return data

    @classmethod
    def load(cls, data: dict[str, Any]) -> Pending:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        if "resume" in kwargs:
            kwargs["resume"] = from_data(kwargs["resume"])
        return cls(**kwargs)


def _plain(value: Any) -> Any:
    """Lists and dicts copied, so the stored JSON never shares objects with the live dialog."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def optional(default: Any = None) -> Any:
    """A field left out of the stored JSON while it is None (as the old dicts did)."""
    return field(default=default, metadata={"omit_none": True})


def to_data(pending: Pending | None) -> dict[str, Any] | None:
    return pending.to_data() if pending is not None else None


def from_data(data: Any) -> Pending | None:
    """A stored sub-dialog (a dict, or an already typed value); None for nothing or an unknown kind."""
    if data is None or isinstance(data, Pending):
        return data
    if not isinstance(data, dict):
        return None
    cls = REGISTRY.get(str(data.get("kind")))
    if cls is None:
        return None
    try:
        pending = cls.load(data)
    except (TypeError, ValueError):
        return None
    return pending


# --------------------------------------------------------------------------------------------
# the engine's own sub-dialogs


@register
@dataclass
class Confirm(Pending):
    """The one yes/no confirmation: cancel the draft, withdraw a dossier (and, without being stored,
    the sworn statement). Stored as ``{"kind": purpose, ...}``; ``resume`` is the sub-dialog it
    interrupted, restored afterwards."""

    kinds: ClassVar[tuple[str, ...]] = ("cancel", "withdraw", "sworn")
    purpose: str = "cancel"
    code: str | None = optional()  # withdraw: the dossier
    typed: str | None = optional()  # cancel: “Huỷ” typed as an answer (a name) is offered as one
    resume: Pending | None = None

    @property
    def kind(self) -> str:
        return self.purpose

    def to_data(self) -> dict[str, Any]:
        data = super().to_data()
        data.pop("purpose")
        return data

    @classmethod
    def load(cls, data: dict[str, Any]) -> Pending:
        return cls(purpose=data["kind"], code=data.get("code"), typed=data.get("typed"),
                   resume=from_data(data.get("resume")))


@register
@dataclass
class RatingPick(Pending):
    """“đánh giá” typed without stars: how many (1–5) for the dossier ``code`` (None: the latest closed one).
    ``resume`` is the sub-dialog it interrupted, restored afterwards."""

    kinds: ClassVar[tuple[str, ...]] = ("rating_pick",)
    code: str | None = optional()
    resume: Pending | None = None


@register
@dataclass
class NameConfirm(Pending):
    """A name (of a person, or of a place) typed without diacritics: the usual spelling was proposed."""

    kinds: ClassVar[tuple[str, ...]] = ("name_confirm",)
    path: str = ""
    proposal: str = ""  # empty: no spelling could be proposed, the citizen is asked to type it with diacritics
    typed: str = ""
    early: str | None = optional()  # the next answer, typed before choosing
    later: list[str] | None = optional()  # the answers after it, typed before choosing too (at most 4)
    others: list[str] | None = optional()  # further likely spellings (“Thu” / “Thư”)
    place: bool | None = optional()  # a place ("xa hai hau, nam dinh"), not a person's name
    short: bool | None = optional()  # a full name of one word (“co”, typed by habit): asked to type it in full
    unlisted: str | None = optional()  # the list (``spelling:``) that does not have the answer: asked to retype
    place_like: bool | None = optional()  # a place (“ha tinh”, “xa thach ha”): asked to type the person's name

    def options(self) -> list[tuple[str, str]]:
        """(choice value, spelling) of every proposed spelling, best first."""
        return ([("proposal", self.proposal)] if self.proposal else []) + \
            [(f"alt{i}", o) for i, o in enumerate(self.others or [])]

    def option(self, value: str) -> str:
        return dict(self.options()).get(value, self.typed)


DOUBT_KEEP = "doubt:keep"  # the button that keeps an unusual answer (``Doubted``)


@register
@dataclass
class Doubted(Pending):
    """An answer that passes the field's checks but is unusual (``doubts``: a dead person's birth date less than a
    year ago, most likely the date of death typed early): said so, and taken only when confirmed, by the button, a
    “đúng”, or the same answer typed again."""

    kinds: ClassVar[tuple[str, ...]] = ("doubted",)
    path: str = ""
    typed: str = ""  # the answer as typed, read again when confirmed
    shown: str = ""  # as the question's button shows it


@register
@dataclass
class MenuCandidates(Pending):
    """A short list of procedures offered from the menu; its numbers are what the citizen sees."""

    kinds: ClassVar[tuple[str, ...]] = ("menu_candidates",)
    ids: list[str] = field(default_factory=list)
    request: str | None = optional()  # the words that asked: they may answer the first questions of the one picked
    carried: str | None = optional()  # the dossier just submitted whose answers began the draft of the one offered


@register
@dataclass
class SwitchOffer(Pending):
    """An answer that was refused named another procedure of the catalogue: go there (the draft is kept), or
    stay at the question ``path``."""

    kinds: ClassVar[tuple[str, ...]] = ("switch_offer",)
    path: str = ""
    procedure: str = ""
    resume: Pending | None = optional()  # the sub-dialog the question was in (a revisit, an address half typed)


@register
@dataclass
class Revisit(Pending):
    """A question asked again (after “quay lại” or an edit), out of the cursor's order."""

    kinds: ClassVar[tuple[str, ...]] = ("revisit",)
    path: str = ""


@register
@dataclass
class EditSection(Pending):
    """The review's “which part to edit?” list."""

    kinds: ClassVar[tuple[str, ...]] = ("edit_section",)
    options: list[str] = field(default_factory=list)


@register
@dataclass
class EditField(Pending):
    """The review's “which item of this part?” list."""

    kinds: ClassVar[tuple[str, ...]] = ("edit_field",)
    section: str | None = None
    options: list[str] = field(default_factory=list)


@register
@dataclass
class RemoveItem(Pending):
    """The review's “take this member out of the dossier?” about ``item``, a repeat group's (“members[2]”)."""

    kinds: ClassVar[tuple[str, ...]] = ("remove_item",)
    item: str = ""


@register
@dataclass
class Ineligible(Pending):
    """The case was found ineligible by this rule; the citizen may fix an answer."""

    kinds: ClassVar[tuple[str, ...]] = ("ineligible",)
    rule: str = ""


@register
@dataclass
class SupplementReview(Pending):
    """A supplement's answers are shown; send them or answer again."""

    kinds: ClassVar[tuple[str, ...]] = ("supplement_review",)
