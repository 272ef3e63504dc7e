"""Untrusted packages: every problem reported at once, hostile ones refused before reading."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from courses.models import Asset, Course, CourseVersion, Partner
from lms_core.extensions import db
from lms_core.models import AuditLog
from tests.courses.conftest import RESET


def zip_of(folder: Path, target: Path, extra: dict[str, bytes] | None = None) -> Path:
    """Zip a package folder, plus hostile ``extra`` entries written as raw names."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return target


def symlink_zip(target: Path) -> Path:
    zip_of(RESET, target)
    with zipfile.ZipFile(target, "a") as archive:
        info = zipfile.ZipInfo("assets/passwd.png")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    return target


def bomb_zip(target: Path) -> Path:
    zip_of(RESET, target)
    with zipfile.ZipFile(target, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("lessons/notes.txt", b"\0" * (8 * 1024 * 1024))
    return target


def hostile(kind: str, tmp_path: Path) -> tuple[Path, str]:
    """(package, what the report must say) for each kind of hostile package."""
    if kind == "zip-slip":
        return zip_of(
            RESET, tmp_path / "slip.zip", {"../../evil.txt": b"x"}
        ), "path leaves the package"
    if kind == "absolute-path":
        return zip_of(RESET, tmp_path / "abs.zip", {"/tmp/evil.txt": b"x"}), "absolute path"
    if kind == "symlink-in-zip":
        return symlink_zip(tmp_path / "link.zip"), "symbolic link"
    if kind == "symlink-in-folder":
        folder = tmp_path / "linked"
        import shutil

        shutil.copytree(RESET, folder)
        os.symlink("/etc/passwd", folder / "assets" / "passwd.txt")
        return folder, "symbolic link"
    if kind == "zip-bomb":
        return bomb_zip(tmp_path / "bomb.zip"), "zip bomb"
    if kind == "not-a-zip":
        path = tmp_path / "course.zip"
        path.write_bytes(b"This is not a zip file, just text with a .zip name.\n")
        return path, "not a zip file"
    if kind == "empty-zip":
        path = tmp_path / "empty.zip"
        zipfile.ZipFile(path, "w").close()
        return path, "the package is empty"
    if kind == "empty-folder":
        path = tmp_path / "nothing"
        path.mkdir()
        return path, "the package is empty"
    raise AssertionError(kind)


KINDS = [
    "zip-slip",
    "absolute-path",
    "symlink-in-zip",
    "symlink-in-folder",
    "zip-bomb",
    "not-a-zip",
    "empty-zip",
    "empty-folder",
]


def files_outside_the_database(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if "sqlite" not in p.name)


def nothing_written(app) -> None:
    with app.app_context():
        for model in (Partner, Course, CourseVersion, Asset, AuditLog):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0, model


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_package_is_refused_by_validate_and_import(app, runner, tmp_path, kind):
    (tmp_path / "in").mkdir()
    path, expected = hostile(kind, tmp_path / "in")
    before = files_outside_the_database(tmp_path)
    for command in ("validate", "import"):
        result = runner.invoke(args=["courses", command, str(path)])
        assert result.exit_code == 2, result.output
        assert expected in result.output
        assert "nothing was imported" in result.output
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    nothing_written(app)
    assert files_outside_the_database(tmp_path) == before
    assert not Path("/tmp/evil.txt").exists()
    assert not (tmp_path.parent / "evil.txt").exists()


def test_zip_slip_is_reported_with_every_other_problem(runner, tmp_path):
    path = zip_of(
        RESET,
        tmp_path / "many.zip",
        {"../evil.txt": b"x", "/abs.txt": b"x", "tools/run.sh": b"#!/bin/sh"},
    )
    result = runner.invoke(args=["courses", "validate", str(path)])
    assert result.exit_code == 2
    assert "3 problems" in result.output
    assert "../evil.txt: path leaves the package" in result.output
    assert "/abs.txt: absolute path" in result.output
    assert "tools/run.sh: file type .sh is not allowed" in result.output


def test_a_zip_made_from_the_folder_imports_like_the_folder(app, runner, tmp_path):
    archive = tmp_path / "reset.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(RESET.rglob("*")):
            if path.is_file():
                # "Compress folder" puts everything under the folder's name.
                out.write(path, "four-minute-reset/" + path.relative_to(RESET).as_posix())
    assert runner.invoke(args=["courses", "import", str(RESET)]).exit_code == 0
    again = runner.invoke(args=["courses", "import", str(archive)])
    assert again.exit_code == 0 and "already imported" in again.output


def write(package: Path, path: str, text: str) -> None:
    (package / path).parent.mkdir(parents=True, exist_ok=True)
    (package / path).write_text(text)


def test_validate_reports_every_problem_with_file_line_and_fix(runner, package):
    course = (package / "course.yaml").read_text()
    course = course.replace("version: 1.0.0", "version: 1.0")
    course = course.replace("type: ancc-contact-hours\n  amount: 0.25", "type: cme\n  amount: 0.25")
    course = course.replace("summary: >-", "sumary: >-")
    write(package, "course.yaml", course)
    write(
        package,
        "lessons/01-why-pause.md",
        """---
title: Why a short pause helps
minutes: 4
---

## A picture

![](assets/box-breathing.png)

## Two right answers

```step
type: knowledge_check
question: Pick one
options:
  - id: a
    text: One
    correct: true
    feedback: Right
  - id: b
    text: Two
    correct: true
    feedback: Also right
```

## Something new

```step
type: poll
question: Hello?
```
""",
    )
    result = runner.invoke(args=["courses", "validate", str(package)])
    assert result.exit_code == 2
    out = result.output
    assert "Traceback" not in out
    expected = [
        "course.yaml:3: version: expected a string, found float 1.0 (put the value in quotes",
        "course.yaml:2: summary is missing",
        "course.yaml:21: sumary: unknown key (remove it or check its spelling",
        "course.yaml:27: credit.type: 'cme' is not allowed (use one of: ancc-contact-hours",
        "lessons/01-why-pause.md:8: image assets/box-breathing.png has no alt text",
        "lessons/01-why-pause.md:15: a single-choice check needs exactly one correct option",
        "lessons/01-why-pause.md:29: unknown step type 'poll' (use one of: content,",
    ]
    for line in expected:
        assert line in out, f"{line!r} not in:\n{out}"


def test_a_lesson_listed_but_missing_and_broken_front_matter(runner, package):
    course = (package / "course.yaml").read_text()
    write(package, "course.yaml", course.replace("lessons/04-your-reset.md", "lessons/05-gone.md"))
    write(
        package,
        "lessons/03-reframing.md",
        "---\ntitle: [unclosed\nminutes: 4\n---\n\n## A\n\nText\n",
    )
    result = runner.invoke(args=["courses", "validate", str(package)])
    assert result.exit_code == 2
    assert "course.yaml:45: lesson lessons/05-gone.md is not in the package" in result.output
    assert "lessons/03-reframing.md:3: YAML syntax error" in result.output


def test_media_must_be_what_its_name_says(runner, package):
    (package / "assets" / "box-breathing.png").write_bytes(b"<svg onload=alert(1)></svg>")
    result = runner.invoke(args=["courses", "validate", str(package)])
    assert result.exit_code == 2
    assert "assets/box-breathing.png: the file's content is not image/png" in result.output


def test_yaml_aliases_are_refused(runner, package):
    course = (package / "course.yaml").read_text()
    course = course.replace(
        "tags: [resilience, breathing, stress, self-care]", "tags: &t [a, b]\nx: *t"
    )
    write(package, "course.yaml", course)
    result = runner.invoke(args=["courses", "validate", str(package)])
    assert result.exit_code == 2
    assert "anchors and aliases" in result.output


def test_video_needs_captions_and_audio_a_transcript(runner, package):
    (package / "assets" / "clip.mp4").write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 64)
    (package / "assets" / "talk.mp3").write_bytes(b"ID3" + b"\0" * 64)
    write(
        package,
        "lessons/04-your-reset.md",
        """---
title: Building your own reset
minutes: 3
---

## Watch

```step
type: content
media:
  - video: assets/clip.mp4
    title: A reset in the corridor
  - audio: assets/talk.mp3
    title: A short talk
```
""",
    )
    result = runner.invoke(args=["courses", "validate", str(package)])
    assert result.exit_code == 2
    assert "video without captions" in result.output
    assert "audio without a transcript" in result.output


