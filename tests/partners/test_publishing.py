"""A partner author uploads a new version, previews it, publishes it; learners see it
only then, and learners in progress keep the version they started."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from lms_core.extensions import db
from lms_core.models import Role
from tests.conftest import csrf_token_from, login
from tests.partners.conftest import (
    NORTHBRIDGE,
    RESET,
    as_author,
    audit_actions,
    main_text,
    new_version,
    upload_zip,
    zip_bytes,
)

VERSION_URL = f"/partner/{NORTHBRIDGE}/courses/four-minute-reset/versions"


def catalog_version(app: Flask, tenant_id: int, slug: str = "four-minute-reset") -> str | None:
    from courses import api

    with app.app_context():
        found = [c for c in api.search_catalog(tenant_id) if c.slug == slug]
        course = api.get_course(slug)
        assert (course.version if course else None) == (found[0].version if found else None)
        return found[0].version if found else None


def post_button(client: Any, page: str, action: str) -> Any:
    html = client.get(page).get_data(as_text=True)
    assert f'action="{action}"' in html, f"no form posting to {action} on {page}"
    return client.post(action, data={"csrf_token": csrf_token_from(html)})


def test_author_uploads_a_draft_previews_it_and_publishes_it_to_learners(
    app: Flask, client: Any, author: Any, tenant: Any, make_user: Any, tmp_path: Path
) -> None:
    learner = make_user(tenant, roles=(Role.LEARNER,))
    learner_client = app.test_client()
    login(learner_client, learner)
    # A learner starts 1.0.0 before the new version exists.
    page = learner_client.get("/courses/four-minute-reset")
    learner_client.post(
        "/courses/four-minute-reset/start",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True))},
    )

    as_author(client, author)
    package = new_version(RESET, tmp_path / "v110", "1.1.0", title="The Four-Minute Reset, revised")
    response = upload_zip(client, NORTHBRIDGE, zip_bytes(package, top="four-minute-reset"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{VERSION_URL}/1.1.0/")
    page = client.get(f"{VERSION_URL}/1.1.0/").get_data(as_text=True)
    assert "Draft" in page and "Publish version 1.1.0" in page, main_text(page)

    # The draft reaches nobody: not the catalog, not courses.api, not the learner's page.
    assert catalog_version(app, tenant.id) == "1.0.0"
    assert "revised" not in learner_client.get("/courses/").get_data(as_text=True)
    assert "revised" not in learner_client.get("/courses/four-minute-reset").get_data(as_text=True)

    # Preview shows the real step page, with the new text.
    first = client.get(f"{VERSION_URL}/1.1.0/preview/")
    assert first.status_code == 302
    step = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Preview of four-minute-reset 1.1.0 (draft)" in step
    assert "Step 1 of" in step

    response = post_button(client, f"{VERSION_URL}/1.1.0/", f"{VERSION_URL}/1.1.0/publish")
    assert response.status_code == 302
    assert catalog_version(app, tenant.id) == "1.1.0"
    assert "revised" in learner_client.get("/courses/").get_data(as_text=True)
    # The learner in progress keeps 1.0.0.
    course_page = learner_client.get("/courses/four-minute-reset").get_data(as_text=True)
    assert "You are taking version 1.0.0" in course_page
    assert audit_actions(app)[-3:] == ["course.imported", "course.uploaded", "course.published"]


def test_a_folder_upload_works_like_a_zip(
    app: Flask, client: Any, author: Any, tmp_path: Path
) -> None:
    as_author(client, author)
    package = new_version(RESET, tmp_path / "four-minute-reset", "1.0.1")
    page = client.get(f"/partner/{NORTHBRIDGE}/upload").get_data(as_text=True)
    files = [
        (io.BytesIO(path.read_bytes()), f"four-minute-reset/{path.relative_to(package).as_posix()}")
        for path in sorted(package.rglob("*"))
        if path.is_file()
    ]
    response = client.post(
        f"/partner/{NORTHBRIDGE}/upload",
        data={"csrf_token": csrf_token_from(page), "folder": files},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"{VERSION_URL}/1.0.1/")


def test_a_new_course_appears_nowhere_until_published_and_a_draft_can_be_deleted(
    app: Flask, client: Any, author: Any, tenant: Any, tmp_path: Path
) -> None:
    from courses import api

    as_author(client, author)
    package = new_version(RESET, tmp_path / "fresh", "0.1.0")
    yaml = package / "course.yaml"
    yaml.write_text(yaml.read_text().replace("slug: four-minute-reset", "slug: night-shift-sleep"))
    assert upload_zip(client, NORTHBRIDGE, zip_bytes(package)).status_code == 302
    with app.app_context():
        assert api.get_course("night-shift-sleep") is None
        assert api.get_course("night-shift-sleep", "0.1.0") is None
        assert all(c.slug != "night-shift-sleep" for c in api.search_catalog(tenant.id))
    learner_client = app.test_client()
    from tests.conftest import login as lti_login

    lti_login(learner_client, _learner(app, tenant))
    assert learner_client.get("/courses/night-shift-sleep").status_code == 404
    assert (
        learner_client.get("/courses/night-shift-sleep/v/0.1.0/assets/assets/box-breathing.png")
    ).status_code == 404

    base = f"/partner/{NORTHBRIDGE}/courses/night-shift-sleep/versions/0.1.0"
    response = post_button(client, f"{base}/", f"{base}/discard")
    assert response.status_code == 302
    assert client.get(f"{base}/").status_code == 404
    assert "course.draft_discarded" in audit_actions(app)


def _learner(app: Flask, tenant: Any) -> Any:
    from lms_core.models import User

    with app.app_context():
        user = User(tenant_id=tenant.id, issuer="https://lms.example.edu", subject="s-1")
        user.grant(Role.LEARNER)
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def test_uploading_the_same_version_again_replaces_its_draft(
    app: Flask, client: Any, author: Any, tmp_path: Path
) -> None:
    from courses.models import CourseVersion

    as_author(client, author)
    first = new_version(RESET, tmp_path / "a", "1.2.0")
    assert upload_zip(client, NORTHBRIDGE, zip_bytes(first)).status_code == 302
    second = new_version(RESET, tmp_path / "b", "1.2.0")
    (second / "lessons" / "01-why-pause.md").write_text(
        (second / "lessons" / "01-why-pause.md").read_text() + "\nA corrected typo.\n"
    )
    response = upload_zip(client, NORTHBRIDGE, zip_bytes(second))
    assert response.status_code == 302
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "draft of four-minute-reset 1.2.0 is replaced" in follow
    with app.app_context():
        versions = db.session.scalars(
            select(CourseVersion.version).where(CourseVersion.version == "1.2.0")
        ).all()
        assert versions == ["1.2.0"]


def test_an_older_draft_cannot_be_published_over_a_newer_version(
    app: Flask, client: Any, author: Any, tmp_path: Path
) -> None:
    as_author(client, author)
    upload_zip(client, NORTHBRIDGE, zip_bytes(new_version(RESET, tmp_path / "a", "1.1.0")))
    upload_zip(client, NORTHBRIDGE, zip_bytes(new_version(RESET, tmp_path / "b", "1.2.0")))
    assert (
        post_button(client, f"{VERSION_URL}/1.2.0/", f"{VERSION_URL}/1.2.0/publish").status_code
        == 302
    )
    page = client.get(f"{VERSION_URL}/1.1.0/").get_data(as_text=True)
    assert "can no longer be published" in page
    token = csrf_token_from(page)
    response = client.post(f"{VERSION_URL}/1.1.0/publish", data={"csrf_token": token})
    assert response.status_code == 409
    assert "older than 1.2.0" in response.get_data(as_text=True)


def test_the_operators_cli_import_still_publishes_at_once(
    app: Flask, runner: Any, author: Any, tenant: Any, tmp_path: Path
) -> None:
    package = new_version(RESET, tmp_path / "cli", "2.0.0")
    result = runner.invoke(args=["courses", "import", str(package)])
    assert result.exit_code == 0, result.output
    assert catalog_version(app, tenant.id) == "2.0.0"
