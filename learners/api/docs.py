"""The schema and its Swagger UI, served from drf-spectacular-sidecar's static files (no CDN)."""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema, public like the docs: it describes the API, not anyone's data."""

    permission_classes = [AllowAny]


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI under the site's Content Security Policy: the page's inline style is moved to a
    file (templates/api/docs.html) and the start-up script is served from its own address."""

    permission_classes = [AllowAny]
    template_name = "api/docs.html"
    url_name = "api-schema"
