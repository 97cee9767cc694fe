"""Character-level clean-up and facts about Vietnamese spelling."""

from __future__ import annotations

import re
import unicodedata
from types import MappingProxyType

from .habits import rewrite_habits, rewrite_page_habits

_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def word_list(text: str) -> list[str]:
    """The whitespace-separated words of a block of text (for readable word tables)."""
    return text.split()

_TONE_MARK_SET = frozenset(_TONE_MARKS)


def _with_tone(base: str, tone: str) -> str:
    return unicodedata.normalize("NFC", base + tone)


def _tone_of(char: str) -> tuple[str, str]:
    """Split one precomposed letter into (letter without tone, tone mark or "")."""
    decomposed = unicodedata.normalize("NFD", char)
    tone = "".join(c for c in decomposed if c in _TONE_MARK_SET)
    base = "".join(c for c in decomposed if c not in _TONE_MARK_SET)
    return unicodedata.normalize("NFC", base), tone


def _toned(letters: str) -> str:
    return "".join(_with_tone(v, t) for v in letters for t in _TONE_MARKS)


# Tone on the last vowel of an open "oa", "oe", "uy" ("hoà", "khoẻ", "thuỷ") moves to
# the first vowel ("hòa", "khỏe", "thủy"); with a final consonant it belongs on the
# second vowel ("hòan" -> "hoàn").  "qu" + "y" keeps the tone on "y" ("quý").
_OPEN_GLIDE = re.compile(
    "(?<![qQ])([oO][" + _toned("aeAE") + "]|[uU][" + _toned("yY") + "])(?![^\\W\\d_])"
)
_CLOSED_GLIDE = re.compile(
    "([" + _toned("oO") + "][aeAE]|[" + _toned("uU") + "][yY])(?=[^\\W\\d_])"
)


def _move_tone_left(match: re.Match[str]) -> str:
    first, second = match.group()
    base, tone = _tone_of(second)
    return _with_tone(first, tone) + base


def _move_tone_right(match: re.Match[str]) -> str:
    first, second = match.group()
    base, tone = _tone_of(first)
    return base + _with_tone(second, tone)


def normalize_tones(text: str) -> str:
    """NFC text with one tone placement: "hoà" -> "hòa", "thuỷ" -> "thủy"."""
    text = unicodedata.normalize("NFC", text)
    text = _OPEN_GLIDE.sub(_move_tone_left, text)
    return _CLOSED_GLIDE.sub(_move_tone_right, text)


def strip_marks(word: str) -> str:
    """Remove every mark, hats and horns too, and write đ as d: "Quốc" -> "quoc"."""
    decomposed = unicodedata.normalize("NFD", word.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def strip_tones(word: str) -> str:
    """Remove tone marks but keep vowel letters: "Quốc" -> "Quôc"."""
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARK_SET))


_PLAIN_VOWELS = "aăâeêioôơuưy"
VOWEL_LETTERS = frozenset(
    _PLAIN_VOWELS + _PLAIN_VOWELS.upper() + _toned(_PLAIN_VOWELS + _PLAIN_VOWELS.upper())
)


def has_vowel(word: str) -> bool:
    """True when ``word`` contains a vowel letter (with or without tone)."""
    return any(char in VOWEL_LETTERS for char in word)


NUCLEI = word_list(
    "iêu yêu oai oao oay oeo uây uôi ươi ươu uya uyê uyu uêu "
    "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ uê ui uô uơ ươ ưa ưi ưu "
    "uy yê a ă â e ê i o ô ơ u ư y"
)
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    "(?:" + "|".join(NUCLEI) + ")"
    r"(?:ch|ng|nh|[cmnpt])?"
)


def is_vietnamese_syllable(word: str) -> bool:
    """True when ``word`` is spelled like one Vietnamese syllable ("KHÓA", "mục")."""
    return _SYLLABLE.fullmatch(strip_tones(word).lower()) is not None


_ONSETS = frozenset(
    word_list("b c d đ f g h j k l m n p q r s t v w x z ch gh gi kh ng nh ph th tr")
    + word_list("br cr dr fr gr pr bl cl fl gl pl sl sc sk sp st sw tw wh")
)
_CODAS = frozenset(
    word_list("b c d f g k l m n p r s t x z ng nh ch ck ct ft ld lf lk lm lp ls lt nd nk ns nt ps")
    + word_list("rd rk rl rm rn rs rt sk sp st ts")
)
_LETTER_RUNS = re.compile(r"[aeiouy]+|[^aeiouy]+")


def is_pronounceable(word: str) -> bool:
    """True for capitals that read as a word, not letter by letter ("YAGI", "ASEAN").

    At least four letters and two vowel groups, starting with a usable onset, with short
    consonant clusters inside and an ordinary ending.  "UBND", "BIDV", "SARS" are not.
    """
    letters = strip_tones(word).lower()
    if len(letters) < 4 or not letters.isalpha():
        return False
    runs = _LETTER_RUNS.findall(letters)
    vowel_runs = [run for run in runs if run[0] in "aeiouy"]
    if len(vowel_runs) < 2:
        return False
    if runs[0][0] not in "aeiouy" and runs[0] not in _ONSETS:
        return False
    if runs[-1][0] not in "aeiouy" and runs[-1] not in _CODAS:
        return False
    return all(len(run) <= 3 for run in runs[1:-1] if run[0] not in "aeiouy")


