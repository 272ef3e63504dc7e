"""The education department's dashboard: its own hospital's completions, by month,
course and unit, credit per learner; and the period it covers."""

from __future__ import annotations

import re
from html import unescape

from tests.conftest import login
from tests.reports.conftest import add_attempt, days_ago


def text_of(html: str) -> str:
    """What a reader of the page reads: tags gone, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_educator_sees_completions_by_course_unit_and_month(
    app, client, riverside, reset, check_in
):
    ana, ben, cy = riverside.learners
    add_attempt(app, ana, reset, completed=days_ago(3), context="ward-4b")
    add_attempt(
        app, ben, reset, completed=days_ago(40), passed=False, score=(1, 4), context="ward-4b"
    )
    add_attempt(app, ben, check_in, completed=days_ago(2), score=(1, 1), context="icu")
    add_attempt(app, cy, reset)  # in progress
    login(client, riverside.educator)

    page = client.get("/reports/")

    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "3 courses completed" in text and "2 passed" in text
    assert "1 attempts in progress now" in text and "67 % pass rate" in text
    assert "CE credit awarded: 0.5 ANCC contact hours." in text
    # The chart says it in words too, and a table repeats the numbers.
    assert (
        "Completions per month, last 12 months. 3 completions in total, 2 passed and 1 not passed"
        in text
    )
    assert "(1 not passed)" in text
    html = page.get_data(as_text=True)
    assert 'role="img" aria-labelledby="completions-chart-caption"' in html
    assert 'fill="url(#chart-hatch)"' in html  # not passed is hatched, not just coloured
    assert "Show the numbers as a table" in text
    # By course: completions, pass rate, average score, in progress now.
    assert re.search(r"The Four-Minute Reset: a pause between patients 2 1 50 % 50 % 1", text)
    assert re.search(r"A Check-in Between Shifts 1 1 100 % 100 % 0", text)
    # By LMS course (unit).
    assert re.search(r"Ward 4B 2 1 50 %", text) and re.search(r"Icu 1 1 100 %", text)
    # Credit per learner: the learners page, by credit.
    assert "/reports/learners/?sort=credit&amp;period=12m" in html


def test_a_period_narrows_the_numbers_and_weeks_replace_months(app, client, riverside, reset):
    ana, ben, _ = riverside.learners
    add_attempt(app, ana, reset, completed=days_ago(3))
    add_attempt(app, ben, reset, completed=days_ago(200))
    login(client, riverside.admin)

    text = text_of(client.get("/reports/?period=30d").get_data(as_text=True))

    assert "1 courses completed" in text
    assert "Completions per week (starting Monday), last 30 days" in text
    all_time = text_of(client.get("/reports/?period=all").get_data(as_text=True))
    assert "2 courses completed" in all_time


def test_dates_that_are_not_dates_get_a_clear_message_not_an_error(client, riverside):
    login(client, riverside.educator)

    page = client.get("/reports/?since=2026-13-45&until=yesterday")

    assert page.status_code == 400
    text = text_of(page.get_data(as_text=True))
    assert "'2026-13-45' is not a date (Write it as YYYY-MM-DD.)" in text
    assert "Showing last 12 months instead." in text
    backwards = client.get("/reports/?since=2026-05-01&until=2026-04-01")
    assert backwards.status_code == 400
    assert "Swap the two dates." in backwards.get_data(as_text=True)


def test_another_hospitals_people_never_appear(app, client, riverside, lakeview, reset):
    add_attempt(app, riverside.learners[0], reset, completed=days_ago(1), context="ward-4b")
    for learner in lakeview.learners:
        add_attempt(app, learner, reset, completed=days_ago(1), context="lakeview-er")
    login(client, riverside.admin)

    pages = [
        client.get(path).get_data(as_text=True)
        for path in ("/reports/", "/reports/learners/", "/reports/learners/?q=Lakeview")
    ]

    for html in pages:
        assert "Lakeview Learner" not in html and "Lakeview Er" not in html
    assert "1 courses completed" in text_of(pages[0])
    assert "0 learners" in text_of(pages[2])


def test_learners_page_finds_people_and_shows_their_credit(app, client, riverside, reset):
    ana, ben, _ = riverside.learners
    add_attempt(app, ana, reset, completed=days_ago(5))
    add_attempt(app, ben, reset, completed=days_ago(5), passed=False, score=(1, 4))
    login(client, riverside.educator)

    everyone = text_of(client.get("/reports/learners/").get_data(as_text=True))
    found = text_of(client.get("/reports/learners/?q=learner+1").get_data(as_text=True))
    by_e_mail = text_of(
        client.get("/reports/learners/?q=learner2@riverside").get_data(as_text=True)
    )
    most = client.get("/reports/learners/?sort=completions").get_data(as_text=True)
    credit = client.get("/reports/learners/?sort=credit").get_data(as_text=True)

    assert "3 learners" in everyone and "0.25 ANCC contact hours" in everyone
    assert "Last 12 months: 2 learners completed a course" in everyone
    assert "1 learner match" in found and "Riverside Learner 1" in found
    assert "Riverside Learner 2" in by_e_mail and "Riverside Learner 3" not in by_e_mail
    # Sorted by completions, the two who completed come first.
    order = [m for m in re.findall(r"Riverside Learner \d", most)]
    assert order[2] == "Riverside Learner 3"
    # By credit, Ana (who passed) comes first.
    assert re.findall(r"Riverside Learner \d", credit)[0] == "Riverside Learner 1"
