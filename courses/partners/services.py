"""Partner authors: invitations, accounts, who may work on which partner's courses.

Like :mod:`courses.services`, nothing here reads the request or commits: views and the
CLI call these functions and commit once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from zxcvbn import zxcvbn

from courses.models import Asset, Course, CourseVersion, Partner
from courses.partners.models import PartnerInvitation, PartnerMember
from courses.validation import reserved_partner_slug
from lms_core import audit, auth, signals
from lms_core.cli import SLUG_RE
from lms_core.db import utcnow
from lms_core.errors import Conflict, InvalidInput, NotFound, Problem
from lms_core.extensions import db
from lms_core.models import Role, User

#: How long an invitation link works, unless the operator says otherwise.
DEFAULT_INVITATION_HOURS = 72
MAX_INVITATION_HOURS = 24 * 30
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
#: zxcvbn's score (0-4) a password needs: 3 is "safely unguessable" for online attacks.
MIN_PASSWORD_SCORE = 3

DEMO_AUTHOR_EMAIL = "author@northbridge.example.edu"
DEMO_AUTHOR_PASSWORD = "demo-author-Northbridge-2026"  # noqa: S105 - demo mode only
DEMO_PARTNER = "northbridge-nursing"
DEMO_PARTNER_NAME = "Northbridge University School of Nursing (demo)"


# -- who may do what --------------------------------------------------------------------


def memberships(user: User) -> list[Partner]:
    """The partners ``user`` writes for, by name."""
    return list(
        db.session.scalars(
            select(Partner)
            .join(PartnerMember, PartnerMember.partner_id == Partner.id)
            .where(PartnerMember.user_id == user.id)
            .order_by(Partner.name)
        )
    )


def partner_for(user: User, slug: str) -> Partner:
    """The partner named ``slug`` if ``user`` is one of its authors; "not found" otherwise,
    so another partner's name, courses and statistics are not even confirmed to exist."""
    partner = db.session.scalar(
        select(Partner)
        .join(PartnerMember, PartnerMember.partner_id == Partner.id)
        .where(Partner.slug == slug, PartnerMember.user_id == user.id)
    )
    if partner is None:
        raise NotFound("You are not an author for this partner, or it does not exist.")
    return partner


def partner_course(partner: Partner, slug: str) -> Course:
    course = db.session.scalar(
        select(Course).where(Course.slug == slug, Course.partner_id == partner.id)
    )
    if course is None:
        raise NotFound(f"{partner.name} has no course {slug!r}.")
    return course


def course_version(course: Course, version: str) -> CourseVersion:
    """Any version of the course, drafts included (authors see their drafts)."""
    found = db.session.scalar(
        select(CourseVersion).where(
            CourseVersion.course_id == course.id, CourseVersion.version == version
        )
    )
    if found is None:
        raise NotFound(f"{course.slug} has no version {version!r}.")
    return found


def version_asset(version: CourseVersion, path: str) -> Asset:
    """An image or media file of any version (drafts included), for its preview."""
    asset = db.session.scalar(
        select(Asset).where(Asset.version_id == version.id, Asset.path == path)
    )
    if asset is None:
        raise NotFound(f"No file {path} in {version.slug} {version.version}.")
    return asset


@dataclass(frozen=True)
class CourseSummary:
    course: Course
    latest: CourseVersion  # the newest version, draft or not
    published: CourseVersion | None  # what learners get
    drafts: int


def partner_courses(partner: Partner) -> list[CourseSummary]:
    courses = db.session.scalars(
        select(Course).where(Course.partner_id == partner.id).order_by(Course.slug)
    ).all()
    versions = db.session.scalars(
        select(CourseVersion)
        .where(CourseVersion.course_id.in_([c.id for c in courses]))
        .order_by(CourseVersion.sequence)
    ).all()
    summaries = []
    for course in courses:
        own = [v for v in versions if v.course_id == course.id]
        if not own:
            continue
        published = [v for v in own if v.is_published]
        summaries.append(
            CourseSummary(
                course=course,
                latest=own[-1],
                published=published[-1] if published else None,
                drafts=len(own) - len(published),
            )
        )
    return sorted(summaries, key=lambda s: s.latest.title.lower())


