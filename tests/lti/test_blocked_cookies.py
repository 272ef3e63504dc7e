"""Inside an LMS iframe some browsers keep no cookies for the tool. The launch then uses the
LMS's postMessage storage when the LMS offers it, or a new window; it never gets in
without proof that this browser started the login.

The browser here is the Flask test client with cookies off for the framed part; the
script of the fallback pages (which talks to the LMS's storage frame) is played by the
test, which reads the values it would send from the page.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from lms_core.extensions import db
from lms_core.models import User
from tests.lti.conftest import TOOL, Browser
from tests.lti.platform import Scenario


def _attr(html: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', html)
    assert match, f"no {name} on the page"
    return unescape(match.group(1))


def framed(app, platform) -> Browser:
    """The tool inside the LMS's iframe, in a browser that blocks its cookies there."""
    return Browser(app.test_client(use_cookies=False), platform)


def follow_to_fallback(browser: Browser, scenario: Scenario):
    url = browser.platform.login_url(scenario)
    first = browser.client.get(url[len(TOOL) :])
    assert first.status_code == 303  # the cookie probe: one hop back to ourselves
    assert "probed=1" in first.headers["Location"]
    return browser.client.get(first.headers["Location"])


def test_without_platform_storage_a_new_window_completes_the_launch(app, registered, clinician):
    inside = framed(app, registered)

    page = follow_to_fallback(inside, Scenario(clinician))

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Open Shiftwell in a new window" in html
    assert "<script" not in html  # a plain link, no script needed
    new_window_url = _attr(html, 'href(?=[^>]*target="_blank")')
    assert "new_window=1" in new_window_url

    window = Browser(app.test_client(), registered)  # top-level: first-party cookies work
    response = window.client.get(new_window_url)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    from tests.lti.conftest import Login

    form = window.authorize(
        Login(query["state"][0], query["nonce"][0], response.headers["Location"])
    )
    launched = window.post_launch(form["id_token"], form["state"])
    assert launched.status_code == 303 and launched.headers["Location"] == "/courses/"


def test_with_platform_storage_the_lms_vouches_for_the_login(app, registered, clinician):
    inside = framed(app, registered)
    scenario = Scenario(clinician, storage_target="post_message_forwarding")

    page = follow_to_fallback(inside, scenario)

    html = page.get_data(as_text=True)
    assert "platform-storage.js" in html
    assert _attr(html, "data-target") == "post_message_forwarding"
    assert _attr(html, "data-origin") == registered.base  # the LMS's OIDC endpoint origin
    state, nonce, auth_url = (
        _attr(html, "data-state"),
        _attr(html, "data-nonce"),
        _attr(html, "data-next"),
    )
    # The script puts state_<state> and nonce_<nonce> into the LMS's storage, then goes on.
    lms_storage = {f"state_{state}": state, f"nonce_{nonce}": nonce}
    from tests.lti.conftest import Login

    form = inside.authorize(Login(state, nonce, auth_url))
    verify = inside.post_launch(form["id_token"], form["state"])

    assert verify.status_code == 200  # verified token, but not logged in yet
    html = verify.get_data(as_text=True)
    assert lms_storage[f"state_{_attr(html, 'data-state')}"] == state
    assert lms_storage[f"nonce_{_attr(html, 'data-nonce')}"] == nonce
    ticket = _attr(html, "data-ticket")
    with app.app_context():
        assert db.session.scalar(select(User)) is None

    # The learner presses "Open Shiftwell in a new window": a top-level window, cookies.
    window = app.test_client()
    opened = window.post("/lti/launch/complete", data={"ticket": ticket})
    assert opened.status_code == 303 and opened.headers["Location"] == "/courses/"
    with window.session_transaction() as session:
        assert session["kind"] == "lti" and session["_user_id"]

    again = app.test_client().post("/lti/launch/complete", data={"ticket": ticket})
    assert again.status_code == 400  # one window per launch


def test_a_made_up_ticket_opens_nothing(client):
    response = client.post("/lti/launch/complete", data={"ticket": "lti1p3-launch-guess"})

    assert response.status_code == 400


def test_a_storage_login_still_needs_its_own_nonce(app, registered, clinician):
    """Without cookies the state is checked in the browser; the server still insists on
    the nonce it issued and on a single use."""
    inside = framed(app, registered)
    html = follow_to_fallback(inside, Scenario(clinician, storage_target="_parent")).get_data(
        as_text=True
    )
    state = _attr(html, "data-state")
    token = registered.sign(registered.claims("a-nonce-we-never-issued"))

    assert inside.post_launch(token, state).status_code == 400


def test_with_cookies_no_script_is_served(app, browser, clinician):
    url = browser.platform.login_url(Scenario(clinician, storage_target="_parent"))
    first = browser.client.get(url[len(TOOL) :])
    second = browser.client.get(first.headers["Location"])

    assert second.status_code == 302  # straight to the LMS: plain redirects
    assert second.headers["Location"].startswith(browser.platform.auth_url)
    third = browser.client.get(url[len(TOOL) :])  # the next launch skips the probe
    assert third.status_code == 302 and third.headers["Location"].startswith(
        browser.platform.auth_url
    )
