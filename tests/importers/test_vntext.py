"""importers.vntext: legacy Vietnamese decoders checked against independent encoders, detection."""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path

import pytest

from importers.vntext import (
    ENCODINGS,
    Detection,
    canonical_encoding,
    decode,
    detect,
    encode,
    fix_tcvn3_case,
)

DATA = Path(__file__).parent / "data" / "vntext"
TRUTH = (DATA / "strings.utf8.txt").read_text(encoding="utf-8").splitlines()

# fixture file -> encoding it is in (how each was made: data/vntext/README.md)
FIXTURES = {
    "strings.utf8.txt": "utf-8",
    "strings.tcvn3.txt": "tcvn3",
    "strings.tcvn3-vn1.txt": "tcvn3",
    "strings.vni.txt": "vni",
    "strings.cp1258.txt": "cp1258",
}

TONES = "\u0301\u0300\u0309\u0303\u0323"
LOWER = sorted(
    {unicodedata.normalize("NFC", v + t) for v in "aăâeêioôơuưy" for t in ("", *TONES)} - set("aeiouy")
    | {"đ"}
)
UPPER = [c.upper() for c in LOWER]
TONED_UPPER = [c for c in UPPER if any(m in TONES for m in unicodedata.normalize("NFD", c))]


def fixture_lines(name: str) -> list[bytes]:
    raw = (DATA / name).read_bytes()
    assert raw.endswith(b"\n")
    return raw[:-1].split(b"\n")


def test_the_alphabet_has_134_letters() -> None:
    assert len(LOWER) == len(set(UPPER)) == 67
    assert len(TONED_UPPER) == 60


# --- decoding against independent encoders -----------------------------------------------------

@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_decodes_to_the_truth(name: str) -> None:
    lines = fixture_lines(name)
    assert len(lines) == len(TRUTH)
    for raw, expected in zip(lines, TRUTH, strict=True):
        assert decode(raw, FIXTURES[name]) == expected


def test_tcvn3_table_matches_iconv_byte_by_byte() -> None:
    table = json.loads((DATA / "tcvn5712-1.iconv.json").read_text(encoding="utf-8"))
    assert len(table) == 256
    for key, expected in table.items():
        assert decode(bytes([int(key, 16)]), "tcvn3") == expected, key


def test_encode_reproduces_the_independent_fixtures() -> None:
    assert [encode(t, "tcvn3") for t in TRUTH] == fixture_lines("strings.tcvn3-vn1.txt")
    # The ABC-style fixture has .VnTimeH capitals in its all-caps lines only.
    abc = [encode(t, "tcvn3", abc_capitals=t == t.upper()) for t in TRUTH]
    assert abc == fixture_lines("strings.tcvn3.txt")
    assert [encode(t, "vni") for t in TRUTH] == fixture_lines("strings.vni.txt")
    assert [encode(t, "utf-8") for t in TRUTH] == fixture_lines("strings.utf8.txt")
    # cp1258: encode() keeps the letters cp1258 has precomposed, the fixture splits every tone.
    assert [decode(encode(t, "cp1258"), "cp1258") for t in TRUTH] == TRUTH


# npm vietnamese-conversion 2.0.0 spells these wrongly (ỷ as "ë", ỹ as "ì", which is ì);
# Unikey's VnConv table and xvnkb's vni.h agree on "yû" / "yõ".
NPM_VNI_ERRATA = {"ỷ": b"y\xfb", "ỹ": b"y\xf5", "Ỷ": b"Y\xdb", "Ỹ": b"Y\xd5"}


def test_vni_letters_match_npm_vietnamese_conversion() -> None:
    npm = json.loads(
        (DATA / "vni-letters.npm-vietnamese-conversion.json").read_text(encoding="utf-8")
    )
    assert sorted(npm) == sorted(LOWER + UPPER)
    for letter, spelling in npm.items():
        expected = NPM_VNI_ERRATA.get(letter, spelling.encode("latin-1"))
        assert encode(letter, "vni") == expected, letter
        assert decode(expected, "vni") == letter
    assert {k for k, v in npm.items() if v.encode("latin-1") != encode(k, "vni")} == set(
        NPM_VNI_ERRATA
    )


@pytest.mark.parametrize(
    ("letter", "vni"),
    [  # Unikey VnConv (data.cpp, VNI-WIN words) and xvnkb vni.h
        ("ờ", b"\xf4\xf8"), ("Ự", b"\xd6\xcf"), ("ê", b"e\xe2"), ("ậ", b"a\xe4"),
        ("ặ", b"a\xeb"), ("ẳ", b"a\xfa"), ("đ", b"\xf1"), ("Đ", b"\xd1"), ("ỉ", b"\xe6"),
        ("ĩ", b"\xf3"), ("ị", b"\xf2"), ("ỵ", b"\xee"), ("Ỵ", b"\xce"), ("ỷ", b"y\xfb"),
        ("ỹ", b"y\xf5"), ("ý", b"y\xf9"), ("ư", b"\xf6"), ("ơ", b"\xf4"),
    ],
)
def test_vni_spellings_from_unikey_and_xvnkb(letter: str, vni: bytes) -> None:
    assert encode(letter, "vni") == vni
    assert decode(vni, "vni") == letter


