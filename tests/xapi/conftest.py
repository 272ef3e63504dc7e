"""Fixtures for the LRS: credentials, an HTTP client speaking xAPI, learners' events,
and a real HTTP server on a local port for clients that need one (tincan, forwarding)."""

from __future__ import annotations

import base64
import datetime as dt
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from lms_core import signals
from lms_core.db import utcnow
from lms_core.extensions import db
from lms_core.models import Tenant
from xapi import credentials

XAPI_HEADERS = {"X-Experience-API-Version": "1.0.3"}


@dataclass
class Credentials:
    key: str
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        return {"Authorization": f"Basic {token}", **XAPI_HEADERS}


@pytest.fixture
def make_credentials(app: Flask) -> Any:
    def make(tenant: Tenant, *, read_only: bool = False) -> Credentials:
        with app.app_context():
            loaded = db.session.get(Tenant, tenant.id)
            credential, secret = credentials.create_credential(
                loaded, "tests", can_write=not read_only
            )
            db.session.commit()
            return Credentials(credential.key, secret)

    return make


@pytest.fixture
def lrs(make_credentials: Any, tenant: Tenant) -> Credentials:
    """Read-write credentials of the default tenant."""
    return make_credentials(tenant)


def statement(**overrides: Any) -> dict[str, Any]:
    """A small valid statement, as an LRS client would send it."""
    data: dict[str, Any] = {
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": "https://lms.example.edu", "name": "nurse-1"},
        },
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/experienced",
            "display": {"en-US": "experienced"},
        },
        "object": {"id": "https://courses.example.org/resilience", "objectType": "Activity"},
    }
    data.update(overrides)
    return data


# -- learners' events, as the courses and lti packages send them --------------------------


@dataclass
class LearnerEvents:
    """Sends the core's learner events for one learner, each in its own transaction."""

    app: Flask
    tenant_id: int
    user_id: int
    registration: str
    session_id: str
    course: signals.CourseRef

    def context(self, **kw: Any) -> signals.LearnerContext:
        return signals.LearnerContext(
            tenant_id=self.tenant_id,
            user_id=self.user_id,
            occurred_at=kw.pop("occurred_at", utcnow()),
            attempt_id=1,
            registration=self.registration,
            session_id=self.session_id,
            **kw,
        )

    def send(self, signal: Any, event: Any, *, commit: bool = True) -> None:
        with self.app.app_context():
            signal.send(self.app, event=event)
            if commit:
                db.session.commit()
            else:
                db.session.rollback()

    def launch(self) -> None:
        learner = signals.LearnerContext(
            self.tenant_id, self.user_id, utcnow(), session_id=self.session_id
        )
        self.send(
            signals.launch_completed,
            signals.LaunchEvent(
                learner,
                issuer="https://lms.example.edu",
                deployment_id="deployment-1",
                roles=frozenset({"http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"}),
                context_id="ward-7-course",
                context_title="Ward 7 staff development",
                resource_link_id="link-1",
                course_slug=self.course.slug,
            ),
        )

    def start(self) -> None:
        self.send(signals.attempt_started, signals.AttemptEvent(self.context(), self.course))

    def step(
        self,
        position: int,
        *,
        verb: str = "experienced",
        private: bool = False,
        interaction: dict[str, Any] | None = None,
        result: signals.Result | None = None,
        commit: bool = True,
    ) -> None:
        step = signals.StepRef(
            id=f"lesson-1/step-{position}",
            title=f"Step {position}",
            type="reflection" if private else ("knowledge_check" if interaction else "content"),
            position=position,
            count=3,
            lesson_id="lesson-1",
            lesson_title="Noticing stress",
        )
        activity_type = (
            "http://adlnet.gov/expapi/activities/cmi.interaction"
            if interaction or private
            else "http://adlnet.gov/expapi/activities/lesson"
        )
        self.send(
            signals.step_completed,
            signals.StepEvent(
                self.context(), self.course, step, verb, activity_type, interaction, result, private
            ),
            commit=commit,
        )

    def progress(self, done: int) -> None:
        self.send(
            signals.progress_changed, signals.ProgressEvent(self.context(), self.course, done, 3)
        )

    def complete(self, *, passed: bool = True) -> None:
        result = signals.Result(
            score_scaled=0.9 if passed else 0.4,
            score_raw=9 if passed else 4,
            score_min=0,
            score_max=10,
            success=passed,
            completion=True,
            duration=dt.timedelta(minutes=4, seconds=12.5),
        )
        self.send(
            signals.course_completed,
            signals.CompletionEvent(
                self.context(),
                self.course,
                passed,
                result,
                {"type": "ancc-contact-hours", "amount": 0.25},
            ),
        )


@pytest.fixture
def learner_events(app: Flask, tenant: Tenant, make_user: Any) -> LearnerEvents:
    user = make_user(
        tenant, subject="lti-sub-7f3a", email="nurse@hospital.example", name="Ana Nurse"
    )
    return LearnerEvents(
        app,
        tenant.id,
        user.id,
        registration=str(uuid.uuid4()),
        session_id="session-abc",
        course=signals.CourseRef(
            "resilience-basics", "1.2.0", "Resilience basics", "northbridge", "en-US"
        ),
    )


# -- a real HTTP server -----------------------------------------------------------------


def _free_port(first: int = 5203, last: int = 5299) -> int:
    """Ports 5203+ are this package's on shared development machines."""
    for port in range(first, last + 1):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


class LiveServer:
    """Serves a WSGI app on 127.0.0.1 in a thread; can be stopped and started again on
    the same port (an LRS going down and coming back)."""

    def __init__(self, wsgi_app: Any, port: int | None = None) -> None:
        self.wsgi_app = wsgi_app
        self.port = port or _free_port()
        self.server: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.wsgi_app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            assert self.thread is not None
            self.thread.join(timeout=10)
            self.server = None


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()
