"""Registers the certificates package with the core, as any plugin would."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from sqlalchemy import select

from lms_core import outbox, signals
from lms_core.models import Role, User
from lms_core.plugins import Plugin
from lms_core.views import NavItem, add_nav_item


class CertificatesPlugin(Plugin):
    """Certificates.

    Continuing-education certificates: issued on passing a course with credit, rendered
    as PDF/A, verifiable by anyone at /verify/<number>, revocable, and each paired with a
    signed Open Badges 3.0 credential.
    """

    def init_app(self, app: Flask) -> None:
        from certificates import (  # noqa: F401  # portal: its routes join views.bp
            cli,
            exports,
            generate,
            models,
            portal,
            services,
            views,
        )

        app.config.setdefault("CERTIFICATES_PDF_VARIANT", "pdf/a-3b")
        app.config.setdefault("CERTIFICATES_SIGNING_KEY", None)
        app.config.setdefault("CERTIFICATES_SIGNING_KEY_FILE", None)
        app.config.setdefault("CERTIFICATES_EXPORT_DIR", None)
        app.config.setdefault("CERTIFICATES_EXPORT_PROCESSES", 0)
        app.config.setdefault("CERTIFICATES_TEMPLATE_DIR", None)

        self.register_blueprint(app, views.bp)
        self.register_cli(app, cli.certificates_group)
        registry = outbox.registry(app)
        registry.register(services.RENDER_TOPIC, services.run_render_message)
        registry.register(exports.EXPORT_TOPIC, exports.run_export_message)
        signals.course_completed.connect(services.on_course_completed, sender=app)
        signals.demo_loading.connect(_demo_messages, sender=app)
        signals.demo_generating.connect(generate.on_demo_generating, sender=app)
        portal.init_portal(self, app)
        add_nav_item(
            app,
            NavItem(
                60,
                "Certificates",
                "certificates.mine",
                frozenset({Role.LEARNER, Role.INSTRUCTOR, Role.ADMINISTRATOR}),
            ),
        )
        self.add_template_hook(app, "home_panels", _awaiting_name_panel, priority=20)
        self.add_template_hook(app, "course_result_panels", _result_panel)


def _demo_messages(sender: Flask, event: signals.DemoEvent) -> None:
    base = event.base_url.rstrip("/")
    event.messages.append(
        f"Certificates: pass a course with credit (e.g. The Four-Minute Reset) and open "
        f"{base}/certificates/ to download the PDF and its Open Badges credential; anyone "
        f"can check a number at {base}/verify/."
    )


def _awaiting_name_panel(user: Any = None, **_: Any) -> str:
    """On the learner's home page: certificates that wait for the name to print."""
    from certificates.models import Certificate, CertificateStatus
    from lms_core.extensions import db

    if not isinstance(user, User) or not user.is_authenticated or user.tenant_id is None:
        return ""
    waiting = list(
        db.session.scalars(
            select(Certificate).where(
                Certificate.tenant_id == user.tenant_id,
                Certificate.user_id == user.id,
                Certificate.status == CertificateStatus.AWAITING_NAME,
            )
        )
    )
    if not waiting:
        return ""
    return render_template("certificates/panel.html", waiting=waiting)


def _result_panel(user: Any = None, registration: str | None = None, **_: Any) -> str:
    """On the result page of a passed course: the certificate it earned, one tap away."""
    from certificates.models import Certificate
    from lms_core.extensions import db

    if not isinstance(user, User) or user.tenant_id is None or not registration:
        return ""
    certificate = db.session.scalar(
        select(Certificate).where(
            Certificate.tenant_id == user.tenant_id,
            Certificate.user_id == user.id,
            Certificate.attempt_registration == registration,
        )
    )
    if certificate is None:
        return ""
    return render_template("certificates/result_panel.html", certificate=certificate)
