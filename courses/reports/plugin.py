"""How the reports join the courses plugin: blueprint, CLI, navigation, demo data."""

from __future__ import annotations

from flask import Flask

from lms_core import signals
from lms_core.models import STAFF_ROLES, Role
from lms_core.plugins import Plugin
from lms_core.views import NavItem, add_nav_item


def init_reports(plugin: Plugin, app: Flask) -> None:
    from courses.reports import generate, models, rollups, views  # noqa: F401 - models: tables
    from courses.reports.cli import reports_group

    plugin.register_blueprint(app, views.bp)
    plugin.register_cli(app, reports_group)
    add_nav_item(app, NavItem(15, "Reports", "reports.dashboard", frozenset(STAFF_ROLES)))
    add_nav_item(app, NavItem(55, "My record", "reports.my_record", frozenset({Role.LEARNER})))
    signals.demo_generating.connect(generate.on_demo_generating, sender=app)
    signals.course_completed.connect(rollups.on_course_completed, sender=app)
