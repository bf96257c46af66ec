"""`cadastre certificate ...` and the transfer, release and responsibility options of
`cadastre change ...`, as a user runs them: a real process, its exit code, what it prints."""

from __future__ import annotations

import re

import sqlalchemy as sa

from cadastre.db import create_engine
from cadastre.dbinit import init_database
from cadastre.synth import generate_layer, write_layer
from tests.cli.test_cli import run


def test_certificate_and_transfer_commands(fresh_database, tmp_path):
    init_database(fresh_database, srid=5897)
    env = {"CADASTRE_DATABASE_URL": fresh_database.database_url}
    path = tmp_path / "sheet.gpkg"
    write_layer(generate_layer(30, seed=4), path)
    assert run("import", str(path), env=env).returncode == 0
    engine = create_engine(fresh_database)
    with engine.begin() as conn:
        parcel, old = conn.execute(sa.text(
            "SELECT r.parcel_id, r.certificate_id FROM current_land_right r "
            "JOIN current_certificate c USING (certificate_id) WHERE r.kind = 'land_use' "
            "ORDER BY r.parcel_id LIMIT 1")).one()
        buyers = [conn.execute(sa.text(
            "INSERT INTO party (kind, name) VALUES ('individual', :n) RETURNING id"),
            {"n": n}).scalar_one() for n in ("Người mua A", "Người mua B")]
        banks = [conn.execute(sa.text(
            "INSERT INTO party (kind, name) VALUES ('organisation', :n) RETURNING id"),
            {"n": n}).scalar_one() for n in ("Ngân hàng A", "Ngân hàng B")]
    try:
        sold = run("change", "transfer", str(parcel), "--right",
                   f"land_use={buyers[0]}:1/2,{buyers[1]}:1/2", "--serial", "CS 800001",
                   "--source-ref", "HĐ 9/2026", env=env)
        assert sold.returncode == 0, sold.stderr
        assert "certificate replaced #" in sold.stdout
        new = int(re.search(r"certificate replaced #(\d+)", sold.stdout).group(1))
        shown = run("certificate", "show", str(old), env=env)
        assert shown.returncode == 0, shown.stderr
        assert "(replaced)" in shown.stdout and f"replaced by #{new} CS 800001" in shown.stdout
        assert re.search(r"verification code: \d+-[0-9a-f]{24}", shown.stdout)
        both = run("change", "transfer", str(parcel), "--holder", str(buyers[0]), "--right",
                   f"land_use={buyers[0]}", "--source-ref", "HĐ 10", env=env)
        assert both.returncode != 0 and "either --holder or --right" in both.stderr
        exchanged = run("certificate", "exchange", str(new), "--serial", "cs800002",
                        "--source-ref", "Đơn cấp đổi 3", env=env)
        assert exchanged.returncode == 0, exchanged.stderr
        assert "exchanged" in exchanged.stdout and "verification code" in exchanged.stdout
        bad = run("certificate", "reissue", str(new), "--serial", "12345",
                  "--source-ref", "Đơn 4", env=env)
        assert bad.returncode != 0 and "not like 'CS 123456'" in bad.stderr
        assert "Traceback" not in bad.stderr
        ended = run("certificate", "endorse", str(new), "--text", "x", "--source-ref", "5",
                    env=env)
        assert ended.returncode != 0 and "no longer valid" in ended.stderr
        for bank in banks:
            assert run("change", "mortgage", str(parcel), "--lender", str(bank),
                       "--source-kind", "contract", "--source-ref", "1/HĐTC",
                       env=env).returncode == 0
        ambiguous = run("change", "mortgage-release", str(parcel), "--reference", "1/HĐTC",
                        "--source-ref", "Đơn xóa 1", env=env)
        assert ambiguous.returncode != 0 and "name the lender" in ambiguous.stderr
        released = run("change", "mortgage-release", str(parcel), "--reference", "1/HĐTC",
                       "--lender", str(banks[0]), "--source-ref", "Đơn xóa 2", env=env)
        assert released.returncode == 0, released.stderr
        levy = run("change", "responsibility", str(parcel), "--kind", "deferred_land_levy",
                   "--description", "Ghi nợ tiền sử dụng đất", "--source-ref", "TB 12",
                   env=env)
        assert levy.returncode == 0, levy.stderr
        with engine.connect() as conn:
            rid = conn.execute(sa.text(
                "SELECT responsibility_id FROM responsibility WHERE parcel_id = :p"),
                {"p": parcel}).scalar_one()
            mortgages = conn.execute(sa.text(
                "SELECT party_id FROM current_restriction WHERE parcel_id = :p"),
                {"p": parcel}).scalars().all()
        assert mortgages == [banks[1]]
        paid = run("change", "responsibility-end", str(parcel), "--id", str(rid),
                   "--source-ref", "Biên lai 1", env=env)
        assert paid.returncode == 0 and f"responsibility #{rid} ended" in paid.stdout
    finally:
        engine.dispose()
