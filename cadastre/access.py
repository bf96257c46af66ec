"""Who may see what: roles and the personal-data rule, in one place.

| role          | holder names | national ID   | birth year | people's addresses | financial facts |
|---------------|--------------|---------------|------------|--------------------|-----------------|
| land_officer  | yes          | full          | yes        | yes                | all             |
| admin         | yes          | full          | yes        | yes                | all             |
| supervisor    | yes          | last 3 digits | no         | no                 | no amounts      |
| counter_clerk | yes          | last 3 digits | no         | no                 | no amounts      |
| gis_analyst   | no           | no            | no         | no                 | kind and dates  |
| anonymous     | no           | no            | no         | no                 | kind and dates  |

Parcel addresses (địa chỉ thửa đất) are not personal data; a holder's own address is.
Organisations' names are shown to the roles that see holder names.

Financial facts are personal data too (Decree 13/2023/NĐ-CP counts a person's financial
information, loans at credit institutions included, as sensitive): a restriction's secured
amount, its contract or decision reference and description, its counterparty (the lender,
the authority), and the documents of private transactions and restrictions (the changes in
:data:`PRIVATE_CHANGE_KINDS`: their references, issuers, descriptions and notes). Everyone
sees that a parcel is mortgaged or enjoined, and since when (a buyer must be able to learn
it); the roles that see names (they take in a mortgage release or an injunction's lifting,
which name the contract or decision) see references and counterparties; only land officers
and admins see amounts, like the other sensitive details. Every response that carries them
is recorded as a read of personal data. The database applies the same column
(``restriction_visible``, ``change_document_visible`` in
sql/functions/privileges_financial.sql).
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
#: Roles whose accounts belong to an office and act only for it (dossiers, feedback): the
#: one-stop staff. Admins are province-wide; analysts do not act on dossiers.
OFFICE_ROLES = frozenset({Role.COUNTER_CLERK, Role.LAND_OFFICER, Role.SUPERVISOR})


@dataclass(frozen=True, slots=True)
class PersonalDataRule:
    names: bool
    national_id: str  # "full" | "masked" | "none"
    birth: bool
    addresses: bool
    financial: str = "none"  # "all" | "references" (no amounts) | "none" (kind and dates)

    @property
    def financial_references(self) -> bool:
        return self.financial in ("all", "references")

    @property
    def financial_amounts(self) -> bool:
        return self.financial == "all"


RULES: dict[Role, PersonalDataRule] = {
    Role.LAND_OFFICER: PersonalDataRule(names=True, national_id="full", birth=True,
                                        addresses=True, financial="all"),
    Role.ADMIN: PersonalDataRule(names=True, national_id="full", birth=True, addresses=True,
                                 financial="all"),
    Role.SUPERVISOR: PersonalDataRule(names=True, national_id="masked", birth=False,
                                      addresses=False, financial="references"),
    Role.COUNTER_CLERK: PersonalDataRule(names=True, national_id="masked", birth=False,
                                         addresses=False, financial="references"),
    Role.GIS_ANALYST: PersonalDataRule(names=False, national_id="none", birth=False,
                                       addresses=False, financial="none"),
    Role.ANONYMOUS: PersonalDataRule(names=False, national_id="none", birth=False,
                                     addresses=False, financial="none"),
}

#: Changes of rights and restrictions between private parties (and the court orders that
#: freeze them): their documents' references, issuers and descriptions, and their notes, are
#: financial facts of the holders. Map changes (splits, merges, purpose changes, boundary
#: corrections), imports and corrections are administrative acts, shown to everyone. The
#: same list is ``change_kind_is_private()`` in SQL (a test checks they agree).
PRIVATE_CHANGE_KINDS = frozenset({
    "first_registration", "transfer", "inheritance", "gift", "mortgage", "mortgage_release",
    "injunction", "injunction_release", "certificate_reissue",
    # a holder's certificate and obligations (a deferred land levy is a debt)
    "certificate_issue", "certificate_endorsement", "certificate_exchange",
    "certificate_revocation", "responsibility", "responsibility_end",
    # who a person is: the documents of a merge of duplicate records, of a household's members
    "party_merge", "party_member", "party_member_end"})


def rule(role: Role) -> PersonalDataRule:
    return RULES[role]


#: The personal fields an import profile can map (importers/profiles.py), by the kind of
#: personal data each holds. An import records, in each quarantined row, which of its
#: source columns the profile maps to these (``"_personal"``), so that the row can be shown
#: by role wherever it is shown (the audit view, ``import_quarantine_visible``).
PERSONAL_SOURCE_FIELDS: dict[str, str] = {
    "owner_name": "name", "owner_id": "national_id", "owner_birth_year": "birth",
    "owner_address": "address"}


def personal_value(role: Role, kind: str, value: Any) -> Any:
    """One personal value as ``role`` may see it: itself, masked (ID numbers for clerks and
    supervisors) or ``"withheld"``. Kinds: name, national_id, birth, address, contact
    (phone, e-mail: with the addresses), reference (financial references and
    counterparties), amount; an unknown kind is withheld from everyone but the roles that
    see everything."""
    if value is None:
        return None
    r = rule(role)
    if kind == "national_id":
        if r.national_id == "masked":
            return mask_national_id(str(value))
        return value if r.national_id == "full" else "withheld"
    allowed = {"name": r.names, "birth": r.birth, "address": r.addresses,
               "contact": r.addresses, "reference": r.financial_references,
               "amount": r.financial_amounts}.get(kind, r.addresses and r.birth)
    return value if allowed else "withheld"


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


#: What everyone sees of a restriction: that it exists, of which kind, since when.
_RESTRICTION_FACTS = ("restriction_id", "kind", "since", "until")


def restriction_view(role: Role, restriction: dict[str, Any]) -> dict[str, Any]:
    """A restriction (mortgage, injunction, ...) as ``role`` may see it: its kind and dates
    for everyone; reference, description and counterparty for the roles that see
    references; the secured amount for those that see amounts."""
    r = rule(role)
    view: dict[str, Any] = {k: restriction[k] for k in _RESTRICTION_FACTS if k in restriction}
    if not r.financial_references:
        view["financial_data"] = "withheld"
        return view
    view["reference"] = restriction.get("reference")
    view["description"] = restriction.get("description")
    view["beneficiary_party_id"] = restriction.get("beneficiary_party_id")
    view["beneficiary"] = restriction.get("beneficiary")
    if r.financial_amounts:
        view["amount"] = restriction.get("amount")
    return view


def change_view(role: Role, change: dict[str, Any]) -> dict[str, Any]:
    """A change with its documents as ``role`` may see it: the documents of a private
    change (:data:`PRIVATE_CHANGE_KINDS`) keep only their kind and date, and its note is
    withheld, for the roles that see no financial references."""
    if rule(role).financial_references or change.get("kind") not in PRIVATE_CHANGE_KINDS:
        return change
    view = dict(change)
    view["note"] = None
    view["documents"] = [{"kind": d.get("kind"), "issued_on": d.get("issued_on"),
                          "reference": None, "issuer": None}
                         for d in change.get("documents", [])]
    return view
