"""The LTI pages people see, in real Chromium: accessible (axe, WCAG 2.1 AA), reflowing
on a phone, usable with the keyboard.

Chromium runs in a thread of its own: the browser tests' session-wide Playwright may
already own this thread's event loop, and Playwright's sync API allows one per thread."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from lms_core.models import Role
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, assert_accessible, assert_reflows
from tests.courses.conftest import RESET, import_course
from tests.lti.conftest import Browser
from tests.lti.platform import Scenario, free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def served(app):
    port = free_port(5300, 5350)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def in_chromium(steps):
    """Run ``steps(page)`` in a fresh Chromium page, in its own thread; re-raise here."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.sync_api")
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            with playwright_api.sync_playwright() as p:
                chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = chromium.new_context().new_page()
                    page.set_default_timeout(10_000)
                    steps(page)
                finally:
                    chromium.close()
        except BaseException as exc:  # handed back to the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    if "error" in outcome:
        raise outcome["error"]


def carry_session(test_client, page, base):
    """The launch ran through the test client; the browser continues that session."""
    cookie = test_client.get_cookie("shiftwell_session")
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base}])


@pytest.fixture
def lti_browser(client, registered):
    """The LTI test browser (``browser`` here is Playwright's Chromium)."""
    return Browser(client, registered)


def test_course_picker_and_lms_course_pages_pass_axe(app, served, educator, clinician, lti_browser):
    import_course(app, RESET)
    lti_browser.platform.members = [
        {"user_id": "nurse-42", "name": "Ada Okafor", "roles": [], "status": "Active"}
    ]
    lti_browser.launch(Scenario(clinician))
    picker = lti_browser.launch(Scenario(educator, deep_link=True)).headers["Location"]
    in_chromium(lambda page: picker_steps(page, lti_browser, served, picker))


def picker_steps(page, lti_browser, served, picker):
    carry_session(lti_browser.client, page, served)
    page.goto(served + picker)
    assert_accessible(page)
    assert_reflows(page)
    page.set_viewport_size({"width": 1100, "height": 900})
    page.get_by_label("Search courses").fill("reset")
    page.get_by_role("button", name="Search").click()
    page.get_by_label("The Four-Minute Reset", exact=False).check()
    page.get_by_role("button", name="Add to the course").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("1 course ready to add")
    assert_accessible(page)

    page.goto(served + "/lti/contexts/")
    assert_accessible(page)
    page.get_by_role("link", name="Nursing orientation 2026").click()
    page.get_by_role("button", name="Sync the roster from the LMS").click()
    expect(page.get_by_role("status")).to_contain_text("roster")
    assert_accessible(page)
    assert_reflows(page)


def test_operator_page_and_fallback_pages_pass_axe(app, served, make_user):
    make_user(None, roles=(Role.OPERATOR,), email="ops@example.org", password="a long password!")
    in_chromium(lambda page: operator_steps(page, served))


def operator_steps(page, served):
    page.goto(served + "/login")
    page.get_by_label("E-mail address").fill("ops@example.org")
    page.get_by_label("Password").fill("a long password!")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(served + "/lti/admin/")
    expect(page.get_by_role("heading", level=1)).to_have_text("LMS registrations")
    assert_accessible(page)
    assert_reflows(page)

    for path in ("/lti/register", "/lti/login?iss=https://unknown.example&login_hint=1"):
        page.goto(served + path)
        assert_accessible(page)
