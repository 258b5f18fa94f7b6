from django.urls import path

from learners.views import signup

urlpatterns = [
    path("signup/", signup.signup, name="signup"),
]
