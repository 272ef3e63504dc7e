"""The education department's pages in real Chromium: axe-core finds no violations, and
at 320 px nothing scrolls sideways and every label of the chart stays whole."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser_support import assert_accessible, assert_reflows, browser_login
from tests.reports.conftest import add_attempt, answer_private, days_ago, last_month_day
from tests.reports.test_required_courses import lms_course, require

pytestmark = pytest.mark.browser

#: Right edge of each chart label, in px, beyond the chart's own width (0: all inside).
CHART_OVERFLOW = """() => {
  const svg = document.querySelector('svg.chart-svg');
  const width = svg.getBoundingClientRect().width;
  const ends = [...svg.querySelectorAll('text')].map(t => t.getBBox().x + t.getBBox().width);
  return Math.max(0, ...ends.map(end => end - width));
}"""


def check(page: Any) -> None:
    assert_accessible(page)
    assert_reflows(page)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_dashboard_and_its_pages_pass_axe_and_read_at_320px(
    app, live_server, page, make_hospital, reset, check_in
):
    ward = make_hospital("riverside", "Riverside General", learners=6)
    for n, learner in enumerate(ward.learners):
        registration = add_attempt(
            app, learner, check_in, completed=last_month_day(), score=(1, 1), context="ward-4b"
        )
        answer_private(app, registration, "wellbeing_check", {"value": 1 + n % 5}, last_month_day())
        add_attempt(
            app,
            learner,
            reset,
            completed=days_ago(20 + 30 * n),
            passed=n % 3 != 0,
            score=(3, 4) if n % 3 else (1, 4),
            context="icu",
        )
    context = lms_course(
        app,
        ward,
        "ward-4b",
        "Ward 4B: Cardiology and Respiratory",
        roster=ward.learners,
        extra=(("s-9", "Robin Never"),),
    )
    require(app, context, reset, days_ago(3).date())
    browser_login(app, page, live_server, ward.admin)

    page.goto(f"{live_server}/reports/")
    assert page.locator("svg.chart-svg text").count() == 14  # the legend and 12 months
    check(page)
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate(CHART_OVERFLOW) <= 0.5
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_text("Show the numbers as a table").click()
    check(page)

    for path in (
        "/reports/?period=90d",
        "/reports/?since=2026-13-01",
        "/reports/learners/",
        f"/reports/learners/{ward.learners[0].id}",
        "/reports/catalog",
        "/lti/assignments/1",
    ):
        page.goto(live_server + path)
        check(page)

    learner = page.context.browser.new_context()
    mine = learner.new_page()
    browser_login(app, mine, live_server, ward.learners[1])
    for path in ("/record", "/"):
        mine.goto(live_server + path)
        check(mine)
    learner.close()
