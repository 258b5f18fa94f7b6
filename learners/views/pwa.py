"""What makes the app installable: the web app manifest, the service worker and its offline page.

The manifest and the worker are views rather than static files because they name static files by
their content-hashed URLs, and those change with every deploy.
"""

from __future__ import annotations

import hashlib
import json
from typing import NamedTuple

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language, get_language_bidi, gettext
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

THEME_COLOUR = "#2f6f5e"  # the accent, --mc-accent in static/css/app.css
BACKGROUND_COLOUR = "#ffffff"  # Pico's light theme, which base.html sets
CACHE_PREFIX = "metacoach-"
WORKER_SCRIPT = "js/sw.js"
# Everything templates/pwa/offline.html loads: it is shown without a network.
OFFLINE_PAGE_ASSETS = ("vendor/pico/pico.min.css", "css/app.css", "favicon.svg", "js/sw-offline.js")


class Icon(NamedTuple):
    path: str  # under static/
    sizes: str
    type: str
    purpose: str


ICONS = (
    Icon("icons/icon-192.png", "192x192", "image/png", "any"),
    Icon("icons/icon-512.png", "512x512", "image/png", "any"),
    Icon("icons/icon-maskable-192.png", "192x192", "image/png", "maskable"),
    Icon("icons/icon-maskable-512.png", "512x512", "image/png", "maskable"),
    Icon("favicon.svg", "any", "image/svg+xml", "any"),
)


@require_safe
@cache_control(no_cache=True)
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest, in the reader's language."""
    data = {
        "id": "/",
        "name": gettext("Metacoach"),
        "short_name": gettext("Metacoach"),
        "description": gettext(
            "Metacoach coaches how you learn. Advice comes with its evidence and its uncertainty."
        ),
        "lang": get_language(),
        "dir": "rtl" if get_language_bidi() else "ltr",
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "categories": ["education", "productivity"],
        "icons": [
            {"src": static(icon.path), "sizes": icon.sizes, "type": icon.type, "purpose": icon.purpose}
            for icon in ICONS
        ],
        "shortcuts": [
            {"name": gettext("Study"), "url": reverse("study")},
            {"name": gettext("Log a session"), "url": reverse("session-new")},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")


@require_safe
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    """The worker at the root, so its scope is the whole app: its settings, then its logic.

    The cache's name is a digest of what it holds and of the deploy's static files, so a deploy,
    or a learner choosing another language for the offline page, installs a fresh cache and the
    worker deletes the old one.
    """
    config = {
        "precache": [reverse("offline"), *(static(path) for path in OFFLINE_PAGE_ASSETS)],
        "offline": reverse("offline"),
        "static": settings.STATIC_URL,
        "language": get_language(),
        "script": static(WORKER_SCRIPT),
    }
    # Set by the manifest storage of production and `make run`; the test storage has none.
    deploy = getattr(staticfiles_storage, "manifest_hash", "")
    digest = hashlib.sha256(json.dumps([config, deploy], sort_keys=True).encode()).hexdigest()[:16]
    worker = {**config, "cache": CACHE_PREFIX + digest, "cachePrefix": CACHE_PREFIX}
    source = (
        f"self.METACOACH_SW = {json.dumps(worker, sort_keys=True)};\n"
        f"importScripts({json.dumps(config['script'])});\n"
    )
    return HttpResponse(source, content_type="text/javascript; charset=utf-8")


@require_safe
def offline(request: HttpRequest) -> HttpResponse:
    """What the worker shows when a page cannot be reached; it carries nothing of the session."""
    return render(request, "pwa/offline.html")
