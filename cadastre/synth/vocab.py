"""Vocabularies of the synthetic layer: wards, streets, personal and organisation names.

Every string here is normalised to Unicode NFC when the module is imported, so that the
generated text is NFC whatever the editor that last saved this file did to it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def _nfc(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", value) for value in values)


def _nfc_pairs(values: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (unicodedata.normalize("NFC", a), unicodedata.normalize("NFC", b)) for a, b in values
    )


# Long word lists stay packed several to a line.
# fmt: off

#: Wards (phường) of Hoàn Kiếm district before the 2025 reorganisation: (5-digit code, name).
DEMO_COMMUNES: tuple[tuple[str, str], ...] = _nfc_pairs(
    [
        ("00037", "Phúc Tân"),
        ("00040", "Đồng Xuân"),
        ("00043", "Hàng Mã"),
        ("00046", "Hàng Buồm"),
        ("00049", "Hàng Đào"),
        ("00052", "Hàng Bồ"),
        ("00055", "Cửa Đông"),
        ("00058", "Lý Thái Tổ"),
        ("00061", "Hàng Bạc"),
        ("00064", "Hàng Gai"),
        ("00067", "Chương Dương"),
        ("00070", "Hàng Trống"),
        ("00073", "Cửa Nam"),
        ("00076", "Hàng Bông"),
        ("00079", "Tràng Tiền"),
        ("00082", "Trần Hưng Đạo"),
        ("00085", "Phan Chu Trinh"),
        ("00088", "Hàng Bài"),
    ]
)

#: District and city appended to every parcel address.
DISTRICT_SUFFIX = unicodedata.normalize("NFC", ", quận Hoàn Kiếm, Hà Nội")

#: Streets of Hoàn Kiếm district.
STREETS: tuple[str, ...] = _nfc(
    [
        "Hàng Bạc", "Hàng Gai", "Hàng Đào", "Hàng Ngang", "Hàng Buồm", "Mã Mây", "Tạ Hiện",
        "Lương Văn Can", "Hàng Bông", "Hàng Trống", "Lý Thái Tổ", "Tràng Tiền",
        "Đinh Tiên Hoàng", "Lê Thái Tổ", "Hàng Bài", "Phan Chu Trinh", "Trần Hưng Đạo",
        "Hai Bà Trưng", "Bà Triệu", "Phố Huế", "Hàng Bè", "Hàng Mắm", "Hàng Thiếc",
        "Hàng Chiếu", "Hàng Khay", "Hàng Cót", "Hàng Lược", "Hàng Mã", "Hàng Chĩnh",
        "Hàng Đường", "Hàng Cân", "Hàng Điếu", "Hàng Da", "Hàng Hòm", "Hàng Vải", "Hàng Quạt",
        "Hàng Mành", "Hàng Nón", "Hàng Thùng", "Hàng Tre", "Hàng Giầy", "Hàng Bồ", "Đồng Xuân",
        "Cầu Gỗ", "Lò Sũ", "Ngô Quyền", "Quang Trung", "Lý Thường Kiệt", "Tông Đản",
        "Lê Phụng Hiểu", "Phùng Hưng", "Nguyễn Hữu Huân", "Hàng Khoai", "Bát Đàn", "Bát Sứ",
        "Chả Cá", "Gia Ngư", "Đào Duy Từ", "Nhà Chung", "Nhà Thờ", "Ấu Triệu", "Lý Quốc Sư",
        "Cầu Đông", "Phủ Doãn", "Quán Sứ", "Hàng Chai",
    ]
)


def _street_forms(names: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the in-address form ("phố Hàng Bạc") and the road-parcel form ("Phố Hàng Bạc")."""
    inner = tuple(n if n.startswith("Phố ") else f"phố {n}" for n in names)
    road = tuple(n if n.startswith("Phố ") else f"Phố {n}" for n in names)
    return inner, road


STREETS_IN_ADDRESS, STREETS_ROAD = _street_forms(STREETS)

