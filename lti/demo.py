"""The demo LMS of ``make demo``: a real LTI 1.3 platform, with its own keys, built on the
independent ``lti1p3platform`` library and served at ``/demo-lms/`` (demo mode only).

It plays a hospital's learning system: a course shell with Shiftwell links, a clinician
and an education-department instructor to launch as, Deep Linking to add courses, a
gradebook that receives scores over AGS and a roster served over NRPS. The tool talks to
it exactly as to Canvas or Moodle: OIDC login, signed id_tokens, HTTP for keys, tokens,
scores and rosters.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from cryptography.hazmat.primitives import serialization
from flask import Blueprint, Flask, Response, abort, current_app, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from lti1p3platform.exceptions import LtiDeepLinkingResponseException
from lti1p3platform.exceptions import LtiException as PlatformLtiException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context as NrpsContext
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration as PlatformRegistration
from lti1p3platform.request import Request as PlatformRequest
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, NamesRoleProvisioningService
from sqlalchemy import select

from lms_core import signals
from lms_core.cli import DEMO_TENANT
from lms_core.db import utcnow
from lms_core.extensions import csrf, db
from lms_core.models import Tenant
from lti import keys
from lti.models import (
    DemoLink,
    DemoPlatform,
    DemoScore,
    Deployment,
    Registration,
    RegistrationStatus,
)
from lti.tool import find_registration

log = logging.getLogger(__name__)

CLIENT_ID = "shiftwell-demo-lms"
DEPLOYMENT_ID = "riverside-deployment-1"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
COURSE = {
    "id": "riverside-wellbeing-2026",
    "label": "WELL-2026",
    "title": "Clinical staff wellbeing 2026",
}
PEOPLE = {
    "alex": {
        "sub": "riverside-user-1001",
        "name": "Alex Rivera, RN",
        "given_name": "Alex",
        "family_name": "Rivera",
        "email": "alex.rivera@riverside.example",
        "roles": [LIS + "membership#Learner"],
        "what": "clinician (ward nurse)",
    },
    "sam": {
        "sub": "riverside-user-2001",
        "name": "Sam Okafor",
        "given_name": "Sam",
        "family_name": "Okafor",
        "email": "sam.okafor@riverside.example",
        # The hospital's education department: instructor of the course shell and an
        # administrator of the LMS, so the reports show every unit of the demo hospital.
        "roles": [
            LIS + "membership#Instructor",
            LIS + "institution/person#Staff",
            LIS + "institution/person#Administrator",
        ],
        "what": "education department (instructor, administrator)",
    },
    "jordan": {
        "sub": "riverside-user-1002",
        "name": "Jordan Lee, RN",
        "roles": [LIS + "membership#Learner"],
        "what": "clinician",
    },
    "priya": {
        "sub": "riverside-user-1003",
        "name": "Dr Priya Shah",
        "roles": [LIS + "membership#Learner"],
        "what": "clinician (physician)",
    },
}
LAUNCHERS = ("alex", "sam")

bp = Blueprint("demo_lms", __name__, url_prefix="/demo-lms", template_folder="templates")
csrf.exempt(bp)  # a separate system: its endpoints are called by the tool, not our forms


def base() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def issuer() -> str:
    return base() + "/demo-lms"


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="demo-lms-hints")


# -- the platform's registration and keys ----------------------------------------------


def platform_key() -> str:
    row = db.session.scalar(select(DemoPlatform).order_by(DemoPlatform.id))
    if row is None:
        row = DemoPlatform(private_key_pem=keys.new_private_key_pem())
        db.session.add(row)
        db.session.flush()
    return row.private_key_pem


def ensure_registration() -> Registration | None:
    """The demo LMS registered for the demo hospital, with this run's URLs (the demo may
    be served on another host or port than it was loaded for). The caller commits."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == DEMO_TENANT))
    if tenant is None:
        return None
    platform_key()
    urls = {
        "auth_login_url": issuer() + "/auth",
        "auth_token_url": issuer() + "/token",
        "keyset_url": issuer() + "/jwks",
    }
    record = find_registration(issuer(), CLIENT_ID)
    if record is None:
        record = Registration(
            tenant_id=tenant.id,
            name="Riverside General LMS (demo)",
            issuer=issuer(),
            client_id=CLIENT_ID,
            status=RegistrationStatus.ACTIVE,
            source="demo",
            platform_config={},
            approved_at=utcnow(),
            **urls,
        )
        db.session.add(record)
        db.session.flush()
    for name, value in urls.items():
        setattr(record, name, value)
    if not any(d.deployment_id == DEPLOYMENT_ID for d in record.deployments):
        record.deployments.append(Deployment(deployment_id=DEPLOYMENT_ID, tenant_id=tenant.id))
    return record


