"""Our launch layer over pylti1p3 (the ``pylti1p3next`` fork): tool configuration, state and
nonce storage and cookies backed by our database, and a message launch that validates
every token fully.

What the library does not do, and this module adds (each found by trying it):

- the nonce is one-time: the library's ``check_state_is_valid`` shortcut accepts the same
  state and token again, so a captured launch could be replayed; here the nonce is
  consumed in the launch's transaction and the shortcut is gone;
- ``exp`` and ``iat`` are required, with a leeway (``LTI_CLOCK_LEEWAY``, 60 s) for LMS
  clocks that run ahead or behind;
- ``aud`` may be a list containing our client id, and ``azp`` must name us when present;
- only RS256/384/512 are accepted and a ``kid`` is required (no ``none``, no HS256 keyed
  with the public key);
- unknown issuers, clients and deployments are typed errors (4xx pages), not bare
  exceptions (HTTP 500);
- platform keys come from :class:`lti.http.KeySetCache` (Cache-Control, re-fetch on an
  unknown kid) and every HTTP call has a timeout.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from flask import Flask, current_app, has_app_context
from jwt.algorithms import RSAAlgorithm
from pylti1p3.contrib.flask import (
    FlaskCookieService,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
    FlaskRequest,
    FlaskServiceConnector,
)
from pylti1p3.deployment import Deployment as LibDeployment
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.registration import Registration as LibRegistration
from pylti1p3.session import SessionService
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import delete, select
from werkzeug.wrappers import Response

from lms_core.db import utcnow
from lms_core.extensions import db
from lms_core.security import cookie_options
from lti import keys
from lti.errors import (
    DeploymentNotFound,
    LaunchRejected,
    PlatformUnavailable,
    RegistrationInactive,
    RegistrationNotFound,
)
from lti.http import PlatformHttpError, http_session, keysets
from lti.models import Deployment, LaunchData, Registration, RegistrationStatus

log = logging.getLogger(__name__)

# LTI 1.3 / 1EdTech Security Framework §5.1.3: RSA signatures; never "none" or HMAC.
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512")
#: The login → launch round trip must finish within this many seconds.
STATE_LIFETIME = 600
#: Launch data kept for later pages (the Deep Linking picker) this long.
LAUNCH_DATA_LIFETIME = 3 * 3600

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = CLAIM + "message_type"
VERSION = CLAIM + "version"
DEPLOYMENT_ID = CLAIM + "deployment_id"
ROLES = CLAIM + "roles"
TARGET_LINK_URI = CLAIM + "target_link_uri"
RESOURCE_LINK = CLAIM + "resource_link"
CONTEXT = CLAIM + "context"
CUSTOM = CLAIM + "custom"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
SUPPORTED_MESSAGES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)


def base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def launch_url() -> str:
    return base_url() + "/lti/launch"


def clock_leeway() -> int:
    return int(current_app.config.get("LTI_CLOCK_LEEWAY", 60))


# -- registrations, as pylti1p3 sees them ------------------------------------------------


class ToolRegistration(LibRegistration):
    """A pylti1p3 registration built from our row; the tool's key is read only when
    something is signed (a launch never needs it)."""

    def __init__(self, record: Registration) -> None:
        self.record_id = record.id
        self.set_issuer(record.issuer)
        self.set_client_id(record.client_id)
        self.set_auth_login_url(record.auth_login_url)
        self.set_auth_token_url(record.auth_token_url)
        if record.auth_audience:
            self.set_auth_audience(record.auth_audience)
        self.set_key_set_url(record.keyset_url)

    def get_tool_private_key(self) -> Any:
        # A key object, not PEM: PyJWT signs with it without parsing the PEM every time.
        return keys.signing_key().private_key

    def get_tool_public_key(self) -> str:
        return keys.signing_key().public_key_pem

    def get_kid(self) -> str:
        return keys.signing_key().kid

    def get_jwks(self) -> list[Any]:
        return keys.jwks()["keys"]


def find_registration(issuer: str, client_id: str | None) -> Registration | None:
    """The registration for an issuer and client id. Without a client id (old platforms
    omit it at login) only an issuer with a single registration can be resolved."""
    stmt = select(Registration).where(Registration.issuer == issuer)
    if client_id:
        return db.session.scalar(stmt.where(Registration.client_id == client_id))
    rows = list(db.session.scalars(stmt.limit(2)))
    return rows[0] if len(rows) == 1 else None


class DatabaseToolConf(ToolConfAbstract[FlaskRequest]):
    """Registrations and deployments from our tables. Every issuer may have many client
    ids (Canvas's one issuer for every school), so lookups always use the client id."""

    def __init__(self) -> None:
        self.issuers_relation_types = {}  # per instance: the library's is a shared class dict

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Any:
        record = find_registration(iss, None)
        return ToolRegistration(record) if record else None

    def find_registration_by_params(
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Any:
        record = find_registration(iss, client_id)
        return ToolRegistration(record) if record else None

    def find_deployment(self, iss: str, deployment_id: str) -> Any:
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Any:
        record = find_registration(iss, client_id)
        if record is None:
            return None
        for deployment in record.deployments:
            if deployment.deployment_id == deployment_id:
                return LibDeployment().set_deployment_id(deployment_id)
        return None


# -- state, nonce and launch data in the database ----------------------------------------


class DatabaseLaunchDataStorage(LaunchDataStorage[Any]):
    """pylti1p3's key/value launch storage as rows of ``lti_launch_data`` with expiry.

    No per-browser session prefix: the browser is bound to its login by the state cookie
    (or the platform's storage), and every key is unguessable.
    """

    def get_session_cookie_name(self) -> str | None:
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        row = db.session.get(LaunchData, self._prepare_key(key))
        if row is None or row.expires_at <= utcnow():
            return None
        return row.value

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        lifetime = dt.timedelta(seconds=exp if exp is not None else LAUNCH_DATA_LIFETIME)
        db.session.merge(
            LaunchData(key=self._prepare_key(key), value=value, expires_at=utcnow() + lifetime)
        )

    def check_value(self, key: str) -> bool:
        return self.get_value(key) is not None

    def pop_value(self, key: str) -> Any:
        """Read and delete in one step; of two concurrent callers only one gets the value
        (the DELETE's row count decides, inside the caller's transaction)."""
        full_key = self._prepare_key(key)
        row = db.session.get(LaunchData, full_key)
        if row is None or row.expires_at <= utcnow():
            return None
        value = row.value
        db.session.expunge(row)
        result = db.session.execute(
            delete(LaunchData)
            .where(LaunchData.key == full_key, LaunchData.expires_at > utcnow())
            .execution_options(synchronize_session=False)
        )
        return value if result.rowcount == 1 else None


def purge_expired_launch_data() -> int:
    """Delete expired state, nonces and launch data; the caller commits."""
    result = db.session.execute(
        delete(LaunchData)
        .where(LaunchData.expires_at <= utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


class DatabaseSessionService(SessionService):
    """State, nonce and launch data in the database, the nonce usable once."""

    def __init__(self, request: Any) -> None:
        self.data_storage = DatabaseLaunchDataStorage()
        self.data_storage.set_request(request)

    @property
    def storage(self) -> DatabaseLaunchDataStorage:
        assert isinstance(self.data_storage, DatabaseLaunchDataStorage)
        return self.data_storage

    def check_nonce(self, nonce: str) -> bool:
        # OIDC Core §3.1.3.7 / LTI 1.3 §5.1.3 step 9: a nonce is accepted once.
        return self.storage.pop_value(self._get_key("nonce", nonce)) is not None

    def consume_state_params(self, state: str) -> Any:
        return self.storage.pop_value(self._get_key(state))

    def set_state_valid(self, state: str, id_token_hash: str) -> None:
        """Deliberately nothing: the library would accept this state + token again."""

    def check_state_is_valid(self, state: str, id_token_hash: str) -> bool:
        return False

    def pop_launch_data(self, key: str) -> Any:
        return self.storage.pop_value(self._get_key(key, add_prefix=False))


class ShiftwellCookieService(FlaskCookieService):
    """The state cookie, with the attributes every Shiftwell cookie has (SameSite=None;
    Secure; Partitioned over HTTPS), limited to the LTI endpoints."""

    def update_response(self, response: Response) -> None:
        for name, data in self._cookie_data_to_set.items():
            response.set_cookie(
                name, str(data["value"]), max_age=data["exp"], path="/lti/", **cookie_options()
            )


def flask_request(**data: Any) -> FlaskRequest:
    return FlaskRequest(request_data=data or None)


# -- OIDC third-party initiated login ----------------------------------------------------


class ShiftwellOIDCLogin(FlaskOIDCLogin):
    """Step 1 of the launch (LTI 1.3 §5.1.1, OIDC third-party initiated login)."""

    def __init__(self, request: FlaskRequest, *, storage_target: str | None = None) -> None:
        super().__init__(
            request,
            DatabaseToolConf(),
            session_service=DatabaseSessionService(request),
            cookie_service=ShiftwellCookieService(request),
        )
        self.storage_target = storage_target
        self.record: Registration | None = None
        self.state: str | None = None
        self.nonce: str | None = None

    def validate_oidc_login(self) -> ToolRegistration:
        iss = self._get_request_param("iss")
        login_hint = self._get_request_param("login_hint")
        client_id = self._get_request_param("client_id") or None
        target = self._get_request_param("target_link_uri")
        if not iss:
            raise LaunchRejected("The login request names no issuer (iss).")
        if not login_hint:
            raise LaunchRejected("The login request has no login_hint.")
        record = find_registration(iss, client_id)
        if record is None:
            raise RegistrationNotFound(iss, client_id)
        if not record.is_active:
            raise RegistrationInactive(iss, pending=record.status == RegistrationStatus.PENDING)
        # LTI 1.3 §5.1.1: the tool MUST check target_link_uri is its own; anything else
        # would make the login an open redirect through the LMS.
        if target and not _is_own_url(target):
            raise LaunchRejected(
                f"The login asks to open {target}, which is not a Shiftwell address.",
                hint=f"The tool's launch URL is {launch_url()}.",
            )
        deployment_id = self._get_request_param("lti_deployment_id")
        if deployment_id and not any(d.deployment_id == deployment_id for d in record.deployments):
            raise DeploymentNotFound(iss, deployment_id)
        self.record = record
        return ToolRegistration(record)

    def _prepare_redirect_url(self, launch_url: str) -> str:
        registration = self.validate_oidc_login()
        assert self.record is not None
        self._registration = registration
        state = "state-" + secrets.token_urlsafe(24)
        nonce = secrets.token_urlsafe(32)
        self._session_service.set_launch_data_lifetime(STATE_LIFETIME)
        self._cookie_service.set_cookie(state, state, STATE_LIFETIME)
        self._session_service.save_nonce(nonce)
        self._session_service.save_state_params(
            state,
            {
                "nonce": nonce,
                "registration_id": self.record.id,
                "target_link_uri": self._get_request_param("target_link_uri") or None,
                "storage_target": self.storage_target,
            },
        )
        self.state, self.nonce = state, nonce
        params = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": self.record.client_id,
            "redirect_uri": launch_url,
            "state": state,
            "nonce": nonce,
            "login_hint": self._get_request_param("login_hint"),
        }
        hint = self._get_request_param("lti_message_hint")
        if hint:
            params["lti_message_hint"] = hint
        separator = "&" if "?" in self.record.auth_login_url else "?"
        return self.record.auth_login_url + separator + urlencode(params)

    def auth_request_url(self) -> str:
        """The platform's authorization URL for this login (state and nonce saved)."""
        try:
            return self._prepare_redirect_url(launch_url())
        except OIDCException as exc:
            raise LaunchRejected(str(exc)) from exc

    def redirect_response(self) -> Response:
        """A plain HTTP redirect to the platform, setting the state cookie."""
        return self.get_redirect(self.auth_request_url()).do_redirect()


def _is_own_url(url: str) -> bool:
    target, own = urlsplit(url), urlsplit(base_url())
    return (target.scheme, target.netloc) == (own.scheme, own.netloc)


# -- the launch ------------------------------------------------------------------------


class ShiftwellMessageLaunch(FlaskMessageLaunch):
    """Step 2 (LTI 1.3 §5.1.3, authentication response validation), every check enforced.

    After :meth:`validate`, ``binding`` says how the browser proved it started the login:
    ``cookie`` (the state cookie came back) or ``platform-storage`` (cookies are blocked;
    the page must check the LMS's postMessage storage before the launch completes).
    """

    def __init__(self, request: FlaskRequest, tool_config: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("session_service", DatabaseSessionService(request))
        kwargs.setdefault("cookie_service", ShiftwellCookieService(request))
        kwargs.setdefault("requests_session", http_session())
        kwargs.setdefault("service_connector_cls", ShiftwellServiceConnector)
        super().__init__(request, tool_config or DatabaseToolConf(), **kwargs)
        self.binding: str | None = None
        self.state_params: dict[str, Any] | None = None
        self.record: Registration | None = None
        self.deployment: Deployment | None = None

    @classmethod
    def restore(cls, launch_id: str) -> ShiftwellMessageLaunch:
        """A launch validated earlier (e.g. the Deep Linking request behind the picker)."""
        request = flask_request()
        try:
            launch = cls.from_cache(
                launch_id,
                request,
                DatabaseToolConf(),
                session_service=DatabaseSessionService(request),
                cookie_service=ShiftwellCookieService(request),
                requests_session=http_session(),
                service_connector_cls=ShiftwellServiceConnector,
            )
        except LtiException as exc:
            raise LaunchRejected(
                "This page belongs to a launch that has expired.",
                hint="Open the link from your learning system again.",
            ) from exc
        assert isinstance(launch, ShiftwellMessageLaunch)
        return launch

    @property
    def claims(self) -> dict[str, Any]:
        return dict(self._get_jwt_body())

    @property
    def session_service(self) -> DatabaseSessionService:
        assert isinstance(self._session_service, DatabaseSessionService)
        return self._session_service

    def validate(self) -> ShiftwellMessageLaunch:
        if self._restored:
            raise LaunchRejected("A restored launch cannot be validated again.")
        self._validated = True
        try:
            self.validate_state()
            self.validate_jwt_format()
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_nonce()
            self.validate_deployment()
            self.validate_message()
            self.save_launch_data()
        except LtiException as exc:
            self._validated = False
            raise LaunchRejected(str(exc)) from exc
        except Exception:
            self._validated = False
            raise
        return self

    def validate_state(self) -> ShiftwellMessageLaunch:
        state = self._get_request_param("state")
        if not state:
            raise LaunchRejected("The launch carries no state.")
        params = self.session_service.get_state_params(state)
        if not isinstance(params, dict):
            raise LaunchRejected(
                "The launch's state is unknown: it was not started here, has expired "
                f"(after {STATE_LIFETIME // 60} minutes) or was already used."
            )
        cookie = self._cookie_service.get_cookie(state)
        if cookie is not None and hmac.compare_digest(str(cookie), state):
            self.binding = "cookie"
        elif cookie is None and params.get("storage_target"):
            self.binding = "platform-storage"
        else:
            raise LaunchRejected(
                "The launch's state does not belong to this browser.",
                hint="If your browser blocks cookies inside the learning system, open "
                "Shiftwell in a new window.",
            )
        self.state_params = params
        return self

    def validate_jwt_format(self) -> ShiftwellMessageLaunch:
        super().validate_jwt_format()
        header, body = self._jwt.get("header"), self._jwt.get("body")
        if not isinstance(header, dict) or not isinstance(body, dict):
            raise LaunchRejected("The id_token is not a JSON Web Token.")
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise LaunchRejected(
                f"The id_token is signed with {alg!r}; LTI 1.3 requires RS256 "
                "(1EdTech Security Framework §5.1.3)."
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise LaunchRejected("The id_token does not name its signing key (no kid).")
        return self

    def validate_registration(self) -> ShiftwellMessageLaunch:
        body = self._jwt.get("body", {})
        iss = body.get("iss")
        if not isinstance(iss, str) or not iss:
            raise LaunchRejected("The id_token names no issuer (iss).")
        aud = body.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not audiences:
            raise LaunchRejected("The id_token names no audience (aud).")
        if not all(isinstance(a, str) for a in audiences):
            raise LaunchRejected("The id_token's audience (aud) is not a list of client ids.")
        azp = body.get("azp")
        if azp is not None and (not isinstance(azp, str) or azp not in audiences):
            raise LaunchRejected(
                "The id_token's authorized party (azp) is not one of its audiences."
            )
        if self.state_params is not None:
            record = db.session.get(Registration, self.state_params.get("registration_id"))
        else:  # a restored launch: find the registration the token names
            candidates = [azp] if azp else audiences
            record = next(
                (r for c in candidates if (r := find_registration(iss, c)) is not None), None
            )
        if record is None or record.issuer != iss:
            raise LaunchRejected(
                "The id_token comes from another learning system than the one the login "
                "started with."
            )
        # LTI 1.3 §5.1.3 steps 3-4: aud MUST contain our client id; azp, when present,
        # MUST be our client id.
        if record.client_id not in audiences:
            raise LaunchRejected("The id_token is not addressed to Shiftwell's client id (aud).")
        if azp is not None and azp != record.client_id:
            raise LaunchRejected("The id_token's authorized party (azp) is another client.")
        if not record.is_active:
            raise RegistrationInactive(iss, pending=record.status == RegistrationStatus.PENDING)
        self.record = record
        self._registration = ToolRegistration(record)
        return self

    def validate_jwt_signature(self) -> ShiftwellMessageLaunch:
        assert self.record is not None
        header = self._jwt["header"]
        kid, alg = header["kid"], header["alg"]
        try:
            key = keysets().key_for(self.record.keyset_url, kid, self._requests_session)
        except PlatformHttpError as exc:
            raise PlatformUnavailable(str(exc)) from exc
        if key is None:
            raise LaunchRejected(
                f"The id_token is signed with key {kid!r}, which the learning system does not "
                "publish in its key set."
            )
        if key.get("kty") != "RSA" or key.get("alg", alg) != alg or key.get("use", "sig") != "sig":
            raise LaunchRejected(
                f"The learning system's key {kid!r} is not an RSA {alg} signing key."
            )
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(key))
            claims = jwt.decode(
                self._get_id_token(),
                public_key,  # type: ignore[arg-type]
                algorithms=[alg],
                audience=self.record.client_id,
                issuer=self.record.issuer,
                leeway=clock_leeway(),
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.MissingRequiredClaimError as exc:
            raise LaunchRejected(f"The id_token has no {exc.claim!r} claim.") from exc
        except jwt.ExpiredSignatureError as exc:
            raise LaunchRejected("The id_token has expired (exp).") from exc
        except jwt.ImmatureSignatureError as exc:
            raise LaunchRejected(
                "The id_token is issued in the future (iat/nbf), beyond the clock skew allowed."
            ) from exc
        except jwt.InvalidSignatureError as exc:
            raise LaunchRejected("The id_token's signature does not verify.") from exc
        except jwt.InvalidTokenError as exc:
            raise LaunchRejected(f"The id_token is not valid: {exc}.") from exc
        except (ValueError, TypeError) as exc:
            raise LaunchRejected("The learning system's key could not be read.") from exc
        self._jwt["body"] = claims  # from here on, only verified claims are read
        return self

    def validate_nonce(self) -> ShiftwellMessageLaunch:
        assert self.state_params is not None
        nonce = self._jwt["body"].get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise LaunchRejected("The id_token has no nonce.")
        if not hmac.compare_digest(nonce, str(self.state_params.get("nonce", ""))):
            raise LaunchRejected("The id_token's nonce does not belong to this login.")
        if not self.session_service.check_nonce(nonce):
            raise LaunchRejected("This launch was already used (its nonce was seen before).")
        self.session_service.consume_state_params(self._get_request_param("state"))
        return self

    def validate_deployment(self) -> ShiftwellMessageLaunch:
        assert self.record is not None
        deployment_id = self._jwt["body"].get(DEPLOYMENT_ID)
        if not isinstance(deployment_id, str) or not deployment_id:
            raise LaunchRejected("The id_token has no deployment_id claim.")
        deployment = next(
            (d for d in self.record.deployments if d.deployment_id == deployment_id), None
        )
        if deployment is None:
            raise DeploymentNotFound(self.record.issuer, deployment_id)
        if (deployment.tenant_id or self.record.tenant_id) is None:
            raise RegistrationInactive(self.record.issuer, pending=True)
        self.deployment = deployment
        return self

    def validate_message(self) -> ShiftwellMessageLaunch:
        body = self._jwt["body"]
        if body.get(VERSION) != "1.3.0":
            raise LaunchRejected("The id_token's LTI version claim is missing or not 1.3.0.")
        message_type = body.get(MESSAGE_TYPE)
        if message_type not in SUPPORTED_MESSAGES:
            raise LaunchRejected(
                f"Shiftwell does not handle LTI messages of type {message_type!r}.",
                hint="It accepts resource link launches and Deep Linking requests.",
            )
        sub = body.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 255:
            raise LaunchRejected("The id_token identifies no user (sub).")
        roles = body.get(ROLES)
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise LaunchRejected("The id_token has no roles claim (a list, maybe empty).")
        if not isinstance(body.get(TARGET_LINK_URI), str):
            raise LaunchRejected("The id_token has no target_link_uri claim.")
        if message_type == RESOURCE_LINK_REQUEST:
            link = body.get(RESOURCE_LINK)
            if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link["id"]:
                raise LaunchRejected("The id_token has no resource_link claim with an id.")
        else:
            settings = body.get(DEEP_LINKING_SETTINGS)
            if not isinstance(settings, dict) or not settings.get("deep_link_return_url"):
                raise LaunchRejected("The Deep Linking request has no deep_link_return_url.")
        for name in (CUSTOM, CONTEXT, AGS_ENDPOINT, NRPS):
            if name in body and not isinstance(body[name], dict):
                raise LaunchRejected(
                    f"The id_token's {name.rsplit('/', 1)[-1]} claim is malformed."
                )
        super().validate_message()  # the library's checks per message type
        return self

    def save_launch_data(self) -> ShiftwellMessageLaunch:
        # Only what a later page needs: the Deep Linking picker, or a launch waiting for
        # the platform-storage check. A plain launch leaves nothing behind.
        if self.binding == "platform-storage" or self.is_deep_link_launch():
            self.session_service.set_launch_data_lifetime(LAUNCH_DATA_LIFETIME)
            self.session_service.save_launch_data(self._launch_id, self._jwt["body"])
        return self


# -- calling LMS services (AGS, NRPS) ---------------------------------------------------


class ShiftwellServiceConnector(FlaskServiceConnector):
    """Access tokens cached per registration (issuer, client id, token URL) and scopes,
    until a minute before they expire; HTTP with timeouts.

    The Flask connector's cache key is the issuer and scopes only: with Canvas's one
    issuer for many client ids, one school's token would be handed to another's calls.
    """

    def __init__(self, registration: LibRegistration, requests_session: Any = None) -> None:
        super().__init__(registration, requests_session or http_session())

    def _scope_key(self, scopes: Any) -> str:
        parts = [
            self._registration.get_issuer() or "",
            self._registration.get_client_id() or "",
            self._registration.get_auth_token_url() or "",
            *sorted(scopes),
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        return token_cache().get(scope_key)

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        token_cache().put(scope_key, access_token, float(expires_in or 0))

    def forget_tokens(self, scopes: Any) -> None:
        token_cache().drop(self._scope_key(sorted(scopes)))


class TokenCache:
    """Access tokens in process memory; never written to disk, logs or the database."""

    #: Renew this long before expiry, so a token does not die in flight.
    MARGIN = 60.0

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.issued = 0  # tokens obtained from platforms, for tests and the benchmark

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._tokens.get(key)
            if entry and entry[1] > time.monotonic():
                return entry[0]
            return None

    def put(self, key: str, token: str, expires_in: float) -> None:
        with self._lock:
            self.issued += 1
            lifetime = expires_in - self.MARGIN
            if lifetime > 0:
                self._tokens[key] = (token, time.monotonic() + lifetime)

    def drop(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)


def token_cache(app: Flask | None = None) -> TokenCache:
    if app is None and not has_app_context():
        raise RuntimeError("the token cache lives on the app; call inside an app context")
    return (app or current_app).extensions["lti.tokens"]


def service_connector(record: Registration) -> ShiftwellServiceConnector:
    return ShiftwellServiceConnector(ToolRegistration(record))
