"""certificates' part of ``shiftwell demo generate``: a certificate for every passed
attempt with credit of the generated learners, written in bulk.

Each is the same snapshot :func:`certificates.services.issue_certificate` takes (wording,
design, names; a learner whose LMS sent no name waits to confirm one), without two costly
things: the PDF, rendered on first download or export as after a restore, and the signed
Open Badges credential, left out of made-up certificates because RS256 with a 3072-bit
key (about 5 ms each) would make it the slowest part of a run by far. The run is marked
in the audit log.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select

from certificates import catalog, credentials, numbering, services, wording
from certificates.models import Certificate, CertificateSource, CertificateStatus
from lms_core import audit, signals
from lms_core.db import utcnow
from lms_core.extensions import db
from lms_core.generate import bulk_insert, reset_id_sequence
from lms_core.models import Tenant, User


def on_demo_generating(sender: Flask, event: signals.GenerateEvent) -> None:
    if event.stage != "records" or not event.certificates:
        return
    rng = random.Random(event.seed * 15485863 + 5)  # noqa: S311 - made-up data, repeatable
    tenant = db.session.get(Tenant, event.tenant_id)
    assert tenant is not None
    learners = {learner.user_id: learner for learner in event.learners}
    names: dict[int, tuple[str | None, str | None, str | None]] = {}
    ids = list(learners)
    for start in range(0, len(ids), 5000):
        for user in db.session.scalars(
            select(User).where(User.tenant_id == tenant.id, User.id.in_(ids[start : start + 5000]))
        ):
            names[user.id] = (services.name_on_record(user), user.issuer, user.subject)
    facts: dict[tuple[str, str], tuple[Any, ...] | None] = {}
    base = credentials.base_url()
    now = utcnow()

    def snapshot(slug: str, version: str, credit_type: str, amount: Decimal) -> Any:
        key = (slug, version)
        if key not in facts:
            course = catalog.get_course(slug, version)
            if course is None:
                facts[key] = None
            else:
                course_facts = services.CourseFacts.from_course_info(course)
                words = wording.wording_for(
                    credit_type,
                    amount,
                    course_facts.partner_name,
                    course_facts.partner_settings,
                    course_facts.accreditation_statement,
                )
                design = services._design(
                    tenant, course_facts.partner_slug, course_facts.partner_settings
                )
                facts[key] = (course_facts, words, design)
        return facts[key]

    def rows() -> Any:
        for completion in catalog.completions(
            tenant.id, since=event.start, passed_only=True, with_credit_only=True
        ):
            if completion.user_id not in learners or completion.credit is None:
                continue
            amount = wording.credit_amount(completion.credit.amount)
            found = snapshot(
                completion.course_slug, completion.course_version, completion.credit.type, amount
            )
            if found is None:
                continue
            course, words, design = found
            name, issuer, subject = names.get(completion.user_id, (None, None, None))
            number = numbering.new_number()
            issued = completion.completed_at + dt.timedelta(seconds=rng.uniform(5, 90))
            yield (
                number,
                tenant.id,
                completion.user_id,
                CertificateStatus.ISSUED if name else CertificateStatus.AWAITING_NAME,
                CertificateSource.COURSE,
                completion.registration,
                name,
                issuer,
                subject,
                course.slug,
                course.version,
                course.title,
                course.language,
                course.partner_slug,
                course.partner_name,
                completion.credit.type,
                amount,
                words.unit(amount),
                words.accreditation,
                words.designation,
                words.provider_name,
                tenant.name,
                completion.completed_at.date(),
                issued if name else None,
                f"{base}/verify/{number}",
                design,
                min(issued, now),
            )

    count = bulk_insert(
        Certificate.__table__,
        (
            "number",
            "tenant_id",
            "user_id",
            "status",
            "source",
            "attempt_registration",
            "learner_name",
            "learner_issuer",
            "learner_subject",
            "course_slug",
            "course_version",
            "course_title",
            "course_language",
            "partner_slug",
            "partner_name",
            "credit_type",
            "credit_amount",
            "credit_unit",
            "accreditation",
            "designation",
            "issuing_organisation",
            "tenant_name",
            "completed_on",
            "issued_at",
            "verify_url",
            "design",
            "created_at",
        ),
        rows(),
    )
    reset_id_sequence(Certificate.__table__)
    audit.record(
        "certificate.generated",
        tenant=tenant,
        target_type="tenant",
        target_id=tenant.id,
        actor="demo generate",
        count=count,
        seed=event.seed,
    )
    event.messages.append(
        f"Certificates: {count:,} made-up certificates (PDFs render on first download)."
    )