def on_demo_loading(sender: Flask, event: signals.DemoEvent) -> None:
    """``shiftwell demo load``: register the demo LMS for the demo hospital."""
    if ensure_registration() is None:
        return
    keys.ensure_keys()
    base_url = event.base_url.rstrip("/")
    event.messages.append(
        f"LTI: the demo LMS is at {base_url}/demo-lms/ : launch Shiftwell as Alex (a clinician) "
        "or as Sam (education department): add courses with Deep Linking, take one as Alex, "
        "and watch the grade arrive in the demo LMS's gradebook."
    )


class _Request(PlatformRequest):
    def build_metadata(self, flask_request: Any) -> Any:
        body = flask_request.get_data(as_text=True)
        data: dict[str, Any] = dict(flask_request.args.items())
        for number in ("page", "limit"):
            if number in data and str(data[number]).isdigit():
                data[number] = int(data[number])
        return {
            "method": flask_request.method,
            "form_data": flask_request.form.to_dict(),
            "get_data": data,
            "headers": flask_request.headers,
            "content_type": flask_request.content_type,
            "path": flask_request.path,
            "json": json.loads(body)
            if body and "json" in (flask_request.content_type or "")
            else None,
        }


class _PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        pass

    def get_registration_by_params(self, **kwargs: Any) -> PlatformRegistration:
        private = platform_key()
        public_pem = (
            serialization.load_pem_private_key(private.encode(), password=None)
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        return (
            PlatformRegistration()
            .set_iss(issuer())
            .set_client_id(CLIENT_ID)
            .set_deployment_id(DEPLOYMENT_ID)
            .set_oidc_login_url(base() + "/lti/login")
            .set_launch_url(base() + "/lti/launch")
            .set_deeplink_launch_url(base() + "/lti/launch")
            .set_platform_public_key(public_pem)
            .set_platform_private_key(private)
            # The tool's public keys, as its /lti/jwks publishes them.
            .set_tool_key_set(keys.jwks())
        )


def _conf() -> _PlatformConf:
    conf = _PlatformConf()
    conf.get_registration()
    return conf


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> str:
        return render_template("lti/demo/launch_form.html", **launch_data)


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


# -- pages -----------------------------------------------------------------------------


@bp.get("/")
def home() -> str:
    ensure_registration()
    db.session.commit()
    links = list(db.session.scalars(select(DemoLink).order_by(DemoLink.id)))
    scores = {(s.link_id, s.user_sub): s.score for s in db.session.scalars(select(DemoScore))}
    learners = [p for p in PEOPLE.values() if p["roles"][0].endswith("#Learner")]
    return render_template(
        "lti/demo/home.html",
        course=COURSE,
        people=PEOPLE,
        links=links,
        scores=scores,
        learners=learners,
    )


@bp.get("/launch/<person>/<target>")
def launch_page(person: str, target: str) -> str:
    """The course shell's page with the tool in an iframe, as LMSs show it."""
    if person not in LAUNCHERS:
        abort(404)
    if target.startswith("link-"):
        link = db.session.get(DemoLink, int(target[5:]) if target[5:].isdigit() else 0)
        if link is None:
            abort(404)
        title = link.title
    elif target in ("catalog", "deep-link"):
        title = "Add Shiftwell courses" if target == "deep-link" else "Shiftwell"
    else:
        abort(404)
    login = _Login(None, _conf())
    login.set_lti_message_hint(hint=_signer().dumps({"target": target}))
    if target == "deep-link":
        login.set_deeplinking_launch_url()
    url = login.initiate_login(_signer().dumps({"person": person}))
    return render_template(
        "lti/demo/launch.html", src=url, title=title, person=PEOPLE[person], course=COURSE
    )


@bp.get("/auth")
def authorize() -> Any:
    """The LMS's OIDC authorization endpoint: who is logged in here, launching what."""
    try:
        person = PEOPLE[_signer().loads(request.args.get("login_hint", ""))["person"]]
        target = _signer().loads(request.args.get("lti_message_hint", ""))["target"]
    except (BadSignature, KeyError, TypeError):
        abort(400)
    launch = _Launch(_Request(request), _conf())
    launch.set_user_data(person["sub"], person["roles"], person["name"], person.get("email"))
    if person.get("given_name"):
        launch.set_extra_claims(
            {"given_name": person["given_name"], "family_name": person["family_name"]}
        )
    launch.set_launch_context_claim(
        COURSE["id"],
        context_types=[LIS + "course#CourseOffering"],
        context_title=COURSE["title"],
        context_label=COURSE["label"],
    )
    launch.set_launch_presentation_claim("iframe", return_url=url_for(".home", _external=True))
    launch.set_nrps(issuer() + "/memberships")
    if target == "deep-link":
        # lti1p3platform needs set_dl before lti_launch for Deep Linking.
        launch.set_dl(
            issuer() + "/deep-link-return",
            title="Add Shiftwell courses",
            accept_types={"ltiResourceLink"},
        )
        launch.set_ags(issuer() + "/lineitems")
    elif target.startswith("link-"):
        link = db.session.get(DemoLink, int(target[5:]))
        if link is None:
            abort(404)
        launch.set_resource_link_claim(f"demo-link-{link.id}", title=link.title)
        if link.custom:
            launch.set_custom_parameters_claim(link.custom)
        launch.set_ags(
            issuer() + "/lineitems",
            lineitem_url=f"{issuer()}/lineitems/{link.id}" if link.line_item else None,
        )
    else:
        launch.set_resource_link_claim("demo-link-catalog", title="Shiftwell")
        launch.set_ags(issuer() + "/lineitems")
    try:
        return launch.lti_launch()
    except Exception as exc:  # noqa: BLE001 - the library's own refusal types vary
        log.warning("demo LMS: refused an auth request: %s", exc)
        abort(400)


@bp.get("/jwks")
def jwks() -> Response:
    conf = _conf()
    response = current_app.response_class(json.dumps(conf.get_jwks()), mimetype="application/json")
    response.headers["Cache-Control"] = "max-age=300"
    return response


@bp.post("/token")
def token() -> Any:
    try:
        return _conf().get_access_token(request.form.to_dict())
    except (PlatformLtiException, ValueError, KeyError) as exc:
        return {"error": "invalid_client", "error_description": str(exc)}, 400
    except Exception as exc:  # noqa: BLE001 - lti1p3platform raises its own assorted types
        return {"error": "invalid_request", "error_description": type(exc).__name__}, 400


@bp.post("/deep-link-return")
def deep_link_return() -> str:
    try:
        items = _conf().validate_deeplinking_resp(request.form.to_dict())
    except (LtiDeepLinkingResponseException, PlatformLtiException, KeyError) as exc:
        log.warning("demo LMS: refused a Deep Linking response: %s", exc)
        abort(400)
    for item in items:
        db.session.add(
            DemoLink(
                title=str(item.get("title") or "Shiftwell course")[:255],
                custom=item.get("custom") or {},
                line_item=item.get("lineItem"),
            )
        )
    db.session.commit()
    return render_template("lti/demo/added.html", items=items)


class _Gradebook(AssignmentsGradesService):
    def __init__(self) -> None:
        super().__init__(_Request(request), _conf(), issuer() + "/lineitems")

    def _item(self, link: DemoLink) -> dict[str, Any]:
        return {
            **(link.line_item or {}),
            "id": f"{issuer()}/lineitems/{link.id}",
            "resourceLinkId": f"demo-link-{link.id}",
        }

    def find_lineitems(self, page: int = 1, limit: Any = None, **filters: Any) -> Any:
        items = [
            self._item(link)
            for link in db.session.scalars(select(DemoLink).order_by(DemoLink.id))
            if link.line_item
        ]
        wanted = filters.get("resource_link_id")
        if wanted:
            items = [i for i in items if i["resourceLinkId"] == wanted]
        return {"content": items, "has_next": False, "next": None}

    def find_lineitem(self, line_item_id: str) -> Any:
        from lti1p3platform.exceptions import LineItemNotFoundException

        link = db.session.get(DemoLink, int(line_item_id)) if line_item_id.isdigit() else None
        if link is None or not link.line_item:
            raise LineItemNotFoundException()
        return self._item(link)

    def create_lineitem(self, creation_data: Any) -> Any:
        wanted = str(creation_data.get("resourceLinkId", ""))
        link_id = wanted.removeprefix("demo-link-")
        link = db.session.get(DemoLink, int(link_id)) if link_id.isdigit() else None
        if link is None:
            link = DemoLink(title=str(creation_data.get("label") or "Shiftwell"), custom={})
            db.session.add(link)
        link.line_item = {k: v for k, v in creation_data.items() if k != "id"}
        db.session.commit()
        return self._item(link)

    def update_lineitem(self, update_data: Any) -> Any:
        return self.find_lineitem(str(update_data["id"]).rsplit("/", 1)[-1])

    def delete_lineitem(self, line_item_id: str) -> None:
        return None

    def update_score(self, line_item_id: str, score: Any) -> UpdateScoreStatus:
        link = db.session.get(DemoLink, int(line_item_id)) if line_item_id.isdigit() else None
        if link is None:
            from lti1p3platform.exceptions import LineItemNotFoundException

            raise LineItemNotFoundException()
        user = str(score.get("userId"))
        row = db.session.scalar(
            select(DemoScore).where(DemoScore.link_id == link.id, DemoScore.user_sub == user)
        )
        if row is not None and str(row.score.get("timestamp", "")) >= str(score.get("timestamp")):
            return UpdateScoreStatus.OLD_TIMESTAMP  # LTI-AGS §3.4.6: older updates are ignored
        if row is None:
            row = DemoScore(link_id=link.id, user_sub=user, score={})
            db.session.add(row)
        row.score = dict(score)
        row.received_at = utcnow()
        db.session.commit()
        return UpdateScoreStatus.SUCCESS

    def get_results(
        self, line_item_id: str, page: int = 1, limit: Any = None, user_id: Any = None
    ) -> Any:
        rows = db.session.scalars(select(DemoScore).where(DemoScore.link_id == int(line_item_id)))
        results = [
            {
                "userId": r.user_sub,
                "resultScore": r.score.get("scoreGiven"),
                "resultMaximum": r.score.get("scoreMaximum"),
            }
            for r in rows
        ]
        return {"content": results, "has_next": False, "next": None}


def _json(resp: Any) -> Any:
    if 200 <= resp.code < 300:
        data = resp.result
        if isinstance(data, dict) and "content" in data:
            data = data["content"]
        body = json.dumps(data) if data is not None else ""
        return current_app.response_class(body, resp.code, mimetype=resp.media_type)
    return current_app.response_class(
        json.dumps({"error": resp.message}), resp.code, mimetype="application/json"
    )


@bp.route("/lineitems", methods=["GET", "POST"])
def lineitems() -> Any:
    service = _Gradebook()
    if request.method == "POST":
        return _json(service.handle_resp(service.handle_create_lineitem))
    return _json(service.handle_resp(service.handle_get_lineitems))


@bp.get("/lineitems/<line_item_id>")
def lineitem(line_item_id: str) -> Any:
    service = _Gradebook()
    return _json(service.handle_resp(service.handle_get_lineitem, line_item_id=line_item_id))


@bp.post("/lineitems/<line_item_id>/scores")
def scores(line_item_id: str) -> Any:
    service = _Gradebook()
    return _json(service.handle_resp(service.handle_update_score, line_item_id=line_item_id))


@bp.get("/lineitems/<line_item_id>/results")
def results(line_item_id: str) -> Any:
    service = _Gradebook()
    return _json(service.handle_resp(service.handle_get_results, line_item_id=line_item_id))


class _Roster(NamesRoleProvisioningService):
    def __init__(self) -> None:
        super().__init__(_Request(request), _conf(), issuer() + "/memberships")

    def get_member_data_page(self, page: int = 1, limit: Any = None, **kwargs: Any) -> Any:
        members = [
            {
                "user_id": p["sub"],
                "name": p["name"],
                "given_name": p.get("given_name"),
                "family_name": p.get("family_name"),
                "email": p.get("email"),
                "roles": p["roles"],
                "status": "Active",
            }
            for p in PEOPLE.values()
        ]
        return {"content": members, "has_next": False}

    def get_context_by_id(self) -> NrpsContext:
        return NrpsContext(id=COURSE["id"], label=COURSE["label"], title=COURSE["title"])


@bp.get("/memberships")
def memberships() -> Any:
    service = _Roster()
    return _json(service.handle_resp(service.handle_get_members))


def init_app(app: Flask) -> None:
    """Serve the demo LMS (demo mode only: it signs launches for made-up people)."""
    app.register_blueprint(bp)
