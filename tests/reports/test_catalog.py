"""Catalog management: the education department hides and shows courses, with an audit
trail; other hospitals' catalogs do not change."""

from __future__ import annotations

from sqlalchemy import select

from lms_core.extensions import db
from lms_core.models import AuditLog
from tests.conftest import login, submit
from tests.reports.conftest import audit_count
from tests.reports.test_dashboard import text_of


def test_hiding_a_course_takes_it_out_of_this_hospitals_catalog_only(
    app, client, riverside, lakeview, reset
):
    login(client, riverside.admin)
    before = audit_count(app)

    response = submit(
        client, "/reports/catalog", {}, action="/reports/catalog/four-minute-reset/hide"
    )

    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    title = "“The Four-Minute Reset: a pause between patients”"
    assert f"{title} is hidden from Riverside General's catalog." in page
    assert "Hidden Show The Four-Minute Reset" in page
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "course.hidden"))
        assert entry.tenant_id == riverside.tenant.id
        assert entry.actor_id == riverside.admin.id and entry.details["slug"] == "four-minute-reset"
    learner = app.test_client()
    login(learner, riverside.learners[0])
    assert "Four-Minute Reset" not in learner.get("/courses/").get_data(as_text=True)
    elsewhere = app.test_client()
    login(elsewhere, lakeview.learners[0])
    assert "Four-Minute Reset" in elsewhere.get("/courses/").get_data(as_text=True)

    submit(client, "/reports/catalog", {}, action="/reports/catalog/four-minute-reset/show")
    assert "Four-Minute Reset" in learner.get("/courses/").get_data(as_text=True)
    assert audit_count(app) == before + 2


def test_a_change_without_the_form_token_is_refused_and_changes_nothing(
    app, client, riverside, reset
):
    login(client, riverside.admin)
    before = audit_count(app)

    response = client.post("/reports/catalog/four-minute-reset/hide")

    assert response.status_code == 400
    assert audit_count(app) == before
    assert client.post("/reports/catalog/no-such-course/hide").status_code == 400