#: (street with its kind, ward, district) elsewhere in Hà Nội, for holders who live away
#: from their parcel.
OTHER_ADDRESSES: tuple[tuple[str, str, str], ...] = tuple(
    (
        unicodedata.normalize("NFC", s),
        unicodedata.normalize("NFC", w),
        unicodedata.normalize("NFC", d),
    )
    for s, w, d in [
        ("phố Kim Mã", "Kim Mã", "Ba Đình"),
        ("phố Đội Cấn", "Đội Cấn", "Ba Đình"),
        ("phố Quán Thánh", "Quán Thánh", "Ba Đình"),
        ("phố Nguyễn Thái Học", "Điện Biên", "Ba Đình"),
        ("phố Tôn Đức Thắng", "Hàng Bột", "Đống Đa"),
        ("phố Khâm Thiên", "Khâm Thiên", "Đống Đa"),
        ("phố Tây Sơn", "Quang Trung", "Đống Đa"),
        ("đường Láng Hạ", "Láng Hạ", "Đống Đa"),
        ("phố Bạch Mai", "Bạch Mai", "Hai Bà Trưng"),
        ("phố Minh Khai", "Minh Khai", "Hai Bà Trưng"),
        ("phố Lò Đúc", "Phạm Đình Hổ", "Hai Bà Trưng"),
        ("đường Xuân Thủy", "Dịch Vọng Hậu", "Cầu Giấy"),
        ("đường Trần Duy Hưng", "Trung Hòa", "Cầu Giấy"),
        ("phố Thụy Khuê", "Thụy Khuê", "Tây Hồ"),
        ("đường Âu Cơ", "Nhật Tân", "Tây Hồ"),
        ("đường Nguyễn Trãi", "Thượng Đình", "Thanh Xuân"),
        ("đường Giải Phóng", "Giáp Bát", "Hoàng Mai"),
        ("đường Nguyễn Văn Cừ", "Ngọc Lâm", "Long Biên"),
    ]
)

#: Surnames with their approximate share of the Vietnamese population (percent).
SURNAMES: tuple[tuple[str, float], ...] = tuple(
    (unicodedata.normalize("NFC", s), w)
    for s, w in [
        ("Nguyễn", 38.4), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0), ("Hoàng", 5.1),
        ("Huỳnh", 2.0), ("Phan", 4.5), ("Vũ", 3.9), ("Võ", 1.5), ("Đặng", 2.1), ("Bùi", 2.0),
        ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Đinh", 1.0),
        ("Đào", 0.9), ("Trịnh", 0.8), ("Mai", 0.5), ("Lương", 0.5), ("Cao", 0.4),
        ("Tạ", 0.3), ("Lưu", 0.3), ("Kiều", 0.2),
    ]
)

MALE_MIDDLE: tuple[tuple[str, float], ...] = tuple(
    (unicodedata.normalize("NFC", s), w)
    for s, w in [
        ("Văn", 40.0), ("Đức", 12.0), ("Minh", 12.0), ("Quang", 9.0), ("Hữu", 8.0),
        ("Thanh", 7.0), ("Xuân", 6.0), ("Công", 6.0),
    ]
)

FEMALE_MIDDLE: tuple[tuple[str, float], ...] = tuple(
    (unicodedata.normalize("NFC", s), w)
    for s, w in [
        ("Thị", 55.0), ("Ngọc", 10.0), ("Thu", 10.0), ("Thanh", 9.0), ("Minh", 8.0),
        ("Kim", 8.0),
    ]
)

MALE_GIVEN: tuple[str, ...] = _nfc(
    [
        "An", "Bình", "Cường", "Dũng", "Đạt", "Đức", "Dương", "Hải", "Hùng", "Huy", "Hưng",
        "Khánh", "Khoa", "Kiên", "Lâm", "Long", "Mạnh", "Minh", "Nam", "Nghĩa", "Phong",
        "Phúc", "Quân", "Quang", "Sơn", "Tài", "Thắng", "Thành", "Tiến", "Toàn", "Trung",
        "Tuấn", "Tùng", "Việt", "Vinh", "Hiếu", "Hoàng", "Hòa", "Thịnh", "Đông",
    ]
)

FEMALE_GIVEN: tuple[str, ...] = _nfc(
    [
        "Anh", "Bích", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hồng",
        "Huệ", "Hương", "Huyền", "Lan", "Liên", "Linh", "Loan", "Mai", "Nga", "Ngân", "Ngọc",
        "Nhung", "Oanh", "Phương", "Quỳnh", "Tâm", "Thảo", "Thanh", "Thủy", "Trang", "Tuyết",
        "Vân", "Yến", "Xuân", "Hậu", "Lụa", "Thơm", "Dịu", "Nhàn",
    ]
)

