"""Partners publish new versions; learners in progress keep theirs; hospitals hide courses."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from courses import api, services
from courses.models import Attempt, CourseVersion, ImmutableVersionError
from lms_core.extensions import db
from lms_core.models import AuditLog
from tests.conftest import login
from tests.courses.conftest import answers_for, start, walk

SLUG = "four-minute-reset"


def bump(package, version="1.1.0", old="Box breathing is a simple, steady rhythm", new=None):
    course = re.sub(
        r"^version: .*$", f"version: {version}", (package / "course.yaml").read_text(), flags=re.M
    )
    (package / "course.yaml").write_text(course)
    lesson = package / "lessons" / "02-box-breathing.md"
    lesson.write_text(
        lesson.read_text().replace(old, new or "Box breathing (revised) is a calm rhythm")
    )


def test_changed_content_becomes_a_new_version_and_the_catalog_shows_it(
    app, runner, package, tenant
):
    assert runner.invoke(args=["courses", "import", str(package)]).exit_code == 0
    bump(package)
    result = runner.invoke(args=["courses", "import", str(package)])
    assert result.exit_code == 0, result.output
    assert "Imported four-minute-reset 1.1.0 (was 1.0.0)" in result.output
    listing = json.loads(runner.invoke(args=["courses", "list", "--format", "json"]).output)
    assert [(row["slug"], row["version"]) for row in listing] == [(SLUG, "1.1.0")]
    with app.app_context():
        assert api.get_course(SLUG).version == "1.1.0"
        assert api.get_course(SLUG, "1.0.0").version == "1.0.0"
        assert [c.version for c in api.search_catalog(tenant.id)] == ["1.1.0"]
        versions = db.session.scalars(select(CourseVersion).order_by(CourseVersion.sequence)).all()
        assert [v.version for v in versions] == ["1.0.0", "1.1.0"]
        assert versions[0].content_hash != versions[1].content_hash


def test_a_learner_in_progress_keeps_the_version_she_started(app, client, runner, package, learner):
    runner.invoke(args=["courses", "import", str(package)])
    login(client, learner)
    plan = answers_for(app, SLUG)
    at_five = walk(client, start(client, SLUG), plan, stop_at=5)
    bump(package)
    assert runner.invoke(args=["courses", "import", str(package)]).exit_code == 0
    page = client.get(f"/courses/{SLUG}").get_data(as_text=True)
    assert "You are taking version 1.0.0" in page
    box = client.get(at_five.replace("/steps/5", "/steps/4")).get_data(as_text=True)
    assert "Box breathing is a simple, steady rhythm" in box and "revised" not in box
    assert walk(client, at_five, plan).endswith("/result")
    with app.app_context():
        attempt = db.session.scalar(select(Attempt))
        assert attempt.version.version == "1.0.0"


def test_a_new_attempt_uses_the_latest_version(app, client, runner, package, learner):
    runner.invoke(args=["courses", "import", str(package)])
    login(client, learner)
    wrong = answers_for(app, SLUG, right=False)
    result = walk(client, start(client, SLUG), wrong)
    assert "not yet passed" in client.get(result).get_data(as_text=True)
    bump(package)
    runner.invoke(args=["courses", "import", str(package)])
    again = start(client, SLUG)
    box = client.get(again.replace("/steps/1", "/steps/1")).get_data(as_text=True)
    assert "Why a short pause helps" in box
    with app.app_context():
        attempts = db.session.scalars(select(Attempt).order_by(Attempt.number)).all()
        assert [(a.number, a.version.version) for a in attempts] == [(1, "1.0.0"), (2, "1.1.0")]
        assert attempts[0].registration != attempts[1].registration


def test_the_same_version_with_other_content_is_refused(app, runner, package):
    runner.invoke(args=["courses", "import", str(package)])
    bump(package, version="1.0.0")
    result = runner.invoke(args=["courses", "import", str(package)])
    assert result.exit_code == 2
    assert (
        "Version 1.0.0 of four-minute-reset was already imported with other content"
        in result.output
    )
    assert "raise the version" in result.output


def test_an_older_version_number_is_refused(app, runner, package):
    bump(package, version="2.0.0")
    runner.invoke(args=["courses", "import", str(package)])
    bump(package, version="1.5.0", old="revised", new="re-revised")
    result = runner.invoke(args=["courses", "import", str(package)])
    assert result.exit_code == 2 and "not newer than 2.0.0" in result.output


def test_semantic_versions_order_like_semver():
    keys = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0", "1.0.1", "1.10.0", "2.0.0"]
    assert sorted(keys, key=services.semver_key) == keys


def test_an_imported_version_never_changes(app, course):
    with app.app_context():
        version = services.find_version(course)
        version.title = "Edited in place"
        with pytest.raises(ImmutableVersionError):
            db.session.flush()
        db.session.rollback()
        step = services.find_version(course).steps[0]
        step.config = {"body": "changed"}
        with pytest.raises(ImmutableVersionError):
            db.session.flush()


def test_a_hospital_hides_a_course_from_its_own_catalog_only(
    app, client, runner, course, learner, make_tenant, make_user
):
    other = make_tenant("north", "North Hospital")
    result = runner.invoke(args=["courses", "hide", SLUG, "--tenant", "st-marys"])
    assert result.exit_code == 0 and "hidden from st-marys" in result.output
    login(client, learner)
    assert "The Four-Minute Reset" not in client.get("/courses/").get_data(as_text=True)
    assert client.get(f"/courses/{SLUG}").status_code == 404
    listing = json.loads(
        runner.invoke(args=["courses", "list", "--tenant", "st-marys", "--format", "json"]).output
    )
    assert listing == []
    with app.app_context():
        assert api.search_catalog(other.id)[0].slug == SLUG
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "course.hidden"))
    north_learner = make_user(other)
    north = app.test_client()
    login(north, north_learner)
    assert "The Four-Minute Reset" in north.get("/courses/").get_data(as_text=True)
    shown = runner.invoke(args=["courses", "show", SLUG, "--tenant", "st-marys"])
    assert shown.exit_code == 0
    assert "The Four-Minute Reset" in client.get("/courses/").get_data(as_text=True)


def test_hiding_a_course_keeps_a_learners_attempt_reachable(app, client, course, learner, tenant):
    login(client, learner)
    url = start(client, SLUG)
    with app.app_context():
        services.set_course_hidden(db.session.get(type(tenant), tenant.id), SLUG, True)
        db.session.commit()
    assert client.get(url).status_code == 200
    page = client.get(f"/courses/{SLUG}").get_data(as_text=True)
    assert "Resume at step 1" in page


def test_hide_names_unknown_courses_and_tenants(runner, course):
    assert (
        "No tenant 'nowhere'"
        in runner.invoke(args=["courses", "hide", SLUG, "--tenant", "nowhere"]).output
    )
    runner.invoke(args=["tenants", "add", "north", "--name", "North"])
    result = runner.invoke(args=["courses", "hide", "no-such", "--tenant", "north"])
    assert result.exit_code == 2 and "There is no course 'no-such'" in result.output
