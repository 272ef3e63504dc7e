"""The tool's signing keys: created on first need, published as a JWKS, rotated on demand.

Rotation without breaking anyone: the JWKS always carries the *current* key (which signs)
and the *next* one. Platforms that cache our JWKS therefore already hold the next key when
``shiftwell lti rotate-keys`` promotes it, as long as they re-read the JWKS at least as
often as :data:`JWKS_MAX_AGE` says.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms_core import crypto
from lms_core.db import utcnow
from lms_core.extensions import db
from lti.models import KeySlot, ToolKey

#: Seconds platforms may cache /lti/jwks; rotating sooner than this after the next key
#: appeared could reach a platform that has not seen it yet.
JWKS_MAX_AGE = 3600
#: 2048-bit RSA is what LTI platforms expect (RS256); 4096 costs ~1 s to generate.
KEY_SIZE = 2048
#: What the private keys are sealed for (:func:`lms_core.crypto.seal`).
SEAL_PURPOSE = "lti.tool-key"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey  # loaded once per process: PyJWT signs with it as is
    public_key_pem: str


@functools.lru_cache(maxsize=8)
def _load(private_key_pem: str) -> tuple[rsa.RSAPrivateKey, str]:
    """Parsing an RSA key checks it (about 0.1 s); our keys are made and kept by us, so
    they are parsed once per process and not re-validated."""
    key = serialization.load_pem_private_key(
        private_key_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
    )
    assert isinstance(key, rsa.RSAPrivateKey)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public.decode()


def new_private_key_pem() -> str:
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _new_key(slot: KeySlot, pem: str | None = None) -> ToolKey:
    """A key row for ``slot``: a fresh key pair, or ``pem`` (an existing private key)."""
    pem = pem or new_private_key_pem()
    jwk = JWK.from_pem(pem.encode())
    public = json.loads(jwk.export_public())
    kid = jwk.thumbprint()
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return ToolKey(
        kid=kid,
        private_key_sealed=crypto.seal(pem, SEAL_PURPOSE),
        public_jwk=public,
        slot=slot,
        activated_at=utcnow() if slot == KeySlot.CURRENT else None,
    )


def _slots() -> dict[KeySlot, ToolKey]:
    rows = db.session.scalars(select(ToolKey).where(ToolKey.slot.is_not(None)))
    return {row.slot: row for row in rows if row.slot is not None}


def ensure_keys() -> dict[KeySlot, ToolKey]:
    """The current and next keys, creating whichever is missing (and committing them, so
    call it where nothing else is pending: a view's start, a handler's start).

    Two processes may race to create the first keys; the unique slot lets one win and the
    other read the winner's keys.
    """
    slots = _slots()
    missing = [slot for slot in KeySlot if slot not in slots]
    if not missing:
        return slots
    for slot in missing:
        db.session.add(_new_key(slot))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
    return _slots()


def signing_key() -> SigningKey:
    """The key everything the tool signs uses (client assertions, Deep Linking responses)."""
    key = ensure_keys()[KeySlot.CURRENT]
    try:
        pem = crypto.unseal(key.private_key_sealed, SEAL_PURPOSE)
    except crypto.SealBroken as exc:
        raise crypto.SealBroken(
            f"The LTI tool key {key.kid} cannot be opened: {exc}. If the old secret key is "
            "lost, `shiftwell lti rotate-keys --force` twice makes a new pair."
        ) from None
    private, public_pem = _load(pem)
    return SigningKey(key.kid, private, public_pem)


def jwks() -> dict[str, Any]:
    """The public JWKS: current key first, then the next one."""
    slots = ensure_keys()
    return {"keys": [slots[KeySlot.CURRENT].public_jwk, slots[KeySlot.NEXT].public_jwk]}


@dataclass(frozen=True)
class Rotation:
    retired_kid: str
    current_kid: str
    next_kid: str
    next_published_for: dt.timedelta  # how long the new current key had been published


def rotate() -> Rotation:
    """Retire the current key, promote the next one and publish a new next key.

    The caller commits. Raises nothing: a too-early rotation is the caller's call (the
    CLI asks for ``--force``), since an operator may have to rotate a leaked key at once.
    """
    slots = ensure_keys()
    current, following = slots[KeySlot.CURRENT], slots[KeySlot.NEXT]
    now = utcnow()
    current.slot = None
    current.retired_at = now
    db.session.flush()  # free the unique slot before reusing it
    following.slot = KeySlot.CURRENT
    following.activated_at = now
    db.session.flush()
    new_next = _new_key(KeySlot.NEXT)
    db.session.add(new_next)
    db.session.flush()
    return Rotation(current.kid, following.kid, new_next.kid, now - following.created_at)


def key_age_of_next() -> dt.timedelta:
    return utcnow() - ensure_keys()[KeySlot.NEXT].created_at


def all_keys() -> list[ToolKey]:
    return list(db.session.scalars(select(ToolKey).order_by(ToolKey.created_at.desc())))
