"""Certificates' pages in real Chromium: accessible (axe-core, WCAG 2.1 AA) and reflowing
on a phone. A nurse may verify on her phone; a board clerk on anything.

Kept here, beside the other browser tests, so it shares their one Playwright session; the
certificates fixtures are borrowed from tests/certificates.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from certificates import services
from certificates.models import Certificate
from lms_core.extensions import db
from tests.browser_support import assert_accessible, assert_reflows, browser_login
from tests.certificates.conftest import (  # noqa: F401 - fixtures, used by name
    app_config,
    catalog,
    complete_course,
    learner,
    nameless_learner,
    signing_key_file,
)

pytestmark = pytest.mark.browser


def test_verification_pages_are_accessible_and_reflow(app, live_server, page, request):
    request.getfixturevalue("catalog")
    nurse = request.getfixturevalue("learner")
    complete_course(app, nurse)
    with app.app_context():
        number = db.session.scalar(select(Certificate.number))
    page.goto(f"{live_server}/verify/")
    assert_accessible(page)
    page.get_by_label("Certificate number").fill(number.lower().replace("-", ""))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status")).to_contain_text("Valid.")
    assert page.url.endswith(f"/verify/{number}")
    assert_accessible(page)
    assert_reflows(page)

    page.goto(f"{live_server}/verify/?number={number[:-1]}{'A' if number[-1] != 'A' else 'B'}")
    expect(page.get_by_role("alert")).to_contain_text("typing mistake")
    assert_accessible(page)

    with app.app_context():
        services.revoke(services.get_by_number(number), "Issued in error")
        db.session.commit()
    page.goto(f"{live_server}/verify/{number}")
    expect(page.get_by_role("status")).to_contain_text("Revoked.")
    assert_accessible(page)


def test_a_nameless_learner_names_her_certificate_and_downloads_it(app, live_server, page, request):
    request.getfixturevalue("catalog")
    nurse = request.getfixturevalue("nameless_learner")
    complete_course(app, nurse)
    browser_login(app, page, live_server, nurse)
    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Confirm my name").first.click()
    assert_accessible(page)
    assert_reflows(page)
    page.get_by_label("Your name as it should appear on the certificate").fill("王秀英")
    page.get_by_role("button", name="Issue my certificate").click()
    expect(page.get_by_role("status")).to_contain_text("is issued")
    assert_accessible(page)
    assert_reflows(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename.startswith("certificate-")