def test_limits_are_configurable_and_enforced_before_reading(app, tmp_path):
    from courses.package import Limits, PackageInvalid, read_package

    with pytest.raises(PackageInvalid) as caught:
        read_package(RESET, Limits(max_files=3, max_total_bytes=1000))
    text = str(caught.value)
    assert "more than the 3 allowed" in text and "in all, more than" in text


def test_scenario_loops_and_dead_links_are_found(runner, package):
    write(
        package,
        "lessons/04-your-reset.md",
        """---
title: Building your own reset
minutes: 3
---

## Round and round

```step
type: scenario
start: one
nodes:
  one:
    text: First
    choices:
      - id: go
        text: Go on
        consequence: On you go
        next: two
  two:
    text: Second
    choices:
      - id: back
        text: Back
        consequence: Back again
        next: one
      - id: lost
        text: Nowhere
        consequence: Lost
        next: three
  orphan:
    text: Never reached
```
""",
    )
    result = runner.invoke(args=["courses", "validate", str(package)])
    assert result.exit_code == 2
    assert "the scenario can loop: one → two → one" in result.output
    assert "next: 'three' is not one of the nodes" in result.output
    assert "node 'orphan' cannot be reached from start" in result.output


def test_import_of_an_unknown_partner_slug_says_how_to_fix(runner, package):
    course = (package / "course.yaml").read_text()
    start = course.index("partner:")
    end = course.index("language:")
    write(package, "course.yaml", course[:start] + "partner: nobody-yet\n" + course[end:])
    result = runner.invoke(args=["courses", "import", str(package)])
    assert result.exit_code == 2
    assert "No partner 'nobody-yet'" in result.output and "name the partner" in result.output


