"""The learner's pages: catalog, course page, the player, results; plus package assets.

Thin by design: parse the request, call :mod:`courses.services`, commit once, render or
redirect (POST-redirect-GET, so a reload never answers twice).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from courses import lms_contexts, markdown, services
from courses.steps import StepView
from lms_core import auth
from lms_core.extensions import db
from lms_core.models import Tenant

bp = Blueprint(
    "courses",
    __name__,
    url_prefix="/courses",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def _tenant() -> Tenant:
    return services.require_learner(current_user, auth.current_tenant())


@bp.get("/")
@auth.login_required
def catalog() -> str:
    tenant = _tenant()
    query = request.args.get("q", "").strip()[:100] or None
    credit = request.args.get("credit") or None
    if credit not in services.CREDIT_LABELS:
        credit = None
    minutes = request.args.get("minutes", type=int)
    versions = services.search_catalog(tenant.id, query, credit, minutes)
    return render_template(
        "courses/catalog.html",
        versions=versions,
        statuses=services.learner_statuses(tenant.id, current_user.id),
        query=query or "",
        credit=credit or "",
        minutes=minutes,
        credit_labels=services.CREDIT_LABELS,
        filtered=bool(query or credit or minutes),
    )


@bp.get("/<slug>")
@auth.login_required
def course(slug: str) -> str:
    page = services.course_page(_tenant(), current_user, slug)
    return render_template("courses/course.html", page=page, credit_labels=services.CREDIT_LABELS)


@bp.post("/<slug>/start")
@auth.login_required
def start(slug: str) -> Response:
    tenant = _tenant()
    context_id = lms_contexts.session_context_id(tenant.id)
    try:
        attempt = services.start_attempt(tenant, current_user, slug, auth.session_id(), context_id)
        db.session.commit()
    except IntegrityError:
        # Two taps on Start at once: the other request opened the attempt (one open
        # attempt per learner and course is a unique index); resume that one.
        db.session.rollback()
        attempt = services.start_attempt(tenant, current_user, slug, auth.session_id(), context_id)
        db.session.commit()
    return redirect(_step_url(slug, attempt.registration, attempt.current_position))


def _step_url(slug: str, registration: str, position: int, **kw: Any) -> str:
    return url_for("courses.step", slug=slug, registration=registration, position=position, **kw)


@bp.route("/<slug>/attempts/<registration>/steps/<int:position>", methods=["GET", "POST"])
@auth.login_required
def step(slug: str, registration: str, position: int) -> Any:
    tenant = _tenant()
    attempt = services.get_attempt(tenant, current_user, slug, registration)
    try:
        if request.method == "POST":
            form = request.form.to_dict(flat=False)
            action = request.form.get("action", "save")
            outcome = services.save_step(attempt, position, form, action, auth.session_id())
            db.session.commit()
            if outcome.completed and not outcome.stay:
                return redirect(url_for("courses.result", slug=slug, registration=registration))
            anchor = "feedback" if outcome.stay else None
            return redirect(_step_url(slug, registration, outcome.position, _anchor=anchor))
        screen = services.open_step(attempt, position, auth.session_id())
        db.session.commit()
    except services.StepLocked as locked:
        db.session.rollback()
        return redirect(_step_url(slug, registration, locked.furthest))
    except IntegrityError:
        # A double tap saved the same step twice at once; the first save stands.
        db.session.rollback()
        return redirect(_step_url(slug, registration, position))
    except services.AnswerInvalid as invalid:
        db.session.commit()  # the visit itself (resume point) is kept
        return _render_step(
            invalid.screen, {invalid.field: invalid.detail}, request.form.to_dict(flat=False)
        ), 400
    return _render_step(screen, {}, {})


def _render_step(
    screen: services.StepScreen, errors: dict[str, str], form: dict[str, list[str]]
) -> str:
    version = screen.attempt.version
    prefix = url_for("courses.asset", slug=version.course.slug, version=version.version, path="")
    view = StepView(
        step=screen.step,
        config=screen.step.config,
        response=screen.response.response if screen.response else None,
        completed=bool(screen.response and screen.response.completed),
        errors=errors,
        form=form,
        md=lambda text: markdown.render_cached(text, prefix),
        md_inline=lambda text: markdown.render_cached(text, prefix, True),
        asset_url=lambda path: prefix + path,
        action_url=request.path,
        next_url=_next_url(screen),
        answerable=screen.answerable,
        review=screen.attempt.is_complete,
        language=version.language,
    )
    return render_template(
        "courses/step.html",
        screen=screen,
        version=version,
        view=view,
        body=screen.step_type.render(view),
        errors=errors,
    )


def _next_url(screen: services.StepScreen) -> str | None:
    attempt = screen.attempt
    slug = attempt.version.course.slug
    if screen.next is not None:
        return _step_url(slug, attempt.registration, screen.next)
    done = bool(screen.response and screen.response.completed)
    if done and attempt.is_complete:
        return url_for("courses.result", slug=slug, registration=attempt.registration)
    return None


@bp.post("/<slug>/attempts/<registration>/leave")
@auth.login_required
def leave(slug: str, registration: str) -> Response:
    attempt = services.get_attempt(_tenant(), current_user, slug, registration)
    services.suspend_attempt(attempt, auth.session_id())
    db.session.commit()
    flash("Your progress is saved. Resume any time: you will come back to the same step.")
    return redirect(url_for("courses.course", slug=slug))


@bp.get("/<slug>/attempts/<registration>/result")
@auth.login_required
def result(slug: str, registration: str) -> Any:
    attempt = services.get_attempt(_tenant(), current_user, slug, registration)
    if not attempt.is_complete:
        return redirect(_step_url(slug, registration, attempt.current_position))
    page = services.course_page(_tenant(), current_user, slug)
    return render_template(
        "courses/result.html",
        attempt=attempt,
        page=page,
        version=attempt.version,
        credit_labels=services.CREDIT_LABELS,
        minutes=max(1, round(attempt.active_seconds / 60)),
    )


@bp.get("/<slug>/v/<version>/assets/<path:path>")
@auth.login_required
def asset(slug: str, version: str, path: str) -> Response:
    found = services.get_asset(slug, version, path)
    return partner_file(
        found.data, found.media_type, "private, max-age=31536000, immutable", found.sha256
    )


@bp.get("/partners/<slug>/logo")
def partner_logo(slug: str) -> Response:
    partner = services.get_partner(slug)
    if partner is None or partner.logo is None:
        abort(404)
    return partner_file(
        partner.logo, partner.logo_media_type or "image/png", "public, max-age=86400"
    )


def partner_file(
    data: bytes, media_type: str, cache_control: str, etag: str | None = None
) -> Response:
    """A file from a partner's package, served so that it can never run as a page of ours
    (an SVG or HTML file with script in it): sandboxed, nothing allowed to load."""
    response = Response(data, mimetype=media_type)
    response.headers["Cache-Control"] = cache_control
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if etag is None:
        return response
    response.set_etag(etag)
    return response.make_conditional(request)
