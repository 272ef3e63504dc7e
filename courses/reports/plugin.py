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
    signals.demo_loading.connect(on_demo_loading, sender=app)


def on_demo_loading(sender: Flask, event: signals.DemoEvent) -> None:
    base = event.base_url.rstrip("/")
    event.messages.append(
        f"Reports: launch as Sam (education department) from {base}/demo-lms/ and choose "
        f"Reports, or open {base}/reports/ : completions by month, course and unit, "
        "learners' credit and transcripts, the catalog and required courses, CSV and "
        "certificate exports. `make demo` adds made-up learners for it to count "
        "(`shiftwell demo generate`). A hospital administrator without an LMS: "
        "`shiftwell users add-admin EMAIL --tenant demo-hospital`, then log in at "
        f"{base}/login."
    )
