"""The LTI endpoints (login, launch, JWKS, dynamic registration), the Deep Linking picker,
the education department's LMS course pages and the operator's registration page.

Views parse, call a service and render; the rules live in ``tool``, ``launches``,
``deep_linking``, ``ags``, ``roster`` and ``registrations``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from lms_core.auth import roles_required
from lms_core.cli import get_tenant
from lms_core.errors import Forbidden, NotFound, ShiftwellError
from lms_core.extensions import csrf, db, limiter
from lms_core.models import Role, Tenant, User
from lms_core.security import cookie_options
from lti import assignments, catalog, keys, registrations, roster
from lti import deep_linking as dl_service
from lti.dynamic_registration import (
    ShiftwellDynamicRegistration,
    register_with_platform,
    tool_configuration,
)
from lti.errors import LaunchRejected
from lti.forms import (
    ActionForm,
    AddDeploymentForm,
    AddPlatformForm,
    ApproveForm,
    CourseSearchForm,
    DeepLinkForm,
    RegisterForm,
    SyncRosterForm,
)
from lti.launches import DEEP_LINK_SESSION_KEY, LaunchResult, complete_launch
from lti.models import Context, Deployment, Launch, Membership, Registration, ResourceLink, Score
from lti.tool import (
    DEEP_LINKING_REQUEST,
    MESSAGE_TYPE,
    DatabaseSessionService,
    ShiftwellMessageLaunch,
    ShiftwellOIDCLogin,
    flask_request,
    purge_expired_launch_data,
)

log = logging.getLogger(__name__)

bp = Blueprint(
    "lti",
    __name__,
    url_prefix="/lti",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: Set on the first login request; its return proves the browser keeps our cookies here.
PROBE_COOKIE = "shiftwell_lti_cookies"
LOGIN_PARAMS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "lti_deployment_id",
    "client_id",
    "lti_storage_target",
)
STAFF = (Role.INSTRUCTOR, Role.ADMINISTRATOR)


def _rejected(error: ShiftwellError) -> None:
    db.session.rollback()  # a refused launch writes nothing
    log.warning(
        "lti: %s refused (%s): %s",
        request.path,
        type(error).__name__,
        getattr(error, "reason", error.detail),
    )


def platform_origin(record: Registration) -> str:
    """LTI postMessage storage: messages go to the origin of the LMS's OIDC endpoint."""
    parts = urlsplit(record.auth_login_url)
    return f"{parts.scheme}://{parts.netloc}"


# -- step 1: OIDC third-party initiated login -------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit("600 per minute")
def login() -> Any:
    """Where the LMS starts a launch. With cookies: plain redirects, no script. Without:
    the LMS's postMessage storage if it offers one, else a new window."""
    params = {k: v for k in LOGIN_PARAMS if (v := request.values.get(k))}
    new_window = request.values.get("new_window") == "1"
    try:
        if request.cookies.get(PROBE_COOKIE) == "1" or new_window:
            oidc = ShiftwellOIDCLogin(flask_request(**params))
            response = oidc.redirect_response()
            purge_expired_launch_data()
            db.session.commit()
            return response
        record_oidc = ShiftwellOIDCLogin(flask_request(**params))
        record_oidc.validate_oidc_login()  # refuse unknown LMSs before any round trip
        record = record_oidc.record
        assert record is not None
        if request.values.get("probed") != "1":
            # One hop back to ourselves tells whether this browser keeps our cookies in
            # the LMS's frame; the LMS's own parameters ride along in the URL.
            response = redirect(url_for(".login", **params, probed="1"), 303)
            response.set_cookie(PROBE_COOKIE, "1", max_age=86400, path="/lti/", **cookie_options())
            return response
        new_window_url = url_for(".login", **params, new_window="1")
        storage_target = params.get("lti_storage_target")
        if storage_target:
            oidc = ShiftwellOIDCLogin(flask_request(**params), storage_target=storage_target)
            auth_url = oidc.auth_request_url()
            db.session.commit()
            return render_template(
                "lti/storage_login.html",
                auth_url=auth_url,
                state=oidc.state,
                nonce=oidc.nonce,
                target=storage_target,
                origin=platform_origin(record),
                new_window_url=new_window_url,
            )
        return render_template("lti/new_window.html", new_window_url=new_window_url, record=record)
    except ShiftwellError as error:
        _rejected(error)
        raise


# -- step 2: the authentication response -----------------------------------------------


