"""The core's pages in a real browser: accessible, keyboard-usable, reflowing on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from lms_core.models import Role
from tests.browser_support import assert_accessible, assert_reflows

pytestmark = pytest.mark.browser


def test_start_and_login_pages_pass_axe_and_reflow(live_server, page):
    for path in ("/", "/login", "/no-such-page"):
        page.goto(live_server + path)
        assert_accessible(page)
        assert_reflows(page)


def test_skip_link_is_the_first_stop_and_moves_focus_to_main(live_server, page):
    page.goto(live_server + "/login")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_an_operator_logs_in_with_the_keyboard_and_errors_are_announced(
    live_server, page, make_user
):
    make_user(None, roles=(Role.OPERATOR,), email="ops@example.org", password="a long password!")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill("ops@example.org")
    page.get_by_label("Password").fill("wrong")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    assert_accessible(page)
    page.get_by_label("Password").fill("a long password!")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server + "/")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert_accessible(page)
