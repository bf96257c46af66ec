"""Demo data beyond what the importer brings: the offices of the two-level government, house
ownership on certified homes, and mortgages and injunctions held by banks and a court, so
every page and endpoint has something real to show. `cadastre demo load` imports a
synthetic layer with the real importer first, then adds these (once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.access import OFFICE_ROLES, Role
from cadastre.accounts.service import add_user
from cadastre.bulk import copy_frame, reserve_from_sequence, reserve_ids
from cadastre.changes.record import record_change
from cadastre.clock import office_today
from cadastre.synth import DEMO_COMMUNES

DEMO_MARKER = "demo_loaded"
#: Wards of the old three-level structure, valid until the 2025 reorganisation.
OLD_STRUCTURE_END = date(2025, 6, 30)
BANKS = (
    "Ngân hàng TMCP Ngoại thương Việt Nam (Vietcombank) - CN Hoàn Kiếm",
    "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam - CN Hà Nội",
    "Ngân hàng TMCP Công thương Việt Nam (VietinBank) - CN Hoàn Kiếm",
    "Ngân hàng TMCP Đầu tư và Phát triển Việt Nam (BIDV) - CN Hà Thành",
    "Ngân hàng TMCP Kỹ thương Việt Nam (Techcombank) - CN Hàng Bài",
)
COURT = "Tòa án nhân dân quận Hoàn Kiếm"
#: Demo accounts (demo databases only): username -> role; password DEMO_PASSWORD. The staff
#: work at the province's registration office (DEMO_OFFICE); the admin is province-wide.
DEMO_ACCOUNTS = {"officer": "land_officer", "clerk": "counter_clerk", "analyst": "gis_analyst",
                 "supervisor": "supervisor", "admin": "admin"}
DEMO_PASSWORD = "demo-password"
DEMO_OFFICE = "VPDK.HN"


@dataclass(frozen=True, slots=True)
class DemoExtras:
    communes: int
    house_rights: int
    mortgages: int
    injunctions: int
    sales: int = 0
    sales_awaiting_certificate: int = 0


def demo_loaded(conn: Connection) -> bool:
    return bool(conn.execute(
        sa.text("SELECT 1 FROM database_setting WHERE name = :n"), {"n": DEMO_MARKER}).scalar())


def add_demo_extras(conn: Connection, *, seed: int = 7) -> DemoExtras:
    """Add the demo's administrative units, house rights and restrictions to the imported
    parcels, and mark the database as holding the demo. The caller owns the transaction."""
    rng = np.random.default_rng(seed)
    communes = _admin_units(conn)
    # The rights and restrictions below begin at their lifespans' default, the transaction's
    # start: so does the change.
    change = record_change(conn, "first_registration", [],
                           note="demo: house ownership, mortgages and injunctions",
                           instant="transaction").change_id
    houses = _house_rights(conn, rng, change)
    mortgages, injunctions = _restrictions(conn, rng, change)
    _offices(conn)
    for username, role in DEMO_ACCOUNTS.items():
        exists = conn.execute(sa.text("SELECT 1 FROM app_user WHERE username = :u"),
                              {"u": username}).scalar()
        if not exists:
            add_user(conn, username, role, password=DEMO_PASSWORD,
                     full_name=f"Demo {role.replace('_', ' ')}",
                     office_code=DEMO_OFFICE if Role(role) in OFFICE_ROLES else None)
    approved, sales, awaiting = _dossiers(conn, rng)
    conn.execute(sa.text("INSERT INTO database_setting (name, value) VALUES (:n, 'yes') "
                         "ON CONFLICT (name) DO NOTHING"), {"n": DEMO_MARKER})
    return DemoExtras(communes, houses, mortgages + approved, injunctions, sales, awaiting)


def _admin_units(conn: Connection) -> int:
    """The demo's sheets were drawn for the wards of the former Hoàn Kiếm district (before
    2025-07-01): the unit registry, loaded from the pinned packages by ``cadastre db init``,
    must know them. Returns how many it knows."""
    codes = [code for code, _ in DEMO_COMMUNES]
    known = int(conn.execute(sa.text(
        "SELECT count(DISTINCT code) FROM admin_unit WHERE level = 'commune' "
        "AND code = ANY(:c) AND valid_to = :end"), {"c": codes, "end": OLD_STRUCTURE_END}
    ).scalar_one())
    if known < len(codes):
        raise RuntimeError("the administrative units are not loaded: run "
                           "'cadastre admin units load' before the demo")
    return known


def _current_wards(conn: Connection) -> list[tuple[str, str]]:
    """The wards in force that the demo's former wards became on 2025-07-01 (main
    successors), by code."""
    return [(r.code, r.name) for r in conn.execute(sa.text(
        "SELECT DISTINCT n.code, n.name FROM admin_unit o "
        "JOIN admin_unit_succession s ON s.predecessor_id = o.id AND s.main "
        "JOIN admin_unit n ON n.id = s.successor_id AND n.valid_to IS NULL "
        "WHERE o.level = 'commune' AND o.code = ANY(:c) AND o.valid_to = :end "
        "ORDER BY n.code"), {"c": [c for c, _ in DEMO_COMMUNES], "end": OLD_STRUCTURE_END})]


def _house_rights(conn: Connection, rng: np.random.Generator, change: int) -> int:
    """Most certified private homes also record ownership of the house on them."""
    rows = pd.DataFrame(conn.execute(sa.text(
        "SELECT r.parcel_id, r.party_id, r.certificate_id FROM current_land_right r "
        "JOIN current_parcel p USING (parcel_id) "
        "JOIN parcel_land_use u ON u.parcel_version_id = p.version_id AND "
        "u.land_use_code = 'ODT' "
        "WHERE r.kind = 'land_use' AND r.certificate_id IS NOT NULL ORDER BY r.parcel_id"
    )).all(), columns=["parcel_id", "party_id", "certificate_id"])
    rows = rows[rng.random(len(rows)) < 0.7]
    copy_frame(conn, "land_right", rows.assign(
        right_id=reserve_from_sequence(conn, "land_right_id_seq", len(rows)),
        kind="house_ownership", begun_by=change))
    return len(rows)


def _restrictions(conn: Connection, rng: np.random.Generator, change: int) -> tuple[int, int]:
    bank_ids = reserve_ids(conn, "party", "id", len(BANKS))
    (court,) = reserve_ids(conn, "party", "id", 1)
    copy_frame(conn, "party", pd.DataFrame({
        "id": [*bank_ids, court], "kind": "organisation", "name": [*BANKS, COURT]}))
    candidates = np.array(conn.execute(sa.text(
        "SELECT parcel_id FROM current_land_right WHERE kind = 'land_use' "
        "AND certificate_id IS NOT NULL ORDER BY parcel_id")).scalars().all(), dtype=np.int64)
    mortgaged = candidates[rng.random(len(candidates)) < 0.12]
    blocked = candidates[rng.random(len(candidates)) < 0.006]
    copy_frame(conn, "restriction", pd.DataFrame({
        "restriction_id": reserve_from_sequence(conn, "restriction_id_seq", len(mortgaged)),
        "kind": "mortgage",
        "parcel_id": mortgaged,
        "party_id": rng.choice(bank_ids, len(mortgaged)),
        "reference": [f"{1000 + i}/{2018 + i % 7}/HĐTC" for i in range(len(mortgaged))],
        "description": "Thế chấp quyền sử dụng đất và tài sản gắn liền với đất",
        "amount": rng.integers(5, 150, len(mortgaged)) * 100_000_000,
        "begun_by": change,
    }))
    copy_frame(conn, "restriction", pd.DataFrame({
        "restriction_id": reserve_from_sequence(conn, "restriction_id_seq", len(blocked)),
        "kind": "injunction",
        "parcel_id": blocked,
        "party_id": court,
        "reference": [f"{30 + i}/2024/QĐ-BPKCTT" for i in range(len(blocked))],
        "description": "Biện pháp khẩn cấp tạm thời: cấm chuyển dịch quyền về tài sản đang "
        "tranh chấp",
        "begun_by": change,
    }))
    return len(mortgaged), len(blocked)


#: A path through the workflow for each demo dossier: every state is represented.
_PATHS = (
    (),
    ("in_processing",),
    ("supplement_requested",),
    ("supplement_requested", "received_back"),
    ("in_processing", "tax_notice"),
    ("in_processing", "approved"),
    ("in_processing", "rejected"),
    ("in_processing", "approved", "result_ready"),
    ("in_processing", "approved", "result_ready", "returned"),
    ("withdrawn",),
)


def _offices(conn: Connection) -> None:
    """The city's land registration office (its branch serves the former Hoàn Kiếm
    district's wards) and the one-stop counters of the wards in force since 2025-07-01
    that they became: since then the wards decide first registrations and purpose changes
    of households and individuals (Decree 151/2025/NĐ-CP)."""
    conn.execute(sa.text(
        "INSERT INTO office (code, name, level, province_code, address, phone) VALUES "
        "('VPDK.HN', 'Văn phòng Đăng ký đất đai Hà Nội - Chi nhánh khu vực Hoàn Kiếm', "
        "'province', '01', 'Số 2 Hàng Tre, phường Hoàn Kiếm, Hà Nội', '02439261234') "
        "ON CONFLICT DO NOTHING"))
    for code, name in _current_wards(conn):
        conn.execute(sa.text(
            "INSERT INTO office (code, name, level, province_code, commune_code) VALUES "
            "(:c, :n, 'commune', '01', :w) ON CONFLICT DO NOTHING"),
            {"c": f"UBND.{code}", "n": f"UBND {name[0].lower()}{name[1:]}", "w": code})


def _dossiers(conn: Connection, rng: np.random.Generator) -> tuple[int, int, int]:
    """Dossiers in every state of the workflow, received at the registration office over
    the last weeks and taken through the workflow on the office clock (the days between
    their steps pass as they would), some late, one of those with an apology letter, on
    parcels under no injunction. The approved ones are mortgages or sales (to a buyer
    registered at the counter; a quarter of them with the buyer's new certificate, the others
    awaiting it), applied by their approval: the numbers of mortgages and sales registered
    and of sales awaiting the new certificate."""
    from cadastre.changes.record import SourceDocument
    from cadastre.clock import office_clock_offset, set_office_clock
    from cadastre.dossiers import approval, service

    parcels = conn.execute(sa.text(
        "SELECT r.parcel_id, h.name, r.certificate_id IS NOT NULL AS certified "
        "FROM current_land_right r JOIN party h ON h.id = r.party_id "
        "WHERE r.kind = 'land_use' AND h.kind IN ('individual', 'household') "
        "AND NOT EXISTS (SELECT 1 FROM current_restriction x WHERE x.parcel_id = r.parcel_id "
        "                AND x.kind = 'injunction') "
        "ORDER BY r.parcel_id LIMIT 60")).all()
    procedures = {r.code: list(r.documents) for r in conn.execute(sa.text(
        "SELECT code, documents FROM procedure WHERE level = 'province' "
        "AND code IN ('CHUYEN-NHUONG', 'THE-CHAP', 'XOA-THE-CHAP', 'CAP-DOI', 'THUA-KE')"))}
    roles = {"received": Role.COUNTER_CLERK, "received_back": Role.COUNTER_CLERK,
             "result_ready": Role.COUNTER_CLERK, "returned": Role.COUNTER_CLERK,
             "withdrawn": Role.COUNTER_CLERK}
    banks = conn.execute(sa.text("SELECT id FROM party WHERE kind = 'organisation' "
                                 "AND name = ANY(:b) ORDER BY id"),
                         {"b": list(BANKS)}).scalars().all()
    approved, sales, awaiting, apologised, base = 0, 0, 0, False, office_clock_offset(conn)
    for i, (parcel_id, holder, certified) in enumerate(parcels):
        path = _PATHS[i % len(_PATHS)]
        # half the approvals are sales, of certified land (Land Law 2024 art. 45.1.a)
        sale = "approved" in path and i % 2 == 0 and certified
        if sale:
            path = ("in_processing", "tax_notice", *path[1:])
        code = ("CHUYEN-NHUONG" if "tax_notice" in path else "THE-CHAP" if "approved" in path
                else sorted(procedures)[i % len(procedures)])
        ago = int(rng.integers(1, 40))
        set_office_clock(conn, base - timedelta(days=ago))
        phone = f"09{rng.integers(10_000_000, 99_999_999)}"
        dossier, _ = service.receive(conn, service.Intake(
            procedure_code=code, received_by_office=DEMO_OFFICE,
            applicant=service.Applicant(holder.removeprefix("Hộ ông ").removeprefix("Hộ bà "),
                                        phone=phone),
            parcel_ids=[parcel_id], documents=procedures[code]), actor="clerk")
        for n, step in enumerate(path, start=1):  # the steps spread over the days since
            set_office_clock(conn, base - timedelta(days=ago - ago * n // (len(path) + 1)))
            if step == "approved" and sale:
                dossier = approval.approve(
                    conn, dossier["code"], [approval.Step("transfer", {
                        "holders": [{"party_id": _demo_buyer(conn, rng, i)}],
                        "certificate": {"action": "await"} if i % 4 else {
                            "action": "new", "serial": f"DT {26_000_000 + i}",
                            "registry_number": f"CS{26_000 + i:06d}"}})],
                    source=SourceDocument("contract", f"{1000 + i}/2026/HĐCN",
                                          issuer="Văn phòng công chứng Hoàn Kiếm"),
                    role=Role.LAND_OFFICER, actor="demo",
                    expected_version=dossier["row_version"], states=None)
                sales += 1
                awaiting += bool(i % 4)
                continue
            if step == "approved":
                dossier = approval.approve(
                    conn, dossier["code"], [approval.Step("mortgage", {
                        "lender_party_id": banks[i % len(banks)],
                        "amount": int(rng.integers(5, 150)) * 100_000_000})],
                    source=SourceDocument("contract", f"HĐTC {dossier['code']}"),
                    role=Role.LAND_OFFICER, actor="demo",
                    expected_version=dossier["row_version"], states=None)
                approved += 1
                continue
            dossier = service.transition(
                conn, dossier["code"], step, role=roles.get(step, Role.LAND_OFFICER),
                actor="demo", expected_version=dossier["row_version"],
                note="Không đủ điều kiện: thửa đất đang tranh chấp" if step == "rejected"
                else None, rating=int(rng.integers(3, 6)) if step == "returned" else None)
        set_office_clock(conn, base)
        if not apologised and path == ("in_processing",) and (
                dossier["due_date"] < office_today(conn)):
            new_due = _next_working_day(conn, office_today(conn) + timedelta(days=5))
            service.apologise(conn, dossier["code"], new_due=new_due, actor="demo",
                              reason="Chờ kết quả đo đạc lại ranh giới thửa đất",
                              expected_version=dossier["row_version"])
            apologised = True
    return approved, sales, awaiting


#: The demo's buyers: registered at the counter through the party register, as a clerk does.
BUYERS = ("Nguyễn Văn Khoa", "Trần Thị Thu Hà", "Lê Minh Đức", "Phạm Thị Ngọc Ánh",
           "Hoàng Văn Sơn", "Vũ Thị Hồng", "Đặng Quốc Bảo", "Bùi Thị Phương")


_BUYER_STREETS = ("phố Hàng Bạc, phường Hoàn Kiếm", "phố Lý Thường Kiệt, phường Cửa Nam",
                  "phố Đội Cấn, phường Ba Đình", "đường Láng, phường Láng")


def _demo_buyer(conn: Connection, rng: np.random.Generator, i: int) -> int:
    """A buyer registered with a CCCD consistent with their birth year and sex (born in
    Hà Nội, code 001)."""
    from cadastre.parties import service as parties

    name = BUYERS[i % len(BUYERS)]
    female = "Thị" in name.split()
    year = int(rng.integers(1965, 2000))
    century_sex = ("1" if female else "0")  # born in the 20th century
    number = f"001{century_sex}{year % 100:02d}{int(rng.integers(0, 1_000_000)):06d}"
    street = _BUYER_STREETS[i % len(_BUYER_STREETS)]
    return parties.create(conn, party=parties.NewParty(
        kind="individual", name=name,
        address=f"Số {int(rng.integers(1, 200))} {street}, Hà Nội",
        identity=parties.Identity(id_kind="cccd", id_number=number, birth_year=year,
                                  gender="female" if female else "male")))


def _next_working_day(conn: Connection, day: date) -> date:
    from cadastre.dossiers.calendar import load_calendar

    calendar = load_calendar(conn)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day
