"""Keys on both sides rotate without anyone noticing: the LMS's (the tool re-reads its key
set when a token names a new key, and caches it as long as the LMS says) and the tool's
(published a rotation ahead)."""

from __future__ import annotations

import time

from lti.http import keysets
from tests.lti.platform import Scenario, kid_of, new_private_key


def test_a_platform_key_rotation_needs_no_restart(app, browser, clinician):
    platform = browser.platform
    assert browser.launch(Scenario(clinician)).status_code == 303
    fetched = platform.jwks_requests

    old_key = platform.private_key
    platform.private_key = new_private_key()  # the LMS rotates; the tool still caches the old set
    platform.extra_keys = [old_key]
    assert browser.launch(Scenario(clinician)).status_code == 303

    assert platform.jwks_requests == fetched + 1  # re-read once, for the unknown kid


def test_the_platform_key_set_is_cached_as_long_as_cache_control_says(app, browser, clinician):
    platform = browser.platform
    platform.jwks_cache_control = "public, max-age=300"
    for _ in range(3):
        assert browser.launch(Scenario(clinician)).status_code == 303
    assert platform.jwks_requests == 1


def test_a_key_set_marked_no_store_is_read_for_every_launch(app, browser, clinician):
    platform = browser.platform
    platform.jwks_cache_control = "no-store"
    for _ in range(2):
        assert browser.launch(Scenario(clinician)).status_code == 303
    assert platform.jwks_requests == 2


def test_an_expired_key_set_is_read_again(app, browser, clinician):
    platform = browser.platform
    platform.jwks_cache_control = "max-age=1"
    assert browser.launch(Scenario(clinician)).status_code == 303
    time.sleep(1.1)
    assert browser.launch(Scenario(clinician)).status_code == 303
    assert platform.jwks_requests == 2


def test_forged_kids_do_not_make_the_tool_hammer_the_lms(app, browser, clinician):
    platform = browser.platform
    assert browser.launch(Scenario(clinician)).status_code == 303
    for _ in range(3):
        login = browser.start_login(Scenario(clinician))
        token = platform.sign(platform.claims(login.nonce), kid="made-up-" + login.state)
        assert browser.post_launch(token, login.state).status_code == 400
    assert platform.jwks_requests == 2  # one re-read, then at most once per 10 s
    with app.app_context():
        assert keysets().fetches == 2


def test_jwks_publishes_the_current_and_the_next_key(client):
    response = client.get("/lti/jwks")

    keys = response.get_json()["keys"]
    assert len(keys) == 2
    assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["use"] == "sig" for k in keys)
    assert all("d" not in k and "p" not in k for k in keys)  # public parts only
    assert "max-age=3600" in response.headers["Cache-Control"]


def test_rotating_tool_keys_promotes_the_published_next_key(runner, client):
    before = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]

    refused = runner.invoke(args=["lti", "rotate-keys"])
    assert refused.exit_code == 2 and "--force" in refused.output
    result = runner.invoke(args=["lti", "rotate-keys", "--force"])
    assert result.exit_code == 0, result.output

    after = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    assert after[0] == before[1]  # the next key now signs
    assert before[0] not in after  # the old current key is retired
    listing = runner.invoke(args=["lti", "keys", "--format", "json"])
    assert '"retired"' in listing.output


def test_the_lms_gets_grades_signed_with_the_rotated_key(app, runner, browser, client):
    """After rotation the LMS, which re-reads the tool's JWKS, accepts the new key."""
    platform = browser.platform
    runner.invoke(args=["lti", "rotate-keys", "--force"])
    platform.tool_jwks = client.get("/lti/jwks").get_json()
    from lti.tool import ShiftwellServiceConnector, ToolRegistration, find_registration

    with app.app_context():
        record = find_registration(platform.issuer, platform.client_id)
        connector = ShiftwellServiceConnector(ToolRegistration(record))
        token = connector.get_access_token(["https://purl.imsglobal.org/spec/lti-ags/scope/score"])
    assert token and platform.token_requests == 1


def test_keys_are_created_on_first_use(app, runner):
    from sqlalchemy import delete

    from lms_core.extensions import db
    from lti.models import ToolKey

    with app.app_context():
        db.session.execute(delete(ToolKey))
        db.session.commit()
    client = app.test_client()
    keys = client.get("/lti/jwks").get_json()["keys"]
    assert len(keys) == 2 and keys[0]["kid"] != keys[1]["kid"]
    assert kid_of(new_private_key()) not in [k["kid"] for k in keys]


def test_a_hung_lms_key_set_times_out_with_a_clear_page(app, browser, clinician):
    app.config["LTI_HTTP_TIMEOUT"] = (0.5, 0.5)
    browser.platform.jwks_delay = 2.0
    started = time.monotonic()

    response = browser.launch(Scenario(clinician))

    assert response.status_code == 502
    assert time.monotonic() - started < 2.0
    assert "could not reach your learning system" in response.get_data(as_text=True)


def test_a_disabled_registration_refuses_launches_until_enabled(app, runner, browser, clinician):
    from lti.models import Registration

    with app.app_context():
        from lms_core.extensions import db

        record_id = db.session.query(Registration).one().id
    assert runner.invoke(args=["lti", "disable", str(record_id)]).exit_code == 0
    url = browser.platform.login_url(Scenario(clinician))
    refused = browser.client.get(url[len("http://localhost") :])
    assert refused.status_code == 403 and "disabled" in refused.get_data(as_text=True)

    assert runner.invoke(args=["lti", "enable", str(record_id)]).exit_code == 0
    assert browser.launch(Scenario(clinician)).status_code == 303
