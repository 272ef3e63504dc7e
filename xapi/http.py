"""The HTTP side of the LRS that is not a resource: reading a request in either syntax,
multipart/mixed bodies, the headers every response carries.

The Alternate Request Syntax (Communication §1.3) lets a client send any request as a
form POST with ``?method=PUT``; :func:`read_request` turns both syntaxes into one
:class:`XapiRequest`, so the resources never see the difference.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson
from flask import Request, current_app
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge

from lms_core.errors import InvalidInput, ShiftwellError
from xapi.store import AttachmentData
from xapi.validation import VERSION_RE

#: The version this LRS speaks, sent in every response (Communication §3.3.s3.b1-b2).
XAPI_VERSION = "1.0.3"
#: Request headers a client may send as form parameters instead (§1.3.s3.b6).
FORM_HEADERS = (
    "Authorization",
    "X-Experience-API-Version",
    "Content-Type",
    "Content-Length",
    "If-Match",
    "If-None-Match",
)
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")


class Unauthorized(ShiftwellError):
    status = 401
    title = "Unauthorized"


class PreconditionFailed(ShiftwellError):
    status = 412
    title = "Precondition failed"


class PayloadTooLarge(ShiftwellError):
    status = 413
    title = "Request entity too large"


@dataclass
class XapiRequest:
    """One LRS request, whatever syntax it came in."""

    method: str
    params: dict[str, str]
    headers: Headers
    body: bytes
    alternate: bool = False
    content_type: str = ""
    #: The Content-Type as sent, with its parameters (what documents are stored with).
    raw_content_type: str = ""
    content_type_params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def version(self) -> str | None:
        return self.headers.get("X-Experience-API-Version")


def read_request(request: Request) -> XapiRequest:
    """Parse ``request`` (either syntax) without interpreting any parameter yet."""
    limit = int(current_app.config.get("XAPI_MAX_REQUEST_BYTES", 100 * 1024 * 1024))
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"The request is larger than this LRS accepts ({limit} bytes).")
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise PayloadTooLarge("The request is larger than this LRS accepts.") from None
    query = _single_valued(
        parse_qsl(request.query_string.decode("utf-8", "replace"), keep_blank_values=True),
        "query string",
    )
    headers = Headers(request.headers)
    method = request.method
    if "method" in query:
        if method != "POST":
            raise InvalidInput(
                "The 'method' parameter belongs to the Alternate Request Syntax, which is "
                "always a POST (Communication §1.3.s3.b1)."
            )
        return _alternate(query, headers, body)
    xapi_request = XapiRequest(method, query, headers, body)
    _split_content_type(xapi_request, headers.get("Content-Type", ""))
    return xapi_request


def _alternate(query: dict[str, str], headers: Headers, body: bytes) -> XapiRequest:
    method = query.pop("method").upper()
    if query:
        raise InvalidInput(
            "With the Alternate Request Syntax every parameter other than 'method' goes in "
            f"the form, not the query string: move {', '.join(sorted(query))} "
            "(Communication §1.3.s3.b3)."
        )
    if method not in METHODS:
        raise InvalidInput(f"method={method!r} is not an HTTP method the LRS knows.")
    mimetype = headers.get("Content-Type", "").split(";")[0].strip().lower()
    if mimetype != "application/x-www-form-urlencoded":
        raise InvalidInput(
            "An Alternate Request Syntax request must be a form: "
            "Content-Type application/x-www-form-urlencoded (Communication §1.3.s3.b9)."
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("The form is not UTF-8 (Communication §1.3.s3.b5).") from None
    if text.lstrip().startswith(("{", "[")):
        raise InvalidInput(
            "The body of an Alternate Request Syntax request must be URL-encoded form data, "
            "with the statement in the 'content' field (Communication §1.3.s3.b4)."
        )
    form = _single_valued(parse_qsl(text, keep_blank_values=True), "form")
    merged = Headers(headers)
    for name in FORM_HEADERS:
        for key in list(form):
            if key.lower() == name.lower():
                merged.set(name, form.pop(key))
    content = form.pop("content", None)
    request = XapiRequest(method, form, merged, (content or "").encode("utf-8"), alternate=True)
    content_type = merged.get("Content-Type", "")
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        # The form's own type says nothing about the content; statements are JSON.
        content_type = "application/json" if content is not None else ""
    _split_content_type(request, content_type)
    return request


def _single_valued(pairs: Iterable[tuple[str, str]], where: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidInput(f"The parameter {key!r} appears twice in the {where}; send it once.")
        result[key] = value
    return result


def _split_content_type(request: XapiRequest, content_type: str) -> None:
    mimetype, _, rest = content_type.partition(";")
    request.raw_content_type = content_type.strip()
    request.content_type = mimetype.strip().lower()
    params: dict[str, str] = {}
    for item in re.findall(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', ";" + rest):
        key, value = item
        value = value.strip()
        if value.startswith('"') and value.endswith('"'):
            value = value[1:-1]
        params[key.lower()] = value
    request.content_type_params = params


def check_version(request: XapiRequest) -> None:
    """Communication §3.3.s3: 1.0.x is accepted, anything else (or nothing) refused."""
    version = request.version
    if version is None:
        raise InvalidInput(
            "The X-Experience-API-Version header is missing; send X-Experience-API-Version: "
            f"{XAPI_VERSION} (Communication §3.3.s4.b1)."
        )
    if not VERSION_RE.match(version.strip()):
        raise InvalidInput(
            f"X-Experience-API-Version {version!r} is not supported; this LRS speaks 1.0.x "
            f"(latest {XAPI_VERSION})."
        )


# -- JSON -------------------------------------------------------------------------------


def parse_json(data: bytes | str, what: str = "The request body") -> Any:
    """Strict JSON (no NaN, UTF-8 only, Communication §1.4), parsed with orjson: it is
    several times faster than the standard library on statement batches.

    Duplicate property names are not refused: Data §2.2.s3.b7 leaves them undefined.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{what} is not valid UTF-8 JSON: {exc}.") from None


