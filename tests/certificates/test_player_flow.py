"""The whole story through the real player: a nurse passes a course with credit, and her
certificate is waiting on her certificates page, verifiable by her board."""

from __future__ import annotations

import re

from sqlalchemy import select

from certificates.models import Certificate
from lms_core.extensions import db
from tests.conftest import csrf_token_from, login


def _take_course(client, slug: str) -> str:
    page = client.get(f"/courses/{slug}")
    assert page.status_code == 200
    started = client.post(
        f"/courses/{slug}/start", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))}
    )
    location = started.headers["Location"]
    for _ in range(20):
        if "/result" in location:
            return location
        step = client.get(location)
        assert step.status_code == 200, location
        token = csrf_token_from(step.get_data(as_text=True))
        saved = client.post(location, data={"csrf_token": token, "answer": "a", "action": "save"})
        assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
        target = saved.headers["Location"]
        if "#feedback" in target:  # a knowledge check shows its feedback, then "Continue"
            html = client.get(target.split("#")[0]).get_data(as_text=True)
            links = re.findall(r'href="([^"]*/attempts/[^"]*/(?:steps/\d+|result))"', html)
            target = next(link for link in links if link != location)
        location = target.split("#")[0]
    raise AssertionError("the course never finished")


def test_passing_in_the_player_issues_the_certificate_once(app, client, catalog, learner):
    login(client, learner)
    result = client.get(_take_course(client, "steady-after-shift")).get_data(as_text=True)
    with app.app_context():
        [certificate] = db.session.scalars(select(Certificate)).all()
        number, registration = certificate.number, certificate.attempt_registration
    assert registration  # tied to the attempt: one certificate per attempt
    # The result page offers it at once.
    assert "Your certificate" in result and f"/certificates/{number}.pdf" in result
    mine = client.get("/certificates/").get_data(as_text=True)
    assert number in mine and "Steadying Yourself After a Difficult Shift" in mine
    assert client.get(f"/certificates/{number}.pdf").status_code == 200
    public = client.application.test_client().get(f"/verify/{number}")
    assert public.status_code == 200 and "Maria Gómez" in public.get_data(as_text=True)
