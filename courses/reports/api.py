"""The queries behind ``courses.api.course_standings`` and ``courses.api.completions``.

Kept here, beside the other report queries; ``courses.api`` turns nothing else into its
dataclasses, so callers in other packages see only plain values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator

from sqlalchemy import func, select

from courses import api
from courses.models import Attempt, AttemptStatus, Course, CourseVersion
from lms_core.extensions import db


def course_standings(
    tenant_id: int, course_slug: str, user_ids: Collection[int] | None
) -> Iterator[api.CourseStanding]:
    if user_ids is not None and not user_ids:
        return
    stmt = (
        select(
            Attempt.user_id,
            Attempt.status,
            Attempt.passed,
            Attempt.started_at,
            Attempt.completed_at,
            Attempt.score_raw,
            Attempt.score_max,
        )
        .join(Course, Attempt.course_id == Course.id)
        .where(Attempt.tenant_id == tenant_id, Course.slug == course_slug)
        .order_by(Attempt.user_id, Attempt.number)
    )
    if user_ids is not None:
        stmt = stmt.where(Attempt.user_id.in_(list(user_ids)))
    current: api.CourseStanding | None = None
    for user_id, status, passed, started, completed, raw, maximum in db.session.execute(stmt):
        if current is not None and current.user_id != user_id:
            yield current
            current = None
        if current is not None and current.state == "passed":
            continue
        if status == AttemptStatus.IN_PROGRESS:
            state = "in_progress"
        else:
            state = "passed" if passed else "not_passed"
        current = api.CourseStanding(
            user_id=user_id,
            course_slug=course_slug,
            state=state,
            started_at=current.started_at if current is not None else started,
            completed_at=completed,
            score_scaled=(raw or 0.0) / maximum if maximum else None,
        )
    if current is not None:
        yield current


def completions(
    tenant_id: int,
    since: dt.datetime | None,
    until: dt.datetime | None,
    passed_only: bool,
    with_credit_only: bool,
) -> Iterator[api.Completion]:
    stmt = (
        select(
            Attempt.user_id,
            Course.slug,
            CourseVersion.version,
            Attempt.registration,
            Attempt.completed_at,
            Attempt.passed,
            Attempt.score_raw,
            Attempt.score_max,
            CourseVersion.credit_type,
            CourseVersion.credit_amount,
        )
        .join(Course, Attempt.course_id == Course.id)
        .join(CourseVersion, Attempt.version_id == CourseVersion.id)
        .where(Attempt.tenant_id == tenant_id, Attempt.completed_at.is_not(None))
        .order_by(Attempt.completed_at, Attempt.id)
        .execution_options(yield_per=2000)
    )
    if since is not None:
        stmt = stmt.where(Attempt.completed_at >= since)
    if until is not None:
        stmt = stmt.where(Attempt.completed_at < until)
    if passed_only:
        stmt = stmt.where(Attempt.passed.is_(True))
    if with_credit_only:
        stmt = stmt.where(CourseVersion.credit_type != "none", CourseVersion.credit_amount > 0)
    for row in db.session.execute(stmt):
        user_id, slug, version, registration, completed, passed, raw, maximum, kind, amount = row
        has_credit = kind != "none" and amount > 0
        yield api.Completion(
            user_id=user_id,
            course_slug=slug,
            course_version=version,
            registration=registration,
            completed_at=completed,
            passed=bool(passed),
            score_scaled=(raw or 0.0) / maximum if maximum else None,
            credit=api.CreditInfo(kind, float(amount)) if has_credit else None,
        )


def course_titles(slugs: Collection[str]) -> dict[str, str]:
    if not slugs:
        return {}
    newest = (
        select(CourseVersion.course_id, func.max(CourseVersion.sequence).label("sequence"))
        .where(CourseVersion.published_at.is_not(None))  # a partner's draft is no one's yet
        .group_by(CourseVersion.course_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Course.slug, CourseVersion.title)
        .join(Course, CourseVersion.course_id == Course.id)
        .join(
            newest,
            (newest.c.course_id == CourseVersion.course_id)
            & (newest.c.sequence == CourseVersion.sequence),
        )
        .where(Course.slug.in_(list(slugs)))
    )
    return dict(rows.all())
