"""Bulk registration of holders, rights and certificates read from a legacy layer or
register (sổ mục kê / sổ địa chính), with COPY. The caller owns the transaction.

Input is a frame with one row per parcel and the canonical columns ``parcel_id``,
``owner_name``, ``party_kind`` (individual / household / organisation / community),
optional ``owner_id`` (national ID digits), ``owner_birth_year``, ``owner_address``,
``certificate_serial``, ``registry_number``, ``certificate_date``. Parties are deduplicated
by national ID (people) or by name (organisations); a household becomes a party with its
head as member. Parcels that already have a current land-use right, and serials that are
already current certificates, are left alone (reported, never duplicated).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.bulk import copy_frame, reserve_from_sequence, reserve_ids

_HOUSEHOLD_PREFIX = re.compile(r"^(hộ\s+(gia\s+đình\s+)?(ông|bà)?\s*)", re.IGNORECASE)
DEFAULT_AUTHORITY = "Văn phòng đăng ký đất đai (nguồn: hồ sơ cũ)"


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and (
        value is not pd.NA)


def register_holders(
    conn: Connection, frame: pd.DataFrame, *, change_id: int, issuing_authority: str | None = None
) -> Counter[str]:
    counts: Counter[str] = Counter()
    rows = frame[frame["owner_name"].map(_present)].copy() if "owner_name" in frame else (
        frame.iloc[0:0])
    if rows.empty:
        return counts
    held = set(conn.execute(
        sa.text("SELECT parcel_id FROM current_land_right WHERE parcel_id = ANY(:ids) "
                "AND kind IN ('land_use', 'management')"),
        {"ids": [int(p) for p in rows["parcel_id"]]}).scalars())
    if held:
        counts["parcels_already_held"] = int(rows["parcel_id"].isin(held).sum())
        rows = rows[~rows["parcel_id"].isin(held)]
    if rows.empty:
        return counts
    rows = rows.reset_index(drop=True)
    kind = rows.get("party_kind", pd.Series("individual", index=rows.index)).fillna(
        "individual").to_numpy(dtype=object)
    owner_id = (rows["owner_id"] if "owner_id" in rows else pd.Series(None, index=rows.index))
    owner_id = owner_id.map(lambda v: v if _present(v) and len(str(v)) in (9, 12) else None)
    person = np.isin(kind, ["individual", "household"])
    name = rows["owner_name"].astype(str).to_numpy(dtype=object)
    head_name = np.array([_HOUSEHOLD_PREFIX.sub("", n).strip() or n for n in name], dtype=object)
    # Identity of the natural person or organisation behind each row.
    key = np.where(
        person & owner_id.notna().to_numpy(),
        "P" + owner_id.fillna("").astype(str).to_numpy(dtype=object),
        np.where(person, "N" + head_name, "O" + name),
    )
    first = ~pd.Series(key).duplicated().to_numpy()
    unique_rows = np.flatnonzero(first)

    # People and organisations, once each.
    ids = reserve_ids(conn, "party", "id", len(unique_rows))
    id_of_key = dict(zip(key[unique_rows], ids, strict=True))
    party_kind = np.where(person[unique_rows], "individual", kind[unique_rows])
    copy_frame(conn, "party", pd.DataFrame({
        "id": ids, "kind": party_kind,
        "name": np.where(person[unique_rows], head_name[unique_rows], name[unique_rows]),
    }))
    counts["parties"] += len(ids)
    personal = unique_rows[person[unique_rows]]
    if len(personal):
        national = owner_id.to_numpy(dtype=object)[personal]
        birth = (rows["owner_birth_year"] if "owner_birth_year" in rows
                 else pd.Series(pd.NA, index=rows.index)).astype("Int64").to_numpy()[personal]
        address = (rows["owner_address"] if "owner_address" in rows
                   else pd.Series(None, index=rows.index)).to_numpy(dtype=object)[personal]
        gender = [_gender_from_cccd(n) for n in national]
        copy_frame(conn, "party_personal", pd.DataFrame({
            "party_id": [id_of_key[k] for k in key[personal]],
            "id_kind": [None if n is None else ("cccd" if len(n) == 12 else "cmnd")
                        for n in national],
            "national_id": national,
            "birth_year": pd.array(birth, dtype="Int64"),
            "gender": gender,
            "address": address,
        }))
    holder = np.array([id_of_key[k] for k in key], dtype=np.int64)

    # Households: one party per distinct head, the head as its member.
    household = kind == "household"
    if household.any():
        heads = pd.unique(holder[household])
        household_ids = reserve_ids(conn, "party", "id", len(heads))
        head_row = {h: int(np.flatnonzero(holder == h)[0]) for h in heads}
        copy_frame(conn, "party", pd.DataFrame({
            "id": household_ids, "kind": "household",
            "name": [name[head_row[h]] for h in heads],
        }))
        copy_frame(conn, "party_member", pd.DataFrame({
            "group_party_id": household_ids, "member_party_id": heads, "role": "head",
            "begun_by": change_id,
        }))
        household_of = dict(zip(heads.tolist(), household_ids, strict=True))
        holder[household] = [household_of[h] for h in holder[household]]
        counts["parties"] += len(household_ids)

    certificate_ids = _certificates(conn, rows, change_id=change_id,
                                    authority=issuing_authority, counts=counts)
    rights = pd.DataFrame({
        "right_id": reserve_from_sequence(conn, "land_right_id_seq", len(rows)),
        "kind": np.where(np.isin(kind, ["organisation"]) & _is_public(name), "management",
                         "land_use"),
        "parcel_id": rows["parcel_id"].to_numpy(),
        "party_id": holder,
        "certificate_id": pd.array(certificate_ids, dtype="Int64"),
        "begun_by": change_id,
    })
    copy_frame(conn, "land_right", rights)
    counts["rights"] += len(rights)
    return counts


def _is_public(names: np.ndarray) -> np.ndarray:
    return np.array([n.upper().startswith(("UBND", "ỦY BAN", "UỶ BAN")) for n in names],
                    dtype=bool)


def _gender_from_cccd(national: str | None) -> str | None:
    if national is None or len(national) != 12:
        return None
    return "male" if int(national[3]) % 2 == 0 else "female"


def _certificates(
    conn: Connection, rows: pd.DataFrame, *, change_id: int, authority: str | None,
    counts: Counter[str],
) -> list[int | None]:
    """One certificate per distinct serial (several parcels may share one)."""
    result: list[int | None] = [None] * len(rows)
    if "certificate_serial" not in rows:
        return result
    serials = rows["certificate_serial"]
    present = serials.map(_present).to_numpy()
    if not present.any():
        return result
    existing: dict[str, int] = {
        str(serial): int(certificate_id) for serial, certificate_id in conn.execute(
            sa.text("SELECT serial, certificate_id FROM current_certificate "
                    "WHERE serial = ANY(:s)"),
            {"s": list(set(serials[present]))}).all()}
    if existing:
        counts["certificates_already_recorded"] += len(existing)
    new_serials = [s for s in pd.unique(serials[present]) if s not in existing]
    cert_ids = reserve_from_sequence(conn, "certificate_id_seq", len(new_serials))
    versions = reserve_ids(conn, "certificate", "version_id", len(new_serials))
    id_of = {**existing, **dict(zip(new_serials, cert_ids, strict=True))}
    version_of = dict(zip(new_serials, versions, strict=True))
    first_row = {s: i for i, s in reversed(list(enumerate(serials))) if _present(s)}
    issued = rows.get("certificate_date")
    registry = rows.get("registry_number")
    if new_serials:
        copy_frame(conn, "certificate", pd.DataFrame({
            "version_id": versions,
            "certificate_id": cert_ids,
            "serial": new_serials,
            "registry_number": [None if registry is None else registry.iloc[first_row[s]]
                                for s in new_serials],
            "issued_on": [_issue_date(None if issued is None else issued.iloc[first_row[s]])
                          for s in new_serials],
            "issuing_authority": authority or DEFAULT_AUTHORITY,
            "begun_by": change_id,
        }))
        counts["certificates"] += len(new_serials)
    covered = []
    for i, serial in enumerate(serials):
        if _present(serial):
            result[i] = int(id_of[serial])
            if serial in version_of:
                covered.append((version_of[serial], int(rows["parcel_id"].iloc[i])))
    if covered:
        copy_frame(conn, "certificate_parcel", pd.DataFrame(
            sorted(set(covered)), columns=["certificate_version_id", "parcel_id"]))
    return result


def _issue_date(value: object) -> str | None:
    return value.isoformat() if isinstance(value, date) else None
