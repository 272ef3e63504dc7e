"""The education department reads an LMS course's roster (NRPS) and sees who has not
opened Shiftwell yet."""

from __future__ import annotations

import json

from lms_core.extensions import db
from lti import api
from lti.models import Context
from tests.conftest import csrf_token_from
from tests.lti.platform import INSTRUCTOR, LEARNER, Person, Scenario

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


def roster(*people):
    return [
        {"user_id": sub, "name": name, "roles": [LIS + role], "status": "Active"}
        for sub, name, role in people
    ]


PEOPLE = (
    ("nurse-42", "Ada Okafor", "Learner"),
    ("nurse-43", "Ben Idris", "Learner"),
    ("educator-7", "Sam Rivera", "Instructor"),
)


def context_pk(app):
    with app.app_context():
        return db.session.query(Context).one().id


def test_instructor_syncs_the_roster_and_sees_who_has_not_started(
    app, browser, clinician, educator
):
    platform = browser.platform
    platform.members = roster(*PEOPLE)
    platform.roster_page_size = 2  # the LMS pages its answer: Link rel="next"
    browser.launch(Scenario(clinician))
    browser.launch(Scenario(educator))
    pk = context_pk(app)
    page_url = f"/lti/contexts/{pk}"
    assert "Nursing orientation 2026" in browser.client.get("/lti/contexts/").get_data(as_text=True)

    page = browser.client.get(page_url).get_data(as_text=True)
    response = browser.client.post(f"{page_url}/roster", data={"csrf_token": csrf_token_from(page)})

    assert response.status_code == 303
    html = browser.client.get(page_url).get_data(as_text=True)
    assert "Ben Idris" in html and "not yet" in html
    with app.app_context():
        tenant_id = db.session.get(Context, pk).tenant_id
        members = {m.subject: m for m in api.members(tenant_id, pk)}
        started = api.launched_user_ids(tenant_id, pk)
    assert set(members) == {"nurse-42", "nurse-43", "educator-7"}
    assert members["nurse-42"].user_id in started
    assert members["nurse-43"].user_id is None and members["nurse-43"].is_learner
    assert not members["educator-7"].is_learner


def test_a_resync_drops_people_who_left_the_course(app, runner, browser, educator, tenant):
    platform = browser.platform
    platform.members = roster(*PEOPLE)
    browser.launch(Scenario(educator))
    assert runner.invoke(args=["lti", "sync-roster", "--tenant", tenant.slug]).exit_code == 0

    platform.members = roster(PEOPLE[0], PEOPLE[2])
    result = runner.invoke(args=["lti", "sync-roster", "--tenant", tenant.slug, "--format", "json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"context_id": "course-101", "members": 2, "added": 0, "removed": 1}
    ]


def test_the_roster_button_needs_its_csrf_token(app, browser, educator):
    browser.launch(Scenario(educator))

    response = browser.client.post(f"/lti/contexts/{context_pk(app)}/roster")

    assert response.status_code == 400


def test_learners_cannot_see_rosters(app, browser, clinician):
    browser.launch(Scenario(clinician))

    assert browser.client.get(f"/lti/contexts/{context_pk(app)}").status_code == 403


def test_an_instructor_sees_only_courses_they_teach(app, browser, educator):
    browser.launch(Scenario(educator))
    other = Person("educator-8", INSTRUCTOR)
    browser.launch(Scenario(other, context_id="course-202", context_title="ICU skills"))

    listing = browser.client.get("/lti/contexts/").get_data(as_text=True)

    assert "ICU skills" in listing and "Nursing orientation 2026" not in listing
    with app.app_context():
        first = db.session.query(Context).filter_by(context_id="course-101").one().id
    assert browser.client.get(f"/lti/contexts/{first}").status_code == 404


def test_another_hospital_never_sees_this_roster(app, browser, educator, make_tenant, make_user):
    from tests.conftest import login

    browser.launch(Scenario(educator))
    pk = context_pk(app)
    other_tenant = make_tenant(slug="other-hospital", name="Other")
    from lms_core.models import Role

    admin = make_user(other_tenant, roles=(Role.ADMINISTRATOR,))
    client = app.test_client()
    login(client, admin)

    assert client.get(f"/lti/contexts/{pk}").status_code == 404
    assert "Nursing orientation" not in client.get("/lti/contexts/").get_data(as_text=True)
    with app.app_context():
        assert api.members(other_tenant.id, pk) == []
        assert api.contexts(other_tenant.id) == []


def test_a_course_without_the_roster_service_says_how_to_enable_it(app, runner, browser, tenant):
    browser.launch(Scenario(Person("educator-9", INSTRUCTOR), nrps=False))

    result = runner.invoke(args=["lti", "sync-roster", "--tenant", tenant.slug])

    assert result.exit_code == 2
    assert "roster" in result.output


def test_a_learner_only_launch_keeps_the_roster_service_address(app, browser):
    browser.launch(Scenario(Person("nurse-50", LEARNER)))
    with app.app_context():
        assert db.session.query(Context).one().memberships_url.endswith("/memberships")
