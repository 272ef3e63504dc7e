"""A clinician on a phone walks whole courses in real Chromium; axe-core checks every page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser_support import PHONE, assert_accessible, assert_reflows, browser_login
from tests.courses.conftest import EXAMPLES, answers_for, import_course

pytestmark = pytest.mark.browser


def phone(browser: Any, **options: Any) -> Any:
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, **options)


def check(page: Any) -> None:
    assert_accessible(page)
    assert_reflows(page)
    page.set_viewport_size(PHONE)


def walk_in_browser(app, page, live_server, learner, slug: str) -> list[str]:
    browser_login(app, page, live_server, learner)
    plan = answers_for(app, slug)
    page.goto(f"{live_server}/courses/")
    check(page)
    page.goto(f"{live_server}/courses/{slug}")
    check(page)
    page.get_by_role("button", name="Start").click()
    kinds = []
    while "/steps/" in page.url:
        position = int(page.url.split("/steps/")[1].split("#")[0])
        kind = page.locator("[data-step-type]").get_attribute("data-step-type")
        kinds.append(kind)
        check(page)
        if kind == "knowledge_check":
            page.get_by_role("button", name="Check my answer").click()
            expect(page.get_by_role("alert")).to_contain_text("There is a problem")
            check(page)
            for option in plan[position]["answer"]:
                page.locator(f"#answer-{option}").check()
            page.get_by_role("button", name="Check my answer").click()
            expect(page.locator("#feedback")).to_contain_text("Right")
            check(page)
            page.get_by_role("link", name="Continue").click()
        elif kind == "reflection":
            page.get_by_label(page.locator("label[for=text-field]").inner_text()).fill(
                "Calmer than before."
            )
            page.get_by_role("button", name="Save and continue").click()
        elif kind == "wellbeing_check":
            page.get_by_role("button", name="Save and continue").click()
            expect(page.get_by_role("alert")).to_be_visible()  # nothing chosen yet
            check(page)
            page.get_by_label(page.locator("label[for=value-3]").inner_text()).check()
            page.get_by_role("button", name="Save and continue").click()
        elif kind == "guided_practice":
            timer = page.get_by_role("timer")
            expect(timer).to_be_visible()  # practice.js took over from the CSS fallback
            page.get_by_role("button", name="Start").click()
            expect(page.locator("[data-phase]")).to_have_text("Breathe in")
            page.wait_for_timeout(1100)
            page.get_by_role("button", name="Pause").click()
            expect(page.locator("[data-phase]")).to_have_text("Paused.")
            assert timer.inner_text() != "2:00"
            check(page)
            page.get_by_role("button", name="I've finished the practice").click()
        elif kind == "scenario":
            while page.locator("input[name=choice]").count():
                page.locator("input[name=choice]").first.check()
                page.get_by_role("button", name="Choose").click()
                check(page)
            page.get_by_role("link", name="Continue").click()
        else:
            page.get_by_role("button", name="Continue").click()
    assert page.url.endswith("/result")
    expect(page.get_by_role("heading", level=1)).to_have_text("You passed")
    check(page)
    return kinds


def test_a_clinician_walks_the_reset_course_on_a_phone(
    app, phone_page, live_server, learner, course
):
    kinds = walk_in_browser(app, phone_page, live_server, learner, course)
    assert set(kinds) == {"content", "knowledge_check", "guided_practice", "reflection"}


def test_a_clinician_walks_the_scenario_course_on_a_phone(app, phone_page, live_server, learner):
    import_course(app, EXAMPLES / "emotions-on-the-ward")
    kinds = walk_in_browser(app, phone_page, live_server, learner, "emotions-on-the-ward")
    assert {"scenario", "wellbeing_check"} <= set(kinds)


def to_the_practice(app, context, live_server, learner, course) -> Any:
    page = context.new_page()
    page.set_default_timeout(10_000)
    browser_login(app, page, live_server, learner)
    page.goto(f"{live_server}/courses/{course}")
    page.get_by_role("button", name="Start").click()
    plan = answers_for(app, course)
    for position in range(1, 5):
        if position == 3:
            page.locator(f"#answer-{plan[3]['answer'][0]}").check()
            page.get_by_role("button", name="Check my answer").click()
            page.get_by_role("link", name="Continue").click()
        else:
            page.get_by_role("button", name="Continue").click()
    assert page.locator("[data-step-type]").get_attribute("data-step-type") == "guided_practice"
    return page


def test_the_practice_works_without_script(app, chromium_browser, live_server, learner, course):
    browser = chromium_browser
    # Playwright's evaluate (and so axe) cannot run with script off: this walk only clicks.
    context = phone(browser, java_script_enabled=False)
    page = to_the_practice(app, context, live_server, learner, course)
    expect(page.get_by_role("timer")).to_be_hidden()  # no script: the text guides instead
    expect(page.locator(".practice-bar")).to_be_visible()
    page.get_by_text("The practice as text").click()
    expect(page.get_by_text("Breathe in gently through your nose")).to_be_visible()
    page.get_by_label("Pause the animation").check()
    page.get_by_role("button", name="I've finished the practice").click()
    assert page.url.endswith("/steps/6")
    context.close()


def test_the_practice_respects_reduced_motion(app, chromium_browser, live_server, learner, course):
    browser = chromium_browser
    context = phone(browser, reduced_motion="reduce")
    page = to_the_practice(app, context, live_server, learner, course)
    for selector in (".breath", ".practice-bar span"):
        animation = page.locator(selector).evaluate("e => getComputedStyle(e).animationName")
        assert animation == "none", selector
    expect(page.get_by_role("timer")).to_be_visible()  # the countdown itself does not move
    assert_accessible(page)
    context.close()
