"""Forwarding every statement of a tenant to the hospital's own LRS, in order, losing none.

The durable record is the statements themselves plus one cursor per target
(:attr:`~xapi.models.XapiForwardTarget.cursor_seq`, the last statement the target
acknowledged). An outbox message is only the signal "there is something to send":

* Storing statements (:func:`statements_stored`, inside the writing transaction) queues
  one message per target unless one is already queued, so an outage of hours leaves a
  single message waiting, not one per statement.
* Running it (:func:`forward`) takes a lease on the target, sends batches of statements
  after the cursor in ``seq`` order and moves the cursor after each 2xx. A crash between
  the target's 2xx and our commit re-sends that batch; the target keeps statement ids
  unique (Communication §2.1.2.s2.b4), so it stores nothing twice.
* A failure is recorded on the target and a successor message is queued with
  exponential backoff (capped, never dead): the statements wait, in order, until the
  target answers again.
* A statement the target refuses as invalid (400, 413) while it takes the others of the
  batch is set aside (:class:`~xapi.models.XapiForwardRejection`), shown by
  ``forwarding-status`` and re-sent on demand, so that one statement a stricter LRS will
  never accept does not hold back every statement after it. If the target refuses a
  whole batch, the fault is more likely the target's than every statement's: that is a
  failure, retried like an outage, and nothing is set aside.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from flask import current_app
from sqlalchemy import func, select, update

from lms_core import crypto, outbox
from lms_core.db import utcnow
from lms_core.errors import InvalidInput
from lms_core.extensions import db
from lms_core.models import OutboxMessage
from xapi.http import XAPI_VERSION, multipart_body
from xapi.models import XapiAttachment, XapiForwardRejection, XapiForwardTarget, XapiStatement

log = logging.getLogger(__name__)

TOPIC = "xapi.forward"
#: How long a run may hold a target before another may take over (a crashed worker).
LEASE = dt.timedelta(minutes=5)
#: Batches one run sends before it hands over to a fresh message (fairness).
BATCHES_PER_RUN = 20
MAX_ERROR_LENGTH = 500
#: Answers that judge what was sent, not the target's health (xAPI answers 400 for an
#: invalid statement; 413 for a request too large). Anything else — 5xx, 401/403, a
#: timeout — is the target's trouble and waits, in order, for the target to recover.
REFUSED = frozenset({400, 413})


# -- queueing (inside the statement-writing transaction) --------------------------------


def statements_stored(tenant_id: int) -> None:
    """Make sure every enabled target of the tenant has a forwarding run queued.

    The targets are locked until commit, so a run that is finishing cannot clear its
    trigger between our look and our commit (it would miss these statements).
    """
    targets = db.session.scalars(
        select(XapiForwardTarget)
        .where(XapiForwardTarget.tenant_id == tenant_id, XapiForwardTarget.enabled.is_(True))
        .with_for_update()
    ).all()
    now = utcnow()
    for target in targets:
        if target.trigger_message_id is None:
            queue_run(target, now)


def queue_run(target: XapiForwardTarget, now: dt.datetime) -> None:
    """Queue a forwarding run for ``target`` (after its backoff, if it is in one)."""
    delay = None
    if target.next_attempt_at is not None and target.next_attempt_at > now:
        delay = target.next_attempt_at - now
    message = outbox.enqueue(
        TOPIC,
        {"target_id": target.id},
        key=f"{TOPIC}:{target.id}:{uuid.uuid4().hex}",
        tenant=target.tenant_id,
        delay=delay,
    )
    target.trigger_message_id = message.id


def run_now(target: XapiForwardTarget) -> None:
    """Try the target at once, without waiting for its backoff (an outage or wrong
    credentials were fixed); the caller commits."""
    target.next_attempt_at = None
    message = (
        db.session.get(OutboxMessage, target.trigger_message_id)
        if target.trigger_message_id
        else None
    )
    if message is not None and message.status.value == "pending":
        outbox.retry(message)
    elif message is None:
        target.trigger_message_id = None
        queue_run(target, utcnow())


# -- running ----------------------------------------------------------------------------


class DeliveryFailed(Exception):
    """The target did not take a batch; ``str()`` is safe to log (no credentials)."""


def forward(message: OutboxMessage) -> None:
    """Outbox handler: drain one target. Never raises for a target that is down."""
    target_id = int(message.payload["target_id"])
    token = uuid.uuid4().hex
    now = utcnow()
    target = db.session.get(XapiForwardTarget, target_id)
    if target is None:
        return
    if target.trigger_message_id == message.id:
        target.trigger_message_id = None
    acquired = db.session.execute(
        update(XapiForwardTarget)
        .where(
            XapiForwardTarget.id == target_id,
            (XapiForwardTarget.lease_until.is_(None)) | (XapiForwardTarget.lease_until < now),
        )
        .values(lease_token=token, lease_until=now + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not acquired or not target.enabled:
        # Another run holds the target; it looks for new statements before it lets go.
        if acquired:
            _release(target_id, token)
        return
    try:
        sent_all = _drain(target_id, token)
    except DeliveryFailed as exc:
        db.session.rollback()
        _record_failure(target_id, token, str(exc))
        return
    _release(target_id, token)
    if not sent_all or _has_backlog(target_id):
        _requeue(target_id)


def _drain(target_id: int, token: str) -> bool:
    """Send batches until caught up (True) or this run's share is used (False)."""
    target = db.session.get(XapiForwardTarget, target_id)
    assert target is not None
    client = _client(target)
    try:
        for _ in range(BATCHES_PER_RUN):
            rows = db.session.execute(
                select(XapiStatement.seq, XapiStatement.document, XapiStatement.has_attachments)
                .where(
                    XapiStatement.tenant_id == target.tenant_id,
                    XapiStatement.seq > target.cursor_seq,
                )
                .order_by(XapiStatement.seq)
                .limit(target.batch_size)
            ).all()
            if not rows:
                return True
            rejected = _send(client, target, rows)
            now = utcnow()
            _set_aside(target, rejected, now)
            db.session.execute(
                update(XapiForwardTarget)
                .where(XapiForwardTarget.id == target_id, XapiForwardTarget.lease_token == token)
                .values(
                    cursor_seq=rows[-1][0],
                    forwarded_count=XapiForwardTarget.forwarded_count + len(rows) - len(rejected),
                    consecutive_failures=0,
                    next_attempt_at=None,
                    last_success_at=now,
                    lease_until=now + LEASE,
                )
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            db.session.refresh(target)
        return False
    finally:
        client.close()


@dataclass(frozen=True)
class Rejected:
    """One statement the target refused; ``error`` is its answer, safe to show."""

    seq: int
    statement_id: str
    status_code: int
    error: str


def _send(client: httpx.Client, target: XapiForwardTarget, rows: list[Any]) -> list[Rejected]:
    """Deliver a batch; what the target refused statement by statement comes back."""
    documents = [row[1] for row in rows]
    body = ("[" + ",".join(documents) + "]").encode()
    headers = {"X-Experience-API-Version": target.version}
    hashes = _attachment_hashes(documents) if any(row[2] for row in rows) else []
    if hashes:
        # Communication §1.5.2.s3.b3: never push statements without their attachments.
        body, headers["Content-Type"] = multipart_body(body, _attachments(target, hashes))
    else:
        headers["Content-Type"] = "application/json"
    response = _request(client, "POST", body, headers)
    if response.status_code == 409 or (response.status_code in REFUSED and len(rows) > 1):
        # 409: some statement is already there (a batch re-sent after a crash). 400/413:
        # the target refuses something in the batch. Either way, send one by one, each
        # under its id, so the others still arrive, in order, and nothing is doubled.
        return _send_each(client, target, rows)
    if response.status_code in REFUSED:
        raise DeliveryFailed(f"{_answer(response)} for the only statement to send")
    _raise_for(response, len(documents))
    return []


def _send_each(client: httpx.Client, target: XapiForwardTarget, rows: list[Any]) -> list[Rejected]:
    rejected = []
    for seq, document, _ in rows:
        refused = _send_one(client, target, document)
        if refused is not None:
            rejected.append(Rejected(seq, json.loads(document)["id"], *refused))
    if rejected and len(rejected) == len(rows):
        first = rejected[0]
        raise DeliveryFailed(
            f"HTTP {first.status_code} for every statement of the batch: {first.error}"
        )
    return rejected


def _send_one(
    client: httpx.Client, target: XapiForwardTarget, document: str
) -> tuple[int, str] | None:
    """PUT one statement under its id: None when the target has it, or (status, answer)
    when it refuses it as invalid; a target in trouble raises :class:`DeliveryFailed`."""
    statement = json.loads(document)
    hashes = _attachment_hashes([document])
    body = document.encode()
    headers = {"X-Experience-API-Version": target.version, "Content-Type": "application/json"}
    if hashes:
        body, headers["Content-Type"] = multipart_body(body, _attachments(target, hashes))
    response = _request(client, "PUT", body, headers, params={"statementId": statement["id"]})
    if response.status_code == 409:
        log.warning(
            "xapi forwarding: target %s already holds a different statement %s; kept theirs",
            target.name,
            statement["id"],
        )
        return None
    if response.status_code in REFUSED:
        return response.status_code, _answer(response)
    _raise_for(response, 1)
    return None


def _attachments(target: XapiForwardTarget, hashes: list[str]) -> list[tuple[Any, ...]]:
    found = db.session.execute(
        select(XapiAttachment.sha2, XapiAttachment.content_type, XapiAttachment.content).where(
            XapiAttachment.tenant_id == target.tenant_id, XapiAttachment.sha2.in_(hashes)
        )
    ).all()
    return [tuple(row) for row in found]


def _set_aside(target: XapiForwardTarget, rejected: list[Rejected], now: dt.datetime) -> None:
    for item in rejected:
        db.session.add(
            XapiForwardRejection(
                tenant_id=target.tenant_id,
                target_id=target.id,
                seq=item.seq,
                statement_id=item.statement_id,
                status_code=item.status_code,
                error=item.error[:MAX_ERROR_LENGTH],
                rejected_at=now,
            )
        )
        log.warning(
            "xapi forwarding: target %s refused statement %s (%s); set aside, the others "
            "go on (shiftwell xapi resend-rejected)",
            target.name,
            item.statement_id,
            item.error,
        )


def _request(
    client: httpx.Client, method: str, body: bytes, headers: dict[str, str], params: Any = None
) -> httpx.Response:
    try:
        return client.request(method, "statements", content=body, headers=headers, params=params)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None


def _answer(response: httpx.Response) -> str:
    text = response.text[:300].replace("\n", " ")
    return f"HTTP {response.status_code}: {text}"


def _raise_for(response: httpx.Response, count: int) -> None:
    if 200 <= response.status_code < 300:
        return
    text = response.text[:300].replace("\n", " ")
    raise DeliveryFailed(f"HTTP {response.status_code} for {count} statement(s): {text}")


def _attachment_hashes(documents: list[str]) -> list[str]:
    found: list[str] = []
    for document in documents:
        statement = json.loads(document)
        for owner in (statement, statement.get("object") or {}):
            for attachment in owner.get("attachments") or ():
                if "fileUrl" not in attachment or attachment.get("sha2"):
                    found.append(str(attachment.get("sha2", "")).lower())
    return list(dict.fromkeys(h for h in found if h))


def _client(target: XapiForwardTarget) -> httpx.Client:
    auth = None
    if target.username:
        auth = httpx.BasicAuth(target.username, decrypt(target.password_encrypted or ""))
    timeout = float(current_app.config.get("XAPI_FORWARD_TIMEOUT_SECONDS", 30))
    return httpx.Client(
        base_url=target.endpoint.rstrip("/") + "/",
        auth=auth,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
    )


def _release(target_id: int, token: str) -> None:
    db.session.execute(
        update(XapiForwardTarget)
        .where(XapiForwardTarget.id == target_id, XapiForwardTarget.lease_token == token)
        .values(lease_token=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _requeue(target_id: int) -> None:
    target = db.session.scalar(
        select(XapiForwardTarget).where(XapiForwardTarget.id == target_id).with_for_update()
    )
    if target is not None and target.enabled and target.trigger_message_id is None:
        queue_run(target, utcnow())
    db.session.commit()


def _record_failure(target_id: int, token: str, error: str) -> None:
    target = db.session.scalar(
        select(XapiForwardTarget).where(XapiForwardTarget.id == target_id).with_for_update()
    )
    if target is None:
        return
    now = utcnow()
    target.consecutive_failures += 1
    target.total_failures += 1
    target.last_error = error[:MAX_ERROR_LENGTH]
    target.last_error_at = now
    target.next_attempt_at = now + backoff(target.consecutive_failures)
    if target.lease_token == token:
        target.lease_token = None
        target.lease_until = None
    if target.trigger_message_id is None:
        queue_run(target, now)
    db.session.commit()
    log.warning(
        "xapi forwarding to %s failed (%s in a row), next attempt at %s: %s",
        target.name,
        target.consecutive_failures,
        target.next_attempt_at.isoformat(),
        target.last_error,
    )


def backoff(failures: int) -> dt.timedelta:
    """Exponential with jitter, capped: a target down for a day is tried every ~15 min."""
    config = current_app.config
    base = float(config.get("XAPI_FORWARD_BACKOFF_SECONDS", 15))
    ceiling = float(config.get("XAPI_FORWARD_BACKOFF_MAX_SECONDS", 900))
    delay = min(ceiling, base * 2 ** max(0, failures - 1))
    return dt.timedelta(seconds=random.uniform(delay / 2, delay))  # noqa: S311


def _has_backlog(target_id: int) -> bool:
    target = db.session.get(XapiForwardTarget, target_id)
    if target is None:
        return False
    db.session.refresh(target)
    first = db.session.scalar(
        select(XapiStatement.seq)
        .where(XapiStatement.tenant_id == target.tenant_id, XapiStatement.seq > target.cursor_seq)
        .limit(1)
    )
    return first is not None


# -- targets ----------------------------------------------------------------------------


#: What a target's password is sealed for (:func:`lms_core.crypto.seal`).
SEAL_PURPOSE = "xapi.forward-password"


def encrypt(password: str) -> str:
    return crypto.seal(password, SEAL_PURPOSE)


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return crypto.unseal(token, SEAL_PURPOSE)
    except crypto.SealBroken as exc:
        raise DeliveryFailed(
            f"the stored password cannot be opened ({exc}), or set it again with "
            "`shiftwell xapi set-target-credentials`"
        ) from None


def add_target(
    tenant_id: int,
    name: str,
    endpoint: str,
    username: str | None,
    password: str | None,
    *,
    batch_size: int = 100,
    from_start: bool = True,
) -> XapiForwardTarget:
    """A new target; it receives the tenant's statements from the first (or from now)."""
    parsed = httpx.URL(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInput(
            f"{endpoint!r} is not an http(s) URL of an LRS (e.g. https://lrs.example.org/xapi/)."
        )
    if parsed.userinfo:
        raise InvalidInput(
            "Put the credentials in --username/--password, not in the URL: URLs end up in logs."
        )
    if not 1 <= batch_size <= 1000:
        raise InvalidInput("--batch-size must be between 1 and 1000.")
    cursor = 0
    if not from_start:
        cursor = int(
            db.session.scalar(
                select(func.max(XapiStatement.seq)).where(XapiStatement.tenant_id == tenant_id)
            )
            or 0
        )
    target = XapiForwardTarget(
        tenant_id=tenant_id,
        name=name,
        endpoint=endpoint,
        username=username or None,
        password_encrypted=encrypt(password) if password else None,
        version=XAPI_VERSION,
        batch_size=batch_size,
        enabled=True,
        cursor_seq=cursor,
        forwarded_count=0,
        consecutive_failures=0,
        total_failures=0,
    )
    db.session.add(target)
    db.session.flush()
    queue_run(target, utcnow())
    return target


@dataclass(frozen=True)
class TargetStatus:
    tenant: str
    target: str
    endpoint: str
    enabled: bool
    forwarded: int
    lag_statements: int
    lag_seconds: float | None
    consecutive_failures: int
    total_failures: int
    last_success_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    next_attempt_at: dt.datetime | None
    rejected: int  # statements the target refused as invalid, set aside
    last_rejected: str | None  # the latest of them: its id and the target's answer


def status(target: XapiForwardTarget, tenant_slug: str) -> TargetStatus:
    """How far behind a target is: statements not yet acknowledged and the oldest's age."""
    behind = select(XapiStatement).where(
        XapiStatement.tenant_id == target.tenant_id, XapiStatement.seq > target.cursor_seq
    )
    lag = int(db.session.scalar(select(func.count()).select_from(behind.subquery())) or 0)
    oldest = db.session.scalar(
        select(XapiStatement.stored)
        .where(XapiStatement.tenant_id == target.tenant_id, XapiStatement.seq > target.cursor_seq)
        .order_by(XapiStatement.seq)
        .limit(1)
    )
    rejected = int(
        db.session.scalar(select(func.count()).where(XapiForwardRejection.target_id == target.id))
        or 0
    )
    latest = db.session.scalar(
        select(XapiForwardRejection)
        .where(XapiForwardRejection.target_id == target.id)
        .order_by(XapiForwardRejection.id.desc())
        .limit(1)
    )
    return TargetStatus(
        tenant=tenant_slug,
        target=target.name,
        endpoint=target.endpoint,
        enabled=target.enabled,
        forwarded=target.forwarded_count,
        lag_statements=lag,
        lag_seconds=round((utcnow() - oldest).total_seconds(), 1) if oldest else 0.0,
        consecutive_failures=target.consecutive_failures,
        total_failures=target.total_failures,
        last_success_at=target.last_success_at,
        last_error=target.last_error,
        last_error_at=target.last_error_at,
        next_attempt_at=target.next_attempt_at,
        rejected=rejected,
        last_rejected=f"{latest.statement_id}: {latest.error}" if latest else None,
    )


def rejections(target: XapiForwardTarget) -> list[XapiForwardRejection]:
    """The statements set aside for ``target``, in the order they were stored."""
    return list(
        db.session.scalars(
            select(XapiForwardRejection)
            .where(XapiForwardRejection.target_id == target.id)
            .order_by(XapiForwardRejection.seq)
        )
    )


def resend_rejected(target: XapiForwardTarget) -> tuple[int, int]:
    """Offer the set-aside statements to the target again, oldest first: those it takes
    now leave the list. Returns (taken, still refused); the caller commits."""
    rows = rejections(target)
    documents = dict(
        db.session.execute(
            select(XapiStatement.seq, XapiStatement.document).where(
                XapiStatement.tenant_id == target.tenant_id,
                XapiStatement.seq.in_([row.seq for row in rows]),
            )
        ).all()
    )
    taken = refused = 0
    client = _client(target)
    try:
        for row in rows:
            document = documents.get(row.seq)
            answer = None if document is None else _send_one(client, target, document)
            if answer is None:  # taken now (or the statement is gone from our LRS)
                db.session.delete(row)
                taken += 1
            else:
                row.status_code, row.error = answer[0], answer[1][:MAX_ERROR_LENGTH]
                row.rejected_at = utcnow()
                refused += 1
    finally:
        client.close()
    if taken:
        target.forwarded_count += taken
    return taken, refused
