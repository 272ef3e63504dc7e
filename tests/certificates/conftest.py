"""The world a certificate test needs: a hospital, learners, staff, a course with credit.

Until the courses package lands on main, the course facts come from ``courses.api``'s
contract dataclasses re-declared here (the catalog itself cannot run yet); the certificates
code reads them through ``certificates.catalog`` exactly as it reads the real ones.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lms_core import signals
from lms_core.extensions import db
from lms_core.models import Role


@dataclass(frozen=True)
class CreditInfo:
    type: str
    amount: float


@dataclass(frozen=True)
class PartnerInfo:
    slug: str
    name: str
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CourseInfo:
    slug: str
    version: str
    title: str
    summary: str
    language: str
    partner: PartnerInfo
    estimated_minutes: int
    credit: CreditInfo | None
    pass_score: float
    objectives: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    licence: str | None = None
    accreditation_statement: str | None = None
    learner_path: str = ""


NORTHBRIDGE = PartnerInfo(
    "northbridge",
    "Northbridge University School of Nursing",
    {
        "accreditation": {
            "ancc-contact-hours": {"provider": "Northbridge University School of Nursing"},
            "ama-pra-category-1": {"provider": "Northbridge University School of Medicine"},
            "ipce": {"provider": "Northbridge University Health Sciences"},
        },
        "certificate": {
            "signatory": {
                "name": "Dr. Amelia Hart, DNP, RN",
                "title": "Director of Continuing Education",
            }
        },
    },
)


def make_course(slug: str = "steady-after-shift", credit: CreditInfo | None = None, **kw: Any):
    return CourseInfo(
        slug=slug,
        version=kw.pop("version", "1.2.0"),
        title=kw.pop("title", "Steadying Yourself After a Difficult Shift"),
        summary="Three short practices for the end of a hard shift.",
        language="en",
        partner=kw.pop("partner", NORTHBRIDGE),
        estimated_minutes=4,
        credit=credit if credit is not None else CreditInfo("ancc-contact-hours", 0.25),
        pass_score=0.8,
        learner_path=f"/courses/{slug}",
        **kw,
    )


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


@pytest.fixture
def catalog(monkeypatch):
    """A catalog with the courses the tests name; ``catalog.add(course)`` adds more."""
    from certificates import catalog as catalog_module

    class Catalog:
        def __init__(self) -> None:
            self.courses: dict[str, CourseInfo] = {}

        def add(self, course: CourseInfo) -> CourseInfo:
            self.courses[course.slug] = course
            return course

        def get_course(self, slug: str, version: str | None = None):
            course = self.courses.get(slug)
            if course is None or (version and course.version != version):
                return None
            return course

        def get_partner(self, slug: str):
            for course in self.courses.values():
                if course.partner.slug == slug:
                    return course.partner
            return None

    fake = Catalog()
    fake.add(make_course())
    fake.add(
        make_course(
            "bedside-ethics", CreditInfo("ama-pra-category-1", 0.5), title="Ethics at the Bedside"
        )
    )
    fake.add(make_course("team-huddles", CreditInfo("ipce", 1.0), title="Huddles That Help"))
    fake.add(make_course("breathing-basics", CreditInfo("none", 0), title="Breathing Basics"))
    monkeypatch.setattr(catalog_module, "get_course", fake.get_course)
    monkeypatch.setattr(catalog_module, "get_partner", fake.get_partner)
    return fake


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
    """Send course_completed as the courses package does, inside a transaction, and commit."""
    from certificates import catalog as catalog_module

    course = catalog_module.get_course(slug)
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
