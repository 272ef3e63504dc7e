"""The education department's pages (``/reports/``) and a learner's own record (``/record``).

Thin: parse the request, call :mod:`courses.reports.services`, render. Every staff page
needs an instructor or administrator of a hospital and shows that hospital only; anyone
else gets 403 before a query runs, and another hospital's learner is a 404.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm

from courses import services as course_services
from courses.reports import chart, exports, periods, services
from courses.reports.periods import Period
from lms_core import auth
from lms_core.db import utcnow
from lms_core.errors import InvalidInput
from lms_core.extensions import db
from lms_core.models import STAFF_ROLES, Tenant

bp = Blueprint("reports", __name__)


def staff_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Instructors and administrators of a hospital (LTI or a local administrator)."""

    @functools.wraps(view)
    @auth.roles_required(*STAFF_ROLES)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user.tenant_id is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _tenant() -> Tenant:
    return auth.require_tenant()


def _today() -> dt.date:
    return utcnow().date()


def _period(default: str | None = periods.DEFAULT_PRESET) -> tuple[Period, list[Any]]:
    """The requested period, or the default one and the problems to show."""
    try:
        if default is None and not any(request.args.get(k) for k in ("period", "since", "until")):
            return periods.preset("all", _today()), []
        return periods.parse(request.args, _today()), []
    except InvalidInput as error:
        return periods.preset(default or "all", _today()), error.problems


class ActionForm(FlaskForm):
    """A button that changes something: the form carries only the CSRF token."""


# -- the dashboard --------------------------------------------------------------------------


@bp.get("/reports/")
@staff_only
def dashboard() -> Any:
    tenant = _tenant()
    period, problems = _period()
    data = services.dashboard(tenant.id, period, _today())
    html = render_template(
        "courses/reports/dashboard.html",
        tenant=tenant,
        period=period,
        presets=periods.PRESETS,
        problems=problems,
        summary=data.summary,
        series=data.series,
        chart=chart.completions_chart(data.series, period.label),
        courses=data.courses,
        contexts=data.contexts,
        private=data.private,
        min_group=services.MIN_GROUP,
    )
    db.session.commit()  # the private aggregate of a new month is kept (see services)
    return html, 400 if problems else 200


# -- exports --------------------------------------------------------------------------------


@bp.get("/reports/completions.csv")
@staff_only
def completions_csv() -> Response:
    tenant = _tenant()
    period, problems = _period(default="all")
    if problems:
        raise InvalidInput("The dates of the export are not valid.", problems)
    learner = request.args.get("learner", type=int)
    if learner is not None:
        services.get_learner(tenant.id, learner)  # 404 for anyone not of this hospital
    name = f"completions-{tenant.slug}-{period.since or 'start'}-to-{period.until}"
    if learner is not None:
        name += f"-learner-{learner}"
    rows = services.completion_rows(tenant.id, period, user_id=learner)
    response = Response(
        stream_with_context(
            exports.csv_chunks(rows, services.COMPLETION_COLUMNS, services.TEXT_COLUMNS, bom=True)
        ),
        mimetype="text/csv",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- learners and transcripts ---------------------------------------------------------------


@bp.get("/reports/learners/")
@staff_only
def learners() -> Any:
    tenant = _tenant()
    period, problems = _period()
    query = request.args.get("q", "").strip()[:100] or None
    sort = request.args.get("sort", "name")
    if sort not in services.SORTS:
        sort = "name"
    page = services.learner_page(
        tenant.id, period, query, sort, request.args.get("page", 1, type=int) or 1
    )
    html = render_template(
        "courses/reports/learners.html",
        tenant=tenant,
        page=page,
        period=period,
        presets=periods.PRESETS,
        problems=problems,
        query=query or "",
        sort=sort,
        sorts=services.SORTS,
    )
    return html, 400 if problems else 200


@bp.get("/reports/learners/<int:user_id>")
@staff_only
def transcript(user_id: int) -> Any:
    return _transcript_page(_tenant(), user_id, staff_view=True)


@bp.get("/record")
@auth.login_required
def my_record() -> Any:
    """A learner's own transcript: their courses, scores, dates and credit."""
    tenant = course_services.require_learner(current_user, auth.current_tenant())
    return _transcript_page(tenant, current_user.id, staff_view=False)


def _transcript_page(tenant: Tenant, user_id: int, *, staff_view: bool) -> tuple[str, int]:
    """One transcript template for the learner and their education department, so the two
    never disagree; only the staff view offers the export."""
    period, problems = _period(default=None)
    record = services.transcript(tenant.id, user_id, period)
    html = render_template(
        "courses/reports/transcript.html",
        tenant=tenant,
        record=record,
        period=period,
        presets=periods.PRESETS,
        problems=problems,
        staff_view=staff_view,
    )
    return html, 400 if problems else 200


# -- the catalog ---------------------------------------------------------------------------


@bp.get("/reports/catalog")
@staff_only
def catalog() -> str:
    tenant = _tenant()
    return render_template(
        "courses/reports/catalog.html",
        tenant=tenant,
        rows=services.catalog(tenant.id),
        form=ActionForm(),
    )


@bp.post("/reports/catalog/<slug>/<any(hide, show):action>")
@staff_only
def set_visibility(slug: str, action: str) -> Response:
    tenant = _tenant()
    if not ActionForm().validate_on_submit():
        abort(400)
    hidden = action == "hide"
    changed = course_services.set_course_hidden(tenant, slug, hidden)
    db.session.commit()
    title = course_services.find_version(slug)
    name = title.title if title else slug
    if changed:
        state = "is hidden from" if hidden else "is offered again in"
        flash(f"“{name}” {state} {tenant.name}'s catalog.", "success")
    return redirect(url_for(".catalog", _anchor=f"course-{slug}"), 303)
