"""The REST API, v1: a learner's sessions, reflections, self-reports and recommendations, the
strategy catalogue, and read access for educators to their cohorts. Django REST framework views
on the same forms, services and selectors as the pages."""
