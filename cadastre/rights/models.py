"""ORM models of rights, restrictions, responsibilities, certificates (mirror of sql/migrations)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, Numeric, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from cadastre.model import Base, Versioned


class Certificate(Versioned, Base):
    """One version of a certificate of land-use rights (Giấy chứng nhận)."""

    __tablename__ = "certificate"

    certificate_id: Mapped[int] = mapped_column(BigInteger)
    serial: Mapped[str] = mapped_column(Text)
    registry_number: Mapped[str | None] = mapped_column(Text)
    issued_on: Mapped[date | None]
    issuing_authority: Mapped[str] = mapped_column(Text)
    endorsement: Mapped[str | None] = mapped_column(Text)
    replaces_certificate: Mapped[int | None] = mapped_column(BigInteger)


class CertificateParcel(Base):
    __tablename__ = "certificate_parcel"

    certificate_version_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("certificate.version_id"), primary_key=True
    )
    parcel_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("parcel_identity.parcel_id"), primary_key=True
    )


class CertificateHolder(Base):
    """The holders a certificate version names (written with the version)."""

    __tablename__ = "certificate_holder"

    certificate_version_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("certificate.version_id"), primary_key=True
    )
    party_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("party.id"), primary_key=True)


class CertificateSealKey(Base):
    """The key of the certificates' verification codes: owned by cadastre_auth, read by
    nobody else (sql/functions/privileges_certificates.sql)."""

    __tablename__ = "certificate_seal_key"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default="1")
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(server_default="now()")


class LandRight(Versioned, Base):
    __tablename__ = "land_right"

    right_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(Text)
    parcel_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("parcel_identity.parcel_id"))
    party_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("party.id"))
    share_numerator: Mapped[int] = mapped_column(Integer, server_default="1")
    share_denominator: Mapped[int] = mapped_column(Integer, server_default="1")
    certificate_id: Mapped[int | None] = mapped_column(BigInteger)
    term_end: Mapped[date | None]


class Restriction(Versioned, Base):
    __tablename__ = "restriction"

    restriction_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(Text)
    parcel_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("parcel_identity.parcel_id"))
    party_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("party.id"))
    reference: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 0))


class Responsibility(Versioned, Base):
    __tablename__ = "responsibility"

    responsibility_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(Text)
    parcel_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("parcel_identity.parcel_id"))
    party_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("party.id"))
    description: Mapped[str] = mapped_column(Text)
