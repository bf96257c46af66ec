"""Every ORM model, imported once so the metadata is complete."""

from cadastre.accounts.models import ApiKey, AppUser, AuthSigningKey
from cadastre.admin.models import AdminUnit, AdminUnitLoad, AdminUnitSuccession
from cadastre.audit.models import AuditLog
from cadastre.changes.models import ChangeSource, ChangeTransaction, SourceDocument
from cadastre.dossiers.models import (
    ApologyLetter,
    CalendarSetting,
    Delegation,
    DelegationProcedure,
    Dossier,
    DossierEvent,
    DossierSequence,
    Feedback,
    Office,
    Procedure,
    PublicHoliday,
    TaxNotice,
    TaxPayment,
)
from cadastre.exports.models import ExportJob
from cadastre.imports.models import ImportQuarantine, ImportRun
from cadastre.land_use.models import (
    LandPrice,
    LandPriceTable,
    LandUseLegacyCode,
    LandUseListLoad,
    LandUseTypeVersion,
)
from cadastre.limits.models import RateLimit
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
    "AdminUnitLoad",
    "AdminUnitSuccession",
    "ApiKey",
    "ApologyLetter",
    "AppUser",
    "AuditLog",
    "AuthSigningKey",
    "Base",
    "CalendarSetting",
    "Certificate",
    "CertificateParcel",
    "ChangeSource",
    "ChangeTransaction",
    "Delegation",
    "DelegationProcedure",
    "Dossier",
    "DossierEvent",
    "DossierSequence",
    "ExportJob",
    "Feedback",
    "ImportQuarantine",
    "ImportRun",
    "LandPrice",
    "LandPriceTable",
    "LandRight",
    "LandUseLegacyCode",
    "LandUseListLoad",
    "LandUseType",
    "LandUseTypeVersion",
    "MapSheet",
    "Office",
    "Parcel",
    "ParcelIdentity",
    "ParcelLandUse",
    "ParcelLineage",
    "Party",
    "PartyMember",
    "PartyPersonal",
    "Procedure",
    "PublicHoliday",
    "RateLimit",
    "Responsibility",
    "Restriction",
    "SourceDocument",
    "TaxNotice",
    "TaxPayment",
]
