"""Courses' part of ``shiftwell demo generate``: courses, units and attempts, in bulk.

Made-up but shaped like a hospital's year: a few popular courses and a long tail,
activity growing towards today, most attempts finished in one sitting, some over days,
some abandoned; about one in six fails and often tries again. Reflections and wellbeing
check-ins get answers (the only step responses written: what reports read), so the
private aggregates have something to count. Rows go in through
:func:`lms_core.generate.bulk_insert` (COPY on PostgreSQL).
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

from courses import services as course_services
from courses.models import (
    Attempt,
    AttemptStatus,
    Course,
    CourseVersion,
    Lesson,
    LmsContext,
    Partner,
    Step,
    StepResponse,
)
from courses.reports import rollups
from courses.steps import registry
from lms_core import signals
from lms_core.extensions import db
from lms_core.generate import bulk_insert, next_id, reset_id_sequence

PARTNER = {"slug": "meridian-health-education", "name": "Meridian Institute of Health Education"}
TOPICS = (
    "Safe handover",
    "Sleep after night shifts",
    "Compassion fatigue",
    "Speaking up for safety",
    "Spotting delirium early",
    "Sepsis screening",
    "Preventing falls",
    "Pressure injury care",
    "Calming an agitated patient",
    "Medication safety",
    "Hand hygiene",
    "Clear documentation",
    "Assessing pain",
    "End-of-life conversations",
    "Moral distress",
    "Micro-breaks that work",
    "Team huddles",
    "Infection control",
    "Psychological safety",
    "Feedback that helps",
)
KINDS = ("essentials", "in practice", "refresher", "for new starters", "advanced")
CREDITS = (
    ("ancc-contact-hours", 0.25),
    ("ancc-contact-hours", 0.5),
    ("ancc-contact-hours", 0.25),
    ("ama-pra-category-1", 0.25),
    ("ipce", 0.25),
    ("none", 0.0),
)
WELLBEING_WEIGHTS = (0.07, 0.18, 0.35, 0.28, 0.12)


@dataclass
class _CourseVersionFacts:
    version_id: int
    created_at: dt.datetime
    max_score: float
    pass_score: float
    minutes: int
    steps: int
    private_steps: list[tuple[int, str]]  # (step id, step type)


@dataclass
class _CourseFacts:
    course_id: int
    versions: list[_CourseVersionFacts]  # oldest first
    pass_rate: float

    def version_at(self, when: dt.datetime) -> _CourseVersionFacts:
        chosen = self.versions[0]
        for version in self.versions[1:]:
            if version.created_at <= when:
                chosen = version
        return chosen


def on_demo_generating(sender: Flask, event: signals.GenerateEvent) -> None:
    if event.stage != "activity":
        return
    rng = random.Random(event.seed * 7919 + 1)  # noqa: S311 - made-up data, repeatable
    made = [_make_course(n, event, rng) for n in range(event.courses)]
    db.session.flush()
    contexts = _contexts(event)
    courses = _course_facts(event, rng)
    if not courses or not event.learners:
        event.messages.append("Courses: no course to take; import one or pass --courses N.")
        return
    counts = _attempts(event, courses, contexts, rng)
    base = current_app.config["BASE_URL"].rstrip("/")
    event.messages.append(
        f"Courses: {len(made)} new courses; {counts['attempts']:,} attempts "
        f"({counts['completed']:,} completed) over {len(courses)} courses in "
        f"{len(contexts)} units; {counts['responses']:,} reflections and check-ins. "
        f"Education staff see them at {base}/reports/."
    )


def _partner() -> Partner:
    partner = db.session.scalar(select(Partner).where(Partner.slug == PARTNER["slug"]))
    if partner is None:
        partner = Partner(slug=PARTNER["slug"], name=PARTNER["name"], settings={})
        db.session.add(partner)
        db.session.flush()
    return partner


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _make_course(n: int, event: signals.GenerateEvent, rng: random.Random) -> Course:
    topic = TOPICS[n % len(TOPICS)]
    kind = KINDS[(n // len(TOPICS)) % len(KINDS)]
    title = f"{topic}: {kind}"
    if n >= len(TOPICS) * len(KINDS):
        title += f" ({n // (len(TOPICS) * len(KINDS)) + 1})"
    slug = f"{_slugify(title)[:40]}-g{event.seed:x}-{n + 1}"[:64]
    course = Course(slug=slug, partner=_partner())
    db.session.add(course)
    credit_type, credit_amount = CREDITS[rng.randrange(len(CREDITS))]
    versions = 2 if rng.random() < 0.12 else 1
    span = (event.end - event.start).total_seconds()
    for sequence in range(1, versions + 1):
        created = (
            event.start
            if sequence == 1
            else event.start + dt.timedelta(seconds=span * rng.uniform(0.3, 0.8))
        )
        version = CourseVersion(
            course=course,
            sequence=sequence,
            version=f"1.{sequence - 1}.0",
            content_hash=uuid.UUID(int=rng.getrandbits(128)).hex * 2,
            title=title,
            summary=f"{topic}, {kind}: a made-up course for demonstrations and benchmarks.",
            language="en",
            estimated_minutes=rng.choice((5, 8, 10, 12, 15, 20)),
            credit_type=credit_type,
            credit_amount=credit_amount,
            pass_score=rng.choice((0.67, 0.75, 0.8)),
            max_attempts=rng.choice((None, None, 3)),
            objectives=[f"Apply {topic.lower()} on a busy shift."],
            tags=["generated", kind],
            licence="Made-up content (shiftwell demo generate)",
            manifest={"generated": True, "slug": slug, "version": f"1.{sequence - 1}.0"},
            created_at=created,
            published_at=created,
        )
        _add_lessons(version, topic, wellbeing=rng.random() < 0.5)
        db.session.add(version)
    return course


def _check(question: str) -> dict[str, Any]:
    return {
        "question": question,
        "options": [
            {"id": "a", "text": "Pause and check first", "correct": True, "feedback": "Yes."},
            {"id": "b", "text": "Carry on and fix it later", "feedback": "Not quite."},
        ],
    }


def _add_lessons(version: CourseVersion, topic: str, wellbeing: bool) -> None:
    plan = [
        (
            "why",
            "Why it matters",
            [
                ("intro", "content", {"body": f"What {topic.lower()} changes for patients."}),
                ("check", "knowledge_check", _check("What comes first?")),
            ],
        ),
        (
            "practice",
            "In practice",
            [
                ("how", "content", {"body": "Three habits that take a minute each."}),
                ("notice", "reflection", {"prompt": "When did this last happen to you?"}),
                ("check", "knowledge_check", _check("Which habit fits a busy ward?")),
            ],
        ),
        (
            "next",
            "On your next shift",
            [
                *(
                    [("checkin", "wellbeing_check", {"question": "How are you today?"})]
                    if wellbeing
                    else []
                ),
                ("check", "knowledge_check", _check("What will you try first?")),
                ("summary", "content", {"body": "A summary to keep."}),
            ],
        ),
    ]
    position = 0
    for number, (key, title, steps) in enumerate(plan, 1):
        lesson = Lesson(
            position=number, key=key, title=title, estimated_minutes=3, source_path=f"{key}.md"
        )
        version.lessons.append(lesson)
        for step_key, step_type, config in steps:
            position += 1
            version.steps.append(
                Step(
                    position=position,
                    key=f"{key}/{step_key}",
                    type=step_type,
                    title=title if step_type == "content" else step_key.capitalize(),
                    required=step_type not in ("reflection", "wellbeing_check"),
                    max_score=1.0 if step_type == "knowledge_check" else 0.0,
                    config=config,
                    lesson=lesson,
                )
            )


def _contexts(event: signals.GenerateEvent) -> list[LmsContext]:
    found = []
    for unit in event.units:
        row = LmsContext(
            tenant_id=event.tenant_id,
            issuer=event.issuer,
            deployment_id=event.deployment_id,
            context_id=unit.context_id,
            title=unit.title,
            created_at=event.start,
            updated_at=event.end,
        )
        db.session.add(row)
        found.append(row)
    db.session.flush()
    return found


def _course_facts(event: signals.GenerateEvent, rng: random.Random) -> list[_CourseFacts]:
    """Every course the tenant offers, with what attempts at it need to know."""
    private = [name for name, kind in registry().items() if kind.private]
    offered = [v.course_id for v in course_services.latest_versions(event.tenant_id)]
    versions = list(
        db.session.scalars(
            select(CourseVersion)
            .where(CourseVersion.course_id.in_(offered), CourseVersion.published_at.is_not(None))
            .order_by(CourseVersion.course_id, CourseVersion.sequence)
        )
    )
    ids = [v.id for v in versions]
    step_rows = db.session.execute(
        select(Step.version_id, Step.id, Step.type, Step.max_score).where(Step.version_id.in_(ids))
    ).all()
    facts: dict[int, _CourseFacts] = {}
    for version in versions:
        steps = [row for row in step_rows if row[0] == version.id]
        max_score = sum(row[3] for row in steps)
        entry = facts.setdefault(
            version.course_id, _CourseFacts(version.course_id, [], rng.uniform(0.72, 0.95))
        )
        entry.versions.append(
            _CourseVersionFacts(
                version_id=version.id,
                created_at=min(version.created_at, event.start)
                if version.sequence == 1
                else version.created_at,
                max_score=max_score,
                pass_score=version.pass_score,
                minutes=version.estimated_minutes,
                steps=len(steps),
                private_steps=[(row[1], row[2]) for row in steps if row[2] in private],
            )
        )
    return list(facts.values())


def _attempts(
    event: signals.GenerateEvent,
    courses: list[_CourseFacts],
    contexts: list[LmsContext],
    rng: random.Random,
) -> dict[str, int]:
    first_attempt = next_id(Attempt.__table__)
    first_response = next_id(StepResponse.__table__)
    # A few courses are taken by many, most by some (Zipf-like), in a random order.
    order = list(range(len(courses)))
    rng.shuffle(order)
    weights = [0.0] * len(courses)
    for rank, index in enumerate(order):
        weights[index] = 1 / (rank + 1) ** 0.8
    cumulative = list(itertools.accumulate(weights))
    total_weight = cumulative[-1]
    learners = event.learners
    span = (event.end - event.start).total_seconds()
    counts = {"attempts": 0, "completed": 0, "responses": 0}
    responses: list[tuple[Any, ...]] = []
    seen: set[tuple[int, int]] = set()

    def rows() -> Iterator[tuple[Any, ...]]:
        attempt_id = first_attempt
        tries = 0
        while counts["attempts"] < event.attempts and tries < event.attempts * 4:
            tries += 1
            learner = learners[int(len(learners) * rng.random() ** 1.15)]
            course_index = bisect.bisect_left(cumulative, rng.random() * total_weight)
            course = courses[min(course_index, len(courses) - 1)]
            if (learner.user_id, course.course_id) in seen:
                continue
            seen.add((learner.user_id, course.course_id))
            context = contexts[learner.unit].id if rng.random() > 0.04 else None
            started = event.start + dt.timedelta(seconds=span * rng.random() ** 0.6)
            number = 1
            while counts["attempts"] < event.attempts:
                row, finished, passed = _attempt(
                    attempt_id, event, learner, course, context, started, number, rng, responses
                )
                yield row
                attempt_id += 1
                counts["attempts"] += 1
                counts["completed"] += finished is not None
                if finished is None or passed or number >= 3 or rng.random() > 0.6:
                    break
                number += 1
                started = finished + dt.timedelta(hours=rng.uniform(0.1, 120))
                if started >= event.end:
                    break

    bulk_insert(
        Attempt.__table__,
        (
            "id",
            "tenant_id",
            "user_id",
            "course_id",
            "version_id",
            "registration",
            "number",
            "status",
            "current_position",
            "score_raw",
            "score_max",
            "passed",
            "active_seconds",
            "started_at",
            "last_active_at",
            "completed_at",
            "lms_context_id",
        ),
        rows(),
    )
    counts["responses"] = bulk_insert(
        StepResponse.__table__,
        (
            "id",
            "tenant_id",
            "attempt_id",
            "step_id",
            "response",
            "completed",
            "created_at",
            "updated_at",
        ),
        ((first_response + n, *row) for n, row in enumerate(responses)),
    )
    reset_id_sequence(Attempt.__table__)
    reset_id_sequence(StepResponse.__table__)
    rollups.rebuild(event.tenant_id)
    return counts


def _attempt(
    attempt_id: int,
    event: signals.GenerateEvent,
    learner: signals.GeneratedLearner,
    course: _CourseFacts,
    context: int | None,
    started: dt.datetime,
    number: int,
    rng: random.Random,
    responses: list[tuple[Any, ...]],
) -> tuple[tuple[Any, ...], dt.datetime | None, bool]:
    version = course.version_at(started)
    active = int(version.minutes * 60 * rng.uniform(0.6, 1.6))
    if rng.random() < 0.8:
        finished: dt.datetime | None = started + dt.timedelta(seconds=active * rng.uniform(1, 1.5))
    else:
        finished = started + dt.timedelta(days=rng.uniform(1, 14))
    if finished > event.end or rng.random() < 0.07:
        finished = None  # still in progress, or left half-way
    passed = False
    raw = maximum = None
    if finished is not None:
        passed = rng.random() < course.pass_rate
        if version.max_score:
            maximum = version.max_score
            lowest_pass = math.ceil(version.pass_score * maximum - 1e-9)
            if lowest_pass <= 0:
                passed = True
            raw = float(
                rng.randint(lowest_pass, int(maximum))
                if passed
                else rng.randint(0, lowest_pass - 1)
            )
        else:
            passed = True
        for step_id, step_type in version.private_steps:
            answered = finished - dt.timedelta(seconds=rng.uniform(30, active / 2 + 31))
            responses.append(
                (
                    event.tenant_id,
                    attempt_id,
                    step_id,
                    _private_answer(step_type, learner.unit, rng),
                    True,
                    answered,
                    answered,
                )
            )
    last_active = finished or started + dt.timedelta(seconds=active * rng.uniform(0.1, 0.7))
    row = (
        attempt_id,
        event.tenant_id,
        learner.user_id,
        course.course_id,
        version.version_id,
        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        number,
        AttemptStatus.COMPLETED if finished else AttemptStatus.IN_PROGRESS,
        version.steps if finished else rng.randint(1, max(1, version.steps)),
        raw,
        maximum,
        passed if finished else None,
        active if finished else int(active * rng.uniform(0.1, 0.7)),
        started,
        last_active,
        finished,
        context,
    )
    return row, finished, passed


def _private_answer(step_type: str, unit: int, rng: random.Random) -> dict[str, Any]:
    if step_type == "wellbeing_check":
        if rng.random() < 0.15:
            return {"skipped": True}
        # Some units have harder months than others.
        shift = 1 if unit % 5 == 0 else 0
        value = rng.choices(range(1, 6), weights=WELLBEING_WEIGHTS)[0]
        return {"value": max(1, value - shift)}
    if rng.random() < 0.45:
        return {"skipped": True}
    return {"text": "(a made-up reflection)"}
