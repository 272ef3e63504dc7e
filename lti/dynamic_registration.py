"""LTI Dynamic Registration 1.0: an LMS administrator pastes one URL, the LMS and Shiftwell
exchange their configurations, and the registration waits for the operator's approval.

The registration token an LMS hands over lives for minutes, so the exchange with the LMS
happens at once; what waits is our side: until an operator approves the registration (and
picks its tenant) launches through it get a clear "waiting for approval" page. Because the
operator approves every registration, nothing an unknown LMS sends can log anyone in.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import requests
from pylti1p3.dynamic_registration import DynamicRegistration

from lms_core import audit
from lms_core.extensions import db
from lms_core.models import Tenant
from lti.errors import RegistrationRefused
from lti.http import http_session
from lti.models import Deployment, Registration, RegistrationStatus
from lti.registrations import insecure_urls_allowed
from lti.tool import base_url, find_registration, launch_url

log = logging.getLogger(__name__)

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]
CLAIMS = ["iss", "sub", "name", "given_name", "family_name", "email", "locale"]
DESCRIPTION = (
    "Three-to-five-minute courses on resilience, emotional intelligence and new skills for "
    "clinicians, with CE credit; grades return to the gradebook."
)


def tool_configuration() -> dict[str, Any]:
    """The URLs and settings an LMS administrator needs (``shiftwell lti tool-config``)."""
    base = base_url()
    return {
        "title": "Shiftwell",
        "description": DESCRIPTION,
        "login_url": f"{base}/lti/login",
        "launch_url": launch_url(),
        "redirect_uris": [launch_url()],
        "deep_linking_url": launch_url(),
        "jwks_url": f"{base}/lti/jwks",
        "registration_url": f"{base}/lti/register",
        "domain": urlsplit(base).netloc,
        "scopes": SCOPES,
        "claims": CLAIMS,
        "custom_parameters": {"course": "the slug of the course a link opens (optional)"},
        "icon_url": f"{base}/lti/static/lti/logo.svg",
    }


class ShiftwellDynamicRegistration(DynamicRegistration):
    """The library's registration flow, with our configuration, timeouts and validation of
    everything the LMS sends (the library only ``assert``s, which is an HTTP 500)."""

    client_name = "Shiftwell"
    description = DESCRIPTION

    def __init__(self, openid_configuration_url: str, registration_token: str | None) -> None:
        self.openid_configuration_url = openid_configuration_url
        self.registration_token = registration_token or None

    def get_request_session(self) -> requests.Session:
        return http_session()

    def get_initiate_login_uri(self) -> str:
        return tool_configuration()["login_url"]

    def get_jwks_uri(self) -> str:
        return tool_configuration()["jwks_url"]

    def get_redirect_uris(self) -> list[str]:
        return [launch_url()]

    def get_scopes(self) -> list[str]:
        return SCOPES

    def get_domain(self) -> str:
        return tool_configuration()["domain"]

    def get_target_link_uri(self) -> str:
        return launch_url()

    def get_claims(self) -> list[str]:
        return CLAIMS

    def get_messages(self) -> list[dict[str, Any]]:
        return [
            {
                "type": "LtiDeepLinkingRequest",
                "target_link_uri": launch_url(),
                "label": "Shiftwell course",
            },
            {"type": "LtiResourceLinkRequest", "target_link_uri": launch_url()},
        ]

    def get_logo_uri(self) -> str:
        return tool_configuration()["icon_url"]

    def get_openid_configuration_endpoint(self) -> str:
        return self.openid_configuration_url

    def get_registration_token(self) -> str:
        return self.registration_token or ""

    def get_openid_configuration(self) -> dict[str, Any]:
        url = self.openid_configuration_url
        _require_url(url, "openid_configuration")
        body = _get_json(url, headers={"Accept": "application/json"})
        return check_platform_configuration(body)

    def register(self) -> dict[str, Any]:
        """Send our configuration; returns the LMS's platform and registration answers."""
        platform = self.get_openid_configuration()
        headers = {"Accept": "application/json"}
        # LTI-DR §3.3: the token is optional (D2L sends none); when given, it is the bearer.
        if self.registration_token:
            headers["Authorization"] = "Bearer " + self.registration_token
        try:
            response = self.get_request_session().post(
                platform["registration_endpoint"],
                json=self.lti_registration_data(),
                headers=headers,
            )
        except requests.RequestException as exc:
            raise RegistrationRefused(
                f"The LMS's registration endpoint could not be reached ({type(exc).__name__})."
            ) from exc
        if not response.ok:
            raise RegistrationRefused(
                f"The LMS refused the registration (HTTP {response.status_code}): "
                f"{_error_text(response)}"
            )
        try:
            answer = response.json()
        except ValueError as exc:
            raise RegistrationRefused("The LMS's registration answer is not JSON.") from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("client_id"), str):
            raise RegistrationRefused("The LMS's registration answer has no client_id.")
        return {"platform": platform, "registration": answer}


