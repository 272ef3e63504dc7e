"""The world of the LTI tests: a hospital tenant, an LMS (the independent platform of
``platform.py``, served over HTTP) registered for it, and a browser that goes between
the two the way a clinician's does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms_core.extensions import db
from tests.lti.platform import (
    INSTRUCTOR,
    LEARNER,
    Person,
    Scenario,
    TestPlatform,
    new_private_key,
)

TOOL = "http://localhost"


@pytest.fixture(scope="session")
def key_pool() -> list[str]:
    """RSA keys made once per test session: generating them is most of a test's time."""
    return [new_private_key() for _ in range(3)]


@pytest.fixture(autouse=True)
def tool_keys(app: Flask, key_pool: list[str]) -> None:
    """The tool's current and next keys, as ``ensure_keys`` would make them."""
    from lti.keys import _new_key
    from lti.models import KeySlot

    with app.app_context():
        db.session.add(_new_key(KeySlot.CURRENT, key_pool[0]))
        db.session.add(_new_key(KeySlot.NEXT, key_pool[1]))
        db.session.commit()


@pytest.fixture
def lms(app: Flask, client: FlaskClient, key_pool: list[str]) -> Iterator[TestPlatform]:
    """The hospital's LMS, running; it knows the tool's public keys."""
    platform = TestPlatform(tool_base=TOOL, private_key=key_pool[2]).start()
    platform.tool_jwks = client.get("/lti/jwks").get_json()
    yield platform
    platform.stop()


def register(runner: Any, tenant: Any, platform: TestPlatform, **overrides: str) -> Any:
    options = {
        "--tenant": tenant.slug,
        "--issuer": platform.issuer,
        "--client-id": platform.client_id,
        "--deployment-id": platform.deployment_id,
        "--auth-login-url": platform.auth_url,
        "--auth-token-url": platform.token_url,
        "--keyset-url": platform.jwks_url,
        **overrides,
    }
    args = ["lti", "add-platform"]
    for name, value in options.items():
        args += [name, value]
    return runner.invoke(args=args)


@pytest.fixture
def registered(runner: Any, tenant: Any, lms: TestPlatform) -> TestPlatform:
    result = register(runner, tenant, lms)
    assert result.exit_code == 0, result.output
    return lms


@dataclass
class Login:
    """A login the tool started: what the browser carries to the LMS's auth endpoint."""

    state: str
    nonce: str
    auth_url: str


class Browser:
    """A clinician's browser: the Flask test client for the tool (cookies kept), plain
    HTTP for the LMS."""

    def __init__(self, client: FlaskClient, platform: TestPlatform) -> None:
        self.client = client
        self.platform = platform

    def start_login(self, scenario: Scenario, *, deployment: bool = True) -> Login:
        response = self.client.get(_path(self.platform.login_url(scenario, deployment=deployment)))
        for _ in range(3):
            assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
            location = response.headers["Location"]
            if not location.startswith(("/", TOOL)):
                break
            response = self.client.get(_path(location))
        query = parse_qs(urlsplit(location).query)
        return Login(query["state"][0], query["nonce"][0], location)

    def authorize(self, login: Login) -> dict[str, Any]:
        """The LMS's answer to the auth request: the form it posts back to the tool."""
        response = requests.get(login.auth_url, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def post_launch(self, id_token: str, state: str) -> Any:
        return self.client.post("/lti/launch", data={"id_token": id_token, "state": state})

    def launch(self, scenario: Scenario) -> Any:
        login = self.start_login(scenario)
        form = self.authorize(login)
        assert form["launch_url"] == TOOL + "/lti/launch"
        return self.post_launch(form["id_token"], form["state"])


def _path(url: str) -> str:
    return url[len(TOOL) :] if url.startswith(TOOL) else url


@pytest.fixture
def browser(client: FlaskClient, registered: TestPlatform) -> Browser:
    return Browser(client, registered)


@pytest.fixture
def clinician() -> Person:
    return Person("nurse-42", LEARNER, name="Ada Okafor", email="ada@stmarys.example")


@pytest.fixture
def educator() -> Person:
    return Person("educator-7", INSTRUCTOR, name="Sam Rivera", email="sam@stmarys.example")


def count_rows(app: Flask, *models: Any) -> dict[str, int]:
    """Rows per table, to show that a refused launch wrote nothing."""
    with app.app_context():
        return {
            m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in models
        }
