"""Durable background work for anything that reaches an outside system.

The pattern is a transactional outbox:

1. A service calls :func:`enqueue` inside the transaction that makes the change (a passed
   course, a new statement). The row commits or rolls back with the change.
2. After commit, the row's id is handed to Celery. In the embedded mode Celery runs the
   task eagerly, in-process; in production a ``shiftwell worker`` takes it from Redis.
3. The task *claims* the row with a conditional UPDATE, so a row handed over twice (by
   the normal hand-off and by the sweeper) still runs once at a time.
4. A handler that raises is retried with exponential backoff; after
   ``OUTBOX_MAX_ATTEMPTS`` the row is ``dead`` and shows in ``shiftwell outbox list``.

If the process dies between commit and hand-off, the row stays ``pending`` and
:func:`sweep` (run by the worker's beat schedule, or opportunistically in the embedded
mode) hands it over again. Handlers must therefore be idempotent: the message's ``key``
is stable for the same piece of work.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from lms_core.db import utcnow
from lms_core.extensions import db
from lms_core.models import OutboxMessage, OutboxStatus, Tenant

log = logging.getLogger(__name__)

Handler = Callable[[OutboxMessage], None]

_SESSION_KEY = "shiftwell.outbox.new_ids"


@dataclass(frozen=True)
class HandlerSpec:
    topic: str
    handler: Handler


class OutboxRegistry:
    """Topic name → handler, filled by plugins at start-up (``app.extensions['outbox']``)."""

    def __init__(self) -> None:
        self._handlers: dict[str, HandlerSpec] = {}

    def register(self, topic: str, handler: Handler) -> None:
        if topic in self._handlers and self._handlers[topic].handler is not handler:
            raise ValueError(f"outbox topic {topic!r} already has a handler")
        self._handlers[topic] = HandlerSpec(topic, handler)

    def get(self, topic: str) -> Handler:
        try:
            return self._handlers[topic].handler
        except KeyError:
            raise LookupError(
                f"no outbox handler for topic {topic!r}; is its plugin enabled?"
            ) from None

    def topics(self) -> list[str]:
        return sorted(self._handlers)


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help (the target rejected the payload)."""


def registry(app: Flask | None = None) -> OutboxRegistry:
    return (app or current_app).extensions["shiftwell.outbox"]


def handler(topic: str) -> Callable[[Handler], Handler]:
    """Decorator form of registration, used inside a plugin's ``init_app``."""

    def decorate(func: Handler) -> Handler:
        registry().register(topic, func)
        return func

    return decorate


def enqueue(
    topic: str,
    payload: dict[str, Any],
    *,
    key: str | None = None,
    tenant: Tenant | int | None = None,
    delay: dt.timedelta | None = None,
) -> OutboxMessage:
    """Add a message to the current transaction; it runs after the transaction commits.

    With a ``key`` already in the outbox (committed or added earlier in this transaction)
    nothing new is written and the existing message is returned: the same work is never
    queued twice.
    """
    session = db.session
    key = key or f"{topic}:{uuid.uuid4()}"
    for pending in session.new:
        if isinstance(pending, OutboxMessage) and pending.key == key:
            return pending
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
    if existing is not None:
        return existing
    tenant_id = tenant if isinstance(tenant, int) or tenant is None else tenant.id
    message = OutboxMessage(
        topic=topic,
        key=key,
        payload=payload,
        tenant_id=tenant_id,
        status=OutboxStatus.PENDING,
        attempts=0,
        available_at=utcnow() + (delay or dt.timedelta(0)),
    )
    session.add(message)
    session.flush()
    session.info.setdefault(_SESSION_KEY, []).append(message.id)
    return message


# -- hand-off ---------------------------------------------------------------------------


def _after_commit(session: Session) -> None:
    ids = session.info.pop(_SESSION_KEY, None)
    if ids:
        hand_off(ids)


def _after_rollback(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)


