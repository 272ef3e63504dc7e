"""The certificates package's public API, for other packages (the portals issue).

Plain frozen dataclasses cross this boundary, never ORM objects. Every function is
scoped to a tenant: nothing here returns another hospital's people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from certificates import exports as _exports
from certificates.models import Certificate, CertificateExport, CertificateStatus
from lms_core.extensions import db
from lms_core.models import Tenant, User


@dataclass(frozen=True)
class CertificateInfo:
    number: str
    status: str  # "awaiting_name" | "issued" | "revoked"
    tenant_id: int
    user_id: int | None  # None once the learner's account is deleted
    learner_name: str | None
    course_slug: str
    course_version: str
    course_title: str
    partner_slug: str
    credit_type: str
    credit_amount: Decimal
    credit_unit: str
    completed_on: dt.date
    issued_at: dt.datetime | None
    revoked_at: dt.datetime | None
    revoked_reason: str | None
    verify_path: str  # "/verify/<number>"
    pdf_path: str  # "/certificates/<number>.pdf" (learner and education department)
    credential_path: str  # "/certificates/<number>.jwt"


@dataclass(frozen=True)
class ExportInfo:
    id: int
    tenant_id: int
    status: str  # "pending" | "done" | "failed"
    date_from: dt.date
    date_to: dt.date
    count: int | None
    size: int | None
    download_path: str | None  # "/certificates/exports/<id>.zip" once done
    requested_by: str
    created_at: dt.datetime


def _info(c: Certificate) -> CertificateInfo:
    return CertificateInfo(
        number=c.number,
        status=c.status.value,
        tenant_id=c.tenant_id,
        user_id=c.user_id,
        learner_name=c.learner_name,
        course_slug=c.course_slug,
        course_version=c.course_version,
        course_title=c.course_title,
        partner_slug=c.partner_slug,
        credit_type=c.credit_type,
        credit_amount=c.credit_amount,
        credit_unit=c.credit_unit,
        completed_on=c.completed_on,
        issued_at=c.issued_at,
        revoked_at=c.revoked_at,
        revoked_reason=c.revoked_reason,
        verify_path=f"/verify/{c.number}",
        pdf_path=f"/certificates/{c.number}.pdf",
        credential_path=f"/certificates/{c.number}.jwt",
    )


def list_certificates(
    tenant_id: int,
    *,
    user_id: int | None = None,
    issued_from: dt.date | None = None,
    issued_to: dt.date | None = None,
    include_revoked: bool = True,
    limit: int | None = None,
) -> list[CertificateInfo]:
    """A tenant's issued certificates (or one learner's), newest first."""
    stmt = Certificate.for_tenant(tenant_id).where(
        Certificate.status != CertificateStatus.AWAITING_NAME
    )
    if user_id is not None:
        stmt = stmt.where(Certificate.user_id == user_id)
    if issued_from is not None:
        stmt = stmt.where(
            Certificate.issued_at >= dt.datetime.combine(issued_from, dt.time(), tzinfo=dt.UTC)
        )
    if issued_to is not None:
        end = dt.datetime.combine(issued_to + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        stmt = stmt.where(Certificate.issued_at < end)
    if not include_revoked:
        stmt = stmt.where(Certificate.status == CertificateStatus.ISSUED)
    stmt = stmt.order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_info(c) for c in db.session.scalars(stmt)]


def user_certificates(tenant_id: int, user_id: int) -> list[CertificateInfo]:
    """One learner's certificates, including those waiting for the name to print."""
    stmt = (
        Certificate.for_tenant(tenant_id)
        .where(Certificate.user_id == user_id)
        .order_by(Certificate.created_at.desc(), Certificate.id.desc())
    )
    return [_info(c) for c in db.session.scalars(stmt)]


def credit_totals(tenant_id: int, user_id: int | None = None) -> dict[str, Decimal]:
    """Valid (not revoked) credit by credit type, for a tenant or one learner."""
    totals: dict[str, Decimal] = {}
    for c in list_certificates(tenant_id, user_id=user_id, include_revoked=False):
        totals[c.credit_type] = totals.get(c.credit_type, Decimal("0")) + c.credit_amount
    return totals


def _export_info(e: CertificateExport) -> ExportInfo:
    done = e.status.value == "done"
    return ExportInfo(
        id=e.id,
        tenant_id=e.tenant_id,
        status=e.status.value,
        date_from=e.date_from,
        date_to=e.date_to,
        count=e.count,
        size=e.size,
        download_path=f"/certificates/exports/{e.id}.zip" if done else None,
        requested_by=e.requested_by,
        created_at=e.created_at,
    )


def request_export(
    tenant_id: int, date_from: dt.date, date_to: dt.date, requested_by_user_id: int | None = None
) -> ExportInfo:
    """Queue a zip export (the caller commits; the outbox builds it after the commit)."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id}")
    user = db.session.get(User, requested_by_user_id) if requested_by_user_id else None
    return _export_info(_exports.request_export(tenant, date_from, date_to, user))


def list_exports(tenant_id: int) -> list[ExportInfo]:
    return [_export_info(e) for e in _exports.exports_for(tenant_id)]


def get_export(tenant_id: int, export_id: int) -> ExportInfo | None:
    export = db.session.scalar(
        select(CertificateExport).where(
            CertificateExport.id == export_id, CertificateExport.tenant_id == tenant_id
        )
    )
    return _export_info(export) if export else None
