from django.urls import path

from learners.views import calendar, errors, health, language, learner, plan, pwa, selfreport, study

urlpatterns = [
    path("", learner.home, name="home"),
    path("sessions/", learner.session_list, name="session-list"),
    path("sessions/new/", learner.session_new, name="session-new"),
    path("sessions/<int:session_id>/", learner.session_detail, name="session-detail"),
    path("sessions/<int:session_id>/edit/", learner.session_edit, name="session-edit"),
    path("sessions/<int:session_id>/delete/", learner.session_delete_view, name="session-delete"),
    path("recommendation/refresh/", learner.recommendation_refresh_view, name="recommendation-refresh"),
    path("recommendation/status/", learner.recommendation_status, name="recommendation-status"),
    path(
        "recommendation/<int:recommendation_id>/follow/",
        learner.recommendation_follow,
        name="recommendation-follow",
    ),
    path(
        "recommendation/<int:recommendation_id>/dismiss/",
        learner.recommendation_dismiss,
        name="recommendation-dismiss",
    ),
    path("nudges/dismiss/", learner.nudge_dismiss_view, name="nudge-dismiss"),
    path("plan/", plan.plan_accept_view, name="plan-accept"),
    path("plan/<int:planned_id>/move/", plan.plan_move_view, name="plan-move"),
    path("plan/<int:planned_id>/skip/", plan.plan_skip_view, name="plan-skip"),
    path("calendar/<str:token>.ics", calendar.feed, name="calendar-feed"),
    path("study/", study.study, name="study"),
    path("study/pause/", study.study_pause, name="study-pause"),
    path("study/resume/", study.study_resume, name="study-resume"),
    path("study/finish/", study.study_finish, name="study-finish"),
    path("study/discard/", study.study_discard, name="study-discard"),
    path("self-report/", selfreport.selfreport, name="self-report"),
    path("language/", language.language_set, name="language"),
    path("welcome/", errors.landing, name="landing"),
    path("manifest.webmanifest", pwa.manifest, name="web-manifest"),
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("offline/", pwa.offline, name="offline"),
    path("health/", health.health, name="health"),
]
