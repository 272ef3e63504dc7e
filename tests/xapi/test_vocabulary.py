"""A learner's progress becomes statements, in the same transaction, in our xAPI profile."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from tincan import Agent, AgentAccount, RemoteLRS

from lms_core import signals
from lms_core.extensions import db
from xapi.models import XapiStatement
from xapi.validation import validate_statements

ADL = "http://adlnet.gov/expapi/verbs/"


def stored_statements(app, tenant_id: int) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(
            select(XapiStatement.document)
            .where(XapiStatement.tenant_id == tenant_id)
            .order_by(XapiStatement.seq)
        )
        return [json.loads(r) for r in rows]


def test_a_learners_launch_steps_and_completion_are_read_back_by_tincan(
    app, learner_events, lrs, live_server
):
    learner_events.launch()
    learner_events.start()
    learner_events.step(1)
    learner_events.progress(1)
    learner_events.step(
        2,
        verb="answered",
        interaction={
            "interactionType": "choice",
            "choices": [
                {"id": "a", "description": {"en-US": "Slow breathing"}},
                {"id": "b", "description": {"en-US": "More coffee"}},
            ],
            "correctResponsesPattern": ["a"],
        },
        result=signals.Result(score_scaled=1.0, success=True, response="a"),
    )
    learner_events.complete()

    remote = RemoteLRS(
        endpoint=f"{live_server.url}/xapi/", version="1.0.3", username=lrs.key, password=lrs.secret
    )
    learner = Agent(account=AgentAccount(home_page="https://lms.example.edu", name="lti-sub-7f3a"))
    # xAPI booleans are JSON "true"; tincan would send Python's "True".
    response = remote.query_statements({"agent": learner, "ascending": "true"})
    assert response.success, response.data
    statements = response.content.statements
    verbs = [s.verb.id.removeprefix(ADL) for s in statements]
    assert verbs == [
        "launched",
        "initialized",
        "experienced",
        "progressed",
        "answered",
        "completed",
        "passed",
    ]

    course_iri = "http://localhost/courses/resilience-basics"
    for s in statements:
        assert s.actor.account.home_page == "https://lms.example.edu"
        assert s.actor.account.name == "lti-sub-7f3a"
        assert s.actor.mbox is None and s.actor.name is None  # never the e-mail, nor the name
        assert (
            s.context.extensions["https://w3id.org/xapi/cmi5/context/extensions/sessionid"]
            == "session-abc"
        )
    assert statements[0].object.id == course_iri
    for s in statements[1:]:
        assert str(s.context.registration) == learner_events.registration
        assert s.context.revision == "1.2.0"
    answered = statements[4]
    assert answered.object.id == f"{course_iri}/steps/lesson-1/step-2"
    assert answered.object.definition.interaction_type == "choice"
    assert answered.result.response == "a" and answered.result.success is True
    assert answered.context.context_activities.parent[0].id == f"{course_iri}/lessons/lesson-1"
    assert answered.context.context_activities.grouping[0].id == course_iri
    passed = statements[6]
    assert passed.result.score.scaled == 0.9 and passed.result.success is True
    assert passed.result.duration.total_seconds() == 252.5

    # The same statements, by registration: one attempt's record.
    by_attempt = remote.query_statements({"registration": learner_events.registration})
    assert len(by_attempt.content.statements) == 6


def test_a_reflection_leaves_only_that_it_was_done(app, learner_events):
    learner_events.step(
        3,
        verb="answered",
        private=True,
        result=signals.Result(score_raw=4, completion=True, response=None),
    )
    [reflection] = stored_statements(app, learner_events.tenant_id)
    assert reflection["result"] == {"completion": True}
    assert "response" not in json.dumps(reflection)
    validate_statements(reflection)


def test_statements_roll_back_with_the_progress_they_describe(app, learner_events):
    learner_events.step(1, commit=False)
    assert stored_statements(app, learner_events.tenant_id) == []
    learner_events.step(1)
    assert len(stored_statements(app, learner_events.tenant_id)) == 1


def test_a_failed_attempt_is_completed_then_failed_with_its_score(app, learner_events):
    learner_events.complete(passed=False)
    completed, failed = stored_statements(app, learner_events.tenant_id)
    assert completed["verb"]["id"] == ADL + "completed"
    assert completed["result"]["completion"] is True and "success" not in completed["result"]
    assert failed["verb"]["id"] == ADL + "failed"
    assert failed["result"]["success"] is False
    assert failed["context"]["extensions"]["http://localhost/xapi/extensions/credit"] == {
        "type": "ancc-contact-hours",
        "amount": 0.25,
    }


def test_an_event_sent_twice_in_a_replayed_transaction_is_one_statement(app, learner_events):
    learner_events.start()
    with app.app_context():
        event = signals.AttemptEvent(learner_events.context(), learner_events.course)
    for _ in range(2):
        learner_events.send(signals.attempt_started, event)
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(XapiStatement))
    assert count == 2  # the first start, and the replayed one once
