"""Real Chromium (Debian's, driven by Playwright) against the app served on localhost.

Loaded by the root conftest, so every package's tests can use ``chromium_browser``,
``page``, ``live_server``, ``assert_accessible`` and ``assert_reflows``. One Playwright
instance serves the whole session: its sync API allows only one per thread.

Browser tests run once, on SQLite (``live_server`` skips the PostgreSQL run): what they
add is the browser's view; the SQL behind each page is covered on both backends by the
HTTP tests. Skipped where Chromium is absent; `.ci/run` installs it. axe-core comes
bundled with `axe-playwright-python`, so no network is needed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("SHIFTWELL_TEST_CHROMIUM", "/usr/bin/chromium")
# Chromium's own background services try to reach Google; this machine's network is
# closed, so turn them off rather than wait for refusals.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (set SHIFTWELL_TEST_CHROMIUM)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Flask, backend: str) -> Iterator[str]:
    """The test's app on a real socket, so the browser talks HTTP to it."""
    if backend != "sqlite":
        pytest.skip("browser tests run once, on SQLite; the SQL is covered on both backends")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def page(chromium_browser: Any) -> Iterator[Any]:
    context = chromium_browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(chromium_browser: Any) -> Iterator[Any]:
    """A page in a phone-sized, touch context: how clinicians meet Shiftwell."""
    context = chromium_browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def browser_login(app: Flask, page: Any, base_url: str, user: Any, kind: str = "lti") -> None:
    """Give the browser the session cookie a launch (or a local login) would have set."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    cookie = serializer.dumps(
        {"_user_id": str(user.id), "_fresh": True, "kind": kind, "sid": "browser"}
    )
    page.context.add_cookies(
        [{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": base_url}]
    )


def carry_session(client: Any, page: Any, base_url: str) -> None:
    """A flow ran through the test client (an LTI launch); the browser continues it."""
    cookie = client.get_cookie("shiftwell_session")
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


def assert_accessible(page: Any) -> None:
    """axe-core (WCAG 2.1 A and AA rules) finds no violations on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
        },
    )
    violations = results.response["violations"]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in violations
    )
    assert not violations, f"axe found accessibility violations on {page.url}:\n{report}"


def assert_reflows(page: Any, width: int = 320) -> None:
    """WCAG 1.4.10: at 320 CSS px (a 1280 px window at 400 %; 200 % of a 640 px phone)
    nothing scrolls sideways."""
    page.set_viewport_size({"width": width, "height": 800})
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide at a {width}px viewport"
