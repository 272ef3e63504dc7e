"""The courses domain: importing packages as versions, the catalog, attempts and the player.

No Flask request objects here: views parse the request and call these functions, the CLI
calls the same ones. Nothing commits here either — the caller commits once, so a change
and the events it sends (and everything their receivers add) land together or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, null, select
from sqlalchemy.orm import selectinload

from courses.models import (
    Asset,
    Attempt,
    AttemptStatus,
    Course,
    CourseVersion,
    HiddenCourse,
    Lesson,
    Partner,
    Step,
    StepResponse,
)
from courses.package import Limits, media_type, read_package
from courses.steps import AnswerError, StepType, registry
from courses.validation import ParsedCourse, reserved_partner_slug, validate_package
from lms_core import audit, signals
from lms_core.db import utcnow
from lms_core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from lms_core.extensions import db
from lms_core.models import Tenant, User

#: A gap longer than this between two actions is time away (a patient), not learning.
IDLE_CAP = dt.timedelta(minutes=5)

CREDIT_LABELS = {
    "ancc-contact-hours": "ANCC contact hours",
    "ama-pra-category-1": "AMA PRA Category 1 Credit™",
    "ipce": "IPCE credit",
    "none": "No credit",
}


# -- import -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    slug: str
    version: str
    title: str
    created: bool  # False: identical content was already imported (a no-op)
    previous_version: str | None = None
    published: bool = True  # False: a draft, waiting for its partner to publish it


def limits() -> Limits:
    return Limits.from_config(current_app.config)


def check_package(path: str | Path) -> ParsedCourse:
    """Read and validate a package; raises :class:`PackageInvalid` listing every problem."""
    return validate_package(read_package(path, limits()))


def import_package(path: str | Path, partner_slug: str | None = None) -> ImportResult:
    """Validate and import a package (adds rows; the caller commits). Published at once:
    an operator's import is the publication."""
    return import_parsed(check_package(path), partner_slug)


_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$")


def semver_key(version: str) -> tuple[Any, ...]:
    """Order semantic versions (semver.org §11): a pre-release sorts before its release."""
    match = _SEMVER.match(version)
    if not match:
        return (0, 0, 0, 0, ())
    major, minor, patch, pre = match.groups()
    pre_key: tuple[Any, ...] = ()
    if pre:
        pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre_key)


def import_parsed(
    parsed: ParsedCourse, partner_slug: str | None = None, *, publish: bool = True
) -> ImportResult:
    """Import as a new version: published at once, or (``publish=False``, a partner's web
    upload) a draft that reaches no learner, catalog or partner setting until
    :func:`publish_version`. New versions are newer than every earlier one, drafts too."""
    partner = _resolve_partner(parsed, partner_slug, update=publish)
    course = db.session.scalar(select(Course).where(Course.slug == parsed.slug))
    latest = latest_version(course, include_drafts=True) if course else None
    if course is not None:
        if course.partner_id != partner.id:
            raise Conflict(
                f"The course {parsed.slug!r} is published by {course.partner.name} "
                f"({course.partner.slug}); another partner cannot publish over it.",
                [Problem("choose another slug", "course.yaml: slug")],
            )
        same = db.session.scalar(
            select(CourseVersion).where(
                CourseVersion.course_id == course.id,
                CourseVersion.content_hash == parsed.content_hash,
            )
        )
        if same is not None:
            if publish and not same.is_published:
                publish_version(same)  # an operator imports a partner's draft: publication
            return ImportResult(
                parsed.slug, same.version, same.title, created=False, published=same.is_published
            )
        clash = db.session.scalar(
            select(CourseVersion).where(
                CourseVersion.course_id == course.id, CourseVersion.version == parsed.version
            )
        )
        if clash is not None:
            raise Conflict(
                f"Version {parsed.version} of {parsed.slug} was already imported with other "
                "content; a version never changes once learners may have started it.",
                [
                    Problem(
                        f"raise the version above {latest.version if latest else parsed.version}",
                        "course.yaml: version",
                        "e.g. 1.0.1 for corrections, 1.1.0 for new material",
                    )
                ],
            )
        if latest is not None and semver_key(parsed.version) <= semver_key(latest.version):
            raise Conflict(
                f"Version {parsed.version} is not newer than {latest.version}, the latest "
                f"version of {parsed.slug}.",
                [Problem(f"use a version above {latest.version}", "course.yaml: version")],
            )
    else:
        course = Course(slug=parsed.slug, partner=partner)
        db.session.add(course)
        db.session.flush()
    version = _build_version(course, parsed, (latest.sequence if latest else 0) + 1)
    # null(), not None: the column's default would turn None into "published now".
    version.published_at = utcnow() if publish else null()  # type: ignore[assignment]
    db.session.add(version)
    db.session.flush()
    audit.record(
        "course.imported",
        target_type="course_version",
        target_id=version.id,
        slug=parsed.slug,
        version=parsed.version,
        content_hash=parsed.content_hash,
        published=publish,
    )
    return ImportResult(
        parsed.slug,
        parsed.version,
        parsed.title,
        created=True,
        previous_version=latest.version if latest else None,
        published=publish,
    )


