"""Fixtures for the partner portal: two partners with their courses and authors, packages
to upload, learners' attempts to count."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms_core.extensions import db
from lms_core.models import AuditLog, Role, Tenant, User
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "courses"
RESET = EXAMPLES / "four-minute-reset"  # Northbridge's
EMOTIONS = EXAMPLES / "emotions-on-the-ward"  # Lakeside's
NORTHBRIDGE = "northbridge-nursing"
LAKESIDE = "lakeside-health-sciences"
PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def courses(app: Flask) -> None:
    """The example courses: Northbridge publishes two, Lakeside one."""
    from courses import services

    with app.app_context():
        for folder in sorted(EXAMPLES.iterdir()):
            services.import_package(folder)
        db.session.commit()


def make_author(app: Flask, make_user: Any, partner_slug: str, email: str) -> User:
    from courses.models import Partner
    from courses.partners.models import PartnerMember

    user = make_user(None, roles=(Role.PARTNER_AUTHOR,), email=email, password=PASSWORD)
    with app.app_context():
        partner = db.session.scalar(select(Partner).where(Partner.slug == partner_slug))
        assert partner is not None
        db.session.add(PartnerMember(partner_id=partner.id, user_id=user.id))
        db.session.commit()
    return user


@pytest.fixture
def author(app: Flask, make_user: Any, courses: None) -> User:
    """Northbridge's author (partner A)."""
    return make_author(app, make_user, NORTHBRIDGE, "ada@northbridge.example.edu")


@pytest.fixture
def other_author(app: Flask, make_user: Any, courses: None) -> User:
    """Lakeside's author (partner B)."""
    return make_author(app, make_user, LAKESIDE, "bo@lakeside.example.edu")


def as_author(client: Any, user: User) -> None:
    login(client, user, kind="local")


def new_version(source: Path, target: Path, version: str, title: str | None = None) -> Path:
    """A copy of a package as a new version, with a visible change in its first lesson."""
    shutil.copytree(source, target)
    manifest = target / "course.yaml"
    text = re.sub(r"(?m)^version: .*$", f'version: "{version}"', manifest.read_text())
    if title:
        text = re.sub(r"(?m)^title: .*$", f"title: {title}", text)
    manifest.write_text(text)
    lesson = sorted((target / "lessons").iterdir())[0]
    lesson.write_text(lesson.read_text() + f"\n\nNew in {version}: a closing thought.\n")
    return target


def zip_bytes(folder: Path, top: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                archive.write(path, f"{top}/{name}" if top else name)
    return buffer.getvalue()


def upload_zip(client: Any, partner: str, data: bytes, name: str = "course.zip") -> Any:
    from tests.conftest import csrf_token_from

    page = client.get(f"/partner/{partner}/upload")
    assert page.status_code == 200
    return client.post(
        f"/partner/{partner}/upload",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "package": (io.BytesIO(data), name),
        },
        content_type="multipart/form-data",
    )


def row_counts(app: Flask) -> dict[str, int]:
    """Rows in every table, to show that a refused request wrote nothing."""
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
            for table in db.Model.metadata.sorted_tables
        }


def audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def make_attempt(
    app: Flask,
    tenant: Tenant,
    user: User,
    slug: str,
    *,
    version: str | None = None,
    state: str = "passed",
    number: int = 1,
    answers: dict[str, list[str]] | None = None,
) -> None:
    """An attempt as the player would have left it ("in_progress", "failed", "passed"),
    with first answers to knowledge checks by step key."""
    from courses import services
    from courses.models import Attempt, AttemptStatus, StepResponse

    with app.app_context():
        found = services.find_version(slug, version)
        assert found is not None
        attempt = Attempt(
            tenant_id=tenant.id,
            user_id=user.id,
            course_id=found.course_id,
            version_id=found.id,
            number=number,
            status=AttemptStatus.IN_PROGRESS if state == "in_progress" else AttemptStatus.COMPLETED,
            passed=None if state == "in_progress" else state == "passed",
        )
        db.session.add(attempt)
        db.session.flush()
        steps = {s.key: s for s in found.steps}
        for key, selected in (answers or {}).items():
            step = steps[key]
            right = sorted(o["id"] for o in step.config["options"] if o.get("correct"))
            db.session.add(
                StepResponse(
                    tenant_id=tenant.id,
                    attempt_id=attempt.id,
                    step_id=step.id,
                    response={"selected": selected},
                    completed=True,
                    success=sorted(selected) == right,
                    score=1.0 if sorted(selected) == right else 0.0,
                )
            )
        db.session.commit()


def main_text(html: str) -> str:
    """The page's <main>, for assertion messages."""
    match = re.search(r"<main.*?</main>", html, re.S)
    return match.group(0) if match else html
