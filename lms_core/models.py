"""The core's tables: tenants, users and their roles, the audit log, the outbox.

Plugins keep their own tables (named ``<plugin>_...``) and reference these by foreign key.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.sql import Select

from lms_core.db import JSONType, UTCDateTime, utcnow
from lms_core.extensions import db


class Role(enum.StrEnum):
    """What a person may do. LTI roles map onto the first three at launch."""

    LEARNER = "learner"
    INSTRUCTOR = "instructor"
    ADMINISTRATOR = "administrator"
    PARTNER_AUTHOR = "partner_author"
    OPERATOR = "operator"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


#: Roles that belong to a hospital's education department.
STAFF_ROLES = frozenset({Role.INSTRUCTOR, Role.ADMINISTRATOR})


class Tenant(db.Model):
    """A hospital (or hospital group) that launches Shiftwell from its LMS."""

    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # BCP 47; decides Letter or A4 for certificates and the default language.
    locale: Mapped[str] = mapped_column(String(35), default="en-US")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class TenantScoped:
    """Mixin for rows that belong to one tenant; use :meth:`for_tenant` to query them.

    Tenant isolation is the rule for every query that returns people's data, so the
    scoped select is the easy one to write.
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)

    @classmethod
    def for_tenant(cls, tenant: Tenant | int) -> Select[Any]:
        tenant_id = tenant if isinstance(tenant, int) else tenant.id
        return select(cls).where(cls.tenant_id == tenant_id)  # type: ignore[attr-defined]


class User(UserMixin, db.Model):
    """A person. LMS users are unique per tenant by (issuer, subject); partner authors and
    operators are local accounts with an e-mail and a password and no tenant."""

    __tablename__ = "user_account"
    __table_args__ = (
        UniqueConstraint("tenant_id", "issuer", "subject", name="uq_user_account_lms_identity"),
        Index("ix_user_account_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), index=True
    )
    issuer: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(255))
    # Names and e-mail are optional: many LMSs send no PII claims at all.
    name: Mapped[str | None] = mapped_column(String(200))
    given_name: Mapped[str | None] = mapped_column(String(100))
    family_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(35))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    tenant: Mapped[Tenant | None] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(row.role for row in self.role_rows)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def grant(self, role: Role) -> None:
        if role not in self.roles:
            self.role_rows.append(UserRole(role=role))

    def set_lms_roles(self, roles: set[Role]) -> None:
        """Make the LMS-managed roles exactly ``roles``, keeping local ones (operator, author)."""
        lms_roles = {Role.LEARNER, Role.INSTRUCTOR, Role.ADMINISTRATOR}
        self.role_rows = [
            row for row in self.role_rows if row.role not in lms_roles or row.role in roles
        ]
        for role in roles:
            self.grant(role)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def display_name(self) -> str:
        """What to call someone whose LMS may have sent no name at all."""
        if self.name:
            return self.name
        full = " ".join(part for part in (self.given_name, self.family_name) if part)
        return full or self.email or "Learner"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.issuer}|{self.subject}>"


class UserRole(db.Model):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]),
        primary_key=True,
    )


class AuditLog(db.Model):
    """Who did what administrative thing, when. Append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # "cli", "system" or the actor's display name at the time: survives account deletion.
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str | None] = mapped_column(String(100))
    target_id: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting to be run (first time or after a failure)
    RUNNING = "running"  # claimed by a worker until ``locked_until``
    DONE = "done"
    DEAD = "dead"  # failed ``OUTBOX_MAX_ATTEMPTS`` times; an operator must look


class OutboxMessage(db.Model):
    """Work for an outside system, written in the same transaction as the change behind it."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_available", "status", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), index=True
    )
    topic: Mapped[str] = mapped_column(String(100))
    # Idempotency key: enqueueing the same key twice is one message.
    key: Mapped[str] = mapped_column(String(255), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(
            OutboxStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
