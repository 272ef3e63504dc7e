"""Required courses: the education department makes a course required for an LMS course
(a unit's course shell) by a due date, and sees who on its roster is overdue.

Who is on an LMS course comes from its roster (NRPS); before the roster was ever read,
from who launched Shiftwell from it. Progress comes from ``courses.api`` (through
:mod:`lti.catalog`). Administrators manage every LMS course of their hospital,
instructors the ones they launched from, as on the LMS courses pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.sql import Select

from lms_core import audit, signals
from lms_core.db import utcnow
from lms_core.errors import InvalidInput, NotFound, Problem
from lms_core.extensions import db
from lms_core.models import Role, User
from lti import catalog
from lti.models import Assignment, AssignmentPass, Context, Launch, Membership

#: Due dates further ahead than this are surely typing mistakes.
MAX_AHEAD = dt.timedelta(days=3 * 366)


def visible_contexts(user: User) -> Select[tuple[Context]]:
    """Administrators: every LMS course of their hospital; instructors: those they
    launched Shiftwell from (as instructors do, from the courses they teach)."""
    stmt = Context.for_tenant(user.tenant_id or 0)
    if not user.has_role(Role.ADMINISTRATOR):
        launched = select(Launch.context_pk).where(
            Launch.tenant_id == user.tenant_id, Launch.user_id == user.id
        )
        stmt = stmt.where(Context.id.in_(launched))
    return stmt


def get_context(user: User, context_pk: int) -> Context:
    context = db.session.scalar(visible_contexts(user).where(Context.id == context_pk))
    if context is None:
        raise NotFound("No such LMS course, or it is not one of yours.")
    return context


def get_assignment(user: User, assignment_id: int) -> Assignment:
    assignment = db.session.scalar(
        select(Assignment).where(
            Assignment.id == assignment_id,
            Assignment.tenant_id == user.tenant_id,
            Assignment.context_pk.in_(visible_contexts(user).with_only_columns(Context.id)),
        )
    )
    if assignment is None:
        raise NotFound("No such required course, or it is not one of yours.")
    return assignment


# -- changing -------------------------------------------------------------------------------


def set_assignment(
    user: User, context_pk: int, course_slug: str, due_on: dt.date | None, today: dt.date
) -> tuple[Assignment, bool]:
    """Require ``course_slug`` in the LMS course by ``due_on``; a second time changes the
    due date. Returns (assignment, created). The caller commits."""
    context = get_context(user, context_pk)
    problems = []
    offered = {course.slug: course for course in catalog.search(user.tenant_id or 0)}
    if course_slug not in offered:
        problems.append(
            Problem(
                "choose a course your hospital's catalog offers",
                "course",
                "Hidden courses cannot be required.",
            )
        )
    if due_on is None:
        problems.append(Problem("enter the due date", "due_on", "For example 2026-03-31."))
    elif due_on < today:
        problems.append(Problem(f"{due_on} has passed", "due_on", "Choose today or a later day."))
    elif due_on - today > MAX_AHEAD:
        problems.append(Problem(f"{due_on} is more than three years ahead", "due_on"))
    if problems:
        raise InvalidInput("The course could not be made required.", problems)
    assert due_on is not None
    assignment = db.session.scalar(
        select(Assignment).where(
            Assignment.context_pk == context.id, Assignment.course_slug == course_slug
        )
    )
    created = assignment is None
    if assignment is None:
        assignment = Assignment(
            tenant_id=context.tenant_id,
            context_pk=context.id,
            course_slug=course_slug,
            created_by_id=user.id,
            created_by=user.display_name,
        )
        db.session.add(assignment)
    previous = None if created else assignment.due_on
    assignment.due_on = due_on
    assignment.updated_at = utcnow()
    db.session.flush()
    if created:
        record_past_passes(assignment)
    audit.record(
        "lti.assignment_set",
        tenant=context.tenant_id,
        target_type="lti_assignment",
        target_id=assignment.id,
        context=context.context_id,
        course=course_slug,
        due_on=due_on.isoformat(),
        previous_due_on=previous.isoformat() if previous else None,
    )
    return assignment, created


def remove_assignment(user: User, assignment_id: int) -> Assignment:
    assignment = get_assignment(user, assignment_id)
    audit.record(
        "lti.assignment_removed",
        tenant=assignment.tenant_id,
        target_type="lti_assignment",
        target_id=assignment.id,
        context=assignment.context.context_id,
        course=assignment.course_slug,
        due_on=assignment.due_on.isoformat(),
    )
    db.session.delete(assignment)
    return assignment


# -- progress -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterLearner:
    subject: str
    user_id: int | None  # None: never opened Shiftwell
    name: str


@dataclass(frozen=True)
class LearnerProgress:
    learner: RosterLearner
    state: str  # passed | in_progress | not_passed | not_started
    completed_at: dt.datetime | None
    overdue: bool
    late: bool  # passed, after the due date

    @property
    def label(self) -> str:
        return {
            "passed": "Passed late" if self.late else "Passed",
            "in_progress": "In progress",
            "not_passed": "Not passed yet",
            "not_started": "Not started",
        }[self.state]


@dataclass(frozen=True)
class AssignmentSummary:
    id: int
    context_pk: int
    context_title: str
    course_slug: str
    course_title: str
    due_on: dt.date
    learners: int
    passed: int
    overdue: int
    roster_read: bool

    @property
    def due_passed(self) -> bool:
        return self.overdue > 0 or self.due_on < utcnow().date()


def _issuer(context: Context) -> str:
    return context.deployment.registration.issuer


def roster_learners(context: Context) -> list[RosterLearner]:
    """The learners of an LMS course: its roster's active learners, or (roster never
    read) who launched Shiftwell from it as a learner."""
    if context.roster_synced_at is not None:
        rows = db.session.execute(
            select(Membership, User.id)
            .outerjoin(
                User,
                and_(
                    User.tenant_id == Membership.tenant_id,
                    User.issuer == _issuer(context),
                    User.subject == Membership.subject,
                ),
            )
            .where(
                Membership.tenant_id == context.tenant_id,
                Membership.context_pk == context.id,
                Membership.is_learner.is_(True),
                Membership.status == "Active",
            )
            .order_by(Membership.family_name, Membership.name, Membership.subject)
        )
        return [RosterLearner(m.subject, user_id, m.display_name) for m, user_id in rows]
    launched = select(Launch.user_id).where(
        Launch.tenant_id == context.tenant_id, Launch.context_pk == context.id
    )
    users = db.session.scalars(
        select(User).where(User.tenant_id == context.tenant_id, User.id.in_(launched))
    )
    return sorted(
        (
            RosterLearner(u.subject or "", u.id, u.display_name)
            for u in users
            if u.has_role(Role.LEARNER)
        ),
        key=lambda r: r.name.lower(),
    )


def progress(assignment: Assignment, today: dt.date) -> list[LearnerProgress]:
    learners = roster_learners(assignment.context)
    standings = catalog.course_standings(
        assignment.tenant_id,
        assignment.course_slug,
        [r.user_id for r in learners if r.user_id is not None],
    )
    due_end = dt.datetime.combine(
        assignment.due_on + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC
    )
    found = []
    for learner in learners:
        standing = standings.get(learner.user_id) if learner.user_id else None
        state = standing.state if standing else "not_started"
        completed = standing.completed_at if standing else None
        late = state == "passed" and completed is not None and completed >= due_end
        found.append(
            LearnerProgress(
                learner=learner,
                state=state,
                completed_at=completed,
                overdue=state != "passed" and today > assignment.due_on,
                late=late,
            )
        )
    return found


def summary(assignment: Assignment, today: dt.date) -> AssignmentSummary:
    rows = progress(assignment, today)
    return _summary_of(
        assignment,
        learners=len(rows),
        passed=sum(1 for r in rows if r.state == "passed"),
        overdue=sum(1 for r in rows if r.overdue),
    )


def _summary_of(
    assignment: Assignment,
    learners: int,
    passed: int,
    overdue: int,
    titles: dict[str, str] | None = None,
) -> AssignmentSummary:
    if titles is None:
        titles = catalog.course_titles([assignment.course_slug])
    return AssignmentSummary(
        id=assignment.id,
        context_pk=assignment.context_pk,
        context_title=assignment.context.display_title,
        course_slug=assignment.course_slug,
        course_title=titles.get(assignment.course_slug, assignment.course_slug),
        due_on=assignment.due_on,
        learners=learners,
        passed=passed,
        overdue=overdue,
        roster_read=assignment.context.roster_synced_at is not None,
    )


def summaries(user: User, today: dt.date) -> list[AssignmentSummary]:
    """Every required course the user may see, the most overdue first.

    Counted in one query from the rosters and the recorded passes; an LMS course whose
    roster was never read is counted learner by learner (from its launches).
    """
    assignments = list(
        db.session.scalars(
            select(Assignment)
            .where(
                Assignment.tenant_id == user.tenant_id,
                Assignment.context_pk.in_(visible_contexts(user).with_only_columns(Context.id)),
            )
            .order_by(Assignment.due_on, Assignment.id)
        )
    )
    counted = {
        assignment_id: (learners, passed)
        for assignment_id, learners, passed in db.session.execute(
            select(Assignment.id, func.count(Membership.id), func.count(AssignmentPass.user_id))
            .join(Membership, Membership.context_pk == Assignment.context_pk)
            .outerjoin(
                AssignmentPass,
                and_(
                    AssignmentPass.assignment_id == Assignment.id,
                    AssignmentPass.user_id == Membership.user_id,
                ),
            )
            .where(
                Assignment.id.in_([a.id for a in assignments]),
                Membership.is_learner.is_(True),
                Membership.status == "Active",
            )
            .group_by(Assignment.id)
        )
    }
    titles = catalog.course_titles({a.course_slug for a in assignments})
    found = []
    for assignment in assignments:
        if assignment.context.roster_synced_at is None:
            found.append(summary(assignment, today))
            continue
        learners, passed = counted.get(assignment.id, (0, 0))
        overdue = learners - passed if today > assignment.due_on else 0
        found.append(_summary_of(assignment, learners, passed, overdue, titles))
    found.sort(key=lambda s: (-s.overdue, s.due_on, s.context_title.lower()))
    return found


# -- passes ---------------------------------------------------------------------------------


def record_past_passes(assignment: Assignment) -> int:
    """Remember who on the LMS course's roster has already passed the required course
    (a new requirement, or people new on the roster). Only roster learners are kept, so
    counting stays a join of two small sets."""
    on_roster = set(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.context_pk == assignment.context_pk,
                Membership.user_id.is_not(None),
            )
        )
    )
    known = set(
        db.session.scalars(
            select(AssignmentPass.user_id).where(AssignmentPass.assignment_id == assignment.id)
        )
    )
    wanted = sorted(on_roster - known)
    rows = []
    for start in range(0, len(wanted), 1000):
        standings = catalog.course_standings(
            assignment.tenant_id, assignment.course_slug, wanted[start : start + 1000]
        )
        rows.extend(
            {"assignment_id": assignment.id, "user_id": s.user_id, "passed_at": s.completed_at}
            for s in standings.values()
            if s.state == "passed" and s.completed_at is not None
        )
    if rows:
        db.session.execute(insert(AssignmentPass), rows)
    return len(rows)


def refresh_passes(context: Context) -> None:
    """After a roster sync: passes of people new on it count for its required courses."""
    for assignment in db.session.scalars(
        select(Assignment).where(Assignment.context_pk == context.id)
    ):
        record_past_passes(assignment)


def on_course_completed(sender: Any, event: signals.CompletionEvent) -> None:
    """A learner passed a course: it counts for the LMS courses they are on that require it."""
    if not event.passed:
        return
    learner = event.learner
    their_courses = select(Membership.context_pk).where(
        Membership.tenant_id == learner.tenant_id, Membership.user_id == learner.user_id
    )
    already = select(AssignmentPass.assignment_id).where(AssignmentPass.user_id == learner.user_id)
    required = select(Assignment.id).where(
        Assignment.tenant_id == learner.tenant_id,
        Assignment.course_slug == event.course.slug,
        Assignment.context_pk.in_(their_courses),
        Assignment.id.not_in(already),
    )
    for assignment_id in db.session.scalars(required):
        db.session.add(
            AssignmentPass(
                assignment_id=assignment_id, user_id=learner.user_id, passed_at=learner.occurred_at
            )
        )


# -- rosters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterCount:
    context_pk: int
    title: str
    learners: int
    not_started: int  # on the roster, never opened Shiftwell


def roster_counts(user: User) -> list[RosterCount]:
    """Per LMS course whose roster was read: active learners, and how many of them never
    opened Shiftwell (no account: accounts are made at the first launch, which also links
    the person's roster entries to it)."""
    visible = visible_contexts(user).with_only_columns(Context.id)
    rows = db.session.execute(
        select(Membership.context_pk, func.count(), func.count(Membership.user_id))
        .where(
            Membership.tenant_id == user.tenant_id,
            Membership.context_pk.in_(visible),
            Membership.is_learner.is_(True),
            Membership.status == "Active",
        )
        .group_by(Membership.context_pk)
    ).all()
    titles = {
        c.id: c.display_title
        for c in db.session.scalars(
            Context.for_tenant(user.tenant_id or 0).where(Context.id.in_([r[0] for r in rows]))
        )
    }
    found = [
        RosterCount(context_pk, titles.get(context_pk, ""), total, total - opened)
        for context_pk, total, opened in rows
    ]
    found.sort(key=lambda r: (-r.not_started, r.title.lower()))
    return found


# -- a learner's own -----------------------------------------------------------------------


@dataclass(frozen=True)
class RequiredCourse:
    context_title: str
    course_slug: str
    course_title: str
    learner_path: str
    due_on: dt.date
    state: str
    overdue: bool


def required_for(tenant_id: int, user: User, today: dt.date) -> list[RequiredCourse]:
    """Courses required of this learner: by the LMS courses they are on (roster) or
    launched from."""
    contexts = set(
        db.session.scalars(
            select(Launch.context_pk).where(
                Launch.tenant_id == tenant_id,
                Launch.user_id == user.id,
                Launch.context_pk.is_not(None),
            )
        )
    )
    if user.subject:
        contexts |= set(
            db.session.scalars(
                select(Membership.context_pk).where(
                    Membership.tenant_id == tenant_id, Membership.subject == user.subject
                )
            )
        )
    if not contexts:
        return []
    assignments = list(
        db.session.scalars(
            select(Assignment)
            .where(Assignment.tenant_id == tenant_id, Assignment.context_pk.in_(contexts))
            .order_by(Assignment.due_on)
        )
    )
    found = []
    for assignment in assignments:
        course = catalog.get_course(assignment.course_slug)
        if course is None:
            continue
        standing = catalog.course_standings(tenant_id, assignment.course_slug, [user.id]).get(
            user.id
        )
        state = standing.state if standing else "not_started"
        found.append(
            RequiredCourse(
                context_title=assignment.context.display_title,
                course_slug=assignment.course_slug,
                course_title=course.title,
                learner_path=course.learner_path,
                due_on=assignment.due_on,
                state=state,
                overdue=state != "passed" and today > assignment.due_on,
            )
        )
    return found
