"""lti's part of the education department's pages: required courses (assignments), and
the panels it adds to courses' reports pages through template hooks: who on the LMS
rosters never opened Shiftwell, required courses with overdue learners, and a learner's
own required courses."""

from __future__ import annotations

from typing import Any

from flask import Flask, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from lms_core import signals
from lms_core.auth import is_hospital_staff, roles_required
from lms_core.db import utcnow
from lms_core.errors import InvalidInput
from lms_core.extensions import db
from lms_core.models import STAFF_ROLES, Role, User
from lti import assignments, catalog
from lti.forms import AssignmentForm, RemoveAssignmentForm
from lti.models import Context
from lti.views import bp

#: Where the required-courses form lives (courses' catalog management page), if present.
CATALOG_PAGE = "reports.catalog"


def _back() -> str:
    target = CATALOG_PAGE if CATALOG_PAGE in _endpoints() else "lti.contexts"
    return url_for(target, _anchor="required-courses")


def _endpoints() -> set[str]:
    from flask import current_app

    return set(current_app.view_functions)


def assignment_form(user: User) -> AssignmentForm:
    form = AssignmentForm()
    contexts = list(db.session.scalars(assignments.visible_contexts(user).order_by(Context.title)))
    form.context.choices = [(c.id, c.display_title) for c in contexts]
    form.course.choices = [
        (course.slug, course.title) for course in catalog.search(user.tenant_id or 0)
    ]
    return form


@bp.post("/assignments")
@roles_required(*STAFF_ROLES)
def add_assignment() -> Any:
    form = assignment_form(current_user)
    today = utcnow().date()
    if form.validate_on_submit():
        try:
            assignment, created = assignments.set_assignment(
                current_user, form.context.data, form.course.data, form.due_on.data, today
            )
        except InvalidInput as error:
            for problem in error.problems:
                field = getattr(form, problem.location or "", None)
                if field is not None:
                    field.errors = [
                        *field.errors,
                        f"{problem.message}. {problem.hint or ''}".strip(),
                    ]
        else:
            db.session.commit()
            title = dict(form.course.choices).get(assignment.course_slug, assignment.course_slug)
            verb = "is now required" if created else "has a new due date"
            flash(
                f"“{title}” {verb} in {assignment.context.display_title}, by "
                f"{assignment.due_on:%d %b %Y}.",
                "success",
            )
            return redirect(_back(), 303)
    return render_template("lti/assignment_form.html", form=form), 400


@bp.get("/assignments/<int:assignment_id>")
@roles_required(*STAFF_ROLES)
def assignment(assignment_id: int) -> str:
    found = assignments.get_assignment(current_user, assignment_id)
    today = utcnow().date()
    rows = assignments.progress(found, today)
    return render_template(
        "lti/assignment.html",
        assignment=found,
        summary=assignments.summary(found, today),
        rows=rows,
        form=RemoveAssignmentForm(),
        transcript=_transcript_url,
    )


@bp.post("/assignments/<int:assignment_id>/delete")
@roles_required(*STAFF_ROLES)
def remove_assignment(assignment_id: int) -> Response:
    if not RemoveAssignmentForm().validate_on_submit():
        return redirect(url_for(".assignment", assignment_id=assignment_id), 303)
    removed = assignments.remove_assignment(current_user, assignment_id)
    db.session.commit()
    course = catalog.get_course(removed.course_slug)
    flash(
        f"“{course.title if course else removed.course_slug}” is no longer required in "
        f"{removed.context.display_title}.",
        "success",
    )
    return redirect(_back(), 303)


def _transcript_url(user_id: int | None) -> str | None:
    if user_id is None or "reports.transcript" not in _endpoints():
        return None
    return url_for("reports.transcript", user_id=user_id)


# -- panels on other packages' pages --------------------------------------------------------


def dashboard_panels(user: Any = None, **_: Any) -> str:
    """On the education dashboard: rosters' learners who never opened Shiftwell, and
    required courses with their overdue learners."""
    if not is_hospital_staff(user):
        return ""
    today = utcnow().date()
    return render_template(
        "lti/panels/dashboard.html",
        rosters=assignments.roster_counts(user),
        required=assignments.summaries(user, today),
        admin=user.has_role(Role.ADMINISTRATOR),
    )


def catalog_panel(user: Any = None, **_: Any) -> str:
    """On the catalog management page: make courses required for an LMS course."""
    if not is_hospital_staff(user):
        return ""
    today = utcnow().date()
    return render_template(
        "lti/panels/required_courses.html",
        form=assignment_form(user),
        required=assignments.summaries(user, today),
        today=today,
    )


def transcript_panel(tenant: Any = None, learner_id: int | None = None, **_: Any) -> str:
    """On a transcript: the courses required of that learner, and where they stand."""
    if tenant is None or learner_id is None:
        return ""
    learner = db.session.get(User, learner_id)
    if learner is None or learner.tenant_id != tenant.id:
        return ""
    required = assignments.required_for(tenant.id, learner, utcnow().date())
    if not required:
        return ""
    return render_template("lti/panels/required_of_learner.html", required=required, home=False)


def home_panel(user: Any = None, **_: Any) -> str:
    """On a learner's home page: what their education department requires, by when."""
    if not isinstance(user, User) or not user.is_authenticated or user.tenant_id is None:
        return ""
    required = [
        r
        for r in assignments.required_for(user.tenant_id, user, utcnow().date())
        if r.state != "passed"
    ]
    if not required:
        return ""
    return render_template("lti/panels/required_of_learner.html", required=required, home=True)


def init_portal(plugin: Any, app: Flask) -> None:
    signals.course_completed.connect(assignments.on_course_completed, sender=app)
    plugin.add_template_hook(app, "staff_dashboard_panels", dashboard_panels, priority=30)
    plugin.add_template_hook(app, "catalog_management_panels", catalog_panel, priority=30)
    plugin.add_template_hook(app, "transcript_extras", transcript_panel, priority=30)
    plugin.add_template_hook(app, "home_panels", home_panel, priority=15)
