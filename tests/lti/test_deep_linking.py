"""The education department adds courses to an LMS course shell with Deep Linking, and
the LMS (an independent platform) accepts what the tool sends back."""

from __future__ import annotations

import re

import pytest
import requests

from lms_core.extensions import db
from tests.conftest import csrf_token_from
from tests.courses.conftest import RESET, import_course
from tests.lti.platform import LEARNER, Person, Scenario

SLUG = "four-minute-reset"
TITLE = "The Four-Minute Reset: a pause between patients"
_RETURN_FORM = re.compile(
    r'<form method="post" action="([^"]+)">\s*<input type="hidden" name="JWT" value="([^"]+)">'
)


@pytest.fixture
def course(app):
    import_course(app, RESET)
    return SLUG


def open_picker(browser, educator, **scenario):
    response = browser.launch(Scenario(educator, deep_link=True, **scenario))
    assert response.status_code == 303, response.get_data(as_text=True)
    picker = response.headers["Location"]
    assert picker.startswith("/lti/deep-linking/")
    return picker


def send_back(browser, html):
    """The instructor presses the button: the browser posts the signed answer to the LMS."""
    action, token = _RETURN_FORM.search(html).groups()
    response = requests.post(action, data={"JWT": token}, timeout=10)
    assert response.status_code == 200, response.text
    return browser.platform.deep_link_returns[-1]


def test_instructor_adds_a_course_and_the_lms_gets_a_graded_link(app, browser, educator, course):
    picker = open_picker(browser, educator)
    page = browser.client.get(picker).get_data(as_text=True)
    assert (
        "The Four-Minute Reset" in page and "Add Shiftwell courses to Nursing orientation" in page
    )

    response = browser.client.post(
        picker, data={"csrf_token": csrf_token_from(page), "courses": [SLUG], "add": "1"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "1 course ready to add" in html

    items = send_back(browser, html)
    assert len(items) == 1
    item = items[0]
    assert item["type"] == "ltiResourceLink"
    assert item["title"] == TITLE
    assert item["url"] == "http://localhost/lti/launch"
    assert item["custom"] == {"course": SLUG}
    assert item["lineItem"]["scoreMaximum"] == 100
    assert item["lineItem"]["label"] == TITLE
    assert item["lineItem"]["resourceId"] == SLUG
    claims = browser.platform.last_deep_link_claims
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == {"opaque": "round-trip"}
    assert claims["aud"] == [browser.platform.issuer]
    assert claims["iss"] == browser.platform.client_id


def test_the_picker_searches_and_filters_the_catalog(browser, educator, course):
    picker = open_picker(browser, educator)

    found = browser.client.get(picker + "?q=reset&credit=ancc-contact-hours&minutes=")
    missing = browser.client.get(picker + "?q=reset&credit=ama-pra-category-1")
    short = browser.client.get(picker + "?minutes=10")

    assert "The Four-Minute Reset" in found.get_data(as_text=True)
    assert "No course matches" in missing.get_data(as_text=True)
    assert "No course matches" in short.get_data(as_text=True)  # it takes 16 minutes


def test_cancelling_returns_an_empty_answer(browser, educator, course):
    picker = open_picker(browser, educator)
    page = browser.client.get(picker).get_data(as_text=True)

    response = browser.client.post(
        picker, data={"csrf_token": csrf_token_from(page), "cancel": "1"}
    )

    assert "Nothing will be added" in response.get_data(as_text=True)
    assert send_back(browser, response.get_data(as_text=True)) == []


def test_the_picker_form_needs_its_csrf_token(browser, educator, course):
    picker = open_picker(browser, educator)

    response = browser.client.post(picker, data={"courses": [SLUG], "add": "1"})

    assert response.status_code == 400


def test_a_learner_cannot_open_the_picker(browser, course):
    learner = Person("nurse-9", LEARNER)
    response = browser.launch(Scenario(learner, deep_link=True))

    assert browser.client.get(response.headers["Location"]).status_code == 403


def test_a_placement_that_takes_no_lti_links_is_told_so(app, browser, educator, course):
    """The LMS offers only plain links: the library's validator refuses the message."""
    response = browser.launch(Scenario(educator, deep_link=True, accept_types={"link"}))

    assert response.status_code == 400
    assert "resource link" in response.get_data(as_text=True)


def test_a_picker_answer_is_given_once(browser, educator, course):
    picker = open_picker(browser, educator)
    page = browser.client.get(picker).get_data(as_text=True)
    token = csrf_token_from(page)
    browser.client.post(picker, data={"csrf_token": token, "courses": [SLUG], "add": "1"})

    again = browser.client.get(picker)

    assert again.status_code in (400, 403)


def test_launching_the_new_link_opens_its_course(app, browser, educator, clinician, course):
    picker = open_picker(browser, educator)
    page = browser.client.get(picker).get_data(as_text=True)
    html = browser.client.post(
        picker, data={"csrf_token": csrf_token_from(page), "courses": [SLUG], "add": "1"}
    ).get_data(as_text=True)
    item = send_back(browser, html)[0]

    response = browser.launch(
        Scenario(clinician, resource_link_id="dl-link-1", custom=item["custom"], ags_lineitem="1")
    )

    assert response.headers["Location"] == f"/courses/{SLUG}"
    # the link remembers its course even if the LMS later drops the custom parameter
    again = browser.launch(Scenario(clinician, resource_link_id="dl-link-1", ags_lineitem="1"))
    assert again.headers["Location"] == f"/courses/{SLUG}"
    with app.app_context():
        from lti.models import ResourceLink

        link = db.session.query(ResourceLink).filter_by(resource_link_id="dl-link-1").one()
        assert link.course_slug == SLUG and link.lineitem_url.endswith("/lineitems/1")


def test_a_link_to_a_course_that_is_gone_opens_the_catalog_with_a_notice(browser, clinician):
    response = browser.launch(Scenario(clinician, custom={"course": "no-such-course"}))

    assert response.headers["Location"] == "/courses/"
    page = browser.client.get("/").get_data(as_text=True)
    assert "no-such-course" in page
