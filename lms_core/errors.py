"""Errors as types, and one place that turns them into responses.

Services raise a :class:`ShiftwellError` subclass; nothing else needs to know about HTTP.
People get a readable page, API clients (paths a plugin declared in ``api_prefixes``, or
a request that prefers JSON) get RFC 9457 problem details. Nobody ever gets a traceback:
an unexpected error is logged with its traceback and answered with a plain 500.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and how to fix it."""

    message: str
    location: str | None = None  # a field, "file.md:12", a JSON pointer
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text} ({self.hint})" if self.hint else text


class ShiftwellError(Exception):
    """Base of every error a user can cause. ``status`` is the HTTP status it maps to."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, problems: list[Problem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []

    def __str__(self) -> str:
        if not self.problems:
            return self.detail
        return "\n".join([self.detail, *(f"  - {p}" for p in self.problems)])


class InvalidInput(ShiftwellError):
    status = 400
    title = "Invalid input"


class NotFound(ShiftwellError):
    status = 404
    title = "Not found"


class Forbidden(ShiftwellError):
    status = 403
    title = "Forbidden"


class Conflict(ShiftwellError):
    status = 409
    title = "Conflict"


def api_prefixes(app: Flask) -> list[str]:
    return app.extensions.setdefault("shiftwell.api_prefixes", [])


def wants_json() -> bool:
    if any(request.path.startswith(prefix) for prefix in api_prefixes(current_app)):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def problem_response(
    status: int, title: str, detail: str, problems: list[Problem] | None = None
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if problems:
        body["errors"] = [asdict(p) for p in problems]
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def error_page(
    status: int, title: str, detail: str, problems: list[Problem] | None = None
) -> tuple[str, int]:
    return render_template(
        "core/error.html", status=status, title=title, detail=detail, problems=problems or []
    ), status


def respond(status: int, title: str, detail: str, problems: list[Problem] | None = None) -> Any:
    if wants_json():
        return problem_response(status, title, detail, problems)
    return error_page(status, title, detail, problems)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ShiftwellError)
    def handle_domain_error(error: ShiftwellError) -> Any:
        return respond(error.status, error.title, error.detail, error.problems)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Any:
        if error.code is None or error.code < 400:
            return error
        response = respond(error.code, error.name, error.description or error.name)
        if error.code == 405 and error.valid_methods:
            if isinstance(response, tuple):
                return response[0], response[1], {"Allow": ", ".join(error.valid_methods)}
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(InternalServerError)
    def handle_unexpected(error: InternalServerError) -> Any:
        original = error.original_exception or error
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
        return respond(
            500,
            "Something went wrong",
            "The error has been logged. Please try again; if it keeps happening, tell your "
            "education department or the Shiftwell operator.",
        )
