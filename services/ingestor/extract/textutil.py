"""Small text helpers shared by the extractors: width folding, numerals, scripts, lines."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .lazy_re import lazy
from .noise import strip_inline_noise

# Full-width ASCII (U+FF01..U+FF5E) -> ASCII and the ideographic space -> space. One character
# for one character, so match positions in folded text are positions in the original text.
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20
_FOLD[0x00A0] = 0x20

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "Ｏ": 0,
    "O": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "两": 2,
    "贰": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
_CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100}

CN_NUMERAL_CHARS = "零〇○一二两三四五六七八九十百壹贰叁肆伍陆柒捌玖拾佰"

_EN_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}

EN_NUMBER_PATTERN = (
    r"(?:\d{1,3}|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three"
    r"|four|five|six|seven|eight|nine))?|eleven|twelve|thirteen|fourteen|fifteen|sixteen"
    r"|seventeen|eighteen|nineteen|one|two|three|four|five|six|seven|eight|nine|ten)"
)

# Characters that only occur in traditional Chinese, common in the notices' vocabulary.
_TRADITIONAL_HINTS = frozenset(
    "國關於應發佈號辦資訊個與權這為業護員違規據處報務門廳區廣東讀網際們問題實規範條"
    "運營開時間應聯絡騰訊視頻頭條紅書聽買賣車華師導覽產貨"
)


def fold_width(text: str) -> str:
    """Full-width letters, digits and punctuation to ASCII; same length as the input."""
    return text.translate(_FOLD)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def cn_number(text: str) -> int | None:
    """Chinese or Arabic numeral to int: ``十五`` -> 15, ``二十`` -> 20, ``九十九`` -> 99.

    Also reads digit-by-digit forms (``二〇二一`` -> 2021). Returns None when not a number.
    """
    text = fold_width(text).strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if all(ch in _CN_DIGITS for ch in text):
        value = 0
        for ch in text:
            value = value * 10 + _CN_DIGITS[ch]
        return value
    total = 0
    current = 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            total += (current or 1) * unit
            current = 0
        else:
            return None
    return total + current


def en_number(text: str) -> int | None:
    """English number word (up to ninety-nine) or digits to int."""
    word = text.strip().lower()
    if word.isdigit():
        return int(word)
    if word in _EN_NUMBERS:
        return _EN_NUMBERS[word]
    parts = re.split(r"[- ]", word)
    if len(parts) == 2 and parts[0] in _EN_NUMBERS and parts[1] in _EN_NUMBERS:
        tens, ones = _EN_NUMBERS[parts[0]], _EN_NUMBERS[parts[1]]
        if tens >= 20 and tens % 10 == 0 and ones < 10:
            return tens + ones
    return None


def is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2FA1F
        or 0xF900 <= code <= 0xFAFF
    )


def cjk_ratio(text: str) -> float:
    """Share of CJK ideographs among ideographs and Latin letters (0.0 when there are none).

    A Latin letter weighs a fifth of an ideograph: an English word is about five letters and
    carries about as much as one or two characters.
    """
    cjk = sum(1 for ch in text if is_cjk(ch))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    if cjk == 0 and latin == 0:
        return 0.0
    return cjk / (cjk + latin / 5)


@lru_cache(maxsize=1)
def _t2s() -> object:
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional Chinese to simplified (via OpenCC) when the text looks traditional."""
    if not any(ch in _TRADITIONAL_HINTS for ch in text):
        return text
    converter = _t2s()
    converted: str = converter.convert(text)  # type: ignore[attr-defined]
    return converted


@dataclass(frozen=True)
class Script:
    """A text converted to simplified script character by character, so that offsets and
    lengths stay the same, and the way back to what the text wrote."""

    original: str
    simplified: str

    def restore(self, value: str) -> str:
        """``value`` (cut from ``simplified``) in the script the original text used."""
        if self.original is self.simplified:
            return value
        at = self.simplified.find(value)
        if at >= 0:
            return self.original[at : at + len(value)]
        back = _back_map(self.original, self.simplified)
        return "".join(back.get(ch, ch) for ch in value)


@lru_cache(maxsize=8)
def _back_map(original: str, simplified: str) -> dict[str, str]:
    back: dict[str, str] = {}
    for before, after in zip(original, simplified, strict=True):
        if before != after:
            back.setdefault(after, before)
    return back


def simplified_script(text: str) -> Script:
    """``text`` in simplified script with the same length (traditional reprints are read as
    the simplified original; names are given back as the reprint wrote them)."""
    if not any(ch in _TRADITIONAL_HINTS for ch in text):
        return Script(text, text)
    converter = _t2s()
    converted: str = converter.convert(text)  # type: ignore[attr-defined]
    if len(converted) != len(text):
        chars: list[str] = []
        for ch in text:
            one: str = converter.convert(ch)  # type: ignore[attr-defined]
            chars.append(one if len(one) == 1 else ch)
        converted = "".join(chars)
    return Script(text, converted)


_SPACES = lazy(r"[ \u3000\u00a0\u2002\u2003\u200b]+")
_TABS = lazy(r" ?\t[\t ]*")


def clean_line(line: str) -> str:
    """Reprint noise removed (pinyin annotations, encoding junk, page widgets: ``noise``), runs
    of spaces (incl. ideographic and no-break spaces) collapsed and the ends stripped.

    Tabs (table columns) are kept as a single tab.
    """
    line = strip_inline_noise(line)
    line = _SPACES.sub(" ", line)
    line = _TABS.sub("\t", line)
    return line.strip()


def nonempty_lines(text: str) -> list[str]:
    """The text's lines cleaned (``clean_line``), blank ones left out."""
    return list(_nonempty_lines(text))


@lru_cache(maxsize=4)
def _nonempty_lines(text: str) -> tuple[str, ...]:
    # Remembered: the date, issuer, kind and entity readers each ask for the same text's
    # lines (eight times a notice; an eighth of the time of a long one).
    return tuple(cleaned for cleaned in (clean_line(line) for line in text.splitlines()) if cleaned)
