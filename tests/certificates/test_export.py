"""Bulk export: a zip of a date range, built as background work through the outbox."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

from sqlalchemy import select

from certificates import api, exports
from certificates.models import Certificate
from lms_core.extensions import db
from lms_core.models import OutboxMessage, Role, Tenant
from tests.certificates.conftest import complete_course
from tests.conftest import login


def test_an_export_zips_the_ranges_pdfs_credentials_and_a_manifest(
    app, client, runner, catalog, learner, educator, tenant
):
    complete_course(app, learner, registration="a")
    complete_course(app, learner, "bedside-ethics", registration="b")
    today = dt.date.today()
    result = runner.invoke(
        args=[
            "certificates",
            "export",
            "--tenant",
            "st-marys",
            "--from",
            (today - dt.timedelta(days=1)).isoformat(),
            "--to",
            today.isoformat(),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "2 certificates" in result.output
    with app.app_context():
        [info] = api.list_exports(tenant.id)
        numbers = sorted(db.session.scalars(select(Certificate.number)))
        topics = set(db.session.scalars(select(OutboxMessage.topic)))
    assert "certificates.export" in topics
    assert info.status == "done" and info.count == 2

    login(client, educator)
    response = client.get(info.download_path)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {f"{n}.pdf" for n in numbers} | {f"{n}.jwt" for n in numbers} | {"manifest.csv"} == names
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert sorted(r["number"] for r in manifest) == numbers
    assert all(archive.read(f"{r['number']}.pdf").startswith(b"%PDF") for r in manifest)

    login(client, learner)
    assert client.get(info.download_path).status_code == 403


def test_another_hospital_cannot_download_the_export(
    app, client, catalog, learner, tenant, make_tenant, make_user
):
    complete_course(app, learner)
    with app.app_context():
        info = api.request_export(tenant.id, dt.date(2020, 1, 1), dt.date.today())
        db.session.commit()
        info = api.get_export(tenant.id, info.id)
        assert api.get_export(tenant.id + 1, info.id) is None
    other = make_tenant("north", "North General")
    login(client, make_user(other, roles=(Role.ADMINISTRATOR,), subject="a", name="A"))
    assert client.get(info.download_path).status_code == 404


def test_the_api_lists_a_tenants_and_a_learners_certificates(app, catalog, learner, tenant):
    complete_course(app, learner, registration="a")
    complete_course(app, learner, "team-huddles", registration="b")
    with app.app_context():
        everything = api.list_certificates(tenant.id)
        mine = api.user_certificates(tenant.id, learner.id)
        totals = api.credit_totals(tenant.id, learner.id)
        assert api.list_certificates(tenant.id + 1) == []
    assert len(everything) == len(mine) == 2
    assert {c.course_slug for c in mine} == {"steady-after-shift", "team-huddles"}
    assert str(totals["ipce"]) == "1.00" and str(totals["ancc-contact-hours"]) == "0.25"
    assert mine[0].pdf_path == f"/certificates/{mine[0].number}.pdf"


def test_an_export_with_its_dates_reversed_is_refused(app, tenant):
    import pytest

    from lms_core.errors import InvalidInput
    from lms_core.models import Tenant

    with app.app_context(), pytest.raises(InvalidInput, match="before its start"):
        exports.request_export(
            db.session.get(Tenant, tenant.id), dt.date(2026, 2, 1), dt.date(2026, 1, 1)
        )


def test_large_exports_render_in_worker_processes(app, catalog, learner, tenant, monkeypatch):
    """The production path: render subprocesses (Celery's workers may not fork pools)."""
    for i in range(3):
        complete_course(app, learner, registration=f"r{i}")
    monkeypatch.setattr(exports, "POOL_THRESHOLD", 1)
    with app.app_context():
        from certificates.models import CertificateDocument

        expected = {c.number: c.document.pdf for c in db.session.scalars(select(Certificate))}
        db.session.query(CertificateDocument).delete()
        db.session.commit()
        certificates = list(db.session.scalars(select(Certificate)))
        assert exports.render_missing(certificates, processes=2) == 3
        db.session.commit()
        rendered = {c.number: c.document.pdf for c in db.session.scalars(select(Certificate))}
    assert rendered == expected  # same bytes as rendered in-process


def test_an_export_renders_what_was_never_archived(app, catalog, learner, tenant):
    complete_course(app, learner)
    with app.app_context():
        from certificates.models import CertificateDocument

        db.session.query(CertificateDocument).delete()
        db.session.commit()
        export = exports.request_export(
            db.session.get(Tenant, tenant.id), dt.date(2020, 1, 1), dt.date.today()
        )
        db.session.commit()
        assert exports.export_file(db.session.get(type(export), export.id)) is not None
        certificate = db.session.scalar(select(Certificate))
        assert certificate.document is not None and certificate.pdf_sha256
