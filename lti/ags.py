"""Grades back to the LMS gradebook (LTI Assignment and Grade Services 2.0).

When the courses package reports progress or a completion, the score is written to the
``lti_score`` row of that gradebook cell and an outbox message is queued in the same
transaction; the message's handler posts the score to the LMS after commit and is
retried with backoff while the LMS is away. Nothing is posted for courses not opened
through an LMS link with a gradebook column.

Policy, so a learner's gradebook never goes backwards: once a course is completed, a
later attempt's progress is not posted, and a later completion only when it scores at
least as well. The AGS timestamp orders updates on the LMS side (LTI-AGS §3.4.6).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from sqlalchemy import select

from lms_core import outbox, signals
from lms_core.db import utcnow
from lms_core.extensions import db
from lms_core.models import User
from lti import catalog
from lti.models import Launch, ResourceLink, Score, ScoreStatus
from lti.tool import service_connector

log = logging.getLogger(__name__)

TOPIC = "lti.score"
SCORE_MAXIMUM = 100.0
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
COMPLETED = "Completed"
FULLY_GRADED = "FullyGraded"


def on_course_completed(sender: Flask, event: signals.CompletionEvent) -> None:
    result = event.result
    if result.score_scaled is not None:
        scaled = result.score_scaled
    elif result.score_raw is not None and result.score_max:
        scaled = (result.score_raw - (result.score_min or 0)) / (
            result.score_max - (result.score_min or 0)
        )
    else:
        # A course with nothing scored: completing it is full marks, not completing none.
        scaled = 1.0 if event.passed else 0.0
    queue_score(
        event.learner,
        event.course.slug,
        score_given=_points(scaled),
        activity_progress=COMPLETED,
        grading_progress=FULLY_GRADED,
    )


def on_progress_changed(sender: Flask, event: signals.ProgressEvent) -> None:
    if event.steps_total and event.steps_done >= event.steps_total:
        return  # the completion event that follows carries the final score
    scaled = event.result.score_scaled
    queue_score(
        event.learner,
        event.course.slug,
        score_given=_points(scaled) if scaled is not None else None,
        activity_progress="InProgress" if event.steps_done else "Started",
        grading_progress="Pending",
    )


def _points(scaled: float) -> float:
    return round(max(0.0, min(1.0, float(scaled))) * SCORE_MAXIMUM, 2)


def _target_link(learner: signals.LearnerContext, slug: str) -> ResourceLink | None:
    """The link the learner opened this course from: the launch of this session, else
    their latest launch of the course through a link that can take scores."""
    stmt = (
        select(Launch)
        .where(
            Launch.tenant_id == learner.tenant_id,
            Launch.user_id == learner.user_id,
            Launch.course_slug == slug,
            Launch.resource_link_pk.is_not(None),
        )
        .order_by(Launch.id.desc())
    )
    if learner.session_id:
        launch = db.session.scalar(stmt.where(Launch.session_id == learner.session_id).limit(1))
        if launch is not None and launch.resource_link and launch.resource_link.can_post_scores:
            return launch.resource_link
    for launch in db.session.scalars(stmt.limit(20)):
        if launch.resource_link and launch.resource_link.can_post_scores:
            return launch.resource_link
    return None


def queue_score(
    learner: signals.LearnerContext,
    slug: str,
    *,
    score_given: float | None,
    activity_progress: str,
    grading_progress: str,
) -> Score | None:
    """Record the gradebook cell's new score and queue its post; inside the sender's
    transaction, never touching the network."""
    link = _target_link(learner, slug)
    if link is None:
        return None
    score = db.session.scalar(
        select(Score).where(
            Score.resource_link_pk == link.id,
            Score.user_id == learner.user_id,
            Score.course_slug == slug,
        )
    )
    timestamp = learner.occurred_at or utcnow()
    if score is None:
        score = Score(
            tenant_id=learner.tenant_id,
            resource_link_pk=link.id,
            user_id=learner.user_id,
            course_slug=slug,
            score_maximum=SCORE_MAXIMUM,
        )
        db.session.add(score)
    else:
        if score.grading_progress == FULLY_GRADED and (
            grading_progress != FULLY_GRADED or (score_given or 0.0) < (score.score_given or 0.0)
        ):
            return score  # the gradebook keeps the completed (best) result
        unchanged = (
            score.score_given == score_given
            and score.activity_progress == activity_progress
            and score.grading_progress == grading_progress
        )
        if unchanged:
            return score
        if timestamp <= score.timestamp:  # AGS ignores updates not newer than the last
            timestamp = score.timestamp + dt.timedelta(milliseconds=1)
    score.score_given = score_given
    score.activity_progress = activity_progress
    score.grading_progress = grading_progress
    score.timestamp = timestamp
    score.status = ScoreStatus.QUEUED
    score.last_error = None
    db.session.flush()
    stamp = _iso(timestamp)
    outbox.enqueue(
        TOPIC,
        {
            "score_id": score.id,
            "scoreGiven": score_given,
            "scoreMaximum": SCORE_MAXIMUM,
            "activityProgress": activity_progress,
            "gradingProgress": grading_progress,
            "timestamp": stamp,
        },
        # Same cell, same moment, same values: the same work, queued once.
        key=f"{TOPIC}:{score.id}:{stamp}:{activity_progress}:{grading_progress}:{score_given}",
        tenant=learner.tenant_id,
    )
    return score


def _iso(moment: dt.datetime) -> str:
    # LTI-AGS §3.4.6: ISO 8601 with sub-second precision and a time zone.
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class _Post:
    score_id: int
    registration: Any
    user_sub: str
    lineitem_url: str | None
    lineitems_url: str | None
    resource_link_id: str
    scopes: list[str]
    label: str
    slug: str


def send_score(message: Any) -> None:
    """Outbox handler: post one snapshot of a gradebook cell to the LMS."""
    payload = message.payload
    score = db.session.get(Score, payload["score_id"])
    if score is None:
        return  # the link or the learner was deleted since
    if _iso(score.timestamp) > payload["timestamp"]:
        return  # superseded: a newer message carries the newer score
    link = score.resource_link
    record = link.deployment.registration
    user = db.session.get(User, score.user_id)
    if user is None or not user.subject:
        return
    if not link.can_post_scores:
        _fail(score, "the LMS did not grant Shiftwell the score scope for this link")
    course = catalog.get_course(score.course_slug)
    post = _Post(
        score.id,
        record,
        user.subject,
        link.lineitem_url,
        link.lineitems_url,
        link.resource_link_id,
        list(link.ags_scopes or []),
        course.title if course else (link.title or score.course_slug),
        score.course_slug,
    )
    db.session.commit()  # hold no database lock while the LMS is called

    connector = service_connector(post.registration)
    service = AssignmentsGradesService(
        connector,
        {"scope": post.scopes, "lineitem": post.lineitem_url, "lineitems": post.lineitems_url},  # type: ignore[typeddict-item]
    )
    grade = (
        Grade()
        .set_score_maximum(payload["scoreMaximum"])
        .set_activity_progress(payload["activityProgress"])
        .set_grading_progress(payload["gradingProgress"])
        .set_timestamp(payload["timestamp"])
        .set_user_id(post.user_sub)
    )
    if payload["scoreGiven"] is not None:
        grade.set_score_given(payload["scoreGiven"])
    try:
        line_item = None
        if not post.lineitem_url:
            line_item = _line_item(service, post)
        service.put_grade(grade, line_item)
    except LtiServiceException as exc:
        status = exc.response.status_code
        if status == 401:
            connector.forget_tokens(post.scopes)
            raise  # the token was refused: retry with a fresh one
        if 400 <= status < 500 and status not in (408, 409, 425, 429):
            _fail(
                db.session.get(Score, post.score_id), f"the LMS refused the score (HTTP {status})"
            )
        raise
    except LtiException as exc:
        _fail(db.session.get(Score, post.score_id), str(exc))
    except requests.RequestException:
        raise  # the LMS is away: the outbox retries with backoff

    score = db.session.get(Score, post.score_id)
    if score is not None and line_item is not None and line_item.get_id():
        score.resource_link.lineitem_url = line_item.get_id()  # found once, reused
    if score is not None and _iso(score.timestamp) == payload["timestamp"]:
        score.status = ScoreStatus.SENT
        score.sent_at = utcnow()
        score.last_error = None
    log.info("lti: score for cell %s sent to %s", post.score_id, post.registration.issuer)


def _line_item(service: AssignmentsGradesService, post: _Post) -> LineItem:
    """The link's gradebook column when the launch named none (a link made by hand):
    find it by resource link, or create it when the LMS lets us."""
    if not post.lineitems_url:
        raise LtiException("the LMS gave no gradebook column (line item) for this link")
    wanted = (
        LineItem()
        .set_score_maximum(SCORE_MAXIMUM)
        .set_label(post.label)
        .set_resource_id(post.slug)
        .set_resource_link_id(post.resource_link_id)
        .set_tag("shiftwell")
    )
    if LINEITEM_SCOPE not in post.scopes:
        found = service.find_lineitem_by_resource_link_id(post.resource_link_id)
        if found is None:
            raise LtiException("the LMS has no gradebook column for this link")
        return found
    return service.find_or_create_lineitem(wanted, find_by="resource_link_id")


def _fail(score: Score | None, reason: str) -> None:
    if score is not None:
        score.status = ScoreStatus.FAILED
        score.last_error = reason[:500]
        db.session.commit()
    raise outbox.PermanentFailure(reason)
