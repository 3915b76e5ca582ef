"""The form PDF's fonts, cut and parsed once per process.

fpdf2 parses a TrueType file with fontTools on every ``add_font`` (about half of a render with the five
DejaVu files) and subsets it again on every ``output`` (about a third). fpdf2 has no public way to share a
parsed font between documents, so this module does it with its public types:

1. each shipped font is cut once per process (fontTools ``subset``) to the characters a form can hold:
   Latin with Vietnamese, Greek, Cyrillic, punctuation, currency, arrows and the box symbols (☐ ☒), kept in
   memory; the cut fonts are a fraction of the 2.5 MB of the originals, so fpdf2's own subsetting at output
   has much less to walk;
2. each cut font is parsed once into an fpdf2 ``TTFFont`` (metrics, cmap, glyph ids) and every new document
   gets a shallow copy of it with what one document changes made its own: the glyph subset, the missing
   glyphs, the font descriptor (which output numbers) and a fontTools object read lazily from the cut
   bytes (output subsets it in place).

A text with a character outside the cut repertoire (:func:`covers` says so) is laid out with the full fonts
through ``add_font``, as before: slower, never wrong. One document is laid out by one thread at a time, as
fpdf2 itself requires.
"""
from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

FONTS_DIR = Path(__file__).parent / "fonts"
FONT_FILES = {
    ("serif", ""): "DejaVuSerif.ttf",
    ("serif", "B"): "DejaVuSerif-Bold.ttf",
    ("serif", "I"): "DejaVuSerif-Italic.ttf",
    ("sans", ""): "DejaVuSans.ttf",
    ("sans", "B"): "DejaVuSans-Bold.ttf",
}

#: Unicode blocks kept in the cut fonts (inclusive ranges).
REPERTOIRE_RANGES = (
    (0x0000, 0x024F),  # Basic Latin, Latin-1, Latin Extended-A and -B
    (0x0250, 0x02FF),  # IPA extensions, spacing modifier letters
    (0x0300, 0x036F),  # combining diacritical marks (a decomposed Vietnamese answer)
    (0x0370, 0x052F),  # Greek, Cyrillic
    (0x1E00, 0x1EFF),  # Latin Extended Additional: the precomposed Vietnamese letters
    (0x2000, 0x206F),  # general punctuation (– — “ ” … •)
    (0x20A0, 0x20CF),  # currency (₫)
    (0x2100, 0x214F),  # letterlike symbols (№)
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators
    (0x2500, 0x25FF),  # box drawing, block elements, geometric shapes
    (0x2600, 0x27BF),  # miscellaneous symbols (☐ ☑ ☒), dingbats (✓ ✔)
    (0xFB00, 0xFB06),  # Latin ligatures
)
_LOCK = threading.Lock()


def covers(chars: Iterable[str]) -> bool:
    """Whether every character is in the cut fonts' repertoire."""
    for ch in chars:
        cp = ord(ch)
        if not any(lo <= cp <= hi for lo, hi in REPERTOIRE_RANGES):
            return False
    return True


@cache
def cut_font(name: str) -> bytes:
    """The shipped font ``name`` cut to the repertoire (TrueType bytes), once per process."""
    from fontTools import subset, ttLib

    font = ttLib.TTFont(str(FONTS_DIR / name), recalcTimestamp=False)
    options = subset.Options()
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.glyph_names = True  # fpdf2 subsets by glyph name at output
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    # fpdf2 drops the layout tables at output (no text shaping here) and a PDF viewer does not hint: cut them
    # now rather than on every render
    options.layout_features = []
    options.drop_tables += ["FFTM", "GSUB", "GPOS", "GDEF", "kern"]
    options.hinting = False
    sub = subset.Subsetter(options)
    sub.populate(unicodes=[cp for lo, hi in REPERTOIRE_RANGES for cp in range(lo, hi + 1)])
    sub.subset(font)
    buf = BytesIO()
    font.save(buf)
    return buf.getvalue()


@cache
def _parsed(family: str, style: str) -> Any:
    """The fpdf2 ``TTFFont`` of one cut font, parsed once per process (a template: never used in a document)."""
    from fpdf import FPDF
    from fpdf.fonts import TTFFont

    data = cut_font(FONT_FILES[(family, style)])
    return TTFFont(FPDF(), BytesIO(data), f"{family}{style}", style)  # type: ignore[arg-type]


def add_cached_fonts(pdf: Any) -> None:
    """Give the fpdf2 document ``pdf`` the shipped fonts, from the parsed cut fonts (the same families and
    styles as ``add_font`` with :data:`FONT_FILES`)."""
    from fontTools import ttLib
    from fpdf.fonts import SubsetMap

    for (family, style), name in FONT_FILES.items():
        with _LOCK:  # the first call parses; later ones only copy
            proto = _parsed(family, style)
        font = copy.copy(proto)
        font.i = len(pdf.fonts) + 1
        font.ttfont = ttLib.TTFont(BytesIO(cut_font(name)), recalcTimestamp=False, lazy=True)
        font.desc = copy.copy(proto.desc)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font.subset = SubsetMap(font)
        pdf.fonts[f"{family}{style}"] = font


def add_full_fonts(pdf: Any) -> None:
    """The shipped fonts, parsed from the files (for a text outside the cut repertoire)."""
    for (family, style), name in FONT_FILES.items():
        pdf.add_font(family, style, str(FONTS_DIR / name))
