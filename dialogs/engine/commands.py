"""Global commands (typed or pressed at any step) and the requests recognised in a message.

Commands are matched on the whole message with diacritics folded away (“quay lại”, “/back”…).
The ``detect_*`` helpers recognise the requests the runtime serves from the database: a rating, a
withdrawal, following a dossier filed by someone else.
"""
from __future__ import annotations

import re
from typing import Literal, cast

from .. import parsing
from ..codes import normalise_code
from ..messages import NAV_BACK, NAV_CANCEL, NAV_HELP, NAV_SKIP
from ..parsing import Invalid
from ..textnorm import fold

COMMANDS = {
    "back": {"quay lai", "/back", "back", "lui", "lui lai", "tro lai", "quay lai cau truoc", "cau truoc"},
    "skip": {"bo qua", "/skip", "skip", "bo qua cau nay"},
    "help": {"tro giup", "/help", "help", "giup", "giup do", "huong dan", "?", "/trogiup", "giup toi", "can giup",
             "toi can giup", "toi can tro giup", "can tro giup", "huong dan toi", "can huong dan",
             # the question not understood (never “không hiểu” alone: an answer at “Nghe và hiểu…”)
             "la sao", "the la sao", "vay la sao", "nghia la gi", "y la gi", "hoi gi vay", "hoi gi", "toi chua hieu",
             "chua hieu cau hoi", "khong hieu cau hoi", "toi khong hieu cau hoi", "khong hieu la gi", "la the nao"},
    # (cancelling asks first: “Bạn có chắc muốn hủy hồ sơ đang khai không?”)
    "cancel": {"huy", "/cancel", "cancel", "huy bo", "huy ho so", "/huy", "khong lam nua", "thoi khong lam nua",
               "thoi khong lam", "khong muon lam nua", "thoi huy"},
    "menu": {"menu", "/menu", "/start", "trang chu", "danh sach thu tuc", "ve danh sach thu tuc", "ve menu",
             "bat dau lai",
             # to pause, as the bot says “gõ “menu” để tạm dừng” (the draft is kept either way)
             "tam dung", "tam dung lai", "dung lai", "thoat", "thoat ra", "exit", "stop", "/stop", "de sau",
             "khai sau", "lam sau", "gui sau", "chup sau", "gui anh sau", "nop sau"},
    "dossiers": {"/hoso", "ho so cua toi", "xem ho so", "tra cuu ho so", "tra cuu", "/tracuu", "/status",
                 "my applications", "status",
                 # (“trạng thái” alone, after filing, was “Chưa rõ bạn cần thủ tục nào”)
                 "trang thai", "tinh trang", "tien do", "xem trang thai", "xem tinh trang", "xem tien do",
                 "kiem tra trang thai", "kiem tra tinh trang", "tra cuu trang thai", "tra cuu tinh trang"},
    "supplement": {"bo sung", "/bosung", "bo sung ho so", "gui bo sung", "bo sung giay to", "/supplement",
                   "supplement"},
    "info": {"thong tin", "/info", "can giay to gi", "giay to", "can gi", "mat bao lau", "bao lau",
             "le phi", "thu tuc nay can gi", "can chuan bi gi", "/thongtin", "info"},
    # thanks alone (after the filing, or at a question) is no answer: the name question offered “CAM ON” as a name
    "thanks": {"cam on", "cam on ban", "cam on nhieu", "cam on em", "cam on chi", "cam on anh", "cam on ad",
               "cam on nhe", "cam on nha", "cam on ban nhieu", "cam on nhieu nhe", "xin cam on", "ok cam on",
               "oke cam on", "vang cam on", "cam on tro ly", "camon", "thanks", "thank you", "thank", "tks", "thx",
               "ok thanks", "thank you so much", "thanks a lot", "many thanks"},
    # the one-tap answer of a draft reminder (bot/reminders.py), and turning reminders off and on
    "resume": {"tiep tuc", "/tieptuc", "khai tiep", "continue", "/continue"},
    "reminders_off": {"tat nhac", "/tatnhac", "khong nhac nua", "dung nhac", "tat nhac nho", "stop reminders"},
    "reminders_on": {"bat nhac", "/batnhac", "bat nhac nho", "start reminders"},
}
RESUME_CHOICE = "resume:"  # + a procedure id: the reminder's button
# Typed at a question asked again (after “quay lại” or an edit): keep the answer given before.
KEEP_WORDS = frozenset({"giu nguyen", "giu", "giu nhu cu", "de nguyen", "nhu cu", "keep", "giu lai"})
NAV_TO_COMMAND = {NAV_BACK: "back", NAV_SKIP: "skip", NAV_HELP: "help", NAV_CANCEL: "cancel"}
MAX_FOLLOW_FAILURES = 5


_ASKING = re.compile(r"(?:\s+(?:voi|giup))+$")  # “giúp tôi với”: asking for it, after the polite words

# A question about the dossiers filed, in the words people use (“tình trạng hồ sơ”, “kiểm tra hồ sơ”, “hồ sơ của
# tôi đến đâu rồi”, “hồ sơ đã được duyệt chưa”): the command “dossiers”. Without it “kiểm tra hồ sơ” opened the
# bank registration and “tình trạng hồ sơ” the care facility's, by a word of theirs. (“hồ sơ” alone, or “hồ sơ
# thế nào” — what to prepare — are not.)
_OWNER = r"(?:\s+(?:cua\s+)?(?:toi|minh|em|tui|nha toi|nha minh|(?:me|bo|ba|ong|ba noi|ba ngoai|con) toi))?"
_DOSSIERS_RE = re.compile(
    r"^(?P<verb>(?:xem|kiem tra|tra cuu|hoi|coi|cho (?:toi|minh|em) (?:xem|hoi))(?:\s+lai)?\s+)?"
    r"(?P<what>(?:tinh trang|tien do|trang thai|ket qua)\s+(?:cua\s+)?)?ho so" + _OWNER +
    r"(?P<how>\s+(?:(?:da\s+)?(?:den|toi)\s+dau(?:\s+roi)?|dau\s+roi|(?:sao|the nao|ra sao)\s+roi"
    r"|(?:da\s+)?(?:duoc\s+)?(?:duyet|xu ly|giai quyet|tiep nhan|xong|co ket qua)\s+chua))?(?:\s+vay|\s+the)?$")


