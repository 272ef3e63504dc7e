"""In real Chromium: a partner author logs in, uploads a new version (its folder), previews
it and publishes it; an operator invites an author who sets a password. axe-core finds no
WCAG 2.1 AA violation on any page on the way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser_support import assert_accessible, assert_reflows
from tests.partners.conftest import NORTHBRIDGE, PASSWORD, RESET, new_version

pytestmark = pytest.mark.browser


def test_partner_logs_in_uploads_previews_and_publishes_a_new_version(
    app: Flask, live_server: str, page: Any, author: Any, tmp_path: Path
) -> None:
    package = new_version(RESET, tmp_path / "four-minute-reset", "1.1.0")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip")

    page.goto(f"{live_server}/login")
    assert_accessible(page)
    page.get_by_label("E-mail address").fill(author.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Partner portal").first.click()
    page.wait_for_url(f"**/partner/{NORTHBRIDGE}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Northbridge")
    assert_accessible(page)
    assert_reflows(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("link", name="Upload a package").click()
    assert_accessible(page)
    # A broken upload first: the report, accessible too.
    page.get_by_label("A zip of the package").set_input_files(str(broken))
    page.get_by_role("button", name="Upload and check").click()
    assert "not a zip file or a folder" in page.locator("#report").inner_text()
    assert_accessible(page)

    # The folder itself: Chromium sends each file with its path inside it, no script needed.
    page.get_by_label("Or the package's folder").set_input_files(str(package))
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_url("**/versions/1.1.0/")
    assert "saved as a draft" in page.locator(".flashes").inner_text()
    assert page.get_by_text("Draft", exact=True).is_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Preview as a learner").click()
    page.wait_for_url("**/preview/steps/1")
    assert "(draft)" in page.locator(".preview-banner").inner_text()
    assert_accessible(page)
    assert_reflows(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/preview/steps/3")
    page.get_by_label(
        "A short, deliberate pause that closes one task before the next begins."
    ).check()
    page.get_by_role("button", name="Check my answer").click()
    assert page.locator("#feedback").get_by_role("heading", name="Right").is_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Back to version 1.1.0").click()
    page.get_by_role("button", name="Publish version 1.1.0").click()
    assert "is published" in page.locator(".flashes").inner_text()
    assert page.get_by_text("Published · in catalogs").is_visible()
    assert_accessible(page)

    page.goto(f"{live_server}/partner/{NORTHBRIDGE}/courses/four-minute-reset/statistics")
    assert page.get_by_role("heading", name="Question difficulty").is_visible()
    assert_accessible(page)


def test_operator_invites_an_author_who_accepts_in_the_browser(
    app: Flask, live_server: str, page: Any, make_user: Any, courses: None
) -> None:
    from lms_core.models import Role
    from tests.browser_support import browser_login

    operator = make_user(None, roles=(Role.OPERATOR,), email="ops@example.org", password=PASSWORD)
    browser_login(app, page, live_server, operator, kind="local")
    page.goto(f"{live_server}/partner/manage")
    assert_accessible(page)
    page.get_by_label("Author's e-mail address").fill("grace@northbridge.example.edu")
    page.get_by_label("Partner").select_option(NORTHBRIDGE)
    page.get_by_role("button", name="Create invitation link").click()
    link = page.locator(".invitation-link").inner_text()
    assert_accessible(page)
    assert_reflows(page)

    page.context.clear_cookies()
    page.goto(link.replace("http://localhost", live_server))
    assert_accessible(page)
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("Choose a password").fill("password1234")
    page.get_by_label("Type the password again").fill("password1234")
    page.get_by_role("button", name="Create my account").click()
    assert "too easy to guess" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_label("Choose a password").fill("quiet ward lantern 1987 harbour")
    page.get_by_label("Type the password again").fill("quiet ward lantern 1987 harbour")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(f"**/partner/{NORTHBRIDGE}/")
    assert "Welcome, Grace Hopper" in page.locator(".flashes").inner_text()
