"""The core's pages: home, local login, health check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from lms_core import auth
from lms_core.extensions import db, limiter
from lms_core.forms import LoginForm
from lms_core.models import Role, User

bp = Blueprint("core", __name__)


@dataclass(frozen=True, order=True)
class NavItem:
    """A link in the site header, shown to users holding one of ``roles`` (all if empty)."""

    priority: int
    label: str
    endpoint: str
    roles: frozenset[Role] = frozenset()


def add_nav_item(app: Flask, item: NavItem) -> None:
    app.extensions.setdefault("shiftwell.nav", []).append(item)


def nav_items() -> list[tuple[str, str, bool]]:
    """(label, url, is_current) for the current user; a Jinja global for base.html."""
    if not current_user.is_authenticated:
        return []
    items = sorted(current_app.extensions.get("shiftwell.nav", []))
    visible = []
    for item in items:
        if item.roles and not current_user.has_role(*item.roles):
            continue
        url = url_for(item.endpoint)
        visible.append((item.label, url, request.path.startswith(url) and url != "/"))
    return visible


@bp.get("/")
def home() -> Any:
    return render_template("core/home.html")


@bp.get("/healthz")
@limiter.exempt
def healthz() -> tuple[dict[str, Any], int]:
    """For load balancers and ``make demo``: 200 when the database answers, else 503."""
    try:
        db.session.execute(text("SELECT 1"))
        return {"status": "ok", "database": "ok"}, 200
    except SQLAlchemyError as exc:
        current_app.logger.error("health check: database unavailable: %s", type(exc).__name__)
        db.session.rollback()
        return {"status": "unavailable", "database": "unavailable"}, 503


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def login() -> Any:
    """Local accounts: partner authors, operators and hospital administrators (bound to
    their tenant). Clinicians come in from their LMS."""
    form = LoginForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        # A local account is one with a password: LMS users never have one, even when
        # their LMS sends the same e-mail address.
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == email, User.password_hash.is_not(None))
        )
        if (
            user is not None
            and user.active
            and auth.verify_password(user, form.password.data or "")
        ):
            auth.start_session(user, kind="local")
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        # One message for a wrong e-mail and a wrong password: no account enumeration.
        failure = [("email", "That e-mail address and password do not match an account.")]
        return render_template("core/login.html", form=form, failure=failure), 401
    return render_template("core/login.html", form=form, failure=())


@bp.post("/logout")
def logout() -> Response:
    auth.end_session()
    flash("You are logged out.")
    return redirect(url_for("core.home"))


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would hand a phishing page our login."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("core.home")