# --- round trips -------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_letter_round_trips(encoding: str) -> None:
    for letter in LOWER + UPPER:
        for text in (letter, f"x{letter.lower()}y {letter}", f"NG{letter.upper()}N"):
            assert decode(encode(text, encoding), encoding) == text, (encoding, text)
    text = " ".join(LOWER + UPPER)
    assert decode(encode(text, encoding), encoding) == text


def test_tcvn3_abc_capitals_with_tone() -> None:
    for letter in TONED_UPPER:
        # VN3 has no code: ABC writes the lowercase code, restored inside uppercase words ...
        abc = encode(letter, "tcvn3", abc_capitals=True)
        assert abc == encode(letter.lower(), "tcvn3") != encode(letter, "tcvn3")
        for text in (f"NG{letter}N", f"ĐẤT {letter} TẠI", f"{letter}N", f"{letter} VĂN"):
            assert decode(encode(text, "tcvn3", abc_capitals=True), "tcvn3") == text
        # ... but a lone one, or one in a title-case word, comes back lowercase.
        assert decode(abc, "tcvn3") == letter.lower()
        assert decode(encode(f"{letter}y ban", "tcvn3", abc_capitals=True), "tcvn3") == (
            f"{letter.lower()}y ban"
        )
    for letter in LOWER + UPPER:
        if letter not in TONED_UPPER:
            assert encode(letter, "tcvn3", abc_capitals=True) == encode(letter, "tcvn3")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_output_is_nfc_and_nfd_input_is_accepted(encoding: str) -> None:
    for text in TRUTH:
        nfd = unicodedata.normalize("NFD", text)
        assert encode(nfd, encoding) == encode(text, encoding)
        decoded = decode(encode(nfd, encoding), encoding)
        assert decoded == text
        assert unicodedata.is_normalized("NFC", decoded)


def test_utf8_nfd_and_bom() -> None:
    for text in TRUTH:
        nfd = unicodedata.normalize("NFD", text).encode("utf-8")
        assert nfd != text.encode("utf-8")
        assert decode(nfd, "utf-8") == text
        assert decode(b"\xef\xbb\xbf" + nfd, "utf-8") == text


def test_cp1258_combining_tones_are_composed() -> None:
    assert decode(b"Nguy\xea\xden", "cp1258") == "Nguyễn"  # ê + combining tilde
    assert decode(b"Ph\xf5\xf2ng", "cp1258") == "Phợng"  # ơ + combining dot below


# --- errors and names --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (b"caf\xe9", "utf-8"),
        (b"\x81", "cp1258"),
        (b"Parcelle cadastr\xe9e", "vni"),  # breve+acute mark after e
        (b"\xf9 ab", "vni"),  # a tone mark with no letter before it
        (b"n\xf8", "vni"),  # tone mark after a consonant
        (b"y\xe2", "vni"),  # circumflex on y
        (b"\xe7a", "vni"),  # byte not used by VNI
    ],
)
def test_undecodable_bytes_raise(raw: bytes, encoding: str) -> None:
    with pytest.raises(UnicodeDecodeError):
        decode(raw, encoding)


def test_vni_error_position() -> None:
    with pytest.raises(UnicodeDecodeError) as info:
        decode(b"Vie\xe4t cadastr\xe9e", "vni")
    assert (info.value.start, info.value.end) == (13, 14)


def test_every_tcvn3_byte_decodes() -> None:
    assert len(decode(bytes(range(256)), "tcvn3")) >= 250


@pytest.mark.parametrize(("text", "encoding"), [("€", "tcvn3"), ("ç", "vni"), ("中", "cp1258")])
def test_unencodable_text_raises(text: str, encoding: str) -> None:
    with pytest.raises(UnicodeEncodeError):
        encode(f"a {text}", encoding)


def test_encoding_names() -> None:
    assert canonical_encoding("UTF8") == "utf-8"
    assert canonical_encoding("windows-1258") == "cp1258"
    assert canonical_encoding(" ABC ") == "tcvn3"
    assert canonical_encoding("VNI-Windows") == "vni"
    assert decode(b"H\xb5 N\xe9i", "TCVN3") == "Hà Nội"
    with pytest.raises(ValueError, match="unknown encoding"):
        decode(b"x", "latin-1")


