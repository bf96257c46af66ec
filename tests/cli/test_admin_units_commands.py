"""`cadastre admin units load|show`, as an administrator runs them."""

from __future__ import annotations

from typer.testing import CliRunner

from cadastre.cli import app

runner = CliRunner()


def _run(settings, *args):
    return runner.invoke(app, ["admin", "units", *args],
                         env={"CADASTRE_DATABASE_URL": settings.database_url})


def test_load_prints_the_counts_and_changes_nothing_the_second_time(settings):
    result = _run(settings, "load")
    assert result.exit_code == 0, result.output
    assert "communes in force: 3321 (126 in Hà Nội)" in result.output
    assert "old communes (to 2025-06-30): 10035; old districts: 696" in result.output
    assert "successions of 2025-07-01: 10602" in result.output
    assert "old communes without a successor: 0" in result.output
    assert "inserted: nothing (no change)" in result.output
    assert "have another code in vietnamadminunits" in result.output
    assert "Phường Long Biên (01) 00145 -> 00148; ... (--all lists them)" in result.output
    every = _run(settings, "load", "--all")
    assert every.exit_code == 0, every.output
    assert "--all lists them" not in every.output
    assert every.output.count(" -> ") >= 123


def test_show_an_old_ward_and_a_ward_in_force(settings):
    old = _run(settings, "show", "00037", "--on", "2024-01-01")
    assert old.exit_code == 0, old.output
    assert "00037 Phường Phúc Tân (commune, phuong; … .. 2025-06-30), in Quận Hoàn Kiếm (002)" \
        in old.output
    assert "into 00097 Phường Hồng Hà (commune, in force since 2025-07-01): merged, " \
        "2025-07-01" in old.output
    assert ("today: Phường Phúc Tân (00037, former Quận Hoàn Kiếm) is in Phường Hồng Hà "
            "(00097) since 2025-07-01") in old.output
    now = _run(settings, "show", "00070")
    assert now.exit_code == 0, now.output
    assert ("00070 Phường Hoàn Kiếm (commune, phuong; in force since 2025-07-01), in Hà Nội "
            "(01)") in now.output
    assert "from 00061 Phường Hàng Bạc" in now.output
    assert "from 00070 Phường Hàng Trống (commune, … .. 2025-06-30): split, main" in now.output


def test_show_an_unknown_code_says_so(settings):
    result = _run(settings, "show", "99999")
    assert result.exit_code != 0
    assert "no administrative unit 99999" in str(result.exception)
