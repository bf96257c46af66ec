"""Importer fuzzing: real small files (a Shapefile with its .shx/.dbf/.prj/.cpg, a DGN v7
and a DXF drawing, an XLSX and a CSV register) damaged the ways files get damaged:
truncated, bytes flipped, bytes inserted or cut, header fields overwritten (record counts,
header and record lengths, field types and widths, shape types, part and point counts,
bounding boxes with NaN/inf), a part of the shapefile missing or swapped, a spreadsheet's
XML broken inside an intact zip, register cells holding anything.

Each damaged file goes through ``run_import(..., dry_run=True)`` in a worker process
(tests/fuzz/import_worker.py) with a time limit. Every outcome must be an import or a
CadastreError whose message names the file; any other exception is a crash, a worker that
dies is a crash, one that does not answer in time is a hang. A failing case is kept on disk
and named in the failure. Bounded and reproducible: ``FUZZ_EXAMPLES`` (default 60) damaged
files per seed file; ``python -m bench.fuzz_importers`` runs a longer campaign."""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import select
import shutil
import struct
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pandas as pd
import pyogrio
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from cadastre.settings import Settings
from cadastre.synth import generate_layer
from tests.fuzz.conftest import fuzz_examples, record_stats
from tests.importers.conftest import CAD

ROOT = Path(__file__).resolve().parents[2]
#: Seconds one dry run of a damaged small file may take before it counts as a hang.
TIME_LIMIT = 30.0
HOUSE = {"commune": "00070", "sheet": "12"}


@dataclass(frozen=True)
class Seed:
    """A seed file: which file of a set to damage, how to import it."""

    name: str
    main: str  # the file given to run_import
    files: tuple[str, ...]  # the files that make it up
    kind: str = "parcels"
    options: dict[str, Any] = field(default_factory=dict)


SEEDS = {
    "shapefile": Seed("shapefile", "sheet.shp",
                      ("sheet.shp", "sheet.shx", "sheet.dbf", "sheet.prj", "sheet.cpg")),
    "dgn": Seed("dgn", "sheet12.dgn", ("sheet12.dgn",),
                options={"srid": 5897, **HOUSE}),
    "dxf": Seed("dxf", "sheet12.dxf", ("sheet12.dxf",), options={"province": "01", **HOUSE}),
    "xlsx": Seed("xlsx", "so_muc_ke.xlsx", ("so_muc_ke.xlsx",), kind="register"),
    "csv": Seed("csv", "so_muc_ke.csv", ("so_muc_ke.csv",), kind="register"),
}


def make_seeds(target: Path) -> Path:
    """The seed files, valid: each imports cleanly (the test checks it)."""
    layer = generate_layer(8, seed=31)
    (target / "map").mkdir(parents=True)
    pyogrio.write_dataframe(layer, target / "map" / "sheet.shp", encoding="utf-8")
    shp = target / "shapefile"
    shutil.copytree(target / "map", shp)
    for name in ("sheet12.dgn", "sheet12.dxf"):
        (target / name.split(".")[1]).mkdir()
        shutil.copy(CAD / name, target / name.split(".")[1] / name)
    register = register_frame(layer)
    (target / "xlsx").mkdir()
    with pd.ExcelWriter(target / "xlsx" / "so_muc_ke.xlsx") as writer:
        pd.DataFrame([["SỔ MỤC KÊ ĐẤT ĐAI"], ["Phường Hàng Bạc"]]).to_excel(
            writer, header=False, index=False)
        register.to_excel(writer, startrow=3, index=False)
    (target / "csv").mkdir()
    register.to_csv(target / "csv" / "so_muc_ke.csv", index=False, sep=";")
    return target


def register_frame(layer: Any) -> pd.DataFrame:
    return pd.DataFrame({
        "Mã xã": layer["MaXa"], "Số tờ": layer["SoTo"], "Số thửa": layer["SoThua"],
        "Tên người sử dụng": layer["TenChu"], "Diện tích": layer["DienTichPL"],
        "Loại đất": layer["LoaiDat"]})


# -- the worker ------------------------------------------------------------------------

