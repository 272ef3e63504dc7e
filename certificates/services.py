"""Issuing, naming, revoking, finding and rendering certificates. No Flask request here:
views and the CLI parse input, call these, and commit once."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from certificates import catalog, credentials, numbering, rendering, wording
from certificates.models import (
    Certificate,
    CertificateAsset,
    CertificateDocument,
    CertificateSource,
    CertificateStatus,
)
from lms_core import audit, outbox, signals
from lms_core.db import utcnow
from lms_core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from lms_core.extensions import db
from lms_core.models import STAFF_ROLES, Tenant, User

log = logging.getLogger(__name__)

RENDER_TOPIC = "certificates.render"
NAME_MAX = 200
#: A partner picks an operator-installed template by folder name, never by path.
TEMPLATE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


# -- the course facts a certificate copies -------------------------------------------------


@dataclass(frozen=True)
class CourseFacts:
    """What the snapshot takes from ``courses.api``'s CourseInfo/PartnerInfo."""

    slug: str
    version: str
    title: str
    language: str
    partner_slug: str
    partner_name: str
    partner_settings: Mapping[str, Any]
    credit_type: str | None
    credit_amount: float | None
    accreditation_statement: str | None = None

    @classmethod
    def from_course_info(cls, course: Any) -> CourseFacts:
        credit = getattr(course, "credit", None)
        partner = course.partner
        return cls(
            slug=course.slug,
            version=course.version,
            title=course.title,
            language=getattr(course, "language", "en") or "en",
            partner_slug=partner.slug,
            partner_name=partner.name,
            partner_settings=dict(partner.settings or {}),
            credit_type=credit.type if credit else None,
            credit_amount=credit.amount if credit else None,
            accreditation_statement=getattr(course, "accreditation_statement", None),
        )


def course_facts(slug: str, version: str | None = None) -> CourseFacts:
    course = catalog.get_course(slug, version)
    if course is None:
        which = f"{slug!r} version {version}" if version else repr(slug)
        raise NotFound(
            f"No course {which} in the catalog.",
            [Problem("unknown course", "--course", "`shiftwell courses list` shows the slugs.")],
        )
    return CourseFacts.from_course_info(course)


# -- names -----------------------------------------------------------------------------------


def name_on_record(user: User | None) -> str | None:
    """The learner's name as their LMS sent it; an e-mail address is not a name."""
    if user is None:
        return None
    if user.name and user.name.strip():
        return user.name.strip()
    full = " ".join(p.strip() for p in (user.given_name, user.family_name) if p and p.strip())
    return full or None


def clean_name(text: str | None, location: str = "name") -> str:
    """A name fit to print: NFC-normalised, single-spaced, no control characters."""
    name = " ".join(unicodedata.normalize("NFC", text or "").split())
    if not name:
        raise InvalidInput(
            "Enter the name to print on the certificate.",
            [Problem("the name is empty", location, "Use your name as your licence shows it.")],
        )
    if len(name) > NAME_MAX:
        raise InvalidInput(
            f"That name is {len(name)} characters long; a certificate prints at most {NAME_MAX}.",
            [Problem("too long", location)],
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in name):
        raise InvalidInput(
            "The name contains invisible or control characters.",
            [Problem("invisible characters", location, "Type the name again by hand.")],
        )
    return name


# -- issuing ------------------------------------------------------------------------------------


