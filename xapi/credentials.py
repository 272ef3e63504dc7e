"""HTTP Basic credentials for the LRS (Communication §4.0), one tenant each.

A credential sees and writes only its tenant's statements and documents; a read-only
one gets ``403`` on every write. Its agent, an account on this LRS, becomes the
``authority`` of the statements it stores (Data §2.4.9).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from flask import current_app
from sqlalchemy import select

from lms_core.db import utcnow
from lms_core.extensions import db
from lms_core.models import Tenant
from xapi.http import Unauthorized
from xapi.models import XapiCredential

#: ``last_used_at`` is refreshed at most this often: a write per request would cost more
#: than the knowledge is worth.
_USE_RESOLUTION = dt.timedelta(minutes=10)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_credential(
    tenant: Tenant, label: str, *, can_write: bool = True
) -> tuple[XapiCredential, str]:
    """A new credential (added to the session) and its secret, which is never stored."""
    secret = secrets.token_urlsafe(32)
    credential = XapiCredential(
        tenant_id=tenant.id,
        key=secrets.token_urlsafe(15),
        secret_hash=hash_secret(secret),
        label=label,
        can_write=can_write,
    )
    db.session.add(credential)
    db.session.flush()
    return credential, secret


def authenticate(header: str | None) -> XapiCredential:
    """The active credential named by an ``Authorization: Basic`` header, or 401."""
    if not header:
        raise Unauthorized("This LRS needs HTTP Basic credentials (Communication §4.0).")
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise Unauthorized(
            "Use HTTP Basic authentication: Authorization: Basic <key:secret in base64>."
        )
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("The Authorization header is not valid base64 of key:secret.") from None
    key, sep, secret = decoded.partition(":")
    if not sep:
        raise Unauthorized("The Authorization header must carry key:secret.")
    credential = db.session.scalar(select(XapiCredential).where(XapiCredential.key == key))
    if (
        credential is None
        or credential.revoked_at is not None
        or not hmac.compare_digest(credential.secret_hash, hash_secret(secret))
    ):
        raise Unauthorized("These credentials are not valid for this LRS.")
    now = utcnow()
    if credential.last_used_at is None or now - credential.last_used_at > _USE_RESOLUTION:
        credential.last_used_at = now
    return credential


def lrs_home_page() -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/xapi"


def authority_for(credential: XapiCredential) -> dict[str, Any]:
    return {
        "objectType": "Agent",
        "name": credential.label,
        "account": {"homePage": lrs_home_page(), "name": credential.key},
    }


def shiftwell_authority() -> dict[str, Any]:
    """The authority of statements Shiftwell writes itself, from learners' progress."""
    return {
        "objectType": "Agent",
        "name": "Shiftwell",
        "account": {
            "homePage": current_app.config["BASE_URL"].rstrip("/") + "/",
            "name": "shiftwell",
        },
    }
