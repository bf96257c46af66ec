"""Registers (sổ mục kê: sheet, parcel, holder, area, land type) from XLSX or CSV, attached
to the parcels already in the register. Rows that match no current parcel are reported
and kept in the quarantine table, never dropped silently."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Transaction

from cadastre.bulk import copy_frame
from cadastre.errors import EncodingQuestion, ImportSourceError
from importers import load, vntext
from importers.land_use_codes import LandUseCodes, Tally
from importers.profiles import choose_profile, normalise_column, party_kinds
from importers.records import canonicalise, with_personal_columns
from importers.report import ImportReport, LayerReport

if TYPE_CHECKING:
    from importers.pipeline import ImportOptions

_HEADER_SCAN_ROWS = 30


def read_table(path: Path) -> tuple[pd.DataFrame, str, float]:
    """The register as a DataFrame with its real header row (title rows above it are
    skipped), and the text encoding (CSV only)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".ods", ".xls"):
        try:
            raw = pd.read_excel(path, header=None, dtype=object)
        except Exception as exc:
            raise ImportSourceError(f"{path.name}: cannot be read as a spreadsheet ({exc})"
                                    ) from exc
        encoding, confidence = "utf-8", 1.0
    elif suffix in (".csv", ".txt"):
        data = path.read_bytes()
        if b"\x00" in data:
            raise ImportSourceError(
                f"{path.name}: holds NUL bytes, so it is not a text CSV (UTF-16, or a binary "
                "file?)", hint="save it as CSV UTF-8")
        lines = [line for line in data.splitlines() if line and not line.isascii()][:5000]
        detection = vntext.detect(lines) if lines else None
        if detection is not None and detection.encoding is None:
            raise EncodingQuestion(f"{path.name}: cannot tell the text encoding "
                                   f"({detection.reason})", hint="pass --encoding")
        encoding = detection.encoding if detection and detection.encoding else "utf-8"
        confidence = detection.confidence if detection else 1.0
        text = vntext.decode(data, encoding)
        import io

        separator = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(
            ",") else ","
        try:
            raw = pd.read_csv(io.StringIO(text), header=None, dtype=object, sep=separator)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ImportSourceError(f"{path.name}: cannot be read as CSV ({exc})") from exc
    else:
        raise ImportSourceError(f"{path.name}: a register must be .xlsx, .ods or .csv")
    return _with_header(raw, path.name), encoding, confidence


def _with_header(raw: pd.DataFrame, name: str) -> pd.DataFrame:
    wanted = {"soto", "sothua", "sohieuto", "sothututhua", "tobando", "thuaso"}
    for row in range(min(_HEADER_SCAN_ROWS, len(raw))):
        cells = [normalise_column(str(v)) for v in raw.iloc[row] if v is not None]
        if len(wanted & set(cells)) >= 1 and sum(1 for c in cells if c) >= 3:
            header = [str(v).strip() if v is not None and str(v) != "nan" else f"col{i}"
                      for i, v in enumerate(raw.iloc[row])]
            twice = sorted({c for c in header if header.count(c) > 1})
            if twice:
                raise ImportSourceError(
                    f"{name}: the header row (row {row + 1}) names {', '.join(map(repr, twice))}"
                    " more than once", hint="give each column its own name")
            body = raw.iloc[row + 1:].reset_index(drop=True)
            body.columns = header
            return body.dropna(how="all")
    raise ImportSourceError(
        f"{name}: no header row with the sheet and parcel numbers (Số tờ, Số thửa) in the "
        f"first {_HEADER_SCAN_ROWS} rows")


