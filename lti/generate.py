"""lti's part of ``shiftwell demo generate``: the made-up hospital's LMS.

One registration and deployment for the event's issuer, a course shell (context) per
unit with its roster as NRPS would have listed it (the generated learners plus about one
in twelve people who never opened Shiftwell), each learner's first launch, and a few
required courses per unit, some already overdue.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from flask import Flask
from sqlalchemy import select

from lms_core import signals
from lms_core.db import utcnow
from lms_core.extensions import db
from lms_core.generate import FAMILY_NAMES, GIVEN_NAMES, bulk_insert, reset_id_sequence
from lms_core.models import User
from lti import assignments, catalog
from lti.models import (
    Assignment,
    Context,
    Deployment,
    Launch,
    Membership,
    Registration,
    RegistrationStatus,
)

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"


def on_demo_generating(sender: Flask, event: signals.GenerateEvent) -> None:
    rng = random.Random(event.seed * 104729 + 3)  # noqa: S311 - made-up data, repeatable
    if event.stage == "activity":
        deployment = _deployment(event)
        contexts = _contexts(event, deployment)
        members, never = _rosters(event, contexts, rng)
        _launches(event, deployment, contexts, rng)
        event.messages.append(
            f"LTI: {len(contexts)} LMS courses (units) with {members:,} people on their "
            f"rosters, {never:,} of whom never opened Shiftwell."
        )
    elif event.stage == "records":
        # After the activity stage, so that the courses made in it can be required too.
        required = _assignments(event, _generated_contexts(event), rng)
        event.messages.append(f"LTI: {required} required courses, some of them overdue.")


def _generated_contexts(event: signals.GenerateEvent) -> list[Context]:
    ids = [unit.context_id for unit in event.units]
    found = {
        c.context_id: c
        for c in db.session.scalars(
            Context.for_tenant(event.tenant_id).where(Context.context_id.in_(ids))
        )
    }
    return [found[i] for i in ids if i in found]


def _deployment(event: signals.GenerateEvent) -> Deployment:
    record = db.session.scalar(
        select(Registration).where(
            Registration.tenant_id == event.tenant_id, Registration.issuer == event.issuer
        )
    )
    if record is None:
        lms = event.issuer
        record = Registration(
            tenant_id=event.tenant_id,
            name=f"{lms.removeprefix('https://')} (generated)",
            issuer=lms,
            client_id="generated",
            auth_login_url=f"{lms}/auth",
            auth_token_url=f"{lms}/token",
            keyset_url=f"{lms}/jwks",
            status=RegistrationStatus.ACTIVE,
            source="generated",
            platform_config={},
            approved_at=utcnow(),
        )
        db.session.add(record)
        db.session.flush()
    deployment = next(
        (d for d in record.deployments if d.deployment_id == event.deployment_id), None
    )
    if deployment is None:
        deployment = Deployment(deployment_id=event.deployment_id, tenant_id=event.tenant_id)
        record.deployments.append(deployment)
        db.session.flush()
    return deployment


def _contexts(event: signals.GenerateEvent, deployment: Deployment) -> list[Context]:
    contexts = []
    for unit in event.units:
        context = Context(
            tenant_id=event.tenant_id,
            deployment_pk=deployment.id,
            context_id=unit.context_id,
            title=unit.title,
            label=unit.label,
            types=["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
            roster_synced_at=event.end,
            created_at=event.start,
            updated_at=event.end,
        )
        db.session.add(context)
        contexts.append(context)
    db.session.flush()
    return contexts


def _rosters(
    event: signals.GenerateEvent, contexts: list[Context], rng: random.Random
) -> tuple[int, int]:
    ids = [learner.user_id for learner in event.learners]
    people: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(ids), 5000):
        for row in db.session.execute(
            select(User.id, User.name, User.given_name, User.family_name, User.email).where(
                User.tenant_id == event.tenant_id, User.id.in_(ids[start : start + 5000])
            )
        ):
            people[row[0]] = tuple(row[1:])
    rows: list[tuple[Any, ...]] = []
    for learner in event.learners:
        name, given, family, email = people[learner.user_id]
        rows.append(
            (
                event.tenant_id,
                contexts[learner.unit].id,
                learner.subject,
                learner.user_id,
                name,
                given,
                family,
                email,
                [LEARNER],
                True,
                "Active",
                event.end,
            )
        )
    never = max(1, len(event.learners) // 12)
    for n in range(never):
        given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
        rows.append(
            (
                event.tenant_id,
                contexts[rng.randrange(len(contexts))].id,
                f"{event.learners[0].subject.rsplit('-', 1)[0]}-roster-{n + 1}",
                None,
                f"{given} {family}",
                given,
                family,
                None,
                [LEARNER],
                True,
                "Active",
                event.end,
            )
        )
    count = bulk_insert(
        Membership.__table__,
        (
            "tenant_id",
            "context_pk",
            "subject",
            "user_id",
            "name",
            "given_name",
            "family_name",
            "email",
            "roles",
            "is_learner",
            "status",
            "synced_at",
        ),
        rows,
    )
    reset_id_sequence(Membership.__table__)
    return count, never


def _launches(
    event: signals.GenerateEvent,
    deployment: Deployment,
    contexts: list[Context],
    rng: random.Random,
) -> None:
    span = (event.end - event.start).total_seconds()
    bulk_insert(
        Launch.__table__,
        (
            "tenant_id",
            "user_id",
            "deployment_pk",
            "context_pk",
            "message_type",
            "roles",
            "created_at",
        ),
        (
            (
                event.tenant_id,
                learner.user_id,
                deployment.id,
                contexts[learner.unit].id,
                RESOURCE_LINK_REQUEST,
                [LEARNER],
                event.start + dt.timedelta(seconds=span * rng.random() ** 0.5),
            )
            for learner in event.learners
        ),
    )
    reset_id_sequence(Launch.__table__)


def _assignments(event: signals.GenerateEvent, contexts: list[Context], rng: random.Random) -> int:
    offered = [course.slug for course in catalog.search(event.tenant_id)]
    if not offered:
        return 0
    today = event.end.date()
    count = 0
    for context in contexts:
        for slug in rng.sample(offered, min(len(offered), rng.choice((1, 2)))):
            db.session.add(
                Assignment(
                    tenant_id=event.tenant_id,
                    context_pk=context.id,
                    course_slug=slug,
                    due_on=today + dt.timedelta(days=rng.choice((-60, -21, -7, 14, 30, 90))),
                    created_by="generated",
                    created_at=event.start,
                    updated_at=event.start,
                )
            )
            count += 1
    db.session.flush()
    for assignment in db.session.scalars(
        select(Assignment).where(Assignment.context_pk.in_([c.id for c in contexts]))
    ):
        assignments.record_past_passes(assignment)
    return count
