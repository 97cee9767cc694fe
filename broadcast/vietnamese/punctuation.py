"""Reading punctuation and line layout: pauses, heading markers, initials and titles before
a name, symbols; and joining the words said into the spoken line."""

from __future__ import annotations

import re

from .numbers import read_int
from .quantities import read_comparison, read_hyphen, read_number, read_per
from .reading import WORD, Reading
from .text import LETTER_NAMES, has_vowel, roman_value
from .tokens import NUMERIC, Token
from .words import DOTTED_TITLES, HEADING_NUMBER_NOT_BEFORE, HONORIFICS

_PUNCT_RANK = {",": 0, ":": 1, ";": 2, ".": 3, "!": 4, "?": 5}
_LINE_MARKER = re.compile(r"\d{1,2}(?:\.\d{1,2})*")
# The items said last that an abbreviation in brackets may repeat: "người lao động (NLĐ)".
_RECENT_ITEMS = 12
_OUTPUT_JUNK = re.compile(r"[^\w\s.,;:?!]|[\d_]")


def read_line_marker(reading: Reading) -> int:
    """ "1." / "IV." / "a)" at the start of a line, or a heading number before a capitalised
    heading ("4 Trách nhiệm của …"): read the marker, then a pause."""
    if len(reading.tokens) < 2:
        return 0
    first, second = reading.tokens[0], reading.tokens[1]
    if (
        first.kind == "num"
        and first.match is not None
        and first.match["num"].isdigit()
        and len(first.match["num"]) <= 2
        and not first.match["unit"]
        and second.kind in ("word", "plain", "done")
        and reading.spaced_before(1)
        and _title_case(reading.line[second.start : second.end])
        and second.first_word not in HEADING_NUMBER_NOT_BEFORE
    ):
        reading.emit(read_int(int(first.match["num"])), ",")
        return 1
    if (
        first.kind == "num"
        and first.match is not None
        and "." in first.match["num"]
        and not first.match["unit"]
        and second.kind == "word"
        and second.text[:1].isupper()
    ):
        marker = _marker_words(first, ".")
        if marker is not None:
            reading.emit(marker, ",")
            return 1
    if second.kind != "punct" or second.text not in ".)":
        return 0
    third = reading.token(2)
    if third is not None and not reading.spaced_before(2):
        return 0
    marker = _marker_words(first, second.text)
    if marker is None:
        return 0
    reading.emit(marker, ",")
    return 2


def _title_case(written: str) -> bool:
    """ "Trách nhiệm", not "USD" or "trách nhiệm"."""
    return len(written) > 1 and written[0].isupper() and written[1].islower()


def _marker_words(first: Token, closing: str) -> str | None:
    if first.kind == "word":
        value = roman_value(first.text)
        if value:
            return read_int(value)
        if len(first.text) == 1 and (first.text.isupper() or closing == ")"):
            return LETTER_NAMES.get(first.lower)
        return None
    if first.kind == "num" and first.match is not None and not first.match["unit"]:
        body = first.match["num"]
        if _LINE_MARKER.fullmatch(body):
            return " chấm ".join(read_int(int(part)) for part in body.split("."))
    return None


def read_punct(reading: Reading, index: int, token: Token) -> int:
    """A mark: a pause, nothing (the dot after an initial or a title), or the words for a
    symbol; "-", "/", "<" and ">" are read as numbers read them."""
    text = token.text
    previous, following = reading.token(index - 1), reading.token(index + 1)
    if text == "." and not reading.spaced_before(index) and previous is not None:
        if _initial_dot(reading, index):
            return index + 1
        if _title_dot(reading, index):
            return index + 1
        if _joins_abbreviations(reading, index):
            return index + 1
    if text in _PUNCT_RANK:
        if (
            text == ":"
            and previous is not None
            and following is not None
            and previous.kind == "num"
            and following.kind == "num"
            and not reading.spaced_before(index + 1)
        ):
            if not reading.score_context(index - 1):
                reading.emit("trên")
        else:
            reading.emit(text)
    elif text == "...":
        reading.emit("." if following is None else ",")
    elif text == "(" and _repeats_expansion(reading, index):
        return index + 3
    elif text in "()":
        reading.emit(",")
    elif text == "-":
        return read_hyphen(reading, index)
    elif text == "/":
        return read_per(reading, index)
    elif text == "&":
        reading.emit("và")
    elif text == "+":
        reading.emit(_plus(reading, index))
    elif text == "=":
        reading.emit("bằng")
    elif text in "<>":
        return read_comparison(reading, index, text)
    elif text == "~":
        if following is not None and following.kind in NUMERIC:
            reading.emit("khoảng")
    elif text == "@":
        reading.emit("a còng")
    elif text == "%":
        reading.emit("phần trăm")
    elif text == "°":
        reading.emit("độ")
    elif text == "$" and following is not None and following.kind == "num":
        read_number(reading, index + 1, following)
        reading.emit("đô la")
        return index + 2
    return index + 1


