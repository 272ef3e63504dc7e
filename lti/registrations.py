"""Registering LMSs with the tool: by command, by the operator's page, or by LTI Dynamic
Registration (then waiting for the operator's approval)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from lms_core import audit
from lms_core.db import utcnow
from lms_core.errors import Conflict, InvalidInput, NotFound, Problem
from lms_core.extensions import db
from lms_core.models import Tenant
from lti.models import Deployment, Registration, RegistrationStatus
from lti.tool import find_registration


@dataclass(frozen=True)
class PlatformDetails:
    """What an operator types (or an LMS sends) to register it."""

    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    keyset_url: str
    name: str | None = None
    auth_audience: str | None = None


def insecure_urls_allowed() -> bool:
    """http:// LMS URLs only off production (the demo LMS and tests run on plain HTTP)."""
    return current_app.config["ENV"] != "production"


def check_url(value: str, location: str, problems: list[Problem]) -> str:
    value = (value or "").strip()
    parts = urlsplit(value)
    schemes = ("https", "http") if insecure_urls_allowed() else ("https",)
    if parts.scheme not in schemes or not parts.netloc:
        problems.append(
            Problem(
                f"{value!r} is not an {' or '.join(schemes)} URL",
                location,
                "Copy it from the LMS's LTI 1.3 settings page, e.g. "
                "https://canvas.instructure.com/api/lti/authorize_redirect.",
            )
        )
    elif len(value) > 2000:
        problems.append(Problem("is longer than 2000 characters", location))
    return value


def check_identifier(value: str, location: str, problems: list[Problem]) -> str:
    value = (value or "").strip()
    if not value:
        problems.append(Problem("must not be empty", location))
    elif len(value) > 255:
        problems.append(Problem("is longer than 255 characters", location))
    return value


def _checked(details: PlatformDetails, deployment_id: str | None) -> tuple[PlatformDetails, str]:
    problems: list[Problem] = []
    cleaned = PlatformDetails(
        issuer=check_url(details.issuer, "--issuer", problems),
        client_id=check_identifier(details.client_id, "--client-id", problems),
        auth_login_url=check_url(details.auth_login_url, "--auth-login-url", problems),
        auth_token_url=check_url(details.auth_token_url, "--auth-token-url", problems),
        keyset_url=check_url(details.keyset_url, "--keyset-url", problems),
        name=(details.name or "").strip()[:200] or None,
        auth_audience=(details.auth_audience or "").strip() or None,
    )
    deployment = check_identifier(deployment_id or "", "--deployment-id", problems)
    if problems:
        raise InvalidInput("The platform cannot be registered as given.", problems)
    return cleaned, deployment


def add_platform(
    tenant: Tenant, details: PlatformDetails, deployment_id: str, *, source: str = "cli"
) -> tuple[Registration, Deployment]:
    """Register an LMS for a tenant, or add a deployment to a registration it already has.

    Canvas (one issuer for every school) is several registrations with the same issuer
    and different client ids; a second install of the same client id is a deployment.
    The caller commits.
    """
    details, deployment_id = _checked(details, deployment_id)
    record = find_registration(details.issuer, details.client_id)
    if record is None:
        record = Registration(
            tenant_id=tenant.id,
            name=details.name or _default_name(details.issuer),
            issuer=details.issuer,
            client_id=details.client_id,
            auth_login_url=details.auth_login_url,
            auth_token_url=details.auth_token_url,
            auth_audience=details.auth_audience,
            keyset_url=details.keyset_url,
            status=RegistrationStatus.ACTIVE,
            source=source,
            platform_config={},
            approved_at=utcnow(),
        )
        db.session.add(record)
        db.session.flush()
        audit.record(
            "lti.platform_added",
            tenant=tenant,
            target_type="lti_registration",
            target_id=record.id,
            issuer=record.issuer,
            client_id=record.client_id,
        )
    else:
        if record.tenant_id not in (None, tenant.id):
            raise Conflict(
                f"{details.issuer} with client id {details.client_id} is already registered "
                f"for another tenant ({record.tenant.slug if record.tenant else '?'}). Ask that "
                "LMS for a separate client id for this hospital."
            )
        changed = [
            name
            for name in ("auth_login_url", "auth_token_url", "keyset_url")
            if getattr(record, name) != getattr(details, name)
        ]
        if changed:
            raise Conflict(
                f"{details.issuer} with client id {details.client_id} is registered with "
                f"other URLs ({', '.join(changed)}). Change them on the operator page (or "
                "remove the registration) instead of adding it again."
            )
    deployment = add_deployment(record, deployment_id, tenant)
    return record, deployment


def add_deployment(record: Registration, deployment_id: str, tenant: Tenant | None) -> Deployment:
    problems: list[Problem] = []
    deployment_id = check_identifier(deployment_id, "deployment id", problems)
    if problems:
        raise InvalidInput("The deployment cannot be added.", problems)
    if any(d.deployment_id == deployment_id for d in record.deployments):
        raise Conflict(
            f"Deployment {deployment_id!r} of {record.issuer} (client id {record.client_id}) "
            "is already registered."
        )
    deployment = Deployment(
        deployment_id=deployment_id, tenant_id=tenant.id if tenant else record.tenant_id
    )
    record.deployments.append(deployment)
    db.session.flush()
    audit.record(
        "lti.deployment_added",
        tenant=deployment.tenant_id,
        target_type="lti_registration",
        target_id=record.id,
        deployment_id=deployment_id,
    )
    return deployment


def approve(record: Registration, tenant: Tenant) -> None:
    """Activate a (dynamically registered) platform for a tenant; the caller commits."""
    if record.tenant_id not in (None, tenant.id):
        raise Conflict(
            f"This registration belongs to {record.tenant.slug if record.tenant else '?'}; "
            "it cannot be approved for another tenant."
        )
    record.tenant_id = tenant.id
    for deployment in record.deployments:
        deployment.tenant_id = deployment.tenant_id or tenant.id
    record.status = RegistrationStatus.ACTIVE
    record.approved_at = utcnow()
    audit.record(
        "lti.platform_approved", tenant=tenant, target_type="lti_registration", target_id=record.id
    )


def set_enabled(record: Registration, enabled: bool) -> None:
    if enabled and record.tenant_id is None:
        raise InvalidInput("Approve the registration for a tenant first.")
    record.status = RegistrationStatus.ACTIVE if enabled else RegistrationStatus.DISABLED
    audit.record(
        "lti.platform_enabled" if enabled else "lti.platform_disabled",
        tenant=record.tenant_id,
        target_type="lti_registration",
        target_id=record.id,
    )


def get(registration_id: int) -> Registration:
    record = db.session.get(Registration, registration_id)
    if record is None:
        raise NotFound(f"No LMS registration {registration_id}.")
    return record


def all_registrations(tenant: Tenant | None = None) -> list[Registration]:
    stmt = select(Registration).order_by(Registration.status.desc(), Registration.issuer)
    if tenant is not None:
        stmt = stmt.where(Registration.tenant_id == tenant.id)
    return list(db.session.scalars(stmt))


_KNOWN_PRODUCTS = {
    "instructure.com": "Canvas",
    "blackboard.com": "Blackboard Learn",
    "brightspace.com": "D2L Brightspace",
    "desire2learn.com": "D2L Brightspace",
    "moodle": "Moodle",
    "edx.org": "Open edX",
}


def _default_name(issuer: str) -> str:
    host = urlsplit(issuer).netloc or issuer
    for marker, product in _KNOWN_PRODUCTS.items():
        if marker in host:
            return f"{product} ({host})"
    return host
