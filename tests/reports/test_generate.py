"""`shiftwell demo generate`: a made-up hospital every package fills in, in one go."""

from __future__ import annotations

from sqlalchemy import func, select

from lms_core.extensions import db
from lms_core.models import Role
from tests.conftest import login
from tests.reports.test_dashboard import text_of


def count(app, model, **where):
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return db.session.scalar(stmt)


def test_generate_fills_every_package_and_the_dashboard_shows_it(app, runner, client, make_user):
    from certificates.models import Certificate
    from courses.models import Attempt, Course, LmsContext, StepResponse
    from lms_core.models import Tenant, User
    from lti.models import Assignment, Context, Launch, Membership

    result = runner.invoke(
        args=[
            "demo",
            "generate",
            "--learners",
            "60",
            "--courses",
            "4",
            "--attempts",
            "200",
            "--tenant",
            "demo-hospital",
            "--units",
            "3",
            "--seed",
            "7",
        ]
    )

    assert result.exit_code == 0, result.output
    assert "Generated 60 learners in 3 units for demo-hospital (seed 7)" in result.output
    assert count(app, User) == 60 and count(app, Course) == 4
    assert count(app, Attempt) == 200
    assert count(app, Context) == 3 and count(app, LmsContext) == 3
    assert count(app, Membership) == 65 and count(app, Launch) == 60  # 5 never launched
    assert count(app, Assignment) >= 3
    assert count(app, StepResponse) > 0
    with app.app_context():
        passed_with_credit = db.session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.passed.is_(True))
        )
        tenant = db.session.scalar(select(Tenant))
    assert 0 < count(app, Certificate) <= passed_with_credit
    # The rows are consistent enough for the pages.
    admin = make_user(tenant, roles=(Role.ADMINISTRATOR,))
    login(client, admin)
    page = text_of(client.get("/reports/?period=all").get_data(as_text=True))
    assert "Emergency Department" in page and "Enrolled but not started" in page
    learners = client.get("/reports/learners/").get_data(as_text=True)
    assert "60 learners" in text_of(learners)

    again = runner.invoke(args=["demo", "generate", "--learners", "5", "--courses", "0", "--once"])
    assert "demo-hospital already has generated learners; nothing to do." in again.output
    assert count(app, User) == 61
    same_seed = runner.invoke(
        args=["demo", "generate", "--learners", "5", "--courses", "0", "--seed", "7"]
    )
    assert same_seed.exit_code == 2 and "Seed 7 was already generated" in same_seed.output


def test_generate_never_runs_in_production(app, runner):
    app.config["ENV"] = "production"

    result = runner.invoke(args=["demo", "generate", "--learners", "5", "--courses", "1"])

    assert result.exit_code == 2
    assert "never generated in production" in result.output