class Worker:
    """A tests/fuzz/import_worker.py process; restarted after a crash or a hang."""

    def __init__(self, database_url: str, seeds: Path) -> None:
        self.args = [sys.executable, "-m", "tests.fuzz.import_worker", database_url,
                     str(seeds)]
        self.process: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(self.args, cwd=ROOT, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        ready = self._answer(process, 120.0)
        if ready != {"ready": True}:
            raise RuntimeError(f"the import worker did not start: {ready}")
        return process

    @staticmethod
    def _answer(process: subprocess.Popen[str], timeout: float) -> dict[str, Any] | None:
        assert process.stdout is not None
        readable, _, _ = select.select([process.stdout], [], [], timeout)
        if not readable:
            return None
        line = process.stdout.readline()
        return json.loads(line) if line else {"outcome": "died",
                                              "returncode": process.wait(5)}

    def run(self, path: Path, seed: Seed) -> dict[str, Any]:
        if self.process is None or self.process.poll() is not None:
            self.process = self._start()
        assert self.process.stdin is not None
        request = {"path": str(path), "kind": seed.kind, "options": seed.options}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        started = time.perf_counter()
        answer = self._answer(self.process, TIME_LIMIT)
        if answer is None:
            self.stop()
            return {"outcome": "hang", "seconds": round(time.perf_counter() - started, 1)}
        if answer.get("outcome") == "died":
            self.process = None
            return {"outcome": "crash", "type": "worker died",
                    "message": f"exit status {answer['returncode']}"}
        return answer

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


# -- damage ----------------------------------------------------------------------------

INTS = [0, 1, -1, 2, 100, 0x7FFF, 0xFFFF, 0x7FFFFFFF, -0x80000000, 31, 255]
DOUBLES = [math.nan, math.inf, -math.inf, 1e308, -1e308, 0.0, 5e-324]

#: Header fields worth overwriting: (offset, struct format) per file extension.
FIELDS: dict[str, list[tuple[int, str]]] = {
    ".shp": [(24, ">i"), (32, "<i"), (36, "<d"), (44, "<d"), (52, "<d"), (60, "<d"),
             (100, ">i"), (104, ">i"), (108, "<i"), (112, "<d"), (144, "<i"), (148, "<i"),
             (152, "<i"), (156, "<d")],
    ".shx": [(24, ">i"), (32, "<i"), (100, ">i"), (104, ">i"), (108, ">i"), (112, ">i")],
    ".dbf": [(0, "<B"), (4, "<I"), (8, "<H"), (10, "<H"), (29, "<B"), (32 + 11, "<c"),
             (32 + 16, "<B"), (32 + 17, "<B"), (64 + 11, "<c"), (64 + 16, "<B")],
    ".dgn": [(0, "<B"), (1, "<B"), (2, "<H"), (4, "<I"), (8, "<I"), (36, "<H"),
             (1536, "<B"), (1538, "<H"), (1540, "<I")],
    ".prj": [(0, "<B"), (10, "<B")],
    ".cpg": [(0, "<B")],
}
FIELD_CHARS = b"CNFDLMG@I+O0\x00 "


@st.composite
def field_value(draw: st.DrawFn, fmt: str) -> bytes:
    if fmt.endswith("d"):
        return struct.pack(fmt, draw(st.sampled_from(DOUBLES)))
    if fmt.endswith("c"):
        return struct.pack(fmt, bytes([draw(st.sampled_from(FIELD_CHARS))]))
    size = struct.calcsize(fmt)
    low, high = (0, 2 ** (8 * size) - 1) if fmt[-1].isupper() else (
        -(2 ** (8 * size - 1)), 2 ** (8 * size - 1) - 1)
    value = draw(st.one_of(st.sampled_from([v for v in INTS if low <= v <= high]),
                           st.integers(low, high)))
    return struct.pack(fmt, value)


@st.composite
def byte_damage(draw: st.DrawFn, data: bytes, suffix: str) -> bytes:
    """One to three damages of the bytes of a file."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        n = len(out)
        how = draw(st.sampled_from(["truncate", "flip", "overwrite", "field", "field",
                                    "insert", "cut", "repeat"]))
        at = draw(st.integers(0, max(n - 1, 0)))
        if how == "truncate":
            del out[at:]
        elif how == "flip" and n:
            for _ in range(draw(st.integers(1, 8))):
                i = draw(st.integers(0, n - 1))
                out[i] ^= draw(st.integers(1, 255))
        elif how == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            out[at:at + len(chunk)] = chunk
        elif how == "field" and FIELDS.get(suffix):
            offset, fmt = draw(st.sampled_from(FIELDS[suffix]))
            value = draw(field_value(fmt))
            if offset + len(value) <= n:
                out[offset:offset + len(value)] = value
        elif how == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif how == "cut":
            del out[at:at + draw(st.integers(1, 256))]
        elif how == "repeat":
            out[at:at] = out[at:at + draw(st.integers(1, 512))]
    return bytes(out)


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rezip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


CELLS = st.one_of(
    st.none(), st.text(max_size=30), st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", " ", "=1/0", "=A1", "#REF!", "1e400", "-0", "00037", "0x1F", "1/2",
                     "Số tờ", "Số thửa", "NaN", "Tờ 12 thửa 45", "\t", "12.5.3"]),
    st.booleans(), st.dates(), st.datetimes())


@st.composite
def register_cells(draw: st.DrawFn) -> pd.DataFrame:
    """The seed register with some cells, a header or whole columns replaced."""
    frame = register_frame(generate_layer(8, seed=31)).astype(object)
    for _ in range(draw(st.integers(1, 12))):
        row = draw(st.integers(0, len(frame) - 1))
        column = draw(st.sampled_from(list(frame.columns)))
        frame.at[row, column] = draw(CELLS)
    if draw(st.integers(0, 4)) == 0:
        columns = list(frame.columns)
        columns[draw(st.integers(0, len(columns) - 1))] = draw(
            st.sampled_from(["Số tờ", "", "Số thửa", "nan", "Diện tích", "x" * 300]))
        frame.columns = columns
    return frame


def damage(seed: Seed, source: Path, target: Path, data: st.DataObject) -> list[str]:
    """Copy the seed set into ``target`` and damage it; returns what was done."""
    shutil.copytree(source, target)
    done: list[str] = []
    how = data.draw(st.sampled_from(
        ["bytes", "bytes", "bytes", "member", "part", "cells"]), label="how")
    if how == "part" and seed.name == "shapefile":
        part = data.draw(st.sampled_from(seed.files[1:]), label="part")
        action = data.draw(st.sampled_from(["remove", "swap", "empty"]), label="action")
        if action == "remove":
            (target / part).unlink()
        elif action == "empty":
            (target / part).write_bytes(b"")
        else:
            other = data.draw(st.sampled_from([f for f in seed.files if f != part]))
            (target / part).write_bytes((target / other).read_bytes())
        return [f"{action} {part}"]
    if how == "member" and seed.name == "xlsx":
        members = zip_members((target / seed.main).read_bytes())
        name = data.draw(st.sampled_from(sorted(members)), label="member")
        members[name] = data.draw(byte_damage(members[name], ".xml"), label="damaged")
        (target / seed.main).write_bytes(rezip(members))
        return [f"damaged {name} inside the zip"]
    if how == "cells" and seed.kind == "register":
        frame = data.draw(register_cells(), label="register")
        if seed.name == "xlsx":  # what a spreadsheet can hold: no control characters
            frame = frame.map(lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(
                v, str) else v)
            frame.columns = [ILLEGAL_CHARACTERS_RE.sub("", str(c)) for c in frame.columns]
            frame.to_excel(target / seed.main, index=False)
        else:
            frame.to_csv(target / seed.main, index=False, sep=";")
        return ["register cells replaced"]
    name = data.draw(st.sampled_from(seed.files), label="file")
    path = target / name
    path.write_bytes(data.draw(byte_damage(path.read_bytes(), path.suffix), label="damaged"))
    done.append(f"damaged bytes of {name}")
    return done


# -- the campaign ----------------------------------------------------------------------

@dataclass
class Tally:
    tried: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    return make_seeds(tmp_path_factory.mktemp("fuzz-seeds"))


@pytest.fixture(scope="module")
def worker(settings: Settings, seeds: Path) -> Iterator[Worker]:
    w = Worker(settings.database_url, seeds)
    yield w
    w.stop()


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    t = Tally()
    yield t
    record_stats("importers", {
        "files_tried": sum(t.tried.values()), "by_seed": dict(t.tried),
        "outcomes": dict(t.outcomes), "clear_error_codes": dict(t.codes),
        "failures": t.failures, "seconds": round(t.seconds, 1)})


def names_the_file(message: str, seed: Seed) -> bool:
    return any(name in message for name in (seed.main, Path(seed.main).stem))


@pytest.mark.parametrize("seed", list(SEEDS.values()), ids=list(SEEDS))
def test_the_undamaged_seed_imports(worker, seeds, seed):
    answer = worker.run(seeds / seed.name / seed.main, seed)
    assert answer["outcome"] == "accepted", answer


@pytest.mark.parametrize("seed", list(SEEDS.values()), ids=list(SEEDS))
def test_damaged_files_import_or_fail_with_a_clear_error(worker, seeds, tally, tmp_path,
                                                        seed):
    cases = tmp_path / "cases"
    numbers = itertools.count()
    failures: list[str] = []

    @hypothesis_settings(max_examples=fuzz_examples(60), derandomize=True, deadline=None,
              database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def attempt(data: st.DataObject) -> None:
        target = cases / f"case-{next(numbers):06d}"
        done = damage(seed, seeds / seed.name, target, data)
        started = time.perf_counter()
        answer = worker.run(target / seed.main, seed)
        tally.seconds += time.perf_counter() - started
        tally.tried[seed.name] += 1
        outcome = answer["outcome"]
        if outcome == "clear" and not names_the_file(answer["message"], seed):
            outcome = "unclear"
        tally.outcomes[outcome] += 1
        if outcome == "clear":
            tally.codes[answer["code"]] += 1
        if outcome in ("accepted", "clear"):
            shutil.rmtree(target)
            return
        kept = ROOT / ".cadastre" / "fuzz-failures" / f"{seed.name}-{target.name}"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.move(target, kept)
        failures.append(f"{seed.name} ({'; '.join(done)}): {outcome}: "
                        f"{answer.get('type', '')} {answer.get('message', '')} "
                        f"[kept in {kept.relative_to(ROOT)}]\n{answer.get('traceback', '')}")

    attempt()
    tally.failures.extend(f.split("\n")[0] for f in failures)
    assert not failures, "\n".join(failures)
