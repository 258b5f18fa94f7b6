from django.contrib.auth import views as auth_views
from django.urls import path

from learners.forms import LoginForm
from learners.views import email_address, signup

# Included before django.contrib.auth.urls, so these replace its login and reset request pages.
urlpatterns = [
    path("signup/", signup.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("password_reset/", email_address.password_reset, name="password_reset"),
    path("verify/<str:token>/", email_address.verify, name="email-verify"),
]
