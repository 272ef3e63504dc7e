"""Fixtures for the courses tests: packages on disk, an imported course, a learner, events."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lms_core import signals
from lms_core.extensions import db
from lms_core.models import Role

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "courses"
RESET = EXAMPLES / "four-minute-reset"


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A writable copy of the four-minute-reset package to change in a test."""
    target = tmp_path / "pkg"
    shutil.copytree(RESET, target)
    return target


def import_course(app: Flask, path: Path, partner: str | None = None) -> Any:
    from courses import services

    with app.app_context():
        result = services.import_package(path, partner)
        db.session.commit()
        return result


@pytest.fixture
def course(app: Flask) -> str:
    import_course(app, RESET)
    return "four-minute-reset"


@pytest.fixture
def learner(make_user: Any, tenant: Any) -> Any:
    return make_user(tenant, roles=(Role.LEARNER,), name="Ana Nurse")


@dataclass
class Recorder:
    """Every event courses sends, as a receiver in another plugin would get it."""

    events: list[tuple[str, Any]] = field(default_factory=list)

    def of(self, name: str) -> list[Any]:
        return [event for kind, event in self.events if kind == name]


SIGNALS = (
    "attempt_started",
    "attempt_resumed",
    "attempt_suspended",
    "step_completed",
    "progress_changed",
    "course_completed",
)


@pytest.fixture
def events(app: Flask) -> Iterator[Recorder]:
    recorder = Recorder()
    receivers = []
    for name in SIGNALS:

        def receive(sender: Any, event: Any, _name: str = name) -> None:
            recorder.events.append((_name, event))

        receivers.append(receive)
        getattr(signals, name).connect(receive, sender=app)
    yield recorder
    for name, receive in zip(SIGNALS, receivers, strict=True):
        getattr(signals, name).disconnect(receive, sender=app)


_FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def step_form_action(html: str) -> str:
    """The step's own form (not "Save and leave")."""
    for action in _FORM_ACTION.findall(html):
        if not action.endswith("/leave"):
            return action
    raise AssertionError("the step has no form")


def answers_for(app: Flask, slug: str, right: bool = True) -> dict[int, dict[str, Any]]:
    """Position → the form a learner posts at that step (right or wrong answers)."""
    from courses import services

    with app.app_context():
        version = services.find_version(slug)
        assert version is not None
        plan: dict[int, dict[str, Any]] = {}
        for step in version.steps:
            config = step.config
            if step.type == "knowledge_check":
                ids = [o["id"] for o in config["options"] if bool(o.get("correct")) == right]
                plan[step.position] = {"action": "answer", "answer": ids[:1] if not right else ids}
            elif step.type == "reflection":
                plan[step.position] = {"action": "save", "text": "I noticed my shoulders drop."}
            elif step.type == "scenario":
                plan[step.position] = {"action": "choose", "scenario": config}
            elif step.type == "wellbeing_check":
                plan[step.position] = {"action": "save", "value": "3"}
            else:
                plan[step.position] = {"action": "continue"}
        return plan


STEP_URL = re.compile(r"/courses/([a-z0-9-]+)/attempts/([0-9a-f-]{36})/steps/(\d+)")
_CONTINUE = re.compile(r'<a class="button" href="([^"]+)">Continue</a>')
_CHOICES = re.compile(r'name="choice" id="choice-[^"]+" value="([^"]+)"')


def take_step(client: Any, url: str, data: dict[str, Any]) -> str:
    """Post one step's answer like a browser; return where the learner goes next."""
    from tests.conftest import csrf_token_from

    page = client.get(url)
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    if "scenario" in data:
        # Take the first choice at each decision point until the scenario ends.
        while True:
            choices = _CHOICES.findall(html)
            if not choices:
                break
            response = client.post(
                url,
                data={
                    "csrf_token": csrf_token_from(html),
                    "action": "choose",
                    "choice": choices[0],
                },
            )
            assert response.status_code == 302
            html = client.get(url).get_data(as_text=True)
        follow = _CONTINUE.search(html)
        assert follow, "a finished scenario offers Continue"
        return follow.group(1)
    response = client.post(url, data={"csrf_token": csrf_token_from(html), **data})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    location = response.headers["Location"]
    if location.split("#")[0] == url:
        html = client.get(url).get_data(as_text=True)
        follow = _CONTINUE.search(html)
        assert follow, "feedback offers Continue"
        return follow.group(1)
    return location


def walk(client: Any, url: str, plan: dict[int, dict[str, Any]], stop_at: int | None = None) -> str:
    """Take steps from ``url`` until the result page (or position ``stop_at``)."""
    while True:
        match = STEP_URL.search(url)
        if match is None:
            return url
        position = int(match.group(3))
        if position == stop_at:
            return url
        url = take_step(client, url, plan[position])


def start(client: Any, slug: str) -> str:
    from tests.conftest import csrf_token_from

    page = client.get(f"/courses/{slug}")
    assert page.status_code == 200
    response = client.post(
        f"/courses/{slug}/start", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))}
    )
    assert response.status_code == 302
    return response.headers["Location"]
