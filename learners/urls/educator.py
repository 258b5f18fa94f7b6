from django.urls import path

from learners.views import educator, engine, xapi

urlpatterns = [
    path("", educator.home, name="educator-home"),
    path("cohorts/<int:cohort_id>/", educator.cohort_detail, name="educator-cohort"),
    path("cohorts/<int:cohort_id>/settings/", educator.cohort_settings, name="educator-cohort-settings"),
    path("cohorts/<int:cohort_id>/policy/", educator.cohort_policy, name="educator-cohort-policy"),
    path("cohorts/<int:cohort_id>/archive/", educator.cohort_archive, name="educator-cohort-archive"),
    path("cohorts/<int:cohort_id>/co-teachers/", educator.co_teacher_add, name="educator-co-teacher-add"),
    path(
        "cohorts/<int:cohort_id>/co-teachers/<int:user_id>/remove/",
        educator.co_teacher_remove,
        name="educator-co-teacher-remove",
    ),
    path("cohorts/<int:cohort_id>/join-code/", educator.join_code_renew, name="educator-join-code-renew"),
    path(
        "cohorts/<int:cohort_id>/join-code/revoke/",
        educator.join_code_revoke,
        name="educator-join-code-revoke",
    ),
    path(
        "cohorts/<int:cohort_id>/members/<int:learner_id>/",
        educator.member_detail,
        name="educator-member",
    ),
    path("cohorts/<int:cohort_id>/export/<slug:kind>.csv", educator.cohort_export, name="educator-export"),
    path("cohorts/<int:cohort_id>/export/xapi.json", xapi.export_cohort, name="educator-export-xapi"),
    path("engine/", engine.engine_page, name="educator-engine"),
    path("engine/retrain/", engine.engine_run_request_view, name="educator-engine-retrain"),
    path("engine/runs/<int:run_id>/status/", engine.engine_run_status, name="educator-engine-run-status"),
]
