"""What goes into and out of the dialog engine. Channels translate to and from these.

Everything a person sends is normalised when its ``Incoming`` is built, before anything parses it
(:func:`clean_text`): NUL and other control characters, lone surrogates, bidirectional overrides and
invisible characters are removed, the text is NFC, and it is cut at :data:`MAX_TEXT` characters (Telegram's own
limit), so no parser ever sees a megabyte, and whatever is stored can be stored and printed (PostgreSQL refuses
NUL; a lone surrogate cannot be encoded as UTF-8).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

# Navigation actions a channel may render as buttons; their choice values.
NAV_BACK, NAV_SKIP, NAV_HELP, NAV_CANCEL = "nav:back", "nav:skip", "nav:help", "nav:cancel"

MAX_TEXT = 4096     # characters of one message (Telegram's limit); the rest is cut before parsing
MAX_CHOICE = 256    # a choice value (callback data is at most 64 bytes; console/JSON lines are free)
MAX_NAME = 100      # a file name, kept only as a label

# C0/C1 controls except tab and newline, lone surrogates, bidi embeddings/overrides/isolates, zero-width
# space, word joiner, BOM. (ZWJ/ZWNJ stay: emoji sequences and some scripts need them.)
_STRIP = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069"
                    "\u200b\u2060\ufeff\u200e\u200f\u061c]")


def clean_text(value: Any, limit: int = MAX_TEXT) -> str | None:
    """Inbound text as the engine may see it (None stays None). Cheap on any length: the input is cut to a
    small multiple of ``limit`` before anything else runs."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = text[: limit * 2].replace("\r\n", "\n").replace("\r", "\n")
    text = _STRIP.sub("", text)
    return unicodedata.normalize("NFC", text)[:limit]


def clean_name(name: Any) -> str | None:
    """A file name as a label only: no folders, no control or direction characters, short. Files are stored
    and sent under names of our own (see storage.attachments.download_name)."""
    text = clean_text(name, 4 * MAX_NAME)
    if not text:
        return None
    text = text.replace("\\", "/").rsplit("/", 1)[-1].replace("\n", " ").replace("\t", " ").strip(" .")
    return text[-MAX_NAME:] or None


@dataclass(frozen=True)
class IncomingFile:
    data: bytes
    name: str | None = None
    mime: str | None = None  # what the channel claims; the engine sniffs the bytes anyway
    # the QR codes read from the photo (dialogs/qrscan.Scan), when the runtime read them off the event loop
    scan: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_name(self.name))
        object.__setattr__(self, "mime", clean_text(self.mime, 100))


@dataclass(frozen=True)
class Incoming:
    """One message from a person: typed text, a pressed choice value, or a file."""

    text: str | None = None
    choice: str | None = None
    file: IncomingFile | None = None
    files: tuple[IncomingFile, ...] = ()  # an album sent at once counts as one answer

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", clean_text(self.text))
        object.__setattr__(self, "choice", clean_text(self.choice, MAX_CHOICE))
        object.__setattr__(self, "files", tuple(self.files))


@dataclass(frozen=True)
class ChoiceOut:
    value: str
    label: str
    number: int | None = None  # the number a channel without buttons shows and takes (default: its place)


@dataclass(frozen=True)
class FileRef:
    """A file the bot sends (e.g. the filled official form): ``sha256`` names it in the attachment store, from
    which the channel reads it; ``name`` is what it is sent as. ``path`` (a local file) only in replies stored
    before files were named by digest."""

    name: str
    mime: str
    sha256: str | None = None
    path: str | None = None


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
            d["file"] = {k: v for k, v in asdict(self.file).items() if v is not None}
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
            "kind": self.kind, "choices": [{k: v for k, v in asdict(c).items() if v is not None}
                                           for c in self.choices],
            "optional": self.optional, "step": self.step,
        }


Reply = Message | Ask


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """A reply as JSON, whole (for a channel that keeps a committed turn's replies until they are sent): what
    ``dataclasses.asdict`` gives, written out (asdict's recursion and deep copies were a tenth of a menu turn's
    CPU on the runtime's side)."""
    if isinstance(reply, Ask):
        return {"text": reply.text, "procedure": reply.procedure, "field": reply.field, "kind": reply.kind,
                "choices": tuple({"value": c.value, "label": c.label, "number": c.number} for c in reply.choices),
                "optional": reply.optional, "step": reply.step, "step_no": reply.step_no,
                "step_total": reply.step_total, "nav": reply.nav, "multi": reply.multi, "photo": reply.photo,
                "type": reply.type}
    f = reply.file
    return {"text": reply.text, "error": reply.error, "dossier": reply.dossier,
            "file": None if f is None else {"name": f.name, "mime": f.mime, "sha256": f.sha256, "path": f.path},
            "type": reply.type}


def reply_from_json(data: dict[str, Any]) -> Reply:
    """The reply :func:`reply_to_json` wrote."""
    if data.get("type") == "ask":
        d = dict(data)
        d["choices"] = tuple(ChoiceOut(**c) for c in d.get("choices") or ())
        d["nav"] = tuple(d.get("nav") or ())
        return Ask(**d)
    d = dict(data)
    f = d.pop("file", None)
    if f and not f.get("sha256") and re.fullmatch(r"[0-9a-f]{64}", str(f.get("path") or "").rsplit("/", 1)[-1]):
        f = dict(f, sha256=str(f["path"]).rsplit("/", 1)[-1])  # stored before files were named by digest
    return Message(**d, file=FileRef(**f) if f else None)
