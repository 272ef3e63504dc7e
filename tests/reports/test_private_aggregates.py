"""Reflections and wellbeing check-ins reach the education department only as counts over
at least five people, never as anyone's words or answer."""

from __future__ import annotations

from tests.conftest import login
from tests.reports.conftest import add_attempt, answer_private, last_month_day
from tests.reports.test_dashboard import text_of

WORDS = "I cried in the sluice room after the code"


def answered_by(app, people, check_in, values):
    when = last_month_day()
    for person, value in zip(people, values, strict=True):
        registration = add_attempt(app, person, check_in, completed=when, score=(1, 1))
        answer_private(app, registration, "wellbeing_check", {"value": value}, when)
        answer_private(app, registration, "reflection", {"text": f"{WORDS} ({person.id})"}, when)


def test_four_people_show_nothing_at_all(app, client, make_hospital, check_in):
    ward = make_hospital("small-ward", "Small Ward", learners=4)
    answered_by(app, ward.learners, check_in, [1, 1, 2, 5])
    login(client, ward.admin)

    html = client.get("/reports/").get_data(as_text=True)
    text = text_of(html)

    assert "no reflection or check-in was answered by 5 or more people" in text
    assert "How are you?" not in text and "Very low" not in text and "written" not in text
    assert WORDS not in html
    csv = client.get("/reports/completions.csv?period=all").get_data(as_text=True)
    assert WORDS not in csv and "Very low" not in csv


def test_five_people_show_how_many_answered_and_how_answers_fall(
    app, client, make_hospital, check_in
):
    ward = make_hospital("bigger-ward", "Bigger Ward", learners=5)
    answered_by(app, ward.learners, check_in, [1, 2, 2, 4, 5])
    # A skipped check-in is not an answer.
    skipped = add_attempt(app, ward.educator, check_in, completed=last_month_day())
    answer_private(app, skipped, "wellbeing_check", {"skipped": True}, last_month_day())
    login(client, ward.admin)

    html = client.get("/reports/").get_data(as_text=True)
    text = text_of(html)

    assert "A Check-in Between Shifts: How are you? (wellbeing check-in) 5" in text
    assert "Very low: 20 % Low: 40 % Okay: 0 % Good: 20 % Very good: 20 %" in text
    assert "A Check-in Between Shifts: What do you notice? (reflection) 5 5 written" in text
    assert WORDS not in html


def test_answers_older_than_the_window_or_from_this_month_are_not_counted(
    app, client, make_hospital, check_in
):
    from tests.reports.conftest import days_ago

    ward = make_hospital("timely-ward", "Timely Ward", learners=5)
    for person in ward.learners:
        registration = add_attempt(app, person, check_in, completed=days_ago(200), score=(1, 1))
        answer_private(app, registration, "wellbeing_check", {"value": 3}, days_ago(200))
    login(client, ward.admin)

    text = text_of(client.get("/reports/").get_data(as_text=True))

    assert "no reflection or check-in was answered by 5 or more people" in text
