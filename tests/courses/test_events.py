"""What other packages hear from the player: the events and their payloads (contracts.md)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from courses.models import Attempt
from courses.steps import INTERACTION, LESSON, SIMULATION
from lms_core import signals
from lms_core.extensions import db
from tests.conftest import csrf_token_from, login
from tests.courses.conftest import EXAMPLES, answers_for, import_course, start, walk

SLUG = "four-minute-reset"
REFLECTION = "I noticed my shoulders drop."


def test_a_whole_course_sends_the_contracted_events(app, client, course, learner, events):
    login(client, learner)
    with client.session_transaction() as sess:
        sid = sess["sid"]
    assert walk(client, start(client, SLUG), answers_for(app, SLUG)).endswith("/result")
    with app.app_context():
        attempt = db.session.scalar(select(Attempt))
        registration, attempt_id = attempt.registration, attempt.id

    (started,) = events.of("attempt_started")
    assert started.course == signals.CourseRef(
        SLUG,
        "1.0.0",
        "The Four-Minute Reset: a pause between patients",
        "northbridge-nursing",
        "en",
    )
    for event in events.of("step_completed") + events.of("progress_changed"):
        learner_ctx = event.learner
        assert (learner_ctx.tenant_id, learner_ctx.user_id) == (learner.tenant_id, learner.id)
        assert learner_ctx.registration == registration and learner_ctx.attempt_id == attempt_id
        assert learner_ctx.session_id == sid

    steps = events.of("step_completed")
    assert [e.step.position for e in steps] == list(range(1, 14))
    assert all(e.step.count == 13 for e in steps)

    content = steps[0]
    assert (content.verb, content.activity_type, content.private) == ("experienced", LESSON, False)
    assert content.step.id == "why-pause/between-one-patient-and-the-next"
    assert content.step.lesson_id == "why-pause" and content.step.type == "content"

    check = next(e for e in steps if e.step.id == "why-pause/what-is-a-reset")
    assert (check.verb, check.activity_type) == ("answered", INTERACTION)
    assert check.interaction["interactionType"] == "choice"
    assert check.interaction["correctResponsesPattern"] == ["a"]
    assert check.interaction["choices"][0] == {
        "id": "a",
        "description": {
            "en": "A short, deliberate pause that closes one task before the next begins."
        },
    }
    result = check.result
    assert (result.response, result.success, result.score_raw, result.score_max) == (
        "a",
        True,
        1.0,
        1.0,
    )
    assert result.score_scaled == 1.0 and isinstance(result.duration, dt.timedelta)

    multiple = next(e for e in steps if e.step.id == "reframing/reframing-questions")
    assert multiple.result.response == "a[,]c[,]d"
    assert multiple.interaction["correctResponsesPattern"] == ["a[,]c[,]d"]

    practice = next(e for e in steps if e.step.type == "guided_practice")
    assert (practice.verb, practice.activity_type) == ("experienced", SIMULATION)

    reflections = [e for e in steps if e.step.type == "reflection"]
    assert len(reflections) == 2
    for event in reflections:
        assert event.private is True and event.result.response is None
        assert event.verb == "answered"
    assert all(REFLECTION not in repr(event) for _, event in events.events)

    progress = events.of("progress_changed")
    assert [(p.steps_done, p.steps_total) for p in progress] == [(n, 13) for n in range(1, 14)]
    assert progress[-1].result.completion is True

    (completed,) = events.of("course_completed")
    assert completed.passed is True
    assert completed.credit == {"type": "ancc-contact-hours", "amount": 0.25}
    assert completed.result.score_scaled == 1.0 and completed.result.score_raw == 4.0
    assert (completed.result.score_min, completed.result.score_max) == (0.0, 4.0)
    assert completed.result.success is True and completed.result.completion is True
    assert isinstance(completed.result.duration, dt.timedelta)
    assert completed.learner.registration == registration


def test_a_failed_attempt_completes_without_passing(app, client, course, learner, events):
    login(client, learner)
    walk(client, start(client, SLUG), answers_for(app, SLUG, right=False))
    (completed,) = events.of("course_completed")
    assert completed.passed is False and completed.result.success is False
    assert completed.result.score_scaled == 0.0


def test_leaving_and_coming_back_is_suspended_then_resumed(app, course, learner, events):
    first = app.test_client()
    login(first, learner)
    url = walk(first, start(first, SLUG), answers_for(app, SLUG), stop_at=3)
    page = first.get(url).get_data(as_text=True)
    first.post(url.rsplit("/steps/", 1)[0] + "/leave", data={"csrf_token": csrf_token_from(page)})
    assert len(events.of("attempt_suspended")) == 1
    assert events.of("attempt_resumed") == []
    second = app.test_client()
    login(second, learner)
    second.get(url)
    (resumed,) = events.of("attempt_resumed")
    with second.session_transaction() as sess:
        assert resumed.learner.session_id == sess["sid"]
    second.get(url)
    assert len(events.of("attempt_resumed")) == 1  # once per session, not per page


def test_a_new_launch_suspends_what_was_left_open(app, course, learner, events):
    client = app.test_client()
    login(client, learner)
    url = start(client, SLUG)
    client.get(url)
    with app.app_context():
        event = signals.LaunchEvent(
            learner=signals.LearnerContext(
                tenant_id=learner.tenant_id,
                user_id=learner.id,
                occurred_at=dt.datetime.now(dt.UTC),
                session_id="a-new-launch",
            ),
            issuer="https://lms.example.edu",
            deployment_id="1",
            roles=frozenset({"learner"}),
        )
        signals.launch_completed.send(app, event=event)
        db.session.commit()
    (suspended,) = events.of("attempt_suspended")
    assert suspended.course.slug == SLUG


def test_scenario_choices_are_answered_one_decision_at_a_time(app, client, learner, events):
    import_course(app, EXAMPLES / "emotions-on-the-ward")
    login(client, learner)
    slug = "emotions-on-the-ward"
    url = walk(client, start(client, slug), answers_for(app, slug), stop_at=8)
    html = client.get(url).get_data(as_text=True)
    assert "What do you do?" in html and "At the nurses&#39; station" in html
    token = csrf_token_from(html)
    missing = client.post(url, data={"csrf_token": token, "action": "choose"})
    assert missing.status_code == 400 and "Choose what you would do." in missing.get_data(
        as_text=True
    )
    client.post(url, data={"csrf_token": token, "action": "choose", "choice": "acknowledge"})
    page = client.get(url).get_data(as_text=True)
    assert "Her shoulders drop a little" in page and "Finding out and explaining" in page
    client.post(url, data={"csrf_token": token, "action": "choose", "choice": "agree"})
    page = client.get(url).get_data(as_text=True)
    assert "Acknowledge, explain, agree — in under two minutes" in page
    scenario = [e for e in events.of("step_completed") if e.step.type == "scenario"]
    assert [e.step.id for e in scenario] == [
        "difficult-conversation/worried-daughter/opening",
        "difficult-conversation/worried-daughter/explain",
    ]
    assert [e.result.response for e in scenario] == ["acknowledge", "agree"]
    assert [e.result.success for e in scenario] == [True, True]
    assert [e.result.completion for e in scenario] == [False, True]
    assert scenario[0].interaction["correctResponsesPattern"] == ["acknowledge"]
    assert scenario[0].step.title == "Practise: a worried daughter: At the nurses' station"