@bp.post("/launch")
@csrf.exempt
@limiter.limit("600 per minute")
def launch() -> Any:
    if request.form.get("error"):
        # OIDC Core §3.1.2.6: the LMS could not log the user in (e.g. its session ended).
        error = LaunchRejected(
            f"The learning system answered the login with {request.form['error']!r}: "
            f"{request.form.get('error_description', 'no description')}.",
            hint="Log in to the learning system again, then open the link.",
        )
        _rejected(error)
        raise error
    message = ShiftwellMessageLaunch(flask_request())
    try:
        message.validate()
        assert message.record is not None and message.deployment is not None
        if message.binding == "platform-storage":
            return _await_platform_storage(message)
        result = complete_launch(
            message.claims, message.record, message.deployment, message.get_launch_id()
        )
        db.session.commit()
    except ShiftwellError as error:
        _rejected(error)
        raise
    return _into_shiftwell(result)


def _into_shiftwell(result: LaunchResult) -> Response:
    """Where a completed launch goes, with its notice (e.g. a course hidden here)."""
    if result.notice:
        flash(result.notice, "warning")
    return redirect(result.redirect_to, 303)


def _await_platform_storage(message: ShiftwellMessageLaunch) -> str:
    """Cookies are blocked: the token is verified and its nonce spent, but the launch
    completes only after the page finds this login's state in the LMS's storage, in a
    new window (where our session cookie can live)."""
    assert message.record is not None and message.deployment is not None
    assert message.state_params is not None
    ticket = message.get_launch_id()
    message.session_service.storage.set_value(
        f"pending-{ticket}",
        {"registration_id": message.record.id, "deployment_pk": message.deployment.id},
        300,
    )
    db.session.commit()
    return render_template(
        "lti/storage_launch.html",
        ticket=ticket,
        state=request.form.get("state"),
        nonce=message.state_params.get("nonce"),
        target=message.state_params.get("storage_target"),
        origin=platform_origin(message.record),
    )


@bp.post("/launch/complete")
@csrf.exempt
@limiter.limit("60 per minute")
def launch_complete() -> Any:
    """The new window that finishes a launch verified through the LMS's storage. Only the
    page that passed the storage check knows the one-time ticket."""
    ticket = request.form.get("ticket", "")
    sessions = DatabaseSessionService(flask_request())
    try:
        pending = sessions.storage.pop_value(f"pending-{ticket}") if ticket else None
        claims = sessions.get_launch_data(ticket) if pending else None
        if not isinstance(pending, dict) or not isinstance(claims, dict):
            raise LaunchRejected(
                "This launch has expired or was already opened.",
                hint="Open the link from your learning system again.",
            )
        record = db.session.get(Registration, pending["registration_id"])
        deployment = db.session.get(Deployment, pending["deployment_pk"])
        if record is None or deployment is None or not record.is_active:
            raise LaunchRejected("The learning system's registration has changed since.")
        result = complete_launch(claims, record, deployment, ticket)
        if claims.get(MESSAGE_TYPE) != DEEP_LINKING_REQUEST:
            sessions.pop_launch_data(ticket)  # the picker still needs a Deep Linking one
        db.session.commit()
    except ShiftwellError as error:
        _rejected(error)
        raise
    return _into_shiftwell(result)


# -- keys -------------------------------------------------------------------------------


@bp.get("/jwks")
@limiter.exempt
def jwks() -> Response:
    response = jsonify(keys.jwks())
    response.headers["Cache-Control"] = f"public, max-age={keys.JWKS_MAX_AGE}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# -- Deep Linking ----------------------------------------------------------------------


@bp.route("/deep-linking/<launch_id>", methods=["GET", "POST"])
@roles_required(*STAFF, kind="lti")
def deep_linking(launch_id: str) -> Any:
    if launch_id not in session.get(DEEP_LINK_SESSION_KEY, []):
        raise Forbidden("This course picker belongs to another launch. Open it from the LMS again.")
    message = ShiftwellMessageLaunch.restore(launch_id)
    claims = message.claims
    if claims.get("sub") != current_user.subject or claims.get("iss") != current_user.issuer:
        raise Forbidden("This course picker belongs to someone else.")
    dl = dl_service.request_from(message)
    tenant_id = current_user.tenant_id
    search = CourseSearchForm(request.args)
    form = DeepLinkForm()
    catalog_courses = catalog.search(tenant_id)
    form.courses.choices = [SelectChoice(c.slug, c.title) for c in catalog_courses]

    if form.validate_on_submit():
        if form.cancel.data:
            chosen: list[Any] = []
        else:
            by_slug = {c.slug: c for c in catalog_courses}
            chosen = [by_slug[slug] for slug in form.courses.data or [] if slug in by_slug]
            if not chosen:
                form.courses.errors = ["Choose at least one course, or cancel."]
            elif not dl.accept_multiple and len(chosen) > 1:
                form.courses.errors = ["This place in the LMS takes one course only: choose one."]
        if not form.courses.errors:
            token = dl_service.response_jwt(message, chosen, tenant_id)
            message.session_service.pop_launch_data(launch_id)  # one answer per request
            session[DEEP_LINK_SESSION_KEY] = []
            db.session.commit()
            return render_template("lti/deep_link_return.html", dl=dl, token=token, courses=chosen)

    results = catalog_courses
    if search.validate() and (search.q.data or search.credit.data or search.minutes.data):
        results = catalog.search(
            tenant_id,
            query=search.q.data or None,
            credit_type=search.credit.data or None,
            max_minutes=int(search.minutes.data) if search.minutes.data else None,
        )
    status = 400 if form.errors else 200
    return render_template(
        "lti/deep_linking.html",
        dl=dl,
        form=form,
        search=search,
        results=results,
        catalog_available=catalog.available(),
    ), status


