"""The courses package's public API (``courses.api``), as the LTI tool uses it.

Only ``courses.api`` is imported (the agreed contract), and only when needed, so the LTI
tool still works, with an empty catalog, where the courses package is not installed.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

CATALOG_PATH = "/courses/"


def _api() -> ModuleType | None:
    try:
        return importlib.import_module("courses.api")
    except ImportError:
        return None


def get_course(slug: str) -> Any | None:
    """The latest version of a course (``courses.api.CourseInfo``), or None."""
    api = _api()
    if api is None or not slug:
        return None
    return api.get_course(slug)


def search(
    tenant_id: int,
    query: str | None = None,
    credit_type: str | None = None,
    max_minutes: int | None = None,
) -> list[Any]:
    api = _api()
    if api is None:
        return []
    return list(
        api.search_catalog(tenant_id, query=query, credit_type=credit_type, max_minutes=max_minutes)
    )


def available() -> bool:
    return _api() is not None


def course_standings(tenant_id: int, slug: str, user_ids: list[int]) -> dict[int, Any]:
    """user id → ``courses.api.CourseStanding`` for those of ``user_ids`` who started it."""
    api = _api()
    if api is None or not user_ids:
        return {}
    return dict(api.course_standings(tenant_id, slug, user_ids))


def all_standings(tenant_id: int, slug: str) -> list[Any]:
    """``courses.api.CourseStanding`` of everyone of the tenant who started the course."""
    api = _api()
    if api is None:
        return []
    return list(api.course_standings(tenant_id, slug).values())


def course_titles(slugs: Any) -> dict[str, str]:
    """slug → title of the latest version, for the known ones of ``slugs``."""
    api = _api()
    if api is None:
        return {}
    return dict(api.course_titles(list(slugs)))
