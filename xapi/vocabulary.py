"""Shiftwell's xAPI profile: which statement each learner event becomes.

docs/xapi-profile.md documents the same vocabulary for the people who read the
statements; keep the two together. Activity ids are IRIs under the tool's BASE_URL and
stay the same across course versions (the version is ``context.revision``); a learner is
an ``account`` (their LMS issuer and LTI ``sub``), never an e-mail address; what a
learner wrote in a reflection or answered in a wellbeing check never leaves.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from lms_core import signals
from xapi.model import (
    Account,
    Activity,
    ActivityDefinition,
    Agent,
    Context,
    ContextActivities,
    InteractionComponent,
    Result,
    Score,
    Statement,
    Verb,
)

ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
VERBS = {
    name: Verb(ADL_VERBS + name, {"en-US": name})
    for name in (
        "launched",
        "initialized",
        "progressed",
        "answered",
        "completed",
        "passed",
        "failed",
        "terminated",
        "experienced",
    )
}
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
LESSON_TYPE = "http://adlnet.gov/expapi/activities/lesson"
APPLICATION_TYPE = "http://activitystrea.ms/schema/1.0/application"
#: Established extension IRIs (cmi5), so LRS dashboards understand them without us.
SESSION_EXTENSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
PROGRESS_EXTENSION = "https://w3id.org/xapi/cmi5/result/extensions/progress"


class Vocabulary:
    """Builds statements for one deployment (its BASE_URL names every activity)."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, self.base + "/xapi/statements")

    # -- IRIs ---------------------------------------------------------------------------

    def extension(self, name: str) -> str:
        return f"{self.base}/xapi/extensions/{name}"

    def course_iri(self, slug: str) -> str:
        return f"{self.base}/courses/{quote(slug, safe='')}"

    def lesson_iri(self, slug: str, lesson_id: str) -> str:
        return f"{self.course_iri(slug)}/lessons/{quote(lesson_id, safe='/')}"

    def step_iri(self, slug: str, step_id: str) -> str:
        return f"{self.course_iri(slug)}/steps/{quote(step_id, safe='/')}"

    # -- building blocks ----------------------------------------------------------------

    def actor(self, issuer: str | None, subject: str | None, user_id: int) -> Agent:
        """The learner as an account: LMS issuer + LTI ``sub``; local users by our id."""
        if issuer and subject:
            return Agent(Account(issuer, subject))
        return Agent(Account(self.base + "/", f"user-{user_id}"))

    def course_activity(self, course: signals.CourseRef) -> Activity:
        extensions = {self.extension("partner"): course.partner} if course.partner else None
        return Activity(
            self.course_iri(course.slug),
            ActivityDefinition(
                name={_language(course.language): course.title},
                type=COURSE_TYPE,
                extensions=extensions,
            ),
        )

    def _context(
        self,
        learner: signals.LearnerContext,
        course: signals.CourseRef | None,
        *,
        parent: tuple[Activity, ...] = (),
        grouping: tuple[Activity, ...] = (),
        extensions: dict[str, Any] | None = None,
    ) -> Context:
        all_extensions = dict(extensions or {})
        if learner.session_id:
            all_extensions[SESSION_EXTENSION] = learner.session_id
        return Context(
            registration=uuid.UUID(learner.registration) if learner.registration else None,
            context_activities=ContextActivities(parent=parent, grouping=grouping)
            if parent or grouping
            else None,
            revision=course.version if course else None,
            platform="Shiftwell",
            language=_language(course.language) if course else None,
            extensions=all_extensions,
        )

    def _id(self, *parts: object) -> uuid.UUID:
        """Stable per event: a replayed transaction writes the same statement, not two."""
        return uuid.uuid5(self.namespace, "|".join(str(p) for p in parts))

    def _statement(
        self,
        verb: str,
        actor: Agent,
        activity: Activity,
        learner: signals.LearnerContext,
        context: Context,
        result: Result | None = None,
        *key: object,
    ) -> Statement:
        occurred = learner.occurred_at
        return Statement(
            id=self._id(
                learner.tenant_id,
                learner.user_id,
                verb,
                activity.id,
                learner.registration,
                occurred.isoformat(),
                *key,
            ),
            actor=actor,
            verb=VERBS[verb],
            object=activity,
            timestamp=occurred,
            result=result,
            context=context,
        )

    # -- events -------------------------------------------------------------------------

    def launched(self, event: signals.LaunchEvent, actor: Agent) -> Statement:
        """An LTI launch: the course it opens, or the tool itself (the catalog)."""
        if event.course_slug:
            activity = Activity(
                self.course_iri(event.course_slug), ActivityDefinition(type=COURSE_TYPE)
            )
        else:
            activity = Activity(
                self.base + "/",
                ActivityDefinition(name={"en-US": "Shiftwell"}, type=APPLICATION_TYPE),
            )
        launch = {
            "issuer": event.issuer,
            "deployment_id": event.deployment_id,
            "roles": sorted(event.roles),
        }
        for key in ("context_id", "context_title", "resource_link_id"):
            value = getattr(event, key)
            if value:
                launch[key] = value
        context = self._context(
            event.learner, None, extensions={self.extension("lti-launch"): launch}
        )
        return self._statement("launched", actor, activity, event.learner, context)

    def attempt_started(self, event: signals.AttemptEvent, actor: Agent) -> Statement:
        return self._attempt("initialized", event, actor, resumed=False)

    def attempt_resumed(self, event: signals.AttemptEvent, actor: Agent) -> Statement:
        return self._attempt("initialized", event, actor, resumed=True)

    def attempt_suspended(self, event: signals.AttemptEvent, actor: Agent) -> Statement:
        return self._attempt("terminated", event, actor, resumed=None)

    def _attempt(
        self, verb: str, event: signals.AttemptEvent, actor: Agent, *, resumed: bool | None
    ) -> Statement:
        extensions = {self.extension("resumed"): resumed} if resumed is not None else None
        context = self._context(event.learner, event.course, extensions=extensions)
        return self._statement(
            verb, actor, self.course_activity(event.course), event.learner, context
        )

    def step_completed(self, event: signals.StepEvent, actor: Agent) -> Statement:
        """One step: "experienced" content, "answered" questions (with the interaction)."""
        course, step = event.course, event.step
        language = _language(course.language)
        interaction = event.interaction or {}
        definition = ActivityDefinition(
            name={language: step.title},
            type=event.activity_type,
            interaction_type=interaction.get("interactionType"),
            correct_responses_pattern=tuple(interaction["correctResponsesPattern"])
            if "correctResponsesPattern" in interaction
            else None,
            **{
                key: tuple(_component(c) for c in interaction[key])
                for key in ("choices", "scale", "source", "target", "steps")
                if key in interaction
            },
        )
        course_activity = self.course_activity(course)
        parent: tuple[Activity, ...] = (course_activity,)
        grouping: tuple[Activity, ...] = ()
        if step.lesson_id:
            lesson = Activity(
                self.lesson_iri(course.slug, step.lesson_id),
                ActivityDefinition(
                    name={language: step.lesson_title} if step.lesson_title else None,
                    type=LESSON_TYPE,
                ),
            )
            parent, grouping = (lesson,), (course_activity,)
        extensions = {
            self.extension("step"): {
                "position": step.position,
                "count": step.count,
                "type": step.type,
            }
        }
        context = self._context(
            event.learner, course, parent=parent, grouping=grouping, extensions=extensions
        )
        result = _private_result(event.result) if event.private else _result(event.result)
        return self._statement(
            event.verb,
            actor,
            Activity(self.step_iri(course.slug, step.id), definition),
            event.learner,
            context,
            result,
            step.id,
        )

    def progressed(self, event: signals.ProgressEvent, actor: Agent) -> Statement:
        percent = round(100 * event.steps_done / event.steps_total) if event.steps_total else 0
        result = _result(event.result) or Result()
        result = Result(
            score=result.score,
            success=result.success,
            completion=event.steps_done >= event.steps_total > 0 or None,
            duration=result.duration,
            extensions={PROGRESS_EXTENSION: max(0, min(100, percent))},
        )
        context = self._context(event.learner, event.course)
        return self._statement(
            "progressed",
            actor,
            self.course_activity(event.course),
            event.learner,
            context,
            result,
            event.steps_done,
        )

    def completed(self, event: signals.CompletionEvent, actor: Agent) -> list[Statement]:
        """cmi5-style: "completed", then "passed" or "failed" with the score."""
        activity = self.course_activity(event.course)
        extensions = {self.extension("credit"): event.credit} if event.credit else None
        context = self._context(event.learner, event.course, extensions=extensions)
        base = _result(event.result) or Result()
        completed = Result(score=base.score, completion=True, duration=base.duration)
        judged = Result(
            score=base.score, success=event.passed, completion=True, duration=base.duration
        )
        return [
            self._statement("completed", actor, activity, event.learner, context, completed),
            self._statement(
                "passed" if event.passed else "failed",
                actor,
                activity,
                event.learner,
                context,
                judged,
            ),
        ]


def _language(tag: str | None) -> str:
    return tag or "en"


def _component(data: dict[str, Any]) -> InteractionComponent:
    return InteractionComponent(str(data["id"]), data.get("description"))


def _result(result: signals.Result | None) -> Result | None:
    if result is None:
        return None
    values = (result.score_scaled, result.score_raw, result.score_min, result.score_max)
    score = None
    if any(v is not None for v in values):
        score = Score(
            scaled=result.score_scaled,
            raw=result.score_raw,
            min=result.score_min,
            max=result.score_max,
        )
    converted = Result(
        score=score,
        success=result.success,
        completion=result.completion,
        response=result.response,
        duration=result.duration,
    )
    return None if converted == Result() else converted


def _private_result(result: signals.Result | None) -> Result:
    """A reflection or wellbeing answer: that it was done, and for how long — nothing of
    what was written or chosen, not even a score that would reveal it."""
    return Result(completion=True, duration=result.duration if result else None)
