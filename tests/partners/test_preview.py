"""An author previews a version exactly as a learner would take it — the player's pages
and rules — and nothing of it is recorded or sent as a learner's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lms_core import signals
from tests.conftest import csrf_token_from
from tests.partners.conftest import (
    NORTHBRIDGE,
    RESET,
    as_author,
    main_text,
    new_version,
    row_counts,
    upload_zip,
    zip_bytes,
)

BASE = f"/partner/{NORTHBRIDGE}/courses/four-minute-reset/versions/1.1.0/preview"
_CHOICES = re.compile(r'name="choice" id="choice-[^"]+" value="([^"]+)"')
LEARNER_SIGNALS = (
    "attempt_started",
    "attempt_resumed",
    "attempt_suspended",
    "step_completed",
    "progress_changed",
    "course_completed",
    "certificate_issued",
)


@pytest.fixture
def sent(app: Flask) -> Iterator[list[str]]:
    names: list[str] = []
    receivers = []
    for name in LEARNER_SIGNALS:

        def receive(sender: Any, event: Any, _name: str = name) -> None:
            names.append(_name)

        receivers.append(receive)
        getattr(signals, name).connect(receive, sender=app)
    yield names
    for name, receive in zip(LEARNER_SIGNALS, receivers, strict=True):
        getattr(signals, name).disconnect(receive, sender=app)


def plan(app: Flask) -> dict[int, tuple[str, dict[str, Any]]]:
    from courses import services

    with app.app_context():
        version = services.find_version("four-minute-reset", "1.1.0", include_drafts=True)
        assert version is not None
        steps = {}
        for step in version.steps:
            if step.type == "knowledge_check":
                right = [o["id"] for o in step.config["options"] if o.get("correct")]
                steps[step.position] = (step.type, {"action": "answer", "answer": right})
            elif step.type == "reflection":
                steps[step.position] = (step.type, {"action": "save", "text": "Author's test note"})
            else:
                steps[step.position] = (step.type, {"action": "continue"})
        return steps


def learner_rows(app: Flask) -> dict[str, int]:
    """Rows of every table but the author's own preview state: attempts, responses, xAPI
    statements, outbox messages (grades, forwarding), certificates, whatever is installed."""
    counts = row_counts(app)
    counts.pop("courses_preview_state")
    return counts


def test_author_takes_a_draft_in_preview_and_no_learner_data_or_event_results(
    app: Flask, client: Any, author: Any, sent: list[str], tmp_path: Path
) -> None:
    as_author(client, author)
    upload_zip(client, NORTHBRIDGE, zip_bytes(new_version(RESET, tmp_path / "p", "1.1.0")))
    before = learner_rows(app)
    steps = plan(app)

    for position, (kind, data) in sorted(steps.items()):
        url = f"{BASE}/steps/{position}"
        page = client.get(url)
        html = page.get_data(as_text=True)
        assert page.status_code == 200, main_text(html)
        assert "Preview of four-minute-reset 1.1.0 (draft)" in html
        assert f"Step {position} of {len(steps)}" in html
        if kind == "scenario":
            while choices := _CHOICES.findall(html):
                client.post(
                    url,
                    data={
                        "csrf_token": csrf_token_from(html),
                        "action": "choose",
                        "choice": choices[0],
                    },
                )
                html = client.get(url).get_data(as_text=True)
            continue
        response = client.post(url, data={"csrf_token": csrf_token_from(html), **data})
        assert response.status_code == 302, main_text(response.get_data(as_text=True))
        if kind == "knowledge_check":
            feedback = client.get(url).get_data(as_text=True)
            assert "Right" in feedback  # the learner's feedback, from the learner's template

    result = client.get(f"{BASE}/result")
    assert result.status_code == 200
    assert "Passed" in result.get_data(as_text=True)
    assert learner_rows(app) == before
    assert sent == []


def test_preview_keeps_the_players_order_and_can_start_again(
    app: Flask, client: Any, author: Any, tmp_path: Path
) -> None:
    as_author(client, author)
    upload_zip(client, NORTHBRIDGE, zip_bytes(new_version(RESET, tmp_path / "p", "1.1.0")))
    # Step 5 is locked until 1 to 4 are done, as for a learner.
    response = client.get(f"{BASE}/steps/5")
    assert response.status_code == 302 and response.headers["Location"].endswith("/steps/1")
    page = client.get(f"{BASE}/steps/1").get_data(as_text=True)
    client.post(f"{BASE}/steps/1", data={"csrf_token": csrf_token_from(page), "action": "continue"})
    # A knowledge check refuses an empty answer with the learner's message.
    client.post(f"{BASE}/steps/2", data={"csrf_token": csrf_token_from(page), "action": "continue"})
    check = client.post(
        f"{BASE}/steps/3", data={"csrf_token": csrf_token_from(page), "action": "answer"}
    )
    assert check.status_code == 400
    assert "Choose an answer." in check.get_data(as_text=True)
    restart = client.post(f"{BASE}/restart", data={"csrf_token": csrf_token_from(page)})
    assert restart.headers["Location"].endswith("/steps/1")
    assert client.get(f"{BASE}/steps/2").status_code == 302


def test_preview_serves_the_versions_own_images(app: Flask, client: Any, author: Any) -> None:
    as_author(client, author)
    base = f"/partner/{NORTHBRIDGE}/courses/four-minute-reset/versions/1.0.0"
    image = client.get(f"{base}/assets/assets/box-breathing.png")
    assert image.status_code == 200
    assert image.mimetype == "image/png"
    assert client.get(f"{base}/assets/assets/missing.png").status_code == 404
