from __future__ import annotations

import pytest

from gis import crs


def test_every_tm3_zone_is_known_to_proj_with_its_meridian():
    zones = crs.tm3_zones()
    assert set(zones) == {5896, 5897, 5898, 5899, *range(9205, 9219)}
    assert zones[5897].central_meridian == 105.0
    assert zones[5899].central_meridian == 107.75
    assert zones[9210].central_meridian == 105.75


@pytest.mark.parametrize(("query", "expected"), [
    ("01", {5897}),
    ("1", {5897}),
    ("Hà Nội", {5897}),
    ("ha noi", {5897}),
    ("Thành phố Hà Nội", {5897}),
    ("Hà Tây", {5897}),          # merged into Hà Nội in 2008, same zone
    ("Quảng Ninh", {5899}),      # 107°45'
    ("Huế", {9214}),             # 107°00'
    ("Thừa Thiên Huế", {9214}),
])
def test_province_zone(query, expected):
    assert crs.tm3_candidates(query) == expected


def test_a_province_formed_by_merging_zones_is_ambiguous():
    # Tuyên Quang (106°00') absorbed Hà Giang (105°30') in 2025: maps exist in both zones.
    assert crs.tm3_candidates("Tuyên Quang") == {9211, 9209}
    # The old province alone is not ambiguous.
    assert crs.tm3_candidates("Hà Giang") == {9209}


def test_2025_mergers_point_to_their_successors():
    (bac_kan,) = crs.find_provinces("Bắc Kạn")
    assert bac_kan.successor_code == "19"
    new_thai_nguyen = [p for p in crs.find_provinces("19") if p.valid_to is None]
    assert len(new_thai_nguyen) == 1
    assert {p.name for p in crs.predecessors(new_thai_nguyen[0])} == {"Bắc Kạn", "Thái Nguyên"}


def valid_on(province, day):
    return (province.valid_from is None or province.valid_from <= day) and (
        province.valid_to is None or day <= province.valid_to
    )


def test_34_provinces_after_2025_and_63_before():
    from datetime import date

    assert sum(valid_on(p, date(2025, 8, 1)) for p in crs.provinces()) == 34
    assert sum(valid_on(p, date(2024, 6, 1)) for p in crs.provinces()) == 63


def test_unknown_province_is_an_error():
    with pytest.raises(KeyError, match="unknown province"):
        crs.tm3_candidates("Atlantis")


def test_plausible_tm3_ranges():
    assert crs.plausible_tm3(585_000, 2_326_000, 586_000, 2_327_000)
    assert not crs.plausible_tm3(105.8, 21.0, 105.9, 21.1)          # degrees
    assert not crs.plausible_tm3(2_326_000, 585_000, 2_327_000, 586_000)  # swapped axes


def test_fold_strips_vietnamese_accents():
    assert crs.fold("Đồng Xuân") == "dong xuan"
    assert crs.fold("NGUYỄN  Văn-An") == "nguyen van an"
