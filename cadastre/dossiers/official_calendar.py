"""The base working-day calendar: Việt Nam's public holidays as the pinned PyPI package
``holidays`` gives them (the Labor Code's holidays: Tết Dương lịch, the lunar New Year days,
Hùng Kings' day, 30/4, 1/5, Quốc khánh and its adjacent day, Vietnam Culture Day 24/11 from
2026; the substitute days when one falls on a weekend; and the government's yearly swaps of a
weekday off for a Saturday worked, which the package carries as "substituted" days), named in
Vietnamese. The days of Tết and Hùng Kings' day are named by their date in the Vietnamese lunar
calendar (UTC+7, package ``lunar-vn``): 2026-02-16 is "29 tháng Chạp", the eve of a year
whose twelfth month has 29 days, not "30 Tết".

No database here: ``cadastre.dossiers.calendar_admin`` loads these days into the register's
``public_holiday`` table (``cadastre calendar refresh``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib.metadata import version

import holidays
from lunar_vn import solar_to_lunar

from cadastre.errors import InvalidInput

#: The years the package and the lunar calendar answer for (lunar-vn: 1900-2100; the
#: Labor Code's rules of the package are those of Việt Nam since 1995).
FIRST_YEAR, LAST_YEAR = 1995, 2099

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "thứ Bảy", "Chủ nhật")
LUNAR_MONTHS_VI = ("tháng Giêng", "tháng Hai", "tháng Ba", "tháng Tư", "tháng Năm",
                   "tháng Sáu", "tháng Bảy", "tháng Tám", "tháng Chín", "tháng Mười",
                   "tháng Một", "tháng Chạp")

#: public_holiday.kind: a day off by law (a holiday or its substitute), a weekday off that
#: the government swapped for a weekend day worked, and that weekend day.
HOLIDAY, SWAPPED_DAY_OFF, SWAPPED_WORKING_DAY = "holiday", "swapped_day_off", "swapped_working_day"


@dataclass(frozen=True, slots=True)
class OfficialDay:
    day: date
    name: str
    kind: str
    source: str


def package_source() -> str:
    """What the days come from, as recorded with each of them: ``holidays 0.109 (VN)``."""
    return f"holidays {version('holidays')} (VN)"


def lunar_label(day: date) -> str:
    """The day's date in the Vietnamese lunar calendar: "29 tháng Chạp", "mùng 1 tháng
    Giêng", "mùng 10 tháng Ba", "15 tháng Tám (nhuận)"."""
    lunar = solar_to_lunar(day)
    number = f"mùng {lunar.day}" if lunar.day <= 10 else str(lunar.day)
    return f"{number} {LUNAR_MONTHS_VI[lunar.month - 1]}" + (" (nhuận)" if lunar.leap else "")


def _is_tet(day: date) -> bool:
    """A day of the lunar New Year holiday: the last days of tháng Chạp or the first of
    tháng Giêng."""
    lunar = solar_to_lunar(day)
    return not lunar.leap and ((lunar.month == 12 and lunar.day >= 20)
                               or (lunar.month == 1 and lunar.day <= 10))


def check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(f"the holiday calendar covers {FIRST_YEAR} to {LAST_YEAR}, not {year}")


def official_days(year: int) -> list[OfficialDay]:
    """The days of ``year`` that are not what their weekday says: days off (holidays, their
    substitutes, swapped days off) and weekend days worked, in date order."""
    check_year(year)
    source = package_source()
    # the neighbouring years too: a swap may cross the new year (2015-01-02 off for
    # 2014-12-27 worked), and the package names a day off after the day worked for it
    package = holidays.country_holidays("VN", years=range(year - 1, year + 2), language="vi")
    worked = sorted(d for d in package.weekend_workdays if d.year == year)
    days: dict[date, OfficialDay] = {}
    for day, name in sorted(package.items()):
        if day.year != year:
            continue
        days[day] = OfficialDay(day, _name(day, str(name)), HOLIDAY, source)
    for saturday in worked:
        mark = saturday.strftime("%d/%m/%Y")
        off = next((d for d, n in sorted(package.items()) if mark in str(n)), None)
        if off is not None and off.year == year:
            days[off] = OfficialDay(
                off, f"Nghỉ hoán đổi (làm bù {WEEKDAYS_VI[saturday.weekday()]} {mark})",
                SWAPPED_DAY_OFF, source)
        days[saturday] = OfficialDay(
            saturday, "Làm bù" + (f" cho ngày nghỉ {off.strftime('%d/%m/%Y')}" if off else ""),
            SWAPPED_WORKING_DAY, source)
    return [days[d] for d in sorted(days)]


def _name(day: date, package_name: str) -> str:
    """The Vietnamese name of a day off: Tết's days by their lunar date (the package counts
    them from the New Year's day and calls the eve "Giao thừa" and the day before "29 Tết",
    whichever length tháng Chạp has), Hùng Kings' day with its lunar date, the others as the
    package names them in Vietnamese."""
    if _is_tet(day):
        return f"Tết Nguyên đán ({lunar_label(day)})"
    if package_name == "Ngày Giỗ Tổ Hùng Vương":
        return f"Giỗ Tổ Hùng Vương ({lunar_label(day)})"
    if package_name == "Quốc khánh" and (day.month, day.day) != (9, 2):
        return "Quốc khánh (ngày liền kề)"
    return package_name
