"""Secrets the database keeps for a plugin, sealed with the app's secret key.

The LTI tool's private keys and the passwords of a hospital's LRS have to be in the
database (every process needs them), but a copy of the database alone — a backup, a dump
handed to support — must not give anyone our signing keys or a hospital's password. So
they are sealed with Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a
key derived from ``SHIFTWELL_SECRET_KEY``, one key per purpose (HKDF), so that a value
sealed for one use never opens for another.

Rotating the secret key: move the old one into ``SHIFTWELL_SECRET_KEY_FALLBACKS`` (a JSON
list, Flask's ``SECRET_KEY_FALLBACKS``, which also keeps sessions valid). Values sealed
under a fallback still open, and are sealed under the new key when next written.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

#: Sealed values start with this, so that a reader can tell them from plain text.
PREFIX = "sealed:"


class SealBroken(Exception):
    """A sealed value does not open with the secret key or any fallback."""


def _key(secret: str | bytes, purpose: str) -> Fernet:
    material = secret.encode() if isinstance(secret, str) else secret
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"shiftwell:" + purpose.encode()
    ).derive(material)
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys(purpose: str) -> MultiFernet:
    config = current_app.config
    secrets = [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or ())]
    return MultiFernet([_key(secret, purpose) for secret in secrets])


def seal(value: str, purpose: str) -> str:
    """``value`` sealed under the current secret key, for ``purpose`` only."""
    return PREFIX + _keys(purpose).encrypt(value.encode()).decode()


def unseal(sealed: str, purpose: str) -> str:
    """The value :func:`seal` sealed for ``purpose``.

    Raises :class:`SealBroken` when no configured secret key opens it (the secret key was
    changed without keeping the old one in ``SHIFTWELL_SECRET_KEY_FALLBACKS``).
    """
    if not sealed.startswith(PREFIX):
        raise SealBroken("the value is not sealed")
    try:
        return _keys(purpose).decrypt(sealed[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise SealBroken(
            "it was sealed under another SHIFTWELL_SECRET_KEY; put that key in "
            "SHIFTWELL_SECRET_KEY_FALLBACKS (a JSON list)"
        ) from None


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)
