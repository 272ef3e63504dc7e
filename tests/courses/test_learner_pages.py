"""Learner pages: each hospital sees only its own people's attempts; pages stay small."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from courses import services
from courses.models import Attempt, StepResponse
from lms_core.extensions import db
from tests.conftest import csrf_token_from, login
from tests.courses.conftest import EXAMPLES, STEP_URL, answers_for, import_course, start, walk

SLUG = "four-minute-reset"
CSS = Path(__file__).resolve().parents[2] / "lms_core" / "static" / "core" / "shiftwell.css"
BUDGET = 50 * 1024


def test_attempts_are_invisible_across_hospitals(app, course, learner, make_tenant, make_user):
    mine = app.test_client()
    login(mine, learner)
    url = start(mine, SLUG)
    mine.get(url)
    other_tenant = make_tenant("north", "North Hospital")
    stranger = make_user(other_tenant, subject=learner.subject)  # same LMS sub, other hospital
    theirs = app.test_client()
    login(theirs, stranger)
    assert theirs.get(url).status_code == 404
    page = theirs.get(url).get_data(as_text=True)
    token = csrf_token_from(theirs.get(f"/courses/{SLUG}").get_data(as_text=True))
    assert "Resume" not in theirs.get(f"/courses/{SLUG}").get_data(as_text=True)
    posted = theirs.post(url, data={"csrf_token": token, "action": "continue"})
    assert posted.status_code == 404
    left = theirs.post(url.rsplit("/steps/", 1)[0] + "/leave", data={"csrf_token": token})
    assert left.status_code == 404
    assert "There is no such attempt" in page
    with app.app_context():
        assert services.learner_statuses(other_tenant.id, stranger.id) == {}
        assert len(services.learner_statuses(learner.tenant_id, learner.id)) == 1
        assert db.session.scalar(select(StepResponse)) is None


def test_a_colleague_in_the_same_hospital_cannot_open_my_attempt(
    app, course, learner, make_user, tenant
):
    mine = app.test_client()
    login(mine, learner)
    url = start(mine, SLUG)
    colleague = app.test_client()
    login(colleague, make_user(tenant))
    assert colleague.get(url).status_code == 404


def test_my_reflections_are_shown_back_to_me_only(app, course, learner, make_user, tenant):
    client = app.test_client()
    login(client, learner)
    plan = answers_for(app, SLUG)
    url = walk(client, start(client, SLUG), plan, stop_at=6)
    html = client.get(url).get_data(as_text=True)
    assert "only you can read what you write" in html
    client.post(
        url,
        data={"csrf_token": csrf_token_from(html), "action": "save", "text": "Tired but calmer."},
    )
    again = client.get(url).get_data(as_text=True)
    assert "Tired but calmer." in again and "Save changes" in again
    with app.app_context():
        attempt = db.session.scalar(select(Attempt))
        assert attempt.responses[-1].response == {"text": "Tired but calmer."}


def test_an_optional_reflection_can_be_skipped_but_a_check_cannot(app, client, course, learner):
    login(client, learner)
    plan = answers_for(app, SLUG)
    url = walk(client, start(client, SLUG), plan, stop_at=6)
    html = client.get(url).get_data(as_text=True)
    skipped = client.post(url, data={"csrf_token": csrf_token_from(html), "action": "skip"})
    assert skipped.headers["Location"].endswith("/steps/7")
    check = client.get(skipped.headers["Location"]).get_data(as_text=True)
    refused = client.post(
        skipped.headers["Location"], data={"csrf_token": csrf_token_from(check), "action": "skip"}
    )
    assert refused.status_code == 400 and "cannot be skipped" in refused.get_data(as_text=True)


def test_retries_as_the_package_allows(app, client, course, learner):
    login(client, learner)
    wrong = answers_for(app, SLUG, right=False)
    for attempt in (1, 2, 3):
        result = walk(client, start(client, SLUG), wrong)
        page = client.get(result).get_data(as_text=True)
        assert f"Attempt</dt><dd>{attempt} of 3" in page
    course_page = client.get(f"/courses/{SLUG}").get_data(as_text=True)
    assert "You have used all 3 attempts" in course_page and ">Try again<" not in course_page
    token = csrf_token_from(
        client.get(result).get_data(as_text=True) + '<input name="csrf_token" value="x">'
    )
    refused = client.post(f"/courses/{SLUG}/start", data={"csrf_token": token})
    assert refused.status_code in (400, 409)


def test_a_completed_attempt_is_read_only(app, client, course, learner):
    login(client, learner)
    plan = answers_for(app, SLUG)
    result = walk(client, start(client, SLUG), plan)
    first = result.replace("/result", "/steps/3")
    html = client.get(first).get_data(as_text=True)
    assert "disabled" in html and ">Continue<" in html
    changed = client.post(
        first, data={"csrf_token": csrf_token_from(html), "action": "answer", "answer": "b"}
    )
    assert changed.status_code == 409


def test_the_home_page_leads_a_learner_to_their_courses(app, client, course, learner):
    assert "Your courses" not in client.get("/").get_data(as_text=True)
    login(client, learner)
    home = client.get("/").get_data(as_text=True)
    assert "Your courses" in home and "Browse 1 course" in home
    assert '<a href="/courses/">Courses</a>' in home  # the navigation item
    url = start(client, SLUG)
    client.get(url)
    home = client.get("/").get_data(as_text=True)
    assert "Pick up where you stopped" in home and STEP_URL.search(home)


def test_operators_without_a_hospital_get_a_clear_refusal(app, client, course, make_user):
    from lms_core.models import Role

    operator = make_user(None, roles=(Role.OPERATOR,), email="ops@example.org")
    login(client, operator, kind="local")
    response = client.get("/courses/")
    assert response.status_code == 403
    assert "open Shiftwell from the link" in response.get_data(as_text=True)


def _weight(html: str) -> int:
    return len(html.encode()) + CSS.stat().st_size


def test_learner_pages_weigh_under_50_kb_with_their_css(app, client, learner):
    for folder in sorted(EXAMPLES.iterdir()):
        import_course(app, folder)
    login(client, learner)
    pages = {"/courses/": client.get("/courses/").get_data(as_text=True)}
    for slug in ("four-minute-reset", "emotions-on-the-ward"):
        pages[f"/courses/{slug}"] = client.get(f"/courses/{slug}").get_data(as_text=True)
        plan = answers_for(app, slug)
        url = start(client, slug)
        seen = set()
        while STEP_URL.search(url):
            pages[url] = client.get(url).get_data(as_text=True)
            seen.add(re.search(r'data-step-type="([a-z_]+)"', pages[url]).group(1))
            url = walk(client, url, plan, stop_at=int(STEP_URL.search(url).group(3)) + 1)
            if url in pages:
                break
        pages[url] = client.get(url).get_data(as_text=True)
    for url, html in pages.items():
        assert _weight(html) < BUDGET, (url, _weight(html))
        assert re.search(r"<link rel=\"stylesheet\"", html)
        assert "http://" not in html.replace("http://localhost", "")
    assert len(pages) > 20
