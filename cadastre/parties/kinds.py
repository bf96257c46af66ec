"""The kinds of party the register knows (Land Law 2024 art. 4: người sử dụng đất; the
Housing Law's foreign owners of houses), and what each may carry: which identity documents,
a tax code, members, a nationality. One table, read by the service, the API's schema and the
docs; the database's list is the CHECK of ``party.kind`` (migration 0017) and
``party_kind_is_person()`` (sql/functions/parties.sql), kept equal by a test."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PartyKind:
    name: str
    title_vi: str
    #: Its name is personal data (a person, a household, a group of people).
    person: bool
    #: The identity documents it may carry (none: the party has no document of its own).
    id_kinds: tuple[str, ...] = ()
    #: It must carry one of them.
    id_required: bool = False
    #: It may carry a tax or enterprise code (mã số thuế / mã số doanh nghiệp).
    tax_code: bool = False
    #: It has members (a household's, a group's), added and ended by changes.
    members: bool = False
    #: Its nationality: "vietnamese" (none recorded), "any", or "foreign" (required, not VN).
    nationality: str = "vietnamese"


KINDS: dict[str, PartyKind] = {k.name: k for k in (
    PartyKind("individual", "Cá nhân trong nước", person=True, id_kinds=("cccd", "cmnd")),
    PartyKind("household", "Hộ gia đình", person=True, members=True),
    PartyKind("group", "Nhóm người sử dụng đất, đồng sở hữu", person=True, members=True),
    PartyKind("organisation", "Tổ chức", person=False, tax_code=True),
    PartyKind("religious", "Tổ chức tôn giáo, cơ sở tôn giáo", person=False, tax_code=True),
    PartyKind("community", "Cộng đồng dân cư", person=False),
    PartyKind("overseas_vietnamese", "Người Việt Nam định cư ở nước ngoài", person=True,
              id_kinds=("cccd", "passport"), nationality="any"),
    PartyKind("foreigner", "Cá nhân nước ngoài", person=True, id_kinds=("passport",),
              id_required=True, nationality="foreign"),
)}

#: The kinds whose names are personal data (``party_kind_is_person()`` in SQL).
PERSON_KINDS = frozenset(k.name for k in KINDS.values() if k.person)
#: Identity documents: citizen identity card (căn cước công dân / căn cước, 12 digits), the
#: legacy identity card (chứng minh nhân dân, 9 digits), a passport (hộ chiếu).
ID_KINDS = ("cccd", "cmnd", "passport")
#: A household member's role (chủ hộ, vợ/chồng, thành viên); a group's representative.
MEMBER_ROLES = ("head", "spouse", "member", "representative")
