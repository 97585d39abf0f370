"""投稿前チェック: a draft post checked before it goes out (DOMAIN.md §4.4).

Informative only — the operator decides.  It looks for personal data
(phone numbers, email addresses, postal addresses, 12-digit individual
numbers whose check digit is right, dates of birth), the account's own
forbidden words and patterns, and words that hint at internal or classified
matters.  Phrases the account declares public (the body's own phone number
and address) are not reported.  The draft itself is never stored: the audit
trail keeps its SHA-256 and what was found.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import re2
from flask_babel import lazy_gettext as _l

KINDS = {
    "phone": _l("電話番号"),
    "email": _l("メールアドレス"),
    "address": _l("住所"),
    "my_number": _l("個人番号（マイナンバー）"),
    "birth": _l("生年月日"),
    "forbidden": _l("このアカウントの禁止語"),
    "internal": _l("内部・機密を示す語"),
}

REASONS = {
    "phone": _l("個人の電話番号は発信できません（公開している代表番号なら「公開してよい表記」に登録してください）。"),
    "email": _l("個人のメールアドレスは発信できません。"),
    "address": _l("個人の住所は発信できません（庁舎など公開している所在地なら「公開してよい表記」に登録してください）。"),
    "my_number": _l("個人番号の形式で、検査用数字も一致しています。絶対に発信できません。"),
    "birth": _l("生年月日は個人情報です。"),
    "forbidden": _l("このアカウントの発信ルールで禁止している語・表現です。"),
    "internal": _l("未公表の内部情報・機密情報を示す語です。発信できるのは機密性1の情報だけです。"),
}

_DASHES = "‐‑‒–—―−ーｰ－"
_PHONE = re.compile(r"(?<![\d-])(?:\(0\d{1,4}\)\s?\d{1,4}-\d{3,4}|0\d{1,4}-\d{1,4}-\d{3,4}|0[5789]0\d{8}|0\d{9})(?![\d-])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_KANJI = r"[\u4e00-\u9fff\u3005\u3041-\u309f\u30a1-\u30ff]"
_ADDRESS = re.compile(
    r"〒\s?\d{3}-\d{4}"
    r"|" + _KANJI + r"{1,12}?[市区町村郡]" + _KANJI + r"{0,12}?"
    r"\d{1,4}(?:丁目(?:\d{1,4}(?:番地?|-))?\d{0,4}(?:号)?|番地\d{0,4}|番\d{1,4}号?|条" + _KANJI + r"{0,3}\d{1,4}(?:-\d{1,4})*|-\d{1,4}(?:-\d{1,4})?)")
_DATE = (r"(?:(?:19|20)\d{2}|(?:明治|大正|昭和|平成|令和)(?:\d{1,2}|元))年\s?\d{1,2}月\s?\d{1,2}日"
         r"|(?:19|20)\d{2}[/.-]\d{1,2}[/.-]\d{1,2}")
_BIRTH = re.compile(r"(?:生年月日|誕生日)\s*[:：は]?\s*(?:" + _DATE + r")|(?:" + _DATE + r")\s*(?:生まれ|生)")
_MY_NUMBER = re.compile(r"(?<![\d-])\d{4}[ -]?\d{4}[ -]?\d{4}(?![\d-])")
INTERNAL_WORDS = ("内部資料", "部外秘", "庁内限り", "組合内限り", "関係者限り", "関係者外秘", "取扱注意", "機密", "秘密",
                  "非公開", "未公表", "未発表", "公表前", "決裁前", "内部検討", "内示", "個人情報", "マル秘", "㊙")


@dataclass(frozen=True)
class Hit:
    kind: str
    text: str
    line: int

    @property
    def label(self) -> str:
        return str(KINDS[self.kind])

    @property
    def reason(self) -> str:
        return str(REASONS[self.kind])


def normalise(text: str) -> str:
    """Full-width digits and letters to half-width, dashes between digits to '-'."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"(?<=\d)[" + _DASHES + r"](?=\d)", "-", text)


def my_number_valid(digits: str) -> bool:
    """The check digit of a 12-digit individual number (番号法施行令 §8)."""
    numbers = [int(c) for c in digits]
    if len(numbers) != 12:
        return False
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(numbers[:11]), start=1))
    remainder = total % 11
    return numbers[11] == (0 if remainder <= 1 else 11 - remainder)


def lines_of(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _re2_options():
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # a refused pattern is the user's, answered in the form
    return options


_RE2_OPTIONS = _re2_options()


def compile_word(word: str):
    """A forbidden word: plain text, or a regular expression written /like this/.

    A user's expression runs on RE2, whose time grows linearly with the draft
    whatever the pattern: (a+)+$ or (a|a)*$ would backtrack for ever on
    Python's engine, and guessing which patterns do cannot be done reliably.
    RE2 has no back-references or look-around; such a pattern raises
    re2.error and is refused when the account is saved (bad_patterns)."""
    word = normalise(word)
    if len(word) > 2 and word.startswith("/") and word.endswith("/"):
        return re2.compile(word[1:-1], _RE2_OPTIONS)
    return re.compile(re.escape(word), re.IGNORECASE)


def bad_patterns(words: str | None) -> list[str]:
    """The /…/ lines that are not regular expressions RE2 can run."""
    bad = []
    for word in lines_of(words):
        try:
            compile_word(word)
        except re2.error:
            bad.append(word)
    return bad


def check(text: str, *, forbidden_words: str | None = None, public_phrases: str | None = None) -> list[Hit]:
    """Every hit in ``text``, in the order they appear."""
    public = [normalise(phrase) for phrase in lines_of(public_phrases)]
    # A line saved before patterns ran on RE2 may not compile on it: skipped
    # here, refused when the account is next saved.
    forbidden = [compile_word(word) for word in lines_of(forbidden_words) if not bad_patterns(word)]
    hits: list[Hit] = []
    for number, line in enumerate(normalise(text).splitlines(), start=1):
        found: list[tuple[int, str, str]] = []
        for kind, pattern in (("email", _EMAIL), ("phone", _PHONE), ("address", _ADDRESS), ("birth", _BIRTH)):
            found += [(m.start(), kind, m.group(0)) for m in pattern.finditer(line)]
        found += [(m.start(), "my_number", m.group(0)) for m in _MY_NUMBER.finditer(line)
                  if my_number_valid(re.sub(r"\D", "", m.group(0)))]
        for pattern in forbidden:
            found += [(m.start(), "forbidden", m.group(0)) for m in pattern.finditer(line) if m.group(0)]
        found += [(m.start(), "internal", m.group(0)) for word in INTERNAL_WORDS
                  for m in re.finditer(re.escape(word), line)]
        for _start, kind, matched in sorted(found):
            if kind in ("phone", "address", "email") and any(matched in phrase for phrase in public):
                continue
            hits.append(Hit(kind, matched, number))
    return hits


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
