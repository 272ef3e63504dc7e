"""Required courses (lti): a course made required for an LMS course by a due date, who on
its roster is overdue, and what learners see; and rosters' learners who never started."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from lms_core.db import utcnow
from lms_core.extensions import db
from lms_core.models import AuditLog
from tests.conftest import login, submit
from tests.reports.conftest import add_attempt, audit_count, days_ago
from tests.reports.test_dashboard import text_of

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def lms_course(app, hospital, context_id, title, *, roster=(), extra=(), launched=()):
    """An LMS course of the hospital's LMS with its roster (NRPS) read: ``roster`` users,
    ``extra`` (subject, name) people who never opened Shiftwell; ``launched`` users
    opened Shiftwell from it."""
    from lti.models import Context, Deployment, Launch, Membership, Registration

    with app.app_context():
        registration = db.session.scalar(
            select(Registration).where(Registration.tenant_id == hospital.tenant.id)
        )
        if registration is None:
            registration = Registration(
                tenant_id=hospital.tenant.id,
                name="Hospital LMS",
                issuer="https://lms.example.edu",
                client_id=f"client-{hospital.tenant.slug}",
                auth_login_url="https://lms.example.edu/auth",
                auth_token_url="https://lms.example.edu/token",
                keyset_url="https://lms.example.edu/jwks",
            )
            registration.deployments.append(
                Deployment(deployment_id="1", tenant_id=hospital.tenant.id)
            )
            db.session.add(registration)
            db.session.flush()
        context = Context(
            tenant_id=hospital.tenant.id,
            deployment_pk=registration.deployments[0].id,
            context_id=context_id,
            title=title,
            roster_synced_at=utcnow(),
        )
        db.session.add(context)
        db.session.flush()
        for user in roster:
            db.session.add(
                Membership(
                    tenant_id=hospital.tenant.id,
                    context_pk=context.id,
                    subject=user.subject,
                    user_id=user.id,
                    name=user.name,
                    roles=[LEARNER],
                    is_learner=True,
                )
            )
        for subject, name in extra:
            db.session.add(
                Membership(
                    tenant_id=hospital.tenant.id,
                    context_pk=context.id,
                    subject=subject,
                    name=name,
                    roles=[LEARNER],
                    is_learner=True,
                )
            )
        for user in launched:
            db.session.add(
                Launch(
                    tenant_id=hospital.tenant.id,
                    user_id=user.id,
                    deployment_pk=registration.deployments[0].id,
                    context_pk=context.id,
                    message_type="LtiResourceLinkRequest",
                    roles=[INSTRUCTOR],
                )
            )
        db.session.commit()
        return context.id


def require(app, context_pk, slug, due_on):
    from lti.models import Assignment, Context

    with app.app_context():
        tenant_id = db.session.get(Context, context_pk).tenant_id
        db.session.add(
            Assignment(
                tenant_id=tenant_id,
                context_pk=context_pk,
                course_slug=slug,
                due_on=due_on,
                created_by="test",
            )
        )
        db.session.commit()


def test_an_educator_makes_a_course_required_and_sees_who_is_overdue(app, client, riverside, reset):
    ana, ben, cy = riverside.learners
    ward = lms_course(
        app,
        riverside,
        "ward-4b",
        "Ward 4B",
        roster=(ana, ben, cy),
        extra=(("new-starter", "Dana New"),),
        launched=(riverside.educator,),
    )
    # Ana passed it before it became required; Ben has started it.
    add_attempt(app, ana, reset, completed=days_ago(5))
    add_attempt(app, ben, reset)
    login(client, riverside.educator)
    due = (utcnow() + dt.timedelta(days=30)).date()

    response = submit(
        client,
        "/reports/catalog",
        {"context": ward, "course": reset, "due_on": due.isoformat()},
        action="/lti/assignments",
    )

    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is now required in Ward 4B, by" in text_of(page)
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "lti.assignment_set"))
        assert entry.details["course"] == reset and entry.actor_id == riverside.educator.id

    # Weeks later, the due date has passed: Ana passed in time, Ben is still in progress.
    from lti.models import Assignment

    with app.app_context():
        assignment = db.session.scalar(select(Assignment))
        assignment.due_on = days_ago(2).date()
        db.session.commit()
        assignment_id = assignment.id

    dashboard = text_of(client.get("/reports/").get_data(as_text=True))
    assert re.search(
        r"The Four-Minute Reset: a pause between patients Ward 4B \d\d \w+ \d{4} 4 1 3", dashboard
    )
    detail = client.get(f"/lti/assignments/{assignment_id}").get_data(as_text=True)
    detail_text = text_of(detail)
    assert "Overdue In progress" in detail_text and "Overdue Not started" in detail_text
    assert "Dana New" in detail_text and f'href="/reports/learners/{ben.id}"' in detail
    assert re.search(r"Riverside Learner 1 Passed \d{4}-\d\d-\d\d", detail_text)

    # Ben sees it on his home page, overdue.
    learner = app.test_client()
    login(learner, ben)
    home = text_of(learner.get("/").get_data(as_text=True))
    assert "Required by your hospital" in home and "for Ward 4B" in home and "Overdue" in home


def test_a_due_date_in_the_past_is_refused_with_a_reason(app, client, riverside, reset):
    ward = lms_course(app, riverside, "ward-4b", "Ward 4B", launched=(riverside.educator,))
    login(client, riverside.educator)
    before = audit_count(app)

    response = submit(
        client,
        "/reports/catalog",
        {"context": ward, "course": reset, "due_on": "2020-01-01"},
        action="/lti/assignments",
    )

    assert response.status_code == 400
    assert "2020-01-01 has passed. Choose today or a later day." in text_of(
        response.get_data(as_text=True)
    )
    assert audit_count(app) == before


def test_an_instructor_works_only_with_the_lms_courses_they_teach(app, client, riverside, reset):
    theirs = lms_course(app, riverside, "ward-4b", "Ward 4B", launched=(riverside.educator,))
    other = lms_course(app, riverside, "icu", "ICU")
    require(app, other, reset, days_ago(-10).date())
    login(client, riverside.educator)
    before = audit_count(app)

    response = submit(
        client,
        "/reports/catalog",
        {"context": other, "course": reset, "due_on": days_ago(-20).date().isoformat()},
        action="/lti/assignments",
    )

    assert response.status_code == 400  # ICU is not a choice for them
    assert audit_count(app) == before
    from lti.models import Assignment

    with app.app_context():
        icu = db.session.scalar(select(Assignment.id).where(Assignment.context_pk == other))
    assert client.get(f"/lti/assignments/{icu}").status_code == 404
    assert "ICU" not in client.get("/reports/").get_data(as_text=True)
    admin = app.test_client()
    login(admin, riverside.admin)
    assert "ICU" in admin.get("/reports/").get_data(as_text=True)
    assert theirs


def test_rosters_show_who_never_opened_shiftwell(app, client, riverside):
    ana, ben, _ = riverside.learners
    lms_course(
        app,
        riverside,
        "ward-4b",
        "Ward 4B",
        roster=(ana, ben),
        extra=(("s-1", "Eve Unseen"), ("s-2", "Finn Unseen")),
    )
    login(client, riverside.admin)

    text = text_of(client.get("/reports/").get_data(as_text=True))

    assert "Enrolled but not started" in text
    assert re.search(r"Ward 4B 4 2", text)


def test_removing_a_required_course_is_audited(app, client, riverside, reset):
    ward = lms_course(app, riverside, "ward-4b", "Ward 4B")
    require(app, ward, reset, days_ago(-10).date())
    login(client, riverside.admin)
    from lti.models import Assignment

    with app.app_context():
        assignment_id = db.session.scalar(select(Assignment.id))

    response = submit(
        client,
        f"/lti/assignments/{assignment_id}",
        {},
        action=f"/lti/assignments/{assignment_id}/delete",
    )

    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0
        assert db.session.scalar(
            select(AuditLog).where(AuditLog.action == "lti.assignment_removed")
        )
