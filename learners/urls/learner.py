from django.urls import path

from learners.views import learner

urlpatterns = [
    path("", learner.home, name="home"),
    path("sessions/", learner.session_list, name="session-list"),
    path("sessions/new/", learner.session_new, name="session-new"),
    path("sessions/<int:session_id>/", learner.session_detail, name="session-detail"),
    path("sessions/<int:session_id>/edit/", learner.session_edit, name="session-edit"),
    path("sessions/<int:session_id>/delete/", learner.session_delete_view, name="session-delete"),
    path("recommendation/refresh/", learner.recommendation_refresh, name="recommendation-refresh"),
    path("recommendation/status/", learner.recommendation_status, name="recommendation-status"),
]
