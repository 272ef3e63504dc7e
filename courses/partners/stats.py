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

from sqlalchemy import select

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


def _status(status: AttemptStatus, passed: bool | None) -> int:
    """The column of :data:`STATUSES` an attempt puts its learner in."""
    if status == AttemptStatus.IN_PROGRESS:
        return 0
    return 2 if passed else 1


def course_usage(course: Course) -> Usage:
    versions = list(
        db.session.scalars(
            select(CourseVersion)
            .where(CourseVersion.course_id == course.id, CourseVersion.published_at.is_not(None))
            .order_by(CourseVersion.sequence.desc())
        )
    )
    rows = db.session.execute(
        select(
            Attempt.tenant_id,
            Attempt.user_id,
            Attempt.version_id,
            Attempt.number,
            Attempt.status,
            Attempt.passed,
        ).where(Attempt.course_id == course.id)
    ).all()
    deciding: dict[tuple[int, int], tuple[tuple[int, int], int, int]] = {}
    for tenant_id, user_id, version_id, number, status, passed in rows:
        state = _status(status, passed)
        # A passed attempt decides (the first one); otherwise the latest attempt does.
        rank = (1, -number) if state == 2 else (0, number)
        key = (tenant_id, user_id)
        if key not in deciding or rank > deciding[key][0]:
            deciding[key] = (rank, version_id, state)
    index = {v.id: i for i, v in enumerate(versions)}
    counts = [[0] * len(STATUSES) for _ in versions]
    for _, version_id, state in deciding.values():
        if version_id in index:
            counts[index[version_id]][state] += 1
    table = protect(counts) if versions else protect([[0] * len(STATUSES)])
    hospitals = len({tenant_id for tenant_id, _ in deciding})
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
    rows = db.session.execute(
        select(
            StepResponse.step_id,
            StepResponse.tenant_id,
            Attempt.user_id,
            Attempt.number,
            StepResponse.response,
            StepResponse.success,
        )
        .join(Attempt, StepResponse.attempt_id == Attempt.id)
        .where(
            StepResponse.step_id.in_([s.id for s in steps]),
            StepResponse.completed.is_(True),
            Attempt.version_id == version.id,
        )
    ).all()
    first: dict[tuple[int, int, int], tuple[int, list[str], bool]] = {}
    for step_id, tenant_id, user_id, number, response, success in rows:
        selected = list((response or {}).get("selected") or [])
        if not selected:
            continue  # skipped, not answered
        key = (step_id, tenant_id, user_id)
        if key not in first or number < first[key][0]:
            first[key] = (number, selected, bool(success))
    results = []
    for step in steps:
        answers = [(sel, ok) for (sid, _, _), (_, sel, ok) in first.items() if sid == step.id]
        question = markdown.plain_text(step.config.get("question", step.title))
        if len(answers) < K:
            results.append(QuestionDifficulty(step, question, len(answers), shown=False))
            continue
        options = {o["id"]: o for o in step.config.get("options", [])}
        wrong: Counter[str] = Counter()
        for selected, ok in answers:
            if not ok:
                wrong.update(o for o in selected if o in options and not options[o].get("correct"))
        top = None
        if wrong:
            option_id, count = sorted(wrong.items(), key=lambda item: (-item[1], item[0]))[0]
            top = OptionShare(markdown.plain_text(options[option_id]["text"]), count / len(answers))
        results.append(
            QuestionDifficulty(
                step,
                question,
                len(answers),
                shown=True,
                correct_share=sum(1 for _, ok in answers if ok) / len(answers),
                wrong_option=top,
            )
        )
    return results
