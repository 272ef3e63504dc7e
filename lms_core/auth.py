"""Who is asking: the logged-in user (Flask-Login), their tenant, and role checks.

LTI launches log a user in with :func:`start_session`; partner authors and operators
log in with an e-mail and a password at ``/login``. Both end in the same session cookie,
so views need only :func:`roles_required` and :func:`current_tenant`.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, session
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from lms_core.db import utcnow
from lms_core.extensions import db, login_manager
from lms_core.models import STAFF_ROLES, Role, Tenant, User

F = TypeVar("F", bound=Callable[..., Any])

#: scrypt, werkzeug's default KDF; memory-hard like argon2 and needs no extra dependency.
PASSWORD_METHOD = "scrypt"  # noqa: S105 - a KDF name, not a password


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def verify_password(user: User, password: str) -> bool:
    return bool(user.password_hash) and check_password_hash(user.password_hash or "", password)


def start_session(user: User, *, kind: str, remember: bool = False) -> str:
    """Log ``user`` in; ``kind`` ("lti" or "local") keeps author sessions apart from launches.

    The session is cleared first, so nothing of a previous user (or a previous launch)
    survives into this one. Returns the new session id used in xAPI statements.
    """
    session.clear()
    login_user(user, remember=remember, fresh=True)
    session["kind"] = kind
    session["sid"] = secrets.token_urlsafe(16)
    user.last_seen_at = utcnow()
    return session["sid"]


def end_session() -> None:
    logout_user()
    session.clear()


def session_id() -> str | None:
    return session.get("sid")


def current_tenant() -> Tenant | None:
    if not current_user.is_authenticated:
        return None
    return current_user.tenant


def require_tenant() -> Tenant:
    tenant = current_tenant()
    if tenant is None:
        abort(403)
    return tenant


def is_hospital_staff(user: Any) -> bool:
    """An education department member of one hospital: an instructor or administrator bound
    to a tenant. Panels that plugins add to staff pages ask this before showing anything,
    since they render on pages whose own checks they cannot see."""
    return (
        isinstance(user, User)
        and user.is_authenticated
        and user.tenant_id is not None
        and user.has_role(*STAFF_ROLES)
    )


def roles_required(*roles: Role, kind: str | None = None) -> Callable[[F], F]:
    """Allow only users holding one of ``roles`` (and, if given, of session ``kind``).

    Anonymous users are sent to log in (401 for APIs); logged-in users without the role
    get 403, so a denied request never reaches the view and writes nothing.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if kind is not None and session.get("kind") != kind:
                abort(403)
            if roles and not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def login_required(view: F) -> F:
    return roles_required()(view)


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "core.login"
    login_manager.login_message = None
    # "strong" would log people out when a hospital proxy changes their IP mid-shift.
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None
