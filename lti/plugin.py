"""Registers the lti package with the core, as any plugin would."""

from __future__ import annotations

from flask import Flask

from lms_core import outbox, signals
from lms_core.models import Role
from lms_core.plugins import Plugin
from lms_core.views import NavItem, add_nav_item


class LtiPlugin(Plugin):
    """LTI 1.3 tool.

    Hospitals' LMSs (Canvas, Moodle, Blackboard, D2L, Open edX) launch Shiftwell over
    LTI 1.3; instructors add courses with Deep Linking; grades go back over AGS and
    rosters come in over NRPS.
    """

    def init_app(self, app: Flask) -> None:
        from lti import ags, cli, demo, models, portal, roster, views  # noqa: F401 - models: tables
        from lti import generate as lti_generate
        from lti.http import DEFAULT_TIMEOUT, KeySetCache
        from lti.tool import TokenCache

        app.config.setdefault("LTI_CLOCK_LEEWAY", 60)
        app.config.setdefault("LTI_HTTP_TIMEOUT", DEFAULT_TIMEOUT)
        app.extensions["lti.keysets"] = KeySetCache()
        app.extensions["lti.tokens"] = TokenCache()

        self.register_blueprint(app, views.bp)
        self.register_cli(app, cli.lti_group)
        registry = outbox.registry(app)
        registry.register(ags.TOPIC, ags.send_score)
        registry.register(roster.TOPIC, roster.handle_sync)
        signals.course_completed.connect(ags.on_course_completed, sender=app)
        signals.progress_changed.connect(ags.on_progress_changed, sender=app)
        signals.demo_loading.connect(demo.on_demo_loading, sender=app)
        signals.demo_generating.connect(lti_generate.on_demo_generating, sender=app)
        portal.init_portal(self, app)
        add_nav_item(
            app,
            NavItem(
                60, "LMS courses", "lti.contexts", frozenset({Role.INSTRUCTOR, Role.ADMINISTRATOR})
            ),
        )
        add_nav_item(app, NavItem(90, "LMS registrations", "lti.admin", frozenset({Role.OPERATOR})))
        if app.config["DEMO"]:
            demo.init_app(app)
