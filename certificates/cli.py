"""``shiftwell certificates ...``: issue (credit earned elsewhere), list, render, verify,
revoke, export. Mistakes exit with code 2 and a message; each command commits once."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from certificates import exports, services, wording
from certificates.models import Certificate, CertificateSource, CertificateStatus
from lms_core import audit
from lms_core.cli import emit, format_option, get_tenant
from lms_core.db import utcnow
from lms_core.errors import InvalidInput, NotFound, Problem
from lms_core.extensions import db
from lms_core.models import Role, User


@click.group("certificates", help="Continuing-education certificates.")
def certificates_group() -> None:
    pass


def _row(c: Certificate) -> dict[str, object]:
    return {
        "number": c.number,
        "status": c.status.value,
        "learner_name": c.learner_name,
        "learner_sub": c.learner_subject,
        "course": c.course_slug,
        "version": c.course_version,
        "title": c.course_title,
        "credit_type": c.credit_type,
        "credit_amount": wording.format_amount(c.credit_amount),
        "completed_on": c.completed_on.isoformat(),
        "issued_at": c.issued_at,
        "revoked_reason": c.revoked_reason,
        "verify_url": c.verify_url,
        "pdf_sha256": c.pdf_sha256,
    }


def _find_learner(tenant_id: int, subject: str, issuer: str | None, name: str | None) -> User:
    """The learner by LTI subject; created, as a launch would, for credit recorded before
    they ever opened Shiftwell (then --name is needed, and --issuer unless the hospital's
    learners all come from one LMS)."""
    stmt = select(User).where(User.tenant_id == tenant_id, User.subject == subject)
    if issuer:
        stmt = stmt.where(User.issuer == issuer)
    users = list(db.session.scalars(stmt))
    if len(users) > 1:
        issuers = ", ".join(sorted(u.issuer or "-" for u in users))
        raise InvalidInput(
            f"Several learners have subject {subject!r} (LMS issuers: {issuers}).",
            [Problem("ambiguous", "--user-sub", "Add --issuer with the LMS's issuer URL.")],
        )
    if users:
        return users[0]
    if name is None:
        raise NotFound(
            f"No learner with LTI subject {subject!r} in this tenant.",
            [
                Problem(
                    "unknown learner",
                    "--user-sub",
                    "The subject is the LMS's user id for them (the LTI 'sub'). For someone "
                    "who has not opened Shiftwell yet, add --name (and --issuer).",
                )
            ],
        )
    if issuer is None:
        known = sorted(
            set(db.session.scalars(select(User.issuer).where(User.tenant_id == tenant_id))) - {None}
        )
        if len(known) != 1:
            raise InvalidInput(
                f"No learner with LTI subject {subject!r} yet, and this hospital's LMS issuer "
                "is not known for sure.",
                [Problem("which LMS?", "--issuer", "Add --issuer with the LMS's issuer URL.")],
            )
        issuer = known[0]
    user = User(tenant_id=tenant_id, issuer=issuer, subject=subject, name=services.clean_name(name))
    user.grant(Role.LEARNER)
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.created_for_certificate",
        tenant=tenant_id,
        target_type="user",
        target_id=user.id,
        subject=subject,
    )
    return user


@certificates_group.command("issue")
@click.option("--tenant", "tenant_slug", required=True, help="The hospital's slug.")
@click.option("--user-sub", required=True, help="The learner's LTI subject (their LMS user id).")
@click.option("--issuer", default=None, help="The learner's LMS issuer, if the subject is shared.")
@click.option("--course", "course_slug", required=True, help="The course (activity) slug.")
@click.option("--version", default=None, help="Course version (default: the latest).")
@click.option("--name", default=None, help="Name to print (required if the LMS sent none).")
@click.option(
    "--completed-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date the credit was earned, YYYY-MM-DD (default: today).",
)
@format_option
@with_appcontext
def issue_command(
    tenant_slug: str,
    user_sub: str,
    issuer: str | None,
    course_slug: str,
    version: str | None,
    name: str | None,
    completed_on: dt.datetime | None,
    fmt: str,
) -> None:
    """Issue a certificate for credit earned outside the player (e.g. a workshop)."""
    tenant = get_tenant(tenant_slug)
    learner = _find_learner(tenant.id, user_sub, issuer, name)
    day = completed_on.date() if completed_on else utcnow().date()
    if day > utcnow().date():
        raise InvalidInput(
            f"--completed-on {day} is in the future.", [Problem("future date", "--completed-on")]
        )
    if name is None and services.name_on_record(learner) is None:
        raise InvalidInput(
            "The learner's LMS sent no name, and a certificate must print one.",
            [Problem("no name on record", "--name", 'Add --name "Name as on their licence".')],
        )
    facts = services.course_facts(course_slug, version)
    certificate = services.issue_certificate(
        tenant,
        learner,
        facts,
        completed_on=day,
        source=CertificateSource.MANUAL,
        learner_name=name,
    )
    db.session.commit()
    if fmt == "table":
        click.echo(f"Certificate {certificate.number} issued to {certificate.learner_name}.")
        click.echo(f"Verify at {certificate.verify_url}")
    else:
        emit([_row(certificate)], fmt)


@certificates_group.command("list")
@click.option("--tenant", "tenant_slug", required=True, help="The hospital's slug.")
@click.option("--user-sub", default=None, help="Only this learner's certificates.")
@click.option("--status", type=click.Choice([s.value for s in CertificateStatus]), default=None)
@format_option
@with_appcontext
def list_command(tenant_slug: str, user_sub: str | None, status: str | None, fmt: str) -> None:
    """List a hospital's certificates, newest first."""
    tenant = get_tenant(tenant_slug)
    stmt = Certificate.for_tenant(tenant).order_by(
        Certificate.created_at.desc(), Certificate.id.desc()
    )
    if user_sub:
        stmt = stmt.where(Certificate.learner_subject == user_sub)
    if status:
        stmt = stmt.where(Certificate.status == CertificateStatus(status))
    rows = [_row(c) for c in db.session.scalars(stmt)]
    columns = [
        "number",
        "status",
        "learner_name",
        "course",
        "version",
        "credit_amount",
        "credit_type",
        "completed_on",
        "issued_at",
    ]
    emit(rows, fmt, None if fmt == "json" else columns)


