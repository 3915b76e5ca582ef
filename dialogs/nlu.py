"""Understanding what citizens type: intents, info questions, language, names.

Why one module of this size: the matcher, its normalisation (teen code, dialect, English glossary) and
the scoring are one model and are evaluated together (`python -m dialogs.nlu eval`); the procedures'
own phrases live in their YAML.

Citizens type on phones, often without a Vietnamese keyboard, in chat
shorthand ("ko", "dc", "j", "bn", "ntn"), with dialect ("hông", "dzậy",
"ổng"), typos ("kai sinh", "mai tangg"), Telex left-overs when the input
method is off ("ddawng kys khai tuwr"), and in long rambling messages.  This
module turns that into decisions the engine can act on.  Everything is pure,
deterministic and fast: no network, no model, no I/O (the catalogue is
passed in).

* :func:`normalise` — folded ASCII text with chat shorthand and dialect
  expanded, repeated letters collapsed, punctuation and emoji removed.
* :func:`match_procedures` — procedures ranked by a BM25-style score over
  words and word pairs of each definition's title, short description,
  keywords and weighted life-event phrases (its YAML ``nlu.phrases``),
  with typo correction against the catalogue vocabulary; scores in [0, 1].
* :func:`decide` — one confident procedure, or the 2–3 closest to offer.
* :func:`detect_info_question` — "cần giấy tờ gì?", "mất bao lâu?"… → which
  part of the info card to show.
* :func:`detect_language_switch` — "/ngonngu", "english", "tiếng việt"…
* :func:`restore_diacritics_name` — "tran thi thu huong" → "Trần Thị Thu Hương"
  (a proposal for the citizen to confirm).
* :func:`evaluate` / ``python -m dialogs.nlu eval`` — accuracy on the
  labelled set ``tests/nlu/utterances.tsv``.

The synonym table is keyed by procedure id and is used only for ids present
in the catalogue, so procedures still being written start to match as soon
as their YAML lands.
"""
from __future__ import annotations

import itertools
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .textnorm import fold, fold_words, nfc, without_polite_end

__all__ = [
    "INFO_CATEGORIES",
    "Decision",
    "EvalReport",
    "ProcedureStub",
    "decide",
    "detect_info_question",
    "detect_language_switch",
    "eval_catalog",
    "evaluate",
    "is_person_name",
    "match_procedures",
    "normalise",
    "restore_diacritics_name",
    "switch_to",
    "valid_syllable",
]

# ==========================================================================
# Normalisation
# ==========================================================================

# Whole tokens typed *with* diacritics that mean something else in chat or
# dialect.  Matched on NFC lower-case text before folding, so that "hỏng"
# (broken) is not taken for "hông" (không).
_RAW_TOKENS: dict[str, str] = {
    "hông": "khong", "hổng": "khong", "hơm": "khong", "hăm": "khong", "hôg": "khong", "khôg": "khong",
    "khum": "khong", "hem": "khong", "hok": "khong",
    "dzậy": "vay", "zậy": "vay", "dậy": "vay",  # "sao dậy": Southern spelling of vậy
    "dzạ": "da", "zạ": "da", "dzạa": "da",
    "ổng": "ong ay", "bả": "ba ay", "ỗng": "ong ay",
    "mần": "lam", "hổm": "hom", "bữa": "hom", "bển": "ben do", "chừng": "khi",
    "ô": "ong", "tía": "bo", "má": "me", "mạ": "me", "bầm": "me",
    "rứa": "the", "mô": "dau", "chừ": "gio", "tề": "kia",
    "sanh": "sinh", "đẻ": "sinh", "vô": "vao", "dzô": "vao", "zô": "vao",
    "nhiêu": "nhieu", "mún": "muon", "bít": "biet",
}  # fmt: skip
# "dậy" is also "to get up"; in a message to a public-service bot it is far more
# often the Southern spelling of "vậy".

# Folded shorthand / teen-code.  Context-dependent words are handled in
# :func:`_expand` ("hong", "hum", "dk", "a", "kt").
_ABBREV: dict[str, str] = {
    # negation
    "ko": "khong", "k": "khong", "kh": "khong", "khg": "khong", "kg": "khong", "hok": "khong",
    "hk": "khong", "hem": "khong", "khum": "khong", "hog": "khong", "hg": "khong",
    "khog": "khong", "khoq": "khong", "kp": "khong phai", "kph": "khong phai",
    # được / đăng ký
    "dc": "duoc", "dx": "duoc", "dcj": "duoc gi",
    "dky": "dang ky", "dki": "dang ky", "dangky": "dang ky", "dangki": "dang ky", "ki": "ky",
    # question words
    "j": "gi", "ji": "gi", "gj": "gi", "z": "vay", "v": "vay", "dz": "vay", "dzay": "vay", "zay": "vay",
    "zi": "gi", "ntn": "nhu the nao", "ntnao": "nhu the nao", "lsao": "lam sao", "lm": "lam",
    "bn": "bao nhieu", "bnh": "bao nhieu", "bnhiu": "bao nhieu", "bnhieu": "bao nhieu",
    "baonhieu": "bao nhieu", "nhiu": "nhieu",
    "baolau": "bao lau", "bgio": "bao gio", "bh": "bao hiem", "bjo": "bao gio",
    # papers / procedures
    "gt": "giay to", "giayto": "giay to", "gto": "giay to", "tt": "thu tuc", "ttuc": "thu tuc",
    "thutuc": "thu tuc", "hs": "ho so", "hso": "ho so", "hoso": "ho so",
    "bhxh": "bao hiem xa hoi", "bhyt": "bao hiem y te", "byt": "bao hiem y te", "bhyte": "bao hiem y te",
    "cccd": "can cuoc cong dan", "cmnd": "chung minh nhan dan", "cmt": "chung minh nhan dan",
    "cc": "can cuoc", "stk": "so tai khoan", "tk": "tai khoan", "tkhoan": "tai khoan",
    "nh": "ngan hang", "nhang": "ngan hang", "sdt": "so dien thoai", "dt": "dien thoai",
    "ubnd": "uy ban nhan dan", "ub": "uy ban", "ubx": "uy ban xa", "xh": "xa hoi", "tb": "trung binh",
    "xd": "xac dinh", "xn": "xac nhan", "gks": "giay khai sinh", "ks": "khai sinh", "sanh": "sinh",
    "tbxh": "thuong binh xa hoi", "ldtbxh": "lao dong thuong binh xa hoi", "ncc": "nguoi co cong",
    "hcm": "ho chi minh", "tp": "thanh pho", "ng": "nguoi", "ngta": "nguoi ta",
    # pronouns and people
    "e": "em", "mk": "minh", "mik": "minh", "mh": "minh", "mjk": "minh", "tui": "toi", "t": "toi",
    "ck": "chong", "vk": "vo", "ox": "chong", "bx": "vo", "ny": "nguoi yeu", "mn": "moi nguoi",
    "ad": "admin", "b": "ban",
    # particles and common words
    "vs": "voi", "r": "roi", "rui": "roi", "ruj": "roi", "oy": "roi", "cx": "cung", "cg": "cung",
    "wa": "qua", "ns": "noi", "bit": "biet", "bik": "biet", "bjt": "biet", "mun": "muon",
    "thui": "thoi", "hnay": "hom nay", "hqua": "hom qua", "hkia": "hom kia",
    "ak": "a", "ah": "a", "uh": "u", "uk": "u", "ukm": "u", "um": "u", "oki": "ok", "oke": "ok",
    "okie": "ok", "okla": "ok", "okela": "ok", "tks": "cam on", "thanks": "cam on", "thank": "cam on",
    "thx": "cam on", "camon": "cam on", "cmon": "cam on", "hc": "hoc",
    "dzui": "vui", "zui": "vui", "ctr": "chuong trinh",
}  # fmt: skip

# Letters that never repeat inside a folded Vietnamese syllable, except "uu"
# ("cứu", "hưu", "ưu") and "oo" ("xoong").
_REPEAT3 = re.compile(r"([a-z])\1{2,}")
_REPEAT2 = re.compile(r"([abcdefghijklmnpqrstvwxyz])\1")
_NON_WORD = re.compile(r"[^\w]+|_")
_DIGIT_ALPHA = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")

# A folded Vietnamese syllable: onset, vowels, final consonant.
_SYLLABLE = re.compile(
    r"(ngh|ng|gh|gi|kh|ph|th|tr|ch|nh|qu|[bcdghklmnprstvx])?([aeiouy]{1,3})(ch|nh|ng|[cmnpt])?"
)


def valid_syllable(tok: str) -> bool:
    """Whether a folded token can be a Vietnamese syllable ("khai" yes, "kai"/"tangg" no)."""
    m = _SYLLABLE.fullmatch(tok)
    if m is None:
        return False
    onset, vowels, final = m.groups()
    if onset in ("k", "gh", "ngh") and vowels[0] not in "eiy":
        return False
    if onset in ("c", "ng") and vowels[0] in "eiy":
        return False
    if re.search(r"(aa|ee|ii|yy)", vowels):
        return False
    return not (final in ("ch", "nh") and vowels[-1] not in "aeiy")


_TELEX_TONES = "sfrxj"


def _telex_decode(tok: str) -> str | None:
    """Undo Telex keystrokes typed with the input method off ("ddawng" → "dang")."""
    if not tok.isascii() or not tok.isalpha():
        return None
    out = tok
    if out[-1] in _TELEX_TONES and len(out) > 1:
        out = out[:-1]
    out = out.replace("dd", "d").replace("aw", "a").replace("aa", "a").replace("ee", "e")
    out = out.replace("oo", "o").replace("ow", "o").replace("uw", "u").replace("w", "u")
    for tone in _TELEX_TONES:  # a tone key typed inside the word ("tuwrr", "khais")
        if tone in out[1:] and not valid_syllable(out):
            cand = out[0] + out[1:].replace(tone, "")
            if valid_syllable(cand):
                out = cand
    if out != tok and valid_syllable(out):
        return out
    return None


