"""The partner rows of the authorization matrix: partner A's author cannot read or change
partner B's courses on any route; learners, hospital staff, operators (on author pages)
and anonymous visitors get nowhere either. Every denial is a 403 or 404 (anonymous
visitors are sent to log in) and writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lms_core.models import Role
from tests.conftest import csrf_token_from, login
from tests.partners.conftest import (
    EMOTIONS,
    LAKESIDE,
    NORTHBRIDGE,
    PASSWORD,
    as_author,
    new_version,
    row_counts,
    upload_zip,
    zip_bytes,
)

THEIRS = "emotions-on-the-ward"  # Lakeside's course
DRAFT = "1.1.0"  # a Lakeside draft


def author_routes(partner: str, course: str) -> list[tuple[str, str]]:
    """Every author route, aimed at ``course`` (under ``partner``'s URL)."""
    c = f"/partner/{partner}/courses/{course}"
    v = f"{c}/versions/{DRAFT}"
    return [
        ("GET", f"/partner/{partner}/"),
        ("GET", f"/partner/{partner}/upload"),
        ("POST", f"/partner/{partner}/upload"),
        ("GET", f"{c}/"),
        ("GET", f"{c}/statistics"),
        ("GET", f"{v}/"),
        ("POST", f"{v}/publish"),
        ("POST", f"{v}/discard"),
        ("GET", f"{v}/preview/"),
        ("GET", f"{v}/preview/steps/1"),
        ("POST", f"{v}/preview/steps/1"),
        ("GET", f"{v}/preview/result"),
        ("POST", f"{v}/preview/restart"),
        ("GET", f"{c}/versions/1.0.0/assets/lessons/01-naming-emotions.md"),
    ]


OPERATOR_ROUTES = [
    ("GET", "/partner/manage"),
    ("POST", "/partner/manage"),
    ("POST", "/partner/manage/invitations/1/revoke"),
]


@pytest.fixture
def lakeside_draft(app: Flask, other_author: Any, tmp_path: Path) -> None:
    client = app.test_client()
    as_author(client, other_author)
    package = new_version(EMOTIONS, tmp_path / "draft", DRAFT)
    assert upload_zip(client, LAKESIDE, zip_bytes(package)).status_code == 302


def attempt(client: Any, method: str, url: str) -> int:
    if method == "GET":
        return client.get(url).status_code
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "action": "continue",
        "email": "x@example.org",
        "partner": LAKESIDE,
        "hours": "5",
    }
    return client.post(url, data=data).status_code


def assert_denied(
    app: Flask, client: Any, routes: list[tuple[str, str]], allowed: set[int]
) -> None:
    before = row_counts(app)
    for method, url in routes:
        status = attempt(client, method, url)
        assert status in allowed, f"{method} {url} gave {status}"
    assert row_counts(app) == before


def test_partner_a_cannot_reach_partner_bs_courses_on_any_route(
    app: Flask, client: Any, author: Any, lakeside_draft: None
) -> None:
    as_author(client, author)
    # B's partner pages, and B's course under A's own partner URL.
    routes = author_routes(LAKESIDE, THEIRS) + author_routes(NORTHBRIDGE, THEIRS)[3:]
    assert_denied(app, client, routes, {404})
    # The learner-facing URLs of B's draft are closed to everyone too.
    assert client.get(
        f"/courses/{THEIRS}/v/{DRAFT}/assets/lessons/01-naming-emotions.md"
    ).status_code in (403, 404)


def test_partner_b_cannot_fetch_partner_as_images(
    app: Flask, client: Any, author: Any, other_author: Any
) -> None:
    image = "courses/four-minute-reset/versions/1.0.0/assets/assets/box-breathing.png"
    as_author(client, author)
    assert client.get(f"/partner/{NORTHBRIDGE}/{image}").status_code == 200
    as_author(client, other_author)
    assert client.get(f"/partner/{NORTHBRIDGE}/{image}").status_code == 404
    assert client.get(f"/partner/{LAKESIDE}/{image}").status_code == 404


def test_the_same_routes_work_for_partner_bs_own_author(
    app: Flask, client: Any, other_author: Any, lakeside_draft: None
) -> None:
    """The matrix's other half: the routes above are real, and open to their owner."""
    as_author(client, other_author)
    for method, url in author_routes(LAKESIDE, THEIRS):
        if method == "GET" and "/assets/" not in url:  # Lakeside's course has no images
            assert client.get(url).status_code in (200, 302), url


@pytest.mark.parametrize("roles", [(Role.LEARNER,), (Role.INSTRUCTOR,), (Role.ADMINISTRATOR,)])
def test_hospital_people_are_refused_on_every_partner_route(
    app: Flask, client: Any, make_user: Any, tenant: Any, lakeside_draft: None, roles: Any
) -> None:
    login(client, make_user(tenant, roles=roles), kind="lti")
    assert_denied(app, client, author_routes(LAKESIDE, THEIRS) + OPERATOR_ROUTES, {403})


def test_an_authors_lti_session_is_not_an_author_session(
    app: Flask, client: Any, other_author: Any, lakeside_draft: None
) -> None:
    login(client, other_author, kind="lti")
    assert_denied(app, client, author_routes(LAKESIDE, THEIRS), {403})


def test_authors_cannot_manage_partners_and_operators_cannot_author(
    app: Flask, client: Any, other_author: Any, make_user: Any, lakeside_draft: None
) -> None:
    as_author(client, other_author)
    assert_denied(app, client, OPERATOR_ROUTES, {403})
    operator = make_user(None, roles=(Role.OPERATOR,), email="ops@example.org", password=PASSWORD)
    operator_client = app.test_client()
    login(operator_client, operator, kind="local")
    assert_denied(app, operator_client, author_routes(LAKESIDE, THEIRS), {403})


def test_anonymous_visitors_are_sent_to_log_in_and_change_nothing(
    app: Flask, client: Any, lakeside_draft: None
) -> None:
    before = row_counts(app)
    for method, url in author_routes(LAKESIDE, THEIRS) + OPERATOR_ROUTES:
        response = client.get(url) if method == "GET" else client.post(url)
        if method == "GET":
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/login"), url
        else:
            assert response.status_code in (302, 400), url  # no session, no CSRF token
    assert row_counts(app) == before


def test_an_invitation_for_someone_else_cannot_be_joined(
    app: Flask, client: Any, runner: Any, author: Any, other_author: Any
) -> None:
    result = runner.invoke(args=["partners", "invite", author.email, "--partner", LAKESIDE])
    link = result.output.strip().splitlines()[-1].replace("http://localhost", "")
    as_author(client, other_author)
    before = row_counts(app)
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    assert client.post(f"{link}/join", data={"csrf_token": token}).status_code == 404
    assert row_counts(app) == before
