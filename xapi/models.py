"""The Learning Record Store's tables, designed for the queries xAPI clients make.

A statement is stored once, as the JSON the LRS returns (``document``), beside the few
columns every query needs. Everything a query can filter on — an agent, an activity, a
verb, a registration — is a :class:`XapiTerm`, and :class:`XapiStatementTerm` links a
statement to each term it mentions. A query for "statements about this learner" is then
a walk along one narrow index ``(term_id, seq)``, newest first, however many millions
of statements the tenant holds.

``seq`` numbers a tenant's statements in commit order (:class:`XapiSequence` hands it
out under a row lock), so ``ORDER BY seq`` is the order of ``stored``, paging never
skips a statement committed late, and forwarding can keep a cursor on it.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from lms_core.db import JSONType, UTCDateTime, utcnow
from lms_core.extensions import db
from lms_core.models import TenantScoped

#: SQLite only auto-increments an ``INTEGER PRIMARY KEY``; PostgreSQL gets a bigint.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class TermKind(enum.IntEnum):
    """What a term names; stored as a small integer in every index row."""

    AGENT = 1
    ACTIVITY = 2
    VERB = 3
    REGISTRATION = 4


class DocumentKind(enum.IntEnum):
    STATE = 1
    ACTIVITY_PROFILE = 2
    AGENT_PROFILE = 3


class XapiCredential(TenantScoped, db.Model):
    """HTTP Basic credentials for ``/xapi/``, scoped to one tenant.

    The secret is shown once, when created, and stored as a SHA-256 digest: it is 256
    random bits, so a slow password hash would add latency to every request and no
    safety (nobody can guess such a secret, hashed fast or slow).
    """

    __tablename__ = "xapi_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    can_write: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class XapiSequence(db.Model):
    """The last ``seq`` and ``stored`` handed out for a tenant: the statement writers' lock."""

    __tablename__ = "xapi_sequence"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_stored: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class XapiStatement(db.Model):
    """One statement, as the LRS returns it in the ``exact`` format."""

    __tablename__ = "xapi_statement"
    __table_args__ = (
        UniqueConstraint("tenant_id", "seq", name="uq_xapi_statement_tenant_seq"),
        UniqueConstraint("tenant_id", "statement_id", name="uq_xapi_statement_tenant_statement"),
        Index("ix_xapi_statement_tenant_stored", "tenant_id", "stored", "seq"),
        # Partial: few statements target another, and the index is only asked about them.
        Index(
            "ix_xapi_statement_tenant_target",
            "tenant_id",
            "target_id",
            sqlite_where=text("target_id IS NOT NULL"),
            postgresql_where=text("target_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    #: Lower-case UUID; the document keeps the case it arrived in.
    statement_id: Mapped[str] = mapped_column(String(36))
    stored: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    is_voiding: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The id of the statement a StatementRef object points at (voiding or not).
    target_id: Mapped[str | None] = mapped_column(String(36))
    has_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("xapi_credential.id", ondelete="SET NULL")
    )
    document: Mapped[str] = mapped_column(Text)
    #: ``[[term_id, direct], ...]``: the terms this statement matches, its own and those
    #: inherited from the statement it targets (Communication §2.1.3, StatementRefs).
    terms: Mapped[str] = mapped_column(Text, default="[]")


class XapiTerm(db.Model):
    """Something statements can be filtered by, in one tenant.

    ``digest`` is the SHA-1 of kind and value, so long IRIs never sit in an index.
    ``data`` keeps what the Activities and Agents resources return: the canonical
    activity definition, the names an agent was seen with.
    """

    __tablename__ = "xapi_term"
    __table_args__ = (UniqueConstraint("tenant_id", "digest", name="uq_xapi_term_tenant_digest"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    kind: Mapped[int] = mapped_column(SmallInteger)
    digest: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class XapiStatementTerm(db.Model):
    """A statement mentions a term. ``direct``: as actor/object/verb/registration, the
    normal filter; otherwise only ``related_agents``/``related_activities`` match it.

    The primary key ``(term_id, seq)`` is also the only index queries need.
    """

    __tablename__ = "xapi_statement_term"
    # SQLite stores the table as its primary-key b-tree: one structure, not two.
    __table_args__ = {"sqlite_with_rowid": False}

    term_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("xapi_term.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    direct: Mapped[bool] = mapped_column(Boolean)


class XapiAttachment(db.Model):
    """Raw attachment data, stored once per tenant and SHA-2."""

    __tablename__ = "xapi_attachment"
    __table_args__ = (UniqueConstraint("tenant_id", "sha2", name="uq_xapi_attachment_tenant_sha2"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    sha2: Mapped[str] = mapped_column(String(128))
    content_type: Mapped[str] = mapped_column(String(255))
    length: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class XapiDocument(db.Model):
    """A state, activity profile or agent profile document.

    ``scope`` is the SHA-1 of what the document belongs to (kind, activity, agent,
    registration): listing a scope's documents is one index range.
    """

    __tablename__ = "xapi_document"
    __table_args__ = (
        UniqueConstraint("tenant_id", "scope", "document_id", name="uq_xapi_document_scope_id"),
        Index("ix_xapi_document_scope_updated", "tenant_id", "scope", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    kind: Mapped[int] = mapped_column(SmallInteger)
    scope: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[str] = mapped_column(Text)
    activity_id: Mapped[str | None] = mapped_column(Text)
    agent: Mapped[str | None] = mapped_column(Text)
    registration: Mapped[str | None] = mapped_column(String(36))
    content_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class XapiForwardTarget(TenantScoped, db.Model):
    """An external LRS that receives every statement of its tenant, in order.

    ``cursor_seq`` is the last statement it acknowledged; it moves only after the
    target answered 2xx, so an outage delays statements and never loses them. The
    password is encrypted with a key derived from the app's secret key.
    """

    __tablename__ = "xapi_forward_target"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_xapi_forward_target_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    endpoint: Mapped[str] = mapped_column(String(500))
    username: Mapped[str | None] = mapped_column(String(255))
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str] = mapped_column(String(16), default="1.0.3")
    batch_size: Mapped[int] = mapped_column(Integer, default=100)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    cursor_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    forwarded_count: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The outbox message that will run next for this target, if one is queued.
    trigger_message_id: Mapped[int | None] = mapped_column(BigInteger)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    total_failures: Mapped[int] = mapped_column(BigInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class XapiForwardRejection(TenantScoped, db.Model):
    """A statement a forwarding target refused as invalid (HTTP 400 or 413) while it took
    the statements around it: set aside so that one statement it will never accept does
    not hold back every statement after it. ``shiftwell xapi resend-rejected`` tries again
    (after the target's rules or the statement's cause were fixed)."""

    __tablename__ = "xapi_forward_rejection"
    __table_args__ = (
        UniqueConstraint("target_id", "seq", name="uq_xapi_forward_rejection_target_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("xapi_forward_target.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    statement_id: Mapped[str] = mapped_column(String(36))
    status_code: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text)
    rejected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
