"""Who may do what on the education department's pages: the hospital matrix.

Hospital A's staff never see hospital B's people; learners see only their own record;
local accounts without a hospital (operators, partner authors) see no hospital's people.
Every denied request is a 403 or 404 (anonymous visitors are sent to log in) and
writes nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from lms_core.extensions import db
from lms_core.models import AuditLog, OutboxMessage, Role
from tests.conftest import csrf_token_from, login
from tests.reports.conftest import add_attempt, days_ago
from tests.reports.test_required_courses import lms_course, require


@pytest.fixture
def world(app, riverside, lakeview, reset, make_user):
    """Riverside's data that outsiders probe: a learner, a required course, an export."""
    from certificates.models import CertificateExport

    add_attempt(app, riverside.learners[0], reset, completed=days_ago(3))
    ward = lms_course(app, riverside, "ward-4b", "Ward 4B", roster=riverside.learners)
    require(app, ward, reset, days_ago(-10).date())
    from lti.models import Assignment

    with app.app_context():
        export = CertificateExport(
            tenant_id=riverside.tenant.id,
            requested_by="Riverside Admin",
            date_from=dt.date(2026, 1, 1),
            date_to=dt.date(2026, 1, 31),
        )
        db.session.add(export)
        db.session.commit()
        ids = {
            "learner": riverside.learners[0].id,
            "assignment": db.session.scalar(select(Assignment.id)),
            "export": export.id,
        }
    return {
        "ids": ids,
        "learner": riverside.learners[1],
        "other_admin": lakeview.admin,
        "operator": make_user(None, roles=(Role.OPERATOR,), email="op@example.org", name="Op"),
        "author": make_user(None, roles=(Role.PARTNER_AUTHOR,), email="au@example.edu", name="Au"),
    }


def requests_of(ids):
    return [
        ("GET", "/reports/"),
        ("GET", "/reports/learners/"),
        ("GET", f"/reports/learners/{ids['learner']}"),
        ("GET", "/reports/catalog"),
        ("GET", "/reports/completions.csv"),
        ("GET", f"/reports/completions.csv?learner={ids['learner']}"),
        ("GET", f"/lti/assignments/{ids['assignment']}"),
        ("GET", f"/certificates/exports/{ids['export']}.zip"),
        ("POST", "/reports/catalog/four-minute-reset/hide"),
        ("POST", "/lti/assignments"),
        ("POST", f"/lti/assignments/{ids['assignment']}/delete"),
        ("POST", "/certificates/exports"),
    ]


def rows(app):
    from certificates.models import CertificateExport
    from courses.models import HiddenCourse
    from lti.models import Assignment

    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (AuditLog, HiddenCourse, Assignment, CertificateExport, OutboxMessage)
        }


def probe(app, client, world, kind="lti"):
    """Every request, with a valid CSRF token on the POSTs (so only authorization decides)."""
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    answers = {}
    for method, path in requests_of(world["ids"]):
        if method == "GET":
            answers[path] = client.get(path).status_code
        else:
            answers[path] = client.post(
                path,
                data={
                    "csrf_token": token,
                    "context": "1",
                    "course": "four-minute-reset",
                    "due_on": "2030-01-01",
                    "date_from": "2026-01-01",
                    "date_to": "2026-01-31",
                },
            ).status_code
    return answers


@pytest.mark.parametrize("who", ["learner", "operator", "author"])
def test_nobody_outside_an_education_department_gets_in(app, client, world, who):
    user = world[who]
    login(client, user, kind="lti" if who == "learner" else "local")
    before = rows(app)

    answers = probe(app, client, world)

    assert set(answers.values()) <= {403, 404}, answers
    assert rows(app) == before


def test_another_hospitals_staff_never_reach_this_hospitals_people(app, client, world):
    login(client, world["other_admin"])
    before = rows(app)

    answers = probe(app, client, world)

    for path in (
        f"/reports/learners/{world['ids']['learner']}",
        f"/reports/completions.csv?learner={world['ids']['learner']}",
        f"/lti/assignments/{world['ids']['assignment']}",
        f"/certificates/exports/{world['ids']['export']}.zip",
        f"/lti/assignments/{world['ids']['assignment']}/delete",
    ):
        assert answers[path] == 404, (path, answers[path])
    # What they may do (their own dashboard, their own catalog) touches only their hospital.
    assert answers["/reports/"] == 200
    csv = client.get("/reports/completions.csv?period=all").get_data(as_text=True)
    assert "Riverside" not in csv
    after = rows(app)
    assert after["lti_assignment"] == before["lti_assignment"]


def test_anonymous_visitors_are_sent_to_log_in(app, client, world):
    before = rows(app)

    for method, path in requests_of(world["ids"]):
        response = client.open(path, method=method)
        if method == "GET":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code in (302, 400)  # no session: no CSRF token either
    assert rows(app) == before
