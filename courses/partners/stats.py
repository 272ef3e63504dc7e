"""What partners learn about the use of their courses: counts across every hospital,
protected by :mod:`courses.partners.anonymity`, and how hard each question is.

These are the only queries in Shiftwell that read attempts across tenants, and they
return counts and shares only: no person, no hospital, no free text. Reflections and
other private steps are never read (only knowledge checks are), and previews are not
attempts, so they never count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from courses import markdown
from courses.models import Attempt, AttemptStatus, Course, CourseVersion, Step, StepResponse
from courses.partners.anonymity import Cell, K, ProtectedTable, protect, protect_count
from lms_core.extensions import db

#: Columns of the usage table: where each learner stands with the course.
STATUSES = ("In progress", "Finished, not passed", "Passed")


@dataclass(frozen=True)
class Usage:
    """Learners of a course, each counted once: by the version of the attempt that
    decides their status (their first passed attempt, else their latest one)."""

    versions: list[CourseVersion]  # the table's rows, newest first
    table: ProtectedTable
    hospitals: Cell  # hospitals with learners (shown only when the total is)


def course_usage(course: Course) -> Usage:
    versions = list(
        db.session.scalars(
            select(CourseVersion)
            .where(CourseVersion.course_id == course.id, CourseVersion.published_at.is_not(None))
            .order_by(CourseVersion.sequence.desc())
        )
    )
    # The attempt that decides where a learner stands: their first passed attempt, else
    # their latest one. Ranked in the database, so a course taken by thousands returns a
    # row per version and status, not per attempt.
    passed = and_(Attempt.status == AttemptStatus.COMPLETED, Attempt.passed.is_(True))
    state = case(
        (Attempt.status == AttemptStatus.IN_PROGRESS, 0), (Attempt.passed.is_(True), 2), else_=1
    )
    ranked = (
        select(
            Attempt.version_id,
            state.label("state"),
            func.row_number()
            .over(
                partition_by=(Attempt.tenant_id, Attempt.user_id),
                order_by=(
                    case((passed, 0), else_=1),
                    case((passed, Attempt.number), else_=-Attempt.number),
                ),
            )
            .label("rank"),
        )
        .where(Attempt.course_id == course.id)
        .subquery()
    )
    rows = db.session.execute(
        select(ranked.c.version_id, ranked.c.state, func.count())
        .where(ranked.c.rank == 1)
        .group_by(ranked.c.version_id, ranked.c.state)
    ).all()
    index = {v.id: i for i, v in enumerate(versions)}
    counts = [[0] * len(STATUSES) for _ in versions]
    for version_id, learner_state, count in rows:
        if version_id in index:
            counts[index[version_id]][learner_state] = count
    table = protect(counts) if versions else protect([[0] * len(STATUSES)])
    hospitals = (
        db.session.scalar(
            select(func.count(func.distinct(Attempt.tenant_id))).where(
                Attempt.course_id == course.id
            )
        )
        or 0
    )
    return Usage(
        versions=versions,
        table=table,
        hospitals=Cell(hospitals, table.total.shown and table.total.value > 0),
    )


def learners_per_course(courses: list[Course]) -> dict[int, Cell]:
    """Each course's learner count alone (the usage table's grand total), for overviews."""
    if not courses:
        return {}
    rows = db.session.execute(
        select(Attempt.course_id, Attempt.tenant_id, Attempt.user_id)
        .where(Attempt.course_id.in_([c.id for c in courses]))
        .distinct()
    ).all()
    people = Counter(course_id for course_id, _, _ in rows)
    return {course.id: protect_count(people.get(course.id, 0)) for course in courses}


#: Respondent counts are shown in bands and shares rounded to 5 %: an exact count of a
#: version's respondents would stand beside the usage table and could give back a cell
#: hidden there (the version's learners), and an exact share reveals its denominator.
BANDS = ((50, "50 or more"), (20, "20 to 49"), (10, "10 to 19"), (K, f"{K} to 9"))


def rounded_percent(share: float) -> int:
    return int(5 * round(share * 100 / 5))


@dataclass(frozen=True)
class OptionShare:
    text: str
    share: float  # of respondents

    @property
    def percent(self) -> int:
        return rounded_percent(self.share)


@dataclass(frozen=True)
class QuestionDifficulty:
    """One knowledge check of a version, over each learner's first answer to it."""

    step: Step
    question: str
    respondents: int
    shown: bool  # at least K respondents; otherwise nothing below is filled in
    correct_share: float | None = None
    wrong_option: OptionShare | None = None

    @property
    def band(self) -> str:
        return next(label for floor, label in BANDS if self.respondents >= floor)

    @property
    def correct_percent(self) -> int:
        return rounded_percent(self.correct_share or 0.0)


def question_difficulty(version: CourseVersion) -> list[QuestionDifficulty]:
    steps = list(
        db.session.scalars(
            select(Step)
            .where(Step.version_id == version.id, Step.type == "knowledge_check")
            .order_by(Step.position)
        )
    )
    # Each learner's first try at each question: the earliest of their attempts in which
    # they answered it (a skip has no success and is no try). Counted in the database,
    # grouped by the answer given, so only a handful of rows come back however many
    # learners answered.
    ranked = (
        select(
            StepResponse.step_id,
            StepResponse.success,
            StepResponse.response,
            func.row_number()
            .over(
                partition_by=(StepResponse.step_id, StepResponse.tenant_id, Attempt.user_id),
                order_by=Attempt.number,
            )
            .label("try_number"),
        )
        .join(Attempt, StepResponse.attempt_id == Attempt.id)
        .where(
            StepResponse.step_id.in_([s.id for s in steps]),
            StepResponse.completed.is_(True),
            StepResponse.success.is_not(None),
            Attempt.version_id == version.id,
        )
        .subquery()
    )
    grouped = db.session.execute(
        select(ranked.c.step_id, ranked.c.success, ranked.c.response, func.count())
        .where(ranked.c.try_number == 1)
        .group_by(ranked.c.step_id, ranked.c.success, ranked.c.response)
    ).all()
    by_step: dict[int, list[tuple[list[str], bool, int]]] = {}
    for step_id, success, response, count in grouped:
        selected = list((response or {}).get("selected") or [])
        if selected:
            by_step.setdefault(step_id, []).append((selected, bool(success), count))
    results = []
    for step in steps:
        answers = by_step.get(step.id, [])
        respondents = sum(count for _, _, count in answers)
        question = markdown.plain_text(step.config.get("question", step.title))
        if respondents < K:
            results.append(QuestionDifficulty(step, question, respondents, shown=False))
            continue
        options = {o["id"]: o for o in step.config.get("options", [])}
        wrong: Counter[str] = Counter()
        for selected, ok, count in answers:
            if not ok:
                for option in selected:
                    if option in options and not options[option].get("correct"):
                        wrong[option] += count
        top = None
        if wrong:
            option_id, chosen = sorted(wrong.items(), key=lambda item: (-item[1], item[0]))[0]
            top = OptionShare(markdown.plain_text(options[option_id]["text"]), chosen / respondents)
        results.append(
            QuestionDifficulty(
                step,
                question,
                respondents,
                shown=True,
                correct_share=sum(count for _, ok, count in answers if ok) / respondents,
                wrong_option=top,
            )
        )
    return results
