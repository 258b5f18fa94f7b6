"""The Content Security Policy: strict on every response, and no template needs it loosened."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from learners.models import Learner

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)


def directives(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("view", ["login", "signup"])
def test_pages_send_a_strict_policy(client: Client, view: str) -> None:
    policy = directives(client.get(reverse(view)))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_the_dashboard_is_covered_too(alice: Learner, alice_client: Client) -> None:
    assert directives(alice_client.get(reverse("home")))["script-src"] == ["'self'"]


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        (INLINE_SCRIPT, "inline script"),
        (EVENT_HANDLER, "event-handler attribute"),
        (STYLE_ATTRIBUTE, "style attribute"),
    ],
)
def test_no_template_needs_inline_code(pattern: re.Pattern[str], what: str) -> None:
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)[:80]}"
        for path in TEMPLATES.rglob("*.html")
        for match in pattern.finditer(path.read_text())
    ]
    assert found == [], f"{what} in templates: {found}"


def test_the_patterns_find_what_they_look_for() -> None:
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/a.js" defer></script>')
    assert not INLINE_SCRIPT.search('<script type="application/json" id="x">{}</script>')
    assert EVENT_HANDLER.search('<button onclick="go()">')
    assert STYLE_ATTRIBUTE.search('<div class="band" style="--low: 1%">')