#: The OpenID configuration's URLs a registration needs (LTI-DR 1.0 §3.4).
_REQUIRED_URLS = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
)


def check_platform_configuration(body: Any) -> dict[str, Any]:
    """LTI-DR 1.0 §3.4: the fields we rely on must be present and be URLs."""
    if not isinstance(body, dict):
        raise RegistrationRefused("The LMS's OpenID configuration is not a JSON object.")
    missing = [
        name for name in _REQUIRED_URLS if not isinstance(body.get(name), str) or not body[name]
    ]
    if missing:
        raise RegistrationRefused(f"The LMS's OpenID configuration lacks {', '.join(missing)}.")
    for name in _REQUIRED_URLS:
        _require_url(body[name], name)
    if not isinstance(body.get(PLATFORM_CONFIGURATION), dict):
        raise RegistrationRefused("The OpenID configuration is not an LTI platform's.")
    algorithms = body.get("id_token_signing_alg_values_supported")
    if isinstance(algorithms, list) and "RS256" not in algorithms:
        raise RegistrationRefused("The LMS does not sign with RS256, which LTI 1.3 requires.")
    return body


def _require_url(value: str, what: str) -> None:
    parts = urlsplit(value or "")
    schemes = ("https", "http") if insecure_urls_allowed() else ("https",)
    if parts.scheme not in schemes or not parts.netloc:
        raise RegistrationRefused(f"The LMS's {what} ({value!r}) is not an HTTPS URL.")


def _get_json(url: str, headers: dict[str, str]) -> Any:
    try:
        response = http_session().get(url, headers=headers)
    except requests.RequestException as exc:
        raise RegistrationRefused(
            f"The LMS's configuration at {url} could not be read ({type(exc).__name__})."
        ) from exc
    if response.status_code != 200:
        raise RegistrationRefused(
            f"The LMS's configuration at {url} answered HTTP {response.status_code}."
        )
    try:
        return response.json()
    except ValueError as exc:
        raise RegistrationRefused(f"The LMS's configuration at {url} is not JSON.") from exc


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or "no details"
    if isinstance(body, dict):
        return str(
            body.get("error_description") or body.get("error") or body.get("errors") or body
        )[:300]
    return str(body)[:300]


def register_with_platform(
    openid_configuration_url: str, registration_token: str | None, tenant: Tenant | None
) -> Registration:
    """Run the exchange and record a pending registration; the caller commits."""
    flow = ShiftwellDynamicRegistration(openid_configuration_url, registration_token)
    result = flow.register()
    platform, answer = result["platform"], result["registration"]
    issuer, client_id = platform["issuer"], answer["client_id"]
    tool_config = answer.get(TOOL_CONFIGURATION) or {}
    deployment_id = tool_config.get("deployment_id") if isinstance(tool_config, dict) else None
    if find_registration(issuer, client_id) is not None:
        raise RegistrationRefused(
            f"{issuer} already has a registration with client id {client_id}."
        )
    platform_config = platform.get(PLATFORM_CONFIGURATION) or {}
    record = Registration(
        tenant_id=tenant.id if tenant else None,
        name=_name(platform_config, issuer),
        issuer=issuer,
        client_id=client_id,
        auth_login_url=platform["authorization_endpoint"],
        auth_token_url=platform["token_endpoint"],
        auth_audience=platform.get("authorization_server") or None,
        keyset_url=platform["jwks_uri"],
        status=RegistrationStatus.PENDING,
        source="dynamic",
        product_family=str(platform_config.get("product_family_code") or "")[:100] or None,
        platform_config={
            "openid_configuration": openid_configuration_url,
            "product_family_code": platform_config.get("product_family_code"),
            "version": platform_config.get("version"),
            "scopes_granted": answer.get("scope"),
            "messages_supported": platform_config.get("messages_supported"),
        },
    )
    if isinstance(deployment_id, str) and deployment_id:
        record.deployments.append(
            Deployment(deployment_id=deployment_id, tenant_id=tenant.id if tenant else None)
        )
    db.session.add(record)
    db.session.flush()
    audit.record(
        "lti.platform_registered",
        tenant=tenant,
        target_type="lti_registration",
        target_id=record.id,
        actor="dynamic registration",
        issuer=issuer,
        client_id=client_id,
    )
    log.info(
        "lti: dynamic registration from %s (client id %s) waits for approval", issuer, client_id
    )
    return record


def _name(platform_config: dict[str, Any], issuer: str) -> str:
    product = platform_config.get("product_family_code")
    host = urlsplit(issuer).netloc or issuer
    return f"{product} ({host})" if product else host
