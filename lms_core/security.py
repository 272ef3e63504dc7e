"""Cookies that survive an LMS iframe, and the headers every response carries.

Inside an LMS iframe the tool is a third party: browsers send its cookies only when they
are ``SameSite=None; Secure``, and (Chrome's CHIPS) ``Partitioned`` keeps them working
where third-party cookies are otherwise blocked. ``Secure`` needs HTTPS, so over plain
HTTP (the embedded mode on 127.0.0.1) cookies fall back to ``SameSite=Lax``.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix


def request_is_secure() -> bool:
    return bool(request) and request.is_secure


class IframeSessionInterface(SecureCookieSessionInterface):
    """Session cookies with attributes chosen per request: cross-site over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request_is_secure()

    def get_cookie_samesite(self, app: Flask) -> str:
        return "None" if request_is_secure() else "Lax"

    def get_cookie_partitioned(self, app: Flask) -> bool:
        return request_is_secure()


def cookie_options() -> dict[str, object]:
    """Attributes for any other cookie a plugin sets (LTI state, for instance)."""
    secure = request_is_secure()
    return {
        "secure": secure,
        "samesite": "None" if secure else "Lax",
        "partitioned": secure,
        "httponly": True,
    }


def init_security(app: Flask) -> None:
    app.session_interface = IframeSessionInterface()
    hops = int(app.config["TRUST_PROXY_HEADERS"])
    if hops:
        # Behind gunicorn + a TLS-terminating proxy, X-Forwarded-Proto tells us HTTPS.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    frame_ancestors = app.config["FRAME_ANCESTORS"]

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; media-src 'self'; "
            "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; "
            f"form-action 'self' *; frame-ancestors {frame_ancestors}",
        )
        if request_is_secure():
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
