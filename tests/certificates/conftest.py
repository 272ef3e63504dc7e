"""The world a certificate test needs: a hospital, learners, staff, a course with credit.

Until the courses package lands on main, the course facts come from ``courses.api``'s
contract dataclasses re-declared here (the catalog itself cannot run yet); the certificates
code reads them through ``certificates.catalog`` exactly as it reads the real ones.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from lms_core import signals
from lms_core.extensions import db
from lms_core.models import Role

NORTHBRIDGE_SETTINGS = {
    "accreditation": {
        "ancc-contact-hours": {"provider": "Northbridge University School of Nursing"},
        "ama-pra-category-1": {"provider": "Northbridge University School of Medicine"},
        "ipce": {"provider": "Northbridge University Health Sciences"},
    },
    "contact": {"name": "Dr. Amelia Hart, DNP, RN", "email": "ce@northbridge.example.edu"},
}

LESSON = """---
title: One thing to try
minutes: 3
---

## A short practice

Pause, breathe out slowly, and name one thing you did well today.

```step
type: knowledge_check
id: check
question: What does the practice start with?
options:
  - id: a
    text: A slow breath out.
    correct: true
    feedback: Yes.
  - id: b
    text: A long break.
    feedback: Not quite.
```
"""


def write_package(
    root: Path,
    slug: str,
    credit: tuple[str, float] | None,
    *,
    title: str,
    partner: str = "northbridge",
    partner_name: str = "Northbridge University School of Nursing",
    settings: dict | None = None,
    version: str = "1.2.0",
    statement: str | None = None,
) -> Path:
    """A real course package, as a partner university would publish it."""
    folder = root / f"{slug}-{version}"
    (folder / "lessons").mkdir(parents=True)
    manifest: dict[str, Any] = {
        "slug": slug,
        "version": version,
        "title": title,
        "partner": {
            "slug": partner,
            "name": partner_name,
            "settings": settings if settings is not None else NORTHBRIDGE_SETTINGS,
        },
        "language": "en",
        "summary": "A short practice for the end of a hard shift.",
        "estimated_minutes": 4,
        "pass_score": 0.5,
        "objectives": ["Name one thing that went well."],
        "tags": ["resilience"],
        "lessons": ["lessons/01-practice.md"],
    }
    manifest["credit"] = (
        {"type": credit[0], "amount": credit[1]} if credit else {"type": "none", "amount": 0}
    )
    if statement:
        manifest["accreditation_statement"] = statement
    (folder / "course.yaml").write_text(
        yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False)
    )
    (folder / "lessons" / "01-practice.md").write_text(LESSON)
    return folder


@pytest.fixture(scope="session")
def signing_key_file(tmp_path_factory) -> Path:
    """One issuer key for the whole session: generating RSA keys per test is slow."""
    from joserfc.jwk import RSAKey

    path = tmp_path_factory.mktemp("keys") / "certificates-signing-key.pem"
    path.write_bytes(RSAKey.generate_key(2048, private=True).as_pem(private=True))
    return path


@pytest.fixture
def app_config(app_config, signing_key_file, tmp_path):
    return {
        **app_config,
        "CERTIFICATES_SIGNING_KEY_FILE": str(signing_key_file),
        "CERTIFICATES_EXPORT_DIR": str(tmp_path / "exports"),
    }


class Catalog:
    """Imports packages through courses, as `shiftwell courses import` does."""

    def __init__(self, app, root: Path) -> None:
        self.app, self.root = app, root

    def add(self, slug: str, credit: tuple[str, float] | None, **kw: Any) -> None:
        from courses import services as course_services

        folder = write_package(self.root, slug, credit, **kw)
        with self.app.app_context():
            course_services.import_package(folder)
            db.session.commit()


@pytest.fixture
def catalog(app, tmp_path):
    """The courses the tests name, imported into this test's database."""
    catalog = Catalog(app, tmp_path / "packages")
    catalog.add(
        "steady-after-shift",
        ("ancc-contact-hours", 0.25),
        title="Steadying Yourself After a Difficult Shift",
    )
    catalog.add("bedside-ethics", ("ama-pra-category-1", 0.5), title="Ethics at the Bedside")
    catalog.add("team-huddles", ("ipce", 1.0), title="Huddles That Help")
    catalog.add("breathing-basics", None, title="Breathing Basics")
    return catalog


@pytest.fixture
def learner(make_user, tenant):
    return make_user(tenant, roles=(Role.LEARNER,), subject="nurse-042", name="Maria Gómez")


@pytest.fixture
def nameless_learner(make_user, tenant):
    return make_user(tenant, roles=(Role.LEARNER,), subject="nurse-077")


@pytest.fixture
def educator(make_user, tenant):
    return make_user(tenant, roles=(Role.INSTRUCTOR,), subject="edu-001", name="Sam Educator")


def complete_course(
    app,
    user,
    slug: str = "steady-after-shift",
    *,
    registration: str = "reg-1",
    passed: bool = True,
    credit: dict | None = None,
    version: str = "1.2.0",
):
    """Send course_completed as the courses package does, inside a transaction, and commit.

    ``registration`` names the attempt readably; the event carries the UUID the contract
    requires, derived from that name (the same name is the same attempt)."""
    import uuid

    from courses import api as courses_api

    registration = str(uuid.uuid5(uuid.NAMESPACE_URL, f"attempt:{registration}"))

    with app.app_context():
        course = courses_api.get_course(slug)
    credit = (
        credit
        if credit is not None
        else (
            {"type": course.credit.type, "amount": course.credit.amount}
            if course and course.credit
            else None
        )
    )
    with app.app_context():
        event = signals.CompletionEvent(
            learner=signals.LearnerContext(
                tenant_id=user.tenant_id,
                user_id=user.id,
                occurred_at=dt.datetime(2026, 3, 12, 14, 3, tzinfo=dt.UTC),
                attempt_id=1,
                registration=registration,
                session_id="s1",
            ),
            course=signals.CourseRef(
                slug, version, course.title if course else slug, "northbridge"
            ),
            passed=passed,
            result=signals.Result(score_scaled=0.9, success=passed, completion=True),
            credit=credit,
        )
        signals.course_completed.send(app, event=event)
        db.session.commit()


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def qr_urls(pdf: bytes, tmp_path: Path) -> list[str]:
    """Rasterise the PDF like a phone camera would see it, and decode every QR code."""
    path = tmp_path / "qr.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    out = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", *map(str, pages)],
        capture_output=True,
        check=False,
    )
    return [line for line in out.stdout.decode().splitlines() if line]


needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm") and shutil.which("zbarimg")),
    reason="needs poppler-utils and zbar-tools (installed by .ci/run)",
)