def _fix_token(tok: str) -> str:
    """Spelling-level fixes for one folded token (no context)."""
    if tok in _ABBREV or tok.isdigit():
        return tok
    if valid_syllable(tok):
        return tok
    collapsed = _REPEAT3.sub(r"\1", tok)
    collapsed = _REPEAT2.sub(r"\1", collapsed)
    if collapsed != tok and (valid_syllable(collapsed) or collapsed in _ABBREV):
        return collapsed
    # teen-code spellings: f→ph, j→gi, w→qu, dz/z→v
    for old, new in (("f", "ph"), ("j", "gi"), ("w", "qu"), ("dz", "v"), ("z", "v")):
        if collapsed.startswith(old):
            cand = new + collapsed[len(old):]
            if valid_syllable(cand):
                return cand
    decoded = _telex_decode(tok)
    if decoded is not None:
        return decoded
    return collapsed


_KEEP_HONG_AFTER = frozenset({"bi", "hu", "da", "so", "mau", "hoa", "lam", "de", "hay", "xe", "may", "dien"})
_DK_AS_DUOC_BEFORE = frozenset({"", "khong", "ko", "k", "ha", "a", "ak", "nhe", "nha", "chua", "roi", "hong"})
_KT_AFTER = frozenset({"giay", "do", "nguoi", "muc", "bi", "tro", "cap", "dang"})


def _expand(tokens: list[str]) -> list[str]:
    """Context-dependent shorthand ("hong", "hum", "dk", "a", "kt")."""
    out: list[str] = []
    n = len(tokens)
    for i, tok in enumerate(tokens):
        prev = tokens[i - 1] if i else ""
        nxt = tokens[i + 1] if i + 1 < n else ""
        if tok == "hong":
            out.append("hong" if prev in _KEEP_HONG_AFTER else "khong")
        elif tok == "hum":
            out.append("hom" if nxt in ("qua", "nay", "kia", "truoc", "bua") else "khong")
        elif tok == "dk":
            out.append("duoc" if nxt in _DK_AS_DUOC_BEFORE or prev in ("khong", "ko", "k", "co") else "dang ky")
        elif tok == "a":
            out.append("anh" if nxt and nxt not in ("a", "oi", "nhe", "nha") else "a")  # "a" = anh, or "ạ"
        elif tok == "de" and prev in ("moi", "vua"):
            out.append("sinh")  # “mới đẻ”, “vừa đẻ” typed without diacritics (“đẻ” is normalised to “sinh”)
        elif tok == "kt":
            out.append("khuyet tat" if prev in _KT_AFTER else "kt")
        elif tok == "nha" and i == n - 1 and i > 0 and prev in _PARTICLE_BEFORE_NHA \
                and not (prev == "lam" and i > 1 and tokens[i - 2] in _ASK_BEFORE_LAM_NHA):
            out.append("nhe")  # sentence-final particle ("cảm ơn lắm nha"), not "nhà" ("hỗ trợ làm nhà")
        else:
            exp = _ABBREV.get(tok)
            out.extend(exp.split() if exp else [tok])
    return out


_ASK_BEFORE_LAM_NHA = frozenset({"tro", "xin", "muon", "can", "de", "giup", "dang", "chua", "tien"})
_PARTICLE_BEFORE_NHA = frozenset(
    {"nhieu", "on", "em", "anh", "chi", "ban", "ok", "roi", "di", "luon", "nhe", "a", "nghe", "khong", "vay", "co",
     "duoc", "u", "da", "vang", "nhen", "lam", "qua", "ngon", "sau", "nhau", "tiep", "nua"}
)  # fmt: skip


def normalise(text: str) -> str:
    """Folded, expanded, de-noised form of a chat message.

    >>> normalise("Cho e hỏi làm giấy khai sinh cần j ạ???")
    'cho em hoi lam giay khai sinh can gi a'
    >>> normalise("ko dc hông, khongggg")
    'khong duoc khong khong'

    Diacritics are folded (``đ`` → ``d``), chat shorthand and dialect are
    expanded (ko/k/kh/hok/hem/hông → không, dc/đc → được, j → gì, bn → bao
    nhiêu, ntn → như thế nào, gt → giấy tờ, tt → thủ tục, bhxh, bhyt, cccd,
    e → em, mk/mik → mình, vs → với, z/v → vậy, r → rồi, ck/vk → chồng/vợ,
    ô/ổng/bả → ông/ông ấy/bà ấy, lm → làm, cx → cũng…), letters repeated for
    emphasis are collapsed, Telex left-overs are decoded, letters stuck to
    digits are split ("thg3" → "thg 3"), and punctuation and emoji removed.
    """
    if not text:
        return ""
    lowered = nfc(text).lower()
    raw_tokens = _NON_WORD.sub(" ", lowered).split()
    folded: list[str] = []
    for raw in raw_tokens:
        mapped = _RAW_TOKENS.get(raw)
        if mapped is not None:
            folded.extend(mapped.split())
            continue
        tok = fold(raw)
        if not tok.isascii():  # letters outside Vietnamese/Latin: keep as they are
            folded.append(tok)
            continue
        for part in _DIGIT_ALPHA.sub(" ", tok).split():
            folded.append(_fix_token(part))
    return " ".join(_expand(_join_agree(folded)))


def _join_agree(tokens: list[str]) -> list[str]:
    """“đồng ý” (agree) as one word: folded, its two words are those of “đóng bảo hiểm y tế”, near enough to be
    read as that procedure's own (“bà đồng ý rồi”, typed at a consent question, is no request). “mất tích”
    (missing) too: its “mất” is no death (“chồng tôi đi biển mất tích” is no death registration)."""
    out: list[str] = []
    for tok in tokens:
        if tok == "y" and out and out[-1] == "dong":
            out[-1] = "dongy"
        elif tok == "tich" and out and out[-1] == "mat":
            out[-1] = "mattich"
        else:
            out.append(tok)
    return out


# ==========================================================================
# Procedure matching
# ==========================================================================

# Words that carry no meaning for choosing a procedure.  Deliberately *not*
# here, though frequent: "bà", "bố", "con", "nhà", "tài", "tử", "ông", "qua",
# "lại", "dùng" (they are part of "bố mất", "nhà sập", "qua đời", "cấp lại"…).
_STOPWORDS = frozenset(
    ["a", "ah", "ai", "alo", "anh", "ay", "ban", "bay", "bi", "biet", "bot", "cac", "cai", "can", "cau", "chao", "chi", "cho", "chu", "chua", "co", "cua", "cung", "da", "dang", "dau", "day", "de", "den", "di", "do", "du", "duoc", "em", "gi", "gio", "gium", "gui", "ha", "hay", "hello", "hem", "hien", "hoac", "hom", "khi", "khong", "kia", "ko", "la", "lam", "len", "luc", "luon", "minh", "moi", "mot", "muon", "nao", "nay", "ne", "nen", "nghe", "nhau", "nhe", "nhen", "nhi", "nho", "nhu", "nhung", "no", "noi", "nua", "o", "oi", "ok", "on", "phai", "ra", "rat", "roi", "sao", "sau", "se", "thang", "the", "thi", "thoi", "tim", "toi", "tren", "trong", "truoc", "tui", "u", "uh", "va", "vang", "vay", "ve", "vi", "voi", "vua", "xin", "xong"]  # noqa: E501
)

_PAIR_WINDOW = 4  # unordered pairs of content words less than this far apart
_K1 = 1.0  # term-frequency saturation
_SCALE = 5.0  # raw score → [0, 1]: 1 - exp(-s / _SCALE)


class ProcedureStub:
    """A minimal procedure-like object (id, title, short, keywords, weighted phrases)."""

    def __init__(self, id: str, title: str, short: str = "", keywords: Iterable[str] = (),
                 phrases: Iterable[tuple[float, Iterable[str]]] = (), requires: Iterable[str] = (),
                 excludes: Iterable[str] = ()) -> None:
        self.id = id
        self.title = title
        self.short = short
        self.keywords = list(keywords)
        self.phrases = tuple((float(w), tuple(texts)) for w, texts in phrases)
        self.requires = tuple(requires)
        self.excludes = tuple(excludes)

    def __repr__(self) -> str:
        return f"ProcedureStub({self.id!r})"


def _procedures_of(catalog: Any) -> list[Any]:
    """Procedure-like objects of a Catalog, a mapping id → procedure, or an iterable."""
    procs = getattr(catalog, "procedures", catalog)
    if isinstance(procs, Mapping):
        return list(procs.values())
    return list(procs)


# Compounds in which a stopword carries meaning ("nhà ở", "chỗ ở", "làm nhà", "làm ruộng").
_KEEP_IN = frozenset({("nha", "o"), ("cho", "o"), ("lam", "nha"), ("lam", "ruong"), ("lam", "ray"),
                      ("lam", "muoi"), ("lam", "nong"), ("lam", "vuon")})
_ASKING = frozenset({"cho", "em", "toi", "minh", "muon", "xin", "can", "anh", "chi", "con", "chau", "de", "tui"})


