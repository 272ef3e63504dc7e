"""Registers the certificates package with the core, as any plugin would."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from sqlalchemy import event, select, update

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
        from certificates import cli, exports, models, services, views  # noqa: F401

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
        if not event.contains(User, "before_delete", _keep_certificates):
            event.listen(User, "before_delete", _keep_certificates)


def _demo_messages(sender: Flask, event: signals.DemoEvent) -> None:
    base = event.base_url.rstrip("/")
    event.messages.append(
        f"Certificates: pass a course with credit (e.g. The Four-Minute Reset) and open "
        f"{base}/certificates/ to download the PDF and its Open Badges credential; anyone "
        f"can check a number at {base}/verify/."
    )


def _keep_certificates(mapper: Any, connection: Any, user: User) -> None:
    """A deleted account leaves its certificates behind, holder-less but intact.

    The foreign key says ON DELETE SET NULL; this does the same for ORM deletes on SQLite,
    which does not enforce foreign keys unless told to.
    """
    from certificates.models import Certificate

    connection.execute(
        update(Certificate).where(Certificate.user_id == user.id).values(user_id=None)
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
