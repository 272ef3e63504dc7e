"""The Learning Record Store's resources at ``/xapi/`` (xAPI 1.0.3, Communication §2).

Each resource is one view that reads the request in either syntax
(:func:`xapi.http.read_request`), checks version and credentials, checks its parameters
by name and format, and hands over to a service. Nothing here writes SQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.http import http_date

from lms_core.db import utcnow
from lms_core.errors import Forbidden, InvalidInput, NotFound, problem_response
from lms_core.extensions import csrf, db
from xapi import credentials, documents, query, store
from xapi.http import (
    XAPI_VERSION,
    Unauthorized,
    XapiRequest,
    check_version,
    multipart_body,
    parse_json,
    parse_statement_body,
    read_request,
)
from xapi.identity import agent_identity, ifi_object
from xapi.models import DocumentKind, TermKind
from xapi.validation import (
    IRI_RE,
    UUID_RE,
    format_timestamp,
    parse_timestamp,
    validate_agent_parameter,
    validate_statements,
)

bp = Blueprint("xapi", __name__, url_prefix="/xapi")
csrf.exempt(bp)

ALL_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]
STATEMENT_QUERY_PARAMS = frozenset(
    {
        "statementId",
        "voidedStatementId",
        "agent",
        "verb",
        "activity",
        "registration",
        "related_activities",
        "related_agents",
        "since",
        "until",
        "limit",
        "format",
        "attachments",
        "ascending",
    }
)
SUPPORTED_VERSIONS = ["1.0.3", "1.0.2", "1.0.1", "1.0.0"]

Handler = Callable[[XapiRequest], Response]


# -- request plumbing -------------------------------------------------------------------


def _serve(handlers: dict[str, Handler], *, public: bool = False, writes: bool = True) -> Response:
    xapi_request = read_request(request)
    method = "GET" if xapi_request.method == "HEAD" else xapi_request.method
    handler = handlers.get(method)
    if not public:
        g.xapi_credential = credentials.authenticate(xapi_request.header("Authorization"))
        check_version(xapi_request)
        if method in ("PUT", "POST", "DELETE") and not g.xapi_credential.can_write:
            raise Forbidden(
                "These credentials are read-only; ask for read-write ones to store data."
            )
    if handler is None:
        allowed = ", ".join(sorted({"HEAD" if m == "GET" else m for m in handlers} | set(handlers)))
        response = problem_response(
            405,
            "Method not allowed",
            f"{request.path} accepts {allowed}, not {xapi_request.method}.",
        )
        response.headers["Allow"] = allowed
        return response
    response = handler(xapi_request)
    if writes and method in ("PUT", "POST", "DELETE"):
        db.session.commit()
    return response


def _tenant_id() -> int:
    return int(g.xapi_credential.tenant_id)


def _allow_params(
    xapi_request: XapiRequest, allowed: frozenset[str] | set[str], resource: str
) -> None:
    """Communication §3.2.s3.b7-b8: unknown parameters, or known ones in another case, are 400."""
    for name in xapi_request.params:
        if name not in allowed:
            similar = next((a for a in allowed if a.lower() == name.lower()), None)
            hint = f"; did you mean {similar!r}? Names are case-sensitive" if similar else ""
            raise InvalidInput(
                f"{resource} does not take the parameter {name!r}{hint} "
                f"(it takes: {', '.join(sorted(allowed)) or 'none'})."
            )


def _required(xapi_request: XapiRequest, name: str) -> str:
    value = xapi_request.params.get(name)
    if value is None:
        raise InvalidInput(f"The parameter {name!r} is required here.")
    return value


def _iri_param(xapi_request: XapiRequest, name: str, *, required: bool = True) -> str | None:
    value = _required(xapi_request, name) if required else xapi_request.params.get(name)
    if value is not None and not IRI_RE.match(value):
        raise InvalidInput(f"The parameter {name}={value!r} is not an IRI (e.g. https://...).")
    return value


def _uuid_param(xapi_request: XapiRequest, name: str) -> str | None:
    value = xapi_request.params.get(name)
    if value is not None and not UUID_RE.match(value):
        raise InvalidInput(f"The parameter {name}={value!r} is not a UUID.")
    return value


def _timestamp_param(xapi_request: XapiRequest, name: str) -> dt.datetime | None:
    value = xapi_request.params.get(name)
    if value is None:
        return None
    # A client that forgets to URL-encode "+01:00" sends a space: read it as meant.
    parsed = parse_timestamp(value.replace(" ", "+"))
    if parsed is None:
        raise InvalidInput(f"The parameter {name}={value!r} is not an ISO 8601 timestamp.")
    return parsed


def _bool_param(xapi_request: XapiRequest, name: str) -> bool:
    value = xapi_request.params.get(name)
    if value is None:
        return False
    if value not in ("true", "false"):
        raise InvalidInput(f"The parameter {name} must be true or false, not {value!r}.")
    return value == "true"


def _agent_param(
    xapi_request: XapiRequest,
    name: str = "agent",
    *,
    required: bool = True,
    group_allowed: bool = False,
) -> dict[str, Any] | None:
    raw = _required(xapi_request, name) if required else xapi_request.params.get(name)
    if raw is None:
        return None
    value = parse_json(raw, f"The parameter {name}")
    validate_agent_parameter(value, name, group_allowed=group_allowed)
    return value


def _json_response(body: Any, status: int = 200, **headers: str) -> Response:
    text = body if isinstance(body, str) else store.dump(body)
    response = Response(text, status=status, mimetype="application/json")
    response.headers.update(headers)
    return response


def _no_content() -> Response:
    return Response(status=204)


# -- statements -------------------------------------------------------------------------


@bp.route("/statements", methods=ALL_METHODS)
def statements() -> Response:
    return _serve({"GET": _get_statements, "PUT": _put_statement, "POST": _post_statements})


def _put_statement(xapi_request: XapiRequest) -> Response:
    _allow_params(xapi_request, {"statementId"}, "PUT /statements")
    statement_id = _uuid_param(xapi_request, "statementId")
    if statement_id is None:
        raise InvalidInput(
            "PUT /statements needs the statementId parameter (Communication §2.1.1)."
        )
    data, attachments = parse_statement_body(xapi_request)
    if not isinstance(data, dict):
        raise InvalidInput(
            "PUT /statements takes one statement (a JSON object); POST a batch instead."
        )
    if "id" in data and str(data["id"]).lower() != statement_id.lower():
        raise InvalidInput(
            f"The statement's id {data['id']} is not the statementId parameter {statement_id} "
            "(Communication §2.1.1.s3.b3)."
        )
    statements = validate_statements(data)
    statements[0].setdefault("id", statement_id)
    store.store_statements(_tenant_id(), statements, _writer(), attachments, validated=True)
    return _no_content()


def _post_statements(xapi_request: XapiRequest) -> Response:
    _allow_params(xapi_request, set(), "POST /statements")
    data, attachments = parse_statement_body(xapi_request)
    statements = validate_statements(data)
    ids = store.store_statements(_tenant_id(), statements, _writer(), attachments, validated=True)
    return _json_response(ids)


def _writer() -> store.Writer:
    credential = g.xapi_credential
    return store.Writer(credentials.authority_for(credential), credential.id)


def _more_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="xapi.statements.more")


def _get_statements(xapi_request: XapiRequest) -> Response:
    params = dict(xapi_request.params)
    after_seq: int | None = None
    if "more" in params:
        if len(params) > 1:
            raise InvalidInput("A 'more' link is used as it is, without other parameters.")
        try:
            saved = _more_serializer().loads(params["more"])
        except BadSignature:
            raise InvalidInput("This 'more' link is not one this LRS gave out.") from None
        if saved.get("t") != _tenant_id():
            raise InvalidInput("This 'more' link belongs to other credentials.")
        params, after_seq = saved["p"], saved["s"]
        xapi_request = XapiRequest(xapi_request.method, params, xapi_request.headers, b"")
    _allow_params(xapi_request, STATEMENT_QUERY_PARAMS, "GET /statements")
    fmt = params.get("format", "exact")
    if fmt not in ("ids", "exact", "canonical"):
        raise InvalidInput(f"format={fmt!r}: use ids, exact or canonical.")
    with_attachments = _bool_param(xapi_request, "attachments")
    if "statementId" in params or "voidedStatementId" in params:
        return _get_one_statement(xapi_request, fmt, with_attachments)
    limit_text = params.get("limit", "0")
    if not limit_text.isdigit():
        raise InvalidInput(f"limit={limit_text!r}: use a non-negative integer (0 for the maximum).")
    statement_query = query.StatementQuery(
        agent=_agent_param(xapi_request, required=False, group_allowed=True),
        verb=_iri_param(xapi_request, "verb", required=False),
        activity=_iri_param(xapi_request, "activity", required=False),
        registration=_uuid_param(xapi_request, "registration"),
        related_activities=_bool_param(xapi_request, "related_activities"),
        related_agents=_bool_param(xapi_request, "related_agents"),
        since=_timestamp_param(xapi_request, "since"),
        until=_timestamp_param(xapi_request, "until"),
        limit=int(limit_text),
        ascending=_bool_param(xapi_request, "ascending"),
        after_seq=after_seq,
    )
    page = query.find_statements(_tenant_id(), statement_query)
    more = ""
    if page.has_more and page.last_seq is not None:
        token = _more_serializer().dumps({"t": _tenant_id(), "p": params, "s": page.last_seq})
        more = url_for("xapi.statements", more=token)
    documents_json = _formatted(page.documents, fmt)
    body = '{"statements":[' + ",".join(documents_json) + '],"more":' + json.dumps(more) + "}"
    return _statement_response(body, page.attachments if with_attachments else None)


def _get_one_statement(xapi_request: XapiRequest, fmt: str, with_attachments: bool) -> Response:
    params = xapi_request.params
    if "statementId" in params and "voidedStatementId" in params:
        raise InvalidInput(
            "Ask for statementId or voidedStatementId, not both (Communication §2.1.3.s2.b1)."
        )
    extra = set(params) - {"statementId", "voidedStatementId", "format", "attachments"}
    if extra:
        raise InvalidInput(
            f"With statementId or voidedStatementId only format and attachments may be given, "
            f"not {', '.join(sorted(extra))} (Communication §2.1.3.s2.b2)."
        )
    voided = "voidedStatementId" in params
    name = "voidedStatementId" if voided else "statementId"
    statement_id = _uuid_param(xapi_request, name)
    assert statement_id is not None
    row = query.get_statement(_tenant_id(), statement_id, voided=voided)
    if row is None:
        hint = (
            " (it is voided: ask with voidedStatementId)"
            if not voided and query.get_statement(_tenant_id(), statement_id, voided=True)
            else ""
        )
        raise NotFound(f"No statement {statement_id} here{hint}.")
    body = _formatted([row.document], fmt)[0]
    sha2s = query.attachment_hashes(json.loads(row.document)) if with_attachments else None
    response = _statement_response(body, sha2s)
    response.headers["Last-Modified"] = http_date(row.stored)
    return response


def _formatted(documents_json: list[str], fmt: str) -> list[str]:
    if fmt == "exact":
        return documents_json
    parsed = [json.loads(d) for d in documents_json]
    if fmt == "ids":
        return [store.dump(query.ids_format(s)) for s in parsed]
    definitions = query.canonical_definitions(_tenant_id(), parsed)
    return [
        store.dump(query.canonical_format(s, definitions, request.accept_languages)) for s in parsed
    ]


def _statement_response(body: str, sha2s: list[str] | None) -> Response:
    if sha2s is None:
        return _json_response(body)
    rows = {a.sha2: a for a in query.attachment_data(_tenant_id(), sha2s)}
    parts = [(sha2, rows[sha2].content_type, rows[sha2].content) for sha2 in sha2s if sha2 in rows]
    content, content_type = multipart_body(body.encode(), parts)
    return Response(content, content_type=content_type)


# -- documents --------------------------------------------------------------------------


def _document_handlers(kind: DocumentKind, id_param: str) -> dict[str, Handler]:
    def scope_of(xapi_request: XapiRequest) -> documents.Scope:
        if kind == DocumentKind.STATE:
            return documents.Scope(
                kind,
                activity_id=_iri_param(xapi_request, "activityId"),
                agent=_agent_param(xapi_request),
                registration=_uuid_param(xapi_request, "registration"),
            )
        if kind == DocumentKind.ACTIVITY_PROFILE:
            return documents.Scope(kind, activity_id=_iri_param(xapi_request, "activityId"))
        return documents.Scope(kind, agent=_agent_param(xapi_request))

    scope_params = {
        DocumentKind.STATE: {"activityId", "agent", "registration"},
        DocumentKind.ACTIVITY_PROFILE: {"activityId"},
        DocumentKind.AGENT_PROFILE: {"agent"},
    }[kind]
    resource = {
        DocumentKind.STATE: "/activities/state",
        DocumentKind.ACTIVITY_PROFILE: "/activities/profile",
        DocumentKind.AGENT_PROFILE: "/agents/profile",
    }[kind]

    def conditions(xapi_request: XapiRequest) -> documents.Preconditions:
        return documents.Preconditions(
            xapi_request.header("If-Match"), xapi_request.header("If-None-Match")
        )

    def get(xapi_request: XapiRequest) -> Response:
        _allow_params(xapi_request, scope_params | {id_param, "since"}, resource)
        scope = scope_of(xapi_request)
        document_id = xapi_request.params.get(id_param)
        if document_id is None:
            ids, latest = documents.list_document_ids(
                _tenant_id(), scope, _timestamp_param(xapi_request, "since")
            )
            response = _json_response(ids)
            if latest is not None:
                response.headers["Last-Modified"] = http_date(latest)
            return response
        if "since" in xapi_request.params:
            raise InvalidInput(f"'since' lists documents; it cannot be used with {id_param}.")
        document = documents.require(
            documents.get_document(_tenant_id(), scope, document_id), document_id
        )
        response = Response(document.content, content_type=document.content_type)
        response.headers["ETag"] = f'"{document.etag}"'
        response.headers["Last-Modified"] = http_date(document.updated_at)
        return response

    def write(xapi_request: XapiRequest, *, merge: bool) -> Response:
        _allow_params(xapi_request, scope_params | {id_param}, resource)
        scope = scope_of(xapi_request)
        document_id = _required(xapi_request, id_param)
        documents.save_document(
            _tenant_id(),
            scope,
            document_id,
            xapi_request.body,
            xapi_request.raw_content_type,
            conditions(xapi_request),
            merge=merge,
        )
        return _no_content()

    def delete(xapi_request: XapiRequest) -> Response:
        _allow_params(xapi_request, scope_params | {id_param}, resource)
        scope = scope_of(xapi_request)
        document_id = xapi_request.params.get(id_param)
        if document_id is None:
            if kind != DocumentKind.STATE:
                raise InvalidInput(f"DELETE {resource} needs {id_param}.")
            documents.delete_documents(_tenant_id(), scope)
        else:
            documents.delete_document(_tenant_id(), scope, document_id, conditions(xapi_request))
        return _no_content()

    return {
        "GET": get,
        "PUT": lambda r: write(r, merge=False),
        "POST": lambda r: write(r, merge=True),
        "DELETE": delete,
    }


_STATE = _document_handlers(DocumentKind.STATE, "stateId")
_ACTIVITY_PROFILE = _document_handlers(DocumentKind.ACTIVITY_PROFILE, "profileId")
_AGENT_PROFILE = _document_handlers(DocumentKind.AGENT_PROFILE, "profileId")


@bp.route("/activities/state", methods=ALL_METHODS)
def state() -> Response:
    return _serve(_STATE)


@bp.route("/activities/profile", methods=ALL_METHODS)
def activity_profile() -> Response:
    return _serve(_ACTIVITY_PROFILE)


@bp.route("/agents/profile", methods=ALL_METHODS)
def agent_profile() -> Response:
    return _serve(_AGENT_PROFILE)


# -- activities, agents, about ----------------------------------------------------------


@bp.route("/activities", methods=ALL_METHODS)
def activities() -> Response:
    def get(xapi_request: XapiRequest) -> Response:
        _allow_params(xapi_request, {"activityId"}, "/activities")
        activity_id = _iri_param(xapi_request, "activityId")
        assert activity_id is not None
        data = query.term_data(_tenant_id(), TermKind.ACTIVITY, activity_id)
        activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
        if data and data.get("definition"):
            activity["definition"] = data["definition"]
        return _json_response(activity)

    return _serve({"GET": get})


@bp.route("/agents", methods=ALL_METHODS)
def agents() -> Response:
    def get(xapi_request: XapiRequest) -> Response:
        _allow_params(xapi_request, {"agent"}, "/agents")
        agent = _agent_param(xapi_request)
        assert agent is not None
        key = agent_identity(agent)
        assert key is not None
        data = query.term_data(_tenant_id(), TermKind.AGENT, key) or {}
        names = list(data.get("names") or [])
        if isinstance(agent.get("name"), str) and agent["name"] not in names:
            names.append(agent["name"])
        person: dict[str, Any] = {"objectType": "Person"}
        if names:
            person["name"] = names
        for ifi, value in ifi_object(key).items():
            person[ifi] = [value]
        return _json_response(person)

    return _serve({"GET": get})


@bp.route("/about", methods=ALL_METHODS)
def about() -> Response:
    def get(xapi_request: XapiRequest) -> Response:
        # Communication §2.8: no credentials or version header needed here.
        _allow_params(xapi_request, set(), "/about")
        return _json_response({"version": SUPPORTED_VERSIONS})

    return _serve({"GET": get}, public=True)


@bp.route("/", defaults={"rest": ""}, methods=ALL_METHODS)
@bp.route("/<path:rest>", methods=ALL_METHODS)
def unknown(rest: str) -> Response:
    raise NotFound(
        f"/xapi/{rest} is not a resource of this LRS; the resources are statements, "
        "activities, activities/state, activities/profile, agents, agents/profile, about."
    )


# -- headers and errors -----------------------------------------------------------------


@bp.errorhandler(Unauthorized)
def unauthorized(error: Unauthorized) -> Response:
    response = problem_response(401, error.title, error.detail)
    response.headers["WWW-Authenticate"] = 'Basic realm="xAPI", charset="UTF-8"'
    return response


def add_lrs_headers(response: Response) -> Response:
    """Communication §3.3.s3.b1 and §2.1.3.s2.b5: on every LRS response, errors included."""
    if not request.path.startswith("/xapi"):
        return response
    response.headers["X-Experience-API-Version"] = XAPI_VERSION
    if request.path.rstrip("/").endswith("/statements"):
        response.headers["X-Experience-API-Consistent-Through"] = format_timestamp(utcnow())
    if (
        request.method in ("GET", "HEAD", "POST")
        and response.status_code == 200
        and "ETag" not in response.headers
        and not response.is_streamed
    ):
        # Communication §3.1.s4.b1-b2: every GET response carries the SHA-1 of its body.
        response.headers["ETag"] = f'"{documents.etag_of(response.get_data())}"'
    return response
