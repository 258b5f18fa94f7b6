"""The schema and the Swagger UI: public, offline, and within the site's Content Security Policy."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_schema_documents_the_token_scheme_and_the_error_format() -> None:
    schema = Client().get("/api/v1/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"
    responses = schema["paths"]["/api/v1/sessions/"]["post"]["responses"]
    for status in ("201", "400", "401", "403", "404", "429", "500"):
        assert status in responses
    assert responses["429"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_docs_page_loads_its_script_and_styles_from_files_of_this_site() -> None:
    page = Client().get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<style" not in html and "<script>" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "script-src 'self'" in page["Content-Security-Policy"]
    script = Client().get("/api/v1/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()
