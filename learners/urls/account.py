from django.urls import path

from learners.views import account, api_tokens, email_address, goals, imports, xapi

urlpatterns = [
    path("", account.settings_page, name="account-settings"),
    path("timezone/", account.timezone_update, name="account-timezone"),
    path("goals/", goals.goals, name="goals"),
    path("goals/<int:goal_id>/remove/", goals.goal_remove, name="goal-remove"),
    path("subjects/rename/", goals.subject_rename_view, name="subject-rename"),
    path("reminders/", account.reminder_update, name="reminder-update"),
    path("calendar/renew/", account.calendar_renew, name="calendar-renew"),
    path("calendar/revoke/", account.calendar_revoke, name="calendar-revoke"),
    path("email/", email_address.change, name="email-change"),
    path("email/resend/", email_address.resend, name="email-resend"),
    path("join/", account.join, name="join"),
    path("join/<str:code>/", account.join, name="join-code"),
    path("cohorts/<int:cohort_id>/sharing/", account.membership_sharing, name="membership-sharing"),
    path("cohorts/<int:cohort_id>/leave/", account.membership_leave, name="membership-leave"),
    path("api-tokens/", api_tokens.api_token_create_view, name="api-token-create"),
    path("api-tokens/<int:token_id>/revoke/", api_tokens.api_token_revoke_view, name="api-token-revoke"),
    path("export/<slug:kind>.csv", account.export_csv, name="account-export-csv"),
    path("export.json", account.export_json, name="account-export-json"),
    path("export/xapi.json", xapi.export_learner, name="account-export-xapi"),
    path("delete/", account.delete, name="account-delete"),
    path("import/", imports.import_page, name="import"),
    path("import/<int:job_id>/", imports.import_job_page, name="import-job"),
    path("import/<int:job_id>/status/", imports.import_job_status, name="import-job-status"),
    path("import/<int:job_id>/confirm/", imports.import_job_confirm_view, name="import-job-confirm"),
    path("import/<int:job_id>/cancel/", imports.import_job_cancel_view, name="import-job-cancel"),
]
