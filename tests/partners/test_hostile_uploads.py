"""Hostile and broken packages uploaded through the web get the CLI's report, problem for
problem, and leave nothing behind."""

from __future__ import annotations

import html
import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import csrf_token_from
from tests.courses.test_packages import hostile, write
from tests.partners.conftest import NORTHBRIDGE, RESET, as_author, row_counts, upload_zip, zip_bytes

ZIP_KINDS = ["zip-slip", "absolute-path", "symlink-in-zip", "zip-bomb", "not-a-zip", "empty-zip"]
_PROBLEM = re.compile(
    r'<li>(?:<code>(.*?)</code>: )?(.*?)(?: <span class="hint">— (.*?)</span>)?</li>', re.S
)


def web_problems(page: str) -> list[str]:
    """The report's problems, written as the CLI writes them."""
    report = page.split('id="report"', 1)[1].split("</div>", 1)[0]
    lines = []
    for location, message, hint in _PROBLEM.findall(report):
        text = f"{location}: {message}" if location else message
        lines.append(html.unescape(f"{text} ({hint})" if hint else text))
    return lines


def cli_problems(runner: Any, path: Path, label: str) -> list[str]:
    result = runner.invoke(args=["courses", "validate", str(path)])
    assert result.exit_code == 2, result.output
    return [
        line.strip()[2:].replace(str(path), label)
        for line in result.output.splitlines()
        if line.startswith("  - ")
    ]


def broken_package(tmp_path: Path) -> Path:
    """Problems inside the files: wrong types, unknown keys, a missing alt text."""
    package = tmp_path / "broken"
    shutil.copytree(RESET, package)
    course = (package / "course.yaml").read_text()
    course = course.replace("version: 1.0.0", "version: 1.0").replace("summary: >-", "sumary: >-")
    write(package, "course.yaml", course)
    lesson = (package / "lessons" / "01-why-pause.md").read_text()
    write(
        package,
        "lessons/01-why-pause.md",
        lesson + "\n## A picture\n\n![](assets/box-breathing.png)\n",
    )
    return package


@pytest.mark.parametrize("kind", [*ZIP_KINDS, "broken-content"])
def test_a_hostile_upload_shows_the_clis_report_and_writes_nothing(
    app: Flask, client: Any, runner: Any, author: Any, tmp_path: Path, kind: str
) -> None:
    if kind == "broken-content":
        folder = broken_package(tmp_path)
        path = tmp_path / "broken.zip"
        path.write_bytes(zip_bytes(folder))
    else:
        (tmp_path / "in").mkdir()
        path, _ = hostile(kind, tmp_path / "in")
    expected = cli_problems(runner, path, path.name)
    assert expected
    as_author(client, author)
    before = row_counts(app)
    response = upload_zip(client, NORTHBRIDGE, path.read_bytes(), name=path.name)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nothing was imported" in page
    assert web_problems(page) == expected
    assert row_counts(app) == before
    assert not list(Path("/tmp").glob("shiftwell-upload-*"))


def test_a_folder_with_a_path_out_of_the_package_is_refused_like_a_zip(
    app: Flask, client: Any, author: Any
) -> None:
    as_author(client, author)
    files = [
        (io.BytesIO(path.read_bytes()), f"pkg/{path.relative_to(RESET).as_posix()}")
        for path in sorted(RESET.rglob("*"))
        if path.is_file()
    ]
    files.append((io.BytesIO(b"x"), "pkg/../../evil.md"))
    before = row_counts(app)
    page = client.get(f"/partner/{NORTHBRIDGE}/upload").get_data(as_text=True)
    response = client.post(
        f"/partner/{NORTHBRIDGE}/upload",
        data={"csrf_token": csrf_token_from(page), "folder": files},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "path leaves the package" in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(
    app: Flask, client: Any, author: Any
) -> None:
    app.config["COURSES_MAX_TOTAL_BYTES"] = 100_000
    as_author(client, author)
    before = row_counts(app)
    response = upload_zip(client, NORTHBRIDGE, b"\0" * 2_000_000, name="huge.zip")
    assert response.status_code == 413
    assert "larger than the" in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_an_upload_without_the_forms_csrf_token_is_refused(
    app: Flask, client: Any, author: Any
) -> None:
    as_author(client, author)
    before = row_counts(app)
    response = client.post(
        f"/partner/{NORTHBRIDGE}/upload",
        data={"package": (io.BytesIO(zip_bytes(RESET)), "course.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert row_counts(app) == before


def test_a_partner_cannot_upload_over_another_partners_course(
    app: Flask, client: Any, other_author: Any, tmp_path: Path
) -> None:
    """Lakeside's author uploads a package with Northbridge's course slug."""
    from tests.partners.conftest import LAKESIDE, new_version

    as_author(client, other_author)
    package = new_version(RESET, tmp_path / "theirs", "9.0.0")
    before = row_counts(app)
    response = upload_zip(client, LAKESIDE, zip_bytes(package))
    assert response.status_code == 409
    assert "another partner cannot publish over it" in response.get_data(as_text=True)
    assert row_counts(app) == before
