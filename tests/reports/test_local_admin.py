"""A hospital administrator without an LMS launch: a local account bound to one hospital."""

from __future__ import annotations

from sqlalchemy import select

from lms_core.extensions import db
from lms_core.models import Role, User
from tests.conftest import submit

PASSWORD = "a long enough passphrase"


def test_add_admin_creates_a_local_account_of_one_hospital(app, runner, client, riverside, reset):
    result = runner.invoke(
        args=[
            "users",
            "add-admin",
            "Edu@Riverside.example",
            "--tenant",
            "riverside",
            "--name",
            "Pat Educator",
            "--password",
            PASSWORD,
        ]
    )

    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "edu@riverside.example"))
        assert user.tenant_id == riverside.tenant.id and user.roles == {Role.ADMINISTRATOR}
        assert user.password_hash.startswith("scrypt:") and user.issuer is None
    response = submit(client, "/login", {"email": "edu@riverside.example", "password": PASSWORD})
    assert response.status_code == 302
    page = client.get("/reports/").get_data(as_text=True)
    assert "Riverside General" in page and "Log out" in page
    # A local account is not a learner of the hospital.
    assert "Pat Educator" not in client.get("/reports/learners/").get_data(as_text=True)


def test_add_admin_refuses_what_would_be_ambiguous_or_weak(runner, riverside, make_user):
    make_user(None, roles=(Role.OPERATOR,), email="ops@example.org", password=PASSWORD)

    taken = runner.invoke(
        args=[
            "users",
            "add-admin",
            "OPS@example.org",
            "--tenant",
            "riverside",
            "--password",
            PASSWORD,
        ]
    )
    short = runner.invoke(
        args=["users", "add-admin", "a@b.example", "--tenant", "riverside", "--password", "short"]
    )
    nowhere = runner.invoke(
        args=["users", "add-admin", "a@b.example", "--tenant", "nowhere", "--password", PASSWORD]
    )

    assert (
        taken.exit_code == 2
        and "A local account for ops@example.org already exists." in taken.output
    )
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    assert nowhere.exit_code == 2 and "No tenant 'nowhere'" in nowhere.output


def test_an_lms_user_with_the_same_e_mail_cannot_log_in_with_a_password(app, client, riverside):
    # LMS users have no password; /login only finds local accounts.
    response = submit(
        client, "/login", {"email": "learner1@riverside.example", "password": PASSWORD}
    )
    assert response.status_code == 401