def _content(tokens: list[str]) -> list[str]:
    """Meaningful words: no stopwords, digits, "hỏi"/"giúp" as in "cho em hỏi", "giúp em"."""
    out = []
    for i, t in enumerate(tokens):
        prev = tokens[i - 1] if i else ""
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if (t, nxt) in _FUSED:
            out.append(_FUSED[t, nxt])
            continue
        if (prev, t) in _FUSED:
            continue  # (taken with the word before it)
        if t in _STOPWORDS and ((prev, t) in _KEEP_IN or (t, nxt) in _KEEP_IN):
            out.append(t)
            continue
        if t in _STOPWORDS or t.isdigit() or not t:
            continue
        if t == "hoi" and (prev in _ASKING or not prev):
            continue
        if t == "giup" and prev != "tro":
            continue
        if t == "cam" and nxt == "on":
            continue  # "cảm ơn", not "câm"
        if t == "so" and nxt.isdigit():
            continue  # "bão số 3", "mẫu số 04": a numbering, not "sổ"/"sở"
        out.append(t)
    return out


# Two words read as one term: folded, a word of them alone means something else ("tiền mặt", cash, is not
# "mất", died; "không dùng" is not "dừng", stop)
_FUSED = {("tien", "mat"): "tien_mat", ("khong", "dung"): "khong_dung", ("liet", "si"): "liet_si"}


def _pairs(content: list[str]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for i, a in enumerate(content):
        for b in content[i + 1 : i + _PAIR_WINDOW]:
            if a != b:
                out.add((a, b) if a < b else (b, a))
    return out


@dataclass
class _Index:
    ids: tuple[str, ...]  # procedures of the catalogue, in catalogue order
    weights: dict[str, dict[Any, float]]  # id → term → summed phrase weight
    idf: dict[Any, float]
    vocab: frozenset[str]
    bigrams: frozenset[tuple[str, str]]  # adjacent words in phrases (for typo correction)
    by_len: dict[int, list[str]]
    df_word: dict[str, int]
    requires: dict[str, tuple[str, ...]]  # id → normalised words one of which a message must hold (nlu.requires)
    excludes: dict[str, tuple[str, ...]]  # id → normalised words none of which a message may hold (nlu.excludes)


def _phrases_for(proc: Any) -> list[tuple[str, float]]:
    items: list[tuple[str, float]] = [(proc.title, 1.0)]
    items += [(k, 1.0) for k in getattr(proc, "keywords", ()) or ()]
    if getattr(proc, "short", ""):
        items.append((proc.short, 0.3))
    for weight, texts in _weighted_phrases(proc):
        items += [(p, weight) for p in texts]
    return items


def _weighted_phrases(proc: Any) -> tuple[tuple[float, tuple[str, ...]], ...]:
    """(weight, phrases) of a procedure: its YAML ``nlu.phrases`` (weight 1 for phrases that clearly
    mean it, lower for life events shared with another procedure), or a stub's ``phrases``."""
    nlu = getattr(proc, "nlu", None)
    if nlu is not None:
        return tuple((p.weight, tuple(p.texts)) for p in nlu.phrases)
    return tuple(getattr(proc, "phrases", ()) or ())


def _requires(proc: Any) -> tuple[str, ...]:
    """A procedure's ``nlu.requires`` (or a stub's ``requires``)."""
    nlu = getattr(proc, "nlu", None)
    return tuple(nlu.requires if nlu is not None else getattr(proc, "requires", ()) or ())


def _excludes(proc: Any) -> tuple[str, ...]:
    """A procedure's ``nlu.excludes`` (or a stub's ``excludes``)."""
    nlu = getattr(proc, "nlu", None)
    return tuple(nlu.excludes if nlu is not None else getattr(proc, "excludes", ()) or ())


def check_phrases(proc: Any) -> list[str]:
    """Problems with a procedure's ``nlu.phrases`` (for ``dvcbot catalog check``)."""
    problems: list[str] = []
    seen: dict[str, float] = {}
    for weight, texts in _weighted_phrases(proc):
        for text in texts:
            if not _content(normalise(text).split()):
                problems.append(f"nlu.phrases: {text!r} has no meaningful word once normalised")
            elif text in seen:
                problems.append(f"nlu.phrases: {text!r} is listed twice (weights {seen[text]} and {weight})")
            seen.setdefault(text, weight)
    for name, words in (("requires", _requires(proc)), ("excludes", _excludes(proc))):
        problems += [f"nlu.{name}: {w!r} is no word once normalised" for w in words if not normalise(w).strip()]
    problems += [f"nlu: {w!r} is both required and excluded"
                 for w in sorted(set(map(normalise, _requires(proc))) & set(map(normalise, _excludes(proc))))]
    return problems


def _doc_terms(phrases: list[tuple[str, float]]) -> tuple[dict[Any, float], set[tuple[str, str]], set[str]]:
    weights: dict[Any, float] = defaultdict(float)
    bigrams: set[tuple[str, str]] = set()
    words: set[str] = set()
    for text, w in phrases:
        toks = normalise(text).split()
        words.update(toks)
        bigrams.update(itertools.pairwise(toks))
        content = _content(toks)
        terms: set[Any] = set(content) | _pairs(content)
        if w >= 1.0 and len(content) >= _PHRASE_MIN:
            terms.add(("=", *content))  # the whole phrase, as the procedure's own name for itself
        for t in terms:
            weights[t] += w
    return dict(weights), bigrams, words


_PHRASE_MIN = 5  # content words for a whole phrase to count on its own; shorter ones are ambiguous ("bảo hiểm y tế")
_PHRASE_MAX = 8


def _phrases_in(content: list[str]) -> set[tuple[str, ...]]:
    """Every run of consecutive content words that could be a whole phrase."""
    n = len(content)
    return {("=", *content[i:j]) for i in range(n) for j in range(i + _PHRASE_MIN, min(n, i + _PHRASE_MAX) + 1)}


@lru_cache(maxsize=16)
def _build_index(signature: tuple[tuple[str, str, str, tuple[str, ...], Any, tuple[str, ...], tuple[str, ...]], ...]
                 ) -> _Index:
    procs = [ProcedureStub(pid, title, short, kws, phrases, req, exc)
             for pid, title, short, kws, phrases, req, exc in signature]
    in_catalog = {p.id for p in procs}
    universe = list(procs)  # term statistics are over the catalogue's procedures
    weights: dict[str, dict[Any, float]] = {}
    df: Counter[Any] = Counter()
    bigrams: set[tuple[str, str]] = set()
    vocab: set[str] = set()
    for p in universe:
        w, bg, words = _doc_terms(_phrases_for(p))
        for t in w:
            df[t] += 1
        if p.id in in_catalog:
            weights[p.id] = w
            bigrams |= bg
            vocab |= words
    n = len(universe)
    idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
    by_len: dict[int, list[str]] = defaultdict(list)
    for v in sorted(vocab):
        if v.isalpha() and len(v) >= 2:
            by_len[len(v)].append(v)
    df_word = {t: d for t, d in df.items() if isinstance(t, str)}
    requires = {p.id: tuple(f" {normalise(r)} " for r in p.requires) for p in procs if p.requires}
    excludes = {p.id: tuple(f" {normalise(r)} " for r in p.excludes) for p in procs if p.excludes}
    return _Index(tuple(p.id for p in procs), weights, idf, frozenset(vocab), frozenset(bigrams), dict(by_len),
                  df_word, requires, excludes)


def _index(catalog: Any) -> _Index:
    sig = tuple(
        (p.id, p.title, getattr(p, "short", "") or "", tuple(getattr(p, "keywords", ()) or ()),
         _weighted_phrases(p), _requires(p), _excludes(p))
        for p in _procedures_of(catalog)
    )
    return _build_index(sig)


def _near(index: _Index, tok: str, limit: int) -> list[tuple[int, str]]:
    """The catalogue's words within ``limit`` edits of ``tok`` (optimal string alignment: a swap of two letters
    is one edit), nearest first: rapidfuzz's, eighty times the speed of the same loop in Python."""
    out = []
    for length in range(max(2, len(tok) - limit), len(tok) + limit + 1):
        words = index.by_len.get(length)
        if words:
            out += [(d, v) for v, d, _ in process.extract(tok, words, scorer=OSA.distance, score_cutoff=limit,
                                                             limit=None)]
    out.sort()
    return out


_MAX_LOOKUPS = 25


def _correct(tokens: list[str], index: _Index) -> list[str]:
    """Fix typos against the catalogue vocabulary, using neighbours as context.

    A token that cannot be a Vietnamese syllable ("kai", "khaisinh",
    "tangg") is split or replaced by the nearest catalogue word (edit
    distance 1, or 2 for long words), preferring one that forms a known
    phrase with a neighbour.  A real syllable the catalogue does not use is
    replaced only when the replacement forms a known phrase with the
    *preceding, uncorrected* word ("khai tửu" → "khai tử"), so that
    corrections never cascade ("chế độ thai sản" stays as it is).
    """
    out: list[str] = []
    n = len(tokens)
    prev_fixed = False
    budget = _MAX_LOOKUPS  # bounds the time spent on long garbage
    for i, tok in enumerate(tokens):
        if (tok in index.vocab or tok in _STOPWORDS or not tok.isalpha() or not tok.isascii() or len(tok) < 2
                or budget <= 0):
            out.append(tok)
            prev_fixed = False
            continue
        prev = out[-1] if out else ""
        nxt = tokens[i + 1] if i + 1 < n else ""

        def context(v: str, prev: str = prev, nxt: str = nxt) -> int:
            return 2 * ((prev, v) in index.bigrams) + ((v, nxt) in index.bigrams)

        def pick_by_context(cands: list[str]) -> str | None:
            ranked = sorted(((context(v), v) for v in cands), reverse=True)
            if ranked and ranked[0][0] > 0 and (len(ranked) == 1 or ranked[0][0] > ranked[1][0]):
                return ranked[0][1]
            return None

        fixed: list[str] | None = None
        budget -= 1
        if not valid_syllable(tok):
            for j in range(2, len(tok) - 1):  # words run together: "khaisinh", "maitang"
                a, b = tok[:j], tok[j:]
                if a in index.vocab and b in index.vocab and (a, b) in index.bigrams:
                    fixed = [a, b]
                    break
            if fixed is None:
                limit = 1 if len(tok) <= 5 else 2
                near = [(d, v) for d, v in _near(index, tok, limit) if len(v) >= 3]
                if near:
                    best = [v for d, v in near if d == near[0][0]]
                    pick = pick_by_context(best) or (best[0] if len(best) == 1 else None)
                    if pick is not None:
                        fixed = [pick]
        elif len(tok) >= 3 and prev and not prev_fixed:
            left = [v for d, v in _near(index, tok, 1) if d == 1 and (prev, v) in index.bigrams]
            if len(left) == 1:
                fixed = left
        if fixed is None:
            out.append(tok)
            prev_fixed = False
        else:
            out.extend(fixed)
            prev_fixed = True
    return out


#: Other public services people often ask for; when one is named, no procedure
#: of the catalogue is started on a guess (candidates may still be offered).
OTHER_SERVICES = [
    "kết hôn", "ly hôn", "hộ chiếu", "visa", "làm căn cước", "cấp căn cước", "đổi căn cước", "cấp lại căn cước",
    "làm cccd", "giấy phép lái xe", "bằng lái", "đăng ký xe", "biển số", "sổ đỏ", "sổ hồng", "sang tên",
    "chuyển nhượng", "quyền sử dụng đất", "nộp thuế", "đóng thuế", "thuế đất", "mã số thuế", "quyết toán thuế",
    "hoàn thuế", "miễn thuế", "giảm thuế", "thuế thu nhập", "nộp phạt", "phạt nguội", "vi phạm giao thông", "tiền điện",
    "tiền nước", "lý lịch tư pháp", "tạm trú", "tạm vắng", "xin việc", "thất nghiệp", "thai sản", "giấy phép xây dựng",
    "đăng ký kinh doanh", "hộ kinh doanh", "doanh nghiệp", "nhập học", "học bổng", "khiếu nại", "tố cáo",
    "tranh chấp", "xác nhận hộ nghèo", "đổi bằng", "đăng ký nghĩa vụ quân sự", "khám nghĩa vụ",
    "xác nhận hộ cận nghèo", "chứng nhận hộ nghèo", "chứng nhận hộ cận nghèo", "công nhận hộ nghèo",
    "công nhận hộ cận nghèo", "rà soát hộ nghèo", "rà soát hộ cận nghèo", "thoát nghèo",
    "làm hộ nghèo", "xin hộ nghèo", "xét hộ nghèo", "vào hộ nghèo", "làm hộ cận nghèo", "xin hộ cận nghèo",
    "xét hộ cận nghèo", "vào hộ cận nghèo", "vào diện hộ nghèo", "đưa vào hộ nghèo",
]  # fmt: skip


#: Other services that a request for one of ours may mention too: they count only when the message speaks of
#: no death ("bố tôi đang hưởng trợ cấp tuất, nay mất, xin mai táng phí" is the death group's).
OTHER_SERVICES_UNLESS_DEATH = ["trợ cấp tuất", "liệt sĩ"]
_DEATH_WORDS = frozenset({"mat", "chet"})
_DEATH_PAIRS = frozenset({("qua", "doi"), ("tu", "tran"), ("mai", "tang"), ("an", "tang"), ("khai", "tu"),
                          ("hy", "sinh")})


@lru_cache(maxsize=1)
def _other_services() -> tuple[str, ...]:
    return tuple(f" {normalise(p)} " for p in OTHER_SERVICES)


@lru_cache(maxsize=1)
def _other_services_unless_death() -> tuple[str, ...]:
    return tuple(f" {normalise(p)} " for p in OTHER_SERVICES_UNLESS_DEATH)


def _without_other_services(text: str) -> str:
    """The message, normalised, without its clauses that name another service (“…, bố mẹ chưa đăng ký kết hôn”)."""
    phrases = (*_other_services(), *_other_services_unless_death())
    kept = [c for c in re.split(r"[,.;!?\n]+|\bnhung\b", nfc(text).lower())
            if c.strip() and not any(p in f" {normalise(c)} " for p in phrases)]
    return normalise(", ".join(kept))


def _speaks_of_death(content: list[str]) -> bool:
    """“mất”, “chết”, “qua đời”, “mai táng”… among the meaningful words (“tiền mặt” is fused, not “mất”)."""
    return any(t in _DEATH_WORDS for t in content) or any(p in _DEATH_PAIRS for p in itertools.pairwise(content))


@dataclass
class _Match:
    id: str
    score: float
    terms: dict[Any, float]  # matched term → contribution
    unmet: bool = False  # the message lacks every word of the procedure's nlu.requires, or holds one of its
    # nlu.excludes: offered, never picked


# --------------------------------------------------------------------------
# Requests typed in English ("I want to register my father's death")
# --------------------------------------------------------------------------

#: English words and phrases → the Vietnamese words the matcher knows (``dialogs/data/en_glossary.yaml``).
#: An English request is rewritten with these (longest phrase first) and then matched like any Vietnamese
#: one, so the thresholds, the "other service" check and the 2–3 candidates work the same way.
def _load_glossary() -> dict[str, str]:
    import yaml

    path = Path(__file__).resolve().parent / "data" / "en_glossary.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k).lower(): str(v) for k, v in data.items()}


EN_GLOSSARY: dict[str, str] = _load_glossary()

#: English words that only say how the request is put ("I want to…"): enough of them, with the
#: glossary's words, tell that a message is English.
_EN_FILLER = frozenset(["i", "i'm", "im", "want", "wants", "wanted", "would", "like", "need", "needs", "needed", "to", "my", "our", "his", "her", "their", "the", "a", "an", "for", "of", "please", "how", "do", "does", "can", "could", "me", "with", "on", "in", "at", "and", "is", "was", "were", "has", "have", "had", "get", "got", "apply", "applying", "just", "recently", "because", "due", "after", "by", "from", "am", "are", "be", "been", "it", "this", "that", "some", "help", "about", "what", "which", "where", "when", "who", "why", "make", "made", "new", "old", "file", "filing", "fill", "submit", "request", "requesting", "ask", "asking", "looking", "you", "your", "there", "here"])  # noqa: E501
_EN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _english_phrases() -> re.Pattern[str]:
    keys = sorted(EN_GLOSSARY, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(k) for k in keys) + r")\b")