def versions_of(course: Course) -> list[CourseVersion]:
    """Newest first."""
    return list(
        db.session.scalars(
            select(CourseVersion)
            .where(CourseVersion.course_id == course.id)
            .order_by(CourseVersion.sequence.desc())
        )
    )


# -- partners and invitations (operators) -----------------------------------------------


def add_partner(slug: str, name: str) -> Partner:
    if not SLUG_RE.match(slug):
        raise InvalidInput(
            f"{slug!r} is not a valid partner slug: use lower-case letters, digits and hyphens "
            "(e.g. northbridge-nursing)."
        )
    if reserved := reserved_partner_slug(slug):
        raise InvalidInput(f"{reserved}: choose another, e.g. the university's name.")
    if not name.strip():
        raise InvalidInput("The partner needs a name, as learners will read it.")
    if db.session.scalar(select(Partner.id).where(Partner.slug == slug)) is not None:
        raise Conflict(f"A partner {slug!r} already exists.")
    partner = Partner(slug=slug, name=name.strip(), settings={})
    db.session.add(partner)
    db.session.flush()
    audit.record("partner.added", target_type="partner", target_id=partner.id, slug=slug)
    return partner


def get_partner(slug: str) -> Partner:
    partner = db.session.scalar(select(Partner).where(Partner.slug == slug))
    if partner is None:
        known = ", ".join(db.session.scalars(select(Partner.slug).order_by(Partner.slug)))
        raise NotFound(
            f"No partner {slug!r}. Known partners: {known or 'none'}. Add one with "
            "`shiftwell partners add SLUG --name NAME`."
        )
    return partner


@dataclass(frozen=True)
class PartnerOverview:
    partner: Partner
    courses: int
    authors: list[User]
    pending: list[PartnerInvitation]


