"""Operators invite partner authors; an invitation works once, expires, and needs a strong
password; authors log in and out with it, apart from any LTI launch."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from lms_core.extensions import db
from lms_core.models import Role, User
from tests.conftest import csrf_token_from, login, submit
from tests.partners.conftest import LAKESIDE, NORTHBRIDGE, PASSWORD, audit_actions, row_counts

LINK = re.compile(r"http://localhost(/partner/invitations/[A-Za-z0-9_-]+)")
STRONG = "quiet ward lantern 1987 harbour"


def invite(runner: Any, email: str, partner: str = NORTHBRIDGE, *extra: str) -> str:
    result = runner.invoke(args=["partners", "invite", email, "--partner", partner, *extra])
    assert result.exit_code == 0, result.output
    match = LINK.search(result.output)
    assert match, result.output
    return match.group(1)


def accept(client: Any, link: str, password: str = STRONG, confirm: str | None = None) -> Any:
    return submit(
        client,
        link,
        {"name": "Grace Hopper", "password": password, "confirm": confirm or password},
    )


def test_an_invited_author_sets_a_password_and_lands_in_the_portal(
    app: Flask, client: Any, runner: Any, courses: None
) -> None:
    link = invite(runner, "Grace@Northbridge.example.edu")
    page = client.get(link).get_data(as_text=True)
    assert "grace@northbridge.example.edu" in page
    response = accept(client, link)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/partner/{NORTHBRIDGE}/")
    assert client.get(f"/partner/{NORTHBRIDGE}/").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "grace@northbridge.example.edu"))
        assert user is not None and user.tenant_id is None
        assert user.has_role(Role.PARTNER_AUTHOR)
        assert user.password_hash and user.password_hash.startswith("scrypt:")
    assert audit_actions(app)[-2:] == ["partner.author_invited", "partner.invitation_accepted"]

    # Log out, then in again with the new password through the core's /login.
    page = client.get(f"/partner/{NORTHBRIDGE}/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token_from(page)})
    assert client.get(f"/partner/{NORTHBRIDGE}/").status_code == 302
    response = submit(
        client,
        f"/login?next=/partner/{NORTHBRIDGE}/",
        {"email": "grace@northbridge.example.edu", "password": STRONG},
    )
    assert response.headers["Location"] == f"/partner/{NORTHBRIDGE}/"
    assert client.get(f"/partner/{NORTHBRIDGE}/").status_code == 200


def test_an_invitation_works_once(app: Flask, client: Any, runner: Any, courses: None) -> None:
    link = invite(runner, "once@northbridge.example.edu")
    assert accept(client, link).status_code == 302
    other = app.test_client()
    before = row_counts(app)
    assert other.get(link).status_code == 410
    token = csrf_token_from(other.get("/login").get_data(as_text=True))
    response = other.post(
        link, data={"csrf_token": token, "name": "Mallory", "password": STRONG, "confirm": STRONG}
    )
    assert response.status_code == 410
    assert "used already" in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_an_expired_invitation_is_refused(
    app: Flask, client: Any, runner: Any, courses: None
) -> None:
    from courses.partners.models import PartnerInvitation

    link = invite(runner, "late@northbridge.example.edu", NORTHBRIDGE, "--expires-in", "1")
    with app.app_context():
        invitation = db.session.scalar(select(PartnerInvitation))
        assert invitation is not None
        invitation.expires_at = invitation.created_at - dt.timedelta(seconds=1)
        db.session.commit()
    before = row_counts(app)
    response = client.get(link)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_a_weak_password_is_refused_with_a_reason_and_nothing_is_created(
    app: Flask, client: Any, runner: Any, courses: None
) -> None:
    link = invite(runner, "weak@northbridge.example.edu")
    before = row_counts(app)
    for password, reason in [
        ("short1!", "at least 12 characters"),
        ("password1234", "too easy to guess"),
        ("weak@northbridge.example.edu", "too easy to guess"),
    ]:
        response = accept(client, link, password)
        assert response.status_code == 400
        assert reason in response.get_data(as_text=True)
    response = accept(client, link, STRONG, confirm=STRONG + "x")
    assert "The two passwords differ" in response.get_data(as_text=True)
    assert row_counts(app) == before
    assert accept(client, link).status_code == 302  # the link still works after refusals


def test_a_new_invitation_replaces_the_older_link(
    app: Flask, client: Any, runner: Any, courses: None
) -> None:
    old = invite(runner, "twice@northbridge.example.edu")
    new = invite(runner, "twice@northbridge.example.edu")
    assert client.get(old).status_code == 410
    assert client.get(new).status_code == 200
    assert client.get("/partner/invitations/not-a-real-token").status_code == 404


def test_an_existing_author_joins_a_second_partner_by_logging_in(
    app: Flask, client: Any, runner: Any, author: Any
) -> None:
    link = invite(runner, author.email, LAKESIDE)
    page = client.get(link).get_data(as_text=True)
    assert "Log in" in page and "Create my account" not in page
    login(client, author, kind="local")
    response = submit(client, link, {}, action=f"{link}/join")
    assert response.status_code == 302
    assert client.get(f"/partner/{LAKESIDE}/").status_code == 200


def test_operators_see_partners_and_invite_on_the_web(
    app: Flask, client: Any, make_user: Any, courses: None
) -> None:
    operator = make_user(None, roles=(Role.OPERATOR,), email="ops@example.org", password=PASSWORD)
    login(client, operator, kind="local")
    page = client.get("/partner/manage").get_data(as_text=True)
    assert "Northbridge University School of Nursing (demo)" in page
    response = submit(
        client,
        "/partner/manage",
        {"email": "new@lakeside.example.edu", "partner": LAKESIDE, "hours": "48"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    link = LINK.search(html)
    assert link, html
    assert "new@lakeside.example.edu, until" in html
    # Withdrawn, the link stops working.
    revoke = re.search(r'action="(/partner/manage/invitations/\d+/revoke)"', html)
    assert revoke
    client.post(revoke.group(1), data={"csrf_token": csrf_token_from(html)})
    assert app.test_client().get(link.group(1)).status_code == 410
    assert audit_actions(app)[-2:] == ["partner.author_invited", "partner.invitation_revoked"]


def test_cli_lists_partners_adds_one_and_refuses_bad_input(runner: Any, courses: None) -> None:
    import json

    result = runner.invoke(args=["partners", "add", "eastfield-medicine", "--name", "Eastfield"])
    assert result.exit_code == 0, result.output
    listing = json.loads(runner.invoke(args=["partners", "list", "--format", "json"]).output)
    assert {p["slug"] for p in listing} >= {NORTHBRIDGE, LAKESIDE, "eastfield-medicine"}
    for args in (
        ["partners", "invite", "not-an-email", "--partner", NORTHBRIDGE],
        ["partners", "invite", "a@b.example", "--partner", "nobody"],
        ["partners", "invite", "a@b.example", "--partner", NORTHBRIDGE, "--expires-in", "0"],
        ["partners", "add", "Bad Slug", "--name", "x"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
