"""Courses' tables.

Course content (partners, courses, versions, lessons, steps, assets) is global: a partner
publishes once for every hospital. What people do (attempts, step responses) and what a
hospital decides (hiding a course) is tenant-scoped.

A :class:`CourseVersion` and everything under it is immutable once imported: learners in
progress keep the version they started, and a certificate names a version whose content
can be shown again years later. :func:`_refuse_changes` enforces that at flush time.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from lms_core.db import JSONType, UTCDateTime, utcnow
from lms_core.extensions import db
from lms_core.models import TenantScoped


class Partner(db.Model):
    """A university (or other body) that publishes courses and may accredit them."""

    __tablename__ = "courses_partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Documented in docs/course-packages.md: accreditation providers per credit type,
    #: logo, certificate template override, contact.
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_media_type: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Course(db.Model):
    """A course across its versions: what a learner, a catalog and a certificate name."""

    __tablename__ = "courses_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("courses_partner.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship(lazy="joined")
    versions: Mapped[list[CourseVersion]] = relationship(
        back_populates="course", order_by="CourseVersion.sequence"
    )


class CourseVersion(db.Model):
    """One imported package: immutable, identified by its semantic version and content hash."""

    __tablename__ = "courses_course_version"
    __table_args__ = (
        UniqueConstraint("course_id", "version", name="uq_courses_course_version_version"),
        UniqueConstraint("course_id", "content_hash", name="uq_courses_course_version_hash"),
        UniqueConstraint("course_id", "sequence", name="uq_courses_course_version_sequence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
    #: 1 for the first import, then 2, 3...: the latest version is the highest.
    sequence: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(64))
    #: sha256 over every file's path and bytes: identical packages are one version.
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(35))
    estimated_minutes: Mapped[int] = mapped_column(Integer)
    credit_type: Mapped[str] = mapped_column(String(40), default="none")
    credit_amount: Mapped[float] = mapped_column(Float, default=0.0)
    pass_score: Mapped[float] = mapped_column(Float)
    #: How many attempts a learner may make; None for no limit.
    max_attempts: Mapped[int | None] = mapped_column(Integer)
    objectives: Mapped[list[str]] = mapped_column(JSONType, default=list)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    licence: Mapped[str | None] = mapped_column(String(200))
    accreditation_statement: Mapped[str | None] = mapped_column(Text)
    #: course.yaml as parsed, for reference and export.
    manifest: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it reached learners; None for a draft a partner uploaded and has not published
    #: yet. Catalogs, launches and ``courses.api`` see published versions only.
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship(back_populates="versions", lazy="joined")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="version", order_by="Lesson.position", cascade="all, delete-orphan"
    )
    steps: Mapped[list[Step]] = relationship(
        back_populates="version", order_by="Step.position", cascade="all, delete-orphan"
    )

    @property
    def slug(self) -> str:
        return self.course.slug

    @property
    def has_credit(self) -> bool:
        return self.credit_type != "none" and self.credit_amount > 0

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Lesson(db.Model):
    """A 3 to 5 minute piece of a course: one Markdown file of the package."""

    __tablename__ = "courses_lesson"
    __table_args__ = (UniqueConstraint("version_id", "key", name="uq_courses_lesson_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course_version.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    estimated_minutes: Mapped[int] = mapped_column(Integer)
    source_path: Mapped[str] = mapped_column(String(255))

    version: Mapped[CourseVersion] = relationship(back_populates="lessons")
    steps: Mapped[list[Step]] = relationship(back_populates="lesson", order_by="Step.position")


class Step(db.Model):
    """One screen of the player. ``type`` names a step-type plugin; ``config`` is its data."""

    __tablename__ = "courses_step"
    __table_args__ = (
        UniqueConstraint("version_id", "key", name="uq_courses_step_key"),
        UniqueConstraint("version_id", "position", name="uq_courses_step_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course_version.id", ondelete="CASCADE"), index=True
    )
    lesson_id: Mapped[int] = mapped_column(ForeignKey("courses_lesson.id", ondelete="CASCADE"))
    #: 1-based across the whole course version.
    position: Mapped[int] = mapped_column(Integer)
    #: Stable within the version: "<lesson key>/<step key>", e.g. "breathing/check".
    key: Mapped[str] = mapped_column(String(130))
    type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(default=True)
    #: The highest score this step can give (0 for unscored steps).
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    version: Mapped[CourseVersion] = relationship(back_populates="steps")
    lesson: Mapped[Lesson] = relationship(back_populates="steps", lazy="joined")


class Asset(db.Model):
    """An image, video, audio or caption file of a course version, served to learners."""

    __tablename__ = "courses_asset"
    __table_args__ = (UniqueConstraint("version_id", "path", name="uq_courses_asset_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course_version.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    version: Mapped[CourseVersion] = relationship()


class HiddenCourse(TenantScoped, db.Model):
    """A hospital decided its clinicians should not see this course in their catalog."""

    __tablename__ = "courses_hidden_course"
    __table_args__ = (
        UniqueConstraint("tenant_id", "course_id", name="uq_courses_hidden_course_tenant_course"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LmsContext(TenantScoped, db.Model):
    """An LMS course shell (LTI context: often a hospital unit) attempts were started from.

    Courses learns of it from ``launch_completed`` and keeps just enough to group its own
    reports by unit; the LMS roster and links are lti's (``lti.api``).
    """

    __tablename__ = "courses_lms_context"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "issuer",
            "deployment_id",
            "context_id",
            name="uq_courses_lms_context_lms_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def display_title(self) -> str:
        return self.title or f"LMS course {self.context_id}"


class AttemptStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


def _new_registration() -> str:
    return str(uuid.uuid4())


class Attempt(TenantScoped, db.Model):
    """One learner's go at one course version, from start to completion."""

    __tablename__ = "courses_attempt"
    __table_args__ = (
        Index("ix_courses_attempt_learner_course", "tenant_id", "user_id", "course_id"),
        # Reports: who completed in a period, read from the index alone on PostgreSQL.
        Index(
            "ix_courses_attempt_tenant_completed",
            "tenant_id",
            "completed_at",
            postgresql_include=["user_id", "passed", "version_id"],
        ),
        # One open attempt per learner and course: two taps on Start at once (two tabs, a
        # slow connection) must not open two, which would split the learner's answers.
        Index(
            "ux_courses_attempt_open",
            "tenant_id",
            "user_id",
            "course_id",
            unique=True,
            postgresql_where=text("status = 'in_progress'"),
            sqlite_where=text("status = 'in_progress'"),
        ),
        # Reports: attempts in progress now (a small share of all attempts).
        Index(
            "ix_courses_attempt_in_progress",
            "tenant_id",
            "course_id",
            postgresql_where=text("status = 'in_progress'"),
            sqlite_where=text("status = 'in_progress'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses_course.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course_version.id", ondelete="CASCADE"), index=True
    )
    #: xAPI context.registration: one UUID for the whole attempt, across sessions.
    registration: Mapped[str] = mapped_column(String(36), unique=True, default=_new_registration)
    number: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[AttemptStatus] = mapped_column(
        Enum(
            AttemptStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=AttemptStatus.IN_PROGRESS,
    )
    #: The step the learner last had on screen: "Resume" returns exactly there.
    current_position: Mapped[int] = mapped_column(Integer, default=1)
    score_raw: Mapped[float | None] = mapped_column(Float)
    score_max: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column()
    #: Time spent on the course, not wall-clock time since the start: gaps longer than
    #: a few minutes (a patient called) are not counted.
    active_seconds: Mapped[int] = mapped_column(Integer, default=0)
    #: The session that last worked on it; a request from another one is a resume.
    session_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_active_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    suspended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The LMS course (unit) the learner launched from when the attempt started.
    lms_context_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses_lms_context.id", ondelete="SET NULL"), index=True
    )

    version: Mapped[CourseVersion] = relationship(lazy="joined")
    responses: Mapped[list[StepResponse]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan"
    )

    @property
    def is_complete(self) -> bool:
        return self.status == AttemptStatus.COMPLETED

    @property
    def score_scaled(self) -> float | None:
        if not self.score_max:
            return None
        return (self.score_raw or 0.0) / self.score_max


class StepResponse(TenantScoped, db.Model):
    """What a learner answered or did at one step of an attempt, saved the moment it is given.

    ``response`` of a private step (a reflection) is shown to that learner only: it never
    goes into an event, a report or an export.
    """

    __tablename__ = "courses_step_response"
    __table_args__ = (
        UniqueConstraint("attempt_id", "step_id", name="uq_courses_step_response_attempt_step"),
        # Reports: a hospital's answers in a period (the private aggregates).
        Index("ix_courses_step_response_tenant_updated", "tenant_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("courses_attempt.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[int] = mapped_column(ForeignKey("courses_step.id", ondelete="CASCADE"))
    response: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    completed: Mapped[bool] = mapped_column(default=False)
    score: Mapped[float | None] = mapped_column(Float)
    success: Mapped[bool | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    attempt: Mapped[Attempt] = relationship(back_populates="responses")
    step: Mapped[Step] = relationship(lazy="joined")


class ImmutableVersionError(RuntimeError):
    """Code tried to change an imported course version; import a new version instead."""


IMMUTABLE = (CourseVersion, Lesson, Step, Asset)
#: Publication state, not content: a draft becomes published once, its content unchanged.
MUTABLE_ATTRIBUTES = frozenset({"published_at"})


def _changed_content(obj: Any) -> bool:
    """Like ``session.is_modified(obj, include_collections=False)``, but publication aside."""
    state = sa_inspect(obj)
    relationships = state.mapper.relationships
    return any(
        attr.history.has_changes()
        for attr in state.attrs
        if attr.key not in MUTABLE_ATTRIBUTES
        and not (attr.key in relationships and relationships[attr.key].uselist)
    )


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, IMMUTABLE) and _changed_content(obj):
            raise ImmutableVersionError(
                f"{type(obj).__name__} {obj.id} belongs to an imported course version, which "
                "never changes; import the changed package as a new version"
            )
