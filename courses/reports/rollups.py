"""Keeping the daily rollups (:mod:`courses.reports.models`) in step with the attempts.

:func:`record_completion` runs inside the transaction that completes an attempt (a
receiver of ``course_completed``), with an upsert that adds to the day's row, so two
learners finishing the same course at once both count. :func:`rebuild` recomputes a
hospital's rows from its attempts in two INSERT ... SELECT statements.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import case, delete, func, insert, literal, literal_column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from courses.models import Attempt, AttemptStatus
from courses.reports.models import CourseDay, UnitDay
from lms_core import signals
from lms_core.extensions import db

#: UnitDay.lms_context_id of attempts started outside any LMS course.
NO_UNIT = 0


def _upsert(model: Any, keys: dict[str, Any], values: dict[str, Any]) -> None:
    dialect = db.session.get_bind().dialect.name
    insert_for = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert_for(model).values(**keys, **values)
    added = {
        name: getattr(model, name) + stmt.excluded[name]
        for name in values
        if name not in ("course_id",)
    }
    db.session.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=added))


def record_completion(attempt: Attempt) -> None:
    if attempt.completed_at is None or attempt.status != AttemptStatus.COMPLETED:
        return
    day = attempt.completed_at.date()
    passed = 1 if attempt.passed else 0
    scored = attempt.score_max is not None and attempt.score_max > 0
    _upsert(
        CourseDay,
        {"tenant_id": attempt.tenant_id, "day": day, "version_id": attempt.version_id},
        {
            "course_id": attempt.course_id,
            "completions": 1,
            "passed": passed,
            "score_sum": (attempt.score_raw or 0.0) / attempt.score_max if scored else 0.0,
            "scored": 1 if scored else 0,
        },
    )
    _upsert(
        UnitDay,
        {
            "tenant_id": attempt.tenant_id,
            "day": day,
            "lms_context_id": attempt.lms_context_id or NO_UNIT,
        },
        {"completions": 1, "passed": passed},
    )


def on_course_completed(sender: Flask, event: signals.CompletionEvent) -> None:
    attempt_id = event.learner.attempt_id
    attempt = db.session.get(Attempt, attempt_id) if attempt_id is not None else None
    if attempt is not None:
        record_completion(attempt)


def rebuild(tenant_id: int) -> tuple[int, int]:
    """Recompute one hospital's rollups from its attempts; the caller commits."""
    db.session.execute(delete(CourseDay).where(CourseDay.tenant_id == tenant_id))
    db.session.execute(delete(UnitDay).where(UnitDay.tenant_id == tenant_id))
    day = func.date(Attempt.completed_at)
    passed = func.sum(case((Attempt.passed.is_(True), 1), else_=0))
    scored = Attempt.score_max > 0
    completed = [Attempt.tenant_id == tenant_id, Attempt.completed_at.is_not(None)]
    db.session.execute(
        insert(CourseDay).from_select(
            [
                "tenant_id",
                "day",
                "version_id",
                "course_id",
                "completions",
                "passed",
                "score_sum",
                "scored",
            ],
            select(
                literal(tenant_id),
                day,
                Attempt.version_id,
                func.min(Attempt.course_id),
                func.count(),
                passed,
                func.coalesce(
                    func.sum(
                        case(
                            (scored, func.coalesce(Attempt.score_raw, 0.0) / Attempt.score_max),
                            else_=0.0,
                        )
                    ),
                    0.0,
                ),
                func.sum(case((scored, 1), else_=0)),
            )
            .where(*completed)
            .group_by(day, Attempt.version_id),
        )
    )
    # One expression object in SELECT and GROUP BY: PostgreSQL matches them by their text,
    # bind parameters included.
    unit = func.coalesce(Attempt.lms_context_id, literal_column(str(NO_UNIT)))
    db.session.execute(
        insert(UnitDay).from_select(
            ["tenant_id", "day", "lms_context_id", "completions", "passed"],
            select(literal(tenant_id), day, unit, func.count(), passed)
            .where(*completed)
            .group_by(day, unit),
        )
    )
    # INSERT ... SELECT reports no row count on every driver: count what is there.
    return (
        db.session.scalar(select(func.count()).where(CourseDay.tenant_id == tenant_id)) or 0,
        db.session.scalar(select(func.count()).where(UnitDay.tenant_id == tenant_id)) or 0,
    )