def import_register(
    conn: Connection, transaction: Transaction, path: Path, options: ImportOptions,
    report: ImportReport, started: datetime, say: Callable[[str], None],
) -> ImportReport:
    clock = time.perf_counter()
    frame, encoding, confidence = read_table(path)
    layer = LayerReport(label=path.name, driver="register", features=len(frame),
                        encoding=encoding, encoding_confidence=confidence,
                        encoding_reason=f"{encoding} ({confidence:.0%})", crs="(no geometry)")
    report.layers = [layer]
    provided = frozenset(f for f, v in (("commune_code", options.commune),
                                        ("sheet_number", options.sheet)) if v is not None)
    choice = choose_profile(options.profile, path.stem, list(frame.columns), provided=provided)
    layer.profile, layer.profile_reason = choice.profile.name, choice.reason
    canonical = canonicalise(frame, choice, commune=options.commune, sheet=options.sheet)
    records = canonical.frame
    # today's codes; a row is not refused for its land-use code (its holder still attaches):
    # a code not mapped is left out and reported
    tally = Tally()
    LandUseCodes.load(conn, mode=options.land_use_codes).apply(records, tally)
    layer.land_use = tally.to_json()
    if tally.unmapped:
        report.warnings.append(
            f"{sum(tally.unmapped.values()):,} land-use codes could not be mapped to today's "
            "list and were left out (" + ", ".join(
                f"{c} {n:,}" for c, n in tally.unmapped.most_common(12)) + ")")
    if choice.profile.owner_kinds and "owner_kind" in records:
        records["party_kind"] = party_kinds(records["owner_kind"], choice.profile.owner_kinds)
    elif "owner_name" in records:
        records["party_kind"] = records["owner_name"].map(_guess_kind)
    say(f"matching {len(records):,} register rows to current parcels")
    current = pd.DataFrame(conn.execute(sa.text(
        "SELECT parcel_id, version_id, commune_code, sheet_number, parcel_number, area_legal "
        "FROM current_parcel WHERE (commune_code, sheet_number) IN (SELECT * FROM "
        "unnest(CAST(:c AS text[]), CAST(:s AS text[])))"),
        {"c": records["commune_code"].fillna("").astype(str).tolist(),
         "s": records["sheet_number"].fillna("").astype(str).tolist()}).all(),
        columns=["parcel_id", "version_id", "commune_code", "sheet_number", "parcel_number",
                 "area_legal"])
    key = list(zip(records["commune_code"], records["sheet_number"],
                   records["parcel_number"].astype("Int64"), strict=True))
    lookup = {(c, s, int(n)): i for i, (c, s, n) in enumerate(zip(
        current["commune_code"], current["sheet_number"], current["parcel_number"],
        strict=True))}
    position = np.array([lookup.get((c, s, int(n)), -1) if n is not pd.NA and n is not None
                         else -1 for c, s, n in key])
    bad = canonical.problems.notna().to_numpy()
    unmatched = (position < 0) & ~bad
    reason_code = np.full(len(records), None, dtype=object)
    reason = np.full(len(records), None, dtype=object)
    reason_code[unmatched] = "no-such-parcel"
    reason[unmatched] = "no current parcel with this commune, sheet and number"
    reason_code[bad] = "bad-identity"
    reason[bad] = canonical.problems.to_numpy()[bad]
    layer.rejected = Counter(str(c) for c in reason_code if c is not None)
    matched = position >= 0
    layer.accepted = int(matched.sum())
    if options.on_error == "abort" and layer.rejected:
        from cadastre.errors import ImportRejected

        raise ImportRejected(f"{sum(layer.rejected.values()):,} register row(s) match no "
                             "parcel; nothing was written", report=report)
    if layer.rejected and not layer.accepted and not options.allow_empty:
        from cadastre.errors import ImportRejected

        transaction.rollback()
        report.status = "rejected"
        raise ImportRejected(
            f"{path.name}: all {sum(layer.rejected.values()):,} register row(s) were rejected "
            f"({', '.join(f'{c}: {n:,}' for c, n in layer.rejected.most_common())}); nothing "
            "was written", hint="see each row's reason in the report (--report FILE); "
            "--allow-empty records the import with every row quarantined", report=report)
    if options.dry_run:
        transaction.rollback()
        report.status = "dry-run"
        report.counts["would_attach"] = layer.accepted
        report.counts["would_quarantine"] = sum(layer.rejected.values())
        return report

    change = load.begin_change(conn, source=str(path), sha256=report.sha256,
                               note=f"register {path.name} ({layer.accepted:,} rows)")
    attached = records[matched].copy()
    hits = current.iloc[position[matched]].reset_index(drop=True)
    attached = attached.reset_index(drop=True).assign(parcel_id=hits["parcel_id"].to_numpy())
    counts: Counter[str] = Counter()
    counts.update(_attach_land_uses(conn, attached, hits, load.land_use_codes(conn), report))
    if "owner_name" in attached:
        from cadastre.rights.bulk import register_holders

        counts.update(register_holders(conn, attached, change_id=change.change_id))
    if "area" in attached or "area_legal" in attached:
        recorded = attached.get("area_legal", attached.get("area"))
        legal = pd.to_numeric(hits["area_legal"], errors="coerce")
        differs = (recorded - legal).abs() > 0.5
        if differs.any():
            report.warnings.append(
                f"{int(differs.sum()):,} rows record an area that differs from the parcel's "
                "legal area by more than 0.5 m² (not applied: an area correction is a change)")
    import_id = load.next_import_id(conn)
    report.import_id = import_id
    report.counts.update(counts)
    report.counts["unmatched_rows"] = int(unmatched.sum())
    report.timings["total"] = time.perf_counter() - clock
    load.record_import(
        conn, import_id=import_id, kind="register", source=str(path), sha256=report.sha256,
        size=report.bytes, profile=layer.profile, encoding=encoding, confidence=confidence,
        crs="", options=orjson.dumps(asdict(options)).decode(),
        counts=orjson.dumps(dict(report.counts)).decode(),
        report=orjson.dumps(report.to_json(), default=str,
                            option=orjson.OPT_NON_STR_KEYS).decode(), started_at=started,
        change=change)
    rejected_rows = np.flatnonzero(reason_code != None)  # noqa: E711
    personal = choice.profile.personal_columns([str(c) for c in frame.columns])
    load.quarantine(conn, import_id, pd.DataFrame({
        "dataset": path.name, "layer": None, "feature_index": rejected_rows,
        "reason_code": reason_code[rejected_rows], "reason": reason[rejected_rows],
        "identity": [f"{key[i][0]}/{key[i][1]}/{key[i][2]}" for i in rejected_rows],
        "attributes": [orjson.dumps(with_personal_columns(frame.iloc[i].to_dict(), personal),
                                    default=str, option=orjson.OPT_NON_STR_KEYS).decode()
                       for i in rejected_rows],
        "geom": None,
    }))
    report.status = "committed"
    return report