def partner_overviews() -> list[PartnerOverview]:
    """Every partner with its authors and pending invitations, for operators."""
    partners = db.session.scalars(select(Partner).order_by(Partner.name)).all()
    course_counts = dict(
        db.session.execute(
            select(Course.partner_id, func.count()).group_by(Course.partner_id)
        ).all()
    )
    members = db.session.scalars(select(PartnerMember)).all()
    invitations = db.session.scalars(
        select(PartnerInvitation)
        .where(PartnerInvitation.accepted_at.is_(None), PartnerInvitation.revoked_at.is_(None))
        .order_by(PartnerInvitation.created_at)
    ).all()
    return [
        PartnerOverview(
            partner=partner,
            courses=course_counts.get(partner.id, 0),
            authors=sorted(
                (m.user for m in members if m.partner_id == partner.id),
                key=lambda u: u.email or "",
            ),
            pending=[i for i in invitations if i.partner_id == partner.id and i.pending],
        )
        for partner in partners
    ]


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: PartnerInvitation
    token: str  # shown once; only its hash is stored

    @property
    def path(self) -> str:
        return f"/partner/invitations/{self.token}"

    def url(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.path


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or " " in email:
        raise InvalidInput(f"{email!r} is not an e-mail address.")
    return email


def invite(
    partner: Partner,
    email: str,
    *,
    hours: int = DEFAULT_INVITATION_HOURS,
    invited_by: User | None = None,
) -> IssuedInvitation:
    """A one-time link for ``email`` to become an author of ``partner``.

    A newer invitation to the same address for the same partner replaces older ones.
    """
    email = normalise_email(email)
    if not 1 <= hours <= MAX_INVITATION_HOURS:
        raise InvalidInput(
            f"An invitation lasts between 1 hour and {MAX_INVITATION_HOURS // 24} days; "
            f"{hours} hours is outside that."
        )
    member = db.session.scalar(
        select(PartnerMember)
        .join(User, PartnerMember.user_id == User.id)
        .where(PartnerMember.partner_id == partner.id, func.lower(User.email) == email)
    )
    if member is not None:
        raise Conflict(f"{email} is already an author for {partner.name}.")
    now = utcnow()
    for older in db.session.scalars(
        select(PartnerInvitation).where(
            PartnerInvitation.partner_id == partner.id,
            PartnerInvitation.email == email,
            PartnerInvitation.accepted_at.is_(None),
            PartnerInvitation.revoked_at.is_(None),
        )
    ):
        older.revoked_at = now
    token = secrets.token_urlsafe(32)
    invitation = PartnerInvitation(
        partner=partner,
        partner_id=partner.id,
        email=email,
        token_hash=_hash_token(token),
        invited_by_id=invited_by.id if invited_by else None,
        created_at=now,
        expires_at=now + dt.timedelta(hours=hours),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        "partner.author_invited",
        target_type="partner",
        target_id=partner.id,
        partner=partner.slug,
        email=email,
        invitation_id=invitation.id,
        expires_at=invitation.expires_at.isoformat(timespec="seconds"),
    )
    return IssuedInvitation(invitation, token)


def revoke_invitation(invitation_id: int) -> PartnerInvitation:
    invitation = db.session.get(PartnerInvitation, invitation_id)
    if invitation is None or not invitation.pending:
        raise NotFound("There is no pending invitation with that number.")
    invitation.revoked_at = utcnow()
    audit.record(
        "partner.invitation_revoked",
        target_type="partner",
        target_id=invitation.partner_id,
        partner=invitation.partner.slug,
        email=invitation.email,
        invitation_id=invitation.id,
    )
    return invitation


class InvitationUnusable(Exception):
    """The link was used already, revoked, replaced or has expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def find_invitation(token: str) -> PartnerInvitation:
    """The invitation behind a link; raises :class:`InvitationUnusable` or NotFound."""
    if not token or len(token) > 100:
        raise NotFound("This invitation link is not valid.")
    invitation = db.session.scalar(
        select(PartnerInvitation).where(PartnerInvitation.token_hash == _hash_token(token))
    )
    if invitation is None:
        raise NotFound("This invitation link is not valid. Check that you copied all of it.")
    if invitation.accepted_at is not None:
        raise InvitationUnusable(
            "This invitation has been used already. Log in with the password you chose then."
        )
    if invitation.revoked_at is not None:
        raise InvitationUnusable(
            "This invitation was withdrawn or replaced by a newer one. Use the newest link "
            "you were sent, or ask the Shiftwell operator for another."
        )
    if utcnow() >= invitation.expires_at:
        raise InvitationUnusable(
            "This invitation has expired. Ask the Shiftwell operator for a new one."
        )
    return invitation


def existing_account(email: str) -> User | None:
    # Any local account (one with a password: operators, authors, hospital administrators
    # of `users add-admin`): /login finds accounts by e-mail among these, so an address
    # must name one of them only.
    return db.session.scalar(
        select(User).where(func.lower(User.email) == email.lower(), User.password_hash.is_not(None))
    )


def password_problems(password: str, *, email: str, name: str = "") -> list[str]:
    """Why a password is too weak, in words an author can act on (empty when it is fine).

    NIST SP 800-63B §5.1.1.2: length over composition rules, and a check against common
    and guessable passwords (zxcvbn's dictionaries, the person's own e-mail and name).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"Use at least {MIN_PASSWORD_LENGTH} characters; a short sentence works well."]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"Use at most {MAX_PASSWORD_LENGTH} characters."]
    hints = [email, *email.split("@"), name, "shiftwell", "partner", "northbridge"]
    strength = zxcvbn(password[:100], user_inputs=[h for h in hints if h])
    if strength["score"] < MIN_PASSWORD_SCORE:
        feedback = strength.get("feedback") or {}
        detail = feedback.get("warning") or "It would be easy to guess."
        return [f"This password is too easy to guess. {detail}".strip()]
    return []


