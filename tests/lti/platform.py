"""An independent LTI 1.3 platform for the tests, built on the ``lti1p3platform`` library
(PyPI) and served over real HTTP from a thread: its OIDC authorization endpoint, access
token endpoint, JWKS, AGS line items and scores, and NRPS memberships.

Nothing here imports the tool's code: the tool under test talks to this platform the way
it talks to Canvas or Moodle, over HTTP, with signed JWTs both ways.
"""

from __future__ import annotations

import functools
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context as NrpsContext
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request as PlatformRequest
from lti1p3platform.service_connector import (
    AssignmentsGradesService,
    NamesRoleProvisioningService,
)
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
LEARNER = [LIS + "membership#Learner"]
INSTRUCTOR = [LIS + "membership#Instructor", LIS + "institution/person#Faculty"]


def new_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@functools.lru_cache(maxsize=32)
def _loaded(private_pem: str) -> Any:
    # Parsing (and checking) an RSA key costs ~0.1 s; the test keys are parsed once.
    return serialization.load_pem_private_key(
        private_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
    )


@functools.lru_cache(maxsize=32)
def public_pem(private_pem: str) -> str:
    key = _loaded(private_pem)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@functools.lru_cache(maxsize=32)
def kid_of(private_pem: str) -> str:
    return JWK.from_pem(private_pem.encode()).thumbprint()


def free_port(start: int = 5202, end: int = 5400) -> int:
    """A free port from the range this project's test servers use."""
    for port in range(start, end):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 5202-5400")


@dataclass
class Person:
    sub: str
    roles: list[str]
    name: str | None = None
    email: str | None = None
    given_name: str | None = None
    family_name: str | None = None


@dataclass
class Scenario:
    """What the next launch with this lti_message_hint carries."""

    person: Person
    resource_link_id: str | None = "link-1"
    resource_link_title: str | None = "Shiftwell"
    context_id: str | None = "course-101"
    context_title: str | None = "Nursing orientation 2026"
    custom: dict[str, str] | None = None
    deep_link: bool = False
    accept_types: set[str] | None = None
    ags_lineitem: str | None = None  # a line item id of this platform
    ags: bool = True
    nrps: bool = True
    storage_target: str | None = None  # offer LTI postMessage storage (lti_storage_target)


class _Request(PlatformRequest):
    def build_metadata(self, request: Request) -> Any:
        body = request.get_data(as_text=True)
        data = {k: v for k, v in request.args.items()}
        for number in ("page", "limit"):
            if number in data:
                data[number] = int(data[number])
        return {
            "method": request.method,
            "form_data": request.form.to_dict(),
            "get_data": data,
            "headers": request.headers,
            "content_type": request.content_type,
            "path": request.path,
            "json": json.loads(body) if body and "json" in (request.content_type or "") else None,
        }


class _Registration(Registration):
    """lti1p3platform's registration, signing with a parsed key (same claims, same kid)."""

    def get_kid(self) -> str | None:
        key = self.get_platform_private_key()
        return kid_of(key) if key else None

    def platform_encode_and_sign(
        self, payload: dict[str, Any], expiration: int | None = None
    ) -> str:
        key = self.get_platform_private_key()
        assert key is not None
        return Registration.encode_and_sign(
            payload, _loaded(key), {"kid": self.get_kid()}, expiration=expiration
        )