#: Patrons of primary and secondary schools (historical figures and local names).
SCHOOL_PATRONS: tuple[str, ...] = _nfc(
    [
        "Trưng Vương", "Nguyễn Du", "Lê Lợi", "Quang Trung", "Trần Quốc Toản", "Chu Văn An",
        "Lý Thường Kiệt", "Ngô Quyền", "Phan Chu Trinh", "Trần Phú", "Võ Thị Sáu", "Kim Đồng",
        "Nguyễn Trãi", "Lê Quý Đôn", "Ngô Sĩ Liên", "Trần Nhật Duật", "Tô Hiến Thành",
        "Lương Thế Vinh", "Nguyễn Bỉnh Khiêm", "Đinh Tiên Hoàng", "Hoàn Kiếm", "Tràng An",
        "Điện Biên", "Việt Đức",
    ]
)
#: Kindergartens are named after flowers and birds.
KINDERGARTEN_NAMES: tuple[str, ...] = _nfc(
    ["Hoa Sen", "Hoa Mai", "Hoa Hồng", "Tuổi Thơ", "Bình Minh", "Sơn Ca", "Họa Mi", "Bảy Sắc"]
)
SCHOOLS: tuple[str, ...] = _nfc(
    [f"Trường {level} {patron}" for level in ("Tiểu học", "THCS", "THPT")
     for patron in SCHOOL_PATRONS]
    + [f"Trường Mầm non {name}" for name in KINDERGARTEN_NAMES]
)

HEALTH: tuple[str, ...] = _nfc(
    [
        "Trung tâm Y tế quận Hoàn Kiếm", "Bệnh viện Việt Nam - Cu Ba",
        "Phòng khám Đa khoa khu vực Hàng Bài", "Bệnh viện Mắt Hà Nội",
        "Phòng khám Đa khoa Hàng Bột", "Trung tâm Y tế dự phòng quận Hoàn Kiếm",
    ]
)

COMPANY_KINDS: tuple[str, ...] = _nfc(["Công ty TNHH", "Công ty Cổ phần", "Công ty TNHH MTV"])
COMPANY_TRADES: tuple[str, ...] = _nfc(
    [
        "Thương mại", "Dịch vụ", "Đầu tư", "Xây dựng", "Du lịch", "Thương mại và Dịch vụ",
        "Khách sạn", "May mặc", "In", "Kim khí",
    ]
)
COMPANY_NAMES: tuple[str, ...] = _nfc(
    [
        "Hà Thành", "Thăng Long", "Hồng Hà", "Kinh Bắc", "Đông Đô", "Hoàn Kiếm", "Sông Hồng",
        "Phố Cổ", "Tràng An", "An Phát", "Hưng Thịnh", "Bảo Long", "Minh Phát", "Hòa Bình",
        "Đại Việt", "Hà Nội Xanh",
    ]
)

MARKETS: tuple[str, ...] = _nfc(
    [
        "Ban Quản lý chợ Đồng Xuân", "Ban Quản lý chợ Hàng Da", "Ban Quản lý chợ Hàng Bè",
        "Ban Quản lý chợ Cửa Nam",
    ]
)

RELIGIOUS: tuple[str, ...] = _nfc(
    [
        "Chùa Bà Đá", "Chùa Quán Sứ", "Chùa Lý Quốc Sư", "Chùa Hòe Nhai", "Chùa Phúc Khánh",
        "Đền Bạch Mã", "Đền Quan Đế", "Đền Ngọc Sơn", "Đình Kim Ngân", "Đình Hà Vĩ",
        "Đình Đồng Lạc", "Đình Tú Thị", "Nhà thờ Lớn Hà Nội", "Nhà thờ Hàm Long",
        "Hội quán Phúc Kiến",
    ]
    # Most old-quarter streets have their own communal house (đình) or shrine.
    + [f"Đình {street}" for street in STREETS if not street.startswith("Phố ")]
)

#: Two-letter series of certificate (GCN) blank forms, oldest first.
SERIAL_PREFIXES: tuple[str, ...] = (
    "AA", "AB", "BA", "BB", "BC", "BD", "BE", "BH", "BK", "BL", "CA", "CB", "CC", "CD", "CE",
    "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CP", "CS", "CT", "CU", "CV", "CX", "DA", "DB",
    "DC", "DD", "DE", "DH", "DI", "DK", "DL", "DM", "DN", "DO", "DP", "DS", "DT", "DU", "DV",
    "DX", "DY", "DZ",
)

# fmt: on
