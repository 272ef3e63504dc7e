"""What other packages (reports, portals) may read about LMS courses, links and rosters.

Plain frozen dataclasses, no ORM objects; every function is scoped to one tenant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from lms_core.extensions import db
from lti import roster
from lti.models import Context, Launch, Membership, ResourceLink


@dataclass(frozen=True)
class LmsContext:
    """An LMS course shell Shiftwell was launched from."""

    id: int  # Shiftwell's id; pass it to the other functions
    context_id: str  # the LMS's id
    title: str
    label: str | None
    issuer: str
    roster_synced_at: dt.datetime | None  # None: the roster was never read (NRPS)


@dataclass(frozen=True)
class LmsMember:
    """A person on an LMS course's roster. ``user_id`` is None until they first launch
    Shiftwell: that is who has not started."""

    subject: str
    user_id: int | None
    name: str
    email: str | None
    roles: tuple[str, ...]
    status: str  # Active | Inactive | Deleted
    is_learner: bool


@dataclass(frozen=True)
class LmsResourceLink:
    id: int
    context_id: int | None  # LmsContext.id
    resource_link_id: str
    title: str | None
    course_slug: str | None
    has_gradebook_column: bool


def _context(row: Context) -> LmsContext:
    return LmsContext(
        id=row.id,
        context_id=row.context_id,
        title=row.display_title,
        label=row.label,
        issuer=row.deployment.registration.issuer,
        roster_synced_at=row.roster_synced_at,
    )


def contexts(tenant_id: int) -> list[LmsContext]:
    """A tenant's LMS course shells, most recently used first."""
    rows = db.session.scalars(Context.for_tenant(tenant_id).order_by(Context.updated_at.desc()))
    return [_context(row) for row in rows]


def get_context(tenant_id: int, context_pk: int) -> LmsContext | None:
    row = db.session.scalar(Context.for_tenant(tenant_id).where(Context.id == context_pk))
    return _context(row) if row else None


def members(tenant_id: int, context_pk: int) -> list[LmsMember]:
    """The stored roster of one LMS course (after a sync), learners and staff."""
    rows = db.session.scalars(
        Membership.for_tenant(tenant_id)
        .where(Membership.context_pk == context_pk)
        .order_by(Membership.family_name, Membership.name, Membership.subject)
    )
    return [
        LmsMember(
            subject=m.subject,
            user_id=m.user_id,
            name=m.display_name,
            email=m.email,
            roles=tuple(m.roles or ()),
            status=m.status,
            is_learner=roster.is_learner(m.roles or []),
        )
        for m in rows
    ]


def resource_links(tenant_id: int, context_pk: int | None = None) -> list[LmsResourceLink]:
    """Shiftwell links placed in a tenant's LMS courses (optionally one course's)."""
    stmt = ResourceLink.for_tenant(tenant_id).order_by(ResourceLink.id)
    if context_pk is not None:
        stmt = stmt.where(ResourceLink.context_pk == context_pk)
    return [
        LmsResourceLink(
            id=link.id,
            context_id=link.context_pk,
            resource_link_id=link.resource_link_id,
            title=link.title,
            course_slug=link.course_slug,
            has_gradebook_column=bool(link.lineitem_url or link.lineitems_url),
        )
        for link in db.session.scalars(stmt)
    ]


def launched_user_ids(tenant_id: int, context_pk: int) -> set[int]:
    """Users who launched Shiftwell from this LMS course at least once."""
    return set(
        db.session.scalars(
            select(Launch.user_id).where(
                Launch.tenant_id == tenant_id, Launch.context_pk == context_pk
            )
        )
    )