# -- the education department's view of LMS courses (contexts) -------------------------


def _visible_contexts() -> Any:
    """Administrators see every LMS course of their hospital; instructors those they
    launched from as instructors."""
    return assignments.visible_contexts(current_user)


def _context_or_404(context_pk: int) -> Context:
    context = db.session.scalar(_visible_contexts().where(Context.id == context_pk))
    if context is None:
        raise NotFound("No such LMS course, or it is not one of yours.")
    return context


@bp.get("/contexts/")
@roles_required(*STAFF)
def contexts() -> str:
    if current_user.tenant_id is None:
        abort(403)
    rows = list(db.session.scalars(_visible_contexts().order_by(Context.updated_at.desc())))
    members = dict(
        db.session.execute(
            select(Membership.context_pk, func.count())
            .where(Membership.context_pk.in_([c.id for c in rows]))
            .group_by(Membership.context_pk)
        ).all()
    )
    return render_template("lti/contexts.html", contexts=rows, members=members)


@bp.get("/contexts/<int:context_pk>")
@roles_required(*STAFF)
def context(context_pk: int) -> str:
    ctx = _context_or_404(context_pk)
    links = list(
        db.session.scalars(
            ResourceLink.for_tenant(ctx.tenant_id)
            .where(ResourceLink.context_pk == ctx.id)
            .order_by(ResourceLink.title)
        )
    )
    members = list(
        db.session.scalars(
            Membership.for_tenant(ctx.tenant_id)
            .where(Membership.context_pk == ctx.id)
            .order_by(Membership.family_name, Membership.name, Membership.subject)
        )
    )
    launched = set(
        db.session.scalars(
            select(Launch.user_id).where(
                Launch.tenant_id == ctx.tenant_id, Launch.context_pk == ctx.id
            )
        )
    )
    scores = list(
        db.session.scalars(
            Score.for_tenant(ctx.tenant_id)
            .where(Score.resource_link_pk.in_([link.id for link in links]))
            .order_by(Score.timestamp.desc())
            .limit(200)
        )
    )
    names = {
        u.id: u.display_name
        for u in db.session.scalars(select(User).where(User.id.in_([s.user_id for s in scores])))
    }
    courses = {
        link.course_slug: catalog.get_course(link.course_slug) for link in links if link.course_slug
    }
    return render_template(
        "lti/context.html",
        context=ctx,
        links=links,
        members=members,
        launched=launched,
        scores=scores,
        names=names,
        courses=courses,
        form=SyncRosterForm(),
    )


@bp.post("/contexts/<int:context_pk>/roster")
@roles_required(*STAFF)
def sync_roster(context_pk: int) -> Response:
    ctx = _context_or_404(context_pk)
    form = SyncRosterForm()
    if not form.validate_on_submit():
        abort(400)
    roster.request_sync(ctx)
    db.session.commit()
    flash(
        "The roster is being read from the LMS; refresh this page in a moment if it is not "
        "complete yet.",
        "success",
    )
    return redirect(url_for(".context", context_pk=ctx.id), 303)


# -- LTI Dynamic Registration -----------------------------------------------------------


def _register_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="lti-dynamic-registration")


