"""The audit log of administrative actions (who hid a course, revoked a certificate, ...)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_login import current_user

from lms_core.extensions import db
from lms_core.models import AuditLog, Tenant


def record(
    action: str,
    *,
    tenant: Tenant | int | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    actor: str | None = None,
    **details: Any,
) -> AuditLog:
    """Add an audit entry to the current transaction; it commits with the action itself.

    The actor is the logged-in user in a request and ``actor`` (default "cli") elsewhere.
    Never pass secrets or tokens in ``details``: the log is shown to operators.
    """
    actor_id = None
    label = actor or "cli"
    if has_request_context() and current_user.is_authenticated:
        actor_id = current_user.id
        label = actor or current_user.display_name
    entry = AuditLog(
        tenant_id=tenant if isinstance(tenant, int) or tenant is None else tenant.id,
        actor_id=actor_id,
        actor_label=label,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details,
    )
    db.session.add(entry)
    return entry
