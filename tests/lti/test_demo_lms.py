"""`make demo`: the built-in demo LMS launches Shiftwell as a clinician or as the education
department, adds a course with Deep Linking and shows the grade arriving.

The app is served on a real socket, because the tool reaches the demo LMS (its keys,
tokens, gradebook) over HTTP at BASE_URL, as it would reach a hospital's LMS."""

from __future__ import annotations

import re
import threading
from html import unescape
from typing import Any

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from lms_core.extensions import db
from lti.models import DemoLink, DemoScore
from tests.courses.conftest import answers_for, start, walk
from tests.lti.platform import free_port

SLUG = "four-minute-reset"


@pytest.fixture
def port() -> int:
    return free_port(5260, 5300)


@pytest.fixture
def app_config(app_config, port):
    return {
        **app_config,
        "ENV": "demo",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "OUTBOX_RUNNER": "inline",  # the grade is posted before the request ends
    }


@pytest.fixture
def live(app, port):
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


class _Page:
    def __init__(self, response: requests.Response) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.text = response.text

    def get_data(self, as_text: bool = False) -> Any:
        return self.text


class LiveBrowser:
    """A browser without script against the served app (the course walker's interface)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def _url(self, url: str) -> str:
        return self.base + url if url.startswith("/") else url

    def get(self, url: str) -> _Page:
        return _Page(self.session.get(self._url(url), allow_redirects=False, timeout=10))

    def post(self, url: str, data: dict[str, Any]) -> _Page:
        return _Page(
            self.session.post(self._url(url), data=data, allow_redirects=False, timeout=10)
        )

    def follow(self, url: str) -> requests.Response:
        return self.session.get(self._url(url), timeout=10)

    def launch(self, person: str, target: str) -> requests.Response:
        """Open an LMS link: the page frames the tool; the LMS's form posts the launch
        (its script does that in a browser; here the test submits it)."""
        page = self.follow(f"/demo-lms/launch/{person}/{target}").text
        src = unescape(re.search(r'<iframe class="demo-lms-frame" src="([^"]+)"', page).group(1))
        lms_form = self.follow(src)
        assert lms_form.status_code == 200, lms_form.text[:500]
        action = unescape(re.search(r'action="([^"]+)"', lms_form.text).group(1))
        fields = dict(re.findall(r'name="(id_token|state)" value="([^"]+)"', lms_form.text))
        return self.session.post(action, data=fields, timeout=10)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_the_demo_lms_shows_a_grade_arriving(app, runner, live):
    loaded = runner.invoke(args=["demo", "load"])
    assert loaded.exit_code == 0, loaded.output
    assert f"{live}/demo-lms/" in loaded.output

    sam = LiveBrowser(live)
    picker = sam.launch("sam", "deep-link")
    assert "/lti/deep-linking/" in picker.url and "Four-Minute Reset" in picker.text
    chosen = sam.session.post(
        picker.url, data={"csrf_token": _csrf(picker.text), "courses": [SLUG], "add": "1"}
    )
    action = unescape(re.search(r'<form method="post" action="([^"]+)">', chosen.text).group(1))
    token = re.search(r'name="JWT" value="([^"]+)"', chosen.text).group(1)
    added = sam.session.post(action, data={"JWT": token})
    assert "1 item added to the course" in added.text
    with app.app_context():
        link = db.session.scalar(select(DemoLink))
        assert link.custom == {"course": SLUG} and link.line_item["scoreMaximum"] == 100
        link_id = link.id

    alex = LiveBrowser(live)
    landed = alex.launch("alex", f"link-{link_id}")
    assert landed.url == f"{live}/courses/{SLUG}"
    result = walk(alex, start(alex, SLUG), answers_for(app, SLUG))
    assert result.endswith("/result")

    with app.app_context():
        score = db.session.scalar(select(DemoScore))
        assert score.user_sub == "riverside-user-1001"
        assert (
            score.score["scoreGiven"] == 100.0 and score.score["gradingProgress"] == "FullyGraded"
        )
    gradebook = sam.follow("/demo-lms/").text
    assert "100.0" in gradebook and "FullyGraded" in gradebook
