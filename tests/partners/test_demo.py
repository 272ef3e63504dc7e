"""`make demo` gives a partner author account to try the portal with, in demo mode only."""

from __future__ import annotations

from typing import Any

import pytest

from courses.partners.services import DEMO_AUTHOR_EMAIL, DEMO_AUTHOR_PASSWORD, DEMO_PARTNER
from tests.conftest import submit


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "ENV": "demo", "OUTBOX_RUNNER": "inline"}


def test_demo_load_prints_a_partner_author_who_can_log_in(runner: Any, client: Any) -> None:
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert DEMO_AUTHOR_EMAIL in first.output and DEMO_AUTHOR_PASSWORD in first.output
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output  # idempotent
    response = submit(
        client,
        "/login?next=/partner/",
        {"email": DEMO_AUTHOR_EMAIL, "password": DEMO_AUTHOR_PASSWORD},
    )
    assert response.headers["Location"] == "/partner/"
    assert client.get("/partner/").headers["Location"] == f"/partner/{DEMO_PARTNER}/"


def test_outside_demo_mode_there_is_no_demo_author(app: Any, runner: Any) -> None:
    app.config["DEMO"] = False
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert DEMO_AUTHOR_EMAIL not in result.output