def hand_off(ids: Iterable[int]) -> None:
    """Give committed message ids to whoever runs them (``OUTBOX_RUNNER``): Celery through
    the broker, the embedded thread, or Celery eagerly in this thread (tests).

    A broker that is down only delays the work: the rows stay pending and the sweeper
    sends them again."""
    runner = current_app.extensions.get("shiftwell.embedded_runner")
    if runner is not None:
        runner.submit(ids)
        return
    task = current_app.extensions["celery"].tasks["shiftwell.outbox.run"]
    for message_id in ids:
        try:
            task.apply_async(args=[message_id])
        except OSError as exc:  # kombu raises OperationalError(OSError) when Redis is away
            log.warning(
                "outbox: hand-off of message %s failed (%s); the sweeper will retry",
                message_id,
                exc,
            )


def install_session_hooks() -> None:
    """Listen on Flask-SQLAlchemy's session class once per process."""
    session_cls = db.session.session_factory.class_
    if not event.contains(session_cls, "after_commit", _after_commit):
        event.listen(session_cls, "after_commit", _after_commit)
        event.listen(session_cls, "after_soft_rollback", _after_rollback_soft)


def _after_rollback_soft(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        _after_rollback(session)


# -- execution --------------------------------------------------------------------------


def backoff(attempts: int, config: dict[str, Any]) -> dt.timedelta:
    """Exponential backoff with full jitter, so a recovering LMS is not hit by a herd."""
    base = float(config["OUTBOX_BACKOFF_SECONDS"])
    ceiling = float(config["OUTBOX_BACKOFF_MAX_SECONDS"])
    delay = min(ceiling, base * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=random.uniform(delay / 2, delay))  # noqa: S311


def run_message(message_id: int) -> OutboxStatus | None:
    """Claim and run one message; returns its new status, or None if another run has it."""
    config = current_app.config
    now = utcnow()
    lease = dt.timedelta(seconds=config["OUTBOX_LEASE_SECONDS"])
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.available_at <= now,
        )
        .values(
            status=OutboxStatus.RUNNING,
            locked_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if claimed.rowcount != 1:
        return None

    message = db.session.get(OutboxMessage, message_id)
    assert message is not None
    try:
        registry().get(message.topic)(message)
        message.status = OutboxStatus.DONE
        message.finished_at = utcnow()
        message.locked_until = None
        message.last_error = None
        db.session.commit()
        return OutboxStatus.DONE
    except Exception as exc:  # noqa: BLE001 - a worker boundary: any handler error is recorded
        db.session.rollback()
        return _record_failure(message_id, exc)


def _record_failure(message_id: int, exc: BaseException) -> OutboxStatus:
    config = current_app.config
    message = db.session.get(OutboxMessage, message_id)
    assert message is not None
    permanent = isinstance(exc, PermanentFailure)
    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    message.locked_until = None
    if permanent or message.attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.DEAD
        message.finished_at = utcnow()
        log.error(
            "outbox: message %s (%s) is dead after %s attempts: %s",
            message.id,
            message.topic,
            message.attempts,
            message.last_error,
        )
    else:
        message.status = OutboxStatus.PENDING
        message.available_at = utcnow() + backoff(message.attempts, config)
        log.warning(
            "outbox: message %s (%s) failed, attempt %s, retry at %s: %s",
            message.id,
            message.topic,
            message.attempts,
            message.available_at.isoformat(),
            message.last_error,
        )
    db.session.commit()
    return message.status


def due_message_ids(limit: int = 500) -> list[int]:
    """Pending rows whose time has come and running rows whose lease ran out."""
    config = current_app.config
    now = utcnow()
    grace = dt.timedelta(seconds=config["OUTBOX_SWEEP_GRACE_SECONDS"])
    stmt = (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.PENDING)
                & (OutboxMessage.available_at <= now)
                & (OutboxMessage.created_at <= now - grace),
                (OutboxMessage.status == OutboxStatus.RUNNING) & (OutboxMessage.locked_until < now),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def sweep(limit: int = 500) -> int:
    """Hand over again every message that is due but not running; returns how many."""
    ids = due_message_ids(limit)
    if not ids:
        return 0
    # A running row whose lease expired belongs to a worker that died: make it claimable.
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.status == OutboxStatus.RUNNING,
        )
        .values(status=OutboxStatus.PENDING, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    hand_off(ids)
    return len(ids)


def retry(message: OutboxMessage) -> None:
    """Give a dead (or pending) message a fresh start now; the caller commits."""
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.available_at = utcnow()
    message.finished_at = None
    db.session.info.setdefault(_SESSION_KEY, []).append(message.id)
