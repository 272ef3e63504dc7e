"""Certificates, their archived PDFs, and the public keys their credentials are signed with.

A certificate is a snapshot: everything printed on it is copied here when it is issued
and never changes (only revocation is added later). It outlives the learner's account
(``user_id`` is set to NULL, the snapshot keeps name and LMS identity) and its tenant
cannot be deleted while certificates exist: accreditors require records for at least six
years (docs/certificates.md, "Retention").
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import Select

from lms_core.db import JSONType, UTCDateTime, utcnow
from lms_core.extensions import db
from lms_core.models import Tenant


class CertificateStatus(enum.StrEnum):
    #: The learner's LMS sent no name: the number is reserved, nothing is printed or
    #: verifiable until the learner confirms the name to print.
    AWAITING_NAME = "awaiting_name"
    ISSUED = "issued"
    REVOKED = "revoked"


class CertificateSource(enum.StrEnum):
    COURSE = "course"  # passing a course with credit in the player
    MANUAL = "manual"  # `shiftwell certificates issue`, credit earned elsewhere


class Certificate(db.Model):
    """One continuing-education certificate: an immutable snapshot plus its revocation."""

    __tablename__ = "certificates_certificate"
    __table_args__ = (
        # One certificate per attempt, however often course_completed is sent.
        UniqueConstraint("tenant_id", "attempt_registration", name="uq_certificates_attempt"),
        Index("ix_certificates_certificate_tenant_issued", "tenant_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(19), unique=True)
    # RESTRICT, not CASCADE: deleting a hospital must not silently delete its records.
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"))
    # SET NULL: the certificate outlives the learner's account.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[CertificateStatus] = mapped_column(
        Enum(
            CertificateStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    source: Mapped[CertificateSource] = mapped_column(
        Enum(
            CertificateSource,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    attempt_registration: Mapped[str | None] = mapped_column(String(64))

    # -- the snapshot -------------------------------------------------------------------
    learner_name: Mapped[str | None] = mapped_column(String(200))
    learner_issuer: Mapped[str | None] = mapped_column(String(255))
    learner_subject: Mapped[str | None] = mapped_column(String(255))
    course_slug: Mapped[str] = mapped_column(String(100))
    course_version: Mapped[str] = mapped_column(String(40))
    course_title: Mapped[str] = mapped_column(String(300))
    course_language: Mapped[str] = mapped_column(String(35), default="en")
    partner_slug: Mapped[str] = mapped_column(String(100))
    partner_name: Mapped[str] = mapped_column(String(300))
    credit_type: Mapped[str] = mapped_column(String(40))
    credit_amount: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    credit_unit: Mapped[str] = mapped_column(String(100))
    accreditation: Mapped[str] = mapped_column(Text)
    designation: Mapped[str] = mapped_column(Text)
    issuing_organisation: Mapped[str] = mapped_column(String(300))
    tenant_name: Mapped[str] = mapped_column(String(200))
    completed_on: Mapped[dt.date] = mapped_column(Date)
    issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    verify_url: Mapped[str] = mapped_column(String(500))
    # How it looks: paper, locale, template folder and signatory, fixed at issue.
    design: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    # -- what was produced from it --------------------------------------------------------
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    credential_jws: Mapped[str | None] = mapped_column(Text)
    credential_kid: Mapped[str | None] = mapped_column(String(100))

    # -- revocation -----------------------------------------------------------------------
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(String(200))

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[CertificateDocument | None] = relationship(
        back_populates="certificate", lazy="select", uselist=False
    )

    @classmethod
    def for_tenant(cls, tenant: Tenant | int) -> Select[tuple[Certificate]]:
        tenant_id = tenant if isinstance(tenant, int) else tenant.id
        return select(cls).where(cls.tenant_id == tenant_id)

    @property
    def is_issued(self) -> bool:
        return self.status != CertificateStatus.AWAITING_NAME

    @property
    def is_revoked(self) -> bool:
        return self.status == CertificateStatus.REVOKED

    def __repr__(self) -> str:
        return f"<Certificate {self.number} {self.status.value}>"


class CertificateDocument(db.Model):
    """The PDF as issued (PDF/A-3b), kept so a download years later is the same file."""

    __tablename__ = "certificates_document"

    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates_certificate.id", ondelete="CASCADE"), primary_key=True
    )
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    renderer: Mapped[str] = mapped_column(String(100))
    rendered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    certificate: Mapped[Certificate] = relationship(back_populates="document")


class SigningKey(db.Model):
    """A public key credentials were signed with. Kept (and published) after rotation, so
    credentials signed years ago still verify; the private key never enters the database."""

    __tablename__ = "certificates_signing_key"

    kid: Mapped[str] = mapped_column(String(100), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExportStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class CertificateExport(db.Model):
    """A zip of a tenant's certificates issued in a date range, built in the background."""

    __tablename__ = "certificates_export"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    requested_by: Mapped[str] = mapped_column(String(200))
    date_from: Mapped[dt.date] = mapped_column(Date)
    date_to: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[ExportStatus] = mapped_column(
        Enum(
            ExportStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ExportStatus.PENDING,
    )
    count: Mapped[int | None] = mapped_column()
    filename: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CertificateAsset(db.Model):
    """An image printed on certificates (a partner's logo), stored once by its SHA-256 so
    a certificate re-rendered years later shows the logo it was issued with."""

    __tablename__ = "certificates_asset"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(50))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
