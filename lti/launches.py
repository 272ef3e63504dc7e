"""What a validated launch does: find or make the user, map roles, remember the LMS course
shell and link, pick the course to open, log the user in and tell the other packages."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app, session, url_for
from sqlalchemy import select, update

from lms_core import auth, signals
from lms_core.db import utcnow
from lms_core.errors import Forbidden
from lms_core.extensions import db
from lms_core.models import Role, User
from lti import catalog
from lti.models import Context, Deployment, Launch, Membership, Registration, ResourceLink
from lti.tool import (
    AGS_ENDPOINT,
    CONTEXT,
    CUSTOM,
    DEEP_LINKING_REQUEST,
    DEPLOYMENT_ID,
    MESSAGE_TYPE,
    NRPS,
    RESOURCE_LINK,
    ROLES,
)

log = logging.getLogger(__name__)

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
#: Session key listing the Deep Linking launches this browser may answer.
DEEP_LINK_SESSION_KEY = "lti_deep_links"

# LTI 1.3 §A.2: context (membership) roles decide learner or instructor; administrators
# are recognised in every vocabulary. Institution roles such as Instructor are not
# enough alone: Canvas sends them for people who take a course as a student.
_MEMBERSHIP_ROLES = {
    "Learner": Role.LEARNER,
    "Instructor": Role.INSTRUCTOR,
    "ContentDeveloper": Role.INSTRUCTOR,
    "TeachingAssistant": Role.INSTRUCTOR,
    "Administrator": Role.ADMINISTRATOR,
}
_ADMINISTRATOR_NAMES = {"Administrator", "SysAdmin"}


def map_roles(lti_roles: list[str]) -> set[Role]:
    """Shiftwell roles for the LTI role URIs of a launch; learner when nothing matches
    (LTI 1.3 allows an empty roles claim, e.g. for guests)."""
    roles: set[Role] = set()
    for uri in lti_roles:
        vocabulary, _, name = uri.partition("#")
        if not name:  # the deprecated short form: "Instructor" (LTI 1.3 §A.2.3.1)
            vocabulary, name = LIS + "membership", uri
        if vocabulary.startswith(LIS + "membership"):
            # Sub-roles name their principal role in the path: membership/Instructor#TA.
            principal = vocabulary.rsplit("/", 1)[-1] if "/membership/" in vocabulary else name
            role = _MEMBERSHIP_ROLES.get(name) or _MEMBERSHIP_ROLES.get(principal)
            if role:
                roles.add(role)
        elif (
            vocabulary in (LIS + "institution/person", LIS + "system/person")
            and name in _ADMINISTRATOR_NAMES
        ):
            roles.add(Role.ADMINISTRATOR)
    return roles or {Role.LEARNER}


@dataclass(frozen=True)
class LaunchResult:
    user_id: int
    tenant_id: int
    redirect_to: str
    course_slug: str | None
    notice: str | None = None


def complete_launch(
    claims: dict[str, Any], record: Registration, deployment: Deployment, launch_id: str
) -> LaunchResult:
    """Everything a verified launch changes, in the request's transaction; the caller
    commits. Logs the user in (a fresh session) and sends ``launch_completed``."""
    tenant_id = deployment.tenant_id or record.tenant_id
    assert tenant_id is not None
    now = utcnow()
    lti_roles = list(claims.get(ROLES) or [])
    user = _user(tenant_id, record.issuer, claims)
    user.set_lms_roles(map_roles(lti_roles))
    context = _context(tenant_id, deployment, claims)
    link = _resource_link(tenant_id, deployment, context, claims)
    message_type = claims[MESSAGE_TYPE]

    notice = None
    if message_type == DEEP_LINKING_REQUEST:
        slug = None
        redirect_to = url_for("lti.deep_linking", launch_id=launch_id)
    else:
        slug, redirect_to, notice = _target(claims, link)

    db.session.flush()
    _link_roster_entries(user, deployment)
    sid = auth.start_session(user, kind="lti")
    if message_type == DEEP_LINKING_REQUEST:
        session[DEEP_LINK_SESSION_KEY] = [launch_id]
    db.session.add(
        Launch(
            tenant_id=tenant_id,
            user_id=user.id,
            deployment_pk=deployment.id,
            context_pk=context.id if context else None,
            resource_link_pk=link.id if link else None,
            message_type=message_type,
            course_slug=slug,
            session_id=sid,
            roles=lti_roles,
            created_at=now,
        )
    )
    signals.launch_completed.send(
        current_app._get_current_object(),
        event=signals.LaunchEvent(
            learner=signals.LearnerContext(
                tenant_id=tenant_id, user_id=user.id, occurred_at=now, session_id=sid
            ),
            issuer=record.issuer,
            deployment_id=claims[DEPLOYMENT_ID],
            roles=frozenset(lti_roles),
            context_id=context.context_id if context else None,
            context_title=context.title if context else None,
            resource_link_id=link.resource_link_id if link else None,
            course_slug=slug,
        ),
    )
    log.info(
        "lti: launch %s by user %s of tenant %s from %s into %s",
        message_type,
        user.id,
        tenant_id,
        record.issuer,
        slug or redirect_to,
    )
    return LaunchResult(user.id, tenant_id, redirect_to, slug, notice)


def _link_roster_entries(user: User, deployment: Deployment) -> None:
    """Roster entries (NRPS) of this person read before their first launch now name their
    account: from now on they count as having opened Shiftwell."""
    contexts = select(Context.id).where(Context.deployment_pk == deployment.id)
    db.session.execute(
        update(Membership)
        .where(
            Membership.tenant_id == user.tenant_id,
            Membership.subject == user.subject,
            Membership.user_id.is_(None),
            Membership.context_pk.in_(contexts),
        )
        .values(user_id=user.id)
        .execution_options(synchronize_session=False)
    )


def _text(value: Any, limit: int) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:limit]
    return None


def _user(tenant_id: int, issuer: str, claims: dict[str, Any]) -> User:
    subject = claims["sub"]
    user = db.session.scalar(
        select(User).where(
            User.tenant_id == tenant_id, User.issuer == issuer, User.subject == subject
        )
    )
    if user is None:
        user = User(tenant_id=tenant_id, issuer=issuer, subject=subject)
        db.session.add(user)
    elif not user.active:
        raise Forbidden(
            "Your Shiftwell account has been deactivated. Ask your education department."
        )
    # Names and e-mail are optional claims (LTI 1.3 §5.3.6): keep what we had when the
    # LMS sends none, update when it does.
    for attr, limit in (
        ("name", 200),
        ("given_name", 100),
        ("family_name", 100),
        ("email", 254),
        ("locale", 35),
    ):
        value = _text(claims.get(attr), limit)
        if value:
            setattr(user, attr, value)
    return user


def _context(tenant_id: int, deployment: Deployment, claims: dict[str, Any]) -> Context | None:
    claim = claims.get(CONTEXT) or {}
    context_id = _text(claim.get("id"), 255)
    if not context_id:
        return None
    context = db.session.scalar(
        select(Context).where(
            Context.deployment_pk == deployment.id, Context.context_id == context_id
        )
    )
    if context is None:
        context = Context(tenant_id=tenant_id, deployment_pk=deployment.id, context_id=context_id)
        db.session.add(context)
    context.title = _text(claim.get("title"), 255) or context.title
    context.label = _text(claim.get("label"), 255) or context.label
    types = claim.get("type")
    if isinstance(types, list):
        context.types = [t for t in types if isinstance(t, str)]
    nrps = claims.get(NRPS) or {}
    memberships_url = _text(nrps.get("context_memberships_url"), 2000)
    if memberships_url:
        context.memberships_url = memberships_url
    context.updated_at = utcnow()
    return context


def _resource_link(
    tenant_id: int, deployment: Deployment, context: Context | None, claims: dict[str, Any]
) -> ResourceLink | None:
    claim = claims.get(RESOURCE_LINK) or {}
    link_id = _text(claim.get("id"), 255)
    if not link_id:
        return None
    link = db.session.scalar(
        select(ResourceLink).where(
            ResourceLink.deployment_pk == deployment.id,
            ResourceLink.resource_link_id == link_id,
        )
    )
    if link is None:
        link = ResourceLink(
            tenant_id=tenant_id, deployment_pk=deployment.id, resource_link_id=link_id
        )
        db.session.add(link)
    if context is not None:
        link.context = context
    link.title = _text(claim.get("title"), 255) or link.title
    ags = claims.get(AGS_ENDPOINT)
    if isinstance(ags, dict):
        link.lineitem_url = _text(ags.get("lineitem"), 2000)
        link.lineitems_url = _text(ags.get("lineitems"), 2000)
        scopes = ags.get("scope")
        link.ags_scopes = (
            [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else []
        )
    link.updated_at = utcnow()
    return link


def _target(
    claims: dict[str, Any], link: ResourceLink | None
) -> tuple[str | None, str, str | None]:
    """(course slug, path to open, notice): custom ``course`` first, then the course the
    link was made for, else the catalog."""
    custom = claims.get(CUSTOM) or {}
    requested = _text(custom.get("course"), 100)
    # Canvas leaves unresolved substitution variables as "$Name": not a slug.
    if requested and requested.startswith("$"):
        requested = None
    if requested is None and link is not None:
        requested = link.course_slug
    if requested is None:
        return None, catalog.CATALOG_PATH, None
    course = catalog.get_course(requested)
    if course is None:
        log.warning("lti: launch asks for course %r, which is not in the catalog", requested)
        return (
            None,
            catalog.CATALOG_PATH,
            f"The course this link opens ({requested}) is not available any more; here is "
            "the catalog instead. Please tell your education department.",
        )
    if link is not None:
        link.course_slug = course.slug
    return course.slug, course.learner_path, None