_EN_PHRASES = _english_phrases()


def from_english(text: str) -> str | None:
    """The Vietnamese words of an English request, or None when the text is not English.

    English means: at least two words that are not Vietnamese syllables and are either in
    :data:`EN_GLOSSARY` or plain English filler ("want", "register", "father's"), and such words
    make up at least a third of the message.  Words the glossary does not know are dropped.
    """
    if not text or not text.isascii():
        return None
    low = text.lower().replace("’", "'")
    words = _EN_WORD.findall(low)
    glossary_words = {w for k in EN_GLOSSARY for w in k.split()}

    def english(w: str) -> bool:
        base = w.split("'")[0]
        return (w in _EN_FILLER or base in glossary_words or w in glossary_words) and not valid_syllable(base)

    hits = sum(1 for w in words if english(w))
    if hits < 2 or hits * 3 < len(words):
        return None
    low = re.sub(r"'s\b", "", low)
    found = [EN_GLOSSARY[m.group(1)] for m in _EN_PHRASES.finditer(low)]
    return " ".join(found) if found else None


def _matches(text: str, catalog: Any) -> tuple[list[_Match], bool]:
    """Scored procedures (best first, only those with real evidence) and
    whether the text names another public service."""
    index = _index(catalog)
    text = from_english(text) or text
    typed = normalise(text).split()
    tokens = _correct(typed, index)
    padded = [f" {' '.join(t)} " for t in (typed, tokens)]
    content = _content(tokens)
    phrases = _other_services() if _speaks_of_death(content) else _other_services() + _other_services_unless_death()
    other = any(p in line for line in padded for p in phrases)
    terms: set[Any] = set(content) | _pairs(content) | _phrases_in(content)
    out: list[_Match] = []
    for pid in index.ids:
        w = index.weights[pid]
        contrib = {}
        for t in terms:
            tf = w.get(t)
            if tf:
                contrib[t] = index.idf[t] * tf * (_K1 + 1) / (tf + _K1)
        pairs = sum(1 for t in contrib if isinstance(t, tuple))
        if pairs == 0 and len(contrib) < 2:
            continue  # one shared word ("trời", "ngủ") is not evidence
        needed = index.requires.get(pid, ())
        unmet = (bool(needed) and not any(r in line for line in padded for r in needed)) or any(
            r in line for line in padded for r in index.excludes.get(pid, ()))
        out.append(_Match(pid, sum(contrib.values()), contrib, unmet))
    order = {pid: i for i, pid in enumerate(index.ids)}
    out.sort(key=lambda m: (-m.score, order[m.id]))
    return out, other


def _conf(raw: float) -> float:
    return round(1 - math.exp(-raw / _SCALE), 4)


def match_procedures(text: str, catalog: Any) -> list[tuple[str, float]]:
    """Procedures ranked by how well ``text`` matches them, best first.

    ``catalog`` is a :class:`~dialogs.catalog.Catalog`, a mapping id →
    procedure, or an iterable of procedure-like objects (``id``, ``title``,
    ``short``, ``keywords``).  Scores are in [0, 1]; procedures without real
    evidence (at least one matching word pair, or two matching words) are
    left out.
    """
    found, _ = _matches(text or "", catalog)
    return [(m.id, _conf(m.score)) for m in found]


