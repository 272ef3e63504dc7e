"""The CSV of completions and credit: download button and `shiftwell reports completions`."""

from __future__ import annotations

import csv
import io
import json

from lms_core.extensions import db
from lms_core.models import User
from tests.conftest import login
from tests.reports.conftest import add_attempt, days_ago

HEADER = (
    "learner_name,learner_email,lms_user_id,lms,course,course_title,course_version,partner,"
    "lms_course_id,lms_course_title,attempt,started_at,completed_at,score_percent,passed,"
    "credit_type,credit_amount,active_minutes,registration"
)


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_download_has_one_row_per_completion_with_score_and_credit(app, client, riverside, reset):
    ana, ben, cy = riverside.learners
    add_attempt(app, ana, reset, completed=days_ago(3), context="ward-4b")
    add_attempt(app, ben, reset, completed=days_ago(2), passed=False, score=(1, 4))
    add_attempt(app, cy, reset)  # in progress: not a completion
    login(client, riverside.educator)

    response = client.get("/reports/completions.csv?period=30d")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="completions-riverside-'
    )
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff" + HEADER + "\r\n")  # a BOM, so Excel reads UTF-8
    first, second = rows_of(text)
    assert first["learner_name"] == "Riverside Learner 1"
    assert first["lms_user_id"] == "riverside-learner-1"
    assert (first["course"], first["course_version"]) == ("four-minute-reset", "1.0.0")
    assert (first["lms_course_id"], first["lms_course_title"]) == ("ward-4b", "Ward 4B")
    assert (first["score_percent"], first["passed"]) == ("75", "yes")
    assert (first["credit_type"], first["credit_amount"]) == ("ancc-contact-hours", "0.25")
    assert (second["passed"], second["credit_type"], second["credit_amount"]) == ("no", "", "0")


def test_a_name_that_looks_like_a_formula_stays_text(app, client, riverside, reset):
    ana = riverside.learners[0]
    with app.app_context():
        db.session.get(User, ana.id).name = '=HYPERLINK("http://evil.example","Click")'
        db.session.commit()
    add_attempt(app, ana, reset, completed=days_ago(1))
    login(client, riverside.admin)

    row = rows_of(client.get("/reports/completions.csv").get_data(as_text=True))[0]

    assert row["learner_name"] == '\'=HYPERLINK("http://evil.example","Click")'


def test_the_cli_writes_the_same_rows_for_one_hospital_only(
    app, client, runner, riverside, lakeview, reset
):
    add_attempt(app, riverside.learners[0], reset, completed=days_ago(10))
    add_attempt(app, riverside.learners[1], reset, completed=days_ago(100))
    add_attempt(app, lakeview.learners[0], reset, completed=days_ago(10))
    login(client, riverside.admin)
    downloaded = client.get("/reports/completions.csv?period=all").get_data(as_text=True)

    result = runner.invoke(
        args=["reports", "completions", "--tenant", "riverside", "--format", "csv"]
    )

    assert result.exit_code == 0, result.output
    assert result.output.replace("\r\n", "\n") == downloaded.removeprefix("\ufeff").replace(
        "\r\n", "\n"
    )
    assert "Lakeview" not in result.output
    recent = runner.invoke(
        args=[
            "reports",
            "completions",
            "--tenant",
            "riverside",
            "--since",
            days_ago(30).date().isoformat(),
            "--format",
            "json",
        ]
    )
    assert [r["learner_name"] for r in json.loads(recent.output)] == ["Riverside Learner 1"]


def test_the_cli_names_what_is_wrong(runner, riverside):
    unknown = runner.invoke(args=["reports", "completions", "--tenant", "nowhere"])
    assert unknown.exit_code == 2
    assert "No tenant 'nowhere'. Known tenants: riverside" in unknown.output
    bad = runner.invoke(
        args=["reports", "completions", "--tenant", "riverside", "--since", "31/12/2025"]
    )
    assert bad.exit_code == 2
    assert "--since: '31/12/2025' is not a date (Write it as YYYY-MM-DD.)" in bad.output
