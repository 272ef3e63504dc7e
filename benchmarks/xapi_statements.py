"""A generator of realistic statements: clinicians taking micro-courses, in our profile.

Each simulated attempt is what the player sends for a real learner — launched,
initialized, a step at a time ("experienced" content, "answered" questions with
interaction definitions and scores, "answered" reflections that say only that they
were done), "progressed" after each step, then completed and passed or failed — built by
the same :class:`xapi.vocabulary.Vocabulary` as production statements.

    python benchmarks/xapi_statements.py 5 | head     # five statements as JSON lines
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import uuid
from collections.abc import Iterator
from typing import Any

from lms_core import signals
from xapi.model import to_json
from xapi.vocabulary import Vocabulary

BASE_URL = "https://shiftwell.example-hospital.org"
ISSUER = "https://lms.example-hospital.org"
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
LESSON = "http://adlnet.gov/expapi/activities/lesson"


class Population:
    """Learners and courses of one hospital: who can take what."""

    def __init__(
        self, seed: int = 1, learners: int = 5000, courses: int = 40, steps: int = 12
    ) -> None:
        self.random = random.Random(seed)
        self.vocabulary = Vocabulary(BASE_URL)
        self.learners = [
            f"lti-{uuid.UUID(int=self.random.getrandbits(128))}" for _ in range(learners)
        ]
        self.courses = [
            signals.CourseRef(
                f"course-{i:03d}", f"1.{i % 4}.0", f"Micro-course {i}", "northbridge", "en-US"
            )
            for i in range(courses)
        ]
        self.steps = steps

    def agent(self, subject: str) -> dict[str, Any]:
        return {"objectType": "Agent", "account": {"homePage": ISSUER, "name": subject}}

    def step_kind(self, position: int) -> str:
        return ("content", "question", "content", "reflection")[position % 4]


def attempts(population: Population, start: dt.datetime) -> Iterator[list[dict[str, Any]]]:
    """Endless attempts, each a list of statements in the order they happen."""
    rnd = population.random
    vocabulary = population.vocabulary
    clock = start
    user_ids = {subject: i + 1 for i, subject in enumerate(population.learners)}
    while True:
        subject = rnd.choice(population.learners)
        course = rnd.choice(population.courses)
        actor = vocabulary.actor(ISSUER, subject, user_ids[subject])
        registration = str(uuid.UUID(int=rnd.getrandbits(128)))
        session = uuid.UUID(int=rnd.getrandbits(128)).hex[:22]
        clock += dt.timedelta(seconds=rnd.uniform(1, 30))

        def learner(
            moment: dt.datetime, user: str = subject, reg: str = registration, sid: str = session
        ) -> signals.LearnerContext:
            return signals.LearnerContext(1, user_ids[user], moment, 1, reg, sid)

        statements = [
            vocabulary.launched(
                signals.LaunchEvent(
                    signals.LearnerContext(1, user_ids[subject], clock, session_id=session),
                    ISSUER,
                    "deployment-1",
                    frozenset({"http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"}),
                    "shell-ward-7",
                    "Ward 7 staff development",
                    f"link-{course.slug}",
                    course.slug,
                ),
                actor,
            ),
            vocabulary.attempt_started(signals.AttemptEvent(learner(clock), course), actor),
        ]
        correct = 0
        questions = 0
        for position in range(1, population.steps + 1):
            clock += dt.timedelta(seconds=rnd.uniform(10, 40))
            kind = population.step_kind(position)
            step = signals.StepRef(
                f"lesson-{(position - 1) // 4 + 1}/step-{position}",
                f"Step {position}",
                {"content": "content", "question": "knowledge_check", "reflection": "reflection"}[
                    kind
                ],
                position,
                population.steps,
                f"lesson-{(position - 1) // 4 + 1}",
                f"Lesson {(position - 1) // 4 + 1}",
            )
            duration = dt.timedelta(seconds=rnd.uniform(10, 40))
            if kind == "question":
                questions += 1
                right = rnd.random() < 0.8
                correct += right
                event = signals.StepEvent(
                    learner(clock),
                    course,
                    step,
                    "answered",
                    INTERACTION,
                    {
                        "interactionType": "choice",
                        "choices": [
                            {"id": c, "description": {"en-US": f"Option {c}"}}
                            for c in ("a", "b", "c", "d")
                        ],
                        "correctResponsesPattern": ["a"],
                    },
                    signals.Result(
                        score_scaled=1.0 if right else 0.0,
                        score_raw=1 if right else 0,
                        score_min=0,
                        score_max=1,
                        success=right,
                        completion=True,
                        duration=duration,
                        response="a" if right else rnd.choice("bcd"),
                    ),
                )
            elif kind == "reflection":
                event = signals.StepEvent(
                    learner(clock),
                    course,
                    step,
                    "answered",
                    INTERACTION,
                    {"interactionType": "long-fill-in"},
                    signals.Result(completion=True, duration=duration),
                    private=True,
                )
            else:
                event = signals.StepEvent(
                    learner(clock),
                    course,
                    step,
                    "experienced",
                    LESSON,
                    None,
                    signals.Result(completion=True, duration=duration),
                )
            statements.append(vocabulary.step_completed(event, actor))
            scaled = correct / questions if questions else 0.0
            statements.append(
                vocabulary.progressed(
                    signals.ProgressEvent(
                        learner(clock),
                        course,
                        position,
                        population.steps,
                        signals.Result(
                            score_scaled=round(scaled, 4),
                            score_raw=correct,
                            score_min=0,
                            score_max=questions or 1,
                        ),
                    ),
                    actor,
                )
            )
        passed = questions == 0 or correct / questions >= 0.7
        statements.extend(
            vocabulary.completed(
                signals.CompletionEvent(
                    learner(clock),
                    course,
                    passed,
                    signals.Result(
                        score_scaled=round(correct / max(questions, 1), 4),
                        score_raw=correct,
                        score_min=0,
                        score_max=max(questions, 1),
                        success=passed,
                        completion=True,
                        duration=dt.timedelta(minutes=rnd.uniform(3, 5)),
                    ),
                    {"type": "ancc-contact-hours", "amount": 0.25},
                ),
                actor,
            )
        )
        yield [to_json(s) for s in statements]


def statements(count: int, seed: int = 1, **population: Any) -> Iterator[dict[str, Any]]:
    """``count`` statements, attempt after attempt, from a fixed seed."""
    made = 0
    start = dt.datetime(2026, 1, 5, 7, 0, tzinfo=dt.UTC)
    for attempt in attempts(Population(seed, **population), start):
        for statement in attempt:
            if made == count:
                return
            yield statement
            made += 1


if __name__ == "__main__":
    for item in statements(int(sys.argv[1]) if len(sys.argv) > 1 else 10):
        sys.stdout.write(json.dumps(item) + "\n")