# --- TCVN3 capitals ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NGUYễN VĂN AN", "NGUYỄN VĂN AN"),
        ("ĐấT ở TạI ĐÔ THị", "ĐẤT Ở TẠI ĐÔ THỊ"),
        ("đỗ VĂN AN", "ĐỖ VĂN AN"),
        ("HỘ ÔNG đỗ VĂN KHUÊ", "HỘ ÔNG ĐỖ VĂN KHUÊ"),
        ("Đỗ Văn An", "Đỗ Văn An"),  # title case: left alone
        ("Đỗ Thị Huyền (đồng sở hữu)", "Đỗ Thị Huyền (đồng sở hữu)"),
        ("Đất ở tại đô thị", "Đất ở tại đô thị"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("ở", "ở"),
        ("KHU A, nhà ở", "KHU A, nhà ở"),
        ("THửA 12-ĐấT", "THỬA 12-ĐẤT"),
        ("iPhone TPHCM", "iPhone TPHCM"),
    ],
)
def test_fix_tcvn3_case(text: str, expected: str) -> None:
    assert fix_tcvn3_case(text) == expected


# --- detection ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_detect_fixture(name: str) -> None:
    result = detect(fixture_lines(name))
    assert isinstance(result, Detection)
    assert result.encoding == FIXTURES[name], result
    assert result.confidence >= 0.8
    assert set(result.scores) == set(ENCODINGS)
    assert result.sample in TRUTH


def test_declared_utf8_does_not_override_tcvn3() -> None:
    result = detect(fixture_lines("strings.tcvn3.txt"), declared="UTF-8")
    assert result.encoding == "tcvn3"
    assert result.confidence >= 0.8
    assert "declared" in result.reason


def test_declared_cp1258_does_not_override_vni() -> None:
    assert detect(fixture_lines("strings.vni.txt"), declared="1258").encoding == "vni"


def test_pure_ascii() -> None:
    result = detect([b"Nguyen Van An", b"So 12 pho Hang Bac", b"   ", b""])
    assert (result.encoding, result.confidence) == ("utf-8", 1.0)
    assert "ASCII" in result.reason
    assert detect([]).encoding == "utf-8"


FRENCH = [
    "Parcelle cadastrée à Besançon",
    "Propriétaire : Mme Hélène Lefèvre, née Müller",
    "Lieu-dit « Les Échelles », section AB n° 123",
    "Contenance : 12 a 45 ca - zone agricole",
    "Ancienne propriété de l'évêché",
]


def test_latin1_french_is_not_taken_for_vietnamese() -> None:
    for codec in ("latin-1", "cp1252"):
        result = detect([s.encode(codec) for s in FRENCH])
        assert result.encoding is None, result
        assert "--encoding" in result.reason
        assert result.confidence < 0.8
    # One word is not enough evidence either.
    assert detect(["Parcelle cadastrée à Besançon".encode("latin-1")]).encoding is None


def test_utf8_french_is_utf8() -> None:
    # Valid UTF-8 decodes exactly, whatever the language: no mojibake risk.
    assert detect([s.encode("utf-8") for s in FRENCH]).encoding == "utf-8"


@pytest.mark.parametrize("source", ["utf-8", "tcvn3", "vni"])
def test_utf8_holding_mojibake_is_refused(source: str) -> None:
    # Legacy (or UTF-8) bytes read as Windows-1252 by some tool, then saved as UTF-8.
    codec = "latin-1" if source == "utf-8" else "cp1252"
    samples = [encode(t, source).decode(codec).encode("utf-8") for t in TRUTH]
    result = detect(samples, declared="utf-8")
    assert result.encoding is None, result
    assert "mojibake" in result.reason
    assert ("twice" if source == "utf-8" else source) in result.reason


def test_random_bytes_are_not_detected() -> None:
    rng = random.Random(20240501)
    for _ in range(20):
        samples = [rng.randbytes(rng.randint(5, 40)) for _ in range(50)]
        assert detect(samples).encoding is None


SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Quang", "Thu", "Hữu", "Ngọc", "Xuân"]
GIVEN = ["An", "Lan", "Hùng", "Hương", "Thắng", "Tuấn", "Huyền", "Dũng", "Nga", "Phượng", "Khuê"]
STREETS = ["Hàng Bạc", "Hàng Gai", "Lê Thái Tổ", "Bà Triệu", "Đội Cấn", "Kim Mã", "Cầu Giấy"]


def synthetic_register(rng: random.Random, rows: int) -> list[str]:
    out = []
    for i in range(rows):
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        out.append(name.upper() if i % 4 == 0 else name)
        out.append(f"Số {rng.randint(1, 200)} phố {rng.choice(STREETS)}")
        out.append(rng.choice(["Đất ở tại đô thị", "Đất trồng cây lâu năm", "ODT", "CLN"]))
    return out


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("rows", [1, 5, 500])
def test_detect_synthetic_registers(encoding: str, rows: int) -> None:
    texts = synthetic_register(random.Random(rows), rows)
    result = detect([encode(t, encoding) for t in texts], declared="utf-8")
    assert result.encoding == encoding, result
    assert result.confidence >= 0.8
    assert result.sample in texts


def test_detect_single_short_value_is_not_trusted() -> None:
    result = detect([encode("Hà", "tcvn3")])
    assert result.encoding is None or result.encoding == "tcvn3"
    assert detect([encode("Hà Nội", "tcvn3")]).encoding == "tcvn3"