@bp.route("/register", methods=["GET", "POST"])
@csrf.exempt  # the form carries its own signed token: see RegisterForm
@limiter.limit("30 per hour", methods=["POST"])
def register() -> Any:
    if request.method == "POST":
        return _register_post()
    openid_configuration = request.args.get("openid_configuration", "").strip()
    registration_token = request.args.get("registration_token", "")
    tenant_slug = request.args.get("tenant", "").strip()
    if not openid_configuration:
        return render_template("lti/register_help.html", config=tool_configuration())
    tenant = get_tenant(tenant_slug) if tenant_slug else None
    try:
        platform = ShiftwellDynamicRegistration(
            openid_configuration, registration_token
        ).get_openid_configuration()
    except ShiftwellError as error:
        _rejected(error)
        raise
    form = RegisterForm(
        formdata=None,
        openid_configuration=openid_configuration,
        registration_token=registration_token,
        tenant=tenant_slug,
        signature=_register_signer().dumps([openid_configuration, registration_token, tenant_slug]),
    )
    return render_template(
        "lti/register.html",
        form=form,
        platform=platform,
        tenant=tenant,
        config=tool_configuration(),
    )


def _register_post() -> Any:
    form = RegisterForm()
    if not form.validate():
        abort(400)
    try:
        signed = _register_signer().loads(form.signature.data, max_age=3600)
    except BadSignature:
        raise LaunchRejected(
            "The registration form has expired or was changed.",
            hint="Start the registration from the LMS again.",
        ) from None
    if signed != [
        form.openid_configuration.data,
        form.registration_token.data or "",
        form.tenant.data or "",
    ]:
        raise LaunchRejected("The registration form was changed.")
    tenant: Tenant | None = get_tenant(form.tenant.data) if form.tenant.data else None
    try:
        record = register_with_platform(
            form.openid_configuration.data, form.registration_token.data or None, tenant
        )
        db.session.commit()
    except ShiftwellError as error:
        _rejected(error)
        raise
    return render_template("lti/register_done.html", record=record)


# -- the operator's page ---------------------------------------------------------------


def _tenant_choices() -> list[tuple[str, str]]:
    return [
        (t.slug, f"{t.name} ({t.slug})")
        for t in db.session.scalars(select(Tenant).order_by(Tenant.name))
    ]


@bp.route("/admin/", methods=["GET", "POST"])
@roles_required(Role.OPERATOR, kind="local")
def admin() -> Any:
    add_form = AddPlatformForm(prefix="add")
    add_form.tenant.choices = _tenant_choices()
    if add_form.submit.data and add_form.validate_on_submit():
        tenant = get_tenant(add_form.tenant.data)
        details = registrations.PlatformDetails(
            issuer=add_form.issuer.data,
            client_id=add_form.client_id.data,
            auth_login_url=add_form.auth_login_url.data,
            auth_token_url=add_form.auth_token_url.data,
            keyset_url=add_form.keyset_url.data,
            name=add_form.name.data,
            auth_audience=add_form.auth_audience.data,
        )
        try:
            record, _ = registrations.add_platform(
                tenant, details, add_form.deployment_id.data, source="operator"
            )
            db.session.commit()
        except ShiftwellError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(f"{record.name} is registered for {tenant.name}.", "success")
            return redirect(url_for(".admin"), 303)
    approve_form = ApproveForm(prefix="approve")
    approve_form.tenant.choices = _tenant_choices()
    return render_template(
        "lti/admin.html",
        registrations=registrations.all_registrations(),
        add_form=add_form,
        approve_form=approve_form,
        deployment_form=AddDeploymentForm(prefix="deployment"),
        action_form=ActionForm(),
        config=tool_configuration(),
        keys=keys.all_keys(),
    ), (400 if add_form.errors else 200)


@bp.post("/admin/registrations/<int:registration_id>/<action>")
@roles_required(Role.OPERATOR, kind="local")
def admin_action(registration_id: int, action: str) -> Response:
    record = registrations.get(registration_id)
    try:
        if action == "approve":
            form = ApproveForm(prefix="approve")
            form.tenant.choices = _tenant_choices()
            if not form.validate_on_submit():
                abort(400)
            registrations.approve(record, get_tenant(form.tenant.data))
            message = f"{record.name} is approved."
        elif action == "deployments":
            form = AddDeploymentForm(prefix="deployment")
            if not form.validate_on_submit():
                abort(400)
            registrations.add_deployment(record, form.deployment_id.data, None)
            message = f"Deployment {form.deployment_id.data} added to {record.name}."
        elif action in ("enable", "disable"):
            if not ActionForm().validate_on_submit():
                abort(400)
            registrations.set_enabled(record, action == "enable")
            message = f"{record.name} is {action}d."
        else:
            abort(404)
        db.session.commit()
        flash(message, "success")
    except ShiftwellError as error:
        db.session.rollback()
        flash(str(error), "error")
    return redirect(url_for(".admin"), 303)