def _resolve_partner(parsed: ParsedCourse, override: str | None, update: bool = True) -> Partner:
    declared = parsed.manifest["partner"]
    slug = override or parsed.partner_slug
    partner = db.session.scalar(select(Partner).where(Partner.slug == slug))
    details = declared if isinstance(declared, dict) and declared["slug"] == slug else None
    if details is None and isinstance(declared, dict) and partner is None:
        details = declared  # --partner names a new partner: take the package's details
    if partner is None:
        if reserved := reserved_partner_slug(slug):
            raise InvalidInput(f"{reserved}: choose another, e.g. the university's name.")
        if details is None:
            raise NotFound(
                f"No partner {slug!r}.",
                [
                    Problem(
                        "name the partner in course.yaml",
                        "course.yaml: partner",
                        "write partner: with slug:, name: (and settings:) the first time",
                    )
                ],
            )
        partner = Partner(slug=slug, name=details["name"], settings={})
        db.session.add(partner)
    elif not update:
        return partner  # a draft changes no partner details until it is published
    if details is not None:
        partner.name = details["name"]
    if details is not None and "settings" in details:
        # Settings are replaced only by a package that states them: a course that just
        # names its partner leaves the accreditation details another package gave.
        settings = dict(details.get("settings") or {})
        logo = settings.pop("logo", None)
        if logo:
            data = parsed.assets[logo]
            partner.logo = data
            partner.logo_media_type = media_type(logo)
            settings["logo"] = f"/courses/partners/{slug}/logo"
            settings["logo_sha256"] = hashlib.sha256(data).hexdigest()
        elif partner.logo is not None:
            settings["logo"] = f"/courses/partners/{slug}/logo"
            settings["logo_sha256"] = hashlib.sha256(partner.logo).hexdigest()
        if settings != partner.settings:
            partner.settings = settings
            partner.updated_at = utcnow()
    db.session.flush()
    return partner


def _build_version(course: Course, parsed: ParsedCourse, sequence: int) -> CourseVersion:
    manifest = parsed.manifest
    credit = manifest["credit"]
    version = CourseVersion(
        course=course,
        sequence=sequence,
        version=parsed.version,
        content_hash=parsed.content_hash,
        title=manifest["title"],
        summary=manifest["summary"],
        language=manifest["language"],
        estimated_minutes=manifest["estimated_minutes"],
        credit_type=credit["type"],
        credit_amount=float(credit["amount"]),
        pass_score=float(manifest["pass_score"]),
        max_attempts=manifest.get("attempts"),
        objectives=list(manifest["objectives"]),
        tags=list(manifest.get("tags") or []),
        licence=manifest.get("licence"),
        accreditation_statement=manifest.get("accreditation_statement"),
        manifest=manifest,
    )
    position = 0
    for lesson_number, parsed_lesson in enumerate(parsed.lessons, 1):
        lesson = Lesson(
            position=lesson_number,
            key=parsed_lesson.key,
            title=parsed_lesson.title,
            estimated_minutes=parsed_lesson.minutes,
            source_path=parsed_lesson.path,
        )
        version.lessons.append(lesson)
        for parsed_step in parsed_lesson.steps:
            position += 1
            step = Step(
                position=position,
                key=parsed_step.key,
                type=parsed_step.type,
                title=parsed_step.title,
                required=parsed_step.required,
                max_score=parsed_step.max_score,
                config=parsed_step.config,
                lesson=lesson,
            )
            version.steps.append(step)
    for path, data in sorted(parsed.assets.items()):
        db.session.add(
            Asset(
                version=version,
                path=path,
                media_type=media_type(path),
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
            )
        )
    return version


