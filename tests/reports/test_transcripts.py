"""A learner's transcript for the education department, and a learner's own record."""

from __future__ import annotations

import re

from tests.conftest import csrf_token_from, login
from tests.reports.conftest import add_attempt, days_ago
from tests.reports.test_dashboard import text_of


def take_check_in(client, slug: str = "shift-check-in") -> None:
    """A learner takes the check-in course through the player, answering every step."""
    page = client.get(f"/courses/{slug}").get_data(as_text=True)
    url = client.post(f"/courses/{slug}/start", data={"csrf_token": csrf_token_from(page)}).headers[
        "Location"
    ]
    for data in (
        {"action": "save", "value": "2"},
        {"action": "save", "text": "My shoulders are tight and I am tired."},
        {"action": "answer", "answer": "a"},
    ):
        html = client.get(url).get_data(as_text=True)
        response = client.post(url, data={"csrf_token": csrf_token_from(html), **data})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        url = response.headers["Location"].split("#")[0]


def test_transcript_lists_courses_scores_dates_credit_and_certificates(
    app, client, riverside, reset, check_in
):
    ana = riverside.learners[0]
    learner_client = app.test_client()
    login(learner_client, ana)
    take_check_in(learner_client)
    add_attempt(
        app, ana, reset, completed=days_ago(30), passed=False, score=(2, 4), context="ward-4b"
    )
    add_attempt(app, ana, reset, number=2)
    login(client, riverside.educator)

    page = client.get(f"/reports/learners/{ana.id}")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = text_of(html)
    assert "Riverside Learner 1" in text and "learner1@riverside.example" in text
    assert re.search(r"A Check-in Between Shifts v1\.0\.0 Passed 100 % \d{4}-\d\d-\d\d", text)
    assert re.search(
        r"The Four-Minute Reset: a pause between patients v1\.0\.0 Not passed 50 %", text
    )
    assert "attempt 2 In progress" in text
    assert "Ward 4B" in text
    assert "CE credit earned: 0.25 ANCC contact hours." in text
    # certificates adds the certificate the passed course issued, with its PDF link.
    number = re.search(r'href="/certificates/([0-9A-Z-]{19})\.pdf"', html).group(1)
    assert f"/verify/{number}" in html
    assert "Certified CE credit" in text
    # Nothing private: the reflection's text and the check-in answer stay the learner's.
    assert "shoulders" not in html
    # The CSV of this learner's completions is one click away.
    csv = client.get(f"/reports/completions.csv?learner={ana.id}&period=all")
    assert csv.status_code == 200 and csv.get_data(as_text=True).count("\r\n") == 3


def test_another_hospitals_learner_is_not_found(client, riverside, lakeview):
    login(client, riverside.admin)

    assert client.get(f"/reports/learners/{lakeview.learners[0].id}").status_code == 404
    assert (
        client.get(f"/reports/completions.csv?learner={lakeview.learners[0].id}").status_code == 404
    )


def test_a_learner_sees_their_own_record_and_nobody_elses(app, client, riverside, reset):
    ana, ben, _ = riverside.learners
    add_attempt(app, ana, reset, completed=days_ago(2))
    add_attempt(app, ben, reset, completed=days_ago(2), passed=False, score=(0, 4))
    login(client, ana)

    mine = client.get("/record")

    assert mine.status_code == 200
    text = text_of(mine.get_data(as_text=True))
    assert "My record" in text and "Passed" in text and "Not passed" not in text
    assert "CE credit earned: 0.25 ANCC contact hours." in text
    assert client.get(f"/reports/learners/{ben.id}").status_code == 403
    assert client.get(f"/reports/learners/{ana.id}").status_code == 403
    assert client.get("/reports/").status_code == 403
