"""The wellbeing check-in step type: private like a reflection, on a scale."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms_core import signals
from tests.conftest import csrf_token_from, login
from tests.reports.conftest import write_check_in_package


def test_the_answer_stays_with_the_learner_and_is_shown_back_to_them(
    app, client, riverside, check_in
):
    seen = []

    def receive(sender, event):
        seen.append(event)

    signals.step_completed.connect(receive, sender=app)
    try:
        login(client, riverside.learners[0])
        page = client.get(f"/courses/{check_in}").get_data(as_text=True)
        url = client.post(
            f"/courses/{check_in}/start", data={"csrf_token": csrf_token_from(page)}
        ).headers["Location"]
        step = client.get(url).get_data(as_text=True)
        assert "How are you arriving at this shift?" in step and 'type="radio"' in step
        assert "Private: only you see your answer." in step
        empty = client.post(url, data={"csrf_token": csrf_token_from(step), "action": "save"})
        assert empty.status_code == 400
        assert "Choose the answer closest to how you feel, or skip." in empty.get_data(as_text=True)
        client.post(url, data={"csrf_token": csrf_token_from(step), "action": "save", "value": "4"})
    finally:
        signals.step_completed.disconnect(receive, sender=app)

    (event,) = seen
    assert event.private is True and event.result.response is None
    assert event.interaction["interactionType"] == "likert"
    again = client.get(url).get_data(as_text=True)
    assert 'id="value-4" value="4" checked' in again


def test_a_scale_with_a_label_twice_is_refused_where_it_is(app, tmp_path: Path):
    from courses import services
    from courses.package import PackageInvalid

    path = write_check_in_package(tmp_path / "pkg")
    lesson = path / "lessons" / "01-arrive.md"
    lesson.write_text(
        lesson.read_text().replace(
            "question: How are you arriving at this shift?",
            "question: How are you arriving at this shift?\nscale: [Low, Okay, Low]",
        )
    )

    with app.app_context(), pytest.raises(PackageInvalid) as error:
        services.check_package(path)

    assert "lessons/01-arrive.md:" in str(error.value)
    assert "a label appears twice in the scale" in str(error.value)
