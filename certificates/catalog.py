"""The course facts a certificate needs, read through ``courses.api`` (the contract in
docs: plain frozen dataclasses, never ORM objects).

Kept in one module so the rest of the package never imports ``courses`` directly: with
the courses plugin disabled or absent, certificates still verify, list and render; only
issuing a new one needs the catalog.
"""

from __future__ import annotations

from typing import Any


def get_course(slug: str, version: str | None = None) -> Any | None:
    """``courses.api.get_course``: a ``CourseInfo``, or None when unknown or no catalog."""
    try:
        from courses import api
    except ImportError:
        return None
    return api.get_course(slug, version)


def get_partner(slug: str) -> Any | None:
    """``courses.api.get_partner``: a ``PartnerInfo``, or None."""
    try:
        from courses import api
    except ImportError:
        return None
    return api.get_partner(slug)


def get_partner_logo(slug: str) -> Any | None:
    """``courses.api.get_partner_logo``: a ``PartnerLogo`` (bytes, media type), or None."""
    try:
        from courses import api
    except ImportError:
        return None
    return api.get_partner_logo(slug)


def completions(tenant_id: int, **filters: Any) -> list[Any]:
    """``courses.api.completions``: a tenant's completed attempts; empty without a catalog."""
    try:
        from courses import api
    except ImportError:
        return []
    return list(api.completions(tenant_id, **filters))
