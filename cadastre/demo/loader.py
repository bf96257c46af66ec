"""Demo data: a synthetic Hoàn Kiếm (Hà Nội) cadastre loaded with its parties, rights,
certificates, land-use purposes and a few mortgages and injunctions, so that every page and
endpoint has something real to show. Loaded once; a second run reuses what exists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.bulk import copy_frame, reserve_from_sequence, reserve_ids
from cadastre.migrations import storage_srid

DEMO_MARKER = "demo_loaded"
HOAN_KIEM_DISTRICT = ("002", "Hoàn Kiếm")
#: Old-structure wards of Hoàn Kiếm, valid until the 2025 reorganisation.
OLD_STRUCTURE_END = date(2025, 6, 30)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    parcels: int
    parties: int
    certificates: int
    rights: int
    restrictions: int
    already_loaded: bool = False


def demo_loaded(conn: Connection) -> bool:
    return bool(
        conn.execute(
            sa.text("SELECT 1 FROM database_setting WHERE name = :n"), {"n": DEMO_MARKER}
        ).scalar()
    )


def load_demo(conn: Connection, frame: gpd.GeoDataFrame, *, seed: int = 7) -> DemoSummary:
    """Load a synthetic layer (``cadastre.synth`` columns) as the demo register.

    The caller owns the transaction.
    """
    if demo_loaded(conn):
        return DemoSummary(0, 0, 0, 0, 0, already_loaded=True)
    srid = storage_srid(conn)
    if frame.crs is None or frame.crs.to_epsg() != srid:
        frame = frame.to_crs(epsg=srid)
    rng = np.random.default_rng(seed)
    n = len(frame)

    _admin_units(conn, frame)
    change_id = _import_change(conn, n)

    # Parcels ----------------------------------------------------------------------------
    parcel_ids = np.array(reserve_ids(conn, "parcel_identity", "parcel_id", n))
    copy_frame(conn, "parcel_identity", pd.DataFrame({"parcel_id": parcel_ids}))
    sheets = _map_sheets(conn, frame, srid, change_id)
    version_ids = np.array(reserve_ids(conn, "parcel", "version_id", n))
    sheet_key = list(zip(frame["MaXa"], frame["SoTo"].astype(str), strict=True))
    parcels = pd.DataFrame(
        {
            "version_id": version_ids,
            "parcel_id": parcel_ids,
            "commune_code": frame["MaXa"].to_numpy(),
            "sheet_number": frame["SoTo"].astype(str).to_numpy(),
            "parcel_number": frame["SoThua"].to_numpy(),
            "map_sheet_version": [sheets[k] for k in sheet_key],
            "area_measured": frame["DienTich"].to_numpy(),
            "area_legal": frame["DienTichPL"].to_numpy(),
            "address": frame["DiaChi"].to_numpy(),
            # the EWKB carries the storage SRID
            "geom": shapely.to_wkb(
                shapely.set_srid(frame.geometry.to_numpy(), srid), hex=True, include_srid=True
            ),
            "begun_by": change_id,
        }
    )
    copy_frame(conn, "parcel", parcels)
    _land_uses(conn, frame, version_ids)

    # Parties ----------------------------------------------------------------------------
    holder_of_parcel, parties = _parties(conn, frame, change_id)

    # Certificates and rights --------------------------------------------------------------
    certified = frame["SoPhatHanh"].notna().to_numpy()
    cert_ids = np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(certified)
    cert_ids[idx] = reserve_from_sequence(conn, "certificate_id_seq", len(idx))
    cert_versions = reserve_ids(conn, "certificate", "version_id", len(idx))
    issued = pd.to_datetime(frame["NgayCap"].to_numpy()[idx])
    authority = np.where(
        issued.year < 2019, "UBND quận Hoàn Kiếm", "Sở Tài nguyên và Môi trường Hà Nội"
    )
    copy_frame(
        conn,
        "certificate",
        pd.DataFrame(
            {
                "version_id": cert_versions,
                "certificate_id": cert_ids[idx],
                "serial": frame["SoPhatHanh"].to_numpy()[idx],
                "registry_number": frame["SoVaoSo"].to_numpy()[idx],
                "issued_on": issued.strftime("%Y-%m-%d"),
                "issuing_authority": authority,
                "begun_by": change_id,
            }
        ),
    )
    copy_frame(
        conn,
        "certificate_parcel",
        pd.DataFrame({"certificate_version_id": cert_versions, "parcel_id": parcel_ids[idx]}),
    )
    right_ids = reserve_from_sequence(conn, "land_right_id_seq", n)
    is_org = frame["LoaiChu"].isin(["TC", "UBS"]).to_numpy()
    rights = pd.DataFrame(
        {
            "right_id": right_ids,
            "kind": np.where(frame["LoaiChu"].eq("UBS"), "management", "land_use"),
            "parcel_id": parcel_ids,
            "party_id": holder_of_parcel,
            "certificate_id": pd.Series(cert_ids).where(cert_ids >= 0).astype("Int64"),
            "begun_by": change_id,
        }
    )
    copy_frame(conn, "land_right", rights)
    # Most private urban parcels also record ownership of the house on them.
    houses = (~is_org) & frame["LoaiDat"].str.contains("ODT").to_numpy() & certified
    house_idx = np.flatnonzero(houses & (rng.random(n) < 0.7))
    copy_frame(
        conn,
        "land_right",
        pd.DataFrame(
            {
                "right_id": reserve_from_sequence(conn, "land_right_id_seq", len(house_idx)),
                "kind": "house_ownership",
                "parcel_id": parcel_ids[house_idx],
                "party_id": holder_of_parcel[house_idx],
                "certificate_id": cert_ids[house_idx],
                "begun_by": change_id,
            }
        ),
    )

    restrictions = _restrictions(conn, rng, parcel_ids, certified & ~is_org, change_id)
    conn.execute(
        sa.text("INSERT INTO database_setting (name, value) VALUES (:n, :v)"),
        {"n": DEMO_MARKER, "v": str(n)},
    )
    return DemoSummary(
        parcels=n,
        parties=parties,
        certificates=len(idx),
        rights=n + len(house_idx),
        restrictions=restrictions,
    )


def _admin_units(conn: Connection, frame: gpd.GeoDataFrame) -> None:
    hanoi = conn.execute(
        sa.text(
            "SELECT id FROM admin_unit WHERE level = 'province' AND code = '01' "
            "AND valid_to IS NULL"
        )
    ).scalar_one()
    district = conn.execute(
        sa.text(
            "INSERT INTO admin_unit (level, code, name, kind, parent_id, valid_from, valid_to, "
            "tm3_epsg) VALUES ('district', :code, :name, 'quan', :p, DATE '1961-01-01', :vt, "
            "5897) RETURNING id"
        ),
        {"code": HOAN_KIEM_DISTRICT[0], "name": HOAN_KIEM_DISTRICT[1], "p": hanoi,
         "vt": OLD_STRUCTURE_END},
    ).scalar_one()
    communes = frame[["MaXa", "DiaChi"]].drop_duplicates("MaXa")
    for code, address in communes.itertuples(index=False):
        name = _ward_name(str(address))
        conn.execute(
            sa.text(
                "INSERT INTO admin_unit (level, code, name, kind, parent_id, valid_to, tm3_epsg) "
                "VALUES ('commune', :code, :name, 'phuong', :p, :vt, 5897)"
            ),
            {"code": code, "name": name, "p": district, "vt": OLD_STRUCTURE_END},
        )


def _ward_name(address: str) -> str:
    for part in address.split(","):
        part = part.strip()
        if part.lower().startswith("phường "):
            return part[len("phường ") :]
    return address


def _import_change(conn: Connection, n: int) -> int:
    source = conn.execute(
        sa.text(
            "INSERT INTO source_document (kind, reference, issuer, description) VALUES "
            "('legacy_file', 'DEMO-HK', 'cadastre synth', :d) RETURNING id"
        ),
        {"d": f"Synthetic Hoàn Kiếm cadastral layer, {n} parcels (demo data)"},
    ).scalar_one()
    change = conn.execute(
        sa.text(
            "INSERT INTO change_transaction (kind, note) VALUES ('import', :note) RETURNING id"
        ),
        {"note": "demo data load"},
    ).scalar_one()
    conn.execute(
        sa.text("INSERT INTO change_source (change_id, source_id) VALUES (:c, :s)"),
        {"c": change, "s": source},
    )
    return int(change)


def _map_sheets(
    conn: Connection, frame: gpd.GeoDataFrame, srid: int, change_id: int
) -> dict[tuple[str, str], int]:
    keys = frame["MaXa"] + "\x1f" + frame["SoTo"].astype(str)
    bounds = frame.geometry.bounds.groupby(keys.to_numpy()).agg(
        {"minx": "min", "miny": "min", "maxx": "max", "maxy": "max"}
    )
    boxes = shapely.box(bounds["minx"], bounds["miny"], bounds["maxx"], bounds["maxy"])
    versions = reserve_ids(conn, "map_sheet", "version_id", len(bounds))
    sheet_ids = reserve_from_sequence(conn, "map_sheet_id_seq", len(bounds))
    commune, sheet = zip(*(k.split("\x1f") for k in bounds.index), strict=True)
    copy_frame(
        conn,
        "map_sheet",
        pd.DataFrame(
            {
                "version_id": versions,
                "sheet_id": sheet_ids,
                "commune_code": commune,
                "sheet_number": sheet,
                "scale": 500,
                "survey_year": 2016,
                "geom": shapely.to_wkb(shapely.set_srid(boxes, srid), hex=True, include_srid=True),
                "begun_by": change_id,
            }
        ),
    )
    return dict(zip(zip(commune, sheet, strict=True), versions, strict=True))


def _land_uses(conn: Connection, frame: gpd.GeoDataFrame, version_ids: np.ndarray) -> None:
    codes = frame["LoaiDat"].str.split("+")
    legal = frame["DienTichPL"].to_numpy()
    issued = pd.to_datetime(frame["NgayCap"])
    rows: list[tuple[int, str, float, str, object, str]] = []
    for i, parts in enumerate(codes):
        if len(parts) == 1:
            shares = [legal[i]]
        else:  # residential part first (hạn mức đất ở), the rest perennial crops
            residential = round(min(legal[i] * 0.6, 120.0), 1)
            shares = [residential, round(legal[i] - residential, 1)]
        for code, area in zip(parts, shares, strict=True):
            fixed = code not in ("ODT", "ONT", "DGT", "TON", "DGD", "DYT", "DCH", "TSC")
            start = issued.iloc[i]
            end = (
                date(start.year + 50, start.month, min(start.day, 28))
                if fixed and not pd.isna(start)
                else None
            )
            rows.append(
                (
                    int(version_ids[i]),
                    code,
                    float(area),
                    "fixed" if end else "permanent",
                    end.isoformat() if end else None,
                    "Công nhận QSDĐ như giao đất có thu tiền sử dụng đất",
                )
            )
    copy_frame(
        conn,
        "parcel_land_use",
        pd.DataFrame(
            rows,
            columns=["parcel_version_id", "land_use_code", "area", "term_kind", "term_end",
                     "origin"],
        ),
    )


def _parties(
    conn: Connection, frame: gpd.GeoDataFrame, change_id: int
) -> tuple[np.ndarray, int]:
    """One party per distinct holder (individuals by national ID, organisations by name);
    a household is a party of its own with its head as a member. Returns the holder party
    id of each parcel and the number of parties created."""
    kind = frame["LoaiChu"].to_numpy()
    person_key = np.where(
        np.isin(kind, ["CN", "HGD"]), frame["CCCD"].fillna("").to_numpy(), ""
    )
    org_key = np.where(np.isin(kind, ["TC", "UBS"]), frame["TenChu"].to_numpy(), "")
    key = pd.Series(np.where(person_key != "", "P" + person_key, "O" + org_key))
    first = ~key.duplicated().to_numpy()
    unique_rows = np.flatnonzero(first)

    people_rows = unique_rows[np.isin(kind[unique_rows], ["CN", "HGD"])]
    org_rows = unique_rows[np.isin(kind[unique_rows], ["TC", "UBS"])]
    person_ids = reserve_ids(conn, "party", "id", len(people_rows))
    org_ids = reserve_ids(conn, "party", "id", len(org_rows))
    head_name = frame["TenChu"].str.replace(r"^Hộ (ông|bà) ", "", regex=True)
    copy_frame(
        conn,
        "party",
        pd.concat(
            [
                pd.DataFrame(
                    {"id": person_ids, "kind": "individual",
                     "name": head_name.to_numpy()[people_rows]}
                ),
                pd.DataFrame(
                    {"id": org_ids, "kind": "organisation",
                     "name": frame["TenChu"].to_numpy()[org_rows]}
                ),
            ]
        ),
    )
    cccd = frame["CCCD"].to_numpy()[people_rows]
    gender_digit = np.array([int(c[3]) for c in cccd])
    copy_frame(
        conn,
        "party_personal",
        pd.DataFrame(
            {
                "party_id": person_ids,
                "id_kind": "cccd",
                "national_id": cccd,
                "birth_year": frame["NamSinh"].to_numpy()[people_rows].astype(int),
                "gender": np.where(gender_digit % 2 == 0, "male", "female"),
                "address": frame["DiaChiChu"].to_numpy()[people_rows],
            }
        ),
    )
    id_of_key = dict(zip(key.to_numpy()[people_rows], person_ids, strict=True))
    id_of_key.update(zip(key.to_numpy()[org_rows], org_ids, strict=True))
    holder = np.array([id_of_key[k] for k in key.to_numpy()], dtype=np.int64)

    # Households: a household party per distinct head, the head as its member.
    household_rows = unique_rows[kind[unique_rows] == "HGD"]
    household_ids = reserve_ids(conn, "party", "id", len(household_rows))
    copy_frame(
        conn,
        "party",
        pd.DataFrame(
            {"id": household_ids, "kind": "household",
             "name": frame["TenChu"].to_numpy()[household_rows]}
        ),
    )
    heads = np.array([id_of_key[k] for k in key.to_numpy()[household_rows]], dtype=np.int64)
    copy_frame(
        conn,
        "party_member",
        pd.DataFrame(
            {"group_party_id": household_ids, "member_party_id": heads, "role": "head",
             "begun_by": change_id}
        ),
    )
    household_of_head = dict(zip(heads.tolist(), household_ids, strict=True))
    is_household = kind == "HGD"
    holder[is_household] = [household_of_head[h] for h in holder[is_household]]
    return holder, len(person_ids) + len(org_ids) + len(household_ids)


BANKS = (
    "Ngân hàng TMCP Ngoại thương Việt Nam (Vietcombank) - CN Hoàn Kiếm",
    "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam - CN Hà Nội",
    "Ngân hàng TMCP Công thương Việt Nam (VietinBank) - CN Hoàn Kiếm",
    "Ngân hàng TMCP Đầu tư và Phát triển Việt Nam (BIDV) - CN Hà Thành",
    "Ngân hàng TMCP Kỹ thương Việt Nam (Techcombank) - CN Hàng Bài",
)


def _restrictions(
    conn: Connection,
    rng: np.random.Generator,
    parcel_ids: np.ndarray,
    eligible: np.ndarray,
    change_id: int,
) -> int:
    bank_ids = reserve_ids(conn, "party", "id", len(BANKS))
    court_ids = reserve_ids(conn, "party", "id", 1)
    copy_frame(
        conn,
        "party",
        pd.DataFrame(
            {
                "id": [*bank_ids, *court_ids],
                "kind": "organisation",
                "name": [*BANKS, "Tòa án nhân dân quận Hoàn Kiếm"],
            }
        ),
    )
    candidates = np.flatnonzero(eligible)
    mortgaged = candidates[rng.random(len(candidates)) < 0.12]
    blocked = candidates[rng.random(len(candidates)) < 0.006]
    mortgages = pd.DataFrame(
        {
            "restriction_id": reserve_from_sequence(conn, "restriction_id_seq", len(mortgaged)),
            "kind": "mortgage",
            "parcel_id": parcel_ids[mortgaged],
            "party_id": rng.choice(bank_ids, len(mortgaged)),
            "reference": [f"HĐTC {1000 + i}/{2018 + i % 7}/HĐTC" for i in range(len(mortgaged))],
            "description": "Thế chấp quyền sử dụng đất và tài sản gắn liền với đất",
            "amount": (rng.integers(5, 150, len(mortgaged)) * 100_000_000),
            "begun_by": change_id,
        }
    )
    injunctions = pd.DataFrame(
        {
            "restriction_id": reserve_from_sequence(conn, "restriction_id_seq", len(blocked)),
            "kind": "injunction",
            "parcel_id": parcel_ids[blocked],
            "party_id": court_ids[0],
            "reference": [f"QĐ {30 + i}/{2024}/QĐ-BPKCTT" for i in range(len(blocked))],
            "description": "Biện pháp khẩn cấp tạm thời: cấm chuyển dịch quyền về tài sản "
            "đang tranh chấp",
            "begun_by": change_id,
        }
    )
    copy_frame(conn, "restriction", mortgages)
    copy_frame(conn, "restriction", injunctions)
    return len(mortgages) + len(injunctions)
