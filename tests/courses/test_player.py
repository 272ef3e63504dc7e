"""A clinician takes a course in the player, over HTTP, as a browser without script would."""

from __future__ import annotations

from sqlalchemy import select

from courses.models import Attempt, AttemptStatus, StepResponse
from lms_core.extensions import db
from tests.conftest import csrf_token_from, login
from tests.courses.conftest import STEP_URL, answers_for, start, take_step, walk

SLUG = "four-minute-reset"


def test_clinician_takes_a_whole_course_and_passes(app, client, course, learner):
    login(client, learner)
    catalog = client.get("/courses/").get_data(as_text=True)
    assert "The Four-Minute Reset" in catalog and "16 minutes" in catalog
    assert "0.25 ANCC contact hours" in catalog
    url = start(client, SLUG)
    assert url.endswith("/steps/1")
    result = walk(client, url, answers_for(app, SLUG))
    assert result.endswith("/result")
    html = client.get(result).get_data(as_text=True)
    assert "You passed" in html and "100 %" in html
    assert "You earned 0.25 ANCC contact hours" in html
    course_page = client.get(f"/courses/{SLUG}").get_data(as_text=True)
    assert "Passed" in course_page


def test_every_answer_is_saved_the_moment_it_is_given(app, client, course, learner):
    login(client, learner)
    url = start(client, SLUG)
    plan = answers_for(app, SLUG)
    url = take_step(client, url, plan[1])
    url = take_step(client, url, plan[2])
    url = take_step(client, url, plan[3])  # the knowledge check
    with app.app_context():
        saved = db.session.scalars(select(StepResponse).order_by(StepResponse.id)).all()
        assert [r.step.position for r in saved] == [1, 2, 3]
        assert saved[2].response == {"selected": ["a"]} and saved[2].success is True


def test_clinician_resumes_at_the_step_she_left(app, client, course, learner):
    login(client, learner)
    url = start(client, SLUG)
    plan = answers_for(app, SLUG)
    at_five = walk(client, url, plan, stop_at=5)
    assert client.get(at_five).status_code == 200
    page = client.get(at_five).get_data(as_text=True)
    leave = client.post(
        at_five.rsplit("/steps/", 1)[0] + "/leave", data={"csrf_token": csrf_token_from(page)}
    )
    assert leave.status_code == 302 and leave.headers["Location"].endswith(f"/courses/{SLUG}")
    course_page = client.get(f"/courses/{SLUG}").get_data(as_text=True)
    assert "Resume at step 5 of 13" in course_page
    assert "Your progress is saved" in course_page


def test_resume_works_after_the_session_is_gone(app, course, learner):
    first = app.test_client()
    login(first, learner)
    plan = answers_for(app, SLUG)
    at_six = walk(first, start(first, SLUG), plan, stop_at=6)
    first.get(at_six)  # on screen when the pager went off; the session then expires
    again = app.test_client()  # a new launch from the LMS: a new session, no cookie
    login(again, learner)
    page = again.get(f"/courses/{SLUG}").get_data(as_text=True)
    assert "Resume at step 6 of 13" in page
    resume = STEP_URL.search(page).group(0)
    assert resume == STEP_URL.search(at_six).group(0)
    result = walk(again, resume, plan)
    assert result.endswith("/result")
    with app.app_context():
        attempts = db.session.scalars(select(Attempt)).all()
        assert len(attempts) == 1 and attempts[0].status == AttemptStatus.COMPLETED


def test_a_learner_cannot_skip_ahead(app, client, course, learner):
    login(client, learner)
    url = start(client, SLUG)
    ahead = url.replace("/steps/1", "/steps/9")
    response = client.get(ahead)
    assert response.status_code == 302 and response.headers["Location"].endswith("/steps/1")


def test_a_knowledge_check_without_an_answer_explains_itself(app, client, course, learner):
    login(client, learner)
    plan = answers_for(app, SLUG)
    url = walk(client, start(client, SLUG), plan, stop_at=3)
    html = client.get(url).get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token_from(html), "action": "answer"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="error-summary"' in page and 'href="#answer-field"' in page
    assert 'id="answer-error"' in page and 'aria-describedby="answer-hint answer-error"' in page
    assert "Choose an answer." in page


def test_a_wrong_answer_shows_feedback_and_the_right_one(app, client, course, learner):
    login(client, learner)
    plan = answers_for(app, SLUG)
    wrong = answers_for(app, SLUG, right=False)
    url = walk(client, start(client, SLUG), plan, stop_at=3)
    html = client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf_token_from(html), **wrong[3]})
    page = client.get(url).get_data(as_text=True)
    assert "Not quite" in page and "The answer:" in page
    assert "a reset is much shorter" in page  # the chosen option's own feedback
    assert "A reset is brief and intentional" in page  # the right option's feedback


def test_pages_need_a_launched_learner(client, course):
    response = client.get("/courses/")
    assert response.status_code in (302, 401)


def test_two_taps_on_start_at_once_open_one_attempt(app, client, course, learner, monkeypatch):
    """The second of two simultaneous Starts read "no attempt open" before the first one
    committed; the database's one-open-attempt index stops it, and it resumes the first."""
    import dataclasses

    from flask import request

    from courses import services

    login(client, learner)
    token = csrf_token_from(client.get(f"/courses/{SLUG}").get_data(as_text=True))
    tap = {"csrf_token": token}
    first = client.post(f"/courses/{SLUG}/start", data=tap).headers["Location"]
    real_course_page = services.course_page
    stale = [True]

    def course_page_read_before_the_other_commit(*args, **kwargs):
        page = real_course_page(*args, **kwargs)
        if stale and page.current is not None and request.method == "POST":
            stale.clear()
            return dataclasses.replace(page, current=None, can_start=True, start_blocked=None)
        return page

    monkeypatch.setattr(services, "course_page", course_page_read_before_the_other_commit)
    second = client.post(f"/courses/{SLUG}/start", data=tap)
    assert not stale, "the race was simulated"
    assert second.status_code == 302 and second.headers["Location"] == first
    with app.app_context():
        attempts = db.session.scalars(select(Attempt)).all()
        assert [(a.number, a.status) for a in attempts] == [(1, AttemptStatus.IN_PROGRESS)]