LETTER_NAMES: MappingProxyType[str, str] = MappingProxyType(
    {
        "a": "a",
        "ă": "á",
        "â": "ớ",
        "b": "bê",
        "c": "xê",
        "d": "dê",
        "đ": "đê",
        "e": "e",
        "ê": "ê",
        "f": "ép",
        "g": "giê",
        "h": "hát",
        "i": "i",
        "j": "giê",
        "k": "ca",
        "l": "e lờ",
        "m": "em mờ",
        "n": "en nờ",
        "o": "o",
        "ô": "ô",
        "ơ": "ơ",
        "p": "pê",
        "q": "quy",
        "r": "e rờ",
        "s": "ét",
        "t": "tê",
        "u": "u",
        "ư": "ư",
        "v": "vê",
        "w": "đắp lờ vê",
        "x": "ích",
        "y": "i dài",
        "z": "dét",
    }
)


def spell(letters: str) -> str:
    """Spell with Vietnamese letter names: "XYZ" -> "ích i dài dét"."""
    names = [LETTER_NAMES.get(strip_tones(ch).lower(), "") for ch in letters]
    return " ".join(name for name in names if name)


_ROMAN = re.compile(r"X{0,3}(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}


def roman_value(word: str) -> int | None:
    """Value of an upper-case Roman numeral made of I, V and X (1-39), else None."""
    if not word or _ROMAN.fullmatch(word) is None:
        return None
    total = 0
    for index, char in enumerate(word):
        value = _ROMAN_VALUES[char]
        following = _ROMAN_VALUES[word[index + 1]] if index + 1 < len(word) else 0
        total += -value if value < following else value
    return total


# --- line clean-up ---------------------------------------------------------------

_REPLACEMENTS = {
    "\u2018": "",
    "\u2019": "",
    "\u201a": "",
    "\u201b": "",
    "\u201c": "",
    "\u201d": "",
    "\u201e": "",
    "\u00ab": "",
    "\u00bb": "",
    "\u2039": "",
    "\u203a": "",
    '"': "",
    "`": "",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2044": "/",
    "\u2215": "/",
    "\u00d7": " x ",
    "\u2030": " phần nghìn",
    "\u2265": " >= ",
    "\u2264": " <= ",
    "[": "(",
    "]": ")",
    "{": "(",
    "}": ")",
    "\\": " ",
    "\t": " ",
}
_REPLACE_TABLE = str.maketrans(_REPLACEMENTS)
# Signs whose compatibility form would turn into letters ("™" -> "TM").
_SIGNS_TABLE = str.maketrans(dict.fromkeys("\u2122\u2120\u00a9\u00ae\u2117", " "))

_VULGAR_FRACTION = re.compile("[\u00bc-\u00be\u2150-\u215e]")


def _spell_fraction(match: re.Match[str]) -> str:
    numerator, _, denominator = unicodedata.normalize("NFKC", match.group()).partition("\u2044")
    return f" {numerator} phần {denominator} "


_TERMINAL_ESCAPE = re.compile(r"\x1b\[[0-9;?]{0,20}[A-Za-z]")
_ALLOWED = re.compile(r"[^\w\s.,;:?!()/%&+'\u00b0=<>@$~-]|_")
_MARKDOWN_LINK = re.compile(r"!?\[([^\]\n]{0,200})\]\([^)\s]{0,500}\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]{0,10}(?:\s[^<>]{0,100})?/?>")
_EMPHASIS = re.compile(r"\*+|_{2,}|~{2,}")
_RULE_LINE = re.compile(r"\s*(?:[-*_=]\s*){3,}")
_BULLETS = "-*+\u2022\u00b7\u25aa\u25ba\u25cf\u25cb\u25a0\u25e6\u27a2\u27a4\u2192"
_LINE_MARKUP = re.compile(r"\A\s*(?:#{1,6}\s+|>\s*|[" + re.escape(_BULLETS) + r"]\s+)+")


def _drop_other(match: re.Match[str]) -> str:
    char = match.group()
    category = unicodedata.category(char)
    if category in ("Cf", "Mn", "Me", "Sk"):
        return ""
    if char == "|":
        return ","
    return " "


def clean_line(line: str) -> str:
    """One line of raw text reduced to letters, digits, spaces and a few symbols."""
    line = _TERMINAL_ESCAPE.sub("", line).translate(_SIGNS_TABLE)
    line = _VULGAR_FRACTION.sub(_spell_fraction, line)
    line = _MARKDOWN_LINK.sub(r"\1", unicodedata.normalize("NFKC", line))
    line = line.translate(_REPLACE_TABLE)
    if _RULE_LINE.fullmatch(line):
        return ""
    line = _HTML_TAG.sub(" ", line)
    line = _EMPHASIS.sub("", line)
    line = _LINE_MARKUP.sub(" ", line, count=1)
    line = _ALLOWED.sub(_drop_other, rewrite_page_habits(line))
    line = normalize_tones(line)
    return " ".join(rewrite_habits(" ".join(line.split())).split())
