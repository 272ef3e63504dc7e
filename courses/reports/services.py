"""What the education department's pages and exports show, computed in SQL.

Every function takes the tenant id and scopes every query to it. Nothing here returns a
reflection's text or a wellbeing answer: :func:`private_step_summaries` counts them, and
only where at least :data:`MIN_GROUP` different people stand behind a number.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, case, delete, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import ColumnElement

from courses import services as course_services
from courses.models import (
    Attempt,
    AttemptStatus,
    Course,
    CourseVersion,
    HiddenCourse,
    LmsContext,
    Partner,
    Step,
    StepResponse,
)
from courses.reports import periods
from courses.reports.models import CourseDay, PrivateSummary, UnitDay
from courses.reports.periods import Period
from courses.steps import registry
from lms_core.db import utcnow
from lms_core.errors import NotFound
from lms_core.extensions import db
from lms_core.models import Role, User, UserRole

#: Reflections and wellbeing answers are shown only as aggregates over at least this many
#: different people; a smaller group shows nothing at all (not even its size).
MIN_GROUP = 5
#: Private aggregates cover the last complete calendar months, not the dashboard's
#: period: a window that moves once a month cannot be narrowed day by day until one
#: person's answer stands out.
PRIVATE_WINDOW_MONTHS = 3

LEARNERS_PER_PAGE = 50


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _completed_in(period: Period) -> list[ColumnElement[bool]]:
    """Attempts completed in the period (completed_at is set only on completion)."""
    conditions = [Attempt.completed_at < period.end]
    if period.start is not None:
        conditions.append(Attempt.completed_at >= period.start)
    return conditions


def _passed_count() -> Any:
    return func.sum(case((Attempt.passed.is_(True), 1), else_=0))


def credit_label(credit_type: str) -> str:
    return course_services.CREDIT_LABELS.get(credit_type, credit_type)


# -- the dashboard --------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditTotal:
    type: str
    amount: float

    @property
    def label(self) -> str:
        return credit_label(self.type)


@dataclass(frozen=True)
class Summary:
    completions: int
    passed: int
    in_progress: int  # attempts in progress now (whatever the period)
    credit: tuple[CreditTotal, ...]

    @property
    def not_passed(self) -> int:
        return self.completions - self.passed


@dataclass(frozen=True)
class CourseRow:
    course_id: int
    slug: str
    title: str
    partner: str
    completions: int
    passed: int
    average_score: float | None  # 0..1, over scored completions
    in_progress: int
    credit: tuple[CreditTotal, ...]
    hidden: bool

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.completions if self.completions else None


@dataclass(frozen=True)
class ContextRow:
    context_id: int | None  # None: attempts started without an LMS course
    title: str
    completions: int
    passed: int


@dataclass(frozen=True)
class Bucket:
    start: dt.date
    label: str
    passed: int
    not_passed: int

    @property
    def total(self) -> int:
        return self.passed + self.not_passed


@dataclass(frozen=True)
class Series:
    unit: str  # week | month | year
    buckets: tuple[Bucket, ...]

    @property
    def peak(self) -> int:
        return max((b.total for b in self.buckets), default=0)

    @property
    def total(self) -> int:
        return sum(b.total for b in self.buckets)


def _days_in(model: Any, period: Period) -> list[ColumnElement[bool]]:
    conditions = [model.day <= period.until]
    if period.since is not None:
        conditions.append(model.day >= period.since)
    return conditions


@dataclass(frozen=True)
class _VersionCounts:
    version: CourseVersion
    completions: int
    passed: int
    score_sum: float
    scored: int


def _per_version(tenant_id: int, period: Period) -> list[_VersionCounts]:
    """Completions per course version in the period, from the daily rollup."""
    rows = db.session.execute(
        select(
            CourseDay.version_id,
            func.sum(CourseDay.completions),
            func.sum(CourseDay.passed),
            func.sum(CourseDay.score_sum),
            func.sum(CourseDay.scored),
        )
        .where(CourseDay.tenant_id == tenant_id, *_days_in(CourseDay, period))
        .group_by(CourseDay.version_id)
    ).all()
    versions = {
        v.id: v
        for v in db.session.scalars(
            select(CourseVersion).where(CourseVersion.id.in_([row[0] for row in rows]))
        )
    }
    return [
        _VersionCounts(versions[v], int(c or 0), int(p or 0), float(s or 0), int(n or 0))
        for v, c, p, s, n in rows
        if v in versions
    ]


def summary(
    tenant_id: int, period: Period, counts: Sequence[_VersionCounts] | None = None
) -> Summary:
    counts = _per_version(tenant_id, period) if counts is None else counts
    in_progress = db.session.scalar(
        select(func.count()).where(
            Attempt.tenant_id == tenant_id, Attempt.status == AttemptStatus.IN_PROGRESS
        )
    )
    credit: dict[str, float] = {}
    for c in counts:
        if c.version.has_credit and c.passed:
            kind = c.version.credit_type
            credit[kind] = credit.get(kind, 0.0) + c.passed * float(c.version.credit_amount)
    return Summary(
        completions=sum(c.completions for c in counts),
        passed=sum(c.passed for c in counts),
        in_progress=in_progress or 0,
        credit=tuple(CreditTotal(t, a) for t, a in sorted(credit.items())),
    )


def _bucket_expression(unit: str) -> Any:
    if _dialect() == "postgresql":
        return func.date_trunc(unit, CourseDay.day)
    if unit == "week":  # Monday of the week: the next Sunday (or today), less six days
        return func.date(CourseDay.day, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-01" if unit == "month" else "%Y-01-01", CourseDay.day)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def completions_over_time(tenant_id: int, period: Period) -> Series:
    since = period.since
    if since is None:
        first = db.session.scalar(
            select(func.min(CourseDay.day)).where(CourseDay.tenant_id == tenant_id)
        )
        since = _as_date(first) if first else period.until
    unit = periods.granularity(since, period.until)
    bucket = _bucket_expression(unit).label("bucket")
    counted = {
        _as_date(start): (int(passed or 0), int(total or 0))
        for start, total, passed in db.session.execute(
            select(bucket, func.sum(CourseDay.completions), func.sum(CourseDay.passed))
            .where(CourseDay.tenant_id == tenant_id, *_days_in(CourseDay, period))
            .group_by(bucket)
        )
    }
    return Series(
        unit,
        tuple(
            Bucket(
                start,
                periods.bucket_label(start, unit),
                counted.get(start, (0, 0))[0],
                counted.get(start, (0, 0))[1] - counted.get(start, (0, 0))[0],
            )
            for start in periods.buckets(since, period.until, unit)
        ),
    )


def _in_progress_by_course(tenant_id: int) -> dict[int, int]:
    """Attempts open right now, per course: a fact of today, whatever the period."""
    return dict(
        db.session.execute(
            select(Attempt.course_id, func.count())
            .where(Attempt.tenant_id == tenant_id, Attempt.status == AttemptStatus.IN_PROGRESS)
            .group_by(Attempt.course_id)
        ).all()
    )


def by_course(
    tenant_id: int, period: Period, counts: Sequence[_VersionCounts] | None = None
) -> list[CourseRow]:
    """Every course of the catalog (hidden ones too), with what happened in the period."""
    counts = _per_version(tenant_id, period) if counts is None else counts
    in_progress = _in_progress_by_course(tenant_id)
    latest = {v.course_id: v for v in course_services.latest_versions()}
    hidden = set(
        db.session.scalars(
            select(HiddenCourse.course_id).where(HiddenCourse.tenant_id == tenant_id)
        )
    )
    totals: dict[int, dict[str, Any]] = {}
    for c in counts:
        entry = totals.setdefault(
            c.version.course_id,
            {"count": 0, "passed": 0, "score_sum": 0.0, "scored": 0, "credit": {}},
        )
        entry["count"] += c.completions
        entry["passed"] += c.passed
        entry["score_sum"] += c.score_sum
        entry["scored"] += c.scored
        if c.version.has_credit and c.passed:
            credit = entry["credit"]
            kind = c.version.credit_type
            credit[kind] = credit.get(kind, 0.0) + float(c.version.credit_amount) * c.passed
    rows = []
    for course_id, version in latest.items():
        entry = totals.get(course_id, {})
        rows.append(
            CourseRow(
                course_id=course_id,
                slug=version.course.slug,
                title=version.title,
                partner=version.course.partner.name,
                completions=entry.get("count", 0),
                passed=entry.get("passed", 0),
                average_score=entry["score_sum"] / entry["scored"] if entry.get("scored") else None,
                in_progress=in_progress.get(course_id, 0),
                credit=tuple(CreditTotal(t, a) for t, a in sorted(entry.get("credit", {}).items())),
                hidden=course_id in hidden,
            )
        )
    rows.sort(key=lambda r: (-r.completions, -r.in_progress, r.title.lower()))
    return rows


def by_context(tenant_id: int, period: Period) -> list[ContextRow]:
    """Completions by the LMS course (unit) the attempts were started from."""
    rows = db.session.execute(
        select(UnitDay.lms_context_id, func.sum(UnitDay.completions), func.sum(UnitDay.passed))
        .where(UnitDay.tenant_id == tenant_id, *_days_in(UnitDay, period))
        .group_by(UnitDay.lms_context_id)
    ).all()
    titles = {
        c.id: c.display_title
        for c in db.session.scalars(
            LmsContext.for_tenant(tenant_id).where(LmsContext.id.in_([r[0] for r in rows if r[0]]))
        )
    }
    found = [
        ContextRow(
            context_id=context_id or None,
            title=titles.get(context_id, "") if context_id else "Not started from an LMS course",
            completions=int(count or 0),
            passed=int(passed or 0),
        )
        for context_id, count, passed in rows
    ]
    # Units by size; attempts without a unit (opened directly) last.
    found.sort(key=lambda r: (r.context_id is None, -r.completions, r.title.lower()))
    return found


@dataclass(frozen=True)
class Dashboard:
    summary: Summary
    series: Series
    courses: list[CourseRow]
    contexts: list[ContextRow]
    private: PrivateSummaries


def dashboard(tenant_id: int, period: Period, today: dt.date) -> Dashboard:
    """Everything the dashboard shows, from the rollups and small indexed counts only.

    Numbers that need every attempt of the period (how many different learners, who
    earned the most credit) are on the learners page: at 500,000 attempts each costs
    about 100 ms on PostgreSQL, a third of the dashboard's budget (docs/benchmarks.md).
    """
    counts = _per_version(tenant_id, period)
    return Dashboard(
        summary=summary(tenant_id, period, counts),
        series=completions_over_time(tenant_id, period),
        courses=by_course(tenant_id, period, counts),
        contexts=by_context(tenant_id, period),
        private=private_step_summaries(tenant_id, today),
    )


def _credit_by_user(
    tenant_id: int, user_ids: Sequence[int], period: Period | None
) -> dict[int, tuple[CreditTotal, ...]]:
    if not user_ids:
        return {}
    conditions = [
        Attempt.tenant_id == tenant_id,
        Attempt.user_id.in_(user_ids),
        Attempt.passed.is_(True),
        CourseVersion.credit_type != "none",
        CourseVersion.credit_amount > 0,
    ]
    if period is not None:
        conditions.extend(_completed_in(period))
    found: dict[int, list[CreditTotal]] = {}
    for user_id, credit_type, amount in db.session.execute(
        select(Attempt.user_id, CourseVersion.credit_type, func.sum(CourseVersion.credit_amount))
        .join(CourseVersion, Attempt.version_id == CourseVersion.id)
        .where(*conditions)
        .group_by(Attempt.user_id, CourseVersion.credit_type)
        .order_by(Attempt.user_id, CourseVersion.credit_type)
    ):
        found.setdefault(user_id, []).append(CreditTotal(credit_type, float(amount or 0)))
    return {user_id: tuple(rows) for user_id, rows in found.items()}


def _names(tenant_id: int, user_ids: Sequence[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return {
        user.id: user.display_name
        for user in db.session.scalars(
            select(User).where(User.tenant_id == tenant_id, User.id.in_(user_ids))
        )
    }


# -- reflections and wellbeing: aggregates only -------------------------------------------


@dataclass(frozen=True)
class AnswerShare:
    label: str
    answers: int
    share: float  # of all answers to the step, 0..1


@dataclass(frozen=True)
class PrivateStepSummary:
    """What a hospital may know about a private step: how many answered, and (for steps
    with fixed choices) how the answers fall, when at least MIN_GROUP people answered."""

    course_title: str
    step_title: str
    step_type: str
    people: int
    answers: int
    distribution: tuple[AnswerShare, ...] = ()


@dataclass(frozen=True)
class PrivateSummaries:
    since: dt.date
    until: dt.date  # inclusive
    shown: tuple[PrivateStepSummary, ...]

    @property
    def label(self) -> str:
        last = self.until
        if self.since.year == last.year:
            return f"{self.since:%B} to {last:%B %Y}"
        return f"{self.since:%B %Y} to {last:%B %Y}"


def private_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """[first day, last day] of the last PRIVATE_WINDOW_MONTHS complete months."""
    this_month = today.replace(day=1)
    return (
        periods.add_months(this_month, -PRIVATE_WINDOW_MONTHS),
        this_month - dt.timedelta(days=1),
    )


def json_text(column: Any, key: str) -> Any:
    """``column ->> key`` on every backend (None when the key is absent)."""
    if _dialect() == "postgresql":
        return column.op("->>", return_type=String)(literal(key, String))
    return func.json_extract(column, f"$.{key}")


def private_step_summaries(tenant_id: int, today: dt.date | None = None) -> PrivateSummaries:
    """Counts (and answer shares) of reflections and wellbeing check-ins, never the answers.

    A step answered by fewer than MIN_GROUP different people is left out entirely (not
    even its existence shows): a small group's numbers would point at individuals. The
    window's months are over, so the result is kept (:class:`PrivateSummary`) and
    computed once per hospital and month; the caller commits.
    """
    since, until = private_window(today or utcnow().date())
    kept = db.session.get(PrivateSummary, (tenant_id, since))
    if kept is not None and kept.window_end == until:
        return PrivateSummaries(since, until, tuple(_summary_from(row) for row in kept.rows))
    shown = _count_private(tenant_id, since, until)
    dialect = _dialect()
    insert_for = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert_for(PrivateSummary)
        .values(
            tenant_id=tenant_id,
            window_start=since,
            window_end=until,
            computed_at=utcnow(),
            rows=[dataclasses.asdict(row) for row in shown],
        )
        .on_conflict_do_nothing()
    )
    return PrivateSummaries(since, until, shown)


def _summary_from(row: dict[str, Any]) -> PrivateStepSummary:
    return PrivateStepSummary(
        course_title=row["course_title"],
        step_title=row["step_title"],
        step_type=row["step_type"],
        people=row["people"],
        answers=row["answers"],
        distribution=tuple(AnswerShare(**share) for share in row["distribution"]),
    )


def forget_private_summaries(tenant_id: int) -> None:
    """Drop the kept aggregates (after people were deleted, or data repaired)."""
    db.session.execute(delete(PrivateSummary).where(PrivateSummary.tenant_id == tenant_id))


def _count_private(
    tenant_id: int, since: dt.date, until: dt.date
) -> tuple[PrivateStepSummary, ...]:
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    types = registry()
    private = [name for name, kind in types.items() if kind.private]
    if not private:
        return ()
    answered = [
        StepResponse.tenant_id == tenant_id,
        StepResponse.completed.is_(True),
        StepResponse.updated_at >= start,
        StepResponse.updated_at < end,
        Step.type.in_(private),
        json_text(StepResponse.response, "skipped").is_(None),
    ]

    def joined(*columns: Any) -> Any:
        return (
            select(*columns)
            .select_from(StepResponse)
            .join(Step, StepResponse.step_id == Step.id)
            .join(CourseVersion, Step.version_id == CourseVersion.id)
            .join(Attempt, StepResponse.attempt_id == Attempt.id)
            .where(*answered, Attempt.tenant_id == tenant_id)
        )

    groups = db.session.execute(
        joined(
            CourseVersion.course_id,
            Step.key,
            Step.type,
            func.count(func.distinct(Attempt.user_id)),
            func.count(),
        ).group_by(CourseVersion.course_id, Step.key, Step.type)
    ).all()
    large = [g for g in groups if g[3] >= MIN_GROUP]
    if not large:
        return ()
    latest = {v.course_id: v for v in course_services.latest_versions()}
    steps = {
        (step.version_id, step.key): step
        for step in db.session.scalars(
            select(Step).where(Step.version_id.in_([v.id for v in latest.values()]))
        )
    }
    wanted = {(course_id, key) for course_id, key, *_ in large}
    shares: dict[tuple[int, str], dict[str, int]] = {}
    for name in private:
        field_name = types[name].aggregate_field
        if field_name is None or not any(kind == name for _, _, kind, *_ in large):
            continue
        value = json_text(StepResponse.response, field_name)
        for course_id, key, answer, count in db.session.execute(
            joined(CourseVersion.course_id, Step.key, value, func.count())
            .where(Step.type == name)
            .group_by(CourseVersion.course_id, Step.key, value)
        ):
            if (course_id, key) in wanted:
                shares.setdefault((course_id, key), {})[str(answer)] = count
    shown = []
    for course_id, key, kind, people, answers in large:
        version = latest.get(course_id)
        step = steps.get((version.id, key)) if version else None
        distribution: tuple[AnswerShare, ...] = ()
        counts = shares.get((course_id, key))
        if counts is not None and step is not None:
            labels = types[kind].aggregate_labels(step.config)
            total = sum(counts.values()) or 1
            distribution = tuple(
                AnswerShare(label, counts.get(value, 0), counts.get(value, 0) / total)
                for value, label in labels
            )
        shown.append(
            PrivateStepSummary(
                course_title=version.title if version else "",
                step_title=step.title if step else key,
                step_type=types[kind].label,
                people=people,
                answers=answers,
                distribution=distribution,
            )
        )
    shown.sort(key=lambda s: (s.course_title.lower(), s.step_title.lower()))
    return tuple(shown)


# -- learners and transcripts ----------------------------------------------------------------


SORTS = {
    "name": "Name",
    "credit": "Most courses passed with CE credit",
    "completions": "Most completions",
    "recent": "Most recent activity",
}


@dataclass(frozen=True)
class LearnerRow:
    user_id: int
    name: str
    email: str | None
    subject: str | None
    completions: int
    passed: int
    in_progress: int
    credit: tuple[CreditTotal, ...]
    last_active: dt.datetime | None


@dataclass(frozen=True)
class LearnerPage:
    rows: tuple[LearnerRow, ...]
    total: int
    page: int
    pages: int
    completed: int  # different learners who completed a course in the period


def _learners(tenant_id: int, query: str | None) -> Any:
    """A hospital's learners from its LMS: people with the learner role, and staff who
    took a course themselves (not local administrator accounts); optionally searched."""
    learner_role = select(UserRole.user_id).where(UserRole.role == Role.LEARNER)
    took_a_course = select(Attempt.id).where(
        Attempt.tenant_id == tenant_id, Attempt.user_id == User.id
    )
    stmt = select(User).where(
        User.tenant_id == tenant_id,
        User.issuer.is_not(None),
        or_(User.id.in_(learner_role), took_a_course.exists()),
    )
    if query:
        pattern = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(User.name).like(pattern),
                func.lower(User.given_name + " " + User.family_name).like(pattern),
                func.lower(User.email).like(pattern),
                User.subject == query,
            )
        )
    return stmt


def learner_page(
    tenant_id: int, period: Period, query: str | None = None, sort: str = "name", page: int = 1
) -> LearnerPage:
    stmt = _learners(tenant_id, query)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // LEARNERS_PER_PAGE))
    page = min(max(page, 1), pages)
    name_key = func.lower(
        func.coalesce(User.family_name, User.name, User.email, User.subject, literal(""))
    )
    if sort in ("credit", "completions", "recent"):
        conditions: list[Any] = [Attempt.tenant_id == tenant_id]
        if sort == "recent":
            column = func.max(func.coalesce(Attempt.completed_at, Attempt.last_active_at))
        else:
            column = func.count(Attempt.id)
            conditions.extend(_completed_in(period))
        if sort == "credit":
            conditions.extend(
                [
                    Attempt.passed.is_(True),
                    Attempt.version_id.in_(
                        select(CourseVersion.id).where(
                            CourseVersion.credit_type != "none", CourseVersion.credit_amount > 0
                        )
                    ),
                ]
            )
        activity = (
            select(Attempt.user_id, column.label("key"))
            .where(*conditions)
            .group_by(Attempt.user_id)
            .subquery()
        )
        stmt = stmt.outerjoin(activity, activity.c.user_id == User.id).order_by(
            activity.c.key.desc().nulls_last(), name_key, User.id
        )
    else:
        stmt = stmt.order_by(name_key, func.lower(func.coalesce(User.given_name, "")), User.id)
    users = list(
        db.session.scalars(stmt.limit(LEARNERS_PER_PAGE).offset((page - 1) * LEARNERS_PER_PAGE))
    )
    ids = [u.id for u in users]
    stats: dict[int, tuple[int, int]] = {}
    last: dict[int, dt.datetime] = {}
    in_progress: dict[int, int] = {}
    if ids:
        stats = {
            user_id: (count, int(passed or 0))
            for user_id, count, passed in db.session.execute(
                select(Attempt.user_id, func.count(), _passed_count())
                .where(
                    Attempt.tenant_id == tenant_id, Attempt.user_id.in_(ids), *_completed_in(period)
                )
                .group_by(Attempt.user_id)
            )
        }
        for user_id, status, count, latest in db.session.execute(
            select(
                Attempt.user_id,
                Attempt.status,
                func.count(),
                func.max(Attempt.last_active_at),
            )
            .where(Attempt.tenant_id == tenant_id, Attempt.user_id.in_(ids))
            .group_by(Attempt.user_id, Attempt.status)
        ):
            if status == AttemptStatus.IN_PROGRESS:
                in_progress[user_id] = count
            if latest is not None and (user_id not in last or latest > last[user_id]):
                last[user_id] = latest
    credit = _credit_by_user(tenant_id, ids, period)
    rows = tuple(
        LearnerRow(
            user_id=u.id,
            name=u.display_name,
            email=u.email,
            subject=u.subject,
            completions=stats.get(u.id, (0, 0))[0],
            passed=stats.get(u.id, (0, 0))[1],
            in_progress=in_progress.get(u.id, 0),
            credit=credit.get(u.id, ()),
            last_active=last.get(u.id),
        )
        for u in users
    )
    completed = db.session.scalar(
        select(func.count()).select_from(
            select(Attempt.user_id)
            .where(Attempt.tenant_id == tenant_id, *_completed_in(period))
            .distinct()
            .subquery()
        )
    )
    return LearnerPage(rows, total, page, pages, completed or 0)


@dataclass(frozen=True)
class TranscriptRow:
    registration: str
    course_slug: str
    course_title: str
    version: str
    partner: str
    context: str | None
    attempt_number: int
    status: str  # "In progress" | "Passed" | "Not passed"
    started_at: dt.datetime
    completed_at: dt.datetime | None
    score: float | None  # 0..1
    credit: CreditTotal | None  # earned (passed courses with credit only)
    active_minutes: int


@dataclass(frozen=True)
class Transcript:
    user_id: int
    name: str
    email: str | None
    subject: str | None
    issuer: str | None
    roles: tuple[str, ...]
    rows: tuple[TranscriptRow, ...]
    credit: tuple[CreditTotal, ...]  # earned in the period

    @property
    def completed(self) -> int:
        return sum(1 for r in self.rows if r.completed_at is not None)


def get_learner(tenant_id: int, user_id: int) -> User:
    """A person of this hospital; anyone else (another hospital's too) is "not found"."""
    user = db.session.scalar(select(User).where(User.tenant_id == tenant_id, User.id == user_id))
    if user is None:
        raise NotFound("There is no such learner at your hospital.")
    return user


def transcript(tenant_id: int, user_id: int, period: Period | None = None) -> Transcript:
    """One learner's courses, newest first: attempts started, or completed, in the period."""
    user = get_learner(tenant_id, user_id)
    stmt = (
        select(Attempt, CourseVersion, LmsContext.title, LmsContext.context_id)
        .join(CourseVersion, Attempt.version_id == CourseVersion.id)
        .outerjoin(LmsContext, Attempt.lms_context_id == LmsContext.id)
        .where(Attempt.tenant_id == tenant_id, Attempt.user_id == user.id)
        .order_by(func.coalesce(Attempt.completed_at, Attempt.started_at).desc(), Attempt.id.desc())
    )
    if period is not None:
        if period.start is not None:
            stmt = stmt.where(
                or_(
                    Attempt.completed_at >= period.start,
                    Attempt.status == AttemptStatus.IN_PROGRESS,
                )
            )
        stmt = stmt.where(Attempt.started_at < period.end)
    rows = []
    totals: dict[str, float] = {}
    for attempt, version, context_title, context_id in db.session.execute(stmt):
        if attempt.status == AttemptStatus.IN_PROGRESS:
            status = "In progress"
        else:
            status = "Passed" if attempt.passed else "Not passed"
        earned = None
        if attempt.passed and version.has_credit:
            earned = CreditTotal(version.credit_type, float(version.credit_amount))
            if period is None or attempt.completed_at < period.end:
                totals[version.credit_type] = totals.get(version.credit_type, 0.0) + earned.amount
        rows.append(
            TranscriptRow(
                registration=attempt.registration,
                course_slug=version.course.slug,
                course_title=version.title,
                version=version.version,
                partner=version.course.partner.name,
                context=context_title or (f"LMS course {context_id}" if context_id else None),
                attempt_number=attempt.number,
                status=status,
                started_at=attempt.started_at,
                completed_at=attempt.completed_at,
                score=attempt.score_scaled,
                credit=earned,
                active_minutes=round(attempt.active_seconds / 60),
            )
        )
    return Transcript(
        user_id=user.id,
        name=user.display_name,
        email=user.email,
        subject=user.subject,
        issuer=user.issuer,
        roles=tuple(sorted(role.label for role in user.roles)),
        rows=tuple(rows),
        credit=tuple(CreditTotal(t, a) for t, a in sorted(totals.items())),
    )


# -- the catalog ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogRow:
    slug: str
    title: str
    version: str
    partner: str
    minutes: int
    credit: CreditTotal | None
    hidden: bool
    in_progress: int  # this hospital's attempts in progress


def catalog(tenant_id: int) -> list[CatalogRow]:
    """Every course (latest version), whether this hospital shows it, by title."""
    hidden = set(
        db.session.scalars(
            select(HiddenCourse.course_id).where(HiddenCourse.tenant_id == tenant_id)
        )
    )
    in_progress = _in_progress_by_course(tenant_id)
    return [
        CatalogRow(
            slug=v.course.slug,
            title=v.title,
            version=v.version,
            partner=v.course.partner.name,
            minutes=v.estimated_minutes,
            credit=CreditTotal(v.credit_type, v.credit_amount) if v.has_credit else None,
            hidden=v.course_id in hidden,
            in_progress=in_progress.get(v.course_id, 0),
        )
        for v in course_services.latest_versions()
    ]


# -- completions, row by row (CSV export) --------------------------------------------------


COMPLETION_COLUMNS = (
    "learner_name",
    "learner_email",
    "lms_user_id",
    "lms",
    "course",
    "course_title",
    "course_version",
    "partner",
    "lms_course_id",
    "lms_course_title",
    "attempt",
    "started_at",
    "completed_at",
    "score_percent",
    "passed",
    "credit_type",
    "credit_amount",
    "active_minutes",
    "registration",
)


#: The columns whose text comes from people, LMSs and partners (names, titles, ids): the
#: ones a spreadsheet could be tricked into running as formulas.
TEXT_COLUMNS = frozenset(range(10))


def completion_rows(
    tenant_id: int, period: Period, user_id: int | None = None, batch: int = 2000
) -> Iterator[tuple[Any, ...]]:
    """Every attempt completed in the period, oldest first, as tuples of plain values in
    the order of :data:`COMPLETION_COLUMNS`.

    Streams from the database in batches (a server-side cursor on PostgreSQL), so an
    export of half a million rows never sits in memory.
    """
    stmt = (
        select(
            User.name,
            User.given_name,
            User.family_name,
            User.email,
            User.subject,
            User.issuer,
            Course.slug,
            CourseVersion.title,
            CourseVersion.version,
            Partner.slug,
            LmsContext.context_id,
            LmsContext.title,
            Attempt.number,
            Attempt.started_at,
            Attempt.completed_at,
            Attempt.score_raw,
            Attempt.score_max,
            Attempt.passed,
            CourseVersion.credit_type,
            CourseVersion.credit_amount,
            Attempt.active_seconds,
            Attempt.registration,
        )
        .select_from(Attempt)
        .join(User, Attempt.user_id == User.id)
        .join(CourseVersion, Attempt.version_id == CourseVersion.id)
        .join(Course, Attempt.course_id == Course.id)
        .join(Partner, Course.partner_id == Partner.id)
        .outerjoin(LmsContext, Attempt.lms_context_id == LmsContext.id)
        .where(Attempt.tenant_id == tenant_id, User.tenant_id == tenant_id, *_completed_in(period))
        .order_by(Attempt.completed_at, Attempt.id)
        .execution_options(yield_per=batch)
    )
    if user_id is not None:
        stmt = stmt.where(Attempt.user_id == user_id)
    # Core execution, not the ORM's: a third of the time per row at half a million rows.
    for row in db.session.connection().execute(stmt):
        (
            name,
            given,
            family,
            email,
            subject,
            issuer,
            slug,
            title,
            version,
            partner,
            context_id,
            context_title,
            number,
            started,
            completed,
            raw,
            maximum,
            passed,
            credit_type,
            credit_amount,
            seconds,
            registration,
        ) = row
        earned = bool(passed) and credit_type != "none" and credit_amount > 0
        yield (
            name or " ".join(p for p in (given, family) if p) or "",
            email or "",
            subject or "",
            issuer or "",
            slug,
            title,
            version,
            partner,
            context_id or "",
            context_title or "",
            number,
            started.isoformat(timespec="seconds"),
            completed.isoformat(timespec="seconds"),
            "" if not maximum else f"{100 * (raw or 0) / maximum:.0f}",
            "yes" if passed else "no",
            credit_type if earned else "",
            f"{credit_amount:g}" if earned else "0",
            round(seconds / 60),
            registration,
        )
