"""A clinician launches from her LMS and takes a real course; her record is in the LRS,
with her LMS account as the actor, and an independent xAPI client (tincan) reads it."""

from __future__ import annotations

import json

from sqlalchemy import select
from tincan import Agent, AgentAccount, RemoteLRS

from lms_core.extensions import db
from tests.courses.conftest import RESET, answers_for, import_course, start, walk
from tests.lti.conftest import (  # noqa: F401 - fixtures: the LMS and the clinician's browser
    browser,
    clinician,
    key_pool,
    lms,
    registered,
    tool_keys,
)
from tests.lti.platform import Scenario
from xapi.models import XapiStatement

ADL = "http://adlnet.gov/expapi/verbs/"
SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"


def test_a_learners_launch_steps_and_completion_appear_at_xapi_statements(
    app,
    browser,  # noqa: F811 - the fixture imported above
    clinician,  # noqa: F811 - the fixture imported above
    lrs,
    live_server,
):
    import_course(app, RESET)
    launch = browser.launch(Scenario(clinician, custom={"course": "four-minute-reset"}))
    assert launch.status_code == 303, launch.get_data(as_text=True)[:300]
    with browser.client.session_transaction() as session:
        session_id = session["sid"]

    plan = answers_for(app, "four-minute-reset")
    walk(browser.client, start(browser.client, "four-minute-reset"), plan)

    remote = RemoteLRS(
        endpoint=f"{live_server.url}/xapi/", version="1.0.3", username=lrs.key, password=lrs.secret
    )
    her = Agent(account=AgentAccount(home_page=browser.platform.issuer, name="nurse-42"))
    response = remote.query_statements({"agent": her, "ascending": "true", "limit": 0})
    assert response.success, response.data
    statements = response.content.statements
    verbs = [s.verb.id.removeprefix(ADL) for s in statements]
    assert verbs[:2] == ["launched", "initialized"]
    assert verbs[-2:] == ["completed", "passed"]
    assert {"experienced", "answered", "progressed"} <= set(verbs)

    course = "http://localhost/courses/four-minute-reset"
    assert all(s.object.id.startswith(course) for s in statements)
    assert all(s.actor.account.name == "nurse-42" and s.actor.mbox is None for s in statements)
    assert {s.context.extensions[SESSION] for s in statements} == {session_id}
    assert len({str(s.context.registration) for s in statements[1:]}) == 1  # one attempt
    launched = statements[0].context.extensions["http://localhost/xapi/extensions/lti-launch"]
    assert launched["context_title"] == "Nursing orientation 2026"

    with app.app_context():
        everything = " ".join(db.session.scalars(select(XapiStatement.document)))
    reflection = next(p["text"] for p in plan.values() if p["action"] == "save")
    assert reflection not in everything  # what she wrote never leaves
    assert "ada@stmarys.example" not in everything and "Ada Okafor" not in everything
    answered = [json.loads(s.to_json()) for s in statements if s.verb.id == ADL + "answered"]
    assert any("response" in s.get("result", {}) for s in answered)  # knowledge checks do
