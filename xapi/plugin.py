"""Registers the xapi package with the core, as any plugin would."""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS

from lms_core import outbox, signals
from lms_core.plugins import Plugin

#: Headers a browser client may send and read (Communication Appendix C, cross-origin).
CORS_ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "X-Experience-API-Version",
    "If-Match",
    "If-None-Match",
    "Accept-Language",
]
CORS_EXPOSE_HEADERS = [
    "ETag",
    "Last-Modified",
    "X-Experience-API-Version",
    "X-Experience-API-Consistent-Through",
    "Content-Type",
]


class XapiPlugin(Plugin):
    """xAPI: the statement vocabulary, the embedded Learning Record Store, forwarding.

    Turns learners' progress into xAPI statements in the same transaction, serves them
    from a conformant xAPI 1.0.3 LRS at /xapi/ and forwards them to the hospital's LRS.
    """

    api_prefixes = ("/xapi",)

    def init_app(self, app: Flask) -> None:
        from xapi import cli, forwarding, models, receivers, views  # noqa: F401 - models register tables

        app.config.setdefault("XAPI_MAX_REQUEST_BYTES", 100 * 1024 * 1024)
        app.config.setdefault("XAPI_FORWARD_TIMEOUT_SECONDS", 30)
        app.config.setdefault("XAPI_FORWARD_BACKOFF_SECONDS", 15)
        app.config.setdefault("XAPI_FORWARD_BACKOFF_MAX_SECONDS", 900)
        self.register_blueprint(app, views.bp)
        app.after_request(views.add_lrs_headers)
        # LRS clients run in browsers on other origins (SCORM/cmi5 players); Basic
        # credentials travel in the Authorization header, so no cookies are allowed.
        CORS(
            app,
            resources={r"/xapi/*": {"origins": "*"}},
            allow_headers=CORS_ALLOW_HEADERS,
            expose_headers=CORS_EXPOSE_HEADERS,
            methods=["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"],
            supports_credentials=False,
            send_wildcard=True,
            max_age=86400,
        )
        self.register_cli(app, cli.xapi_group)
        outbox.registry(app).register(forwarding.TOPIC, forwarding.forward)
        receivers.connect(app)
        signals.demo_loading.connect(on_demo_loading, sender=app)


def on_demo_loading(sender: Flask, event: signals.DemoEvent) -> None:
    """Tell the person running `make demo` where the statements of their clicks land."""
    base = event.base_url.rstrip("/")
    event.messages.append(
        f"xAPI: every step you take is a statement in the LRS at {base}/xapi/ "
        "(profile: docs/xapi-profile.md). Read them with credentials from "
        "`shiftwell xapi add-credentials --tenant demo-hospital`, e.g. "
        f"curl -u KEY:SECRET -H 'X-Experience-API-Version: 1.0.3' {base}/xapi/statements"
    )
