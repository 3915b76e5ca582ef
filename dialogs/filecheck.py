"""What a citizen's file really is, from its bytes: its type, and whether it is safe to pass to an officer.

An upload reaches officers' phones and desks, so the name and type the sender claims count for nothing:

* the type is sniffed from the first bytes, at offset 0 only (``%PDF-`` anywhere in the first kilobyte
  made an HTML page, an SVG or a Windows program "a PDF");
* the structure must be real: a PDF parses (pypdf) and has at least one page; an image decodes (Pillow), with
  its dimensions bounded before any pixel is decoded (a 60000×60000 PNG of a few kilobytes is a
  decompression bomb); a HEIC photo has a well-formed ISO-BMFF box structure;
* files that are two things at once are refused: markup (HTML, SVG, XML, script) or an archive directory
  (ZIP, JAR, Office files) found inside an image or a PDF, and PDFs with JavaScript, automatic actions,
  launch actions, embedded files or forms that run code (XFA);
* SVG and HTML are refused outright (they are documents that run scripts in a browser).

:func:`inspect` raises :class:`FileProblem` with one of the codes below; ``dialogs.parsing.check_attachment``
turns the code into a plain Vietnamese message. Everything here is pure: bytes in, a verdict out.
"""
from __future__ import annotations

import io
import re
import struct
import warnings
from typing import Any

__all__ = ["EXTENSIONS", "MAX_PIXELS", "MAX_SIDE", "FileProblem", "inspect", "sniff"]

MAX_PIXELS = 80_000_000   # width × height; a 64 MP phone photo passes, a pixel bomb does not
MAX_SIDE = 20_000         # either side, in pixels

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
              "image/heic": "heic", "application/pdf": "pdf"}

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})

# Markup or script that a browser (or an officer's viewer) would run, found anywhere in a file that claims to
# be an image or a PDF: a polyglot.
_MARKUP = re.compile(rb"<\s*(?:script|html|svg|iframe|object|embed|body|!doctype\s+html)\b|javascript:",
                     re.IGNORECASE)
# The end-of-central-directory record of a ZIP archive (also JAR, DOCX, APK): readers look for it at the end,
# whatever comes before.
_ZIP_END = b"PK\x05\x06"
_ZIP_LOCAL = b"PK\x03\x04"
# PDF names that make a reader run something, or that carry other files. "#xx" escapes are decoded first.
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|SubmitForm|ImportData|GoToE)"
                         rb"(?![A-Za-z0-9])")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


class FileProblem(ValueError):
    """Why a file is refused: ``code`` is one of ``markup``, ``polyglot``, ``damaged``, ``too_many_pixels``,
    ``pdf_active``, ``pdf_encrypted``, ``unknown``."""

    def __init__(self, code: str, **params: int):
        super().__init__(code)
        self.code = code
        self.params = params


def sniff(data: bytes) -> str | None:
    """The type the first bytes announce (offset 0 only), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "image/heic"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def looks_like_markup(data: bytes) -> bool:
    """An SVG, HTML or XML document (after a byte-order mark and blanks)."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    return bool(re.match(rb"<(?:\?xml|svg|!doctype|html|head|body|script|!--)", head, re.IGNORECASE))


def inspect(data: bytes, mime: str) -> None:
    """Raise :class:`FileProblem` unless ``data`` is a well-formed, single-purpose file of type ``mime``
    (as returned by :func:`sniff`)."""
    if _MARKUP.search(data):
        raise FileProblem("markup")
    if _ZIP_END in data or (mime != "application/pdf" and _ZIP_LOCAL in data):
        raise FileProblem("polyglot")
    if mime == "application/pdf":
        _check_pdf(data)
    elif mime == "image/heic":
        _check_bmff(data)
    elif mime.startswith("image/"):
        _check_image(data, mime)
    else:
        raise FileProblem("unknown")


# -- images ----------------------------------------------------------------------------------------
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}