@dataclass(frozen=True)
class Decision:
    """What to do with a free-text message at the menu.

    ``procedure`` — start this one (confident); ``candidates`` — offer these
    (2–3 when several are close, 1 when only one is plausible but the match
    is weak); both empty: the message names no procedure.  ``confidence`` is
    the top score in [0, 1]; ``ranked`` every scored procedure;
    ``other_service`` is set when the message asks for a public service that
    is not in the catalogue ("đăng ký kết hôn", "làm căn cước"), so the
    engine can say so instead of offering look-alikes.
    """

    procedure: str | None
    candidates: tuple[str, ...] = ()
    confidence: float = 0.0
    ranked: tuple[tuple[str, float], ...] = field(default=(), repr=False)
    other_service: bool = False  # the message names a service the catalogue does not have

    @property
    def unsure(self) -> bool:
        return self.procedure is None and bool(self.candidates)


# Thresholds, tuned on tests/nlu/utterances.tsv (see python -m dialogs.nlu eval).
CONFIDENT = 0.5  # top score needed to start a procedure without asking ...
SWITCH_CONFIDENT = 0.75  # ... and to offer another in the middle of a form, where a refused answer is more often an
# answer than a request (“chuyen vao sai gon” at “Bạn muốn báo thay đổi gì?” scored 0.56 for the bank registration)
DOMINANCE = 0.5  # ... when the runner-up's raw score is at most this share of the top's,
DISTINCT = 2.0  # ... or when it has this much raw evidence the runner-up lacks entirely
OFFER = 0.35  # top score needed to offer candidates at all
OFFER_SHARE = 0.3  # further candidates need this share of the top raw score


def switch_to(text: str, catalog: Any, decision: Decision | None = None) -> str | None:
    """The procedure a message typed in the middle of another asks for, confidently enough to offer a switch; None
    when none does, or only by the words that describe a condition or an event (the target's ``nlu.describes``):
    “cháu bị bại não” at a question about the kind of disability answers it, and asks for no assessment.
    ``decision`` is :func:`decide`'s for the text, when made already."""
    decision = decision or decide(text, catalog)
    target = decision.procedure
    if target is None or decision.confidence < SWITCH_CONFIDENT or target not in getattr(catalog, "procedures", {}):
        return None
    nlu = getattr(catalog.procedures[target], "nlu", None)
    described = [f" {normalise(d)} " for d in (nlu.describes if nlu is not None else ())]
    padded = f" {normalise(text)} "
    if not any(d in padded for d in described):
        return target
    for d in described:
        padded = padded.replace(d, " , ")
    again = decide(padded, catalog)
    return target if again.procedure == target and again.confidence >= SWITCH_CONFIDENT else None


def _is_place_name(text: str) -> bool:
    """The whole message is the name of a province (today's or a merged one), nothing more."""
    from . import address

    if len(text.split()) > 5:
        return False
    hits = address.province_hits(text, fuzzy=False)
    return len(hits) == 1 and hits[0].score >= 1.0


def _is_address(text: str) -> bool:
    """The whole message is an address written without commas, “ap 3 xa tan thanh long an”: it opens as an address
    does and names a province (its “xã” is otherwise a word of “xã hội”)."""
    from . import address

    folded = fold(text)
    if len(folded.split()) > 12 or not _ADDRESS_LEAD.match(folded):
        return False
    return bool((address.extract_address(text) or {}).get("province_code"))


_ADDRESS_LEAD = re.compile(r"(?:thon|xom|ap|to|to dan pho|khu pho|kp|ban|buon|khom|khoi|lang|xa|phuong|thi tran"
                           r"|so nha|nha so|so(?=\s*\d))\b\.?\s*\w")
"""How an address opens, and no request does (“ấp 3 …”, “xã Yên Thành …”, “số nhà 12 …”, “số 5 ngõ 3 …”; not
“số” before a word, as in “số tiền”)."""


def _without_places(text: str) -> str:
    """The message without its parts (between commas) that are each a place: a province, or a unit word and a
    known place's name (“Hà Tĩnh”, “xã Yên Thành”, “thôn Đông”); the message as it was when no part is."""
    from .spelling import is_place

    parts = re.split(r"[,;\n]+", text)
    if len(parts) < 2:
        return text
    kept = [p for p in parts if p.strip() and not is_place(p)]
    return text if len(kept) == len(parts) else ", ".join(p.strip() for p in kept)


def is_person_name(text: str) -> bool:
    """The whole message is a person's name (“Lê Thị Hoa”, “tran van le”): a known surname, Văn or Thị, then one
    or two common middle or given names. Folded, such a name can share words with a procedure's vocabulary (“lễ”
    of tang lễ, “hỏa” of hỏa táng): it was typed where a name was expected, not as a request. (Only Văn and Thị:
    with any middle name, “đăng ký khai tử” and “cần tiền làm nhà” read as names.)"""
    words = fold(text).split()
    if not 3 <= len(words) <= 4 or not all(w.isalpha() for w in words) or words[0] not in _SURNAME_TABLE:
        return False
    return words[1] in ("van", "thi") and all(w in _MIDDLE_TABLE or w in _GIVEN_TABLE for w in words[2:])


def decide(text: str, catalog: Any) -> Decision:
    """Pick a procedure for a free-text message, or the 2–3 closest to offer.

    Confident when the best score is at least :data:`CONFIDENT` and it
    clearly leads: the runner-up scores at most :data:`DOMINANCE` of it, or
    the top has evidence the runner-up lacks entirely ("cấp lại" for the
    re-issue against the first certificate, both sharing "giấy khuyết tật"),
    worth :data:`DISTINCT` raw points.  When the message names a service
    outside the catalogue (:data:`OTHER_SERVICES`) nothing is picked or
    offered and ``other_service`` is set.
    """
    if _is_place_name(text or "") or is_person_name(text or "") or _is_address(text or ""):
        return Decision(None)  # “lâm đồng”, “Lê Thị Hoa”, “thon 5 xa yen thanh nghe an”: not a request
    text = _without_places(text or "")
    if not text:  # an address, “nghe an, xa yen thanh”: its words (“xã”, “lốc”…) are no request
        return Decision(None)
    found, other = _matches(text, catalog)
    ranked = tuple((m.id, _conf(m.score)) for m in found)
    if not found:
        return Decision(None, (), 0.0, ranked, other_service=other)
    top = found[0]
    second = found[1] if len(found) > 1 else None
    conf = _conf(top.score)
    s2 = second.score if second else 0.0
    distinct = sum(v for t, v in top.terms.items() if second is None or t not in second.terms)
    leads = s2 <= DOMINANCE * top.score or distinct >= DISTINCT
    if other:
        # a clear request for one of ours without the other service's words is ours (“làm khai sinh cho con, bố mẹ
        # chưa đăng ký kết hôn”, “nhà tôi thuê bị bão làm sập”: “thuê” folds as “thuế”); one that needs them is not
        # (“cấp lại căn cước bị mất” is no re-issued disability certificate)
        rest = _without_other_services(text)
        if rest and (again := decide(rest, catalog)).procedure is not None:
            return again
        return Decision(None, (), conf, ranked, other_service=True)
    if conf >= CONFIDENT and leads and not top.unmet:  # (nlu.requires: offered at most, never opened)
        return Decision(top.id, (), conf, ranked)
    if conf < OFFER:
        return Decision(None, (), conf, ranked)
    # those whose required words the message has first (“bố tôi bị lũ cuốn trôi, mất tích”: the funeral support,
    # then the house's, which needs a word of the house)
    cands = sorted((m for m in found[:3] if m.score >= OFFER_SHARE * top.score), key=lambda m: m.unmet)
    return Decision(None, tuple(m.id for m in cands), conf, ranked)


# ==========================================================================
# Info questions
# ==========================================================================

INFO_CATEGORIES = ("documents", "duration", "fee", "agency", "steps", "result", "who", "legal")

