"""A clinician finishes a course and her grade arrives in the LMS gradebook (LTI AGS),
through the outbox: after commit, retried while the LMS is down, sent once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from lms_core import outbox, signals
from lms_core.db import utcnow
from lms_core.extensions import db
from lms_core.models import OutboxMessage, OutboxStatus, User
from lti.models import Score, ScoreStatus
from tests.courses.conftest import RESET, answers_for, import_course, start, take_step, walk
from tests.lti.platform import Scenario

SLUG = "four-minute-reset"


@pytest.fixture
def course(app):
    import_course(app, RESET)
    return SLUG


@pytest.fixture
def gradebook_column(registered):
    """The line item Deep Linking made for the course's link."""
    return registered.add_lineitem(label="The Four-Minute Reset", scoreMaximum=100, resourceId=SLUG)


def launch_course(browser, clinician, **scenario):
    scenario.setdefault("ags_lineitem", "1")
    response = browser.launch(
        Scenario(clinician, resource_link_id="dl-link-1", custom={"course": SLUG}, **scenario)
    )
    assert response.headers["Location"] == f"/courses/{SLUG}"


def test_a_completed_course_sends_its_grade_to_the_lms(
    app, browser, clinician, course, gradebook_column
):
    launch_course(browser, clinician)

    result = walk(browser.client, start(browser.client, SLUG), answers_for(app, SLUG))

    assert result.endswith("/result")
    platform = browser.platform
    final = platform.scores[-1]
    assert final["lineitem"] == "1"
    assert final["userId"] == "nurse-42"
    assert final["scoreGiven"] == 100.0 and final["scoreMaximum"] == 100.0
    assert final["activityProgress"] == "Completed"
    assert final["gradingProgress"] == "FullyGraded"
    sent_at = dt.datetime.fromisoformat(final["timestamp"])
    assert sent_at.tzinfo is not None and abs(utcnow() - sent_at) < dt.timedelta(minutes=1)
    assert any(s["activityProgress"] == "InProgress" for s in platform.scores[:-1])
    assert platform.token_requests == 1  # one access token, cached for every post
    with app.app_context():
        score = db.session.scalar(select(Score))
        assert score.status == ScoreStatus.SENT and score.score_given == 100.0


def test_a_grade_waits_while_the_lms_is_down_and_arrives_on_retry(
    app, browser, clinician, course, gradebook_column
):
    launch_course(browser, clinician)
    plan = answers_for(app, SLUG)
    url = walk(browser.client, start(browser.client, SLUG), plan, stop_at=max(plan))
    platform = browser.platform
    platform.score_failures = 1

    take_step(browser.client, url, plan[max(plan)])

    assert not any(s["activityProgress"] == "Completed" for s in platform.scores)
    with app.app_context():
        message = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.topic == "lti.score")
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert message.status == OutboxStatus.PENDING and message.attempts == 1
        assert "503" in message.last_error
        message_id = message.id
        db.session.execute(update(OutboxMessage).values(available_at=utcnow()))
        db.session.commit()
        outbox.sweep()
    assert platform.scores[-1]["activityProgress"] == "Completed"
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.DONE


def test_a_link_without_a_gradebook_column_gets_one_created(app, browser, clinician, course):
    launch_course(browser, clinician, ags_lineitem=None)

    walk(browser.client, start(browser.client, SLUG), answers_for(app, SLUG))

    platform = browser.platform
    created = list(platform.lineitems.values())
    assert len(created) == 1
    assert created[0]["resourceLinkId"] == "dl-link-1"
    assert created[0]["resourceId"] == SLUG and created[0]["scoreMaximum"] == 100
    assert platform.scores[-1]["activityProgress"] == "Completed"
    assert {s["lineitem"] for s in platform.scores} == {"1"}


def _completion(app, user_id, tenant_id, session_id, scaled):
    with app.app_context():
        learner = signals.LearnerContext(
            tenant_id=tenant_id, user_id=user_id, occurred_at=utcnow(), session_id=session_id
        )
        event = signals.CompletionEvent(
            learner=learner,
            course=signals.CourseRef(SLUG, "1.0.0", "The Four-Minute Reset"),
            passed=scaled >= 0.8,
            result=signals.Result(score_scaled=scaled, completion=True),
        )
        signals.course_completed.send(app, event=event)
        signals.course_completed.send(app, event=event)  # delivered twice: still one post
        db.session.commit()


def test_the_same_grade_is_sent_once_and_never_lowered(
    app, browser, clinician, course, gradebook_column
):
    launch_course(browser, clinician)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.subject == "nurse-42"))
        user_id, tenant_id = user.id, user.tenant_id
    with browser.client.session_transaction() as session:
        session_id = session["sid"]
    platform = browser.platform

    _completion(app, user_id, tenant_id, session_id, 0.9)
    assert [s["scoreGiven"] for s in platform.scores] == [90.0]
    _completion(app, user_id, tenant_id, session_id, 0.5)  # a worse retake
    assert [s["scoreGiven"] for s in platform.scores] == [90.0]
    _completion(app, user_id, tenant_id, session_id, 1.0)  # a better one
    assert [s["scoreGiven"] for s in platform.scores] == [90.0, 100.0]


def test_a_course_taken_outside_an_lms_link_posts_nothing(app, browser, clinician, course):
    response = browser.launch(Scenario(clinician))  # the catalog link, no course
    assert response.headers["Location"] == "/courses/"

    walk(browser.client, start(browser.client, SLUG), answers_for(app, SLUG))

    assert browser.platform.scores == []
    with app.app_context():
        assert db.session.scalar(select(Score)) is None
