"""The world of the reports tests: two hospitals, their education departments and
learners, an imported course with a wellbeing check-in, and attempts made to order."""

from __future__ import annotations

import datetime as dt
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms_core.db import utcnow
from lms_core.extensions import db
from lms_core.models import AuditLog, Role, Tenant, User

CHECK_IN = "shift-check-in"

COURSE_YAML = """\
slug: shift-check-in
version: 1.0.0
title: "A Check-in Between Shifts"
partner:
  slug: lakeside-test
  name: Lakeside Test University
language: en
summary: A short course with a private check-in and a reflection.
estimated_minutes: 5
credit:
  type: ancc-contact-hours
  amount: 0.25
pass_score: 0.5
objectives:
  - Notice how you arrive at a shift.
lessons:
  - lessons/01-arrive.md
"""

LESSON = """\
---
title: Arriving
minutes: 3
---

## How are you?

```step
type: wellbeing_check
id: arrive
question: How are you arriving at this shift?
```

## What do you notice?

```step
type: reflection
id: notice
prompt: What do you notice in your body right now?
```

## One question

```step
type: knowledge_check
id: check
question: What is a check-in for?
options:
  - id: a
    text: Noticing how you are.
    correct: true
    feedback: Yes.
  - id: b
    text: Grading you.
    feedback: No, nobody grades it.
```
"""


def write_check_in_package(root: Path) -> Path:
    (root / "lessons").mkdir(parents=True)
    (root / "course.yaml").write_text(COURSE_YAML)
    (root / "lessons" / "01-arrive.md").write_text(textwrap.dedent(LESSON))
    return root


@pytest.fixture
def check_in(app: Flask, tmp_path: Path) -> str:
    from courses import services

    path = write_check_in_package(tmp_path / "check-in")
    with app.app_context():
        services.import_package(path)
        db.session.commit()
    return CHECK_IN


@pytest.fixture
def reset(app: Flask) -> str:
    from tests.courses.conftest import RESET, import_course

    import_course(app, RESET)
    return "four-minute-reset"


@dataclass
class Hospital:
    tenant: Tenant
    educator: User  # an LTI instructor
    admin: User  # an LTI administrator
    learners: list[User]


@pytest.fixture
def make_hospital(make_tenant: Any, make_user: Any) -> Any:
    def make(slug: str, name: str, learners: int = 3) -> Hospital:
        tenant = make_tenant(slug=slug, name=name)
        people = [
            make_user(
                tenant,
                roles=(Role.LEARNER,),
                name=f"{name.split()[0]} Learner {n + 1}",
                email=f"learner{n + 1}@{slug}.example",
                subject=f"{slug}-learner-{n + 1}",
            )
            for n in range(learners)
        ]
        return Hospital(
            tenant=tenant,
            educator=make_user(tenant, roles=(Role.INSTRUCTOR,), name=f"{name} Educator"),
            admin=make_user(tenant, roles=(Role.ADMINISTRATOR,), name=f"{name} Admin"),
            learners=people,
        )

    return make


@pytest.fixture
def riverside(make_hospital: Any) -> Hospital:
    return make_hospital("riverside", "Riverside General")


@pytest.fixture
def lakeview(make_hospital: Any) -> Hospital:
    return make_hospital("lakeview", "Lakeview Medical")


def days_ago(days: float) -> dt.datetime:
    return utcnow() - dt.timedelta(days=days)


def add_attempt(
    app: Flask,
    user: User,
    slug: str,
    *,
    completed: dt.datetime | None = None,
    passed: bool = True,
    score: tuple[float, float] | None = (3.0, 4.0),
    started: dt.datetime | None = None,
    context: str | None = None,
    number: int = 1,
) -> str:
    """An attempt as the player leaves it (completed when ``completed`` is given)."""
    from courses import services
    from courses.models import Attempt, AttemptStatus, LmsContext
    from courses.reports import rollups

    with app.app_context():
        version = services.find_version(slug)
        assert version is not None
        context_id = None
        if context is not None:
            row = db.session.scalar(
                select(LmsContext).where(
                    LmsContext.tenant_id == user.tenant_id, LmsContext.context_id == context
                )
            )
            if row is None:
                row = LmsContext(
                    tenant_id=user.tenant_id,
                    issuer="https://lms.example.edu",
                    deployment_id="1",
                    context_id=context,
                    title=context.replace("-", " ").title(),
                )
                db.session.add(row)
                db.session.flush()
            context_id = row.id
        start = started or (completed - dt.timedelta(minutes=12) if completed else days_ago(1))
        attempt = Attempt(
            tenant_id=user.tenant_id,
            user_id=user.id,
            course_id=version.course_id,
            version_id=version.id,
            version=version,
            registration=str(uuid.uuid4()),
            number=number,
            status=AttemptStatus.COMPLETED if completed else AttemptStatus.IN_PROGRESS,
            score_raw=score[0] if completed and score else None,
            score_max=score[1] if completed and score else None,
            passed=passed if completed else None,
            active_seconds=600,
            started_at=start,
            last_active_at=completed or start,
            completed_at=completed,
            lms_context_id=context_id,
        )
        db.session.add(attempt)
        db.session.flush()
        # What the player's course_completed does: count it in the daily rollups.
        rollups.record_completion(attempt)
        db.session.commit()
        return attempt.registration


def answer_private(
    app: Flask, registration: str, step_type: str, response: dict[str, Any], when: dt.datetime
) -> None:
    """The learner's answer to a private step of the attempt (as the player saves it)."""
    from courses.models import Attempt, Step, StepResponse

    with app.app_context():
        attempt = db.session.scalar(select(Attempt).where(Attempt.registration == registration))
        assert attempt is not None
        step = db.session.scalar(
            select(Step).where(Step.version_id == attempt.version_id, Step.type == step_type)
        )
        assert step is not None
        db.session.add(
            StepResponse(
                tenant_id=attempt.tenant_id,
                attempt_id=attempt.id,
                step_id=step.id,
                response=response,
                completed=True,
                created_at=when,
                updated_at=when,
            )
        )
        db.session.commit()


def audit_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditLog)) or 0


def last_month_day() -> dt.datetime:
    """A moment in the middle of last month: inside the private aggregates' window."""
    first = utcnow().replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    return first - dt.timedelta(days=14)