class _PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self.platform: TestPlatform = kwargs["platform"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        p = self.platform
        return (
            _Registration()
            .set_iss(p.issuer)
            .set_client_id(p.client_id)
            .set_deployment_id(p.deployment_id)
            .set_oidc_login_url(p.tool_base + "/lti/login")
            .set_launch_url(p.tool_base + "/lti/launch")
            .set_deeplink_launch_url(p.tool_base + "/lti/launch")
            .set_platform_public_key(public_pem(p.private_key))
            .set_platform_private_key(p.private_key)
            .set_tool_key_set(p.tool_jwks)
        )


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return launch_data


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class _Grades(AssignmentsGradesService):
    def __init__(self, platform: TestPlatform, request: Any, conf: Any) -> None:
        super().__init__(request, conf, platform.base + "/lineitems")
        self.platform = platform

    def find_lineitems(self, page: int = 1, limit: Any = None, **filters: Any) -> Any:
        items = [
            item
            for item in self.platform.lineitems.values()
            if all(item.get(_camel(k)) == v for k, v in filters.items() if v)
        ]
        return {"content": items, "has_next": False, "next": None}

    def find_lineitem(self, line_item_id: str) -> Any:
        return self.platform.lineitems[line_item_id]

    def create_lineitem(self, creation_data: Any) -> Any:
        return self.platform.add_lineitem(**creation_data)

    def update_lineitem(self, update_data: Any) -> Any:
        self.platform.lineitems[update_data["id"]].update(update_data)
        return self.platform.lineitems[update_data["id"]]

    def delete_lineitem(self, line_item_id: str) -> None:
        self.platform.lineitems.pop(line_item_id)

    def update_score(self, line_item_id: str, score: Any) -> Any:
        from lti1p3platform.score import UpdateScoreStatus

        if self.platform.score_failures:
            self.platform.score_failures -= 1
            raise _Unavailable()
        self.platform.scores.append({"lineitem": line_item_id, **score})
        return UpdateScoreStatus.SUCCESS

    def get_results(
        self, line_item_id: str, page: int = 1, limit: Any = None, user_id: Any = None
    ) -> Any:
        return {"content": [], "has_next": False, "next": None}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


class _Unavailable(Exception):
    pass


class _Roster(NamesRoleProvisioningService):
    def __init__(self, platform: TestPlatform, request: Any, conf: Any) -> None:
        super().__init__(request, conf, platform.base + "/memberships")
        self.platform = platform

    def get_member_data_page(self, page: int = 1, limit: Any = None, **kwargs: Any) -> Any:
        members = self.platform.members
        if limit:
            start = (page - 1) * limit
            return {
                "content": members[start : start + limit],
                "has_next": start + limit < len(members),
            }
        return {"content": members, "has_next": False}

    def get_context_by_id(self) -> NrpsContext:
        return NrpsContext(id="course-101", label="NUR101", title="Nursing orientation 2026")


@dataclass
class TestPlatform:
    """The LMS. ``tool_base`` is the tool's origin (the Flask test client's)."""

    tool_base: str = "http://localhost"
    issuer: str = ""
    client_id: str = "shiftwell-client"
    deployment_id: str = "deployment-1"
    private_key: str = field(default_factory=new_private_key)
    tool_jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    lineitems: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    deep_link_returns: list[list[dict[str, Any]]] = field(default_factory=list)
    extra_keys: list[str] = field(default_factory=list)  # also published in the JWKS
    jwks_cache_control: str = "max-age=300"
    jwks_requests: int = 0
    jwks_delay: float = 0.0  # a slow LMS: seconds before the key set answers
    token_requests: int = 0
    score_failures: int = 0  # answer this many score posts with HTTP 503
    registration_token: str = "reg-token-123"
    tool_registrations: list[dict[str, Any]] = field(default_factory=list)
    roster_page_size: int | None = None  # page the roster (Link: rel="next") by this many
    base: str = ""
    server: Any = None

    # -- serving ------------------------------------------------------------------------

    def start(self) -> TestPlatform:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.issuer = self.issuer or self.base
        self.server = make_server("127.0.0.1", port, self.wsgi, threaded=True)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def auth_url(self) -> str:
        return self.base + "/auth"

    @property
    def token_url(self) -> str:
        return self.base + "/token"

    @property
    def jwks_url(self) -> str:
        return self.base + "/jwks"

    @property
    def kid(self) -> str:
        return kid_of(self.private_key)

    def conf(self) -> _PlatformConf:
        conf = _PlatformConf(platform=self)
        conf.get_registration()
        return conf

    def jwks(self) -> dict[str, Any]:
        keys = []
        for pem in [self.private_key, *self.extra_keys]:
            jwk = Registration.get_jwk(public_pem(pem))
            jwk["kid"] = kid_of(pem)
            keys.append(jwk)
        return {"keys": keys}

    @Request.application
    def wsgi(self, request: Request) -> Response:
        path = request.path
        if path == "/jwks":
            self.jwks_requests += 1
            if self.jwks_delay:
                time.sleep(self.jwks_delay)
            response = Response(json.dumps(self.jwks()), content_type="application/json")
            if self.jwks_cache_control:
                response.headers["Cache-Control"] = self.jwks_cache_control
            return response
        if path == "/auth":
            return self._authorize(request)
        if path == "/token":
            self.token_requests += 1
            try:
                token = self.conf().get_access_token(request.form.to_dict())
            except Exception as exc:  # the platform library's refusals
                return Response(
                    json.dumps({"error": str(exc)}), 400, content_type="application/json"
                )
            return Response(json.dumps(token), content_type="application/json")
        if path == "/.well-known/openid-configuration":
            return Response(
                json.dumps(self.openid_configuration()), content_type="application/json"
            )
        if path == "/register" and request.method == "POST":
            return self._register(request)
        if path == "/deep-link-return":
            return self._deep_link_return(request)
        if path.startswith("/lineitems"):
            return self._grades(request)
        if path.startswith("/memberships"):
            platform_request = _Request(request)
            if self.roster_page_size:
                platform_request.request["get_data"].setdefault("limit", self.roster_page_size)
            service = _Roster(self, platform_request, self.conf())
            return _wrap(service.handle_resp(service.handle_get_members))
        return Response("not found", 404)

    def _authorize(self, request: Request) -> Response:
        scenario = self.scenarios[request.args["lti_message_hint"]]
        launch = _Launch(_Request(request), self.conf())
        person = scenario.person
        launch.set_user_data(person.sub, person.roles, person.name, person.email)
        if person.given_name:
            launch.set_extra_claims(
                {"given_name": person.given_name, "family_name": person.family_name}
            )
        if scenario.resource_link_id and not scenario.deep_link:
            launch.set_resource_link_claim(
                scenario.resource_link_id, title=scenario.resource_link_title
            )
        if scenario.context_id:
            launch.set_launch_context_claim(
                scenario.context_id,
                context_types=[LIS + "course#CourseOffering"],
                context_title=scenario.context_title,
                context_label="NUR101",
            )
        if scenario.custom:
            launch.set_custom_parameters_claim(scenario.custom)
        if scenario.ags:
            launch.set_ags(
                self.base + "/lineitems",
                lineitem_url=(self.base + "/lineitems/" + scenario.ags_lineitem)
                if scenario.ags_lineitem
                else None,
            )
        if scenario.nrps:
            launch.set_nrps(self.base + "/memberships")
        if scenario.deep_link:
            # lti1p3platform needs set_dl before lti_launch for Deep Linking.
            launch.set_dl(
                self.base + "/deep-link-return",
                title="Add content",
                accept_types=scenario.accept_types or {"ltiResourceLink"},
                extra_data={"opaque": "round-trip"},
            )
        form = launch.lti_launch()
        return Response(json.dumps(form), content_type="application/json")

    def openid_configuration(self) -> dict[str, Any]:
        """LTI Dynamic Registration 1.0 §3.4 (lti1p3platform has no registration side)."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.auth_url,
            "token_endpoint": self.token_url,
            "jwks_uri": self.jwks_url,
            "registration_endpoint": self.base + "/register",
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "test-lms",
                "version": "1.0",
                "messages_supported": [{"type": "LtiResourceLinkRequest"}],
            },
        }

    def _register(self, request: Request) -> Response:
        if request.headers.get("Authorization") != "Bearer " + self.registration_token:
            return Response(json.dumps({"error": "invalid_token"}), 401)
        config = request.get_json()
        self.tool_registrations.append(config)
        tool = dict(config["https://purl.imsglobal.org/spec/lti-tool-configuration"])
        tool["deployment_id"] = "dyn-deployment-1"
        answer = {
            **config,
            "client_id": "dyn-client-1",
            "https://purl.imsglobal.org/spec/lti-tool-configuration": tool,
        }
        return Response(json.dumps(answer), 200, content_type="application/json")

    def _deep_link_return(self, request: Request) -> Response:
        conf = self.conf()
        items = conf.validate_deeplinking_resp(request.form.to_dict())
        claims = jwt.decode(request.form["JWT"], options={"verify_signature": False})
        self.deep_link_returns.append(items)
        self.last_deep_link_claims = claims
        for item in items:
            if item.get("lineItem"):
                self.add_lineitem(**item["lineItem"])
        return Response("Content added", 200)

    def _grades(self, request: Request) -> Response:
        service = _Grades(self, _Request(request), self.conf())
        parts = request.path.strip("/").split("/")
        try:
            if len(parts) == 1:
                if request.method == "POST":
                    return _wrap(service.handle_resp(service.handle_create_lineitem))
                return _wrap(service.handle_resp(service.handle_get_lineitems))
            item_id = parts[1]
            if len(parts) == 3 and parts[2] == "scores":
                return _wrap(service.handle_resp(service.handle_update_score, line_item_id=item_id))
            if len(parts) == 3 and parts[2] == "results":
                return _wrap(service.handle_resp(service.handle_get_results, line_item_id=item_id))
            return _wrap(service.handle_resp(service.handle_get_lineitem, line_item_id=item_id))
        except _Unavailable:
            return Response("busy", 503)

    # -- what tests call ----------------------------------------------------------------

    def add_lineitem(self, **data: Any) -> dict[str, Any]:
        item_id = str(len(self.lineitems) + 1)
        item = {**data, "id": f"{self.base}/lineitems/{item_id}"}
        self.lineitems[item_id] = item
        return item

    def login_url(self, scenario: Scenario, *, deployment: bool = True) -> str:
        """The URL the LMS sends the browser to (third-party initiated login)."""
        hint = uuid.uuid4().hex
        self.scenarios[hint] = scenario
        login = _Login(None, self.conf())
        login.set_lti_message_hint(hint=hint)
        if scenario.deep_link:
            login.set_deeplinking_launch_url()
        url = login.initiate_login(scenario.person.sub)
        if scenario.storage_target:
            url += "&" + urlencode({"lti_storage_target": scenario.storage_target})
        if not deployment:
            parts = urlsplit(url)
            query = {k: v[0] for k, v in parse_qs(parts.query).items() if k != "lti_deployment_id"}
            url = f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"
        return url

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: str | None = None,
        kid: Any = None,
        algorithm: str = "RS256",
    ) -> str:
        """A token signed like this platform's (or with ``key``, or naming another
        ``kid``; ``kid=DROP`` leaves it out), for forged launches."""
        pem = key or self.private_key
        header: dict[str, Any] = {"kid": kid if kid is not None else kid_of(pem)}
        if kid is DROP:
            header = {}
        return jwt.encode(claims, _loaded(pem), algorithm=algorithm, headers=header)

    def claims(self, login_nonce: str, /, **overrides: Any) -> dict[str, Any]:
        """A complete, valid resource link launch for ``nonce``."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "azp": self.client_id,
            "sub": "forged-sub-1",
            "nonce": login_nonce,
            "iat": now,
            "exp": now + 300,
            "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
            "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
            "https://purl.imsglobal.org/spec/lti/claim/deployment_id": self.deployment_id,
            "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": self.tool_base
            + "/lti/launch",
            "https://purl.imsglobal.org/spec/lti/claim/resource_link": {"id": "link-1"},
            "https://purl.imsglobal.org/spec/lti/claim/roles": LEARNER,
        }
        for name, value in overrides.items():
            claims[name] = value
        return {k: v for k, v in claims.items() if v is not _DROP}


class _Drop:
    pass


_DROP = _Drop()
DROP: Any = _DROP  # pass as a claim's value to leave the claim out


def _wrap(resp: Any) -> Response:
    if 200 <= resp.code < 300:
        data = resp.result
        headers = {}
        if isinstance(data, dict) and "content" in data:
            if data.get("next"):
                headers["Link"] = f'<{data["next"]}>; rel="next"'
            data = data["content"]
        elif isinstance(data, dict) and data.get("next"):
            headers["Link"] = f'<{data.pop("next")}>; rel="next"'
        body = json.dumps(data) if data is not None else ""
        return Response(body, resp.code, headers=headers, content_type=resp.media_type)
    return Response(json.dumps({"error": resp.message}), resp.code, content_type="application/json")
