"""Fixtures that build the world for a test: an app on a fresh database, clients, factories.

Every test that uses ``app`` runs once per backend: SQLite always, and PostgreSQL when
``SHIFTWELL_TEST_POSTGRES_URL`` points at a server (``.ci/run`` starts one). The schema
comes from the real migrations, applied once per session to a template database; each
test gets its own copy, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from lms_core import create_app
from lms_core.extensions import db
from lms_core.models import Role, Tenant, User

pytest_plugins = ["tests.browser_support"]

POSTGRES_URL = os.environ.get("SHIFTWELL_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("SHIFTWELL_TEST_REDIS_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def base_config(database_url: str, instance_path: Path) -> dict[str, Any]:
    return {
        "ENV": "testing",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-anything",
        "DATABASE_URL": database_url,
        "BASE_URL": "http://localhost",
        "OUTBOX_SWEEP_GRACE_SECONDS": 0,
        "INSTANCE_PATH": str(instance_path / "instance"),
    }


@dataclass
class DatabaseTemplate:
    """A migrated database that each test copies."""

    backend: str
    template: str  # SQLite: file path; PostgreSQL: database name
    admin_url: str | None = None

    def new_database(self, tmp_path: Path) -> str:
        if self.backend == "sqlite":
            path = tmp_path / "test.sqlite"
            shutil.copyfile(self.template, path)
            return f"sqlite:///{path}"
        name = f"shiftwell_t_{uuid.uuid4().hex[:12]}"
        _pg_execute(self.admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return str(make_url(self.admin_url).set(database=name).render_as_string(False))

    def drop_database(self, url: str) -> None:
        if self.backend == "postgresql":
            name = make_url(url).database
            _pg_execute(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_execute(admin_url: str | None, sql: str) -> None:
    import psycopg

    assert admin_url is not None
    conninfo = make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _migrate(url: str, tmp: Path) -> None:
    from lms_core import schema

    app = create_app(base_config(url, tmp))
    with app.app_context():
        schema.upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseTemplate]:
    tmp = tmp_path_factory.mktemp(f"template-{request.param}")
    if request.param == "sqlite":
        path = tmp / "template.sqlite"
        _migrate(f"sqlite:///{path}", tmp)
        yield DatabaseTemplate("sqlite", str(path))
        return
    assert POSTGRES_URL
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"shiftwell_template_{worker}_{os.getpid()}"
    _pg_execute(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_execute(POSTGRES_URL, f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_URL).set(drivername="postgresql", database=name)
    _migrate(url.render_as_string(False), tmp)
    yield DatabaseTemplate("postgresql", name, POSTGRES_URL)
    _pg_execute(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def backend(database_template: DatabaseTemplate) -> str:
    return database_template.backend


@pytest.fixture
def database_url(database_template: DatabaseTemplate, tmp_path: Path) -> Iterator[str]:
    url = database_template.new_database(tmp_path)
    yield url
    database_template.drop_database(url)


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Override in a test module (or extend in a test) to change the app's configuration."""
    return base_config(database_url, tmp_path)


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


# -- factories --------------------------------------------------------------------------


@pytest.fixture
def make_tenant(app: Flask) -> Any:
    def make(slug: str = "st-marys", name: str = "St Mary's Hospital", **kw: Any) -> Tenant:
        with app.app_context():
            tenant = Tenant(slug=slug, name=name, settings={}, **kw)
            db.session.add(tenant)
            db.session.commit()
            db.session.refresh(tenant)
            db.session.expunge(tenant)
            return tenant

    return make


@pytest.fixture
def tenant(make_tenant: Any) -> Tenant:
    return make_tenant()


@pytest.fixture
def make_user(app: Flask) -> Any:
    def make(
        tenant: Tenant | None = None,
        *,
        roles: tuple[Role, ...] = (Role.LEARNER,),
        subject: str | None = None,
        issuer: str = "https://lms.example.edu",
        password: str | None = None,
        **kw: Any,
    ) -> User:
        from lms_core.auth import hash_password

        with app.app_context():
            user = User(
                tenant_id=tenant.id if tenant else None,
                issuer=issuer if tenant else None,
                subject=(subject or uuid.uuid4().hex) if tenant else None,
                password_hash=hash_password(password) if password else None,
                **kw,
            )
            for role in roles:
                user.grant(role)
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            user_id = user.id
        # Return a detached copy with its roles loaded, safe to read outside the context.
        with app.app_context():
            loaded = db.session.get(User, user_id)
            assert loaded is not None
            _ = loaded.roles, loaded.tenant
            db.session.expunge_all()
            return loaded

    return make


def login(client: FlaskClient, user: User, kind: str = "lti") -> None:
    """Log ``user`` in as a launch (kind "lti") or a local login would."""
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
        sess["kind"] = kind
        sess["sid"] = uuid.uuid4().hex


_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "the page has no CSRF token in a form"
    return match.group(1)


def submit(
    client: FlaskClient, page: str, data: dict[str, Any], action: str | None = None, **kw: Any
) -> Any:
    """Load ``page`` like a browser, take its CSRF token and post ``data`` to its form."""
    response = client.get(page)
    assert response.status_code == 200, f"GET {page} gave {response.status_code}"
    token = csrf_token_from(response.get_data(as_text=True))
    return client.post(action or page, data={"csrf_token": token, **data}, **kw)
