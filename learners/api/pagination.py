"""Every list of the API pages the same way: `?page=2&page_size=100`, with the count and links."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination

PAGE_SIZE = 50
PAGE_SIZE_MAX = 200


class ApiPagination(PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX
