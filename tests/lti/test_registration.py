"""Operators register hospitals' LMSs: by command, on their page, or by letting the LMS
register itself (LTI Dynamic Registration) and approving it."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from lms_core.extensions import db
from lms_core.models import AuditLog, Role
from lti.models import Registration, RegistrationStatus
from tests.conftest import csrf_token_from, login
from tests.lti.conftest import Browser, register
from tests.lti.platform import Scenario


def test_add_platform_registers_an_lms_for_a_tenant(app, runner, tenant, lms):
    result = register(runner, tenant, lms)

    assert result.exit_code == 0, result.output
    listing = json.loads(runner.invoke(args=["lti", "list-platforms", "--format", "json"]).output)
    assert listing == [
        {
            "id": listing[0]["id"],
            "name": "127.0.0.1:" + lms.base.rsplit(":", 1)[1],
            "tenant": tenant.slug,
            "issuer": lms.issuer,
            "client_id": lms.client_id,
            "deployments": [lms.deployment_id],
            "status": "active",
            "source": "cli",
        }
    ]
    with app.app_context():
        actions = set(db.session.scalars(select(AuditLog.action)))
        assert actions == {"lti.platform_added", "lti.deployment_added"}


def test_canvas_one_issuer_many_client_ids_are_separate_registrations(
    app, runner, tenant, lms, make_tenant, client
):
    """Canvas uses one issuer for every school: the client id tells the schools apart."""
    other = make_tenant(slug="county-general", name="County General")
    assert register(runner, tenant, lms).exit_code == 0
    assert register(runner, other, lms, **{"--client-id": "county-client"}).exit_code == 0

    for client_id, slug in (("shiftwell-client", tenant.slug), ("county-client", other.slug)):
        lms.client_id = client_id
        browser = Browser(app.test_client(), lms)
        from tests.lti.platform import LEARNER, Person

        assert browser.launch(Scenario(Person(f"user-{slug}", LEARNER))).status_code == 303
    from lms_core.models import User

    with app.app_context():
        tenants = {u.subject: u.tenant.slug for u in db.session.scalars(select(User))}
    assert tenants == {f"user-{tenant.slug}": tenant.slug, f"user-{other.slug}": other.slug}


def test_a_second_deployment_of_the_same_client_is_added(app, runner, tenant, lms):
    assert register(runner, tenant, lms).exit_code == 0
    result = register(runner, tenant, lms, **{"--deployment-id": "deployment-2"})

    assert result.exit_code == 0, result.output
    with app.app_context():
        record = db.session.scalar(select(Registration))
        assert [d.deployment_id for d in record.deployments] == ["deployment-1", "deployment-2"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--issuer", "not a url", "--issuer"),
        ("--keyset-url", "ftp://lms.example/jwks", "--keyset-url"),
        ("--client-id", "   ", "--client-id"),
    ],
)
def test_add_platform_explains_bad_input_and_writes_nothing(
    app, runner, tenant, lms, option, value, message
):
    result = register(runner, tenant, lms, **{option: value})

    assert result.exit_code == 2
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(Registration)) is None


def test_the_same_client_cannot_serve_two_hospitals(runner, tenant, lms, make_tenant):
    other = make_tenant(slug="county-general", name="County General")
    register(runner, tenant, lms)

    result = register(runner, other, lms, **{"--deployment-id": "x"})

    assert result.exit_code == 2 and "another tenant" in result.output


def test_production_refuses_plain_http_lms_urls(app_config, tenant, lms):
    from lms_core import create_app
    from lti import registrations

    app_config.update(ENV="production", SECRET_KEY="x" * 40, BASE_URL="https://tool.example")
    prod = create_app(app_config)
    with prod.app_context():
        details = registrations.PlatformDetails(
            lms.issuer, "c", lms.auth_url, lms.token_url, lms.jwks_url
        )
        with pytest.raises(Exception, match="https"):
            registrations.add_platform(db.session.get(type(tenant), tenant.id), details, "d")


def test_tool_config_prints_the_urls_an_lms_needs(runner):
    result = runner.invoke(args=["lti", "tool-config", "--format", "json"])

    config = json.loads(result.output)
    assert config["login_url"] == "http://localhost/lti/login"
    assert config["launch_url"] == "http://localhost/lti/launch"
    assert config["deep_linking_url"] == "http://localhost/lti/launch"
    assert config["jwks_url"] == "http://localhost/lti/jwks"
    assert config["registration_url"] == "http://localhost/lti/register"
    table = runner.invoke(args=["lti", "tool-config"]).output
    assert "login_url" in table and "http://localhost/lti/jwks" in table


# -- dynamic registration -------------------------------------------------------------


def start_registration(client, lms, tenant_slug=None, token=None):
    params = {
        "openid_configuration": lms.base + "/.well-known/openid-configuration",
        "registration_token": token or lms.registration_token,
    }
    if tenant_slug:
        params["tenant"] = tenant_slug
    return client.get("/lti/register?" + urlencode(params))


def hidden_fields(html):
    fields = {}
    for tag in re.findall(r"<input[^>]+>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="hidden"' in tag:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def test_an_lms_registers_itself_and_waits_for_the_operator(app, client, tenant, lms, make_user):
    page = start_registration(client, lms, tenant.slug)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert lms.issuer in html and "test-lms" in html

    done = client.post("/lti/register", data=hidden_fields(html))

    assert done.status_code == 200, done.get_data(as_text=True)
    assert "registration-close.js" in done.get_data(as_text=True)
    sent = lms.tool_registrations[0]
    tool = sent["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert sent["initiate_login_uri"] == "http://localhost/lti/login"
    assert sent["jwks_uri"] == "http://localhost/lti/jwks"
    assert sent["redirect_uris"] == ["http://localhost/lti/launch"]
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in sent["scope"]
    assert {m["type"] for m in tool["messages"]} == {
        "LtiDeepLinkingRequest",
        "LtiResourceLinkRequest",
    }

    # Before approval a launch gets a clear page, not a login.
    lms.client_id, lms.deployment_id = "dyn-client-1", "dyn-deployment-1"
    browser = Browser(app.test_client(), lms)
    from tests.lti.platform import LEARNER, Person

    url = lms.login_url(Scenario(Person("nurse-1", LEARNER)))
    waiting = browser.client.get(url[len("http://localhost") :])
    assert waiting.status_code == 403
    assert "waiting for the Shiftwell operator" in waiting.get_data(as_text=True)

    # The operator approves it on their page.
    operator = make_user(None, roles=(Role.OPERATOR,), email="ops@example.org", name="Ops")
    admin = app.test_client()
    login(admin, operator, kind="local")
    admin_page = admin.get("/lti/admin/").get_data(as_text=True)
    assert "waiting for approval" in admin_page
    with app.app_context():
        record = db.session.scalar(select(Registration))
        assert record.status == RegistrationStatus.PENDING and record.tenant_id == tenant.id
        record_id = record.id
    approved = admin.post(
        f"/lti/admin/registrations/{record_id}/approve",
        data={"csrf_token": csrf_token_from(admin_page), "approve-tenant": tenant.slug},
    )
    assert approved.status_code == 303

    assert browser.launch(Scenario(Person("nurse-1", LEARNER))).status_code == 303


def test_a_changed_registration_form_is_refused(client, lms):
    html = start_registration(client, lms).get_data(as_text=True)
    fields = hidden_fields(html)
    fields["openid_configuration"] = "http://127.0.0.1:1/evil"

    response = client.post("/lti/register", data=fields)

    assert response.status_code == 400
    assert lms.tool_registrations == []


def test_a_registration_with_a_wrong_token_reports_the_lms_refusal(client, lms):
    html = start_registration(client, lms, token="expired-token").get_data(as_text=True)
    fields = hidden_fields(html)

    response = client.post("/lti/register", data=fields)

    assert response.status_code == 400
    assert "refused the registration (HTTP 401)" in response.get_data(as_text=True)


def test_an_unreachable_openid_configuration_is_a_clear_page(client):
    response = client.get(
        "/lti/register?openid_configuration=http://127.0.0.1:1/.well-known/openid-configuration"
    )

    assert response.status_code == 400
    assert "could not be read" in response.get_data(as_text=True)


def test_the_registration_url_alone_explains_itself(client):
    page = client.get("/lti/register").get_data(as_text=True)

    assert "http://localhost/lti/register" in page


def test_the_operator_registers_an_lms_with_the_form(app, client, tenant, lms, make_user):
    operator = make_user(None, roles=(Role.OPERATOR,), email="ops@example.org")
    login(client, operator, kind="local")
    page = client.get("/lti/admin/").get_data(as_text=True)

    response = client.post(
        "/lti/admin/",
        data={
            "csrf_token": csrf_token_from(page),
            "add-tenant": tenant.slug,
            "add-issuer": lms.issuer,
            "add-client_id": "form-client",
            "add-deployment_id": "d-1",
            "add-auth_login_url": lms.auth_url,
            "add-auth_token_url": lms.token_url,
            "add-keyset_url": lms.jwks_url,
            "add-submit": "1",
        },
    )

    assert response.status_code == 303
    assert "form-client" in client.get("/lti/admin/").get_data(as_text=True)


def test_only_operators_see_the_registrations(client, tenant, make_user):
    admin = make_user(tenant, roles=(Role.ADMINISTRATOR,))
    login(client, admin)

    assert client.get("/lti/admin/").status_code == 403


def test_the_operator_adds_a_deployment_and_disables_a_registration(
    app, client, runner, tenant, lms, make_user
):
    register(runner, tenant, lms)
    operator = make_user(None, roles=(Role.OPERATOR,), email="ops@example.org")
    login(client, operator, kind="local")
    page = client.get("/lti/admin/").get_data(as_text=True)
    with app.app_context():
        record_id = db.session.scalar(select(Registration.id))
    token = csrf_token_from(page)

    added = client.post(
        f"/lti/admin/registrations/{record_id}/deployments",
        data={"csrf_token": token, "deployment-deployment_id": "deployment-2"},
    )
    disabled = client.post(
        f"/lti/admin/registrations/{record_id}/disable", data={"csrf_token": token}
    )

    assert added.status_code == disabled.status_code == 303
    with app.app_context():
        record = db.session.get(Registration, record_id)
        assert [d.deployment_id for d in record.deployments] == ["deployment-1", "deployment-2"]
        assert record.status == RegistrationStatus.DISABLED
    forged = client.post(f"/lti/admin/registrations/{record_id}/enable", data={})
    assert forged.status_code == 400  # no CSRF token, no change
