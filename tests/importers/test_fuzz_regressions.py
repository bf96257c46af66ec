"""Damaged files the fuzzer (tests/fuzz/test_importer_fuzz.py) found crashing the importer:
each is a clear error naming the file, and nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cadastre.errors import EncodingQuestion, ImportSourceError, UnknownProfile
from tests.importers.conftest import CAD, count, encoded_frame

ROOT = Path(__file__).resolve().parents[2]

NOTHING_WRITTEN = "SELECT (SELECT count(*) FROM import_run) + (SELECT count(*) FROM party)"


@pytest.fixture
def before(conn) -> int:
    return count(conn, NOTHING_WRITTEN)


@pytest.mark.parametrize(("content", "message"), [
    (b"", r"so_muc_ke\.csv: cannot be read as CSV \(No columns to parse from file\)"),
    (b"So to;So thua;Chu su dung\n1;2;An\n1;3;Binh;thua\n",   # a row with one cell too many
     r"so_muc_ke\.csv: cannot be read as CSV \(Error tokenizing data.*Expected 3 fields"),
    (b"So to;So thua;Chu\x00 su dung\n1;2;An\n",
     r"so_muc_ke\.csv: holds NUL bytes, so it is not a text CSV"),
    ("Số tờ;Số thửa;Số tờ;Tên\n1;2;1;An\n".encode(),
     r"so_muc_ke\.csv: the header row \(row 1\) names 'Số tờ' more than once"),
])
def test_broken_csv_register(conn, run, tmp_path, before, content, message):
    path = tmp_path / "so_muc_ke.csv"
    path.write_bytes(content)
    with pytest.raises(ImportSourceError, match=message):
        run(path, kind="register")
    assert count(conn, NOTHING_WRITTEN) == before


def test_xlsx_register_with_a_column_named_twice(conn, run, tmp_path, before):
    path = tmp_path / "so_muc_ke.xlsx"
    pd.DataFrame([["Số tờ", "Số thửa", "Số thửa", "Tên người sử dụng"], [1, 2, 3, "An"]]
                 ).to_excel(path, header=False, index=False)
    with pytest.raises(ImportSourceError,
                       match=r"so_muc_ke\.xlsx: the header row \(row 1\) names 'Số thửa'"):
        run(path, kind="register")
    assert count(conn, NOTHING_WRITTEN) == before


def test_a_drawing_without_labels_names_the_file(conn, run, tmp_path, before):
    # DXF group codes come in pairs; drop every TEXT entity (the parcel labels)
    lines = (CAD / "sheet12.dxf").read_text().splitlines()
    pairs = list(zip(lines[0::2], lines[1::2], strict=True))
    kept, skipping = [], False
    for code, value in pairs:
        if code.strip() == "0":
            skipping = value.strip() == "TEXT"
        if not skipping:
            kept += [code, value]
    path = tmp_path / "to_12.dxf"
    path.write_text("\n".join(kept) + "\n")
    with pytest.raises(UnknownProfile, match=r"^to_12\.dxf:entities: no profile recognises "):
        run(path, province="01", commune="00070", sheet="12")
    assert count(conn, NOTHING_WRITTEN) == before


def _dgn_with_label(tmp_path, label: bytes):
    path = tmp_path / "to_12.dgn"
    path.write_bytes((CAD / "sheet12.dgn").read_bytes().replace(b"1/ODT", label))
    return path


def test_drawing_labels_count_in_the_encoding_detection(conn, run, tmp_path, before):
    # the attributes were plain ASCII, so UTF-8 was chosen and the label crashed decoding
    with pytest.raises(EncodingQuestion, match=r"^to_12\.dgn:elements: cannot tell the text"):
        run(_dgn_with_label(tmp_path, b"1/OD\xff"), srid=5897, commune="00070", sheet="12")
    assert count(conn, NOTHING_WRITTEN) == before


@pytest.mark.parametrize("suffix", ["dgn", "shp"])
def test_text_that_is_not_in_the_given_encoding(conn, run, write, small_layer, tmp_path,
                                                before, suffix):
    if suffix == "dgn":
        path, options = _dgn_with_label(tmp_path, b"1/OD\xff"), {
            "srid": 5897, "commune": "00070", "sheet": "12"}
    else:
        path, options = write(encoded_frame(small_layer, "tcvn3"), "to_12.shp",
                              encoding="latin1"), {}
    with pytest.raises(EncodingQuestion, match=rf"^to_12\.{suffix}(:elements)?: a text value "
                                               r"is not valid utf-8 \(near b'"):
        run(path, encoding="utf-8", **options)
    assert count(conn, NOTHING_WRITTEN) == before


def test_a_truncated_dxf_is_refused_before_gdal_reads_it(tmp_path):
    # GDAL looped forever on a POLYLINE cut short: run in a process of its own, with a limit
    data = (CAD / "sheet12.dxf").read_bytes()
    path = tmp_path / "to_12.dxf"
    path.write_bytes(data[:data.index(b"VERTEX") + 6])
    code = ("import sys; from pathlib import Path; from importers.sources import list_layers; "
            "list_layers(Path(sys.argv[1]), 'to_12.dxf')")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                            text=True, timeout=120, cwd=ROOT, env={**os.environ,
                                                                    "PYTHONPATH": str(ROOT)})
    assert result.returncode != 0
    assert ("ImportSourceError: to_12.dxf: truncated: a DXF file ends with an EOF record"
            in result.stderr), result.stderr[-2000:]
