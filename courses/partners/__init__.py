"""The partner portal: university authors upload, preview and publish course versions and
see anonymised use of their courses; operators invite them.

Part of the courses plugin (``/partner/``), registered from :mod:`courses.plugin`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_login import current_user

from lms_core import signals
from lms_core.models import Role
from lms_core.plugins import Plugin
from lms_core.views import NavItem, add_nav_item


def init_app(app: Flask, plugin: Plugin) -> None:
    from courses.partners import models  # noqa: F401  (registers the tables)
    from courses.partners.cli import partners_group
    from courses.partners.views import bp

    plugin.register_blueprint(app, bp)
    plugin.register_cli(app, partners_group)
    plugin.add_template_hook(app, "home_panels", render_home_panel, priority=20)
    add_nav_item(
        app, NavItem(20, "Partner portal", "partners.home", frozenset({Role.PARTNER_AUTHOR}))
    )
    add_nav_item(app, NavItem(30, "Partners", "partners.manage", frozenset({Role.OPERATOR})))
    signals.demo_loading.connect(on_demo_loading, sender=app)


def render_home_panel(**context: Any) -> str:
    """A local author's or operator's start page: where their work is."""
    if not current_user.is_authenticated or current_user.tenant_id is not None:
        return ""
    if not current_user.has_role(Role.PARTNER_AUTHOR, Role.OPERATOR):
        return ""
    from courses.partners import services

    return render_template(
        "partners/home_panel.html", memberships=services.memberships(current_user)
    )


def on_demo_loading(sender: Flask, event: signals.DemoEvent) -> None:
    from courses.partners import services

    services.load_demo_author(event)
