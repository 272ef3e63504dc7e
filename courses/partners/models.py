"""Partner authors' tables: who writes for which partner, invitations, preview state.

Tables carry the ``courses_`` prefix: the partner portal is part of the courses plugin
and its Alembic branch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courses.models import CourseVersion, Partner
from lms_core.db import JSONType, UTCDateTime, utcnow
from lms_core.extensions import db
from lms_core.models import User


class PartnerMember(db.Model):
    """A local account that may upload, preview, publish and see statistics for a partner."""

    __tablename__ = "courses_partner_member"
    __table_args__ = (
        UniqueConstraint("partner_id", "user_id", name="uq_courses_partner_member_partner_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("courses_partner.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")


class PartnerInvitation(db.Model):
    """An operator's one-time, expiring invitation for an author to join a partner.

    Only the SHA-256 of the token is stored: the link is shown once, to the operator who
    hands it on, and a copy of the database lets nobody in.
    """

    __tablename__ = "courses_partner_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("courses_partner.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    #: Revoked by an operator, or replaced by a newer invitation for the same address.
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    partner: Mapped[Partner] = relationship(lazy="joined")

    @property
    def pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and utcnow() < self.expires_at


class PreviewState(db.Model):
    """Where an author is in the preview of a version, and what they answered there.

    Kept apart from attempts on purpose: a preview is not a learner's attempt, sends no
    event and appears in no report or statistic.
    """

    __tablename__ = "courses_preview_state"
    __table_args__ = (
        UniqueConstraint("user_id", "version_id", name="uq_courses_preview_state_user_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course_version.id", ondelete="CASCADE"), index=True
    )
    #: step key → {"response": ..., "completed": bool, "score": float | None, "success": ...}
    responses: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    current_position: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[CourseVersion] = relationship(lazy="joined")
