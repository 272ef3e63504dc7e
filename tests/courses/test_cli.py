"""An operator or partner author validates, imports and lists course packages."""

from __future__ import annotations

import json

import pytest

from tests.courses.conftest import EXAMPLES

EXAMPLE_DIRS = sorted(p for p in EXAMPLES.iterdir() if (p / "course.yaml").is_file())


@pytest.mark.parametrize("folder", EXAMPLE_DIRS, ids=lambda p: p.name)
def test_every_example_validates_and_imports(runner, folder):
    checked = runner.invoke(args=["courses", "validate", str(folder)])
    assert checked.exit_code == 0, checked.output
    assert "valid" in checked.output
    imported = runner.invoke(args=["courses", "import", str(folder)])
    assert imported.exit_code == 0, imported.output
    assert f"Imported {folder.name}" in imported.output


def test_list_gives_slug_title_and_version_as_json(runner):
    for folder in EXAMPLE_DIRS:
        runner.invoke(args=["courses", "import", str(folder)])
    listing = json.loads(runner.invoke(args=["courses", "list", "--format", "json"]).output)
    assert sorted(row["slug"] for row in listing) == sorted(p.name for p in EXAMPLE_DIRS)
    for row in listing:
        assert row["title"] and row["version"] == "1.0.0"


def test_importing_identical_content_again_is_a_no_op(runner):
    folder = EXAMPLE_DIRS[0]
    runner.invoke(args=["courses", "import", str(folder)])
    again = runner.invoke(args=["courses", "import", str(folder)])
    assert again.exit_code == 0 and "already imported" in again.output
    listing = json.loads(runner.invoke(args=["courses", "list", "--format", "json"]).output)
    assert len(listing) == 1
