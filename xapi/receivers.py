"""Signal receivers: each learner event becomes statements in the same transaction.

They run inside the sender's transaction, before its commit (lms_core.signals): the
statements are added to ``db.session`` with the progress they describe and commit with
it, or not at all. Nothing here reaches the network; forwarding goes through the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from lms_core import signals
from lms_core.extensions import db
from lms_core.models import User
from xapi import credentials, store
from xapi.model import Agent, Statement, to_json
from xapi.vocabulary import Vocabulary


def vocabulary() -> Vocabulary:
    return Vocabulary(current_app.config["BASE_URL"])


def actor_for(user_id: int) -> Agent:
    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError(f"an xAPI event names user {user_id}, who does not exist")
    return vocabulary().actor(user.issuer, user.subject, user.id)


def record(tenant_id: int, statements: list[Statement]) -> None:
    """Store our own statements, validated like any client's."""
    store.store_statements(
        tenant_id,
        [to_json(s) for s in statements],
        store.Writer(credentials.shiftwell_authority()),
    )


def _receiver(
    build: Callable[[Vocabulary, Any, Agent], Statement | list[Statement]],
) -> Callable[..., None]:
    def receive(sender: Flask, event: Any) -> None:
        built = build(vocabulary(), event, actor_for(event.learner.user_id))
        record(event.learner.tenant_id, built if isinstance(built, list) else [built])

    return receive


RECEIVERS = {
    signals.launch_completed: _receiver(Vocabulary.launched),
    signals.attempt_started: _receiver(Vocabulary.attempt_started),
    signals.attempt_resumed: _receiver(Vocabulary.attempt_resumed),
    signals.attempt_suspended: _receiver(Vocabulary.attempt_suspended),
    signals.step_completed: _receiver(Vocabulary.step_completed),
    signals.progress_changed: _receiver(Vocabulary.progressed),
    signals.course_completed: _receiver(Vocabulary.completed),
}


def connect(app: Flask) -> None:
    for signal, receiver in RECEIVERS.items():
        signal.connect(receiver, sender=app)