def _guess_kind(name: object) -> str | None:
    if not isinstance(name, str):
        return None
    upper = name.upper()
    if upper.startswith(("HỘ ", "HO ")):
        return "household"
    if upper.startswith(("UBND", "CÔNG TY", "TRƯỜNG", "CHÙA", "BAN ", "HỢP TÁC XÃ")):
        return "organisation"
    return "individual"


def _attach_land_uses(
    conn: Connection, records: pd.DataFrame, hits: pd.DataFrame, known: set[str],
    report: ImportReport,
) -> Counter[str]:
    """Land-use rows for current parcel versions that have none yet; a register that
    disagrees with recorded land use is reported (a purpose change is a change operation)."""
    counts: Counter[str] = Counter()
    if "land_use" not in records:
        return counts
    existing: dict[int, set[str]] = {}
    for version, code in conn.execute(sa.text(
            "SELECT parcel_version_id, land_use_code FROM parcel_land_use "
            "WHERE parcel_version_id = ANY(:v)"),
            {"v": [int(v) for v in hits["version_id"]]}).all():
        existing.setdefault(int(version), set()).add(code)
    rows: list[tuple[int, str, float | None]] = []
    conflicts = 0
    for joined, version, legal in zip(records["land_use"], hits["version_id"],
                                      hits["area_legal"], strict=True):
        if not isinstance(joined, str) or not joined:
            continue
        codes = joined.split("+")
        good = [c for c in dict.fromkeys(codes) if c in known]
        have = existing.get(int(version))
        if have is not None:
            conflicts += int(set(good) != have)
            continue
        single = len(good) == 1 and legal is not None and not pd.isna(legal)
        rows.extend((int(version), c, float(legal) if single else None) for c in good)
    if rows:
        copy_frame(conn, "parcel_land_use", pd.DataFrame(
            rows, columns=["parcel_version_id", "land_use_code", "area"]))
    counts["land_use_rows"] = len(rows)
    if conflicts:
        report.warnings.append(
            f"{conflicts:,} rows give land-use codes that differ from the parcel's recorded "
            "ones (not applied: use a purpose change)")
    return counts
