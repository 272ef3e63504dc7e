"""The LTI tool's tables: its keys, the LMSs registered with it, and what launches taught us.

Vocabulary (one name for one thing):

- a **registration** is one LMS (issuer) + the client id it gave Shiftwell; Canvas uses one
  issuer for every school, so an issuer may have many registrations;
- a **deployment** is one install of a registration in that LMS (``deployment_id``); a
  launch finds its tenant through it;
- a **context** is an LMS course shell; a **resource link** is one Shiftwell link placed
  in it; a **membership** is a person on a context's roster (NRPS);
- a **launch** is one successful LTI launch (who, from which link, which course, which
  session), which is how grades find their way back to the right gradebook column.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms_core.db import JSONType, UTCDateTime, utcnow
from lms_core.extensions import db
from lms_core.models import Tenant, TenantScoped


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class KeySlot(enum.StrEnum):
    CURRENT = "current"  # signs everything the tool sends
    NEXT = "next"  # published in the JWKS ahead of rotation, so platforms already know it


class ToolKey(db.Model):
    """An RSA key pair of the tool. ``/lti/jwks`` publishes the current and the next key.

    ``slot`` is unique, so two processes creating keys at once cannot both win; retired
    keys keep their row (slot NULL) for the audit trail and are no longer published.
    """

    __tablename__ = "lti_tool_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)  # RFC 7638 thumbprint
    #: The PEM, sealed with the app's secret key (:mod:`lms_core.crypto`): a copy of the
    #: database alone cannot sign as the tool.
    private_key_sealed: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONType)
    slot: Mapped[KeySlot | None] = mapped_column(_enum(KeySlot), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ToolKey {self.kid} {self.slot}>"


class RegistrationStatus(enum.StrEnum):
    PENDING = "pending"  # made by dynamic registration, waiting for an operator
    ACTIVE = "active"
    DISABLED = "disabled"


class Registration(db.Model):
    """An LMS (issuer) and the client id it issued to Shiftwell, with its OAuth endpoints.

    ``tenant_id`` is the hospital that owns it; it is empty only while a dynamic
    registration waits for the operator to approve it and pick the tenant.
    """

    __tablename__ = "lti_registration"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_lti_registration_client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(255), index=True)
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(Text)
    auth_token_url: Mapped[str] = mapped_column(Text)
    # The ``aud`` of our client assertions when the token endpoint wants something other
    # than its own URL (LTI-DR ``authorization_server``; Blackboard, D2L).
    auth_audience: Mapped[str | None] = mapped_column(Text)
    keyset_url: Mapped[str] = mapped_column(Text)
    status: Mapped[RegistrationStatus] = mapped_column(
        _enum(RegistrationStatus), default=RegistrationStatus.ACTIVE
    )
    # How it was made: cli, operator, dynamic, demo.
    source: Mapped[str] = mapped_column(String(16), default="cli")
    product_family: Mapped[str | None] = mapped_column(String(100))
    # What the platform answered to dynamic registration (scopes granted, messages...).
    platform_config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    tenant: Mapped[Tenant | None] = relationship(lazy="joined")
    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="registration",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="Deployment.id",
    )

    @property
    def is_active(self) -> bool:
        return self.status == RegistrationStatus.ACTIVE and self.tenant_id is not None

    def __repr__(self) -> str:
        return f"<Registration {self.issuer} {self.client_id}>"


class Deployment(db.Model):
    """One install of a registration; the tenant a launch through it belongs to."""

    __tablename__ = "lti_deployment"
    __table_args__ = (
        UniqueConstraint("registration_id", "deployment_id", name="uq_lti_deployment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[str] = mapped_column(String(255))
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="deployments")
    tenant: Mapped[Tenant | None] = relationship(lazy="joined")


class LaunchData(db.Model):
    """Short-lived values of the OIDC flow (state, nonce, validated launches), with expiry.

    This is pylti1p3's launch-data storage, kept in the database so that every process
    (and every worker behind a load balancer) sees the same state and a nonce can be
    consumed exactly once.
    """

    __tablename__ = "lti_launch_data"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class Context(TenantScoped, db.Model):
    """An LMS course shell Shiftwell was launched from."""

    __tablename__ = "lti_context"
    __table_args__ = (UniqueConstraint("deployment_pk", "context_id", name="uq_lti_context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_pk: Mapped[int] = mapped_column(
        ForeignKey("lti_deployment.id", ondelete="CASCADE"), index=True
    )
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    label: Mapped[str | None] = mapped_column(String(255))
    types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    memberships_url: Mapped[str | None] = mapped_column(Text)
    roster_synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    deployment: Mapped[Deployment] = relationship(lazy="joined")

    @property
    def display_title(self) -> str:
        return self.title or self.label or f"LMS course {self.context_id}"


class ResourceLink(TenantScoped, db.Model):
    """A Shiftwell link placed in an LMS course, and the gradebook column it reports to."""

    __tablename__ = "lti_resource_link"
    __table_args__ = (
        UniqueConstraint("deployment_pk", "resource_link_id", name="uq_lti_resource_link_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_pk: Mapped[int] = mapped_column(
        ForeignKey("lti_deployment.id", ondelete="CASCADE"), index=True
    )
    context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("lti_context.id", ondelete="SET NULL"), index=True
    )
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    # The course this link opens: from Deep Linking's custom parameter, remembered here.
    course_slug: Mapped[str | None] = mapped_column(String(100), index=True)
    # AGS endpoint claim of the latest launch (LTI-AGS 2.0 §3.1).
    lineitem_url: Mapped[str | None] = mapped_column(Text)
    lineitems_url: Mapped[str | None] = mapped_column(Text)
    ags_scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    deployment: Mapped[Deployment] = relationship(lazy="joined")
    context: Mapped[Context | None] = relationship(lazy="joined")

    @property
    def can_post_scores(self) -> bool:
        return "https://purl.imsglobal.org/spec/lti-ags/scope/score" in (self.ags_scopes or [])


class Launch(TenantScoped, db.Model):
    """One successful launch: who came in, from where, into which course and session."""

    __tablename__ = "lti_launch"
    __table_args__ = (Index("ix_lti_launch_user_course", "user_id", "course_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    deployment_pk: Mapped[int] = mapped_column(
        ForeignKey("lti_deployment.id", ondelete="CASCADE"), index=True
    )
    context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("lti_context.id", ondelete="SET NULL"), index=True
    )
    resource_link_pk: Mapped[int | None] = mapped_column(
        ForeignKey("lti_resource_link.id", ondelete="SET NULL"), index=True
    )
    message_type: Mapped[str] = mapped_column(String(40))
    course_slug: Mapped[str | None] = mapped_column(String(100))
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The LTI role URIs the LMS sent, as sent.
    roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    resource_link: Mapped[ResourceLink | None] = relationship(lazy="joined")


class Membership(TenantScoped, db.Model):
    """A person on an LMS course roster, as the LMS's NRPS service listed them."""

    __tablename__ = "lti_membership"
    __table_args__ = (UniqueConstraint("context_pk", "subject", name="uq_lti_membership_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(
        ForeignKey("lti_context.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(255))  # the LTI user_id, = a launch's sub
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    given_name: Mapped[str | None] = mapped_column(String(100))
    family_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: Learner among ``roles``: kept as a column so rosters can be counted in SQL.
    is_learner: Mapped[bool] = mapped_column(default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default="Active")
    synced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def display_name(self) -> str:
        full = " ".join(p for p in (self.given_name, self.family_name) if p)
        return self.name or full or self.email or f"LMS user {self.subject}"


class Assignment(TenantScoped, db.Model):
    """A course the education department made required for an LMS course, by a due date."""

    __tablename__ = "lti_assignment"
    __table_args__ = (
        UniqueConstraint("context_pk", "course_slug", name="uq_lti_assignment_course"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(
        ForeignKey("lti_context.id", ondelete="CASCADE"), index=True
    )
    course_slug: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[dt.date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    context: Mapped[Context] = relationship(lazy="joined")


class AssignmentPass(db.Model):
    """A learner of the hospital passed a required course (when, first): kept by lti from
    ``course_completed`` so that counting who is overdue needs no call per learner."""

    __tablename__ = "lti_assignment_pass"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("lti_assignment.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    passed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ScoreStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class Score(TenantScoped, db.Model):
    """The latest score Shiftwell sent (or is sending) to one gradebook cell."""

    __tablename__ = "lti_score"
    __table_args__ = (
        UniqueConstraint("resource_link_pk", "user_id", "course_slug", name="uq_lti_score_cell"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_pk: Mapped[int] = mapped_column(
        ForeignKey("lti_resource_link.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    course_slug: Mapped[str] = mapped_column(String(100))
    score_given: Mapped[float | None]
    score_maximum: Mapped[float] = mapped_column(default=100.0)
    activity_progress: Mapped[str] = mapped_column(String(20))
    grading_progress: Mapped[str] = mapped_column(String(20))
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[ScoreStatus] = mapped_column(_enum(ScoreStatus), default=ScoreStatus.QUEUED)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    resource_link: Mapped[ResourceLink] = relationship(lazy="joined")


# -- the demo LMS (only used when app.config["DEMO"]) -----------------------------------


class DemoPlatform(db.Model):
    """The demo LMS's own signing key: it is a separate LTI platform, not the tool."""

    __tablename__ = "lti_demo_platform"

    id: Mapped[int] = mapped_column(primary_key=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DemoLink(db.Model):
    """A link in the demo LMS's course shell, made by Deep Linking; it has a gradebook
    column (line item) when the tool asked for one."""

    __tablename__ = "lti_demo_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    custom: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    line_item: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DemoScore(db.Model):
    """A score the demo LMS's gradebook received from the tool over AGS."""

    __tablename__ = "lti_demo_score"
    __table_args__ = (UniqueConstraint("link_id", "user_sub", name="uq_lti_demo_score_cell"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("lti_demo_link.id", ondelete="CASCADE"))
    user_sub: Mapped[str] = mapped_column(String(255))
    score: Mapped[dict[str, Any]] = mapped_column(JSONType)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