# the same in English (“what is the status of my application”, “where is my application”, “track my dossier”)
_DOSSIERS_EN = re.compile(r"^(?:(?:what is|what s|whats|check|track|show|see|where is|where s)\s+)?(?:the\s+)?"
                          r"(?:status\s+of\s+)?my\s+(?:application|dossier|file|request)s?(?:\s+status)?$"
                          r"|^(?:application|dossier)\s+status$")


def _asks_for_dossiers(candidate: str) -> bool:
    if _DOSSIERS_EN.match(candidate):
        return True
    m = _DOSSIERS_RE.match(candidate)  # (“hồ sơ” alone is no question: a verb, a state or a “how far” is needed)
    return m is not None and any(m[g] is not None for g in ("verb", "what", "how"))


def detect_command(text: str) -> str | None:
    """The command a whole message is, polite words around it aside (“dạ quay lại ạ”, “hủy đi”, “giúp tôi với”)."""
    key = fold(text).strip(" .!")
    for candidate in (key, _ASKING.sub("", parsing.without_polite(key.rstrip(" ?"))).strip()):
        for name, words in COMMANDS.items():
            if candidate in words:
                return name
        if _asks_for_dossiers(candidate.rstrip(" ?")):
            return "dossiers"
    return None


def is_keep(text: str) -> bool:
    return fold(text).strip(" .!") in KEEP_WORDS


_RATING_RE = re.compile(r"^/?(?:danh ?gia|rate)\s*(?P<code>[a-z]{2,4}[- ]?\d{4}[- ]?[0-9a-z]{8})?\s*(?P<stars>[1-5])"
                        r"\s*(?:sao|\*)?$")


def detect_rating(text: str) -> tuple[str | None, int] | None:
    """“đánh giá 5”, “/danhgia MT-2611-7KQ4XP9Z 4” -> (code or None, stars)."""
    m = _RATING_RE.match(fold(text).strip(" .!"))
    if not m:
        return None
    return (normalise_code(m["code"]) if m["code"] else None), int(m["stars"])


_RATING_ASK_RE = re.compile(r"^/?(?:danh ?gia|rate)(?:\s+(?P<code>[a-z]{2,4}[- ]?\d{4}[- ]?[0-9a-z]{8}))?"
                            r"(?:\s+(?:ho ?so|chat luong|dich vu))?$")


def detect_rating_ask(text: str) -> str | Literal[True] | None:
    """“đánh giá” (or “đánh giá MT-2611-7KQ4XP9Z”) without stars -> the code, or True for the latest closed
    dossier; None for anything else. The bot then asks how many stars: it never starts a procedure."""
    m = _RATING_ASK_RE.match(fold(text).strip(" .!"))
    if not m:
        return None
    return normalise_code(m["code"]) if m["code"] else True


def parse_stars(text: str) -> int | None:
    """“5”, “5 sao”, “năm sao”, “⭐⭐⭐⭐” -> 1..5."""
    stars = text.count("⭐")
    if 1 <= stars <= 5 and not text.replace("⭐", "").strip():
        return stars
    key = fold(text).strip(" .!")
    key = re.sub(r"\s*(?:sao|\*|diem|stars?)$", "", key).strip()
    words = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5}
    if key in ("1", "2", "3", "4", "5"):
        return int(key)
    return words.get(key)


_WITHDRAW_RE = re.compile(r"^/?(?:rut ?ho ?so|withdraw)(?:\s+(?P<code>[a-z]{2,4}[- ]?\d{4}[- ]?[0-9a-z]{8}))?$")


def detect_withdraw(text: str) -> str | bool | None:
    """“rút hồ sơ MT-2611-7KQ4XP9Z”, “/ruthoso MT-…” -> the code; “rút hồ sơ” alone -> True (explain)."""
    m = _WITHDRAW_RE.match(fold(text).strip(" .!"))
    if not m:
        return None
    return normalise_code(m["code"]) if m["code"] else True


_FOLLOW_RE = re.compile(r"^/?(?:theo ?doi|follow)(?:\s+(?P<code>[a-z]{2,4}[- ]?\d{4}[- ]?[0-9a-z]{8}))?"
                        r"(?:\s+(?P<pin>\d{4}))?$")


def detect_follow(text: str) -> tuple[str, str] | bool | None:
    """“/theodoi MT-2611-7KQ4XP9Z 1234” -> (code, last four digits); “/theodoi” alone -> True (explain)."""
    m = _FOLLOW_RE.match(fold(text).strip(" .!"))
    if not m:
        return None
    if m["code"] and m["pin"]:
        # normalise_code gives None for a code that cannot exist (e.g. month 13); kept as the runtime had it
        return cast(str, normalise_code(m["code"])), m["pin"]
    return True


def plausible_name(text: str) -> bool:
    """A re-typed name, rather than the answer to a later question typed too early (a date, a number)."""
    try:
        parsing.parse_name(text)
    except Invalid:
        return False
    return True
