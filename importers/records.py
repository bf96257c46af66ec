"""From a layer's source columns to canonical parcel records (vectorised with pandas).

The canonical frame has one row per feature and the columns of ``profiles.FIELDS`` (those
the profile could map), with identifiers normalised: sheet numbers as text without leading
zeros, parcel numbers as integers, Vietnamese commune codes zero-padded to 5 digits, areas
as floats (decimal commas accepted), certificate serials as ``XX 123456``. Columns the
profile did not map are kept, as JSON, in ``source_attributes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from importers.profiles import FIELDS, ProfileChoice, normalise_column

_SERIAL = r"^\s*(?P<letters>[A-Za-z]{2})\s*[- ]?\s*(?P<digits>[0-9]{6,8})\s*$"
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%Y%m%d", "%d.%m.%Y")


@dataclass(frozen=True, slots=True)
class CanonicalLayer:
    frame: pd.DataFrame  # canonical columns + source_attributes (JSON text)
    mapping: dict[str, str]
    problems: pd.Series  # per row: None or "bad-identity: ..." for unusable identifiers


def missing(value: object) -> bool:
    """None, NaN, NA or NaT (what a driver may give for an empty field)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and np.isnan(value)


TEXT = pd.StringDtype("pyarrow")  # compact: a million addresses in tens of MB, not hundreds


def _as_text(series: pd.Series) -> pd.Series:
    """Text with surrounding blanks removed; empty -> missing (NA). Integral floats (12.0, as
    some drivers read integer columns) become "12"."""
    if pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        integral = np.isfinite(values) & (np.floor(values) == values)
        out = series.astype(object).astype(str)
        out[integral] = values[integral].astype(np.int64).astype(str)
        return out.where(np.isfinite(values), None).astype(TEXT)
    if pd.api.types.is_integer_dtype(series):
        return series.astype("Int64").astype(str).where(series.notna(), None).astype(TEXT)
    text = series.astype(TEXT).str.strip()
    return text.where(text != "")


def _number_text(series: pd.Series) -> pd.Series:
    """Identifiers read as floats by some drivers (12.0) or padded text ("012")."""
    text = _as_text(series)
    digits = text.str.fullmatch(r"\d+(?:\.0+)?").fillna(False).astype(bool)
    stripped = text.str.replace(r"\.0+$", "", regex=True).str.lstrip("0").replace("", "0")
    return text.where(~digits, stripped)


