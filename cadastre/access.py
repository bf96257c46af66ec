"""Who may see what: roles and the personal-data rule, in one place.

| role          | holder names | national ID        | birth year | addresses of people |
|---------------|--------------|--------------------|------------|---------------------|
| land_officer  | yes          | full               | yes        | yes                 |
| admin         | yes          | full               | yes        | yes                 |
| supervisor    | yes          | last 3 digits      | no         | no                  |
| counter_clerk | yes          | last 3 digits      | no         | no                  |
| gis_analyst   | no           | no                 | no         | no                  |
| anonymous     | no           | no                 | no         | no                  |

Parcel addresses (địa chỉ thửa đất) are not personal data; a holder's own address is.
Organisations' names are shown to the roles that see holder names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    LAND_OFFICER = "land_officer"
    COUNTER_CLERK = "counter_clerk"
    GIS_ANALYST = "gis_analyst"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


#: Roles an account can have (anonymous is the absence of an account).
ACCOUNT_ROLES = tuple(r for r in Role if r is not Role.ANONYMOUS)


@dataclass(frozen=True, slots=True)
class PersonalDataRule:
    names: bool
    national_id: str  # "full" | "masked" | "none"
    birth: bool
    addresses: bool


RULES: dict[Role, PersonalDataRule] = {
    Role.LAND_OFFICER: PersonalDataRule(names=True, national_id="full", birth=True,
                                        addresses=True),
    Role.ADMIN: PersonalDataRule(names=True, national_id="full", birth=True, addresses=True),
    Role.SUPERVISOR: PersonalDataRule(names=True, national_id="masked", birth=False,
                                      addresses=False),
    Role.COUNTER_CLERK: PersonalDataRule(names=True, national_id="masked", birth=False,
                                         addresses=False),
    Role.GIS_ANALYST: PersonalDataRule(names=False, national_id="none", birth=False,
                                       addresses=False),
    Role.ANONYMOUS: PersonalDataRule(names=False, national_id="none", birth=False,
                                     addresses=False),
}


def rule(role: Role) -> PersonalDataRule:
    return RULES[role]


def mask_national_id(value: str) -> str:
    """Only the last 3 digits, the rest as bullets of the same length."""
    return "•" * (len(value) - 3) + value[-3:] if len(value) > 3 else "•" * len(value)


def holder_view(role: Role, holder: dict[str, Any]) -> dict[str, Any]:
    """A holder (party) as ``role`` may see it. ``holder`` carries every field; the result
    keeps only what the rule allows, and says when something was withheld."""
    r = rule(role)
    view: dict[str, Any] = {
        "kind": holder.get("kind"),
        "share": holder.get("share"),
        "right": holder.get("right"),
    }
    if not r.names:
        view["personal_data"] = "withheld"
        return view
    view["party_id"] = holder.get("party_id")
    view["name"] = holder.get("name")
    national_id = holder.get("national_id")
    if national_id and r.national_id == "full":
        view["national_id"] = national_id
    elif national_id and r.national_id == "masked":
        view["national_id"] = mask_national_id(str(national_id))
    if r.birth and holder.get("birth_year") is not None:
        view["birth_year"] = holder["birth_year"]
    if r.addresses and holder.get("address"):
        view["address"] = holder["address"]
    if holder.get("members"):
        view["members"] = [holder_view(role, m) for m in holder["members"]]
    return view
