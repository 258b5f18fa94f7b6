"""/api/v1/: see learners.api and the schema at /api/v1/schema/ (Swagger UI at /api/v1/docs/)."""

from django.urls import path, re_path

from learners.api.docs import DocsView, SchemaView
from learners.api.errors import NotFoundView
from learners.api.views import educator, learner

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(), name="api-docs"),
    path("strategies/", learner.StrategyList.as_view(), name="api-strategies"),
    path("strategies/<slug:slug>/", learner.StrategyDetail.as_view(), name="api-strategy"),
    path("sessions/", learner.SessionList.as_view(), name="api-sessions"),
    path("sessions/<int:session_id>/", learner.SessionDetail.as_view(), name="api-session"),
    path(
        "sessions/<int:session_id>/reflection/",
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
        "recommendations/<int:recommendation_id>/follow/",
        learner.RecommendationFollow.as_view(),
        name="api-recommendation-follow",
    ),
    path(
        "recommendations/<int:recommendation_id>/dismiss/",
        learner.RecommendationDismiss.as_view(),
        name="api-recommendation-dismiss",
    ),
    path("cohorts/", educator.CohortList.as_view(), name="api-cohorts"),
    path("cohorts/<int:cohort_id>/", educator.CohortDetail.as_view(), name="api-cohort"),
    path("cohorts/<int:cohort_id>/members/", educator.MemberList.as_view(), name="api-cohort-members"),
    path(
        "cohorts/<int:cohort_id>/members/<int:learner_id>/sessions/",
        educator.MemberSessionList.as_view(),
        name="api-member-sessions",
    ),
    path(
        "cohorts/<int:cohort_id>/members/<int:learner_id>/reflections/",
        educator.MemberReflectionList.as_view(),
        name="api-member-reflections",
    ),
    # Last: any other address under /api/v1/ answers 404 in the API's error format.
    re_path(r"^.*$", NotFoundView.as_view()),
]