def _design(tenant: Tenant, partner_slug: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """How the certificate looks, fixed at issue (docs/certificates.md, "Partner settings").

    The signature line names the partner's continuing-education contact when the package
    gives one (``settings.contact.name``), else the accredited provider itself.
    """
    template = settings.get("certificate_template")
    contact = settings.get("contact") if isinstance(settings.get("contact"), Mapping) else {}
    return {
        "paper": rendering.paper_for_locale(tenant.locale),
        "locale": tenant.locale or "en-US",
        "template": str(template) if template and TEMPLATE_NAME_RE.match(str(template)) else None,
        "logo_sha256": _snapshot_logo(partner_slug, settings),
        "signatory_name": str(contact.get("name") or ""),
        "signatory_title": "Authorised signatory",
    }


def _snapshot_logo(partner_slug: str, settings: Mapping[str, Any]) -> str | None:
    """Keep the partner's logo as it is today, once per distinct image."""
    if not settings.get("logo"):
        return None
    digest = settings.get("logo_sha256")
    if digest and db.session.get(CertificateAsset, digest) is not None:
        return str(digest)
    logo = catalog.get_partner_logo(partner_slug)
    if logo is None or logo.media_type not in ("image/png", "image/jpeg"):
        return None
    digest = hashlib.sha256(logo.data).hexdigest()
    if db.session.get(CertificateAsset, digest) is None:
        db.session.add(CertificateAsset(sha256=digest, media_type=logo.media_type, data=logo.data))
        db.session.flush()
    return digest


def _unused_number() -> str:
    for _ in range(5):
        number = numbering.new_number()
        if db.session.scalar(select(Certificate.id).where(Certificate.number == number)) is None:
            return number
    raise RuntimeError("could not draw an unused certificate number")  # 75 random bits


def issue_certificate(
    tenant: Tenant,
    user: User | None,
    course: CourseFacts,
    *,
    completed_on: dt.date,
    source: CertificateSource,
    attempt_registration: str | None = None,
    learner_name: str | None = None,
    credit_type: str | None = None,
    credit_amount: float | Decimal | None = None,
) -> Certificate:
    """Add a certificate to the session (the caller commits).

    Without a name (none given, none from the LMS) it waits for the learner to confirm
    one: status ``awaiting_name``, nothing printed, not verifiable yet.
    """
    credit_type = credit_type or course.credit_type
    amount_in = credit_amount if credit_amount is not None else course.credit_amount
    if not credit_type or credit_type == wording.NONE or amount_in is None:
        raise InvalidInput(
            f"Course {course.slug!r} carries no CE credit, so it gives no certificate.",
            [Problem("no credit", "--course", "Pick a course whose package declares credit.")],
        )
    amount = wording.credit_amount(amount_in)
    words = wording.wording_for(
        credit_type,
        amount,
        course.partner_name,
        course.partner_settings,
        course.accreditation_statement,
    )
    number = _unused_number()
    certificate = Certificate(
        number=number,
        tenant_id=tenant.id,
        user_id=user.id if user else None,
        status=CertificateStatus.AWAITING_NAME,
        source=source,
        attempt_registration=attempt_registration,
        learner_issuer=user.issuer if user else None,
        learner_subject=user.subject if user else None,
        course_slug=course.slug,
        course_version=course.version,
        course_title=course.title,
        course_language=course.language,
        partner_slug=course.partner_slug,
        partner_name=course.partner_name,
        credit_type=credit_type,
        credit_amount=amount,
        credit_unit=words.unit(amount),
        accreditation=words.accreditation,
        designation=words.designation,
        issuing_organisation=words.provider_name,
        tenant_name=tenant.name,
        completed_on=completed_on,
        verify_url=f"{credentials.base_url()}/verify/{number}",
        design=_design(tenant, course.partner_slug, course.partner_settings),
    )
    db.session.add(certificate)
    db.session.flush()
    name = learner_name if learner_name is not None else name_on_record(user)
    if name:
        _complete_issue(certificate, clean_name(name))
    else:
        audit.record(
            "certificate.awaiting_name",
            tenant=tenant,
            target_type="certificate",
            target_id=number,
            actor="system",
        )
    return certificate


def _complete_issue(certificate: Certificate, name: str) -> None:
    certificate.learner_name = name
    certificate.issued_at = utcnow().replace(microsecond=0)
    certificate.status = CertificateStatus.ISSUED
    certificate.credential_jws, certificate.credential_kid = credentials.sign_credential(
        certificate
    )
    outbox.enqueue(
        RENDER_TOPIC,
        {"certificate_id": certificate.id},
        key=f"{RENDER_TOPIC}:{certificate.number}",
        tenant=certificate.tenant_id,
    )
    audit.record(
        "certificate.issued",
        tenant=certificate.tenant_id,
        target_type="certificate",
        target_id=certificate.number,
        actor="system" if certificate.source == CertificateSource.COURSE else None,
        course=certificate.course_slug,
        version=certificate.course_version,
        credit_type=certificate.credit_type,
        credit_amount=str(certificate.credit_amount),
    )
    signals.certificate_issued.send(
        current_app._get_current_object(),
        event=signals.CertificateEvent(
            tenant_id=certificate.tenant_id,
            user_id=certificate.user_id,
            number=certificate.number,
            course=signals.CourseRef(
                certificate.course_slug,
                certificate.course_version,
                certificate.course_title,
                certificate.partner_slug,
                certificate.course_language,
            ),
            occurred_at=certificate.issued_at,
        ),
    )


def confirm_name(certificate: Certificate, user: User, name: str) -> Certificate:
    """The learner confirms the name to print on a certificate that waits for one."""
    if certificate.user_id != user.id:
        raise NotFound("No such certificate.")
    if certificate.status != CertificateStatus.AWAITING_NAME:
        raise Conflict(
            "This certificate is already issued; its name cannot change. If the name is "
            "wrong, ask your education department to revoke it and issue a new one."
        )
    _complete_issue(certificate, clean_name(name))
    return certificate


def on_course_completed(sender: Any, event: signals.CompletionEvent) -> None:
    """Receiver of ``course_completed``: inside the learner's transaction, never commits.

    Idempotent: one certificate per attempt (its registration), however often the event
    comes. It must not break the learner's save, so a course the catalog no longer knows
    is logged and skipped rather than raised.
    """
    if not event.passed or not event.credit:
        return
    credit_type = event.credit.get("type")
    amount = event.credit.get("amount")
    if not credit_type or credit_type == wording.NONE or not amount or float(amount) <= 0:
        return
    learner = event.learner
    registration = learner.registration or (
        f"attempt:{learner.attempt_id}" if learner.attempt_id is not None else None
    )
    if registration is not None:
        existing = db.session.scalar(
            select(Certificate.id).where(
                Certificate.tenant_id == learner.tenant_id,
                Certificate.attempt_registration == registration,
            )
        )
        if existing is not None:
            return
    course = catalog.get_course(event.course.slug, event.course.version)
    if course is None:
        log.error(
            "certificates: course %s %s completed but unknown to courses.api; no certificate",
            event.course.slug,
            event.course.version,
        )
        return
    tenant = db.session.get(Tenant, learner.tenant_id)
    user = db.session.get(User, learner.user_id)
    assert tenant is not None
    issue_certificate(
        tenant,
        user,
        CourseFacts.from_course_info(course),
        completed_on=learner.occurred_at.astimezone(dt.UTC).date(),
        source=CertificateSource.COURSE,
        attempt_registration=registration,
        credit_type=credit_type,
        credit_amount=amount,
    )


# -- finding --------------------------------------------------------------------------------------


def get_by_number(text: str) -> Certificate | None:
    """The certificate with this number (mistyped numbers raise NumberMistyped)."""
    number = numbering.normalise(text)
    return db.session.scalar(select(Certificate).where(Certificate.number == number))


def get_verifiable(text: str) -> Certificate:
    """For verification: issued or revoked, else 404 (an unnamed one is not issued yet)."""
    certificate = get_by_number(text)
    if certificate is None or not certificate.is_issued:
        raise NotFound(
            f"No certificate {numbering.normalise(text)} was issued here.",
            [
                Problem(
                    "unknown number",
                    "certificate number",
                    "Check the number against the certificate; ask the holder for a copy.",
                )
            ],
        )
    return certificate


def certificate_for_download(user: User, text: str) -> Certificate:
    """The learner's own, or any of their hospital's for its education department.

    Another hospital's certificate is a 404 (its existence is not theirs to know); a
    colleague's, for a learner, is a 403.
    """
    certificate = get_by_number(text)
    if certificate is None or not certificate.is_issued or certificate.tenant_id != user.tenant_id:
        raise NotFound("No such certificate.")
    if certificate.user_id == user.id or user.has_role(*STAFF_ROLES):
        return certificate
    raise Forbidden("Only the learner and their education department can download this.")


def learner_certificates(user: User) -> list[Certificate]:
    return list(
        db.session.scalars(
            Certificate.for_tenant(user.tenant_id or 0)
            .where(Certificate.user_id == user.id)
            .order_by(Certificate.created_at.desc(), Certificate.id.desc())
        )
    )


# -- revoking ------------------------------------------------------------------------------------


def revoke(certificate: Certificate, reason: str, actor: str | None = None) -> Certificate:
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput(
            "Give the reason for revoking: it is shown to anyone who verifies the certificate.",
            [Problem("empty", "--reason")],
        )
    if len(reason) > 500:
        raise InvalidInput(
            "Keep the reason under 500 characters.", [Problem("too long", "--reason")]
        )
    if certificate.is_revoked:
        raise Conflict(
            f"Certificate {certificate.number} was already revoked on "
            f"{certificate.revoked_at:%Y-%m-%d}: {certificate.revoked_reason}"
        )
    now = utcnow()
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = now
    certificate.revoked_reason = reason
    entry = audit.record(
        "certificate.revoked",
        tenant=certificate.tenant_id,
        target_type="certificate",
        target_id=certificate.number,
        actor=actor,
        reason=reason,
    )
    certificate.revoked_by = entry.actor_label
    signals.certificate_revoked.send(
        current_app._get_current_object(),
        event=signals.CertificateEvent(
            tenant_id=certificate.tenant_id,
            user_id=certificate.user_id,
            number=certificate.number,
            course=None,
            occurred_at=now,
            reason=reason,
        ),
    )
    return certificate


# -- rendering ------------------------------------------------------------------------


def _format_date(day: dt.date, locale: str) -> str:
    if rendering.paper_for_locale(locale) == "letter" and "-US" in locale.upper().replace("_", "-"):
        return f"{day:%B} {day.day}, {day.year}"
    return f"{day.day} {day:%B %Y}"


def view_for(certificate: Certificate) -> rendering.CertificateView:
    design = certificate.design or {}
    locale = design.get("locale") or "en-US"
    assert certificate.issued_at is not None and certificate.learner_name
    return rendering.CertificateView(
        number=certificate.number,
        learner_name=certificate.learner_name,
        course_title=certificate.course_title,
        course_version=certificate.course_version,
        partner_name=certificate.partner_name,
        credit_amount=wording.format_amount(certificate.credit_amount),
        credit_unit=certificate.credit_unit,
        accreditation=certificate.accreditation,
        designation=certificate.designation,
        completed_on=_format_date(certificate.completed_on, locale),
        issued_on=_format_date(certificate.issued_at.date(), locale),
        issued_iso=certificate.issued_at.isoformat(),
        issuing_organisation=certificate.issuing_organisation,
        tenant_name=certificate.tenant_name,
        verify_url=certificate.verify_url,
        signatory_name=design.get("signatory_name") or certificate.issuing_organisation,
        signatory_title=design.get("signatory_title") or "Authorised signatory",
        lang=certificate.course_language or "en",
        paper=design.get("paper") or "a4",
        logo_uri=logo_uri(certificate),
    )


def templates_root() -> Path:
    configured = current_app.config.get("CERTIFICATES_TEMPLATE_DIR")
    return (
        Path(configured)
        if configured
        else Path(current_app.instance_path) / "certificate-templates"
    )


def template_dir_for(certificate: Certificate) -> Path | None:
    """The partner's template folder under ``CERTIFICATES_TEMPLATE_DIR``, if installed."""
    name = (certificate.design or {}).get("template")
    if not name or not TEMPLATE_NAME_RE.match(name):
        return None
    path = templates_root() / name
    if not path.is_dir():
        log.warning(
            "certificates: template folder %s of %s is not installed; using the default design",
            path,
            certificate.number,
        )
        return None
    return path


def logo_uri(certificate: Certificate) -> str | None:
    digest = (certificate.design or {}).get("logo_sha256")
    asset = db.session.get(CertificateAsset, digest) if digest else None
    if asset is None:
        return None
    return f"data:{asset.media_type};base64,{base64.b64encode(asset.data).decode('ascii')}"


def render_job(certificate: Certificate) -> tuple[rendering.CertificateView, Path | None, list]:
    """Everything a renderer needs, as plain data (it may run in another process)."""
    attachments = []
    if certificate.credential_jws:
        attachments.append(
            rendering.Attachment(
                filename=f"{certificate.number}.jwt",
                content=certificate.credential_jws.encode("ascii"),
                description="Open Badges 3.0 credential (VC-JWT) for this certificate",
            )
        )
    return view_for(certificate), template_dir_for(certificate), attachments


def pdf_variant() -> str | None:
    return current_app.config.get("CERTIFICATES_PDF_VARIANT", rendering.DEFAULT_PDF_VARIANT)


def render_pdf(certificate: Certificate) -> bytes:
    """Render the snapshot now (no storing): the same snapshot gives the same bytes."""
    view, template_dir, attachments = render_job(certificate)
    return rendering.renderer(pdf_variant()).render(view, template_dir, attachments)


def renderer_label() -> str:
    import weasyprint

    return f"WeasyPrint {weasyprint.__version__} {pdf_variant() or 'pdf'}"


def store_document(certificate: Certificate, pdf: bytes) -> CertificateDocument:
    """Archive ``pdf`` for ``certificate``. The background render and a download may race
    to archive the same certificate; they render the same bytes, so the first one wins."""
    digest = hashlib.sha256(pdf).hexdigest()
    document = certificate.document
    if document is None:
        document = CertificateDocument(
            certificate_id=certificate.id,
            pdf=pdf,
            sha256=digest,
            renderer=renderer_label(),
            rendered_at=utcnow(),
        )
        try:
            with db.session.begin_nested():
                db.session.add(document)
                certificate.document = document
        except IntegrityError:
            db.session.expire(certificate, ["document"])
            existing = certificate.document
            assert existing is not None
            certificate.pdf_sha256 = existing.sha256
            return existing
    else:
        document.pdf, document.sha256 = pdf, digest
        document.renderer = renderer_label()
        document.rendered_at = utcnow()
    certificate.pdf_sha256 = digest
    return document


def ensure_document(certificate: Certificate) -> CertificateDocument:
    """The archived PDF, rendering (and storing) it first if the background job has not."""
    if not certificate.is_issued:
        raise Conflict("This certificate waits for the learner to confirm their name.")
    if certificate.document is not None:
        return certificate.document
    return store_document(certificate, render_pdf(certificate))


def run_render_message(message: Any) -> None:
    """Outbox handler: render and archive a newly issued certificate's PDF."""
    certificate = db.session.get(Certificate, message.payload["certificate_id"])
    if certificate is None:
        raise outbox.PermanentFailure(f"certificate {message.payload} no longer exists")
    ensure_document(certificate)
