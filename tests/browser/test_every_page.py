"""Every page, as each persona, at phone and desktop widths, in both languages: it fits the width,
logs no console error, keeps its menus on screen, and axe-core finds nothing serious or critical.
Screenshots of each page land in var/screenshots/pages/ to be looked at."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import Browser, ConsoleMessage, Page

from learners.demo import demo_create
from learners.models import Cohort, Learner, StudySession
from tests.browser.conftest import (
    BROWSER,
    CSP_LISTENER,
    SCREENSHOTS,
    SIZES,
    draw_charts,
    serious_accessibility_violations,
)
from tests.factories import LearnerFactory, UserFactory

pytestmark = BROWSER
PASSWORD = "a-long-unusual-passphrase-42"
LANGUAGES = ["en", "zh-hans"]


@dataclass(frozen=True)
class Persona:
    username: str | None  # None: a visitor who is not logged in
    pages: Callable[[], list[str]]
    statuses: dict[str, int] = field(default_factory=dict)  # pages expected to be errors


def _demo_learner_pages() -> list[str]:
    session = StudySession.objects.filter(learner__user__username="demo").latest("started_at")
    return [
        reverse("home"),
        reverse("session-list"),
        reverse("session-new"),
        reverse("session-detail", args=[session.pk]),
        reverse("session-edit", args=[session.pk]),
        reverse("session-delete", args=[session.pk]),
        reverse("study"),
        reverse("self-report"),
        reverse("account-settings"),
        reverse("email-change"),
        reverse("goals"),
        reverse("join"),
        reverse("account-delete"),
        reverse("password_change"),
        reverse("educator-home"),  # forbidden: the app's own 403 page
        "/no-such-page/",  # the app's own 404 page
    ]


def _new_learner_pages() -> list[str]:
    return [reverse("home"), reverse("session-list"), reverse("study"), reverse("self-report")]


def _educator_pages() -> list[str]:
    cohort = Cohort.objects.get(join_code="DEMO2026")
    member = cohort.memberships.select_related("learner").first()
    assert member is not None
    return [
        reverse("educator-home"),
        reverse("educator-cohort", args=[cohort.pk]),
        reverse("educator-cohort-settings", args=[cohort.pk]),
        reverse("educator-member", args=[cohort.pk, member.learner.pk]),
        reverse("educator-engine"),
    ]


def _admin_pages() -> list[str]:
    return ["/admin/", "/admin/learners/studysession/", "/admin/auth/user/"]


def _visitor_pages() -> list[str]:
    return [
        reverse("login"),
        reverse("signup"),
        reverse("password_reset"),
        reverse("password_reset_done"),
        reverse("xapi-vocabulary"),
        reverse("xapi-extension", args=["confidence-before"]),
    ]


PERSONAS = {
    "visitor": Persona(None, _visitor_pages),
    "learner": Persona("demo", _demo_learner_pages, {"/educator/": 403, "/no-such-page/": 404}),
    "new-learner": Persona("newcomer", _new_learner_pages),
    "educator": Persona("teacher", _educator_pages),
    "administrator": Persona("root", _admin_pages),
}


def _accounts() -> None:
    demo_create(members=6, days=21)
    for username in ("demo", "teacher"):
        user = get_user_model().objects.get(username=username)
        user.set_password(PASSWORD)
        user.save()
    LearnerFactory(user=UserFactory(username="newcomer", password=PASSWORD))
    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)


def _speak(username: str | None, language: str) -> None:
    if username is not None:
        user = get_user_model().objects.get(username=username)
        Learner.objects.update_or_create(user=user, defaults={"language": language})


def _log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def _check(page: Page, base: str, path: str, expected: int, errors: list[str]) -> list[str]:
    """The failures of one page at the current width, one line each."""
    failures = []
    errors.clear()
    response = page.goto(base + path)
    assert response is not None
    if response.status != expected:
        failures.append(f"status {response.status}, expected {expected}")
    # The browser logs an error page's own status; that one is expected.
    errors_expected = f"status of {expected}" if expected != 200 else None
    page.wait_for_load_state("load")
    draw_charts(page)
    page.wait_for_timeout(150)  # plotly's responsive charts settle after load
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .filter(e => !e.closest('.table-scroll, .js-plotly-plot'))
                .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''))"""
        )
        failures.append(f"scrolls sideways: {width[0]} > {width[1]} px ({', '.join(wide)})")
    failures += _menus_outside_the_viewport(page)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    failures += [f"console: {e}" for e in errors if not (errors_expected and errors_expected in e)]
    failures += [f"axe: {v}" for v in serious_accessibility_violations(page)]
    return failures


def _menus_outside_the_viewport(page: Page) -> list[str]:
    """Opens each drop-down menu of the header and reports any that reaches past the screen."""
    failures = []
    for menu in page.locator("header details").all():
        menu.locator("summary").click()
        box = menu.locator("ul").bounding_box()
        width = page.evaluate("() => window.innerWidth")
        if box is None or box["x"] < 0 or box["x"] + box["width"] > width:
            failures.append(f"menu {menu.locator('summary').inner_text()!r} opens outside the screen: {box}")
        menu.locator("summary").click()
    return failures


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_every_page_fits_both_widths_in_both_languages(
    live_server,  # type: ignore[no-untyped-def]
    browser: Browser,
    worker: Path,
    persona: str,
) -> None:
    _accounts()
    who = PERSONAS[persona]
    urls = who.pages()
    failures: list[str] = []
    shots = SCREENSHOTS / "pages"
    shots.mkdir(parents=True, exist_ok=True)
    for language in LANGUAGES:
        _speak(who.username, language)
        context = browser.new_context(locale=language, viewport=SIZES["phone"])
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        context.add_init_script(CSP_LISTENER)  # CSP violations count as console errors
        page = context.new_page()
        errors: list[str] = []

        def on_console(message: ConsoleMessage, errors: list[str] = errors) -> None:
            if message.type == "error":
                errors.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        if who.username:
            _log_in(page, live_server.url, who.username)
        for url in urls:
            for label in ("phone", "desktop"):
                page.set_viewport_size(SIZES[label])
                failures += [
                    f"{language} {label} {url}: {f}"
                    for f in _check(page, live_server.url, url, who.statuses.get(url, 200), errors)
                ]
                name = re.sub(r"[^a-z0-9]+", "-", re.sub(r"\d+", "n", url.strip("/"))).strip("-") or "home"
                page.screenshot(path=str(shots / f"{persona}-{name}-{language}-{label}.png"), full_page=True)
        context.close()
    assert failures == [], "\n".join(failures)