_Q = r"(?:gi|nao|nhung gi|nhu the nao|ra sao|the nao|sao|khong|chua|bao nhieu|ha|a|hong|chi|dau)"
_INFO_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("legal", re.compile(
        r"\bcan cu\b|\bluat nao\b|\btheo luat\b|\bnghi dinh (nao|so|gi)\b|\btheo nghi dinh\b|\bthong tu nao\b"
        r"|\bvan ban nao\b|\bvan ban phap\b|\bco so phap ly\b|\bphap ly\b|\bquy dinh (o )?(dau|nao)\b"
        r"|\b(luat|quy dinh) (gi|o dau)\b|\bdieu (may|nao) luat\b")),
    ("result", re.compile(
        r"\b(?<!lam )(?<!khong )duoc (gi|nhung gi|cai gi)( vay| a| khong| ha)?$"  # (“không làm được gì”: an answer)
        r"|\bnhan (duoc )?(nhung )?(gi|cai gi|ket qua gi|giay gi)\b"
        r"|\bket qua (la )?(gi|nhu the nao|ra sao)\b|\bduoc (ho tro|nhan|huong|cap|chi|tra|boi thuong)? ?"
        r"(bao nhieu|may trieu|may chuc|nhieu khong)\b|\bmuc (ho tro|tro cap|huong) (la )?(bao nhieu|the nao)\b"
        r"|\bho tro (bao nhieu|may trieu)\b|\bduoc nhan bao nhieu\b|\blam xong (thi )?(duoc|nhan)")),
    ("duration", re.compile(
        r"\bbao lau\b|\b(?<!chua )(?<!khong )bao gio (thi )?(co|xong|nhan|duoc|tra|lay|co ket qua)\b|\bbao gio\s*$"
        r"|\bkhi nao (thi )?(co|xong|nhan|duoc|tra|lay|den|giai quyet)\b|\bmay ngay\b|\bbao nhieu ngay\b"
        r"|\bmat (may|bao nhieu) (ngay|tuan|thang)\b|\bthoi han\b|\bthoi gian (giai quyet|xu ly|lam|cho)\b"
        r"|\blau (khong|ko|chua|qua)\b|\bco lau\b|\blau la bao\b|\bhan (tra|giai quyet)\b|\bngay nao (co|nhan|tra)\b")),
    ("fee", re.compile(
        r"\ble phi\b|\bmien phi\b|\bphi (bao nhieu|nhieu|the nao|gi|la bao nhieu|khong|ra sao)\b|\bphi\s*$"
        r"|\b(mat|ton|dong|tra|thu|nop|chi) (phi|tien|le phi|khoan)\b.*\b" + _Q + r"\b|\b(mat|ton) (phi|tien)\s*$"
        r"|\bton (bao nhieu|nhieu|kem)\b|\bbao nhieu tien\b|\bco (mat|ton|thu) (phi|tien)\b|\bhet bao nhieu\b"
        r"|\bphi\b.*\bbao nhieu\b"
        r"|\bmat bao nhieu\b|\btien (phi|le phi)\b")),
    ("agency", re.compile(
        r"\b(nop|lam|den|len|ra|gui|toi|xin|dang ky|giai quyet|dien)( ho so| thu tuc| giay to)? (o|tai) "
        r"(dau|cho nao|noi nao|mo)\b|\b(nop|lam|gui|xin) (dau|cho nao|noi nao)\b|\bo dau\b(?! roi)"
        r"|\bcho nao\b|\bnoi nao\b|\bco quan nao\b|\bai (giai quyet|xu ly|tiep nhan|cap|duyet)\b"
        # (“ít đi đâu”, “đi đâu cũng phải có người dắt”: how someone lives, not where to file)
        r"|\b(?<!it )(?<!khong )(?<!chang )(?<!cha )(?<!chua )(?<!khi )(len|ra|den|toi|di) dau\b"
        r"(?! roi| ca\b| cung\b| duoc)|\bphong nao\b|\bbo phan nao\b"
        r"|\b(lam|nop) (o|tai) (uy ban|ubnd|xa|phuong|cong an|huyen|tinh|bo phan mot cua)\b.*"
        r"\b(ha|a|khong|phai khong|dung khong|hay)\s*$|\b(o|len|ra|den|toi) (xa|phuong|huyen|tinh|uy ban)\b.*\bhay\b")),
    ("steps", re.compile(
        r"\blam (the nao|nhu the nao|sao|ra sao)\b|\bcac buoc\b|\bquy trinh\b|\btrinh tu\b|\bcach lam\b"
        r"|\b(thu tuc|ho so) (lam )?(the nao|ra sao|sao|nhu the nao)\b|\bbat dau (tu dau|the nao|lam gi)\b"
        r"|\blam gi (tiep|truoc|dau tien)\b|\b(buoc|khau) (tiep theo|dau tien)\b|\bnhu the nao\b")),
    ("who", re.compile(
        r"\bai (duoc|co the|moi|thi|phai) (lam|nop|huong|xin|dang ky|nhan|de nghi|khai)\b|\bai duoc\b"
        r"|\bdoi tuong (nao|gi|la ai|duoc)\b|\bdieu kien\b|\bthuoc dien\b|\bco du (dieu kien|tieu chuan)\b"
        r"|\b(toi|minh|em|nha em|nha toi|nha minh|ba|bo|me|ong) co (duoc|the) (lam|huong|ho tro|nhan|xin|dang ky"
        r"|nop)\b.*\b(khong|chua|ha)\b|\b(lam|nop|khai|ky) (thay|ho|giup)\b.*\b(duoc|khong|dc)\b"
        r"|\bco duoc (huong|ho tro|lam)\b.*\bkhong\b")),
    ("documents", re.compile(
        r"\bgiay to\b.*\b(gi|nao|nhung|gom|can|mang|chuan bi|thiet|kem)\b|\b(can|phai|mang|chuan bi|nop)( theo)?"
        r"( nhung)?( giay to| ho so| loai| cai| giay)? (gi|nhung gi|nhung cai gi|nao)\b"
        r"|\bho so (gom|can|co|bao gom)\b.*\b(gi|nhung|nao)\b|\bmang theo\b|\bthanh phan ho so\b"
        r"|\bcan (ban sao|ban chinh|photo|cong chung|chung thuc|anh|hinh|so ho khau|can cuoc|chung minh|giay)"
        r"\b.*\b(khong|gi|nao|a|ha)\b|^(giay to|ho so|can gi)$|\bcan chuan bi\b|\bgiay to can\b"
        r"|\bco can (mang|nop|dem|photo|ban|giay|ho so|so|anh|hinh|cong chung|chung thuc|xac nhan)\b.*"
        r"\b(khong|ha|chua)\b")),
]  # fmt: skip

_INFO_EN: list[tuple[str, re.Pattern[str]]] = [
    ("documents", re.compile(r"\b(what|which) (documents|papers)\b|\bdocuments (do i|needed|required)\b")),
    ("duration", re.compile(r"\bhow long\b|\bhow many days\b|\bwhen will\b")),
    ("fee", re.compile(r"\bhow much (does it|is it)? ?cost\b|\bis (it|there a) (free|fee)\b|\bfees?\b")),
    ("agency", re.compile(r"\bwhere (do|should|can) i (submit|apply|go|file)\b|\bwhich (office|agency)\b")),
    ("steps", re.compile(r"\bhow do i\b|\bwhat are the steps\b|\bsteps\b")),
    ("result", re.compile(r"\bwhat (do|will) i (get|receive)\b")),
    ("who", re.compile(r"\bwho (can|is eligible)\b|\bam i eligible\b|\beligib")),
    ("legal", re.compile(r"\blegal basis\b|\bwhich law\b|\bwhat law\b")),
]


def detect_info_question(text: str, *, kind: str | None = None) -> str | None:
    """Is this a question about the current procedure's info card?

    Returns one of :data:`INFO_CATEGORIES` ("documents", "duration", "fee",
    "agency", "steps", "result", "who", "legal") or ``None``.  Ordinary
    answers — names, addresses, dates, numbers, "có"/"không", reasons such as
    "mất hết giấy tờ trong lũ" — give ``None``.  ``kind`` is the kind of the
    question being asked, if any: when it is ``"name"`` a bare two-word
    answer such as "Le Phi" is taken as a name, not as "lệ phí".
    """
    if not text or not text.strip():
        return None
    raw = nfc(text).strip().lower()
    norm = normalise(text)
    if not norm or not re.search(r"[a-z]", norm):
        return None
    if len(norm.split()) > 60:
        return None
    words = nfc(text).split()
    if len(words) >= 2 and "?" not in text and all(w[:1].isupper() and w[1:].islower() for w in words):
        return None  # "Nguyễn Văn Lệ Phí": a name in title case
    # "Lê Phí" (a name) vs "lệ phí": with diacritics typed, trust them.
    if re.search(r"\ble phi\b", norm) and not re.search(r"[?]", raw):
        if not raw.isascii() and "lệ phí" not in raw and "le phi" not in raw:
            norm = re.sub(r"\ble phi\b", "le_phi", norm)
        elif kind == "name" and len(norm.split()) <= 3:
            return None
    if kind == "name" and raw.isascii() and len(norm.split()) <= 4 and "?" not in raw and restore_diacritics_name(text):
        return None
    for category, rx in _INFO_RULES:
        if rx.search(norm):
            return category
    plain = " ".join(_NON_WORD.sub(" ", fold(text)).split())  # English is not normalised
    for category, rx in _INFO_EN:
        if rx.search(plain):
            return category
    return None


# ==========================================================================
# Language switch
# ==========================================================================

_LANG_COMMANDS = ("/ngonngu", "/language", "/lang", "/ngon_ngu", "/languages")
_LANG_CODES = {"en": "en", "english": "en", "eng": "en", "anh": "en", "vi": "vi", "vn": "vi", "viet": "vi"}
_LANG_NAMES = {
    "english": "en", "tieng anh": "en", "anh ngu": "en", "in english": "en",
    "tieng viet": "vi", "vietnamese": "vi", "viet ngu": "vi", "in vietnamese": "vi",
}  # fmt: skip
_LANG_STEMS = ("anh", "viet", "english")
_LANG_PREFIXES = (
    "xin ", "vui long ", "please ", "pls ", "can you ", "could you ", "do you ", "hay ", "cho toi ", "cho em ",
    "cho minh ", "chuyen ngon ngu ", "doi ngon ngu ", "chuyen ", "doi ", "dung ", "noi ", "tra loi ", "viet ",
    "bang ", "sang ", "qua ", "switch language ", "change language ", "switch ", "change ", "to ", "speak ",
    "talk ", "reply ", "answer ", "write ", "use ", "in ",
)  # fmt: skip
_LANG_SUFFIXES = (" please", " pls", " plz", " di", " nhe", " nha", " duoc khong", " duoc ko", " dc ko", " a",
                  " voi", " thanks", " thank you", " nhe ban", " giup toi", " giup em")