def _float(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    text = _as_text(series).str.replace(" ", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce")


def _serial(series: pd.Series) -> pd.Series:
    """"cs123456", "CS-123456" -> "CS 123456" (Arrow's RE2, not a Python loop); else NA."""
    text = pa.array(_as_text(series), type=pa.string(), from_pandas=True)
    parts = pc.extract_regex(text, _SERIAL)
    joined = pc.binary_join_element_wise(pc.utf8_upper(pc.struct_field(parts, "letters")),
                                         pc.struct_field(parts, "digits"), " ")
    return pd.Series(pd.arrays.ArrowStringArray(joined), index=series.index).astype(TEXT)


def _date(series: pd.Series) -> pd.Series:
    """Dates as datetime64 (NaT when missing or unreadable); text in the usual Vietnamese
    (dd/mm/yyyy) and ISO spellings."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.tz_localize(None).dt.normalize() if series.dt.tz else (
            series.dt.normalize())
    if series.dtype == object and len(series) and all(
            isinstance(v, (date, datetime)) or missing(v) for v in series.iloc[:100]):
        return pd.to_datetime(series, errors="coerce")
    text = _as_text(series)
    result = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    for fmt in _DATE_FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        result = result.fillna(parsed)
    return result


def _source_column(frame: pd.DataFrame, spec: str, derived: dict[str, pd.Series]) -> pd.Series:
    if "~" in spec:
        return derived[spec.split("~", 1)[1]]
    return frame[spec]


def canonicalise(
    frame: pd.DataFrame, choice: ProfileChoice, *, commune: str | None = None,
    sheet: str | None = None,
) -> CanonicalLayer:
    profile = choice.profile
    mapping = dict(choice.mapping)
    derived: dict[str, pd.Series] = {}
    if profile.derive_column and profile.derive_pattern:
        by_norm = {normalise_column(c): c for c in frame.columns}
        column = by_norm.get(normalise_column(profile.derive_column))
        if column is not None:
            parts = frame[column].astype(object).astype(str).str.extract(profile.derive_pattern)
            derived = {name: parts[name] for name in parts.columns}
    out = pd.DataFrame(index=frame.index)
    for canonical in FIELDS:
        if canonical not in mapping:
            continue
        source = _source_column(frame, mapping[canonical], derived)
        if canonical in ("sheet_number", "parcel_number"):
            out[canonical] = _number_text(source)
        elif canonical == "commune_code":
            codes = _number_text(source)
            numeric = codes.str.isdigit().fillna(False).astype(bool)
            out[canonical] = codes.str.zfill(5).where(numeric, codes.str.upper())
        elif canonical in ("area", "area_legal"):
            out[canonical] = _float(source)
        elif canonical == "owner_birth_year":
            out[canonical] = pd.to_numeric(_float(source), errors="coerce").astype("Int64")
        elif canonical == "certificate_serial":
            out[canonical] = _serial(source)
        elif canonical == "certificate_date":
            out[canonical] = _date(source)
        elif canonical == "owner_id":
            digits = _as_text(source).str.replace(r"\D", "", regex=True)
            out[canonical] = digits.where(digits != "")
        else:
            out[canonical] = _as_text(source)
    if commune is not None:
        out["commune_code"] = pd.Series(
            commune.zfill(5) if commune.isdigit() else commune.upper(), index=frame.index,
            dtype=TEXT)
        mapping["commune_code"] = "--commune"
    if sheet is not None:
        out["sheet_number"] = _number_text(pd.Series(sheet, index=frame.index, dtype=TEXT))
        mapping["sheet_number"] = "--sheet"
    if "land_use" in out:  # as written: importers.land_use_codes makes it "ODT+CLN"
        codes = out["land_use"].str.strip()
        out["land_use"] = codes.where(codes != "")

    problems = pd.Series(None, index=frame.index, dtype=object)
    if "commune_code" not in out:
        out["commune_code"] = pd.Series(pd.NA, index=frame.index, dtype=TEXT)
    number = pd.to_numeric(out.get("parcel_number"), errors="coerce")
    bad_number = number.isna() | (number <= 0) | (number != np.floor(number))
    out["parcel_number"] = number.where(~bad_number).astype("Int64")
    sheet_ok = out["sheet_number"].astype(TEXT).str.fullmatch(
        r"[0-9A-Za-z.-]{1,20}").fillna(False)
    commune_ok = out["commune_code"].astype(TEXT).str.fullmatch(
        r"[0-9A-Z]{2,10}").fillna(False)
    problems[~commune_ok.astype(bool)] = "no usable commune code (map a column or pass --commune)"
    problems[~sheet_ok.astype(bool)] = "no usable map sheet number"
    problems[bad_number.to_numpy()] = "no usable parcel number (a positive integer)"

    used = {spec for spec in mapping.values() if "~" not in spec and not spec.startswith("--")}
    if profile.derive_column:
        used |= {c for c in frame.columns
                 if normalise_column(c) == normalise_column(profile.derive_column)}
    rest = [c for c in frame.columns if c not in used]
    out["source_attributes"] = _json_rows(frame[rest]) if rest else "{}"
    return CanonicalLayer(out, mapping, problems)


def _json_rows(frame: pd.DataFrame) -> pd.Series:
    def clean(value: object) -> object:
        if missing(value):
            return None
        if isinstance(value, (pd.Timestamp, datetime, date)):
            return value.isoformat()
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, bytes):
            return value.hex()
        return value
    columns = list(frame.columns)
    rows = [
        orjson.dumps({c: clean(v) for c, v in zip(columns, values, strict=True)}).decode()
        for values in frame.itertuples(index=False, name=None)
    ]
    return pd.Series(rows, index=frame.index, dtype=object)


def with_personal_columns(attributes: dict[Any, Any], personal: dict[str, str]
                          ) -> dict[Any, Any]:
    """A quarantined row's source attributes with the record of which of them are personal
    (``"_personal"``: source column -> personal field, from the profile's mapping), by which
    the row is redacted for roles not entitled to them (cadastre.access)."""
    present = {column: field for column, field in personal.items() if column in attributes}
    return {**attributes, "_personal": present} if present else attributes
