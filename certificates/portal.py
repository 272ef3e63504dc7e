"""certificates' part of the education department's pages, through courses' template
hooks: certificate links on a transcript, and the zip export of a date range on the
dashboard (the button queues :mod:`certificates.exports`; the zip is downloadable when the
background work is done)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from certificates import api as certificates_api
from certificates import exports, wording
from certificates.forms import ExportForm
from certificates.views import bp
from lms_core.auth import is_hospital_staff, require_tenant, roles_required
from lms_core.db import utcnow
from lms_core.errors import InvalidInput
from lms_core.extensions import db
from lms_core.models import STAFF_ROLES

#: How many of the latest exports the dashboard lists.
RECENT_EXPORTS = 5


def _dashboard_url() -> str:
    if "reports.dashboard" in current_app.view_functions:
        return url_for("reports.dashboard", _anchor="certificate-exports")
    return url_for("certificates.mine")


@bp.post("/certificates/exports")
@roles_required(*STAFF_ROLES)
def request_export() -> Any:
    tenant = require_tenant()
    form = ExportForm()
    if form.validate_on_submit():
        try:
            export = exports.request_export(
                tenant, form.date_from.data, form.date_to.data, current_user
            )
        except InvalidInput as error:
            form.date_to.errors = [*form.date_to.errors, error.detail]
        else:
            db.session.commit()
            ready = export.status.value == "done"
            flash(
                f"The zip of certificates issued from {export.date_from:%d %b %Y} to "
                f"{export.date_to:%d %b %Y} is "
                + ("ready below." if ready else "being made; it appears below when ready."),
                "success",
            )
            return redirect(_dashboard_url(), 303)
    return render_template("certificates/export_form.html", form=form), 400


def dashboard_panel(tenant: Any = None, user: Any = None, period: Any = None, **_: Any) -> str:
    """The zip export of a date range (the period's dates to start with), and the latest
    exports with their download links."""
    if tenant is None or not is_hospital_staff(user) or user.tenant_id != tenant.id:
        return ""
    today = utcnow().date()
    since = getattr(period, "since", None) or today.replace(month=1, day=1)
    until = getattr(period, "until", None) or today
    form = ExportForm(formdata=None, date_from=since, date_to=until)
    return render_template(
        "certificates/panels/dashboard.html",
        form=form,
        exports=certificates_api.list_exports(tenant.id)[:RECENT_EXPORTS],
    )


def transcript_panel(tenant: Any = None, learner_id: int | None = None, **_: Any) -> str:
    """A learner's certificates (with links), and the credit they certify."""
    if tenant is None or learner_id is None:
        return ""
    found = certificates_api.user_certificates(tenant.id, learner_id)
    totals = certificates_api.credit_totals(tenant.id, learner_id)
    return render_template(
        "certificates/panels/transcript.html",
        certificates=found,
        totals=sorted(totals.items()),
        amount=wording.format_amount,
        labels=_unit_labels(),
    )


def _unit_labels() -> dict[str, str]:
    return {
        wording.ANCC: "ANCC contact hours",
        wording.AMA: "AMA PRA Category 1 Credits™",
        wording.IPCE: "IPCE credits",
    }


def init_portal(plugin: Any, app: Flask) -> None:
    plugin.add_template_hook(app, "staff_dashboard_panels", dashboard_panel, priority=40)
    plugin.add_template_hook(app, "transcript_extras", transcript_panel, priority=20)
