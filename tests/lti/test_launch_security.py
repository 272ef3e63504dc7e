"""A forged, replayed, expired or incomplete launch never gets in, and writes nothing.

The known-bad payloads of the 1EdTech LTI 1.3 certification guide, and each gap of the
LTI libraries the tool closes, each against a login the tool really started.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from lms_core.models import AuditLog, OutboxMessage, User
from lti.models import Context, Launch, LaunchData, Membership, ResourceLink
from tests.lti.conftest import Browser, count_rows
from tests.lti.platform import DROP, Scenario, new_private_key, public_pem

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
TABLES = (User, Launch, Context, ResourceLink, Membership, AuditLog, OutboxMessage, LaunchData)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256_with_public_key(platform, claims) -> str:
    """The classic algorithm-confusion forgery: HMAC keyed with the platform's public key."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": platform.kid}).encode())
    body = _b64(json.dumps(claims).encode())
    secret = public_pem(platform.private_key).encode()
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def _unsigned(platform, claims) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": platform.kid}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


NOW = object()  # replaced by the time of the test

# name → function(platform, nonce) returning an id_token
BAD_TOKENS = {
    # 1EdTech certification guide, "known bad" payloads
    "no kid": lambda p, n: p.sign(p.claims(n), kid=DROP),
    "wrong kid": lambda p, n: p.sign(p.claims(n), kid="imsglobal.org.security.no.such.key"),
    "wrong LTI version": lambda p, n: p.sign(p.claims(n, **{CLAIM + "version": "2.0"})),
    "no LTI version": lambda p, n: p.sign(p.claims(n, **{CLAIM + "version": DROP})),
    "not a JWT": lambda p, n: "this-is-not-a-jwt",
    "JWT of three garbage parts": lambda p, n: "abc.def.ghi",
    "no iss": lambda p, n: p.sign(p.claims(n, iss=DROP)),
    "no aud": lambda p, n: p.sign(p.claims(n, aud=DROP, azp=DROP)),
    "no nonce": lambda p, n: p.sign(p.claims(n, nonce=DROP)),
    "expired (exp an hour ago)": lambda p, n: p.sign(
        p.claims(n, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    ),
    "issued in the future (iat in an hour)": lambda p, n: p.sign(
        p.claims(n, iat=int(time.time()) + 3600, exp=int(time.time()) + 7200)
    ),
    "no message_type": lambda p, n: p.sign(p.claims(n, **{CLAIM + "message_type": DROP})),
    "unknown message_type": lambda p, n: p.sign(
        p.claims(n, **{CLAIM + "message_type": "LtiSomethingElse"})
    ),
    "no roles": lambda p, n: p.sign(p.claims(n, **{CLAIM + "roles": DROP})),
    "no deployment_id": lambda p, n: p.sign(p.claims(n, **{CLAIM + "deployment_id": DROP})),
    "unknown deployment_id": lambda p, n: p.sign(
        p.claims(n, **{CLAIM + "deployment_id": "someone-elses"})
    ),
    "no resource_link": lambda p, n: p.sign(p.claims(n, **{CLAIM + "resource_link": DROP})),
    "resource_link without id": lambda p, n: p.sign(
        p.claims(n, **{CLAIM + "resource_link": {"title": "x"}})
    ),
    "no sub": lambda p, n: p.sign(p.claims(n, sub=DROP)),
    "no target_link_uri": lambda p, n: p.sign(p.claims(n, **{CLAIM + "target_link_uri": DROP})),
    # gaps of the libraries, closed by the tool
    "no exp": lambda p, n: p.sign(p.claims(n, exp=DROP)),
    "no iat": lambda p, n: p.sign(p.claims(n, iat=DROP)),
    "foreign azp": lambda p, n: p.sign(
        p.claims(n, aud=[p.client_id, "another-tool"], azp="another-tool")
    ),
    "aud without our client id": lambda p, n: p.sign(p.claims(n, aud=["another-tool"], azp=DROP)),
    "alg none": lambda p, n: _unsigned(p, p.claims(n)),
    "HS256 keyed with the public key": lambda p, n: _hs256_with_public_key(p, p.claims(n)),
    "signed with another key under the platform's kid": lambda p, n: p.sign(
        p.claims(n), key=new_private_key(), kid=p.kid
    ),
    "signed with an unpublished key": lambda p, n: p.sign(p.claims(n), key=new_private_key()),
    "unknown issuer": lambda p, n: p.sign(p.claims(n, iss="https://evil.example")),
    "another login's nonce": lambda p, n: p.sign(p.claims("nonce-of-another-login")),
    "malformed custom claim": lambda p, n: p.sign(p.claims(n, **{CLAIM + "custom": "course=x"})),
}


def test_every_bad_launch_is_refused_cleanly_and_writes_nothing(app, browser, clinician):
    """One login per case, all in one test: each is a separate launch attempt, and a
    refused case is reported by name."""
    failures = []
    for case, make_token in BAD_TOKENS.items():
        login = browser.start_login(Scenario(clinician))
        before = count_rows(app, *TABLES)
        token = make_token(browser.platform, login.nonce)

        response = browser.post_launch(token, login.state)

        page = response.get_data(as_text=True)
        with browser.client.session_transaction() as session:
            logged_in = "_user_id" in session
        if not 400 <= response.status_code < 500:
            failures.append(f"{case}: HTTP {response.status_code}")
        elif "could not be accepted" not in page and "not registered" not in page:
            failures.append(f"{case}: the page does not say what happened")
        elif "Traceback" in page:
            failures.append(f"{case}: a traceback on the page")
        elif count_rows(app, *TABLES) != before:
            failures.append(f"{case}: rows were written")
        elif logged_in:
            failures.append(f"{case}: the browser got logged in")
    assert not failures, "\n".join(failures)
    assert len(BAD_TOKENS) >= 30


def _valid_token(browser, login, **overrides):
    return browser.platform.sign(browser.platform.claims(login.nonce, **overrides))


def test_a_replayed_launch_is_refused(app, browser, clinician):
    login = browser.start_login(Scenario(clinician))
    form = browser.authorize(login)
    assert browser.post_launch(form["id_token"], form["state"]).status_code == 303
    before = count_rows(app, *TABLES)

    replay = browser.post_launch(form["id_token"], form["state"])

    assert replay.status_code == 400
    assert count_rows(app, *TABLES) == before


def test_a_launch_with_a_state_this_browser_never_got_is_refused(app, browser, clinician):
    login = browser.start_login(Scenario(clinician))
    token = _valid_token(browser, login)

    assert browser.post_launch(token, "state-made-up").status_code == 400
    other_browser = Browser(app.test_client(), browser.platform)  # no state cookie
    response = other_browser.post_launch(token, login.state)
    assert response.status_code == 400
    assert "does not belong to this browser" in response.get_data(as_text=True)
    # the login is still good in the browser that started it
    assert browser.post_launch(token, login.state).status_code == 303


@pytest.mark.parametrize(
    ("iat_offset", "exp_offset"),
    [(3, 300), (-300, -3), (55, 300), (-400, -55)],
    ids=["LMS clock 3 s ahead", "LMS clock 3 s behind", "55 s ahead", "expired 55 s ago"],
)
def test_platform_clock_skew_within_a_minute_is_accepted(
    browser, clinician, iat_offset, exp_offset
):
    login = browser.start_login(Scenario(clinician))
    now = int(time.time())
    token = _valid_token(browser, login, iat=now + iat_offset, exp=now + exp_offset)

    assert browser.post_launch(token, login.state).status_code == 303


@pytest.mark.parametrize(
    ("iat_offset", "exp_offset"),
    [(90, 400), (-400, -90)],
    ids=["iat 90 s ahead", "expired 90 s ago"],
)
def test_platform_clock_skew_beyond_a_minute_is_refused(browser, clinician, iat_offset, exp_offset):
    login = browser.start_login(Scenario(clinician))
    now = int(time.time())
    token = _valid_token(browser, login, iat=now + iat_offset, exp=now + exp_offset)

    assert browser.post_launch(token, login.state).status_code == 400


def test_an_aud_list_containing_our_client_id_is_accepted(browser, clinician):
    login = browser.start_login(Scenario(clinician))
    platform = browser.platform
    token = _valid_token(
        browser, login, aud=["another-tool", platform.client_id], azp=platform.client_id
    )

    assert browser.post_launch(token, login.state).status_code == 303


def test_an_aud_list_without_azp_is_accepted_when_it_names_us(browser, clinician):
    login = browser.start_login(Scenario(clinician))
    token = _valid_token(browser, login, aud=[browser.platform.client_id, "x"], azp=DROP)

    assert browser.post_launch(token, login.state).status_code == 303


def test_an_unknown_issuer_gets_a_clear_page_not_an_error(client):
    response = client.get(
        "/lti/login?iss=https://unknown-lms.example&login_hint=1&target_link_uri=http://localhost/lti/launch"
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "not registered with Shiftwell" in page
    assert "https://unknown-lms.example" in page


def test_an_unknown_client_id_of_a_known_issuer_gets_a_clear_page(browser):
    platform = browser.platform
    response = browser.client.get(
        f"/lti/login?iss={platform.issuer}&client_id=not-ours&login_hint=1"
        "&target_link_uri=http://localhost/lti/launch"
    )

    assert response.status_code == 400
    assert "client id &#39;not-ours&#39;" in response.get_data(as_text=True)


def test_a_login_for_another_sites_target_is_refused(browser):
    platform = browser.platform
    response = browser.client.get(
        f"/lti/login?iss={platform.issuer}&client_id={platform.client_id}&login_hint=1"
        "&target_link_uri=https://phishing.example/lti/launch"
    )

    assert response.status_code == 400


def test_the_lms_refusing_the_login_is_a_clear_page(browser):
    response = browser.client.post(
        "/lti/launch", data={"error": "login_required", "error_description": "Session ended"}
    )

    assert response.status_code == 400
    assert "login_required" in response.get_data(as_text=True)


def test_nothing_secret_is_logged_when_a_launch_is_refused(app, browser, clinician, caplog):
    login = browser.start_login(Scenario(clinician))
    token = browser.platform.sign(browser.platform.claims(login.nonce, exp=DROP))

    with caplog.at_level("DEBUG"):
        browser.post_launch(token, login.state)

    assert "refused" in caplog.text
    assert token not in caplog.text and token.split(".")[1] not in caplog.text
    assert login.nonce not in caplog.text
