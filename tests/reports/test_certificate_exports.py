"""The zip of a hospital's certificates for a date range, from the dashboard."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from sqlalchemy import func, select

from lms_core.extensions import db
from tests.conftest import login, submit
from tests.reports.test_dashboard import text_of
from tests.reports.test_transcripts import take_check_in


def test_staff_ask_for_a_zip_and_download_it_when_ready(app, client, riverside, lakeview, check_in):
    learner = app.test_client()
    login(learner, riverside.learners[0])
    take_check_in(learner)  # passes a course with credit: a certificate is issued
    login(client, riverside.admin)
    today = dt.date.today()

    response = submit(
        client,
        "/reports/",
        {"date_from": (today - dt.timedelta(days=7)).isoformat(), "date_to": today.isoformat()},
        action="/certificates/exports",
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/reports/#certificate-exports")
    page = client.get("/reports/").get_data(as_text=True)
    assert "is ready below" in text_of(page)  # built after the commit (the test outbox runs inline)
    link = re.search(r'href="(/certificates/exports/\d+\.zip)"', page).group(1)
    download = client.get(link)
    assert download.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert "manifest.csv" in names and any(n.endswith(".pdf") for n in names)
    other = app.test_client()
    login(other, lakeview.admin)
    assert other.get(link).status_code == 404


def test_a_range_that_ends_before_it_starts_is_explained_and_queues_nothing(app, client, riverside):
    from certificates.models import CertificateExport

    login(client, riverside.admin)

    response = submit(
        client,
        "/reports/",
        {"date_from": "2026-05-01", "date_to": "2026-04-01"},
        action="/certificates/exports",
    )

    assert response.status_code == 400
    assert "The export's end date is before its start date." in text_of(
        response.get_data(as_text=True)
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CertificateExport)) == 0
