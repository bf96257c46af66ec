"""What the pinned packages say about the 2025 reform, read without a database."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict

from cadastre.admin.unit_packages import package_units


def test_the_communes_in_force_are_those_of_vietnam_provinces():
    data = package_units()
    assert len(data.communes) == 3321
    assert Counter(u.kind for u in data.communes) == {"xa": 2621, "phuong": 687, "dac_khu": 13}
    assert sum(u.province == "01" for u in data.communes) == 126
    assert len({u.province for u in data.communes}) == 34
    hoan_kiem = next(u for u in data.communes if u.code == "00070")
    assert (hoan_kiem.name, hoan_kiem.kind) == ("Phường Hoàn Kiếm", "phuong")


def test_the_old_structure_and_every_old_commune_has_a_successor():
    data = package_units()
    assert len(data.old_communes) == 10035 and len(data.districts) == 696
    phuc_tan = next(u for u in data.old_communes if u.code == "00037")
    assert (phuc_tan.name, phuc_tan.kind, phuc_tan.district) == ("Phường Phúc Tân", "phuong",
                                                                  "002")
    assert data.unmapped == () and data.unmatched == ()
    linked = {s.old for s in data.successions if s.level == "commune"}
    assert linked == {u.code for u in data.old_communes}
    assert {s.new for s in data.successions} == {u.code for u in data.communes}


def test_succession_kinds_and_one_main_successor_each():
    data = package_units()
    by_old = defaultdict(list)
    for s in data.successions:
        by_old[(s.level, s.old)].append(s)
    assert [(s.new, s.kind, s.main) for s in by_old[("commune", "00037")]] == [
        ("00097", "merged", True)]
    trong = sorted((s.new, s.kind, s.main) for s in by_old[("commune", "00070")])
    assert trong == [("00070", "split", True), ("00073", "split", False)]
    for links in by_old.values():
        assert sum(s.main for s in links) == 1
        assert len(links) == 1 or {s.kind for s in links} == {"split"}
    # the island districts without communes go on as special zones (đặc khu)
    islands = [s for s in data.successions if s.level == "district"]
    assert len(islands) == 5 and {s.kind for s in islands} <= {"continued", "renamed"}


def test_codes_the_packages_disagree_on_are_reported_and_vietnam_provinces_wins():
    data = package_units()
    codes = {u.code for u in data.communes}
    assert data.code_disagreements, "the two packages agreed on every code: drop the report?"
    for _province, _name, theirs, ours in data.code_disagreements:
        assert ours in codes and theirs != ours
    assert ("01", "Phường Cửa Nam", "00082", "00073") in data.code_disagreements


def test_the_package_modules_are_never_imported():
    """Its parsers import geopy and geocode over the network: only its data files are read."""
    code = ("import sys; from cadastre.admin.unit_packages import package_units; "
            "package_units(); print(sorted(m for m in sys.modules "
            "if m.startswith(('vietnamadminunits', 'geopy'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
