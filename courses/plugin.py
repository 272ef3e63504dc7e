"""Registers the courses package with the core, as any plugin would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app, render_template
from flask_login import current_user

from lms_core import signals
from lms_core.models import Role
from lms_core.plugins import Plugin
from lms_core.views import NavItem, add_nav_item

#: The demo courses shipped with the repository (``examples/courses/<slug>/``).
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "courses"


class CoursesPlugin(Plugin):
    """Courses.

    Course packages and their versions, the catalog, the learner player, progress and
    completion.
    """

    def init_app(self, app: Flask) -> None:
        from courses import models  # noqa: F401  (registers the tables)
        from courses.cli import courses_group
        from courses.views import bp

        self.register_blueprint(app, bp)
        self.register_cli(app, courses_group)
        self.add_template_hook(app, "home_panels", render_home_panel, priority=10)
        # Education staff launch from the same LMS and may browse what their learners see.
        hospital_roles = frozenset({Role.LEARNER, Role.INSTRUCTOR, Role.ADMINISTRATOR})
        add_nav_item(app, NavItem(10, "Courses", "courses.catalog", hospital_roles))
        signals.launch_completed.connect(on_launch_completed, sender=app)
        signals.demo_loading.connect(on_demo_loading, sender=app)
        from courses import partners
        from courses.reports.plugin import init_reports

        partners.init_app(app, self)
        init_reports(self, app)


def render_home_panel(**context: Any) -> str:
    """The home page of a launched learner: resume what they started, or browse."""
    from courses import services

    if not current_user.is_authenticated or current_user.tenant_id is None:
        return ""
    tenant_id = current_user.tenant_id
    statuses = services.learner_statuses(tenant_id, current_user.id)
    in_progress = [
        (status.attempt.version, status)
        for status in statuses.values()
        if status.attempt is not None and status.label == "In progress"
    ]
    return render_template(
        "courses/home_panel.html",
        in_progress=in_progress,
        count=len(services.latest_versions(tenant_id)),
    )


def on_launch_completed(sender: Flask, event: signals.LaunchEvent) -> None:
    from courses import lms_contexts, services

    lms_contexts.record_launch(event)
    services.suspend_other_sessions(
        event.learner.user_id, event.learner.tenant_id, event.learner.session_id
    )


def on_demo_loading(sender: Flask, event: signals.DemoEvent) -> None:
    """Import the example courses (idempotent: unchanged packages are no-ops)."""
    from courses import services

    if not EXAMPLES.is_dir():
        return  # installed without the repository's examples
    imported = []
    for folder in sorted(p for p in EXAMPLES.iterdir() if (p / "course.yaml").is_file()):
        result = services.import_package(folder)
        imported.append(result)
    base = current_app.config["BASE_URL"].rstrip("/")
    event.messages.append(
        f"Courses: {len(imported)} demo courses ({', '.join(r.slug for r in imported)}); "
        f"learners find them at {base}/courses/ after a launch."
    )
