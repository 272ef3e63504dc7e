"""The dashboard's daily rollups agree with the attempts they summarise, whichever way
a completion arrives; and required courses count a pass the moment it happens."""

from __future__ import annotations

from sqlalchemy import select

from lms_core.extensions import db
from tests.conftest import login
from tests.reports.conftest import add_attempt, days_ago
from tests.reports.test_dashboard import text_of
from tests.reports.test_required_courses import lms_course, require
from tests.reports.test_transcripts import take_check_in


def rollup_rows(app):
    from courses.reports.models import CourseDay, UnitDay

    with app.app_context():
        days = sorted(
            (
                r.tenant_id,
                r.day,
                r.version_id,
                r.completions,
                r.passed,
                round(r.score_sum, 6),
                r.scored,
            )
            for r in db.session.scalars(select(CourseDay))
        )
        units = sorted(
            (r.tenant_id, r.day, r.lms_context_id, r.completions, r.passed)
            for r in db.session.scalars(select(UnitDay))
        )
        return days, units


def test_rollups_match_the_attempts_and_rebuild_reproduces_them(
    app, client, runner, riverside, reset, check_in
):
    ana, ben, _ = riverside.learners
    learner = app.test_client()
    login(learner, ana)
    take_check_in(learner)  # completes through the player: course_completed keeps the rollup
    add_attempt(app, ben, reset, completed=days_ago(3), passed=False, score=(1, 4), context="icu")
    add_attempt(app, ben, reset, completed=days_ago(1), number=2, context="icu")
    incremental = rollup_rows(app)

    result = runner.invoke(args=["reports", "rebuild", "--tenant", "riverside"])

    assert result.exit_code == 0, result.output
    assert "riverside: 3 course-days, 3 unit-days." in result.output
    assert rollup_rows(app) == incremental
    days, _ = incremental
    assert sum(r[3] for r in days) == 3 and sum(r[4] for r in days) == 2


def test_a_pass_in_the_player_counts_for_the_required_course_at_once(
    app, client, riverside, check_in
):
    ana = riverside.learners[0]
    ward = lms_course(app, riverside, "ward-4b", "Ward 4B", roster=riverside.learners)
    require(app, ward, check_in, days_ago(2).date())
    login(client, riverside.admin)
    assert "A Check-in Between Shifts Ward 4B" in text_of(
        client.get("/reports/").get_data(as_text=True)
    )

    learner = app.test_client()
    login(learner, ana)
    take_check_in(learner)

    text = text_of(client.get("/reports/").get_data(as_text=True))
    assert "A Check-in Between Shifts Ward 4B" in text
    # 3 learners on the roster, 1 passed (just now, late), 2 overdue.
    import re

    assert re.search(r"A Check-in Between Shifts Ward 4B \d\d \w+ \d{4} 3 1 2", text)
