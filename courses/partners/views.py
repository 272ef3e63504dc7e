"""The partner portal's pages (``/partner/``): thin views over the partner services.

Every author page resolves the partner from the URL through the author's memberships
(:func:`services.partner_for`): another partner's slug, course or version is "not
found", and a learner, hospital staff or an LTI session is refused (403) before any
view runs, so a denied request writes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from courses import markdown
from courses import services as course_services
from courses.models import Course, CourseVersion, Partner
from courses.package import PackageInvalid
from courses.partners import preview, services, stats, uploads
from courses.partners.forms import AcceptInvitationForm, ActionForm, InviteForm, UploadForm
from courses.steps import StepView
from courses.views import partner_file
from lms_core import auth
from lms_core.errors import ShiftwellError
from lms_core.extensions import csrf, db, limiter
from lms_core.models import Role

bp = Blueprint("partners", __name__, url_prefix="/partner", template_folder="templates")

author_required = auth.roles_required(Role.PARTNER_AUTHOR, kind="local")
operator_required = auth.roles_required(Role.OPERATOR, kind="local")


def _partner(partner_slug: str) -> Partner:
    return services.partner_for(current_user, partner_slug)


def _course(partner_slug: str, slug: str) -> tuple[Partner, Course]:
    partner = _partner(partner_slug)
    return partner, services.partner_course(partner, slug)


def _version(partner_slug: str, slug: str, version: str) -> tuple[Partner, CourseVersion]:
    partner, course = _course(partner_slug, slug)
    return partner, services.course_version(course, version)


# -- the author's courses ---------------------------------------------------------------


@bp.get("/")
@author_required
def home() -> Any:
    partners = services.memberships(current_user)
    if len(partners) == 1:
        return redirect(url_for("partners.partner", partner_slug=partners[0].slug))
    return render_template("partners/home.html", partners=partners)


@bp.get("/<partner_slug>/")
@author_required
def partner(partner_slug: str) -> str:
    found = _partner(partner_slug)
    summaries = services.partner_courses(found)
    learners = stats.learners_per_course([s.course for s in summaries])
    return render_template(
        "partners/partner.html", partner=found, summaries=summaries, learners=learners
    )


@bp.route("/<partner_slug>/upload", methods=["GET", "POST"])
@csrf.exempt  # checked by the form itself, after the size limits below are in force
@author_required
def upload(partner_slug: str) -> Any:
    found = _partner(partner_slug)
    limits = course_services.limits()
    # Before anything reads the body: a request over the package limits is refused on its
    # Content-Length (413), or cut off while streaming, never read whole.
    request.max_content_length, request.max_form_parts = uploads.request_limits(limits)
    try:
        form = UploadForm()
        submitted = form.validate_on_submit()
    except RequestEntityTooLarge:
        form = UploadForm(formdata=None)
        message = (
            f"The upload is larger than the {limits.max_total_bytes // (1024 * 1024)} MB a "
            "package may hold. Compress the media or host long videos elsewhere."
        )
        return _upload_page(found, form, problems=[("package", message)]), 413
    if request.method == "POST" and not submitted:
        return _upload_page(found, form), 400
    if not submitted:
        return _upload_page(found, form)
    try:
        outcome = uploads.upload_package(found, form.package.data, form.folder.data or [])
        db.session.commit()
    except PackageInvalid as invalid:
        db.session.rollback()
        return _upload_page(found, form, report=invalid), 400
    except ShiftwellError as refused:
        db.session.rollback()
        return _upload_page(found, form, report=refused), refused.status
    result = outcome.result
    if not result.created:
        state = "published" if result.published else "a draft"
        flash(
            f"{result.slug} {result.version} was uploaded before with this content; it is {state}."
        )
    elif outcome.replaced_draft:
        flash(f"The draft of {result.slug} {result.version} is replaced. Preview it, then publish.")
    else:
        flash(
            f"{result.slug} {result.version} passed every check and is saved as a draft: "
            "learners do not see it until you publish it."
        )
    return redirect(
        url_for(
            "partners.version", partner_slug=found.slug, slug=result.slug, version=result.version
        )
    )


def _upload_page(
    partner: Partner,
    form: UploadForm,
    report: ShiftwellError | None = None,
    problems: list[tuple[str, str]] | None = None,
) -> str:
    return render_template(
        "partners/upload.html",
        partner=partner,
        form=form,
        report=report,
        problems=problems or [],
        limits=course_services.limits(),
    )


@bp.get("/<partner_slug>/courses/<slug>/")
@author_required
def course(partner_slug: str, slug: str) -> str:
    found, course = _course(partner_slug, slug)
    versions = services.versions_of(course)
    live = course_services.latest_version(course)
    return render_template(
        "partners/course.html",
        partner=found,
        course=course,
        versions=versions,
        live=live,
        title=versions[0].title if versions else course.slug,
    )


@bp.get("/<partner_slug>/courses/<slug>/versions/<version>/")
@author_required
def version(partner_slug: str, slug: str, version: str) -> str:
    found, found_version = _version(partner_slug, slug, version)
    live = course_services.latest_version(found_version.course)
    can_publish = not found_version.is_published and (
        live is None or found_version.sequence > live.sequence
    )
    return render_template(
        "partners/version.html",
        partner=found,
        v=found_version,
        live=live,
        can_publish=can_publish,
        form=ActionForm(),
        credit_labels=course_services.CREDIT_LABELS,
    )


@bp.post("/<partner_slug>/courses/<slug>/versions/<version>/publish")
@author_required
def publish(partner_slug: str, slug: str, version: str) -> Response:
    found, found_version = _version(partner_slug, slug, version)
    course_services.publish_version(found_version)
    db.session.commit()
    flash(
        f"{slug} {version} is published: it is the version every hospital's catalog offers. "
        "Learners in progress finish the version they started."
    )
    return redirect(
        url_for("partners.version", partner_slug=found.slug, slug=slug, version=version)
    )


@bp.post("/<partner_slug>/courses/<slug>/versions/<version>/discard")
@author_required
def discard(partner_slug: str, slug: str, version: str) -> Response:
    found, found_version = _version(partner_slug, slug, version)
    course_services.discard_draft(found_version)
    db.session.commit()
    flash(f"The draft {slug} {version} is deleted.")
    remaining = services.partner_courses(found)
    if any(s.course.slug == slug for s in remaining):
        return redirect(url_for("partners.course", partner_slug=found.slug, slug=slug))
    return redirect(url_for("partners.partner", partner_slug=found.slug))


# -- preview ----------------------------------------------------------------------------


@bp.get("/<partner_slug>/courses/<slug>/versions/<version>/preview/")
@author_required
def preview_start(partner_slug: str, slug: str, version: str) -> Response:
    found, found_version = _version(partner_slug, slug, version)
    state = preview.state_for(current_user, found_version)
    db.session.commit()
    return redirect(_preview_url(found, found_version, state.current_position))


def _preview_url(partner: Partner, version: CourseVersion, position: int, **kw: Any) -> str:
    return url_for(
        "partners.preview_step",
        partner_slug=partner.slug,
        slug=version.course.slug,
        version=version.version,
        position=position,
        **kw,
    )


@bp.route(
    "/<partner_slug>/courses/<slug>/versions/<version>/preview/steps/<int:position>",
    methods=["GET", "POST"],
)
@author_required
def preview_step(partner_slug: str, slug: str, version: str, position: int) -> Any:
    found, found_version = _version(partner_slug, slug, version)
    state = preview.state_for(current_user, found_version)
    try:
        if request.method == "POST":
            form = request.form.to_dict(flat=False)
            outcome = preview.save_step(state, position, form, request.form.get("action", "save"))
            db.session.commit()
            if outcome.completed and not outcome.stay:
                return redirect(_result_url(found, found_version))
            anchor = "feedback" if outcome.stay else None
            return redirect(_preview_url(found, found_version, outcome.position, _anchor=anchor))
        screen = preview.open_step(state, position)
        db.session.commit()
    except preview.StepLocked as locked:
        db.session.rollback()
        return redirect(_preview_url(found, found_version, locked.furthest))
    except preview.AnswerInvalid as invalid:
        db.session.commit()
        return _render_preview(
            found, invalid.screen, {invalid.field: invalid.detail}, request.form.to_dict(flat=False)
        ), 400
    return _render_preview(found, screen, {}, {})


def _render_preview(
    partner: Partner, screen: preview.PreviewScreen, errors: dict[str, str], form: dict[str, Any]
) -> str:
    version = screen.state.version
    prefix = url_for(
        "partners.preview_asset",
        partner_slug=partner.slug,
        slug=version.course.slug,
        version=version.version,
        path="",
    )
    if screen.next is not None:
        next_url = _preview_url(partner, version, screen.next)
    elif screen.completed and preview.complete(screen.state):
        next_url = _result_url(partner, version)
    else:
        next_url = None
    view = StepView(
        step=screen.step,
        config=screen.step.config,
        response=screen.response,
        completed=screen.completed,
        errors=errors,
        form=form,
        md=lambda text: markdown.render_cached(text, prefix),
        md_inline=lambda text: markdown.render_cached(text, prefix, True),
        asset_url=lambda path: prefix + path,
        action_url=request.path,
        next_url=next_url,
        answerable=screen.answerable,
        review=screen.review,
        language=version.language,
    )
    return render_template(
        "partners/preview_step.html",
        partner=partner,
        screen=screen,
        version=version,
        view=view,
        body=screen.step_type.render(view),
        errors=errors,
        form=ActionForm(),
    )


def _result_url(partner: Partner, version: CourseVersion) -> str:
    return url_for(
        "partners.preview_result",
        partner_slug=partner.slug,
        slug=version.course.slug,
        version=version.version,
    )


@bp.get("/<partner_slug>/courses/<slug>/versions/<version>/preview/result")
@author_required
def preview_result(partner_slug: str, slug: str, version: str) -> Any:
    found, found_version = _version(partner_slug, slug, version)
    state = preview.state_for(current_user, found_version)
    db.session.commit()
    if not preview.complete(state):
        return redirect(_preview_url(found, found_version, preview.progress(state).furthest))
    return render_template(
        "partners/preview_result.html",
        partner=found,
        version=found_version,
        result=preview.result(state),
        form=ActionForm(),
        credit_labels=course_services.CREDIT_LABELS,
    )


@bp.post("/<partner_slug>/courses/<slug>/versions/<version>/preview/restart")
@author_required
def preview_restart(partner_slug: str, slug: str, version: str) -> Response:
    found, found_version = _version(partner_slug, slug, version)
    preview.restart(current_user, found_version)
    db.session.commit()
    return redirect(_preview_url(found, found_version, 1))


@bp.get("/<partner_slug>/courses/<slug>/versions/<version>/assets/<path:path>")
@author_required
def preview_asset(partner_slug: str, slug: str, version: str, path: str) -> Response:
    _, found_version = _version(partner_slug, slug, version)
    asset = services.version_asset(found_version, path)
    return partner_file(asset.data, asset.media_type, "private, max-age=3600", asset.sha256)


# -- statistics -------------------------------------------------------------------------


@bp.get("/<partner_slug>/courses/<slug>/statistics")
@author_required
def statistics(partner_slug: str, slug: str) -> str:
    found, course = _course(partner_slug, slug)
    usage = stats.course_usage(course)
    chosen = None
    wanted = request.args.get("version")
    published = usage.versions
    if wanted:
        chosen = next((v for v in published if v.version == wanted), None)
    chosen = chosen or (published[0] if published else None)
    questions = stats.question_difficulty(chosen) if chosen else []
    return render_template(
        "partners/statistics.html",
        partner=found,
        course=course,
        usage=usage,
        statuses=stats.STATUSES,
        chosen=chosen,
        questions=questions,
        title=(published[0].title if published else course.slug),
        k=stats.K,
    )


# -- invitations ------------------------------------------------------------------------


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def invitation(token: str) -> Any:
    try:
        found = services.find_invitation(token)
    except services.InvitationUnusable as unusable:
        return render_template("partners/invitation_unusable.html", reason=unusable.reason), 410
    account = services.existing_account(found.email)
    if account is not None:
        signed_in = (
            current_user.is_authenticated
            and current_user.id == account.id
            and session.get("kind") == "local"
        )
        return render_template(
            "partners/invitation_join.html",
            invitation=found,
            signed_in=signed_in,
            form=ActionForm(),
            token=token,
        )
    form = AcceptInvitationForm()
    failure: list[tuple[str, str]] = []
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(
                found, name=form.name.data or "", password=form.password.data or ""
            )
        except ShiftwellError as refused:
            db.session.rollback()
            field = refused.problems[0].location if refused.problems else "password"
            getattr(form, field or "password").errors = [refused.detail]
            failure = []
        else:
            auth.start_session(user, kind="local")
            db.session.commit()
            flash(f"Welcome, {user.display_name}. You are an author for {found.partner.name}.")
            return redirect(url_for("partners.partner", partner_slug=found.partner.slug))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "partners/invitation.html", invitation=found, form=form, failure=failure
    ), status


@bp.post("/invitations/<token>/join")
@auth.roles_required(kind="local")
def join(token: str) -> Response:
    try:
        found = services.find_invitation(token)
    except services.InvitationUnusable as unusable:
        flash(unusable.reason)
        return redirect(url_for("core.home"))
    services.join_with_account(found, current_user)
    db.session.commit()
    flash(f"You are now an author for {found.partner.name}.")
    return redirect(url_for("partners.partner", partner_slug=found.partner.slug))


# -- operators --------------------------------------------------------------------------


@bp.route("/manage", methods=["GET", "POST"])
@operator_required
def manage() -> Any:
    overviews = services.partner_overviews()
    form = InviteForm()
    form.partner.choices = [("", "Choose…")] + [(o.partner.slug, o.partner.name) for o in overviews]
    issued = None
    if form.validate_on_submit():
        try:
            issued = services.invite(
                services.get_partner(form.partner.data),
                form.email.data or "",
                hours=form.hours.data or services.DEFAULT_INVITATION_HOURS,
                invited_by=current_user,
            )
        except ShiftwellError as refused:
            db.session.rollback()
            form.email.errors = [refused.detail]
        else:
            db.session.commit()
            overviews = services.partner_overviews()
    status = 400 if request.method == "POST" and issued is None else 200
    return render_template(
        "partners/manage.html",
        overviews=overviews,
        form=form,
        issued=issued,
        invitation_url=issued.url(current_app.config["BASE_URL"]) if issued else None,
        revoke_form=ActionForm(),
    ), status


@bp.post("/manage/invitations/<int:invitation_id>/revoke")
@operator_required
def revoke(invitation_id: int) -> Response:
    invitation = services.revoke_invitation(invitation_id)
    db.session.commit()
    flash(f"The invitation for {invitation.email} is withdrawn; its link no longer works.")
    return redirect(url_for("partners.manage"))
