"""/api/v1/: see learners.api and the schema at /api/v1/schema/ (Swagger UI at /api/v1/docs/)."""

from django.urls import path, re_path, register_converter

from learners.api.docs import DocsView, SchemaView
from learners.api.errors import NotFoundView
from learners.api.views import educator, learner


class IdConverter:
    """An object id: at most 18 digits, so a longer one is not found (404) rather than overflowing
    the database's 64-bit integers (500)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(), name="api-docs"),
    path("strategies/", learner.StrategyList.as_view(), name="api-strategies"),
    path("strategies/<slug:slug>/", learner.StrategyDetail.as_view(), name="api-strategy"),
    path("sessions/", learner.SessionList.as_view(), name="api-sessions"),
    path("sessions/<id:session_id>/", learner.SessionDetail.as_view(), name="api-session"),
    path(
        "sessions/<id:session_id>/reflection/",
        learner.SessionReflection.as_view(),
        name="api-session-reflection",
    ),
    path("reflections/", learner.ReflectionList.as_view(), name="api-reflections"),
    path("self-reports/", learner.SelfReportList.as_view(), name="api-self-reports"),
    path("self-reports/items/", learner.SelfReportItems.as_view(), name="api-self-report-items"),
    path("recommendation/", learner.CurrentRecommendation.as_view(), name="api-recommendation"),
    path(
        "recommendation/requests/", learner.RecommendationRequest.as_view(), name="api-recommendation-request"
    ),
    path(
        "recommendations/<id:recommendation_id>/follow/",
        learner.RecommendationFollow.as_view(),
        name="api-recommendation-follow",
    ),
    path(
        "recommendations/<id:recommendation_id>/dismiss/",
        learner.RecommendationDismiss.as_view(),
        name="api-recommendation-dismiss",
    ),
    path("cohorts/", educator.CohortList.as_view(), name="api-cohorts"),
    path("cohorts/<id:cohort_id>/", educator.CohortDetail.as_view(), name="api-cohort"),
    path("cohorts/<id:cohort_id>/members/", educator.MemberList.as_view(), name="api-cohort-members"),
    path(
        "cohorts/<id:cohort_id>/members/<id:learner_id>/sessions/",
        educator.MemberSessionList.as_view(),
        name="api-member-sessions",
    ),
    path(
        "cohorts/<id:cohort_id>/members/<id:learner_id>/reflections/",
        educator.MemberReflectionList.as_view(),
        name="api-member-reflections",
    ),
    # Last: any other address under /api/v1/ answers 404 in the API's error format.
    # [\s\S] rather than ".": a path may hold an encoded line break.
    re_path(r"^[\s\S]*\Z", NotFoundView.as_view()),
]