# -- multipart/mixed --------------------------------------------------------------------


def parse_statement_body(request: XapiRequest) -> tuple[Any, dict[str, AttachmentData]]:
    """The statements of a PUT/POST, and the attachment data of a multipart/mixed one."""
    if request.content_type == "application/json":
        return parse_json(request.body), {}
    if request.content_type == "multipart/mixed":
        return _parse_multipart(request)
    raise InvalidInput(
        f"Statements are sent as application/json or multipart/mixed, not "
        f"{request.content_type or 'without a Content-Type'} (Communication §1.5)."
    )


def _parse_multipart(request: XapiRequest) -> tuple[Any, dict[str, AttachmentData]]:
    boundary = request.content_type_params.get("boundary")
    if not boundary:
        raise InvalidInput(
            "A multipart/mixed request needs a boundary parameter in its Content-Type."
        )
    head = f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    if not message.is_multipart():
        raise InvalidInput("The multipart/mixed body could not be split at its boundary.")
    parts = list(message.iter_parts())
    if not parts:
        raise InvalidInput("The multipart/mixed body has no parts.")
    first = parts[0]
    if first.get_content_type() != "application/json":
        raise InvalidInput(
            "The first part of a multipart/mixed statement request holds the statements "
            "and must be application/json (Communication §1.5.2.s2.b2.b1)."
        )
    statements = parse_json(first.get_payload(decode=True) or b"", "The statements part")
    attachments: dict[str, AttachmentData] = {}
    for index, part in enumerate(parts[1:], start=2):
        declared = part.get("X-Experience-API-Hash")
        if not declared:
            raise InvalidInput(
                f"Part {index} has no X-Experience-API-Hash header; every attachment part "
                "needs one (Communication §1.5.2.s2.b2.b3)."
            )
        encoding = part.get("Content-Transfer-Encoding")
        if encoding is not None and encoding.strip().lower() != "binary":
            raise InvalidInput(
                f"Part {index} has Content-Transfer-Encoding {encoding!r}; attachments are "
                "sent as binary (Communication §1.5.2.s2.b2.b4)."
            )
        data = part.get_payload(decode=True) or b""
        declared = declared.strip().lower()
        attachments[declared] = AttachmentData(declared, part.get_content_type(), data)
    _check_hashes(statements, attachments)
    return statements, attachments


def _check_hashes(statements: Any, attachments: dict[str, AttachmentData]) -> None:
    """Every part must be an attachment of a statement, and its data must hash to it."""
    declared: dict[str, str] = {}
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict):
            continue
        for attachment in _attachments_of(statement):
            sha2 = attachment.get("sha2")
            if isinstance(sha2, str):
                declared[sha2.lower()] = str(attachment.get("contentType", ""))
    for sha2, data in attachments.items():
        if sha2 not in declared:
            raise InvalidInput(
                f"The part with X-Experience-API-Hash {sha2} belongs to no attachment of the "
                "statements; each part's hash must be the sha2 of an attachment."
            )
        algorithm = {
            56: hashlib.sha224,
            64: hashlib.sha256,
            96: hashlib.sha384,
            128: hashlib.sha512,
        }
        digest = algorithm.get(len(sha2))
        if digest is None or digest(data.content).hexdigest() != sha2:
            raise InvalidInput(
                f"The data of the part with X-Experience-API-Hash {sha2} does not hash to it; "
                "send the raw bytes with Content-Transfer-Encoding: binary."
            )


def _attachments_of(statement: dict[str, Any]) -> list[dict[str, Any]]:
    found = [a for a in statement.get("attachments") or () if isinstance(a, dict)]
    statement_object = statement.get("object")
    if isinstance(statement_object, dict) and statement_object.get("objectType") == "SubStatement":
        found.extend(a for a in statement_object.get("attachments") or () if isinstance(a, dict))
    return found


def multipart_body(first: bytes, parts: Iterable[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/mixed body: JSON first, then each (sha2, content type, data) part."""
    boundary = uuid.uuid4().hex
    chunks = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), first]
    for sha2, content_type, data in parts:
        chunks.append(
            f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha2}\r\n\r\n".encode()
        )
        chunks.append(data)
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(chunks), f'multipart/mixed; boundary="{boundary}"'