@certificates_group.command("render")
@click.argument("number")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the PDF.",
)
@with_appcontext
def render_command(number: str, out: Path) -> None:
    """Write a certificate's archived PDF to FILE (rendering and archiving it if needed)."""
    certificate = services.get_by_number(number)
    if certificate is None:
        raise NotFound(f"No certificate {number}.")
    document = services.ensure_document(certificate)
    db.session.commit()
    out.write_bytes(document.pdf)
    click.echo(f"Wrote {out} ({len(document.pdf)} bytes, SHA-256 {document.sha256}).")


@certificates_group.command("verify")
@click.argument("number")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@with_appcontext
def verify_command(number: str, fmt: str) -> None:
    """Check a number: exit 0 when valid, 1 when revoked, 2 when unknown or mistyped."""
    certificate = services.get_verifiable(number)
    facts = {
        "number": certificate.number,
        "status": "revoked" if certificate.is_revoked else "valid",
        "holder": certificate.learner_name,
        "course": f"{certificate.course_title} (version {certificate.course_version})",
        "credit": f"{wording.format_amount(certificate.credit_amount)} {certificate.credit_unit}",
        "completed_on": certificate.completed_on.isoformat(),
        "issued_on": certificate.issued_at.date().isoformat() if certificate.issued_at else None,
        "revoked_reason": certificate.revoked_reason,
    }
    if fmt == "json":
        click.echo(json.dumps(facts, ensure_ascii=False, indent=2))
    else:
        for key, value in facts.items():
            if value is not None:
                click.echo(f"{key.replace('_', ' ')}: {value}")
    sys.exit(1 if certificate.is_revoked else 0)


@certificates_group.command("revoke")
@click.argument("number")
@click.option("--reason", required=True, help="Why; shown to anyone who verifies it.")
@with_appcontext
def revoke_command(number: str, reason: str) -> None:
    """Revoke a certificate; the reason is audit-logged and shown on verification."""
    certificate = services.get_by_number(number)
    if certificate is None:
        raise NotFound(f"No certificate {number}.")
    services.revoke(certificate, reason)
    db.session.commit()
    click.echo(f"Certificate {certificate.number} revoked.")


@certificates_group.command("export")
@click.option("--tenant", "tenant_slug", required=True, help="The hospital's slug.")
@click.option("--from", "date_from", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@with_appcontext
def export_command(tenant_slug: str, date_from: dt.datetime, date_to: dt.datetime) -> None:
    """Queue a zip of the certificates issued between two dates (inclusive)."""
    tenant = get_tenant(tenant_slug)
    export = exports.request_export(tenant, date_from.date(), date_to.date())
    db.session.commit()
    db.session.refresh(export)
    path = exports.export_file(export)
    if path is not None:
        click.echo(f"Export {export.id}: {export.count} certificates in {path}")
    else:
        click.echo(f"Export {export.id} queued; a worker builds it.")
