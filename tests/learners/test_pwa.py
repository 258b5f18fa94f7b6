"""Installable: the manifest, the service worker and the offline page it shows."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client

pytestmark = pytest.mark.django_db
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _static_file(url: str) -> Path:
    assert url.startswith(settings.STATIC_URL), url
    found = finders.find(url.removeprefix(settings.STATIC_URL))
    assert isinstance(found, str), f"{url} is not a static file"
    return Path(found)


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a PNG must start with."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE and header[12:16] == b"IHDR", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def _worker_config(response_text: str) -> dict[str, object]:
    match = re.match(r"self\.METACOACH_SW = (\{.*\});\n", response_text)
    assert match, response_text
    config: dict[str, object] = json.loads(match.group(1))
    return config


def test_manifest_is_json_with_what_installing_needs(client: Client) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "Metacoach" and manifest["short_name"] == "Metacoach"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#2f6f5e"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])


def test_manifest_icons_are_files_of_the_sizes_they_declare(client: Client) -> None:
    icons = json.loads(client.get("/manifest.webmanifest").content)["icons"]
    pngs = [icon for icon in icons if icon["type"] == "image/png"]
    for icon in pngs:
        width, height = _png_size(_static_file(icon["src"]))
        assert icon["sizes"] == f"{width}x{height}", icon["src"]
    declared = {(icon["sizes"], icon["purpose"]) for icon in pngs}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= declared
    svg = next(icon for icon in icons if icon["type"] == "image/svg+xml")
    assert _static_file(svg["src"]).name == "favicon.svg" and svg["sizes"] == "any"


def test_apple_touch_icon_is_an_opaque_180px_png(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()
    href = re.search(r'<link rel="apple-touch-icon" href="([^"]+)"', page)
    assert href
    path = _static_file(href.group(1))
    assert _png_size(path) == (180, 180)
    colour_type = path.read_bytes()[25]
    assert colour_type == 2, "iOS shows transparency as black: the icon is RGB, without alpha"


def test_manifest_speaks_the_readers_language(client: Client) -> None:
    response = client.get("/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="zh-hans")
    manifest = json.loads(response.content)
    assert manifest["lang"] == "zh-hans"
    assert "指导你如何学习" in manifest["description"]


def test_every_page_links_the_manifest_and_registers_the_worker_from_a_file(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest"' in page
    assert '<meta name="theme-color" content="#2f6f5e">' in page
    script = re.search(r'<script src="([^"]+sw-register\.js)" data-service-worker="/sw\.js" defer>', page)
    assert script and _static_file(script.group(1)).exists()
    assert "<script>" not in page, "no inline scripts: a Content Security Policy is coming"


def test_service_worker_is_served_from_the_root_uncached(client: Client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "text/javascript"
    assert response["Cache-Control"] == "no-cache"
    # At the root, its default scope is the whole app: no Service-Worker-Allowed header needed.
    assert "Service-Worker-Allowed" not in response
    config = _worker_config(response.content.decode())
    assert config["static"] == settings.STATIC_URL
    assert f"importScripts({json.dumps(config['script'])});" in response.content.decode()
    assert _static_file(str(config["script"])).name == "sw.js"


def test_service_worker_precaches_the_offline_page_and_everything_it_loads(client: Client) -> None:
    config = _worker_config(client.get("/sw.js").content.decode())
    precache = config["precache"]
    assert isinstance(precache, list)
    assert config["offline"] == "/offline/" and "/offline/" in precache
    offline_page = client.get("/offline/").content.decode()
    loaded = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', offline_page))
    assert "/static/css/app.css" in loaded
    assert loaded <= set(precache)
    for url in precache[1:]:
        assert _static_file(url).exists()


def test_a_deploy_or_another_language_renames_the_cache(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cache_name(**headers: str) -> object:
        return _worker_config(client.get("/sw.js", **headers).content.decode())["cache"]

    first = cache_name()
    assert first == cache_name()
    assert str(first).startswith("metacoach-")
    assert cache_name(HTTP_ACCEPT_LANGUAGE="zh-hans") != first
    monkeypatch.setattr(staticfiles_storage, "manifest_hash", "a-new-deploy", raising=False)
    assert cache_name() != first


def test_offline_page_says_nothing_typed_was_lost_and_offers_a_retry(client: Client) -> None:
    response = client.get("/offline/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "needs a connection" in page and "Nothing you typed is lost" in page
    assert '<a href="" role="button">Try again</a>' in page


def test_offline_page_is_marked_with_the_readers_language(client: Client) -> None:
    page = client.get("/offline/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="zh-hans"' in page


def test_offline_page_carries_nothing_of_the_session(alice_client: Client) -> None:
    response = alice_client.get("/offline/")
    page = response.content.decode()
    assert "alice" not in page
    assert "csrfmiddlewaretoken" not in page
    assert not response.cookies


@pytest.mark.parametrize("url", ["/manifest.webmanifest", "/sw.js", "/offline/"])
def test_installing_urls_take_no_posts(client: Client, url: str) -> None:
    assert client.post(url).status_code == 405
