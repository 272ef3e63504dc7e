"""The app factory, configuration, health check, errors, cookies and the base page."""

from __future__ import annotations

import re

import pytest
from flask import Flask, abort

from lms_core import create_app
from lms_core.config import DEFAULT_SECRET_KEY, ConfigurationError
from lms_core.errors import InvalidInput, Problem


def test_embedded_default_is_sqlite_under_instance(tmp_path, monkeypatch):
    for name in ("SHIFTWELL_DATABASE_URL", "SHIFTWELL_ENV", "SHIFTWELL_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHIFTWELL_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app()
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"]
        == f"sqlite:///{tmp_path / 'instance' / 'shiftwell.sqlite'}"
    )
    assert app.config["BROKER_URL"] is None
    assert app.extensions["celery"].conf.task_always_eager is True


def test_environment_variables_configure_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("SHIFTWELL_DATABASE_URL", "postgres://u:p@db.internal/shiftwell")
    monkeypatch.setenv("SHIFTWELL_OUTBOX_MAX_ATTEMPTS", "5")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.internal/shiftwell"
    assert app.config["OUTBOX_MAX_ATTEMPTS"] == 5


def test_production_refuses_the_default_secret_key(tmp_path):
    with pytest.raises(ConfigurationError, match="SHIFTWELL_SECRET_KEY"):
        create_app(
            {
                "ENV": "production",
                "SECRET_KEY": DEFAULT_SECRET_KEY,
                "BASE_URL": "https://tool.example",
                "INSTANCE_PATH": str(tmp_path),
            }
        )


def test_production_refuses_plain_http(tmp_path):
    with pytest.raises(ConfigurationError, match="https"):
        create_app(
            {
                "ENV": "production",
                "SECRET_KEY": "x" * 48,
                "BASE_URL": "http://tool.example",
                "INSTANCE_PATH": str(tmp_path),
            }
        )


def test_production_starts_with_its_own_secret(tmp_path):
    app = create_app(
        {
            "ENV": "production",
            "SECRET_KEY": "x" * 48,
            "BASE_URL": "https://tool.example",
            "INSTANCE_PATH": str(tmp_path),
        }
    )
    assert not app.config["TESTING"]


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="SHIFTWELL_ENV"):
        create_app({"ENV": "staging", "INSTANCE_PATH": str(tmp_path)})


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    app = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path}/missing-dir/x/db.sqlite",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unavailable"


def test_unknown_page_is_a_readable_404(client):
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<h1>Not Found</h1>" in html
    assert "Traceback" not in html


def test_api_clients_get_problem_details(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 404
    assert response.json["title"] == "Not Found"


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    @app.get("/invalid")
    def invalid():
        raise InvalidInput("The date is wrong.", [Problem("not a date", "due", "use YYYY-MM-DD")])

    @app.get("/forbidden")
    def forbidden():
        abort(403)

    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_an_unexpected_error_never_shows_a_traceback(failing_app, caplog):
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "secret internals" not in text and "Traceback" not in text
    assert "Something went wrong" in text
    assert "secret internals" in caplog.text  # but the operator can find it in the log


def test_domain_errors_name_what_where_and_how(failing_app):
    client = failing_app.test_client()
    page = client.get("/invalid").get_data(as_text=True)
    assert "The date is wrong." in page and "<code>due</code>" in page and "YYYY-MM-DD" in page
    problem = client.get("/invalid", headers={"Accept": "application/json"}).json
    assert problem["status"] == 400
    assert problem["errors"] == [
        {"message": "not a date", "location": "due", "hint": "use YYYY-MM-DD"}
    ]


def test_session_cookie_is_cross_site_over_https(app):
    @app.get("/touch")
    def touch():
        from flask import session

        session["x"] = 1
        return "ok"

    response = app.test_client().get("/touch", base_url="https://tool.example")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "SameSite=None" in cookie and "Partitioned" in cookie
    assert "HttpOnly" in cookie


def test_session_cookie_falls_back_to_lax_over_plain_http(app):
    @app.get("/touch")
    def touch():
        from flask import session

        session["x"] = 1
        return "ok"

    cookie = app.test_client().get("/touch").headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "Secure" not in cookie


def test_base_page_is_accessible_by_structure(client):
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'<a class="skip-link" href="#main">', html)
    assert '<main id="main"' in html and "<header" in html and "<footer" in html
    assert 'lang="en"' in html
    assert "http://" not in html.replace("http://localhost", "")  # no CDN, no external font
    assert "<script" not in html


def test_responses_carry_security_headers(client):
    headers = client.get("/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]


def test_deleting_a_tenant_removes_its_people_on_every_backend(app, make_user, tenant):
    from sqlalchemy import func, select

    from lms_core.extensions import db
    from lms_core.models import Tenant, User

    make_user(tenant)
    with app.app_context():
        db.session.execute(Tenant.__table__.delete())
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
