"""Domain events: how plugins talk without importing each other.

Every signal is sent with ``sender=current_app._get_current_object()`` and one keyword
argument, ``event``, a frozen dataclass below. Receivers run synchronously, *inside the
transaction of the change* (before its commit): a receiver adds rows to ``db.session``
(an xAPI statement, an outbox message, a certificate) and never commits or calls out to
the network itself; outside systems are reached through :mod:`lms_core.outbox`. So the
change and everything it causes commit together, or not at all.

Sending, in a service::

    signals.course_completed.send(current_app._get_current_object(), event=event)

Receiving, in a plugin's ``init_app``::

    signals.course_completed.connect(on_course_completed, sender=app)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from blinker import Namespace

_signals = Namespace()

#: A user arrived through an LTI launch (``event``: :class:`LaunchEvent`).
launch_completed = _signals.signal("launch-completed")
#: A learner started a new attempt at a course version (:class:`AttemptEvent`).
attempt_started = _signals.signal("attempt-started")
#: A learner came back to an attempt in progress (:class:`AttemptEvent`).
attempt_resumed = _signals.signal("attempt-resumed")
#: A learner completed one step; its response is saved (:class:`StepEvent`).
step_completed = _signals.signal("step-completed")
#: The attempt's score or progress changed (:class:`ProgressEvent`), e.g. for AGS.
progress_changed = _signals.signal("progress-changed")
#: All required steps done; ``passed`` says whether the pass score was met
#: (:class:`CompletionEvent`).
course_completed = _signals.signal("course-completed")
#: A learner left an attempt ("save and leave", or a new launch elsewhere)
#: (:class:`AttemptEvent`).
attempt_suspended = _signals.signal("attempt-suspended")
#: A certificate was issued (:class:`CertificateEvent`).
certificate_issued = _signals.signal("certificate-issued")
#: A certificate was revoked (:class:`CertificateEvent`).
certificate_revoked = _signals.signal("certificate-revoked")
#: A tenant was created (``event``: :class:`TenantEvent`).
tenant_created = _signals.signal("tenant-created")
#: ``shiftwell demo load`` runs; each plugin adds its demo data (``event``: :class:`DemoEvent`).
demo_loading = _signals.signal("demo-loading")
#: ``shiftwell demo generate`` runs: sent once per stage of :data:`GENERATE_STAGES`; each
#: plugin bulk-inserts its part of a made-up hospital (``event``: :class:`GenerateEvent`).
demo_generating = _signals.signal("demo-generating")

#: The order ``demo_generating`` is sent in: "activity" (LMS rosters, courses, attempts:
#: everything built from the event's plan alone), then "records" (what needs the activity
#: and the courses made in it, e.g. certificates for passed attempts, required courses).
GENERATE_STAGES = ("activity", "records")


@dataclass(frozen=True)
class CourseRef:
    """Which course version an event is about, in the terms every consumer understands."""

    slug: str
    version: str
    title: str
    partner: str | None = None
    language: str = "en"


@dataclass(frozen=True)
class StepRef:
    id: str  # stable within the course version, e.g. "lesson-1/check-2"
    title: str
    type: str  # the step type's registered name: content, reflection, knowledge_check, ...
    position: int  # 1-based
    count: int  # steps in the course version
    lesson_id: str | None = None
    lesson_title: str | None = None


@dataclass(frozen=True)
class Result:
    """A score in the shape LMS gradebooks and xAPI both take."""

    score_scaled: float | None = None  # 0..1
    score_raw: float | None = None
    score_min: float | None = None
    score_max: float | None = None
    success: bool | None = None
    completion: bool | None = None
    duration: dt.timedelta | None = None
    #: The learner's response in xAPI's response format, for scored interactions only.
    #: Never set for private steps (reflections, wellbeing answers).
    response: str | None = None


@dataclass(frozen=True)
class LearnerContext:
    """Who, in which tenant, in which attempt and session."""

    tenant_id: int
    user_id: int
    occurred_at: dt.datetime
    attempt_id: int | None = None
    registration: str | None = None  # UUID of the attempt: xAPI context.registration
    session_id: str | None = None  # one per launch (or login): xAPI session extension


@dataclass(frozen=True)
class LaunchEvent:
    learner: LearnerContext
    issuer: str
    deployment_id: str
    roles: frozenset[str]
    context_id: str | None = None
    context_title: str | None = None
    resource_link_id: str | None = None
    course_slug: str | None = None  # the course the launch opens, if any


@dataclass(frozen=True)
class AttemptEvent:
    learner: LearnerContext
    course: CourseRef


@dataclass(frozen=True)
class StepEvent:
    learner: LearnerContext
    course: CourseRef
    step: StepRef
    #: The step type's xAPI mapping: verb name from docs/xapi-profile.md ("answered",
    #: "experienced", ...), activity type IRI and, for interactions, the xAPI
    #: interaction definition fields (interactionType, choices, correctResponsesPattern).
    verb: str
    activity_type: str
    interaction: dict[str, Any] | None = None
    result: Result | None = None
    #: True for reflections and wellbeing answers: their content never leaves.
    private: bool = False


@dataclass(frozen=True)
class ProgressEvent:
    learner: LearnerContext
    course: CourseRef
    steps_done: int
    steps_total: int
    result: Result = field(default_factory=Result)


@dataclass(frozen=True)
class CompletionEvent:
    learner: LearnerContext
    course: CourseRef
    passed: bool
    result: Result
    #: The credit the course carries: {"type": "ancc", "amount": 0.25, ...} or None.
    credit: dict[str, Any] | None = None


@dataclass(frozen=True)
class CertificateEvent:
    tenant_id: int
    user_id: int | None
    number: str
    course: CourseRef | None
    occurred_at: dt.datetime
    reason: str | None = None


@dataclass(frozen=True)
class TenantEvent:
    tenant_id: int
    slug: str


@dataclass(frozen=True)
class DemoEvent:
    tenant_id: int
    base_url: str
    messages: list[str] = field(default_factory=list)  # what to print for the user


@dataclass(frozen=True)
class GeneratedUnit:
    """A hospital unit as the LMS knows it: a course shell (LTI context) with a roster."""

    context_id: str
    title: str
    label: str


@dataclass(frozen=True)
class GeneratedLearner:
    user_id: int
    subject: str  # the LTI ``sub`` the core gave the made-up account
    unit: int  # index into :attr:`GenerateEvent.units`


@dataclass(frozen=True)
class GenerateEvent:
    """The plan of ``shiftwell demo generate``, the same for every plugin.

    The core has created the learners' accounts (``issuer`` + ``subject``); plugins add
    their rows for them in bulk, in the sender's transaction, drawing from a random
    generator seeded with ``seed`` so that a run can be repeated exactly.
    """

    tenant_id: int
    stage: str  # one of GENERATE_STAGES
    issuer: str  # the made-up LMS the learners come from
    deployment_id: str
    units: tuple[GeneratedUnit, ...]
    learners: tuple[GeneratedLearner, ...]
    courses: int  # new courses to make
    attempts: int  # attempts to spread over the learners and every course
    seed: int
    start: dt.datetime  # activity is spread over [start, end]
    end: dt.datetime
    certificates: bool = True  # issue certificates for passed attempts with credit
    messages: list[str] = field(default_factory=list)  # what to print for the user