def _check_image(data: bytes, mime: str) -> None:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[mime]]) as img:
                w, h = img.size  # from the header: nothing decoded yet
                if w <= 0 or h <= 0:
                    raise FileProblem("damaged")
                if w > MAX_SIDE or h > MAX_SIDE or w * h > MAX_PIXELS:
                    raise FileProblem("too_many_pixels", width=w, height=h)
                if mime == "image/jpeg":
                    # decode at 1/8 scale: cheap, but reads the whole compressed stream
                    img.draft("RGB", (max(1, w // 8), max(1, h // 8)))
                    img.load()
                else:
                    img.verify()  # chunk structure and checksums, without decoding the pixels
    except FileProblem:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FileProblem("too_many_pixels", width=0, height=0) from None
    except Exception:
        raise FileProblem("damaged") from None
    # trailing data after the image's end is where polyglots hide (a ZIP or a script after the JPEG)
    if mime == "image/jpeg":
        end = data.rfind(b"\xff\xd9")
        if end < 0 or len(data) - (end + 2) > 1024:
            raise FileProblem("polyglot")
    elif mime == "image/png":
        end = data.rfind(b"IEND")
        if end < 0 or len(data) - (end + 8) > 16:
            raise FileProblem("polyglot")


def _check_bmff(data: bytes) -> None:
    """HEIC: top-level boxes that tile the file exactly, with an ``ftyp`` first and a ``meta`` box."""
    pos, kinds = 0, []
    while pos < len(data):
        if len(data) - pos < 8:
            raise FileProblem("damaged")
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if size == 1:
            if len(data) - pos < 16:
                raise FileProblem("damaged")
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        if size < 8 or pos + size > len(data):
            raise FileProblem("damaged")
        kinds.append(kind)
        pos += size
        if len(kinds) > 1000:
            raise FileProblem("damaged")
    if not kinds or kinds[0] != b"ftyp" or b"meta" not in kinds:
        raise FileProblem("damaged")


# -- PDF -------------------------------------------------------------------------------------------
def _check_pdf(data: bytes) -> None:
    tail = data[-2048:]
    if b"%%EOF" not in tail:
        raise FileProblem("damaged")
    names = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)
    if _PDF_ACTIVE.search(names):
        raise FileProblem("pdf_active")
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError
    from pypdf.generic import DictionaryObject

    pdf_log = logging.getLogger("pypdf")
    level = pdf_log.level
    pdf_log.setLevel(logging.ERROR)  # pypdf warns about the repairs it makes, quoting the file's bytes
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise FileProblem("pdf_encrypted")
            if len(reader.pages) < 1:
                raise FileProblem("damaged")
            root = reader.trailer["/Root"].get_object()
            if not isinstance(root, DictionaryObject):  # as the AttributeError below would say
                raise FileProblem("damaged")
            names_ref = root.get("/Names")  # pypdf objects are loosely typed
            names_tree: Any = names_ref.get_object() if names_ref is not None else {}
            if any(k in root for k in ("/OpenAction", "/AA", "/AcroForm")) and _active_form(root):
                raise FileProblem("pdf_active")
            if any(k in names_tree for k in ("/JavaScript", "/EmbeddedFiles")):
                raise FileProblem("pdf_active")
            # objects inside compressed object streams are only visible once parsed
            for page in reader.pages:
                if "/AA" in page:
                    raise FileProblem("pdf_active")
                for annot in page.get("/Annots") or []:
                    a = annot.get_object()
                    action = a.get("/A")
                    action = action.get_object() if action is not None else {}
                    if a.get("/Subtype") in ("/FileAttachment", "/RichMedia", "/Screen", "/Movie") or \
                            action.get("/S") in ("/JavaScript", "/Launch", "/SubmitForm", "/ImportData",
                                                 "/GoToE", "/Rendition"):
                        raise FileProblem("pdf_active")
    except FileProblem:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            OSError, struct.error):
        raise FileProblem("damaged") from None
    finally:
        pdf_log.setLevel(level)


def _active_form(root) -> bool:
    if "/OpenAction" in root:
        action = root["/OpenAction"]
        action = action.get_object() if hasattr(action, "get_object") else action
        if isinstance(action, dict) and action.get("/S") not in (None, "/GoTo"):
            return True
    if "/AA" in root:
        return True
    form = root.get("/AcroForm")
    form = form.get_object() if form is not None else {}
    return "/XFA" in form
