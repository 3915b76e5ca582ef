"""What goes into and out of the dialog engine. Channels translate to and from these."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Navigation actions a channel may render as buttons; their choice values.
NAV_BACK, NAV_SKIP, NAV_HELP, NAV_CANCEL = "nav:back", "nav:skip", "nav:help", "nav:cancel"


@dataclass(frozen=True)
class IncomingFile:
    data: bytes
    name: str | None = None
    mime: str | None = None  # what the channel claims; the engine sniffs the bytes anyway
    # the QR codes read from the photo (dialogs/qrscan.Scan), when the runtime read them off the event loop
    scan: Any = None


@dataclass(frozen=True)
class Incoming:
    """One message from a person: typed text, a pressed choice value, or a file."""

    text: str | None = None
    choice: str | None = None
    file: IncomingFile | None = None
    files: tuple[IncomingFile, ...] = ()  # an album sent at once counts as one answer


@dataclass(frozen=True)
class ChoiceOut:
    value: str
    label: str


@dataclass(frozen=True)
class FileRef:
    """A file the bot sends (e.g. the filled official form); ``path`` is in the attachment store."""

    path: str
    name: str
    mime: str


@dataclass(frozen=True)
class Message:
    text: str
    error: bool = False
    dossier: str | None = None
    file: FileRef | None = None
    type: str = "message"

    def to_dict(self) -> dict[str, Any]:
        d = {"type": "message", "text": self.text, "error": self.error, "dossier": self.dossier}
        if self.file is not None:
            d["file"] = {"path": self.file.path, "name": self.file.name, "mime": self.file.mime}
        return d


@dataclass(frozen=True)
class Ask:
    """The one question that ends every turn."""

    text: str
    procedure: str | None
    field: str
    kind: str
    choices: tuple[ChoiceOut, ...] = ()
    optional: bool = False
    step: str | None = None
    step_no: int | None = None
    step_total: int | None = None
    nav: tuple[str, ...] = ()  # which of NAV_* apply now
    multi: bool = False
    photo: bool = False  # a photo of an ID card is also an answer here (the card offer of a person block)
    type: str = "ask"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "ask", "text": self.text, "procedure": self.procedure, "field": self.field,
            "kind": self.kind, "choices": [asdict(c) for c in self.choices],
            "optional": self.optional, "step": self.step,
        }


Reply = Message | Ask


@dataclass
class SubmitRequest:
    """Asked of the runtime when the citizen swears to the declaration."""

    procedure: str
    procedure_version: int
    draft_id: str
    answers: dict[str, Any]
    applicant_name: str | None
    lang: str


@dataclass
class SupplementSubmit:
    """The citizen finished answering an officer's supplement request."""

    request_id: int
    code: str
    answers: dict[str, Any]


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)  # sha256 -> bytes to store
    submit: SubmitRequest | None = None
    accepted: bool = False  # an answer was accepted (the state must be saved)
    # Requests to the runtime, which has the database (the engine has none):
    list_dossiers: bool = False            # "/hoso": insert the citizen's dossier list before the last question
    open_supplement: int | bool = False    # "bổ sung": load this (or the first) open supplement request
    supplement: SupplementSubmit | None = None
    rating: tuple[str | None, int] | None = None  # (dossier code or None for the latest closed one, stars)
    withdraw: str | None = None  # the citizen confirmed withdrawing this dossier
    follow: tuple[str, str] | None = None  # (dossier code, last 4 digits of the applicant's ID): /theodoi
