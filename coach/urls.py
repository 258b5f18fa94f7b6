from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("learners.api.urls")),
    path("accounts/", include("learners.urls.signup")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("educator/", include("learners.urls.educator")),
    path("settings/", include("learners.urls.account")),
    path("", include("learners.urls.learner")),
]
