"""A clinician opens Shiftwell from her hospital's LMS: no second login, the right course,
and nothing but the LMS's word for who she is."""

from __future__ import annotations

from sqlalchemy import select

from lms_core.extensions import db
from lms_core.models import Role, User
from lti.models import Context, Launch, ResourceLink
from tests.lti.platform import INSTRUCTOR, Person, Scenario


def test_clinician_launches_into_the_catalog_without_a_second_login(app, browser, clinician):
    response = browser.launch(Scenario(clinician))

    assert response.status_code == 303
    assert response.headers["Location"] == "/courses/"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.subject == "nurse-42"))
        assert user.issuer == browser.platform.issuer
        assert user.name == "Ada Okafor"
        assert user.roles == {Role.LEARNER}
        launch = db.session.scalar(select(Launch))
        assert launch.user_id == user.id and launch.session_id
        link = db.session.scalar(select(ResourceLink))
        assert link.resource_link_id == "link-1" and link.can_post_scores
        context = db.session.scalar(select(Context))
        assert context.title == "Nursing orientation 2026" and context.memberships_url
    with browser.client.session_transaction() as session:
        assert session["_user_id"] == str(user.id) and session["kind"] == "lti"


def test_a_launch_without_name_or_email_still_works(app, browser):
    anonymous = Person("opaque-7f3a", ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"])

    response = browser.launch(Scenario(anonymous))

    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.subject == "opaque-7f3a"))
        assert user.name is None and user.email is None
        assert user.display_name == "Learner"


def test_the_same_person_launching_again_is_the_same_user(app, browser, clinician):
    browser.launch(Scenario(clinician))
    browser.launch(Scenario(clinician, resource_link_id="link-2"))

    with app.app_context():
        assert len(db.session.scalars(select(User).where(User.subject == "nurse-42")).all()) == 1
        assert len(db.session.scalars(select(Launch)).all()) == 2


def test_lms_roles_map_to_shiftwell_roles(app, browser):
    admin = Person(
        "admin-1",
        ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"],
    )
    teacher = Person("teacher-1", INSTRUCTOR)
    browser.launch(Scenario(admin))
    browser.launch(Scenario(teacher))

    with app.app_context():
        roles = {u.subject: u.roles for u in db.session.scalars(select(User))}
    assert roles["admin-1"] == {Role.ADMINISTRATOR}
    assert roles["teacher-1"] == {Role.INSTRUCTOR}


def test_the_demo_lms_exists_only_in_demo_mode(client):
    assert client.get("/demo-lms/").status_code == 404


def test_role_vocabularies_map_as_documented():
    from lti.launches import map_roles

    lis = "http://purl.imsglobal.org/vocab/lis/v2/"
    assert map_roles([lis + "membership/Instructor#TeachingAssistant"]) == {Role.INSTRUCTOR}
    assert map_roles([lis + "membership#ContentDeveloper"]) == {Role.INSTRUCTOR}
    assert map_roles(["Instructor"]) == {Role.INSTRUCTOR}  # LTI 1.3 §A.2.3.1 short form
    assert map_roles([lis + "system/person#SysAdmin"]) == {Role.ADMINISTRATOR}
    # Canvas sends institution roles to students: they grant nothing alone
    assert map_roles([lis + "institution/person#Instructor", lis + "membership#Learner"]) == {
        Role.LEARNER
    }
    assert map_roles([lis + "membership#Mentor"]) == {Role.LEARNER}
    assert map_roles([]) == {Role.LEARNER}
