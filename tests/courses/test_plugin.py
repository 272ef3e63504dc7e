"""Courses as a plugin: demo data, step types from entry points, media, CSRF."""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Mapping
from typing import Any

import pytest

from courses import steps
from courses.steps import Evaluation, StepType
from tests.conftest import csrf_token_from, login
from tests.courses.conftest import answers_for, import_course, start, walk


def test_demo_load_imports_the_examples_once(runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "Courses: 3 demo courses" in first.output and "/courses/" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    listing = json.loads(runner.invoke(args=["courses", "list", "--format", "json"]).output)
    assert sorted(row["slug"] for row in listing) == [
        "documentation-efficiency",
        "emotions-on-the-ward",
        "four-minute-reset",
    ]
    assert {row["partner"] for row in listing} == {
        "northbridge-nursing",
        "lakeside-health-sciences",
    }


def test_the_built_in_step_types_come_from_entry_points():
    assert set(steps.registry()) == {
        "content",
        "reflection",
        "knowledge_check",
        "guided_practice",
        "scenario",
        "wellbeing_check",
    }


class PollStep(StepType):
    """A third party's step type: a one-question poll."""

    label = "Poll"
    template = "courses/steps/content.html"
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["question"],
        "properties": {"question": {"type": "string"}},
    }

    def evaluate(
        self, config: Mapping[str, Any], form: Mapping[str, list[str]], previous: Any
    ) -> Evaluation:
        return Evaluation(response={}, completed=True)


def test_a_third_party_step_type_registers_through_its_entry_point(monkeypatch):
    real = importlib.metadata.entry_points

    def entry_points(**kw: Any) -> Any:
        found = list(real(**kw))
        if kw.get("group") == steps.ENTRY_POINT_GROUP:
            found.append(
                importlib.metadata.EntryPoint(
                    "poll", f"{__name__}:PollStep", steps.ENTRY_POINT_GROUP
                )
            )
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    loaded = steps.load_step_types()
    assert isinstance(loaded["poll"], PollStep) and loaded["poll"].name == "poll"
    assert "content" in loaded


def test_a_package_with_video_and_audio_shows_captions_and_transcripts(
    app, client, package, learner
):
    (package / "assets" / "clip.mp4").write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 64)
    (package / "assets" / "clip.en.vtt").write_text(
        "WEBVTT\n\n00:00.000 --> 00:02.000\nBreathe in\n"
    )
    (package / "assets" / "talk.mp3").write_bytes(b"ID3" + b"\0" * 64)
    lesson = package / "lessons" / "01-why-pause.md"
    lesson.write_text(
        lesson.read_text().replace(
            "## What a reset can do\n",
            """## What a reset can do

```step
type: content
media:
  - video: assets/clip.mp4
    captions: assets/clip.en.vtt
    title: A reset in the corridor
  - audio: assets/talk.mp3
    title: A short talk
    transcript: Take three slow breaths before the next room.
```
""",
        )
    )
    import_course(app, package)
    login(client, learner)
    url = walk(
        client, start(client, "four-minute-reset"), answers_for(app, "four-minute-reset"), stop_at=2
    )
    html = client.get(url).get_data(as_text=True)
    prefix = "/courses/four-minute-reset/v/1.0.0/assets/assets/"
    assert f'<video controls preload="metadata" src="{prefix}clip.mp4">' in html
    assert (
        f'<track kind="captions" src="{prefix}clip.en.vtt" srclang="en" label="Captions" default>'
        in html
    )
    assert f'<audio controls preload="none" src="{prefix}talk.mp3"></audio>' in html
    assert "Take three slow breaths before the next room." in html
    assert client.get(prefix + "clip.en.vtt").mimetype == "text/vtt"


def test_answers_need_the_forms_csrf_token(app, client, course, learner):
    login(client, learner)
    url = start(client, "four-minute-reset")
    response = client.post(url, data={"action": "continue"})
    assert response.status_code == 400
    page = client.get("/courses/four-minute-reset").get_data(as_text=True)
    assert "Resume at step 1" in page


@pytest.mark.parametrize(
    "path", ["/courses/no-such-course", "/courses/four-minute-reset/attempts/x/steps/1"]
)
def test_unknown_courses_and_attempts_are_readable_404s(client, course, learner, path):
    login(client, learner)
    response = client.get(path)
    assert response.status_code == 404 and "Traceback" not in response.get_data(as_text=True)


def test_the_catalog_filters_without_script(app, client, learner):
    from tests.courses.conftest import EXAMPLES

    for folder in sorted(EXAMPLES.iterdir()):
        import_course(app, folder)
    login(client, learner)
    html = client.get("/courses/?q=conversation").get_data(as_text=True)
    assert "Emotions on the Ward" in html and "Four-Minute Reset" not in html
    assert "1 course found" in html
    none = client.get("/courses/?q=knitting").get_data(as_text=True)
    assert "No course matches" in none
    token = csrf_token_from(client.get("/courses/four-minute-reset").get_data(as_text=True))
    assert token