def detect_language_switch(text: str, current: str = "vi") -> str | None:
    """"/ngonngu", "english", "tiếng anh", "tieng viet", "vietnamese"… → "en"/"vi".

    A bare "/ngonngu" or "/language" switches away from ``current``;
    "/lang en" / "/ngonngu vi" name the language.  Returns ``None`` for
    anything else, including sentences that merely mention a language
    ("tôi học tiếng anh") and names ("Anh", "Việt").
    """
    if not text:
        return None
    raw = " ".join(fold(text).split())
    if not raw:
        return None
    first, _, rest = raw.partition(" ")
    if first in _LANG_COMMANDS:
        rest = " ".join(_NON_WORD.sub(" ", rest).split())
        if not rest:
            return "en" if current == "vi" else "vi"
        return _LANG_CODES.get(rest) or _LANG_NAMES.get(rest)
    if raw in ("/en", "/english"):
        return "en"
    if raw in ("/vi", "/tiengviet", "/vietnamese"):
        return "vi"
    core = " ".join(_NON_WORD.sub(" ", raw).split())
    if len(core.split()) > 8 or not any(w in core for w in _LANG_STEMS):
        return None  # (every name in _LANG_NAMES holds one of the stems: most answers stop here, unstripped)
    changed = True
    while changed:
        changed = False
        for suffix in _LANG_SUFFIXES:
            if core.endswith(suffix) and core != suffix.strip():
                core, changed = core[: -len(suffix)], True
        for prefix in _LANG_PREFIXES:
            if core.startswith(prefix) and len(core) > len(prefix):
                core, changed = core[len(prefix):], True
    return _LANG_NAMES.get(core)


_GREETINGS = ("xin chao", "chao", "hello", "helo", "alo", "a lo", "hey", "ola", "hi")  # (longest first where one
# begins another)
_GREETING_EXTRAS = frozenset({"ban", "em", "anh", "chi", "ad", "admin", "bot", "tro", "ly", "oi", "a", "nhe", "nha",
                              "buoi", "sang", "chieu", "toi", "ca", "moi", "nguoi", "co", "chu", "bac", "ong", "ba"})


def is_greeting(text: str) -> bool:
    """"chào", "xin chào bạn", "alo ad ơi", "chào cả nhà", "hello"… and nothing else: a greeting, not a request."""
    words = fold_words(text or "").split()
    if not words or len(words) > 6:
        return False
    core = " ".join(words)
    for g in _GREETINGS:
        if core == g or core.startswith(g + " "):
            return all(w in _GREETING_EXTRAS for w in core[len(g):].split())
    return False


# ==========================================================================
# Names without diacritics
# ==========================================================================

_SURNAMES = """
Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Trịnh Đoàn Lâm Mai Trương Đào
Cao Lương Hà Tạ Chu Triệu Tô Quách Vương Đàm Lưu Thái Tăng Phùng Kiều Khổng Mạc Từ La Lại Ông Nghiêm Tôn
Thân Giang Châu Diệp Hứa Lục Nông Quan Hàn Kim Đồng Doãn Khúc Bạch Cù Lò Lường Vi Lạc Âu Phí Bế Ninh Tống
Viên Hầu Thạch Danh Kha Cấn Tiêu Lã Mẫn Trình Khương Bành Đường Lều Ân Thiều
Ung Sầm Giáp Chung Đàm Lữ Yên Mông Cà Lục
"""
_MIDDLES = """
Văn Thị Hữu Đức Minh Ngọc Thanh Thu Xuân Quang Công Đình Trọng Thế Bá Tiến Mạnh Kim Hồng Hoài Hải Anh Bảo
Gia Khánh Quốc Tuấn Phương Diệu Mỹ Bích Kiều Lệ Như Quỳnh Tường Vân Thảo Thùy Nhật Duy Hoàng Việt Đăng Huy
Trung Phúc Tấn Chí Khắc Viết Song Hà Thiên Hạnh Tú Cẩm Nguyệt Thúy Ánh Mai Phước Vĩnh Hoài Thành Tất Sỹ Sĩ
Ngọc Thái Thuận Trường Xuân Đại Hùng Kiến Nhã Tuyết Hương Huyền Khải Lan Thục Tố Ý Yến Hồng Châu Bảo Hiếu
Hòa Tâm Tùng Trí Dũng Hưng Long Nam Vũ Quý Phú Đắc Nguyên Hạ Uyên Linh Diễm Hiền Thiện Hoàn Kỳ Đoan
"""
# Given names: one form, or "male/female" when the folded spelling has two common forms.
_GIVENS = """
An Anh Bình Cường Dũng/Dung Dương Giang Hà Hải Hằng Hạnh Hiếu Hòa/Hoa Hùng Hương Huy Khánh Lan Linh Long
Mai Minh Nam Nga Ngọc Nhung Phong Phúc Phương Quang Quân Sơn Tâm Thảo Thắng Thủy Trang Trung Tú Tuấn Việt Yến
Bảo Châu Chi Công Đạt Diệp Diệu Đông Duy Đức Giao Hân Hào Hậu Hiền Hiệp Hoài Hoàn Hoàng Hồng Huệ Huyền Kha
Khang Khoa Khôi Kiên Kiệt Kim Lâm Lệ Liên Loan Lộc Lợi Luân Lương Ly Mạnh Mỹ Nghĩa Nhân/Nhàn Nhật Nhi Như Oanh
Phát Phi Phú Quốc Quý Quyên Quỳnh Sang Tài Tân Thái Thành/Thanh Thiện Thịnh Thoa Thơm Thông Thuận Thương
Tiến/Tiên Tín Toàn Trâm Trí Trinh Trúc Trường Tùng Tuyết Uyên Vân Vi Vinh Vũ Vương Xuân Ý Ánh Ân Bích Cúc Đào
Diễm Điệp Định Đoàn Dung Duyên Gấm Hạ Hiển Hiệp Hòa Hợp Huân Hưởng Khải Khiêm Kiều Lài Lành Lập Lực Lụa Mận
Mến Minh Mừng My Năm Nghi Ngân Nguyên Nhàn Nhiên Nhu Phượng Quế Quyết Sáu Sen Sinh Sương Tám Tấn Thạch Thắm
Thiên Thìn Thọ Thúy Thục Thư Tình Toản Trà Triều Trọng Tư Tường Tuyền Út Vàng Viên Vĩnh Vy Xuyến Yên
Chiến Cương Đại Đạo Dân Điền Đỉnh Hiếu Học Hưng Kỳ Lâm Luyến Mạnh Nhẫn Nhạn Phụng Quảng Sỹ Tạo Thạnh Thể
Thuật Tiệp Toại Trác Tráng Trị Trực Tuân Tuệ Tuyên Văn Vấn Vỹ Diệu Hảo Hường Khuê Lam Lễ Loan Na Ngà Nương
Phấn Quyên Sa Thanh Thảo Thơ Trầm Tươi Xinh Yến Khanh Luyện Mai Nhạn Nhung Quang Quyền Thuyết
"""
# Folded given names whose two common forms are used by the same sex: no proposal.
_AMBIGUOUS_GIVEN = frozenset({"thu", "tho", "tinh", "tuyen", "luyen", "hung", "thuy", "phuong"})