def accept_invitation(invitation: PartnerInvitation, *, name: str, password: str) -> User:
    """Create the author's account with their password and join the partner."""
    if existing_account(invitation.email) is not None:
        raise Conflict(
            f"There is already an account for {invitation.email}: log in, then open the "
            "invitation link again to join."
        )
    name = name.strip()
    if not name:
        raise InvalidInput("Enter your name.", [Problem("Enter your name.", "name")])
    problems = password_problems(password, email=invitation.email, name=name)
    if problems:
        raise InvalidInput(problems[0], [Problem(problems[0], "password")])
    user = User(email=invitation.email, name=name[:200], password_hash=auth.hash_password(password))
    user.grant(Role.PARTNER_AUTHOR)
    db.session.add(user)
    db.session.flush()
    _join(invitation, user)
    return user


def join_with_account(invitation: PartnerInvitation, user: User) -> None:
    """A logged-in author (of another partner) accepts an invitation sent to their address."""
    if (user.email or "").lower() != invitation.email:
        raise NotFound("This invitation was sent to another e-mail address.")
    user.grant(Role.PARTNER_AUTHOR)
    _join(invitation, user)


def _join(invitation: PartnerInvitation, user: User) -> None:
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    exists = db.session.scalar(
        select(PartnerMember.id).where(
            PartnerMember.partner_id == invitation.partner_id, PartnerMember.user_id == user.id
        )
    )
    if exists is None:
        db.session.add(PartnerMember(partner_id=invitation.partner_id, user_id=user.id))
    db.session.flush()
    audit.record(
        "partner.invitation_accepted",
        target_type="partner",
        target_id=invitation.partner_id,
        partner=invitation.partner.slug,
        email=invitation.email,
        invitation_id=invitation.id,
        actor=user.display_name,
    )


def remove_author(partner: Partner, email: str) -> None:
    email = normalise_email(email)
    member = db.session.scalar(
        select(PartnerMember)
        .join(User, PartnerMember.user_id == User.id)
        .where(PartnerMember.partner_id == partner.id, func.lower(User.email) == email)
    )
    if member is None:
        raise NotFound(f"{email} is not an author for {partner.name}.")
    db.session.delete(member)
    audit.record(
        "partner.author_removed",
        target_type="partner",
        target_id=partner.id,
        partner=partner.slug,
        email=email,
    )


def authors_of(partner: Partner) -> Sequence[User]:
    return db.session.scalars(
        select(User)
        .join(PartnerMember, PartnerMember.user_id == User.id)
        .where(PartnerMember.partner_id == partner.id)
        .order_by(User.email)
    ).all()


# -- demo -------------------------------------------------------------------------------


def load_demo_author(event: signals.DemoEvent) -> None:
    """A demo author for the demo partner, so the portal can be tried (demo mode only)."""
    if not current_app.config.get("DEMO"):
        return
    partner = db.session.scalar(select(Partner).where(Partner.slug == DEMO_PARTNER))
    if partner is None:
        # Signal receivers run in no set order: the example courses that name this
        # partner may be imported after us; they fill in its details then.
        partner = Partner(slug=DEMO_PARTNER, name=DEMO_PARTNER_NAME, settings={})
        db.session.add(partner)
        db.session.flush()
    user = existing_account(DEMO_AUTHOR_EMAIL)
    if user is None:
        user = User(
            email=DEMO_AUTHOR_EMAIL,
            name="Demo Author (Northbridge)",
            password_hash=auth.hash_password(DEMO_AUTHOR_PASSWORD),
        )
        db.session.add(user)
    user.grant(Role.PARTNER_AUTHOR)
    db.session.flush()
    if (
        db.session.scalar(
            select(PartnerMember.id).where(
                PartnerMember.partner_id == partner.id, PartnerMember.user_id == user.id
            )
        )
        is None
    ):
        db.session.add(PartnerMember(partner_id=partner.id, user_id=user.id))
    base = event.base_url.rstrip("/")
    event.messages.append(
        f"Partner portal: log in at {base}/login as {DEMO_AUTHOR_EMAIL} with the demo "
        f"password {DEMO_AUTHOR_PASSWORD} to upload, preview and publish Northbridge's courses."
    )
