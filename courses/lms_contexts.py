"""Which LMS course (unit) a learner came from, so reports can group attempts by it.

The launch tells courses the LTI context (``launch_completed``); courses keeps its own
small row for it and remembers it in the learner's session, and an attempt started in
that session records it. Courses never reads lti's tables: this is all it needs.
"""

from __future__ import annotations

from flask import has_request_context, session
from sqlalchemy import select

from courses.models import LmsContext
from lms_core import signals
from lms_core.db import utcnow
from lms_core.extensions import db

#: Session key: (tenant id, LmsContext id) of the launch that started this session.
SESSION_KEY = "courses.lms_context"


def record_launch(event: signals.LaunchEvent) -> LmsContext | None:
    """Find or add the launch's LMS course; remember it for this session's attempts."""
    if has_request_context():
        session.pop(SESSION_KEY, None)
    if not event.context_id:
        return None
    tenant_id = event.learner.tenant_id
    row = db.session.scalar(
        select(LmsContext).where(
            LmsContext.tenant_id == tenant_id,
            LmsContext.issuer == event.issuer,
            LmsContext.deployment_id == event.deployment_id,
            LmsContext.context_id == event.context_id,
        )
    )
    if row is None:
        row = LmsContext(
            tenant_id=tenant_id,
            issuer=event.issuer,
            deployment_id=event.deployment_id,
            context_id=event.context_id,
        )
        db.session.add(row)
    if event.context_title and row.title != event.context_title:
        row.title = event.context_title
        row.updated_at = utcnow()
    db.session.flush()
    if has_request_context():
        session[SESSION_KEY] = [tenant_id, row.id]
    return row


def session_context_id(tenant_id: int) -> int | None:
    """The LMS course of this session's launch, if it was in ``tenant_id``."""
    value = session.get(SESSION_KEY)
    if isinstance(value, list) and len(value) == 2 and value[0] == tenant_id:
        return int(value[1])
    return None