def _plus(reading: Reading, index: int) -> str:
    """ "(+9,52%)" tăng; "+" before a number cộng ("GMT+7", "mã vùng + 114"); else và."""
    previous, following = reading.token(index - 1), reading.token(index + 1)
    if following is None or following.kind != "num":
        return "và"
    if previous is not None and previous.text == "(" and not reading.spaced_before(index + 1):
        # "(+9,52%)", "(+215 người)": a rise, unless the text just said so.
        return "" if reading.word_before(index) in ("giảm", "tăng") else "tăng"
    return "cộng"


def _initial_dot(reading: Reading, index: int) -> bool:
    """ "Nguyễn V. A", "bà D. cho biết", "N.T.H": the dot after an initial is no pause."""
    letter, following = reading.token(index - 1), reading.token(index + 1)
    name = reading.token(index - 2)
    if letter is None or following is None or not _is_initial(letter):
        return False
    if not reading.spaced_before(index + 1) and following.kind == "word":
        return True  # "N.V.A", "N.V.Hùng"
    if name is None or not (_is_name_word(name) or name.last_word in HONORIFICS):
        return False
    if following.kind == "word" and following.text[:1].isupper():
        # "Ông Nguyễn V. Hùng", but "Ông Nguyễn Văn A. Sau đó" ends a sentence.
        family = reading.token(index - 3)
        return len(following.text) == 1 or (
            family is not None
            and (not _is_name_word(family) or family.last_word in HONORIFICS)
        )
    return following.kind != "punct" or following.text in "(,;:"


def _title_dot(reading: Reading, index: int) -> bool:
    """ "BS. Nguyễn Văn Minh", "PGS.TS. Trần Bình", "ĐT. 0912 345 678": no pause.

    Between two titles it is a short one, a comma.
    """
    title, following = reading.token(index - 1), reading.token(index + 1)
    if title is None or following is None or not _is_title(reading, title):
        return False
    if _is_title(reading, following):
        reading.emit(",")
        return True
    if following.kind == "phone":
        return True
    return following.kind in ("word", "done") and following.text[:1].isupper()


def _joins_abbreviations(reading: Reading, index: int) -> bool:
    """ "(TT.CSKH)", "TTr.UB": a dot between two abbreviations, with no space, is no pause."""
    previous, following = reading.token(index - 1), reading.token(index + 1)
    if previous is None or following is None or reading.spaced_before(index + 1):
        return False
    written = [reading.line[token.start : token.end] for token in (previous, following)]
    return all(len(word) >= 2 and word.isupper() and word.isalpha() for word in written)


def _is_title(reading: Reading, token: Token) -> bool:
    return token.kind == "done" and reading.line[token.start : token.end] in DOTTED_TITLES


def _repeats_expansion(reading: Reading, index: int) -> bool:
    """ "người lao động (NLĐ)": the abbreviation only repeats what was just said."""
    inside, closing = reading.token(index + 1), reading.token(index + 2)
    if inside is None or closing is None or inside.kind != "done" or closing.text != ")":
        return False
    said = WORD.findall(" ".join(reading.out[-_RECENT_ITEMS:]).lower())
    expansion = WORD.findall(inside.text.lower())
    return bool(expansion) and said[-len(expansion) :] == expansion


def _is_initial(token: Token) -> bool:
    """ "V", "Th": a capital letter, or a capital consonant pair, standing for a name."""
    text = token.text
    return (
        token.kind == "word"
        and len(text) <= 2
        and text[0].isupper()
        and (len(text) == 1 or (text[1].islower() and not has_vowel(text)))
    )


def _is_name_word(token: Token) -> bool:
    """A capitalised word of a name: "Nguyễn", "Văn" (not "UBND", not "và")."""
    return token.kind == "word" and token.text[:1].isupper() and not token.text.isupper()


def assemble(items: list[str]) -> str:
    """The spoken line from the items said: the strongest of adjacent pauses, words spaced."""
    pieces: list[str] = []
    for item in items:
        if item in _PUNCT_RANK:
            if not pieces:
                continue
            if pieces[-1] in _PUNCT_RANK:
                if _PUNCT_RANK[item] > _PUNCT_RANK[pieces[-1]]:
                    pieces[-1] = item
                continue
            pieces.append(item)
        else:
            pieces.append(item)
    parts: list[str] = []
    for piece in pieces:
        if piece in _PUNCT_RANK:
            parts.append(piece)
            continue
        if parts:
            parts.append(" ")
        parts.append(piece if piece.replace(" ", "").isalpha() else _letters_only(piece))
    text = _OUTPUT_JUNK.sub(" ", "".join(parts))
    return " ".join(text.split()).rstrip(",")


def _letters_only(piece: str) -> str:
    """Last safety net: anything but letters and sentence punctuation becomes a space."""
    return "".join(char if char.isalpha() or char in _PUNCT_RANK else " " for char in piece)

