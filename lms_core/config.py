"""Configuration in layers: defaults here, then ``SHIFTWELL_*`` environment variables, then
the mapping passed to :func:`lms_core.create_app` (tests).

Names in ``app.config`` are the environment names without the prefix:
``SHIFTWELL_DATABASE_URL`` sets ``DATABASE_URL``. Values are parsed as JSON when they
look like JSON (``SHIFTWELL_OUTBOX_MAX_ATTEMPTS=5`` is an int), as Flask's
``from_prefixed_env`` does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

#: The secret key of the embedded mode. Anyone can read it here, so production refuses it.
DEFAULT_SECRET_KEY = "shiftwell-embedded-mode-not-secret"  # noqa: S105

ENVIRONMENTS = ("development", "demo", "testing", "production")


class ConfigurationError(RuntimeError):
    """The configuration is unsafe or inconsistent; the app must not start."""


def defaults(instance_path: str) -> dict[str, Any]:
    """Safe defaults for the embedded mode: one process, SQLite under ``instance/``."""
    return {
        "ENV": "development",
        "SECRET_KEY": DEFAULT_SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{Path(instance_path) / 'shiftwell.sqlite'}",
        # The public origin the tool is reached at; LTI and xAPI IRIs are built from it.
        "BASE_URL": "http://127.0.0.1:5000",
        # None: no broker; background work runs in this process. Production: redis://...
        "BROKER_URL": None,
        "OUTBOX_RUNNER": None,  # derived: celery | thread | inline
        "OUTBOX_MAX_ATTEMPTS": 12,
        "OUTBOX_BACKOFF_SECONDS": 30,
        "OUTBOX_BACKOFF_MAX_SECONDS": 3600,
        "OUTBOX_LEASE_SECONDS": 300,
        # A fresh row is handed over right after commit; the sweeper only re-sends rows
        # older than this, so it never races the normal hand-off.
        "OUTBOX_SWEEP_GRACE_SECONDS": 30,
        "OUTBOX_SWEEP_INTERVAL_SECONDS": 15,
        "DISABLED_PLUGINS": [],
        "LOG_LEVEL": "INFO",
        "RATELIMIT_STORAGE_URI": "memory://",
        # Learner pages are framed by the hospital's LMS; this is the CSP frame-ancestors list.
        "FRAME_ANCESTORS": "*",
        "TRUST_PROXY_HEADERS": 0,
    }


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Fill ``app.config`` from defaults, the environment and ``overrides``, then derive."""
    app.config.update(defaults(app.instance_path))
    app.config.from_prefixed_env("SHIFTWELL")
    if overrides:
        app.config.update(overrides)
    _derive(app)
    check_config(app.config)


def _derive(app: Flask) -> None:
    config = app.config
    env = config["ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigurationError(f"SHIFTWELL_ENV={env!r} is not one of {', '.join(ENVIRONMENTS)}.")
    config["TESTING"] = config.get("TESTING", False) or env == "testing"
    config["DEMO"] = env == "demo"
    # Who runs background work: Celery through a broker, a thread in this process (the
    # embedded mode), or inline after commit (tests, so they can assert on the result).
    if not config.get("OUTBOX_RUNNER"):
        if config["BROKER_URL"]:
            config["OUTBOX_RUNNER"] = "celery"
        else:
            config["OUTBOX_RUNNER"] = "inline" if config["TESTING"] else "thread"
    if config["OUTBOX_RUNNER"] not in ("celery", "thread", "inline"):
        raise ConfigurationError(
            f"SHIFTWELL_OUTBOX_RUNNER={config['OUTBOX_RUNNER']!r}: use celery, thread or inline."
        )
    if config["OUTBOX_RUNNER"] == "celery" and not config["BROKER_URL"]:
        raise ConfigurationError("SHIFTWELL_OUTBOX_RUNNER=celery needs SHIFTWELL_BROKER_URL.")
    config["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(config["DATABASE_URL"])
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite serialises writers; wait for the lock instead of failing at once.
        config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
    else:
        config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    config["SESSION_COOKIE_NAME"] = "shiftwell_session"
    config["SESSION_COOKIE_HTTPONLY"] = True
    config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a clinician may leave a form for hours


def _normalise_database_url(url: str) -> str:
    # Heroku-style URLs name the dialect "postgres"; SQLAlchemy wants an explicit driver.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def check_config(config: Mapping[str, Any]) -> None:
    """Refuse to run production on anything that is only safe on a laptop."""
    if config["ENV"] != "production":
        return
    secret = config.get("SECRET_KEY") or ""
    if secret == DEFAULT_SECRET_KEY or len(secret) < 32:
        raise ConfigurationError(
            "Production mode needs its own secret key: set SHIFTWELL_SECRET_KEY to at least "
            "32 random characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    if not config.get("BASE_URL", "").startswith("https://"):
        raise ConfigurationError(
            "Production mode serves LMS iframes and needs HTTPS: set SHIFTWELL_BASE_URL to "
            "the public https:// origin of this tool."
        )


def instance_path_from_env() -> str | None:
    """Operators may move ``instance/`` (the SQLite file, uploaded packages) elsewhere."""
    return os.environ.get("SHIFTWELL_INSTANCE_PATH")
