"""Secrets kept in the database are sealed with the app's secret key (lms_core.crypto)."""

from __future__ import annotations

import pytest
from flask import Flask

from lms_core import crypto


def _app(secret: str, fallbacks: list[str] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret, SECRET_KEY_FALLBACKS=fallbacks or [])
    return app


def test_a_sealed_value_opens_only_for_its_purpose_and_hides_the_value():
    with _app("a-secret-key-of-at-least-thirty-two-chars").app_context():
        sealed = crypto.seal("hunter2-password", "xapi.forward-password")
        assert sealed.startswith("sealed:") and "hunter2" not in sealed
        assert crypto.unseal(sealed, "xapi.forward-password") == "hunter2-password"
        assert crypto.seal("hunter2-password", "xapi.forward-password") != sealed  # fresh IV
        with pytest.raises(crypto.SealBroken):
            crypto.unseal(sealed, "lti.tool-key")
        with pytest.raises(crypto.SealBroken, match="not sealed"):
            crypto.unseal("-----BEGIN PRIVATE KEY-----", "lti.tool-key")


def test_a_rotated_secret_key_still_opens_values_sealed_under_a_fallback():
    with _app("the-old-secret-key-of-thirty-two-chars").app_context():
        sealed = crypto.seal("value", "lti.tool-key")
    with (
        _app("the-new-secret-key-of-thirty-two-chars").app_context(),
        pytest.raises(crypto.SealBroken, match="SHIFTWELL_SECRET_KEY_FALLBACKS"),
    ):
        crypto.unseal(sealed, "lti.tool-key")
    with _app(
        "the-new-secret-key-of-thirty-two-chars", ["the-old-secret-key-of-thirty-two-chars"]
    ).app_context():
        assert crypto.unseal(sealed, "lti.tool-key") == "value"
        resealed = crypto.seal("value", "lti.tool-key")
    with _app("the-new-secret-key-of-thirty-two-chars").app_context():
        assert crypto.unseal(resealed, "lti.tool-key") == "value"  # new writes use the new key
