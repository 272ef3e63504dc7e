"""Course rosters from the LMS (LTI Names and Role Provisioning Services 2.0), so the
education department can see who on a course has not started yet."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.names_roles import NamesRolesProvisioningService
from sqlalchemy import select

from lms_core import audit, outbox
from lms_core.db import utcnow
from lms_core.errors import InvalidInput
from lms_core.extensions import db
from lms_core.models import User
from lti import assignments
from lti.errors import PlatformUnavailable
from lti.models import Context, Membership
from lti.tool import service_connector

log = logging.getLogger(__name__)

TOPIC = "lti.roster"
STATUSES = ("Active", "Inactive", "Deleted")


@dataclass(frozen=True)
class SyncResult:
    context_id: int
    members: int
    added: int
    removed: int


def request_sync(context: Context) -> None:
    """Queue a roster sync (runs after commit; retried if the LMS is away)."""
    _require_service(context)
    outbox.enqueue(
        TOPIC,
        {"context_pk": context.id},
        key=f"{TOPIC}:{context.id}:{uuid.uuid4()}",
        tenant=context.tenant_id,
    )


def _require_service(context: Context) -> None:
    if not context.memberships_url:
        raise InvalidInput(
            f"The LMS did not offer its roster service (NRPS) for {context.display_title}. "
            "Enable 'Names and Role Provisioning' for Shiftwell in the LMS, then open "
            "Shiftwell from that course once."
        )


def handle_sync(message: Any) -> None:
    """Outbox handler."""
    context = db.session.get(Context, message.payload["context_pk"])
    if context is None or not context.memberships_url:
        return
    sync_roster(context)


def sync_roster(context: Context) -> SyncResult:
    """Replace the stored roster of ``context`` with the LMS's; the caller commits."""
    _require_service(context)
    record = context.deployment.registration
    context_pk, tenant_id, url = context.id, context.tenant_id, context.memberships_url
    issuer = record.issuer
    connector = service_connector(record)
    db.session.commit()  # hold no database lock while the LMS is called
    try:
        members = NamesRolesProvisioningService(
            connector, {"context_memberships_url": url}
        ).get_members()
    except LtiServiceException as exc:
        if exc.response.status_code == 401:
            connector.forget_tokens(
                ["https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"]
            )
        raise PlatformUnavailable(
            f"the roster service answered HTTP {exc.response.status_code}"
        ) from exc
    except (LtiException, requests.RequestException, ValueError) as exc:
        raise PlatformUnavailable(f"the roster could not be read ({type(exc).__name__})") from exc

    existing = {
        m.subject: m
        for m in db.session.scalars(select(Membership).where(Membership.context_pk == context_pk))
    }
    users = {
        u.subject: u.id
        for u in db.session.scalars(
            select(User).where(User.tenant_id == tenant_id, User.issuer == issuer)
        )
        if u.subject
    }
    now = utcnow()
    seen: set[str] = set()
    added = 0
    for member in members:
        subject = member.get("user_id")
        if not isinstance(subject, str) or not subject or subject in seen:
            continue
        seen.add(subject)
        row = existing.get(subject)
        if row is None:
            row = Membership(tenant_id=tenant_id, context_pk=context_pk, subject=subject[:255])
            db.session.add(row)
            added += 1
        row.user_id = users.get(subject)
        row.name = _text(member.get("name"), 200)
        row.given_name = _text(member.get("given_name"), 100)
        row.family_name = _text(member.get("family_name"), 100)
        row.email = _text(member.get("email"), 254)
        roles = member.get("roles")
        row.roles = [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else []
        row.is_learner = is_learner(row.roles)
        status = member.get("status")
        row.status = status if status in STATUSES else "Active"
        row.synced_at = now
    removed = 0
    for subject, row in existing.items():
        if subject not in seen:  # no longer on the LMS roster
            db.session.delete(row)
            removed += 1
    context = db.session.get(Context, context_pk)
    assert context is not None
    context.roster_synced_at = now
    db.session.flush()
    assignments.refresh_passes(context)
    audit.record(
        "lti.roster_synced",
        tenant=tenant_id,
        target_type="lti_context",
        target_id=context_pk,
        members=len(seen),
        added=added,
        removed=removed,
    )
    log.info("lti: roster of context %s synced: %s members", context_pk, len(seen))
    return SyncResult(context_pk, len(seen), added, removed)


def _text(value: Any, limit: int) -> str | None:
    return value.strip()[:limit] if isinstance(value, str) and value.strip() else None


def is_learner(roles: list[str]) -> bool:
    """A Learner membership role, in the full or the deprecated short form (LTI 1.3 §A.2)."""
    return any(r.endswith("#Learner") or r == "Learner" for r in roles)
