"""Previewing a course version as a learner would take it, without being one.

The player's rules (steps unlock in order, a knowledge check takes one answer, optional
steps may be skipped, the pass score) and the step types' own ``evaluate`` and templates
are the learner's; what differs is where answers go: into the author's
:class:`PreviewState`, never into an attempt, and no signal is sent — so no xAPI
statement, no grade to an LMS, no certificate, no statistic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from courses import services
from courses.models import CourseVersion, Step
from courses.partners.models import PreviewState
from courses.steps import AnswerError, StepType
from lms_core.db import utcnow
from lms_core.errors import InvalidInput, NotFound, Problem
from lms_core.extensions import db
from lms_core.models import User


def state_for(user: User, version: CourseVersion) -> PreviewState:
    state = db.session.scalar(
        select(PreviewState).where(
            PreviewState.user_id == user.id, PreviewState.version_id == version.id
        )
    )
    if state is None:
        state = PreviewState(user_id=user.id, version_id=version.id, responses={})
        state.version = version
        db.session.add(state)
        db.session.flush()
    return state


def restart(user: User, version: CourseVersion) -> None:
    state = state_for(user, version)
    state.responses = {}
    state.current_position = 1
    state.updated_at = utcnow()


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    furthest: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress(state: PreviewState) -> Progress:
    steps = state.version.steps
    done = {key for key, saved in state.responses.items() if saved.get("completed")}
    furthest = next((s.position for s in steps if s.key not in done), len(steps))
    return Progress(len(done & {s.key for s in steps}), len(steps), furthest)


def complete(state: PreviewState) -> bool:
    state_progress = progress(state)
    return state_progress.done >= state_progress.total


@dataclass(frozen=True)
class PreviewScreen:
    state: PreviewState
    step: Step
    step_type: StepType
    response: dict[str, Any] | None
    completed: bool
    progress: Progress
    previous: int | None
    next: int | None
    answerable: bool
    review: bool  # every step done: the learner would be reviewing, as after completion


class StepLocked(Exception):
    def __init__(self, furthest: int) -> None:
        super().__init__(furthest)
        self.furthest = furthest


class AnswerInvalid(InvalidInput):
    def __init__(self, screen: PreviewScreen, field: str, message: str) -> None:
        super().__init__(message, [Problem(message, field)])
        self.screen = screen
        self.field = field


def open_step(state: PreviewState, position: int) -> PreviewScreen:
    steps = state.version.steps
    if not 1 <= position <= len(steps):
        raise NotFound(f"This version has no step {position}.")
    state_progress = progress(state)
    review = state_progress.done >= state_progress.total
    if position > state_progress.furthest and not review:
        raise StepLocked(state_progress.furthest)
    step = steps[position - 1]
    if not review:
        state.current_position = position
    kind = services.step_type(step)
    saved = state.responses.get(step.key)
    response = saved.get("response") if saved else None
    completed = bool(saved and saved.get("completed"))
    return PreviewScreen(
        state=state,
        step=step,
        step_type=kind,
        response=response,
        completed=completed,
        progress=state_progress,
        previous=position - 1 if position > 1 else None,
        next=position + 1 if completed and position < len(steps) else None,
        answerable=not review and kind.answerable(step.config, response),
        review=review,
    )


@dataclass(frozen=True)
class SaveOutcome:
    position: int
    stay: bool
    completed: bool


def save_step(
    state: PreviewState, position: int, form: Mapping[str, list[str]], action: str
) -> SaveOutcome:
    """The player's :func:`courses.services.save_step`, minus the attempt and its events."""
    screen = open_step(state, position)
    step, kind = screen.step, screen.step_type
    count = len(state.version.steps)
    if screen.review:
        return SaveOutcome(position, False, True)
    if action == "skip":
        if step.required:
            raise AnswerInvalid(screen, "action", "This step cannot be skipped.")
        if not screen.completed:
            _store(state, step, {"skipped": True}, completed=True)
        return _outcome(state, position, stay=False)
    if not screen.answerable:
        return _outcome(state, position, stay=False)
    if kind.name in ("content", "guided_practice") and screen.completed:
        return _outcome(state, position, stay=False)
    try:
        evaluation = kind.evaluate(step.config, form, screen.response)
    except AnswerError as exc:
        raise AnswerInvalid(screen, exc.field, exc.message) from None
    _store(
        state,
        step,
        evaluation.response,
        completed=evaluation.completed,
        score=evaluation.score,
        success=evaluation.success,
    )
    stay = kind.name in ("knowledge_check", "scenario") or not evaluation.completed
    done = complete(state)
    return SaveOutcome(position if stay else min(position + 1, count), stay, done)


def _outcome(state: PreviewState, position: int, stay: bool) -> SaveOutcome:
    count = len(state.version.steps)
    return SaveOutcome(position if stay else min(position + 1, count), stay, complete(state))


def _store(
    state: PreviewState,
    step: Step,
    response: dict[str, Any],
    *,
    completed: bool,
    score: float | None = None,
    success: bool | None = None,
) -> None:
    responses = dict(state.responses)
    responses[step.key] = {
        "response": response,
        "completed": completed,
        "score": score,
        "success": success,
    }
    state.responses = responses  # a new dict: JSON columns track assignment, not mutation
    state.updated_at = utcnow()


@dataclass(frozen=True)
class PreviewResult:
    score_raw: float
    score_max: float
    passed: bool

    @property
    def percent(self) -> int | None:
        return round(100 * self.score_raw / self.score_max) if self.score_max else None


def result(state: PreviewState) -> PreviewResult:
    steps = state.version.steps
    raw = sum(
        (state.responses.get(s.key) or {}).get("score") or 0.0
        for s in steps
        if (state.responses.get(s.key) or {}).get("completed")
    )
    maximum = sum(s.max_score for s in steps)
    scaled = raw / maximum if maximum else None
    passed = scaled is None or scaled + 1e-9 >= state.version.pass_score
    return PreviewResult(raw, maximum, passed)
