"""Local accounts (operators, partner authors) log in with an e-mail and a password."""

from __future__ import annotations

import pytest

from lms_core.models import Role
from tests.conftest import submit


@pytest.fixture
def operator(make_user):
    return make_user(
        None,
        roles=(Role.OPERATOR,),
        email="ops@example.org",
        password="a long enough password",
        name="Olu Operator",
    )


def test_operator_logs_in_and_out(client, operator):
    response = submit(
        client, "/login", {"email": "OPS@example.org ", "password": "a long enough password"}
    )
    assert response.status_code == 302 and response.location == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Log out" in page
    logout = submit(client, "/", {}, action="/logout")
    assert logout.status_code == 302
    assert "Log out" not in client.get("/").get_data(as_text=True)


def test_a_wrong_password_gets_one_message_for_both_mistakes(client, operator):
    wrong_password = submit(client, "/login", {"email": "ops@example.org", "password": "nope"})
    unknown_user = submit(client, "/login", {"email": "who@example.org", "password": "nope"})
    assert wrong_password.status_code == unknown_user.status_code == 401
    message = "That e-mail address and password do not match an account."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown_user.get_data(as_text=True)


def test_errors_are_tied_to_their_fields(client):
    html = submit(client, "/login", {"email": "", "password": ""}).get_data(as_text=True)
    assert 'aria-describedby="email-error"' in html and 'id="email-error"' in html
    assert 'aria-invalid="true"' in html


def test_login_without_a_csrf_token_is_refused(client, operator):
    response = client.post(
        "/login", data={"email": "ops@example.org", "password": "a long enough password"}
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_next_never_leaves_the_site(client, operator):
    response = submit(
        client,
        "/login",
        {"email": "ops@example.org", "password": "a long enough password"},
        action="/login?next=//evil.example/phish",
    )
    assert response.location == "/"


def test_login_is_rate_limited(client, operator):
    codes = [
        submit(client, "/login", {"email": "ops@example.org", "password": "x"}).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [401] * 10
    assert codes[10] == 429
