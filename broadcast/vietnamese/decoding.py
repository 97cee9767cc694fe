"""Turning script files (bytes) into text."""

from __future__ import annotations

import codecs
import unicodedata

from .errors import TextDecodingError

_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")
_MAX_CONTROL_RATIO = 0.01

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_HINT = "Save the script as plain text (UTF-8) and try again."


def _decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise TextDecodingError(
                    f"The file starts like {encoding.upper()} text but byte {exc.start} "
                    f"cannot be read. {_HINT}"
                ) from None
    if b"\x00" in data:
        raise TextDecodingError(
            f"The file contains NUL bytes, so it is not a text file (it may be a Word "
            f"document, a picture or an audio file). {_HINT}"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1258")
    except UnicodeDecodeError as exc:
        raise TextDecodingError(
            f"The file is neither UTF-8 nor Windows-1258 text (byte {exc.start} cannot be "
            f"read). {_HINT}"
        ) from None


def decode_text(data: bytes) -> str:
    """Decode script bytes: UTF-8 (with or without BOM), UTF-16/32 with BOM, Windows-1258.

    The result is NFC-normalised.  Binary data raises :class:`TextDecodingError`.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TextDecodingError(f"Expected bytes, got {type(data).__name__}.")
    text = _decode(bytes(data))
    controls = sum(
        1
        for char in text
        if unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS
    )
    if "\x00" in text or controls > max(2, len(text) * _MAX_CONTROL_RATIO):
        raise TextDecodingError(
            f"The file has {controls} control characters, so it does not look like a "
            f"text file. {_HINT}"
        )
    return unicodedata.normalize("NFC", text)
