"""Legacy Vietnamese text: decoders for TCVN3 (ABC), VNI-Windows and Windows-1258, and detection.

Cadastral files made before Unicode (DBF beside a Shapefile, MapInfo TAB, DGN/DXF text) store
Vietnamese in font-based encodings. Nothing in the file says which one, and a .cpg file, when
there is one, is often wrong. This module decodes each of them to Unicode NFC and guesses a
file's encoding from samples of its string values, refusing to guess when the evidence is weak
(the importer then asks the user for --encoding instead of storing mojibake).

- ``tcvn3``: TCVN 5712:1993 VN3 ("ABC", .VnTime fonts), one byte per letter. Decoding uses the
  full VN1 table (a superset, as glibc's ``TCVN5712-1``), so capitals that some converters emit
  (0x80-0x9F, 0x01-0x17 ...) decode too. Real ABC files spell UPPERCASE toned letters with the
  lowercase codes (the .VnTimeH font draws them as capitals), which :func:`fix_tcvn3_case` undoes.
- ``vni``: VNI-Windows, an ASCII base letter followed by a mark byte (``Vieät`` is "Việt"), plus
  a few one-byte letters; uppercase uses the mark byte minus 0x20. Decoding maps each mark byte
  to combining characters (codecs.charmap_decode) and lets NFC compose them with the letter
  before; anything that does not end up a Vietnamese letter is an error. So it runs at C speed
  and also accepts harmless variants (a mark of the other case, ``iù`` for ``í``).
- ``cp1258``: Windows-1258, tone marks usually stored as combining characters.
- ``utf-8``: strict; a BOM is dropped.

Every decoder returns NFC. Nothing is registered with :mod:`codecs`.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "ENCODINGS",
    "VIETNAMESE_LOWER",
    "VIETNAMESE_UPPER",
    "Detection",
    "canonical_encoding",
    "decode",
    "detect",
    "encode",
    "fix_tcvn3_case",
]

ENCODINGS: tuple[str, ...] = ("utf-8", "tcvn3", "vni", "cp1258")

_ALIASES = {
    "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8", "65001": "utf-8",
    "tcvn3": "tcvn3", "tcvn": "tcvn3", "tcvn-3": "tcvn3", "abc": "tcvn3", "vn3": "tcvn3",
    "tcvn5712": "tcvn3", "tcvn-5712": "tcvn3", "tcvn5712-1": "tcvn3", "tcvn5712-3": "tcvn3",
    "vni": "vni", "vni-win": "vni", "vni-windows": "vni", "vniwin": "vni",
    "cp1258": "cp1258", "1258": "cp1258", "windows-1258": "cp1258", "win1258": "cp1258",
    "ansi-1258": "cp1258",
}


def canonical_encoding(name: str) -> str:
    """Map a user- or .cpg-supplied name ("UTF8", "windows-1258", "ABC", ...) to ENCODINGS."""
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    if key not in _ALIASES:
        raise ValueError(f"unknown encoding {name!r}; expected one of {', '.join(ENCODINGS)}")
    return _ALIASES[key]


# --- the Vietnamese alphabet ------------------------------------------------------------------

_TONES = "\u0301\u0300\u0309\u0303\u0323"  # sắc, huyền, hỏi, ngã, nặng (combining marks)
_VOWELS = "aăâeêioôơuưy"
_LOWER = "".join(unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in ("", *_TONES))
VIETNAMESE_LOWER = "".join(c for c in _LOWER if not c.isascii()) + "đ"  # 67 letters
VIETNAMESE_UPPER = VIETNAMESE_LOWER.upper()  # 67 letters
_VN_LETTERS = VIETNAMESE_LOWER + VIETNAMESE_UPPER
_TONE_OF = {c: m for c in _VN_LETTERS for m in unicodedata.normalize("NFD", c) if m in _TONES}
_STRIP_TONE = str.maketrans({
    c: unicodedata.normalize("NFC", unicodedata.normalize("NFD", c).replace(t, ""))
    for c, t in _TONE_OF.items()
})
_UPPER_VN = str.maketrans(VIETNAMESE_LOWER, VIETNAMESE_UPPER)

# --- TCVN3 ------------------------------------------------------------------------------------

# Byte -> character, from glibc iconv's TCVN5712-1 (VN1); checked byte by byte against
# tests/importers/data/vntext/tcvn5712-1.iconv.json. VN3 (ABC) uses the lowercase letters at
# 0xA8-0xFE and the capitals Ă Â Ê Ô Ơ Ư Đ at 0xA1-0xA7; the other capitals and the combining
# tone marks at 0xB0-0xB4 are VN1's. Controls other than VN1's capitals map to themselves.
_TCVN3_TABLE = (
    "\x00ÚỤ\x03ỪỬỮ\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"  # 0x00
    "\x10ỨỰỲỶỸÝỴ\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"  # 0x10
    " !\"#$%&'()*+,-./"  # 0x20
    "0123456789:;<=>?"  # 0x30
    "@ABCDEFGHIJKLMNO"  # 0x40
    "PQRSTUVWXYZ[\\]^_"  # 0x50
    "`abcdefghijklmno"  # 0x60
    "pqrstuvwxyz{|}~\x7f"  # 0x70
    "ÀẢÃÁẠẶẬÈẺẼÉẸỆÌỈĨ"  # 0x80
    "ÍỊÒỎÕÓỌỘỜỞỠỚỢÙỦŨ"  # 0x90
    "\xa0ĂÂÊÔƠƯĐăâêôơưđẰ"  # 0xA0
    "\u0300\u0309\u0303\u0301\u0323àảãáạẲằẳẵắẴ"  # 0xB0
    "ẮẦẨẪẤỀặầẩẫấậèỂẻẽ"  # 0xC0
    "éẹềểễếệìỉỄẾỒĩíịò"  # 0xD0
    "Ổỏõóọồổỗốộờởỡớợù"  # 0xE0
    "ỖủũúụừửữứựỳỷỹýỵỐ"  # 0xF0
)
assert len(_TCVN3_TABLE) == 256 and len(set(_TCVN3_TABLE)) == 256

# VN3 has no code for a capital that carries a tone mark: by default encode() writes VN1's
# code (lossless, as iconv does); abc_capitals=True writes the lowercase code, as ABC keyboards
# with the .VnTimeH font do.
_TCVN3_ENCODE = {ord(c): chr(b) for b, c in enumerate(_TCVN3_TABLE) if ord(c) != b}
_TCVN3_ENCODE_ABC = dict(_TCVN3_ENCODE)
_TCVN3_ENCODE_ABC.update(
    {ord(c.upper()): chr(_TCVN3_TABLE.index(c)) for c in VIETNAMESE_LOWER if c in _TONE_OF}
)
_TCVN3_UNENCODABLE = re.compile("[^" + re.escape(_TCVN3_TABLE) + "]")


def _decode_tcvn3(raw: bytes) -> str:
    text = codecs.charmap_decode(raw, "strict", _TCVN3_TABLE)[0]
    return fix_tcvn3_case(unicodedata.normalize("NFC", text))


def _encode_tcvn3(text: str, abc_capitals: bool) -> bytes:
    _check_encodable(text, _TCVN3_UNENCODABLE, "tcvn3")
    return text.translate(_TCVN3_ENCODE_ABC if abc_capitals else _TCVN3_ENCODE).encode("latin-1")


# --- VNI-Windows ------------------------------------------------------------------------------

# Mark bytes (lowercase; the uppercase byte is 0x20 less). Tones in _TONES order: sắc huyền hỏi
# ngã nặng. Checked against the npm package vietnamese-conversion, Unikey's VnConv table and
# xvnkb's vni.h (see tests/importers/data/vntext/README.md).
_VNI_TONE = "ùøûõï"  # after a e o u y ơ ư
_VNI_CIRCUMFLEX = "âáàåãä"  # â ê ô: circumflex alone, then circumflex + each tone
_VNI_BREVE = "êéèúüë"  # ă: breve alone, then breve + each tone
_VNI_ONE_BYTE = {"ơ": "ô", "ư": "ö", "đ": "ñ", "í": "í", "ì": "ì", "ỉ": "æ", "ĩ": "ó", "ị": "ò",
                 "ỵ": "î"}
_SHAPE_MARKS = {"\u0302": _VNI_CIRCUMFLEX, "\u0306": _VNI_BREVE}


def _vni_spelling(letter: str) -> str:
    """VNI-Windows bytes (as Latin-1 characters) of one Vietnamese letter."""
    if letter.isupper():
        return _vni_spelling(letter.lower()).upper()
    if letter in _VNI_ONE_BYTE:
        return _VNI_ONE_BYTE[letter]
    decomposed = unicodedata.normalize("NFD", letter)
    base, marks = decomposed[0], decomposed[1:]
    tone = next((_TONES.index(m) for m in marks if m in _TONES), -1)
    if "\u031b" in marks:  # horn: ơ ư are one byte, the tone follows
        return _VNI_ONE_BYTE[unicodedata.normalize("NFC", base + "\u031b")] + _VNI_TONE[tone] * (
            tone >= 0)
    shape = next((_SHAPE_MARKS[m] for m in marks if m in _SHAPE_MARKS), None)
    if shape is not None:
        return base + shape[tone + 1]
    return base + (_VNI_TONE[tone] if tone >= 0 else "")


_CP1252_SYMBOLS = {b: bytes([b]).decode("cp1252") for b in range(0x80, 0xC0)
                   if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}


def _vni_decoding_map() -> dict[int, str]:
    """Byte -> text for codecs.charmap_decode: a mark byte becomes combining characters, which
    NFC then composes with the letter before it (mark bytes of either case go on either case)."""
    mapping = {b: chr(b) for b in range(0x80)} | _CP1252_SYMBOLS
    for case in (str.lower, str.upper):
        for shape, mark_bytes in (("", _VNI_TONE), ("\u0302", _VNI_CIRCUMFLEX),
                                  ("\u0306", _VNI_BREVE)):
            tones = ("", *_TONES) if shape else _TONES
            for byte, tone in zip(case(mark_bytes), tones, strict=True):
                mapping[ord(byte)] = shape + tone
        mapping.update({ord(case(b)): case(c) for c, b in _VNI_ONE_BYTE.items()})
    return mapping  # bytes 0xC0-0xFF that VNI does not use (Ç Ð × Ý Þ ß ç ...) stay undefined


_VNI_DECODE = _vni_decoding_map()
_VNI_ENCODE = {ord(c): _vni_spelling(c) for c in _VN_LETTERS}
_VNI_ENCODE.update({ord(c): chr(b) for b, c in _CP1252_SYMBOLS.items()})
_VNI_OUTSIDE = re.compile(
    "[^\x00-\x7f" + re.escape("".join(_CP1252_SYMBOLS.values()) + _VN_LETTERS) + "]"
)


def _try_decode_vni(raw: bytes) -> str | None:
    try:
        text = unicodedata.normalize("NFC", codecs.charmap_decode(raw, "strict", _VNI_DECODE)[0])
    except UnicodeDecodeError:
        return None
    # A mark byte that did not combine with a letter into a Vietnamese letter is an error.
    return None if _VNI_OUTSIDE.search(text) else text


def _decode_vni(raw: bytes) -> str:
    text = _try_decode_vni(raw)
    if text is not None:
        return text
    # Error path: the shortest failing prefix ends at the offending byte (failure is monotone).
    low, high = 1, len(raw)
    while low < high:
        mid = (low + high) // 2
        if _try_decode_vni(raw[:mid]) is None:
            high = mid
        else:
            low = mid + 1
    reason = "byte not used by VNI-Windows" if raw[low - 1] not in _VNI_DECODE else \
        "VNI-Windows mark byte that does not follow a letter it can go on"
    raise UnicodeDecodeError("vni", raw, low - 1, low, reason)


def _encode_vni(text: str) -> bytes:
    _check_encodable(text, _VNI_OUTSIDE, "vni")
    return text.translate(_VNI_ENCODE).encode("latin-1")


# --- Windows-1258 and UTF-8 -------------------------------------------------------------------

def _cp1258_spelling(letter: str) -> str:
    """The letter precomposed if cp1258 has it, else base (with its shape mark) + tone mark."""
    try:
        letter.encode("cp1258")
        return letter
    except UnicodeEncodeError:
        tone = _TONE_OF[letter]
        rest = unicodedata.normalize("NFD", letter).replace(tone, "")
        return unicodedata.normalize("NFC", rest) + tone


_CP1258_ENCODE = {ord(c): _cp1258_spelling(c) for c in _VN_LETTERS}


def _decode_cp1258(raw: bytes) -> str:
    return unicodedata.normalize("NFC", raw.decode("cp1258"))


def _decode_utf8(raw: bytes) -> str:
    return unicodedata.normalize("NFC", raw.decode("utf-8-sig"))


def _check_encodable(text: str, outside: re.Pattern[str], encoding: str) -> None:
    bad = outside.search(text)
    if bad is not None:
        raise UnicodeEncodeError(encoding, text, bad.start(), bad.end(),
                                 f"character not representable in {encoding}")


_DECODERS: dict[str, Callable[[bytes], str]] = {
    "utf-8": _decode_utf8, "tcvn3": _decode_tcvn3, "vni": _decode_vni, "cp1258": _decode_cp1258,
}


def decode(raw: bytes, encoding: str) -> str:
    """Decode ``raw`` to Unicode NFC.

    Raises UnicodeDecodeError for bytes the encoding cannot represent (invalid UTF-8, a byte
    Windows-1258 leaves undefined, a VNI mark byte with no letter to go on) and ValueError for an
    unknown encoding name. Every byte is valid TCVN3; its decoding applies fix_tcvn3_case().
    """
    return _DECODERS[canonical_encoding(encoding)](bytes(raw))


def encode(text: str, encoding: str, *, abc_capitals: bool = False) -> bytes:
    """Encode NFC or NFD ``text``; raises UnicodeEncodeError for characters ``encoding`` lacks.

    TCVN3 (VN3) has no code for the 60 capitals with a tone mark (Ấ, Ễ, Ở ...). By default they
    get TCVN 5712 VN1's codes (as iconv's TCVN5712-1 writes them), which decode() reads back, so
    every text round-trips. ``abc_capitals=True`` writes the lowercase code instead, as ABC
    keyboards with the .VnTimeH font do: decode() restores those inside uppercase words only
    ("NGUYỄN" round-trips, a lone "Ấ" or the "Ủ" of "Ủy ban" comes back lowercase).
    """
    name = canonical_encoding(encoding)
    text = unicodedata.normalize("NFC", text)
    if name == "tcvn3":
        return _encode_tcvn3(text, abc_capitals)
    if name == "vni":
        return _encode_vni(text)
    if name == "cp1258":
        return text.translate(_CP1258_ENCODE).encode("cp1258")
    return text.encode("utf-8")


# --- TCVN3 capitals ---------------------------------------------------------------------------

_LETTERS = r"[^\W\d_]"
# Cheap necessary conditions: an uppercase letter right after a letter, a lowercase Vietnamese one.
_INNER_UPPER = re.compile(rf"[A-Z{VIETNAMESE_UPPER}](?<={_LETTERS}[A-Z{VIETNAMESE_UPPER}])")
_LOWER_VN = re.compile(f"[{VIETNAMESE_LOWER}]")
# A letter that is neither uppercase nor a lowercase Vietnamese letter (approximately).
_OTHER_LOWER = re.compile(rf"[^\W\d_A-Z{VIETNAMESE_UPPER}{VIETNAMESE_LOWER}]")


@lru_cache(maxsize=1 << 12)
def _word_case(word: str) -> str:
    """Classify a space-separated word: "U" uppercase, "N" neutral (a lone capital, a number),
    "L" other, and for words that are uppercase but for lowercase Vietnamese letters: "S" (a
    capital after the first character: fix) or "A" (ambiguous, like "Đỗ" or "ở")."""
    raised = word.translate(_UPPER_VN)
    if raised == word:
        if word.upper() == word.lower() or (word.isupper() and sum(map(str.isalpha, word)) < 2):
            return "N"
        return "U" if word.isupper() else "L"
    if not raised.isupper():
        return "L"
    return "S" if word[1:].lower() != word[1:] else "A"


def fix_tcvn3_case(text: str) -> str:
    """Upper-case the lowercase Vietnamese letters of words that are otherwise uppercase.

    "NGUYễN VĂN AN" becomes "NGUYỄN VĂN AN". A word whose only capital is its first letter, or
    that has none ("Đỗ", "ở"), is ambiguous: it is upper-cased only when the nearest words on
    both sides (those that exist; one at least) are uppercase, so "ĐẤT ở TẠI" is fixed while
    "Đỗ Văn An" and "Đất ở tại" are left alone. Words with an ASCII lowercase letter never change.
    Words are what spaces separate (punctuation stays with its word).
    """
    if _INNER_UPPER.search(text) is None or _LOWER_VN.search(text) is None:
        return text
    if _OTHER_LOWER.search(text) is None:  # every word is uppercase, or is to be
        return text.upper()
    words = text.split(" ")
    kinds = "".join([_word_case(word) for word in words])
    if "S" not in kinds and "A" not in kinds:
        return text
    for index, kind in enumerate(kinds):
        if kind == "A":  # the nearest words that are not ambiguous or neutral decide
            near = kinds[:index].rstrip("NA")[-1:] + kinds[index + 1:].lstrip("NA")[:1]
            if not near or "L" in near:
                continue
        elif kind != "S":
            continue
        words[index] = words[index].upper()
    return " ".join(words)


# --- detection --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Detection:
    """Outcome of detect(): ``encoding`` is None when the evidence is too weak to trust."""

    encoding: str | None
    confidence: float
    scores: dict[str, float]
    sample: str
    reason: str


_ONSET = "ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x"
_OPEN_RHYME = ("iêu|yêu|oai|oay|oeo|uây|uôi|ươi|ươu|uya|uyu|ai|ao|au|ay|âu|ây|eo|êu|ia|iu|oi|ôi"
               "|ơi|ua|ui|ưa|ưi|ưu")
_NUCLEUS = "uyê|iê|yê|oa|oă|oe|oo|ôô|uâ|uê|uô|uơ|ươ|uy|a|ă|â|e|ê|i|o|ô|ơ|u|ư|y"
_SYLLABLE = re.compile(
    rf"(?:{_ONSET})?(?:{_OPEN_RHYME}|(?:{_NUCLEUS})(?:(?P<stop>ch|c|p|t)|ng|nh|m|n)?)"
)
# Runs between spaces, ASCII punctuation and digits, and typographic punctuation.
_TOKEN = re.compile("[^\\s0-9!-/:-@\\[-`{-~\u2013\u2014\u2018\u2019\u201c\u201d\u2026]+")
# Characters that never occur in Vietnamese text: controls, U+FFFD, stray combining marks.
_IMPOSSIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\u0300-\u036f]")
_PLAIN_ASCII = re.compile(b"[\t\n\r\x20-\x7e]*")


@lru_cache(maxsize=1 << 16)
def _is_vietnamese_word(token: str) -> bool:
    """Whether ``token`` is one well-formed Vietnamese syllable (approximately)."""
    lower = token.lower()
    if token not in (lower, token.upper(), token[0].upper() + token[1:].lower()):
        return False
    tones = [_TONE_OF[c] for c in lower if c in _TONE_OF]
    match = _SYLLABLE.fullmatch(lower.translate(_STRIP_TONE))
    if len(tones) > 1 or match is None:
        return False
    # After a stop consonant (-c -ch -p -t) only sắc and nặng occur.
    return match.group("stop") is None or tones[:1] in (["\u0301"], ["\u0323"])


def _score(texts: list[str], failures: int) -> tuple[float, int]:
    """(share of evidence that looks Vietnamese, amount of evidence) for one candidate."""
    joined = "\n".join(texts)
    tokens = Counter(t for t in _TOKEN.findall(joined) if not t.isascii())
    valid = sum(n for t, n in tokens.items() if _is_vietnamese_word(t))
    units = sum(tokens.values()) + len(_IMPOSSIBLE.findall(joined)) + 3 * failures
    return (valid / units if units else 0.0), units


def _safe_decode(raw: bytes, encoding: str) -> str | None:
    if encoding == "vni":
        return _try_decode_vni(raw)
    try:
        return _DECODERS[encoding](raw)
    except UnicodeDecodeError:
        return None


def _first_non_ascii(texts: list[str]) -> str:
    return next((t for t in texts if not t.isascii()), texts[0] if texts else "")[:200]


def _score_all(
    raws: list[bytes],
) -> tuple[dict[str, float], dict[str, int], dict[str, list[str]]]:
    """Score, evidence and decoded texts per encoding; an encoding that fails on more than 1% of
    the values is ruled out (score 0)."""
    scores: dict[str, float] = {}
    units: dict[str, int] = {}
    decoded: dict[str, list[str]] = {}
    for encoding in ENCODINGS:
        texts = [t for t in (_safe_decode(r, encoding) for r in raws) if t is not None]
        failures = len(raws) - len(texts)
        decoded[encoding] = texts
        scores[encoding], units[encoding] = (
            (0.0, 0) if failures > len(raws) // 100 else _score(texts, failures)
        )
    return scores, units, decoded


_CP1252_TO_LATIN1 = {ord(c): chr(b) for b, c in _CP1252_SYMBOLS.items() if b < 0xA0}


def _mojibake_source(texts: list[str]) -> str | None:
    """The encoding of the bytes behind ``texts`` if they are legacy (or UTF-8) bytes that were
    once decoded as Windows-1252/Latin-1 and saved again as UTF-8, else None."""
    try:
        raws = [t.translate(_CP1252_TO_LATIN1).encode("latin-1") for t in texts]
    except UnicodeEncodeError:
        return None
    scores, units, _ = _score_all(raws)
    best = max(ENCODINGS, key=lambda e: scores[e])
    return best if scores[best] >= 0.8 and units[best] >= 2 else None


def detect(samples: Iterable[bytes], *, declared: str | None = None,
           min_confidence: float = 0.8) -> Detection:
    """Guess which of ENCODINGS the byte strings ``samples`` (a file's string values) are in.

    Pure ASCII is "utf-8" (nothing to decide); valid UTF-8 with multi-byte sequences is "utf-8",
    unless it reads like legacy bytes once mis-decoded as Windows-1252 and saved as UTF-8
    (mojibake: encoding None, explained in ``reason``). Otherwise each encoding that can decode
    the samples is scored by the share of non-ASCII words that are well-formed Vietnamese
    syllables, characters that never occur in Vietnamese text counting against it. ``declared``
    (a .cpg, say) only breaks near ties. When the confidence is below ``min_confidence`` the
    result's encoding is None: ask the user, do not guess.
    """
    raws = [r for r in (bytes(s).rstrip(b"\x00 ") for s in samples) if r]
    hint: str | None = None
    if declared:
        try:
            hint = canonical_encoding(declared)
        except ValueError:
            hint = None
    if all(_PLAIN_ASCII.fullmatch(r) for r in raws):
        sample = raws[0].decode("ascii") if raws else ""
        return Detection("utf-8", 1.0, dict.fromkeys(ENCODINGS, 1.0), sample,
                         "all samples are plain ASCII; every encoding reads them the same")
    scores, units, decoded = _score_all(raws)
    if len(decoded["utf-8"]) == len(raws) and not all(r.isascii() for r in raws):
        sample = _first_non_ascii(decoded["utf-8"])
        source = _mojibake_source(decoded["utf-8"]) if scores["utf-8"] < 0.5 else None
        if source is not None:
            what = "UTF-8 encoded twice" if source == "utf-8" else f"{source} text"
            return Detection(None, 0.0, scores, sample,
                             f"the samples are valid UTF-8 but read like {what}, converted to "
                             f"UTF-8 as if it were Windows-1252 (e.g. {sample!r}); importing "
                             "them would store mojibake: re-export the file from its source")
        return Detection("utf-8", 1.0, scores, sample,
                         "the samples are valid UTF-8 with multi-byte sequences")
    ranked = sorted(ENCODINGS, key=lambda e: scores[e], reverse=True)
    best, runner_up = ranked[0], ranked[1]
    margin = scores[best] - scores[runner_up]
    tie_note = ""
    near_tie = hint is not None and scores[hint] > 0 and scores[best] - scores[hint] < 0.05
    if hint is not None and hint != best and near_tie:
        best, runner_up, margin = hint, best, 0.3
        tie_note = f"; near tie broken by the declared {hint}"
    elif hint is not None and hint != best:
        tie_note = f"; the declared {declared!r} does not fit the bytes"
    # Close runner-up and thin evidence both cost confidence.
    penalty = max(0.0, 0.3 - margin) + (0.25 / units[best] if units[best] else 1.0)
    confidence = round(max(0.0, scores[best] - penalty), 3)
    summary = (f"{best} scores {scores[best]:.2f} over {units[best]} non-ASCII words, "
               f"runner-up {runner_up} {scores[runner_up]:.2f}{tie_note}")
    sample = _first_non_ascii(decoded[best])
    if confidence < min_confidence:
        return Detection(None, confidence, scores, sample,
                         f"cannot tell the encoding with confidence ({summary}; confidence "
                         f"{confidence:.2f} < {min_confidence:.2f}); pass --encoding with one of "
                         f"{', '.join(ENCODINGS)}")
    return Detection(best, confidence, scores, sample, summary)