def _build_name_tables() -> tuple[dict[str, str], dict[str, str], dict[str, tuple[str, str]]]:
    def table(src: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for w in src.split():
            out.setdefault(fold(w), nfc(w))  # the first listed form wins
        return out

    surnames = table(_SURNAMES)
    middles = table(_MIDDLES)
    givens: dict[str, tuple[str, str]] = {}
    for w in _GIVENS.split():  # forms that differ by sex first, then the first listed form
        if "/" in w:
            male, female = w.split("/")
            givens[fold(male)] = (nfc(male), nfc(female))
    for w in _GIVENS.split():
        if "/" not in w:
            givens.setdefault(fold(w), (nfc(w), nfc(w)))
    return surnames, middles, givens


_SURNAME_TABLE, _MIDDLE_TABLE, _GIVEN_TABLE = _build_name_tables()
_MALE_MIDDLES = frozenset({"van", "duc", "huu", "cong", "dinh", "trong", "the", "ba", "tien", "manh", "quoc",
                           "khac", "viet", "tan", "chi", "sy", "si", "dac", "dang", "tat"})
_FEMALE_MIDDLES = frozenset({"thi", "dieu", "bich", "le", "my", "kieu", "tuyet", "thuy", "cam", "nguyet"})


_HONORIFICS = (("cu", "ong"), ("cu", "ba"), ("ong", "cu"), ("ba", "cu"), ("ong",), ("ba",), ("cu",), ("anh",),
               ("chi",), ("em",), ("co",), ("chu",), ("bac",), ("chau",), ("be",), ("da", "vang"), ("da",), ("vang",))
"""Words of respect said before a name (“cụ Nguyễn Văn An”, “bà Trần Thị Hoa”, “dạ Lê Văn Tám”), folded; never
part of it."""


def starts_with_surname(text: str) -> bool:
    """Whether the first word, folded, is a known Vietnamese surname (“Nguyễn”, “tran”): a name may be meant."""
    words = fold(text or "").split()
    return bool(words) and words[0] in _SURNAME_TABLE


def strip_honorific(text: str) -> str:
    """A name without the word of respect before it: “cụ ông Nguyễn Văn An” → “Nguyễn Văn An”. Only when a
    surname and at least one more word follow it: “Ông Văn Dũng” (Ông is a surname too) and “Cù Huy Cận” stay."""
    words = text.split()
    folded = [fold(w).rstrip(",") for w in words]  # (“dạ vâng, Lê Văn Tám”)
    for h in _HONORIFICS:
        n = len(h)
        if tuple(folded[:n]) == h and len(words) >= n + 2 and folded[n] in _SURNAME_TABLE:
            return " ".join(words[n:])
    return text


_AGE_AFTER = re.compile(r"(?i)[,;]?\s+(?:năm nay\s+|nam nay\s+)?\d{1,3}\s*(?:tháng\s+|thang\s+)?(?:tuổi|tuoi)\.?$")
"""An age said after a name (“…, 7 tuổi”, “… 8 tháng tuổi”)."""


def name_of(answer: str) -> str:
    """The name in an answer to a name question: without the words that introduce it (“tôi tên là”,
    :func:`parsing.strip_name_intro`), a word of respect before it (:func:`strip_honorific`), a note in
    brackets after it (“Nguyễn Thị Lan (mẹ tôi)”) or whose relative it is (“…, bố tôi”)."""
    from . import parsing

    text = re.sub(r"^(.*\w)\s*\([^()]*\)$", r"\1", without_polite_end(" ".join(nfc(answer or "").split())))
    text = _AGE_AFTER.sub("", text) or text  # “Hoàng Minh Khôi, 7 tuổi”: the age is asked as a birth date
    name = strip_honorific(parsing.strip_name_intro(text))
    return parsing.without_kinship(name) or name  # (“Nguyễn Văn An bố tôi”: the name)


def restore_diacritics_name(text: str) -> str | None:
    """Propose the common diacritised form of a name typed without diacritics.

    >>> restore_diacritics_name("tran thi thu huong")
    'Trần Thị Thu Hương'

    Uses built-in tables of common surnames, middle names and given names
    (given names that differ by sex — Dũng/Dung, Hòa/Hoa, Thành/Thanh,
    Tiến/Tiên — follow the middle name: Văn → male, Thị → female).  Returns
    ``None`` when the text already has diacritics, has fewer than two words,
    or any word is unknown or has no single common form; the engine asks the
    citizen to confirm a proposal.
    """
    if not text:
        return None
    raw = " ".join(nfc(text).split())
    if not raw or not raw.isascii():
        return None
    if not re.fullmatch(r"[A-Za-z]+(?: [A-Za-z]+){1,5}", raw):
        return None
    words = raw.lower().split()
    surname = _SURNAME_TABLE.get(words[0])
    if surname is None:
        return None
    middles_raw = words[1:-1]
    given_key = words[-1]
    if given_key in _AMBIGUOUS_GIVEN or given_key not in _GIVEN_TABLE:
        return None
    middles: list[str] = []
    for w in middles_raw:
        m = _MIDDLE_TABLE.get(w)
        if m is None:
            g = _GIVEN_TABLE.get(w)
            if g is None or g[0] != g[1] or w in _AMBIGUOUS_GIVEN:
                return None
            m = g[0]
        middles.append(m)
    male, female = _GIVEN_TABLE[given_key]
    if male != female:
        if any(w in _FEMALE_MIDDLES for w in middles_raw):
            given = female
        elif any(w in _MALE_MIDDLES for w in middles_raw):
            given = male
        else:
            return None
    else:
        given = male
    return " ".join([surname, *middles, given])


#: the usual spellings of given names that are written several ways without diacritics (the citizen picks)
_AMBIGUOUS_FORMS = {"thu": ("Thu", "Thư"), "tho": ("Thơ", "Thọ"), "tinh": ("Tình", "Tịnh", "Tĩnh"),
                    "tuyen": ("Tuyến", "Tuyền", "Tuyên"), "luyen": ("Luyến", "Luyện"),
                    # both forms common for one sex (“nguyen van hung”: Hùng as often as Hưng)
                    "hung": ("Hùng", "Hưng"), "thuy": ("Thủy", "Thúy"), "phuong": ("Phương", "Phượng")}


def name_candidates(text: str, limit: int = 3) -> list[str]:
    """The likely spellings with diacritics of a name typed without them, when :func:`restore_diacritics_name`
    cannot settle on one: each word's common forms (a given name that differs by sex both ways), at most
    ``limit`` combinations. Empty when the text has diacritics, or a word is not a known name part (the
    citizen is then asked to type it with diacritics)."""
    raw = " ".join(nfc(text or "").split())
    if not raw or not raw.isascii() or not re.fullmatch(r"[A-Za-z]+(?: [A-Za-z]+){1,5}", raw):
        return []
    words = raw.lower().split()
    options: list[tuple[str, ...]] = []
    for i, w in enumerate(words):
        if i == 0:
            forms: tuple[str, ...] = (_SURNAME_TABLE[w],) if w in _SURNAME_TABLE else ()
        elif w in _AMBIGUOUS_FORMS:
            forms = _AMBIGUOUS_FORMS[w]
        elif i < len(words) - 1 and w in _MIDDLE_TABLE:
            forms = (_MIDDLE_TABLE[w],)
        elif w in _GIVEN_TABLE:
            forms = tuple(dict.fromkeys(_GIVEN_TABLE[w]))
        else:
            forms = ()
        if not forms:
            return []
        options.append(forms)
    out = [""]
    for forms in options:
        out = [f"{head} {f}".strip() for head in out for f in forms][: limit * 4]
    return out[:limit]


# ==========================================================================
# Evaluation on the labelled set
# ==========================================================================

EVAL_TODAY = date(2026, 11, 23)
DEFAULT_EVAL_FILE = Path(__file__).resolve().parent.parent / "tests" / "nlu" / "utterances.tsv"


def eval_catalog(catalog: Any = None) -> list[Any]:
    """The procedures of the catalogue (loaded if not given)."""
    if catalog is None:
        from .catalog import Catalog

        catalog = Catalog.load()
    return _procedures_of(catalog)


@dataclass
class EvalReport:
    total: Counter[str] = field(default_factory=Counter)
    correct: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, str, str]] = field(default_factory=list)  # category, text, expected, got

    @property
    def accuracy(self) -> float:
        n = sum(self.total.values())
        return sum(self.correct.values()) / n if n else 0.0

    def by_category(self) -> dict[str, float]:
        return {c: self.correct[c] / n for c, n in self.total.items() if n}

    def __str__(self) -> str:
        lines = [f"{'category':<12} {'ok':>4} / {'n':<4} accuracy"]
        for c in self.total:
            lines.append(f"{c:<12} {self.correct[c]:>4} / {self.total[c]:<4} {self.correct[c] / self.total[c]:6.1%}")
        n = sum(self.total.values())
        lines.append(f"{'overall':<12} {sum(self.correct.values()):>4} / {n:<4} {self.accuracy:6.1%}")
        if self.failures:
            lines.append("")
            lines.append(f"failures ({len(self.failures)}):")
            for c, text, exp, got in self.failures:
                lines.append(f"  [{c}] {text!r}: expected {exp}, got {got}")
        return "\n".join(lines)


def _check(category: str, text: str, expected: str, catalog: Any) -> tuple[bool, str]:
    from . import parsing

    if category in ("intent", "ambiguous", "nonintent"):
        d = decide(text, catalog)
        top3 = [d.procedure] if d.procedure else list(d.candidates)
        got = d.procedure or ("?" + "|".join(d.candidates) if d.candidates else "none")
        if expected.startswith("?"):
            wanted = expected[1:].split("|")
            ok = all(w in top3 for w in wanted) and (d.procedure is None or d.procedure in wanted)
        elif expected == "-":
            ok = d.procedure is None
        elif expected == "none":
            ok = d.procedure is None and not d.candidates
        else:
            ok = d.procedure == expected
        return ok, got
    if category == "info":
        got = detect_info_question(text) or "none"
        return got == expected, got
    if category == "lang":
        got = detect_language_switch(text) or "none"
        return got == expected, got
    if category == "name":
        got = restore_diacritics_name(text) or "none"
        return got == expected, got
    try:
        if category == "date":
            got = parsing.parse_date(text, today=EVAL_TODAY).isoformat()
        elif category == "yesno":
            got = str(parsing.parse_yes_no(text)).lower()
        elif category == "money":
            got = str(parsing.parse_money(text))
        else:
            return False, f"unknown category {category!r}"
    except parsing.Invalid as exc:
        got = f"Invalid({exc.message[:40]}…)"
    return got == expected, got


def evaluate(path: str | Path | None = None, catalog: Any = None) -> EvalReport:
    """Score the labelled set (TSV: category, text, expected; ``#`` comments)."""
    cat = eval_catalog(catalog)
    report = EvalReport()
    for lineno, line in enumerate(Path(path or DEFAULT_EVAL_FILE).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"line {lineno}: expected 3 tab-separated columns, got {len(parts)}")
        category, text, expected = (p.strip() for p in parts)
        ok, got = _check(category, text, expected, cat)
        report.total[category] += 1
        if ok:
            report.correct[category] += 1
        else:
            report.failures.append((category, text, expected, got))
    return report


def _explain(text: str) -> str:
    cat = eval_catalog()
    d = decide(text, cat)
    lines = [f"normalised: {normalise(text)!r}", f"decision:   {d}", "ranked:"]
    lines += [f"  {s:.3f}  {pid}" for pid, s in d.ranked]
    lines.append(f"info:       {detect_info_question(text)}")
    lines.append(f"language:   {detect_language_switch(text)}")
    lines.append(f"name:       {restore_diacritics_name(text)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dialogs.nlu", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    ev = sub.add_parser("eval", help="accuracy on the labelled set")
    ev.add_argument("--file", default=str(DEFAULT_EVAL_FILE))
    ev.add_argument("--target", type=float, default=0.95)
    ex = sub.add_parser("explain", help="show how one message is understood")
    ex.add_argument("text", nargs="+")
    args = parser.parse_args(argv)
    if args.cmd == "eval":
        report = evaluate(args.file)
        print(report)
        return 0 if report.accuracy >= args.target else 1
    print(_explain(" ".join(args.text)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
