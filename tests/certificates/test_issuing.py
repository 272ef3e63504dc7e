"""Passing a course with credit issues one certificate: an immutable snapshot."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from certificates.models import Certificate, CertificateStatus
from lms_core.extensions import db
from lms_core.models import AuditLog, OutboxMessage, User
from tests.certificates.conftest import complete_course
from tests.conftest import login, submit


def _certificates(app):
    with app.app_context():
        rows = list(db.session.scalars(select(Certificate).order_by(Certificate.id)))
        db.session.expunge_all()
        return rows


def test_passing_a_course_with_credit_issues_a_certificate_snapshot(app, catalog, learner, tenant):
    complete_course(app, learner)
    [c] = _certificates(app)
    assert c.status == CertificateStatus.ISSUED
    assert c.learner_name == "Maria Gómez" and c.learner_subject == "nurse-042"
    assert (c.course_slug, c.course_version) == ("steady-after-shift", "1.2.0")
    assert c.course_title == "Steadying Yourself After a Difficult Shift"
    assert c.partner_name == "Northbridge University School of Nursing"
    assert (c.credit_type, c.credit_amount) == ("ancc-contact-hours", Decimal("0.25"))
    assert "American Nurses Credentialing Center" in c.accreditation
    assert c.issuing_organisation == "Northbridge University School of Nursing"
    assert c.tenant_name == tenant.name and c.completed_on.isoformat() == "2026-03-12"
    assert c.verify_url == f"http://localhost/verify/{c.number}"
    assert c.design["paper"] == "letter"
    # rendered and archived by the outbox after the learner's transaction committed
    assert c.pdf_sha256 and len(c.pdf_sha256) == 64
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.status)).value == "done"
        actions = set(db.session.scalars(select(AuditLog.action)))
        assert "certificate.issued" in actions


def test_one_certificate_per_attempt_however_often_completion_is_sent(app, catalog, learner):
    complete_course(app, learner, registration="attempt-a")
    complete_course(app, learner, registration="attempt-a")
    complete_course(app, learner, registration="attempt-b")
    assert len(_certificates(app)) == 2


def test_failing_or_a_course_without_credit_issues_nothing(app, catalog, learner):
    complete_course(app, learner, passed=False, registration="r1")
    complete_course(app, learner, "breathing-basics", registration="r2")
    complete_course(app, learner, credit={"type": "none", "amount": 0}, registration="r3")
    assert _certificates(app) == []


def test_a_course_the_catalog_no_longer_knows_never_breaks_the_learners_save(
    app, catalog, learner, caplog
):
    complete_course(app, learner, registration="r1")
    complete_course(
        app,
        learner,
        "withdrawn-course",
        registration="r2",
        credit={"type": "ancc-contact-hours", "amount": 0.25},
    )
    assert len(_certificates(app)) == 1
    assert "unknown to courses.api" in caplog.text


def test_a_learner_whose_lms_sent_no_name_confirms_it_before_anything_is_printed(
    app, client, catalog, nameless_learner
):
    complete_course(app, nameless_learner)
    [c] = _certificates(app)
    assert c.status == CertificateStatus.AWAITING_NAME and c.learner_name is None
    assert c.pdf_sha256 is None and c.credential_jws is None
    assert client.get(f"/verify/{c.number}").status_code == 404  # not issued yet

    login(client, nameless_learner)
    home = client.get("/").get_data(as_text=True)
    assert "Confirm my name" in home
    page = f"/certificates/{c.number}/name"
    empty = submit(client, page, {"name": "   "})
    assert empty.status_code == 400 and "Enter the name" in empty.get_data(as_text=True)
    done = submit(client, page, {"name": "  Zoë   Ólafsdóttir "}, follow_redirects=True)
    assert done.status_code == 200 and "is issued" in done.get_data(as_text=True)
    [c] = _certificates(app)
    assert c.status == CertificateStatus.ISSUED and c.learner_name == "Zoë Ólafsdóttir"
    assert c.pdf_sha256 and c.credential_jws
    # the name cannot change afterwards
    again = client.get(page, follow_redirects=False)
    assert again.status_code == 302


def test_nobody_else_can_name_a_learners_certificate(
    app, client, catalog, nameless_learner, learner
):
    complete_course(app, nameless_learner)
    [c] = _certificates(app)
    login(client, learner)
    assert client.get(f"/certificates/{c.number}/name").status_code == 404


def test_the_certificate_outlives_the_learners_account(app, client, catalog, learner):
    complete_course(app, learner)
    with app.app_context():
        db.session.delete(db.session.get(User, learner.id))
        db.session.commit()
    [c] = _certificates(app)
    assert c.user_id is None and c.learner_name == "Maria Gómez"
    assert client.get(f"/verify/{c.number}").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(Certificate.id))) == 1
