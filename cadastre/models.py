"""Every ORM model, imported once so the metadata is complete."""

from cadastre.accounts.models import ApiKey, AppUser
from cadastre.admin.models import AdminUnit, AdminUnitSuccession
from cadastre.changes.models import ChangeSource, ChangeTransaction, SourceDocument
from cadastre.dossiers.models import CalendarSetting, PublicHoliday
from cadastre.imports.models import ImportQuarantine, ImportRun
from cadastre.model import Base
from cadastre.parcels.models import (
    LandUseType,
    MapSheet,
    Parcel,
    ParcelIdentity,
    ParcelLandUse,
    ParcelLineage,
)
from cadastre.parties.models import Party, PartyMember, PartyPersonal
from cadastre.rights.models import (
    Certificate,
    CertificateParcel,
    LandRight,
    Responsibility,
    Restriction,
)

__all__ = [
    "AdminUnit",
    "AdminUnitSuccession",
    "ApiKey",
    "AppUser",
    "Base",
    "CalendarSetting",
    "Certificate",
    "CertificateParcel",
    "ChangeSource",
    "ChangeTransaction",
    "ImportQuarantine",
    "ImportRun",
    "LandRight",
    "LandUseType",
    "MapSheet",
    "Parcel",
    "ParcelIdentity",
    "ParcelLandUse",
    "ParcelLineage",
    "Party",
    "PartyMember",
    "PartyPersonal",
    "PublicHoliday",
    "Responsibility",
    "Restriction",
    "SourceDocument",
]