# -- courses and versions ---------------------------------------------------------------


def latest_version(course: Course, *, include_drafts: bool = False) -> CourseVersion | None:
    """The newest published version (the newest of all with ``include_drafts``)."""
    stmt = select(CourseVersion).where(CourseVersion.course_id == course.id)
    if not include_drafts:
        stmt = stmt.where(CourseVersion.published_at.is_not(None))
    return db.session.scalar(stmt.order_by(CourseVersion.sequence.desc()).limit(1))


def get_course(slug: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise NotFound(f"There is no course {slug!r}.")
    return course


def find_version(
    slug: str, version: str | None = None, *, include_drafts: bool = False
) -> CourseVersion | None:
    stmt = select(CourseVersion).join(Course).where(Course.slug == slug)
    if not include_drafts:
        stmt = stmt.where(CourseVersion.published_at.is_not(None))
    if version is None:
        stmt = stmt.order_by(CourseVersion.sequence.desc()).limit(1)
    else:
        stmt = stmt.where(CourseVersion.version == version)
    return db.session.scalar(stmt)


def latest_versions(tenant_id: int | None = None) -> list[CourseVersion]:
    """The latest version of every course (not hidden by ``tenant_id``), by title."""
    newest = (
        select(CourseVersion.course_id, func.max(CourseVersion.sequence).label("sequence"))
        .where(CourseVersion.published_at.is_not(None))
        .group_by(CourseVersion.course_id)
        .subquery()
    )
    stmt = select(CourseVersion).join(
        newest,
        and_(
            CourseVersion.course_id == newest.c.course_id,
            CourseVersion.sequence == newest.c.sequence,
        ),
    )
    if tenant_id is not None:
        hidden = select(HiddenCourse.course_id).where(HiddenCourse.tenant_id == tenant_id)
        stmt = stmt.where(CourseVersion.course_id.not_in(hidden))
    return sorted(db.session.scalars(stmt), key=lambda v: v.title.lower())


def search_catalog(
    tenant_id: int,
    query: str | None = None,
    credit_type: str | None = None,
    max_minutes: int | None = None,
) -> list[CourseVersion]:
    """Latest visible versions matching the filters; title matches first, then tags, text."""
    versions = latest_versions(tenant_id)
    if credit_type:
        versions = [v for v in versions if v.credit_type == credit_type]
    if max_minutes:
        versions = [v for v in versions if v.estimated_minutes <= max_minutes]
    words = [w for w in re.split(r"\W+", (query or "").lower()) if w]
    if not words:
        return versions
    ranked = []
    for version in versions:
        title = version.title.lower()
        tags = " ".join(version.tags).lower()
        text = " ".join([version.summary, *version.objectives, version.course.partner.name]).lower()
        score = 0
        for word in words:
            if word in title:
                score += 3
            elif word in tags:
                score += 2
            elif word in text:
                score += 1
            else:
                score = 0
                break
        if score:
            ranked.append((-score, version.title.lower(), version))
    return [version for *_, version in sorted(ranked, key=lambda r: (r[0], r[1]))]


def is_hidden(tenant_id: int, course_id: int) -> bool:
    return (
        db.session.scalar(
            select(HiddenCourse.id).where(
                HiddenCourse.tenant_id == tenant_id, HiddenCourse.course_id == course_id
            )
        )
        is not None
    )


def set_course_hidden(tenant: Tenant, slug: str, hidden: bool) -> bool:
    """Hide a course from (or show it again in) one hospital's catalog; True if it changed.

    Attempts in progress stay reachable from "My courses" history; the course just stops
    being offered. The education department's UI for this comes later; the CLI uses it now.
    """
    course = get_course(slug)
    row = db.session.scalar(
        select(HiddenCourse).where(
            HiddenCourse.tenant_id == tenant.id, HiddenCourse.course_id == course.id
        )
    )
    if hidden and row is None:
        db.session.add(HiddenCourse(tenant_id=tenant.id, course_id=course.id))
    elif not hidden and row is not None:
        db.session.delete(row)
    else:
        return False
    audit.record(
        "course.hidden" if hidden else "course.shown",
        tenant=tenant,
        target_type="course",
        target_id=course.id,
        slug=slug,
    )
    return True


def get_asset(slug: str, version: str, path: str) -> Asset:
    asset = db.session.scalar(
        select(Asset)
        .join(CourseVersion, Asset.version_id == CourseVersion.id)
        .join(Course)
        .where(
            Course.slug == slug,
            CourseVersion.version == version,
            CourseVersion.published_at.is_not(None),
            Asset.path == path,
        )
    )
    if asset is None:
        raise NotFound(f"No file {path} in {slug} {version}.")
    return asset


def get_partner(slug: str) -> Partner | None:
    return db.session.scalar(select(Partner).where(Partner.slug == slug))


# -- drafts and publication -------------------------------------------------------------


def publish_version(version: CourseVersion) -> None:
    """A draft reaches learners: it becomes the course's latest version in every catalog.

    Learners in progress keep the version they started. The partner details the package
    states (name, accreditation, logo) take effect now, not at upload.
    """
    if version.is_published:
        raise Conflict(f"Version {version.version} of {version.slug} is already published.")
    latest = latest_version(version.course)
    if latest is not None and latest.sequence > version.sequence:
        raise Conflict(
            f"Version {version.version} is older than {latest.version}, which learners "
            f"already have; publish a version above {latest.version}.",
            [Problem(f"upload a version above {latest.version}", "course.yaml: version")],
        )
    assets = {}
    declared = version.manifest.get("partner")
    logo = (declared.get("settings") or {}).get("logo") if isinstance(declared, dict) else None
    if logo:
        asset = db.session.scalar(
            select(Asset).where(Asset.version_id == version.id, Asset.path == logo)
        )
        if asset is not None:
            assets[logo] = asset.data
    parsed = ParsedCourse(
        manifest=version.manifest, lessons=[], assets=assets, content_hash=version.content_hash
    )
    _resolve_partner(parsed, version.course.partner.slug)
    version.published_at = utcnow()
    audit.record(
        "course.published",
        target_type="course_version",
        target_id=version.id,
        slug=version.slug,
        version=version.version,
        previous_version=latest.version if latest else None,
    )


def discard_draft(version: CourseVersion) -> None:
    """Delete a draft nobody but its authors has seen; its version number is free again.

    A course whose only version was that draft goes with it, freeing its slug.
    """
    if version.is_published:
        raise Conflict(
            f"Version {version.version} of {version.slug} is published; learners may have "
            "started it, so it stays. Publish a newer version instead."
        )
    course = version.course
    audit.record(
        "course.draft_discarded",
        target_type="course_version",
        target_id=version.id,
        slug=course.slug,
        version=version.version,
    )
    db.session.delete(version)
    db.session.flush()
    remaining = db.session.scalar(
        select(func.count()).select_from(CourseVersion).where(CourseVersion.course_id == course.id)
    )
    if not remaining:
        db.session.delete(course)
        db.session.flush()


# -- the learner's courses --------------------------------------------------------------


@dataclass(frozen=True)
class LearnerStatus:
    """Where a learner stands with a course, for the catalog and the course page."""

    label: str  # "Not started", "In progress", "Passed", "Not passed"
    badge: str  # CSS modifier: "", "warn", "ok", "bad"
    attempt: Attempt | None = None
    steps_done: int = 0
    steps_total: int = 0


def learner_statuses(tenant_id: int, user_id: int) -> dict[int, LearnerStatus]:
    """course id → status from the learner's latest attempt at each course."""
    attempts = db.session.scalars(
        Attempt.for_tenant(tenant_id)
        .where(Attempt.user_id == user_id)
        .order_by(Attempt.course_id, Attempt.number)
    ).all()
    latest: dict[int, Attempt] = {}
    for attempt in attempts:
        latest[attempt.course_id] = attempt
    done_counts = dict(
        db.session.execute(
            select(StepResponse.attempt_id, func.count())
            .where(
                StepResponse.tenant_id == tenant_id,
                StepResponse.attempt_id.in_([a.id for a in latest.values()]),
                StepResponse.completed.is_(True),
            )
            .group_by(StepResponse.attempt_id)
        ).all()
    )
    totals = step_counts([a.version_id for a in latest.values()])
    statuses = {}
    for course_id, attempt in latest.items():
        done, total = done_counts.get(attempt.id, 0), totals.get(attempt.version_id, 0)
        if attempt.status == AttemptStatus.IN_PROGRESS:
            status = LearnerStatus("In progress", "warn", attempt, done, total)
        elif attempt.passed:
            status = LearnerStatus("Passed", "ok", attempt, done, total)
        else:
            status = LearnerStatus("Not passed", "bad", attempt, done, total)
        statuses[course_id] = status
    return statuses


def step_counts(version_ids: Sequence[int]) -> dict[int, int]:
    if not version_ids:
        return {}
    return dict(
        db.session.execute(
            select(Step.version_id, func.count())
            .where(Step.version_id.in_(version_ids))
            .group_by(Step.version_id)
        ).all()
    )


def attempts_for(tenant_id: int, user_id: int, course_id: int) -> list[Attempt]:
    return list(
        db.session.scalars(
            Attempt.for_tenant(tenant_id)
            .where(Attempt.user_id == user_id, Attempt.course_id == course_id)
            .order_by(Attempt.number)
        )
    )


@dataclass(frozen=True)
class CoursePage:
    course: Course
    version: CourseVersion  # the version the learner sees: their attempt's, or the latest
    latest: CourseVersion
    status: LearnerStatus
    attempts: list[Attempt]
    current: Attempt | None  # in progress
    can_start: bool
    start_blocked: str | None  # why a new attempt cannot start
    hidden: bool


def course_page(tenant: Tenant, user: User, slug: str) -> CoursePage:
    course = get_course(slug)
    latest = latest_version(course)
    if latest is None:
        raise NotFound(f"There is no course {slug!r}.")
    attempts = attempts_for(tenant.id, user.id, course.id)
    current = next((a for a in attempts if a.status == AttemptStatus.IN_PROGRESS), None)
    hidden = is_hidden(tenant.id, course.id)
    if hidden and not attempts:
        raise NotFound(f"There is no course {slug!r} in your hospital's catalog.")
    status = learner_statuses(tenant.id, user.id).get(course.id) or LearnerStatus(
        "Not started", "", None, 0, len(latest.steps)
    )
    blocked = _start_blocked(latest, attempts, hidden)
    return CoursePage(
        course=course,
        version=current.version if current else latest,
        latest=latest,
        status=status,
        attempts=attempts,
        current=current,
        can_start=current is None and blocked is None,
        start_blocked=None if current else blocked,
        hidden=hidden,
    )


def _start_blocked(latest: CourseVersion, attempts: list[Attempt], hidden: bool) -> str | None:
    if any(a.passed for a in attempts):
        return "You have passed this course."
    if hidden:
        return "Your hospital no longer offers this course."
    limit = latest.max_attempts
    if limit is not None and len(attempts) >= limit:
        return f"You have used all {limit} attempts this course allows."
    return None


# -- events -----------------------------------------------------------------------------


def _app() -> Any:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def learner_context(attempt: Attempt, session_id: str | None) -> signals.LearnerContext:
    return signals.LearnerContext(
        tenant_id=attempt.tenant_id,
        user_id=attempt.user_id,
        occurred_at=utcnow(),
        attempt_id=attempt.id,
        registration=attempt.registration,
        session_id=session_id,
    )


def course_ref(version: CourseVersion) -> signals.CourseRef:
    return signals.CourseRef(
        slug=version.course.slug,
        version=version.version,
        title=version.title,
        partner=version.course.partner.slug,
        language=version.language,
    )


def credit_of(version: CourseVersion) -> dict[str, Any] | None:
    if not version.has_credit:
        return None
    return {"type": version.credit_type, "amount": version.credit_amount}


# -- attempts ---------------------------------------------------------------------------


def start_attempt(
    tenant: Tenant,
    user: User,
    slug: str,
    session_id: str | None,
    lms_context_id: int | None = None,
) -> Attempt:
    """Start a new attempt on the latest version, or return the one in progress.

    ``lms_context_id``: the LMS course (unit) the learner launched from, for reports.
    """
    page = course_page(tenant, user, slug)
    if page.current is not None:
        return page.current
    if page.start_blocked:
        raise Conflict(page.start_blocked)
    attempt = Attempt(
        tenant_id=tenant.id,
        user_id=user.id,
        course_id=page.course.id,
        version=page.latest,
        version_id=page.latest.id,
        number=len(page.attempts) + 1,
        session_id=session_id,
        current_position=1,
        lms_context_id=lms_context_id,
    )
    db.session.add(attempt)
    db.session.flush()
    signals.attempt_started.send(
        _app(),
        event=signals.AttemptEvent(learner_context(attempt, session_id), course_ref(page.latest)),
    )
    return attempt


def get_attempt(tenant: Tenant, user: User, slug: str, registration: str) -> Attempt:
    """The learner's own attempt in their own tenant; anyone else's is "not found"."""
    attempt = db.session.scalar(
        Attempt.for_tenant(tenant)
        .join(Course, Attempt.course_id == Course.id)
        .where(
            Attempt.user_id == user.id,
            Attempt.registration == registration,
            Course.slug == slug,
        )
        .options(selectinload(Attempt.responses))
    )
    if attempt is None:
        raise NotFound("There is no such attempt of yours at this course.")
    return attempt


def suspend_attempt(attempt: Attempt, session_id: str | None) -> None:
    """The learner leaves ("Save and leave"); everything is already saved."""
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return
    _touch(attempt)
    attempt.suspended_at = utcnow()
    signals.attempt_suspended.send(
        _app(),
        event=signals.AttemptEvent(
            learner_context(attempt, session_id), course_ref(attempt.version)
        ),
    )


def suspend_other_sessions(user_id: int, tenant_id: int, session_id: str | None) -> None:
    """A new launch: attempts left open in an earlier session are suspended there."""
    attempts = db.session.scalars(
        Attempt.for_tenant(tenant_id).where(
            Attempt.user_id == user_id,
            Attempt.status == AttemptStatus.IN_PROGRESS,
            Attempt.suspended_at.is_(None),
        )
    )
    for attempt in attempts:
        if attempt.session_id != session_id:
            attempt.suspended_at = utcnow()
            signals.attempt_suspended.send(
                _app(),
                event=signals.AttemptEvent(
                    learner_context(attempt, attempt.session_id), course_ref(attempt.version)
                ),
            )


def _touch(attempt: Attempt) -> dt.timedelta:
    """Count the time since the last action, unless it was a break; returns it."""
    now = utcnow()
    spent = max(now - attempt.last_active_at, dt.timedelta(0))
    spent = min(spent, IDLE_CAP)
    attempt.active_seconds += int(spent.total_seconds())
    attempt.last_active_at = now
    return spent


# -- the player -------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    furthest: int  # the furthest position the learner may open

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress(attempt: Attempt) -> Progress:
    steps = attempt.version.steps
    done_ids = {r.step_id for r in attempt.responses if r.completed}
    furthest = next((s.position for s in steps if s.id not in done_ids), len(steps))
    return Progress(len(done_ids & {s.id for s in steps}), len(steps), furthest)


def step_type(step: Step) -> StepType:
    types = registry()
    if step.type not in types:
        raise NotFound(f"This step needs the {step.type!r} step type, which is not installed here.")
    return types[step.type]


def response_for(attempt: Attempt, step: Step) -> StepResponse | None:
    return next((r for r in attempt.responses if r.step_id == step.id), None)


@dataclass(frozen=True)
class StepScreen:
    attempt: Attempt
    step: Step
    step_type: StepType
    response: StepResponse | None
    progress: Progress
    previous: int | None
    next: int | None  # the next position, if the learner may go on
    answerable: bool


def open_step(attempt: Attempt, position: int, session_id: str | None) -> StepScreen:
    """Show a step; remembers it as the place to resume. A new session here is a resume."""
    steps = attempt.version.steps
    if not 1 <= position <= len(steps):
        raise NotFound(f"This course has no step {position}.")
    state = progress(attempt)
    if position > state.furthest and attempt.status == AttemptStatus.IN_PROGRESS:
        raise StepLocked(state.furthest)
    step = steps[position - 1]
    if attempt.status == AttemptStatus.IN_PROGRESS:
        if attempt.session_id != session_id or attempt.suspended_at is not None:
            if attempt.session_id is not None or attempt.suspended_at is not None:
                signals.attempt_resumed.send(
                    _app(),
                    event=signals.AttemptEvent(
                        learner_context(attempt, session_id), course_ref(attempt.version)
                    ),
                )
            attempt.session_id = session_id
            attempt.suspended_at = None
            # Time away between sessions is not learning time.
            attempt.last_active_at = utcnow()
        elif attempt.current_position != position:
            _touch(attempt)
        attempt.current_position = position
    return _screen(attempt, step, state)


def _screen(attempt: Attempt, step: Step, state: Progress) -> StepScreen:
    kind = step_type(step)
    response = response_for(attempt, step)
    done = bool(response and response.completed)
    count = len(attempt.version.steps)
    return StepScreen(
        attempt=attempt,
        step=step,
        step_type=kind,
        response=response,
        progress=state,
        previous=step.position - 1 if step.position > 1 else None,
        next=step.position + 1 if done and step.position < count else None,
        answerable=attempt.status == AttemptStatus.IN_PROGRESS
        and kind.answerable(step.config, response.response if response else None),
    )


class StepLocked(Exception):
    """The learner asked for a step beyond the furthest one they may open."""

    def __init__(self, furthest: int) -> None:
        super().__init__(furthest)
        self.furthest = furthest


class AnswerInvalid(InvalidInput):
    """An answer that cannot be saved; the step is shown again with ``field`` marked."""

    def __init__(self, screen: StepScreen, field: str, message: str) -> None:
        super().__init__(message, [Problem(message, field)])
        self.screen = screen
        self.field = field


@dataclass(frozen=True)
class SaveOutcome:
    position: int  # where the learner goes next
    stay: bool  # show this step again (feedback, the next decision point)
    completed: bool  # the attempt just completed


def save_step(
    attempt: Attempt,
    position: int,
    form: Mapping[str, list[str]],
    action: str,
    session_id: str | None,
) -> SaveOutcome:
    """Save the learner's answer (or skip) the moment it is given, and send its events."""
    if attempt.status != AttemptStatus.IN_PROGRESS:
        raise Conflict("This attempt is complete; its answers can no longer change.")
    screen = open_step(attempt, position, session_id)
    step, kind, response = screen.step, screen.step_type, screen.response
    count = len(attempt.version.steps)
    if action == "skip":
        if step.required:
            raise AnswerInvalid(screen, "action", "This step cannot be skipped.")
        if response is None or not response.completed:
            _store(attempt, step, {"skipped": True}, completed=True)
            _after_save(attempt, session_id, position)
        return _outcome(attempt, position, stay=False)
    if not screen.answerable:
        # A knowledge check answered before (e.g. a second tap): go on, change nothing.
        return _outcome(attempt, position, stay=False)
    if kind.name in ("content", "guided_practice") and response is not None and response.completed:
        return _outcome(attempt, position, stay=False)
    try:
        evaluation = kind.evaluate(step.config, form, response.response if response else None)
    except AnswerError as exc:
        raise AnswerInvalid(screen, exc.field, exc.message) from None
    spent = _touch(attempt)
    saved = _store(
        attempt,
        step,
        evaluation.response,
        completed=evaluation.completed,
        score=evaluation.score,
        success=evaluation.success,
    )
    step_ref = signals.StepRef(
        id=step.key,
        title=step.title,
        type=step.type,
        position=step.position,
        count=count,
        lesson_id=step.lesson.key,
        lesson_title=step.lesson.title,
    )
    if evaluation.part is not None:
        part_id, part_title = evaluation.part
        step_ref = signals.StepRef(
            id=f"{step.key}/{part_id}",
            title=f"{step.title}: {part_title}",
            type=step.type,
            position=step.position,
            count=count,
            lesson_id=step.lesson.key,
            lesson_title=step.lesson.title,
        )
    interaction = _in_language(evaluation.interaction, attempt.version.language)
    max_score = step.max_score or None
    result = signals.Result(
        score_scaled=(evaluation.score / max_score)
        if max_score and evaluation.score is not None
        else None,
        score_raw=evaluation.score if max_score else None,
        score_min=0.0 if max_score else None,
        score_max=max_score,
        success=evaluation.success,
        completion=saved.completed,
        duration=spent,
        response=None if kind.private else evaluation.xapi_response,
    )
    signals.step_completed.send(
        _app(),
        event=signals.StepEvent(
            learner=learner_context(attempt, session_id),
            course=course_ref(attempt.version),
            step=step_ref,
            verb=kind.verb,
            activity_type=kind.activity_type,
            interaction=interaction,
            result=result,
            private=kind.private,
        ),
    )
    completed = _after_save(attempt, session_id, position)
    # Answers that earn feedback (a check, a decision point) stay on screen to read it.
    stay = kind.name in ("knowledge_check", "scenario") or not saved.completed
    return SaveOutcome(position if stay else min(position + 1, count), stay, completed)


def _in_language(interaction: dict[str, Any] | None, language: str) -> dict[str, Any] | None:
    """Step types describe choices in "en-US"; xAPI language maps take the content's tag."""
    if not interaction or language == "en-US" or "choices" not in interaction:
        return interaction
    choices = [
        {**choice, "description": {language: next(iter(choice["description"].values()))}}
        for choice in interaction["choices"]
    ]
    return {**interaction, "choices": choices}


def _outcome(attempt: Attempt, position: int, stay: bool) -> SaveOutcome:
    count = len(attempt.version.steps)
    return SaveOutcome(
        position if stay else min(position + 1, count),
        stay,
        attempt.status == AttemptStatus.COMPLETED,
    )


def _store(
    attempt: Attempt,
    step: Step,
    data: dict[str, Any],
    *,
    completed: bool,
    score: float | None = None,
    success: bool | None = None,
) -> StepResponse:
    response = response_for(attempt, step)
    if response is None:
        response = StepResponse(tenant_id=attempt.tenant_id, step_id=step.id, step=step)
        attempt.responses.append(response)
    response.response = data
    response.completed = completed
    response.score = score
    response.success = success
    response.updated_at = utcnow()
    db.session.flush()
    return response


def _score(attempt: Attempt) -> tuple[float, float]:
    raw = sum(r.score or 0.0 for r in attempt.responses if r.completed)
    maximum = sum(s.max_score for s in attempt.version.steps)
    return raw, maximum


def _after_save(attempt: Attempt, session_id: str | None, position: int) -> bool:
    """Progress event; then completion when every step is done (optional ones skipped)."""
    state = progress(attempt)
    raw, maximum = _score(attempt)
    context = learner_context(attempt, session_id)
    ref = course_ref(attempt.version)
    all_done = state.done >= state.total
    signals.progress_changed.send(
        _app(),
        event=signals.ProgressEvent(
            learner=context,
            course=ref,
            steps_done=state.done,
            steps_total=state.total,
            result=signals.Result(
                score_scaled=raw / maximum if maximum else None,
                score_raw=raw if maximum else None,
                score_min=0.0 if maximum else None,
                score_max=maximum or None,
                completion=all_done,
                duration=dt.timedelta(seconds=attempt.active_seconds),
            ),
        ),
    )
    if not all_done:
        return False
    version = attempt.version
    scaled = raw / maximum if maximum else None
    passed = scaled is None or scaled + 1e-9 >= version.pass_score
    attempt.status = AttemptStatus.COMPLETED
    attempt.completed_at = utcnow()
    attempt.score_raw = raw if maximum else None
    attempt.score_max = maximum or None
    attempt.passed = passed
    duration = dt.timedelta(seconds=attempt.active_seconds)
    signals.course_completed.send(
        _app(),
        event=signals.CompletionEvent(
            learner=context,
            course=ref,
            passed=passed,
            result=signals.Result(
                score_scaled=scaled,
                score_raw=raw if maximum else None,
                score_min=0.0 if maximum else None,
                score_max=maximum or None,
                success=passed,
                completion=True,
                duration=duration,
            ),
            credit=credit_of(version),
        ),
    )
    return True


def require_learner(user: User, tenant: Tenant | None) -> Tenant:
    if tenant is None:
        raise Forbidden(
            "Courses are taken from your hospital's learning system: open Shiftwell from the "
            "link in your course there."
        )
    return tenant
