from django.urls import path

from learners.views import accounts

urlpatterns = [
    path("signup/", accounts.signup, name="signup"),
]
