"""The demo data is a coherent register: every parcel held, certified parcels covered by
their certificate, land-use areas adding up to the legal area, and loaded only once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cadastre.demo.loader import BUYERS, add_demo_extras
from cadastre.synth import generate_layer, write_layer
from importers.pipeline import ImportOptions, run_import


@pytest.fixture
def demo(conn, tmp_path):
    path = tmp_path / "demo.gpkg"
    write_layer(generate_layer(600, seed=3), path)
    report = run_import(conn, path, ImportOptions())
    extras = add_demo_extras(conn)
    return report, extras


def scalar(conn, sql: str):
    return conn.execute(sa.text(sql)).scalar_one()


def test_counts_match_the_layer(conn, demo):
    report, extras = demo
    assert report.counts["parcel_versions_begun"] == 600
    assert scalar(conn, "SELECT count(*) FROM current_parcel") == 600
    # a sale awaiting the buyer's certificate ended the seller's; one with it replaced it
    assert extras.sales > extras.sales_awaiting_certificate > 0
    assert scalar(conn, "SELECT count(*) FROM current_certificate") == (
        report.counts["certificates"] - extras.sales_awaiting_certificate)


def test_sales_moved_every_right_to_a_buyer_registered_at_the_counter(conn, demo):
    _, extras = demo
    sold = conn.execute(sa.text(
        "SELECT d.parcel_ids[1] FROM dossier d JOIN change_transaction c "
        "ON c.dossier_code = d.code AND c.kind = 'transfer'")).scalars().all()
    assert len(sold) == extras.sales
    holders = conn.execute(sa.text(
        "SELECT r.kind, p.name, r.certificate_id IS NULL FROM current_land_right r "
        "JOIN party p ON p.id = r.party_id WHERE r.parcel_id = ANY(:sold)"),
        {"sold": sold}).all()
    assert {name for _, name, _ in holders} <= set(BUYERS)
    assert {kind for kind, _, _ in holders} >= {"land_use", "house_ownership"}
    awaiting = {n for _, _, n in holders}
    assert awaiting == {True, False}  # some hold their new certificate, some await it


def test_every_parcel_has_exactly_one_land_use_or_management_right(conn, demo):
    assert scalar(conn, """
        SELECT count(*) FROM current_parcel p
        WHERE (SELECT count(*) FROM current_land_right r WHERE r.parcel_id = p.parcel_id
               AND r.kind IN ('land_use', 'management')) <> 1""") == 0


def test_certified_parcels_are_covered_by_their_certificate(conn, demo):
    assert scalar(conn, """
        SELECT count(*) FROM current_land_right r
        JOIN current_certificate c ON c.certificate_id = r.certificate_id
        LEFT JOIN certificate_parcel cp ON cp.certificate_version_id = c.version_id
             AND cp.parcel_id = r.parcel_id
        WHERE cp.parcel_id IS NULL""") == 0


def test_land_use_areas_add_up_to_the_legal_area(conn, demo):
    assert scalar(conn, """
        SELECT count(*) FROM current_parcel p
        WHERE abs(p.area_legal - (SELECT sum(area) FROM parcel_land_use u
                                  WHERE u.parcel_version_id = p.version_id)) > 0.05""") == 0


def test_household_holders_have_a_head_with_personal_data(conn, demo):
    assert scalar(conn, """
        SELECT count(*) FROM party h
        WHERE h.kind = 'household' AND NOT EXISTS (
            SELECT 1 FROM party_member m JOIN party_personal pp ON pp.party_id = m.member_party_id
            WHERE m.group_party_id = h.id AND m.role = 'head' AND pp.national_id ~ '^[0-9]{12}$')
    """) == 0


def test_geometry_is_stored_in_the_storage_srid_with_legal_areas_close_to_measured(conn, demo):
    row = conn.execute(sa.text(
        "SELECT min(ST_SRID(geom)), max(ST_SRID(geom)), "
        "max(abs(ST_Area(geom) - area_measured)) FROM current_parcel")).one()
    assert row[0] == row[1] == 5897
    assert row[2] < 0.1


def test_mortgages_and_injunctions_exist(conn, demo):
    _, extras = demo
    kinds = dict(conn.execute(sa.text(
        "SELECT kind, count(*) FROM current_restriction GROUP BY kind")).all())
    assert kinds.get("mortgage", 0) == extras.mortgages > 0
    assert kinds.get("injunction", 0) == extras.injunctions


def test_house_ownership_only_on_certified_homes(conn, demo):
    _, extras = demo
    assert extras.house_rights > 0
    assert scalar(conn, """
        SELECT count(*) FROM current_land_right h WHERE h.kind = 'house_ownership'
        AND NOT EXISTS (SELECT 1 FROM current_land_right r WHERE r.parcel_id = h.parcel_id
                        AND r.kind = 'land_use' AND r.party_id = h.party_id)""") == 0


def test_dossiers_in_every_state(conn, demo):
    states = set(conn.execute(sa.text("SELECT DISTINCT status FROM dossier")).scalars())
    assert states == {"received", "in_processing", "supplement_requested", "received_back",
                      "tax_notice", "approved", "rejected", "result_ready", "returned",
                      "withdrawn"}
