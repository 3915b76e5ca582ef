"""Vietnamese banks: the ``bank`` and ``bank_account`` field kinds.

The list of banks is data (``dialogs/data/banks.yaml``: name, short name,
VietQR code, NAPAS BIN, aliases, account-number lengths where known, with its
source and as-of date). This module is pure and channel-free:

* :func:`match` turns what a person typed ("vcb", "vietcombank", "agri",
  "ngân hàng nông nghiệp", a BIN) into candidate banks;
* :func:`parse_bank` accepts exactly one bank (stored answer: its BIN) or
  raises :class:`UnknownBank` / :class:`AmbiguousBank` (an ``Invalid`` carrying
  the candidates, so a channel can offer them as buttons: see
  :func:`ambiguity_choices`);
* :func:`parse_account` checks an account number: digits only (spaces, dots and
  dashes are dropped), the bank's length where known, else 6–19 digits;
* :func:`display` renders both kinds for the summary and the officers:
  "Agribank — Ngân hàng Nông nghiệp … (BIN 970405)", "1234 5678 9012 3".

Account numbers are personal (financial) data: nothing here logs, and
``Invalid`` messages never repeat a typed account number.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .i18n import N_, Translator
from .parsing import Invalid, drop_label, number_label
from .textnorm import close_matches, fold

DATA = Path(__file__).parent / "data" / "banks.yaml"
KINDS = ("bank", "bank_account")
MAX_CHOICES = 6

HINT_BANK = N_("Gõ tên ngân hàng hoặc tên viết tắt, ví dụ: Agribank, Vietcombank, BIDV, VietinBank.")
HINT_ACCOUNT = N_("Nhập số tài khoản, chỉ gồm chữ số (có thể cách nhau bởi dấu cách).")


@dataclass(frozen=True)
class Bank:
    code: str
    bin: str
    short: str
    name: str
    aliases: tuple[str, ...] = ()
    lengths: tuple[int, int] | None = None
    kind: str = "bank"  # bank | ewallet

    @property
    def label(self) -> str:
        return f"{self.short} — {self.name}"


@dataclass(frozen=True)
class BankList:
    banks: tuple[Bank, ...]
    source: str
    as_of: date | None
    default_lengths: tuple[int, int]

    def by_bin(self, bin_: str) -> Bank | None:
        return next((b for b in self.banks if b.bin == bin_), None)


class UnknownBank(Invalid):
    pass


class AmbiguousBank(Invalid):
    def __init__(self, message: str, candidates: list[Bank], **params: Any) -> None:
        super().__init__(message, **params)
        self.candidates = candidates


@lru_cache(maxsize=1)
def bank_list() -> BankList:
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    banks = []
    for b in raw["banks"]:
        lengths = tuple(b["lengths"]) if b.get("lengths") else None
        banks.append(Bank(code=str(b["code"]), bin=str(b["bin"]), short=str(b["short"]), name=str(b["name"]),
                          aliases=tuple(str(a) for a in b.get("aliases", ())), lengths=lengths,
                          kind=b.get("kind", "bank")))
    as_of = raw.get("as_of")
    return BankList(tuple(banks), str(raw.get("source", "")), as_of if isinstance(as_of, date) else None,
                    tuple(raw.get("default_lengths", (6, 19))))


def _key(s: str) -> str:
    return re.sub(r"[^a-z0-9& ]+", " ", fold(s)).strip()


def _squash(s: str) -> str:
    return _key(s).replace(" ", "")


_PREFIXES = ("ngan hang tmcp ", "ngan hang thuong mai co phan ", "ngan hang ", "nh tmcp ", "nh ", "ngan hang so ")


def _strip(q: str) -> str:
    for p in _PREFIXES:
        if q.startswith(p) and len(q) > len(p):
            q = q[len(p):]
            break
    if q.endswith(" bank") and len(q) > 5:
        q = q[:-5]
    return q.strip()


@lru_cache(maxsize=1)
def _index() -> dict[str, list[Bank]]:
    """Exact keys (squashed: no spaces) -> banks."""
    idx: dict[str, list[Bank]] = {}
    for b in bank_list().banks:
        keys = {b.bin, _squash(b.code), _squash(b.short), _squash(b.name), _squash(_strip(_key(b.name)))}
        keys |= {_squash(a) for a in b.aliases}
        short = _key(b.short)
        if short.endswith("bank") and len(_squash(short[:-4])) >= 5:  # "techcom", "sacom"; not "viet"
            keys.add(_squash(short[:-4]))
        for k in keys:
            if k and b not in idx.setdefault(k, []):
                idx[k].append(b)
    return idx


# “Agribank chi nhánh Đức Trọng”, “BIDV CN Lâm Đồng”, “Vietcombank phòng giao dịch …”: the branch after the bank
_BRANCH_RE = re.compile(r"\s+(?:chi nhanh|cn|pgd|phong giao dich|so giao dich|tai|o)\s+.*$")


def match(raw: str) -> list[Bank]:
    """The banks a typed text may mean, best first (empty: none; more than one: ambiguous). A branch named after
    the bank (“chi nhánh Đức Trọng”) is not part of it, unless the list names that branch (a foreign bank's)."""
    q = _key(raw)
    if not q:
        return []
    found = _match(q)
    bank = _BRANCH_RE.sub("", q)
    return found if found or not bank or bank == q else _match(bank)


def _match(q: str) -> list[Bank]:
    idx = _index()
    for cand in (q, _strip(q)):
        hit = idx.get(cand.replace(" ", ""))
        if hit:
            return list(hit)
    q = _strip(q)
    sq = q.replace(" ", "")
    banks = bank_list().banks
    # the start of a short name, code or alias ("viet" -> Vietcombank, VietinBank, VietABank ...)
    if len(sq) >= 3:
        found = [b for b in banks if any(k.startswith(sq) for k in [_squash(b.short), _squash(b.code)]
                                         + [_squash(a) for a in b.aliases])]
        if found:
            return found
    # every typed word appears in the bank's name ("nong nghiep", "hang hai")
    words = q.split()
    found = [b for b in banks if all(w in set(_key(b.name).split()) for w in words)]
    if found:
        return found
    # typos: "vietcombak", "agribak"
    keys: dict[str, list[Bank]] = {}
    for b in banks:
        for k in [_squash(b.short), _squash(b.code)] + [_squash(a) for a in b.aliases]:
            if len(k) >= 4:
                keys.setdefault(k, []).append(b)
    scores = close_matches(sq, keys, cutoff=0.8)
    out: list[Bank] = []
    for k, _s in sorted(scores.items(), key=lambda kv: -kv[1]):
        for b in keys[k]:
            if b not in out:
                out.append(b)
    return out


_ACCOUNT_RE = re.compile(r"\d[\d .-]{4,}\d")  # an account number typed with the bank (6 digits or more)
_ACCOUNT_WORDS_RE = re.compile(r"\b(?:so tai khoan|tai khoan|so tk|stk|tk|so)\b[\s:]*")


def account_in(raw: str) -> str | None:
    """The digits of an account number typed with the bank's name (“tk agribank 1234 5678 90123”), if any."""
    m = _ACCOUNT_RE.search(raw or "")
    return re.sub(r"\D", "", m.group()) if m else None


def _without_account(raw: str) -> str:
    """The bank's part of “tk agribank 1234567890123”: the number and the words that name it dropped."""
    text = _ACCOUNT_RE.sub(" ", raw or "")
    return " ".join(_ACCOUNT_WORDS_RE.sub(" ", _key(text)).split()) if text != raw else raw


def parse_bank(raw: str) -> str:
    """One bank from typed text or a pressed choice; the stored answer is its BIN. An account number typed with
    it is set aside (and never said back)."""
    text = _without_account(raw.strip()).strip()
    if not any(ch.isalpha() for ch in text):  # a BIN, or the account number typed a question early
        hits = match(raw.strip())
        if not hits:
            raise UnknownBank(N_("Câu này hỏi tên ngân hàng, ví dụ: Agribank, Vietcombank, BIDV; số tài khoản được "
                                 "hỏi ngay sau đó."))
        text = raw.strip()
    hits = match(text)
    if not hits:
        raise UnknownBank(N_("Chưa tìm thấy ngân hàng “{text}” trong danh sách ngân hàng Việt Nam. Vui lòng gõ tên "
                             "ngân hàng hoặc tên viết tắt, ví dụ: Agribank, Vietcombank, BIDV, VietinBank."),
                          text=text[:40])
    if len(hits) > 1:
        names = ", ".join(b.short for b in hits[:MAX_CHOICES])
        more = len(hits) > MAX_CHOICES
        raise AmbiguousBank(N_("“{text}” có thể là nhiều ngân hàng ({names}{more}). Vui lòng chọn đúng ngân hàng "
                               "của bạn, hoặc gõ rõ hơn tên viết tắt."),
                            hits[:MAX_CHOICES], text=text[:40], names=names, more=", …" if more else "")
    return hits[0].bin


def ambiguity_choices(raw: str) -> list[tuple[str, str]]:
    """(value, label) buttons for an ambiguous bank answer; empty when it is not ambiguous."""
    hits = match(raw)
    if len(hits) <= 1:
        return []
    return [(b.bin, b.short) for b in hits[:MAX_CHOICES]]


_SEPARATORS = re.compile(r"[\s.\-_/]+")


_ACCOUNT_LABEL = number_label(r"stk|so\s*tai\s*khoan|so\s*tk|tai\s*khoan|tk|so")


_DIGITS_IN_TEXT = re.compile(r"(?<!\d)\d(?:[\s.\-]?\d){5,}(?!\d)")  # six digits or more inside a sentence


def parse_account(raw: str, bank_bin: str | None = None) -> str:
    """An account number: digits only, the bank's length if known, else 6–19 digits. Stored as digits; a label
    typed before it (“STK: 0071…”, “số tài khoản là 0071…”) is dropped."""
    digits = _SEPARATORS.sub("", drop_label(raw.strip(), _ACCOUNT_LABEL))
    if not digits.isdigit():
        groups = list(dict.fromkeys(_SEPARATORS.sub("", m.group(0)) for m in _DIGITS_IN_TEXT.finditer(raw)))
        if len(groups) == 1:  # “0071 0001 23456 (Vietcombank)”, “tk vcb 0071000123456”: checked as typed alone
            return parse_account(groups[0], bank_bin)
        raise Invalid(N_("Số tài khoản chỉ gồm chữ số. Vui lòng nhập lại, ví dụ: 1234 5678 9012."))
    bl = bank_list()
    bank = bl.by_bin(bank_bin) if bank_bin else None
    lo, hi = (bank.lengths if bank is not None and bank.lengths else bl.default_lengths)
    if not lo <= len(digits) <= hi:
        if bank is not None and bank.lengths and lo == hi:
            raise Invalid(N_("Số tài khoản {bank} có {n} chữ số; số bạn nhập có {got} chữ số. Vui lòng kiểm tra lại "
                             "trên thẻ hoặc sổ tài khoản."), bank=bank.short, n=lo, got=len(digits))
        raise Invalid(N_("Số tài khoản thường có từ {lo} đến {hi} chữ số; số bạn nhập có {got} chữ số. Vui lòng kiểm "
                         "tra lại."), lo=lo, hi=hi, got=len(digits))
    if len(set(digits)) == 1:
        raise Invalid(N_("Số tài khoản này không hợp lệ. Vui lòng kiểm tra lại trên thẻ hoặc sổ tài khoản."))
    return digits


def parse_value(kind: str, raw: str, bank_field: str | None, lookup: Callable[[str], Any]) -> str:
    if kind == "bank":
        return parse_bank(raw)
    bank_bin = lookup(bank_field) if bank_field else None
    return parse_account(raw, bank_bin if isinstance(bank_bin, str) else None)


def group_digits(digits: str) -> str:
    return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))


def bank_label(bin_: str | None) -> str:
    b = bank_list().by_bin(bin_) if bin_ else None
    return b.label if b else (bin_ or "")


def display(kind: str, value: Any, t: Translator) -> str:
    if kind == "bank":
        b = bank_list().by_bin(str(value))
        return t(N_("{short} — {name} (mã BIN {bin})"), short=b.short, name=b.name, bin=b.bin) if b else str(value)
    return group_digits(str(value))


def masked_account(digits: str | None) -> str:
    """For notifications and lists: only the last 4 digits."""
    if not digits:
        return ""
    return "•••• " + digits[-4:]


def brief(kind: str, value: Any) -> str:
    """A bank or an account in a notification: the bank's short name, the account's last 4 digits."""
    if kind == "bank":
        return bank_label(str(value) if value else None).split(" — ")[0]
    return masked_account(str(value) if value else None)
