"""The public face of courses for other packages (lti, certificates, portals).

Plain frozen dataclasses only: no ORM object crosses this boundary, so callers cannot
reach into courses' tables or lazy-load anything outside a session. Agreed in the
contracts between the packages; change only with all of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from courses import services
from courses.models import CourseVersion, Partner


@dataclass(frozen=True)
class CreditInfo:
    type: str  # "ancc-contact-hours" | "ama-pra-category-1" | "ipce" | "none"
    amount: float  # hours / credits; 0 for "none"

    @property
    def label(self) -> str:
        """How people write the credit type: "ANCC contact hours"."""
        return services.CREDIT_LABELS.get(self.type, self.type)


@dataclass(frozen=True)
class PartnerInfo:
    slug: str
    name: str
    #: Documented in docs/course-packages.md: ``accreditation`` (per credit type:
    #: provider, provider_id, statement), ``logo`` (URL path of the logo image) and
    #: ``logo_sha256``, ``certificate_template`` (override folder name), ``contact``.
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PartnerLogo:
    data: bytes
    media_type: str  # image/png or image/jpeg


@dataclass(frozen=True)
class CourseInfo:
    slug: str
    version: str
    title: str
    summary: str
    language: str
    partner: PartnerInfo
    estimated_minutes: int
    credit: CreditInfo | None  # None when the course carries no credit
    pass_score: float  # 0..1
    objectives: tuple[str, ...]
    tags: tuple[str, ...]
    licence: str | None
    accreditation_statement: str | None
    learner_path: str  # "/courses/<slug>"


def _partner_info(partner: Partner) -> PartnerInfo:
    return PartnerInfo(slug=partner.slug, name=partner.name, settings=dict(partner.settings or {}))


def _course_info(version: CourseVersion) -> CourseInfo:
    credit = CreditInfo(version.credit_type, version.credit_amount) if version.has_credit else None
    return CourseInfo(
        slug=version.course.slug,
        version=version.version,
        title=version.title,
        summary=version.summary,
        language=version.language,
        partner=_partner_info(version.course.partner),
        estimated_minutes=version.estimated_minutes,
        credit=credit,
        pass_score=version.pass_score,
        objectives=tuple(version.objectives),
        tags=tuple(version.tags),
        licence=version.licence,
        accreditation_statement=version.accreditation_statement,
        learner_path=f"/courses/{version.course.slug}",
    )


def get_course(slug: str, version: str | None = None) -> CourseInfo | None:
    """A course version (the latest when ``version`` is None); None when unknown."""
    found = services.find_version(slug, version)
    return _course_info(found) if found else None


def search_catalog(
    tenant_id: int,
    query: str | None = None,
    credit_type: str | None = None,
    max_minutes: int | None = None,
) -> list[CourseInfo]:
    """Latest versions visible to that tenant (not hidden), best matches first."""
    return [
        _course_info(v) for v in services.search_catalog(tenant_id, query, credit_type, max_minutes)
    ]


def get_partner(slug: str) -> PartnerInfo | None:
    partner = services.get_partner(slug)
    return _partner_info(partner) if partner else None


def get_partner_logo(slug: str) -> PartnerLogo | None:
    """The partner's logo image (for certificates rendered without an HTTP round trip)."""
    partner = services.get_partner(slug)
    if partner is None or partner.logo is None:
        return None
    return PartnerLogo(partner.logo, partner.logo_media_type or "image/png")


# -- progress, for the education department's pages in other packages --------------------


@dataclass(frozen=True)
class CourseStanding:
    """Where one learner stands with one course, across all their attempts at it."""

    user_id: int
    course_slug: str
    state: str  # "in_progress" | "passed" | "not_passed"
    started_at: dt.datetime  # of the first attempt
    completed_at: dt.datetime | None  # of the first passing attempt, else the latest completion
    score_scaled: float | None  # of that attempt


def course_standings(
    tenant_id: int, course_slug: str, user_ids: Collection[int] | None = None
) -> dict[int, CourseStanding]:
    """user id → standing, for everyone of the tenant (or of ``user_ids``) who has started
    the course; someone missing from the result has not started it.

    A learner who passed once has passed for good (``passed``, with the first passing
    date), whatever they did later; otherwise their latest attempt decides.
    """
    return {
        standing.user_id: standing
        for standing in _reports_api().course_standings(tenant_id, course_slug, user_ids)
    }


@dataclass(frozen=True)
class Completion:
    """One completed attempt (passed or not), for exports and records in other packages."""

    user_id: int
    course_slug: str
    course_version: str
    registration: str  # the attempt's UUID (xAPI context.registration)
    completed_at: dt.datetime
    passed: bool
    score_scaled: float | None
    credit: CreditInfo | None  # the version's credit, if it carries any


def completions(
    tenant_id: int,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    passed_only: bool = False,
    with_credit_only: bool = False,
) -> Iterator[Completion]:
    """A tenant's completed attempts in [since, until), oldest first, streamed in batches."""
    return _reports_api().completions(tenant_id, since, until, passed_only, with_credit_only)


def course_titles(slugs: Collection[str]) -> dict[str, str]:
    """slug → title of its latest version, in one query (unknown slugs are left out)."""
    return _reports_api().course_titles(slugs)


def _reports_api() -> Any:
    from courses.reports import api

    return api
