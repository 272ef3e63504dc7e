"""The LTI pages people see, in real Chromium: accessible (axe, WCAG 2.1 AA), reflowing
on a phone, usable with the keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from lms_core.models import Role
from tests.browser_support import assert_accessible, assert_reflows, carry_session
from tests.courses.conftest import RESET, import_course
from tests.lti.platform import Scenario

pytestmark = pytest.mark.browser


def test_course_picker_and_lms_course_pages_pass_axe(
    app, live_server, page, educator, clinician, browser
):
    import_course(app, RESET)
    browser.platform.members = [
        {"user_id": "nurse-42", "name": "Ada Okafor", "roles": [], "status": "Active"}
    ]
    browser.launch(Scenario(clinician))
    picker = browser.launch(Scenario(educator, deep_link=True)).headers["Location"]
    carry_session(browser.client, page, live_server)
    page.goto(live_server + picker)
    assert_accessible(page)
    assert_reflows(page)
    page.set_viewport_size({"width": 1100, "height": 900})
    page.get_by_label("Search courses").fill("reset")
    page.get_by_role("button", name="Search").click()
    page.get_by_label("The Four-Minute Reset", exact=False).check()
    page.get_by_role("button", name="Add to the course").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("1 course ready to add")
    assert_accessible(page)

    page.goto(live_server + "/lti/contexts/")
    assert_accessible(page)
    page.get_by_role("link", name="Nursing orientation 2026").click()
    page.get_by_role("button", name="Sync the roster from the LMS").click()
    expect(page.get_by_role("status")).to_contain_text("roster")
    assert_accessible(page)
    assert_reflows(page)


def test_operator_page_and_fallback_pages_pass_axe(app, live_server, page, make_user):
    make_user(None, roles=(Role.OPERATOR,), email="ops@example.org", password="a long password!")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill("ops@example.org")
    page.get_by_label("Password").fill("a long password!")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(live_server + "/lti/admin/")
    expect(page.get_by_role("heading", level=1)).to_have_text("LMS registrations")
    assert_accessible(page)
    assert_reflows(page)

    for path in ("/lti/register", "/lti/login?iss=https://unknown.example&login_hint=1"):
        page.goto(live_server + path)
        assert_accessible(page)
