"""Verification for anyone; downloads only for the learner and their education department."""

from __future__ import annotations

from sqlalchemy import select

from certificates import services
from certificates.models import Certificate
from lms_core.extensions import db
from lms_core.models import Role
from tests.certificates.conftest import complete_course
from tests.conftest import login


def _issued(app, learner):
    complete_course(app, learner)
    with app.app_context():
        return db.session.scalar(select(Certificate.number))


def test_a_board_clerk_sees_valid_holder_course_credit_and_date_and_nothing_else(
    app, client, catalog, learner
):
    number = _issued(app, learner)
    page = client.get(f"/verify/{number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    for fact in (
        "Valid.",
        "Maria Gómez",
        "Steadying Yourself After a Difficult Shift",
        "0.25 Nursing contact hours",
        "2026-03-12",
        number,
    ):
        assert fact in html, fact
    for private in ("nurse-042", "lms.example.edu", "score", "St Mary"):
        assert private not in html, private


def test_an_unknown_number_is_a_404_and_a_mistyped_one_says_so(app, client, catalog, learner):
    number = _issued(app, learner)
    body = number.replace("-", "")[:-1]
    from certificates import numbering

    other = numbering.format_number(body[:-1] + ("0" if body[-1] != "0" else "1"))
    other += numbering.check_symbol(other.replace("-", ""))
    other = numbering.normalise(other)
    assert client.get(f"/verify/{other}").status_code == 404
    wrong_check = number[:-1] + ("A" if number[-1] != "A" else "B")
    mistyped = client.get(f"/verify/{wrong_check}")
    assert mistyped.status_code == 400
    assert "typing mistake" in mistyped.get_data(as_text=True)


def test_a_number_typed_loosely_lands_on_its_canonical_page(app, client, catalog, learner):
    number = _issued(app, learner)
    loose = client.get(f"/verify/{number.lower().replace('-', '')}")
    assert loose.status_code == 301 and loose.headers["Location"].endswith(f"/verify/{number}")
    form = client.get("/verify/", query_string={"number": f" {number.lower()} "})
    assert form.status_code == 302 and form.headers["Location"].endswith(f"/verify/{number}")
    assert client.get("/verify/").status_code == 200


def test_a_revoked_certificate_shows_revoked_with_its_reason(app, client, catalog, learner):
    number = _issued(app, learner)
    with app.app_context():
        services.revoke(services.get_by_number(number), "Issued in error: the attempt was voided.")
        db.session.commit()
    html = client.get(f"/verify/{number}").get_data(as_text=True)
    assert "Revoked." in html and "Issued in error: the attempt was voided." in html
    assert "Valid." not in html


def test_verification_is_rate_limited(app, client, catalog, learner):
    number = _issued(app, learner)
    statuses = [client.get(f"/verify/{number}").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429


def test_the_learner_downloads_her_own_pdf_and_credential(app, client, catalog, learner):
    number = _issued(app, learner)
    login(client, learner)
    pdf = client.get(f"/certificates/{number}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
    with app.app_context():
        assert pdf.headers["X-Content-SHA256"] == db.session.scalar(select(Certificate.pdf_sha256))
    jwt = client.get(f"/certificates/{number}.jwt")
    assert jwt.status_code == 200 and jwt.mimetype == "application/jwt"
    listing = client.get("/certificates/").get_data(as_text=True)
    assert number in listing and "Download PDF" in listing


def test_her_education_department_downloads_any_of_its_hospitals(
    app, client, catalog, learner, educator
):
    number = _issued(app, learner)
    login(client, educator)
    assert client.get(f"/certificates/{number}.pdf").status_code == 200
    assert number in client.get("/certificates/").get_data(as_text=True)


def test_nobody_else_downloads_it(app, client, catalog, learner, make_user, make_tenant, tenant):
    number = _issued(app, learner)
    # anonymous: sent to log in, never the file
    anonymous = client.get(f"/certificates/{number}.pdf")
    assert anonymous.status_code in (302, 401) and b"%PDF" not in anonymous.data
    # a colleague who is a learner: forbidden
    colleague = make_user(tenant, roles=(Role.LEARNER,), subject="nurse-099", name="Colleague")
    login(client, colleague)
    assert client.get(f"/certificates/{number}.pdf").status_code == 403
    assert client.get(f"/certificates/{number}.jwt").status_code == 403
    # another hospital's education department: it does not exist for them
    other = make_tenant("north", "North General")
    stranger = make_user(other, roles=(Role.ADMINISTRATOR,), subject="admin-1", name="Admin")
    login(client, stranger)
    assert client.get(f"/certificates/{number}.pdf").status_code == 404
    assert client.get(f"/certificates/{number}.jwt").status_code == 404
    assert number not in client.get("/certificates/").get_data(as_text=True)


def test_the_nav_shows_certificates_to_learners(app, client, catalog, learner):
    login(client, learner)
    assert 'href="/certificates/"' in client.get("/certificates/").get_data(as_text=True)
