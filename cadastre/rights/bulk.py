"""Bulk registration of holders, rights and certificates read from a legacy layer or
register (sổ mục kê / sổ địa chính), with COPY. The caller owns the transaction.

Input is a frame with one row per parcel and the canonical columns ``parcel_id``,
``owner_name``, ``party_kind`` (individual / household / organisation / community),
optional ``owner_id`` (national ID digits), ``owner_birth_year``, ``owner_address``,
``certificate_serial``, ``registry_number``, ``certificate_date``. Parties are deduplicated
by national ID (people), by name (people without an ID, organisations); a household becomes
a party with its head as member. Parcels that already have a current land-use right, and
serials that are already current certificates, are left alone (counted, never duplicated).
Everything is vectorised: a million rows take seconds, not minutes.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.bulk import copy_frame, reserve_from_sequence, reserve_ids

_HOUSEHOLD_PREFIX = r"^(?i:hộ\s+(?:gia\s+đình\s+)?(?:ông|bà)?\s*)"
DEFAULT_AUTHORITY = "Văn phòng đăng ký đất đai (nguồn: hồ sơ cũ)"
_PUBLIC_PREFIXES = ("UBND", "ỦY BAN", "UỶ BAN")
_TEXT = pd.StringDtype("pyarrow")


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name].astype(object).where(frame[name].notna(), None)
    return pd.Series(None, index=frame.index, dtype=object)


def _picked(frame: pd.DataFrame, name: str, positions: np.ndarray) -> object:
    """The values of ``name`` at ``positions``, as the column holds them (Arrow strings
    stay Arrow strings: no Python object per row); all missing without the column."""
    if name not in frame:
        return np.full(len(positions), None, dtype=object)
    return frame[name].iloc[positions].array


def _labels(series: pd.Series) -> np.ndarray:
    """A column of few distinct values (kinds) as an object array sharing one str each."""
    codes, uniques = pd.factorize(series)
    labels: np.ndarray = np.asarray(uniques, dtype=object)[codes]
    return labels


def _any_current(conn: Connection, view: str) -> bool:
    """Skips the lookups of a first load (a million-element array costs seconds)."""
    assert view in ("current_land_right", "current_certificate")
    return bool(conn.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {view})")).scalar_one())


def register_holders(
    conn: Connection, frame: pd.DataFrame, *, change_id: int, issuing_authority: str | None = None
) -> Counter[str]:
    counts: Counter[str] = Counter()
    if "owner_name" not in frame:
        return counts
    named = frame["owner_name"].notna()
    rows = frame if named.all() else frame[named]  # no copy when every parcel has a holder
    if rows.empty:
        return counts
    held = set(conn.execute(
        sa.text("SELECT parcel_id FROM current_land_right "
                "WHERE parcel_id = ANY(CAST(:ids AS bigint[])) "
                "AND kind IN ('land_use', 'management')"),
        {"ids": "{" + ",".join(rows["parcel_id"].astype("int64").astype(str)) + "}"},
    ).scalars()) if _any_current(conn, "current_land_right") else set()
    if held:
        already = rows["parcel_id"].isin(held)
        counts["parcels_already_held"] = int(already.sum())
        rows = rows[~already]
    if rows.empty:
        return counts
    rows = rows.reset_index(drop=True)
    n = len(rows)

    kind = _labels(_column(rows, "party_kind").fillna("individual").astype(str))
    name = rows["owner_name"].astype(_TEXT)
    owner_text = (rows["owner_id"] if "owner_id" in rows else pd.Series(
        pd.NA, index=rows.index)).astype(_TEXT)  # Arrow strings: a million holders' keys in
    valid_id = owner_text.str.len().isin([9, 12]).fillna(False).astype(bool)  # MBs, not GBs
    person = np.isin(kind, ["individual", "household"])
    head = name.str.replace(_HOUSEHOLD_PREFIX, "", regex=True).str.strip()
    head = head.where(head != "", name)
    key = ("O" + name).where(~person, ("N" + head).where(
        ~(person & valid_id.to_numpy()), "P" + owner_text))
    codes, uniques = pd.factorize(key)
    first = np.unique(codes, return_index=True)[1]
    party_ids = np.asarray(reserve_ids(conn, "party", "id", len(uniques)), dtype=np.int64)
    unique_person = person[first]
    copy_frame(conn, "party", pd.DataFrame({
        "id": party_ids,
        "kind": np.where(unique_person, "individual", kind[first]),
        "name": np.where(unique_person, head.iloc[first].to_numpy(dtype=object),
                         name.iloc[first].to_numpy(dtype=object)),
    }))
    counts["parties"] += len(party_ids)

    people = first[unique_person]
    if len(people):
        ids = owner_text.iloc[people].where(valid_id.iloc[people].to_numpy())
        length = ids.str.len().fillna(0).to_numpy(dtype=np.int64)
        # The fourth digit of a 12-digit CCCD: century and sex (even: male).
        digit = pd.to_numeric(ids.str.slice(3, 4), errors="coerce")
        gender_digit = digit.where(length == 12).fillna(-1).to_numpy(dtype=np.int64)
        birth = pd.to_numeric(rows["owner_birth_year"].iloc[people], errors="coerce") if (
            "owner_birth_year" in rows) else pd.Series(np.nan, index=people)
        id_kind = np.full(len(people), None, dtype=object)
        id_kind[length == 12] = "cccd"
        id_kind[length == 9] = "cmnd"
        gender = np.full(len(people), None, dtype=object)
        gender[(gender_digit >= 0) & (gender_digit % 2 == 0)] = "male"
        gender[(gender_digit >= 0) & (gender_digit % 2 == 1)] = "female"
        copy_frame(conn, "party_personal", pd.DataFrame({
            "party_id": party_ids[codes[people]],
            "id_kind": id_kind,
            "national_id": ids.array,
            "birth_year": pd.array(birth.to_numpy(dtype=float, na_value=np.nan),
                                   dtype="Int64"),
            "gender": gender,
            "address": _picked(rows, "owner_address", people),
        }))
    holder = party_ids[codes]

    household = kind == "household"
    if household.any():
        head_codes, heads = pd.factorize(holder[household])
        household_ids = np.asarray(reserve_ids(conn, "party", "id", len(heads)), dtype=np.int64)
        first_household = np.flatnonzero(household)[np.unique(head_codes, return_index=True)[1]]
        copy_frame(conn, "party", pd.DataFrame({
            "id": household_ids, "kind": "household",
            "name": name.iloc[first_household].to_numpy(dtype=object)}))
        copy_frame(conn, "party_member", pd.DataFrame({
            "group_party_id": household_ids, "member_party_id": np.asarray(heads),
            "role": "head", "begun_by": change_id}))
        holder[household] = household_ids[head_codes]
        counts["parties"] += len(household_ids)

    certificate = _certificates(conn, rows, change_id=change_id,
                                authority=issuing_authority, counts=counts)
    public = name.str.upper().str.startswith(_PUBLIC_PREFIXES).to_numpy(dtype=bool)
    copy_frame(conn, "land_right", pd.DataFrame({
        "right_id": reserve_from_sequence(conn, "land_right_id_seq", n),
        "kind": np.where((kind == "organisation") & public, "management", "land_use"),
        "parcel_id": rows["parcel_id"].to_numpy(dtype=np.int64),
        "party_id": holder,
        "certificate_id": certificate,
        "begun_by": change_id,
    }))
    counts["rights"] += n
    return counts


def _certificates(
    conn: Connection, rows: pd.DataFrame, *, change_id: int, authority: str | None,
    counts: Counter[str],
) -> pd.Series:
    """One certificate per distinct serial (a certificate may cover several parcels); the
    stable certificate id for each row (NA without a serial)."""
    result = pd.Series(pd.NA, index=rows.index, dtype="Int64")
    if "certificate_serial" not in rows:
        return result
    serials = rows["certificate_serial"]
    present = serials.notna().to_numpy()
    if not present.any():
        return result
    codes, found = pd.factorize(serials[present])
    uniques = np.asarray(found, dtype=object)
    existing: dict[str, int] = {
        str(serial): int(certificate_id) for serial, certificate_id in conn.execute(
            sa.text("SELECT serial, certificate_id FROM current_certificate "
                    "WHERE serial = ANY(:s)"), {"s": list(uniques)}).all()
    } if _any_current(conn, "current_certificate") else {}
    if existing:
        counts["certificates_already_recorded"] += len(existing)
    is_new = (np.array([s not in existing for s in uniques], dtype=bool) if existing
              else np.ones(len(uniques), dtype=bool))
    new_count = int(is_new.sum())
    ids = np.zeros(len(uniques), dtype=np.int64)
    ids[~is_new] = [existing[s] for s in np.asarray(uniques)[~is_new]]
    ids[is_new] = reserve_from_sequence(conn, "certificate_id_seq", new_count)
    versions = np.zeros(len(uniques), dtype=np.int64)
    versions[is_new] = reserve_ids(conn, "certificate", "version_id", new_count)
    positions = np.flatnonzero(present)
    first = positions[np.unique(codes, return_index=True)[1]]
    if new_count:
        picked = first[is_new]
        dates = pd.to_datetime(rows["certificate_date"].iloc[picked], errors="coerce") if (
            "certificate_date" in rows) else pd.Series(pd.NaT, index=picked)
        issued = dates.dt.strftime("%Y-%m-%d").to_numpy(dtype=object, na_value=None)
        copy_frame(conn, "certificate", pd.DataFrame({
            "version_id": versions[is_new],
            "certificate_id": ids[is_new],
            "serial": uniques[is_new],
            "registry_number": _picked(rows, "registry_number", picked),
            "issued_on": issued,
            "issuing_authority": authority or DEFAULT_AUTHORITY,
            "begun_by": change_id,
        }))
        counts["certificates"] += new_count
        new_rows = is_new[codes]
        covered = pd.DataFrame({
            "certificate_version_id": versions[codes][new_rows],
            "parcel_id": rows["parcel_id"].to_numpy(dtype=np.int64)[positions][new_rows],
        }).drop_duplicates()
        copy_frame(conn, "certificate_parcel", covered)
    result.iloc[positions] = ids[codes]
    return result
