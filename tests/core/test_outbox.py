"""Durable background work: written with the change, run after commit, exactly once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from lms_core import outbox
from lms_core.db import utcnow
from lms_core.extensions import db
from lms_core.models import OutboxMessage, OutboxStatus, Tenant


@pytest.fixture
def calls(app):
    """A handler standing in for an outside system: records every delivery."""
    received: list[dict] = []
    failures = {"left": 0}

    def deliver(message: OutboxMessage) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("LMS unreachable")
        received.append(message.payload)

    outbox.registry(app).register("test.deliver", deliver)
    received_failures = failures
    return received, received_failures


def statuses(app) -> list[tuple[str, int]]:
    with app.app_context():
        return [(m.status.value, m.attempts) for m in db.session.scalars(select(OutboxMessage))]


def test_message_runs_after_the_transaction_commits(app, calls):
    received, _ = calls
    with app.app_context():
        tenant = Tenant(slug="t", name="T", settings={})
        db.session.add(tenant)
        outbox.enqueue("test.deliver", {"n": 1}, tenant=tenant)
        assert received == []  # nothing leaves before commit
        db.session.commit()
    assert received == [{"n": 1}]
    assert statuses(app) == [("done", 1)]


def test_a_rolled_back_change_sends_nothing(app, calls):
    received, _ = calls
    with app.app_context():
        outbox.enqueue("test.deliver", {"n": 1})
        db.session.rollback()
        db.session.commit()
    assert received == []
    assert statuses(app) == []


def test_the_same_key_is_one_message(app, calls):
    received, _ = calls
    with app.app_context():
        outbox.enqueue("test.deliver", {"n": 1}, key="score:42")
        outbox.enqueue("test.deliver", {"n": 1}, key="score:42")
        db.session.commit()
        outbox.enqueue("test.deliver", {"n": 1}, key="score:42")
        db.session.commit()
    assert received == [{"n": 1}]


def test_a_failure_is_retried_with_backoff(app, calls):
    received, failures = calls
    failures["left"] = 1
    with app.app_context():
        outbox.enqueue("test.deliver", {"n": 1})
        db.session.commit()
        message = db.session.scalar(select(OutboxMessage))
        assert message.status == OutboxStatus.PENDING
        assert message.attempts == 1
        assert "LMS unreachable" in message.last_error
        assert message.available_at > utcnow() + dt.timedelta(seconds=10)
        assert outbox.sweep() == 0  # not due yet
        message.available_at = utcnow()
        db.session.commit()
        assert outbox.sweep() == 1
    assert received == [{"n": 1}]
    assert statuses(app) == [("done", 2)]


def test_a_message_that_keeps_failing_ends_dead_and_visible(app, calls, runner):
    received, failures = calls
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    failures["left"] = 99
    with app.app_context():
        outbox.enqueue("test.deliver", {"n": 1})
        db.session.commit()
        for _ in range(3):
            db.session.execute(OutboxMessage.__table__.update().values(available_at=utcnow()))
            db.session.commit()
            outbox.sweep()
    assert statuses(app) == [("dead", 3)]
    listing = runner.invoke(args=["outbox", "list", "--status", "dead"])
    assert "test.deliver" in listing.output and "LMS unreachable" in listing.output

    failures["left"] = 0
    with app.app_context():
        message_id = db.session.scalar(select(OutboxMessage.id))
    result = runner.invoke(args=["outbox", "retry", str(message_id)])
    assert result.exit_code == 0, result.output
    assert received == [{"n": 1}]
    assert statuses(app) == [("done", 1)]


def test_a_crash_between_commit_and_hand_off_loses_nothing_and_runs_once(app, calls, monkeypatch):
    received, _ = calls

    def crash(ids):
        raise SystemExit("worker killed between commit and hand-off")

    monkeypatch.setattr(outbox, "hand_off", crash)
    with app.app_context():
        outbox.enqueue("test.deliver", {"n": 7})
        with pytest.raises(SystemExit):
            db.session.commit()
    monkeypatch.undo()

    assert received == []
    assert statuses(app) == [("pending", 0)]  # committed, never handed over
    with app.app_context():
        assert outbox.sweep() == 1
        assert outbox.sweep() == 0
        # Handing the same id over again (a duplicate delivery) does not run it again.
        message_id = db.session.scalar(select(OutboxMessage.id))
        outbox.hand_off([message_id, message_id])
    assert received == [{"n": 7}]
    assert statuses(app) == [("done", 1)]


def test_a_worker_that_died_mid_task_is_recovered_after_its_lease(app, calls):
    received, _ = calls
    with app.app_context():
        message = OutboxMessage(
            topic="test.deliver",
            key="k",
            payload={"n": 3},
            status=OutboxStatus.RUNNING,
            attempts=1,
            locked_until=utcnow() + dt.timedelta(minutes=5),
        )
        db.session.add(message)
        db.session.commit()
        assert outbox.sweep() == 0  # still leased to the (presumed) live worker
        message.locked_until = utcnow() - dt.timedelta(seconds=1)
        db.session.commit()
        assert outbox.sweep() == 1
    assert received == [{"n": 3}]


def test_unknown_topic_is_recorded_not_raised(app):
    with app.app_context():
        outbox.enqueue("nobody.listens", {})
        db.session.commit()
        message = db.session.scalar(select(OutboxMessage))
        assert message.status == OutboxStatus.PENDING
        assert "no outbox handler" in message.last_error


KILLED_PROCESS = """
import os, signal, sys
from lms_core import create_app, outbox
from lms_core.extensions import db
app = create_app({config!r})
outbox.registry(app).register("test.deliver", lambda m: None)
outbox.hand_off = lambda ids: os.kill(os.getpid(), signal.SIGKILL)
with app.app_context():
    outbox.enqueue("test.deliver", {{"n": 9}}, key="killed")
    db.session.commit()
print("not reached")
"""


def test_a_process_killed_after_commit_leaves_the_message_for_the_sweeper(app, app_config, calls):
    import signal
    import subprocess
    import sys

    received, _ = calls
    script = KILLED_PROCESS.format(config=app_config)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "not reached" not in proc.stdout
    assert statuses(app) == [("pending", 0)]
    with app.app_context():
        assert outbox.sweep() == 1
        assert outbox.sweep() == 0
    assert received == [{"n": 9}]
    assert statuses(app) == [("done", 1)]


def test_the_embedded_mode_runs_work_off_the_request_thread(app_config):
    import threading
    import time

    from lms_core import create_app

    app = create_app(
        {**app_config, "OUTBOX_RUNNER": "thread", "OUTBOX_SWEEP_INTERVAL_SECONDS": 0.2}
    )
    threads: list[str] = []
    outbox.registry(app).register(
        "test.thread", lambda m: threads.append(threading.current_thread().name)
    )

    @app.get("/complete")  # a GET only because this test has no form to carry a token
    def complete():
        outbox.enqueue("test.thread", {})
        db.session.commit()
        return "saved"

    assert app.test_client().get("/complete").status_code == 200
    deadline = time.monotonic() + 10
    while not threads and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threads == ["shiftwell-outbox"]
    with app.app_context():
        for _ in range(100):
            db.session.expire_all()
            if db.session.scalar(select(OutboxMessage.status)) == OutboxStatus.DONE:
                break
            time.sleep(0.05)
        assert db.session.scalar(select(OutboxMessage.status)) == OutboxStatus.DONE
    app.extensions["shiftwell.embedded_runner"].stop()
