"""A learner launched from an LMS course (a unit): their attempt counts for that unit.

Through the real LTI launch (the independent platform of tests/lti/platform.py), so the
unit is the one the launch's context claim names.
"""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from lms_core.extensions import db
from lms_core.models import Role
from tests.conftest import csrf_token_from, login
from tests.lti.conftest import (  # noqa: F401 - fixtures
    browser,
    key_pool,
    lms,
    registered,
    tool_keys,
)
from tests.lti.platform import LEARNER, Person, Scenario
from tests.reports.test_transcripts import take_check_in


def test_an_attempt_started_after_a_launch_belongs_to_that_lms_course(
    app,
    browser,  # noqa: F811 - the fixture imported above
    tenant,
    check_in,
    make_user,
):
    nurse = Person("nurse-7", LEARNER, name="Ada Okafor")
    launched = browser.launch(
        Scenario(
            nurse,
            context_id="ward-4b",
            context_title="Ward 4B Cardiology",
            custom={"course": check_in},
        )
    )
    assert launched.status_code in (302, 303)

    take_check_in(browser.client)

    from courses.models import Attempt, LmsContext

    with app.app_context():
        attempt = db.session.scalar(select(Attempt))
        context = db.session.get(LmsContext, attempt.lms_context_id)
        assert (context.context_id, context.title) == ("ward-4b", "Ward 4B Cardiology")
        assert attempt.completed_at is not None
    staff = app.test_client()
    login(staff, make_user(tenant, roles=(Role.ADMINISTRATOR,)))
    assert "Ward 4B Cardiology" in staff.get("/reports/").get_data(as_text=True)
    rows = list(
        csv.DictReader(
            io.StringIO(
                staff.get("/reports/completions.csv").get_data(as_text=True).removeprefix("\ufeff")
            )
        )
    )
    assert [(r["learner_name"], r["lms_course_id"], r["lms_course_title"]) for r in rows] == [
        ("Ada Okafor", "ward-4b", "Ward 4B Cardiology")
    ]


def test_a_launch_from_another_lms_course_does_not_move_an_attempt(
    app,
    browser,  # noqa: F811 - the fixture imported above
    tenant,
    check_in,
):
    nurse = Person("nurse-8", LEARNER, name="Ben Ode")
    browser.launch(Scenario(nurse, context_id="icu", context_title="ICU"))
    page = browser.client.get(f"/courses/{check_in}").get_data(as_text=True)
    step = browser.client.post(
        f"/courses/{check_in}/start", data={"csrf_token": csrf_token_from(page)}
    ).headers["Location"]
    browser.launch(Scenario(nurse, context_id="er", context_title="Emergency"))
    token = csrf_token_from(browser.client.get(step).get_data(as_text=True))
    again = browser.client.post(f"/courses/{check_in}/start", data={"csrf_token": token})
    assert again.headers["Location"] == step  # Start again resumes the same attempt

    from courses.models import Attempt, LmsContext

    with app.app_context():
        attempts = list(db.session.scalars(select(Attempt)))
        assert len(attempts) == 1  # the second Start resumed it
        assert db.session.get(LmsContext, attempts[0].lms_context_id).title == "ICU"
