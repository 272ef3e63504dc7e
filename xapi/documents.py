"""State, Activity Profile and Agent Profile documents (Communication §2.2-2.7), with the
optimistic concurrency of §3.1: every document has a SHA-1 ETag, and ``If-Match`` /
``If-None-Match`` make a write conditional on what the client last saw.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from werkzeug.http import parse_etags

from lms_core.db import utcnow
from lms_core.errors import Conflict, InvalidInput, NotFound
from lms_core.extensions import db
from xapi import identity
from xapi.http import PreconditionFailed
from xapi.models import DocumentKind, XapiDocument

JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Scope:
    """What a document belongs to: an activity and agent (and registration) for state,
    an activity for activity profiles, an agent for agent profiles."""

    kind: DocumentKind
    activity_id: str | None = None
    agent: dict[str, Any] | None = None
    registration: str | None = None

    @property
    def agent_identity(self) -> str | None:
        return identity.agent_identity(self.agent) if self.agent else None

    @property
    def digest(self) -> str:
        parts = [
            str(int(self.kind)),
            self.activity_id or "",
            self.agent_identity or "",
            (self.registration or "").lower(),
        ]
        return hashlib.sha1("\x00".join(parts).encode()).hexdigest()  # noqa: S324 - a key


@dataclass(frozen=True)
class Preconditions:
    if_match: str | None = None
    if_none_match: str | None = None

    @property
    def given(self) -> bool:
        return self.if_match is not None or self.if_none_match is not None


def etag_of(content: bytes) -> str:
    """Communication §3.1.s4.b2: the SHA-1 of the contents, in lower-case hex."""
    return hashlib.sha1(content).hexdigest()  # noqa: S324 - the spec's ETag


def get_document(tenant_id: int, scope: Scope, document_id: str) -> XapiDocument | None:
    return db.session.scalar(
        select(XapiDocument).where(
            XapiDocument.tenant_id == tenant_id,
            XapiDocument.scope == scope.digest,
            XapiDocument.document_id == document_id,
        )
    )


def list_document_ids(
    tenant_id: int, scope: Scope, since: dt.datetime | None
) -> tuple[list[str], dt.datetime | None]:
    """The ids in a scope (changed after ``since``, if given) and the latest change."""
    stmt = select(XapiDocument.document_id, XapiDocument.updated_at).where(
        XapiDocument.tenant_id == tenant_id, XapiDocument.scope == scope.digest
    )
    if since is not None:
        stmt = stmt.where(XapiDocument.updated_at > since)
    rows = db.session.execute(stmt.order_by(XapiDocument.updated_at, XapiDocument.id)).all()
    latest = max((row[1] for row in rows), default=None)
    return [row[0] for row in rows], latest


def save_document(
    tenant_id: int,
    scope: Scope,
    document_id: str,
    content: bytes,
    content_type: str,
    conditions: Preconditions,
    *,
    merge: bool,
) -> XapiDocument:
    """PUT (``merge=False``) replaces a document; POST (``merge=True``) merges JSON
    objects property by property (Communication §2.2.s7)."""
    existing = get_document(tenant_id, scope, document_id)
    _check_preconditions(existing, conditions)
    if not merge and not conditions.given and scope.kind != DocumentKind.STATE:
        # Communication §3.1.s3.b1 and §3.1.s4.b13-b14 (the State Resource is exempt).
        if existing is not None:
            raise Conflict(
                f"The document {document_id!r} already exists. Fetch it, then PUT again with "
                'If-Match: "<its ETag>" to replace it.'
            )
        raise InvalidInput(
            "A PUT to a profile document needs If-Match (to replace what you read) or "
            "If-None-Match: * (to create it only if it does not exist) (Communication §3.1.s3.b1)."
        )
    content_type = content_type or "application/octet-stream"
    if merge:
        posted = _json_object(content, content_type, "The posted document")
        if existing is not None:
            current = _json_object(existing.content, existing.content_type, "The stored document")
            current.update(posted)
            content = json.dumps(current, separators=(",", ":"), ensure_ascii=False).encode()
            content_type = JSON_TYPE
    now = utcnow()
    if existing is None:
        existing = XapiDocument(
            tenant_id=tenant_id,
            kind=int(scope.kind),
            scope=scope.digest,
            document_id=document_id,
            activity_id=scope.activity_id,
            agent=scope.agent_identity,
            registration=scope.registration.lower() if scope.registration else None,
        )
        db.session.add(existing)
    existing.content = content
    existing.content_type = content_type[:255]
    existing.etag = etag_of(content)
    existing.updated_at = now
    return existing


def delete_document(
    tenant_id: int, scope: Scope, document_id: str, conditions: Preconditions
) -> None:
    existing = get_document(tenant_id, scope, document_id)
    _check_preconditions(existing, conditions)
    if existing is not None:
        db.session.delete(existing)


def delete_documents(tenant_id: int, scope: Scope) -> None:
    """Communication §2.3.s5: DELETE without stateId clears the whole context."""
    db.session.execute(
        delete(XapiDocument).where(
            XapiDocument.tenant_id == tenant_id, XapiDocument.scope == scope.digest
        )
    )


def _check_preconditions(existing: XapiDocument | None, conditions: Preconditions) -> None:
    """RFC 7232 §3.1-3.2 as Communication §3.1 asks: 412 when the precondition fails."""
    if conditions.if_match is not None:
        tags = parse_etags(conditions.if_match)
        if existing is None or not (tags.star_tag or tags.contains(existing.etag)):
            raise PreconditionFailed(
                "If-Match does not match the document's current ETag: someone changed it "
                "since you read it. Fetch it again and retry with the new ETag."
            )
    if conditions.if_none_match is not None and existing is not None:
        tags = parse_etags(conditions.if_none_match)
        if tags.star_tag or tags.contains(existing.etag):
            raise PreconditionFailed(
                "If-None-Match: the document already exists; fetch it and send If-Match instead."
            )


def _json_object(content: bytes, content_type: str, what: str) -> dict[str, Any]:
    if content_type.split(";")[0].strip().lower() != JSON_TYPE:
        raise InvalidInput(
            f"{what} is {content_type}, not application/json: only JSON objects can be merged "
            "with POST; use PUT to replace the document (Communication §2.2.s8.b1)."
        )
    try:
        value = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput(f"{what} is not valid JSON (Communication §2.2.s8.b1).") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} is not a JSON object; only objects can be merged.")
    return value


def require(document: XapiDocument | None, document_id: str) -> XapiDocument:
    if document is None:
        raise NotFound(f"There is no document {document_id!r} here.")
    return document