def test_partner_option_publishes_as_an_existing_partner(app, runner, package):
    from tests.courses.conftest import EXAMPLES

    runner.invoke(args=["courses", "import", str(EXAMPLES / "emotions-on-the-ward")])
    course = (
        (package / "course.yaml").read_text().replace("slug: four-minute-reset", "slug: reset-two")
    )
    write(package, "course.yaml", course)
    result = runner.invoke(
        args=["courses", "import", str(package), "--partner", "lakeside-health-sciences"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        from courses import api

        assert api.get_course("reset-two").partner.slug == "lakeside-health-sciences"


def test_zip_bytes_are_never_read_from_a_refused_archive(monkeypatch, tmp_path):
    from courses import package as package_module

    calls = []
    monkeypatch.setattr(package_module, "_read_member", lambda *a: calls.append(a) or b"")
    path = zip_of(RESET, tmp_path / "slip.zip", {"../evil.txt": b"x"})
    with pytest.raises(package_module.PackageInvalid):
        package_module.read_package(path)
    assert calls == []


def test_a_zip_in_memory_is_not_needed_on_disk(tmp_path):
    data = io.BytesIO()
    zipfile.ZipFile(data, "w").close()
    path = tmp_path / "empty.zip"
    path.write_bytes(data.getvalue())
    from courses.package import PackageInvalid, read_package

    with pytest.raises(PackageInvalid, match="empty"):
        read_package(path)


def test_partner_slugs_that_name_portal_pages_are_refused(app, runner, package):
    course = (package / "course.yaml").read_text()
    write(package, "course.yaml", course.replace("slug: northbridge-nursing", "slug: manage", 1))
    result = runner.invoke(args=["courses", "validate", str(package)])
    assert result.exit_code == 2
    assert "partner slug 'manage' is reserved" in result.output and "course.yaml:" in result.output
    for args in (
        ["courses", "import", str(RESET), "--partner", "invitations"],
        ["partners", "add", "manage", "--name", "Manage University"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 2, (args, result.output)
        assert "is reserved" in result.output and "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalars(select(Partner.slug)).all() == []
        assert db.session.scalars(select(Course.slug)).all() == []
