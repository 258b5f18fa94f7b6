from django.contrib.auth import login
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation

from learners.forms import SignupForm
from learners.http import AuthenticatedHttpRequest
from learners.services.email_address import email_verification_request
from learners.services.sessions import learner_signup


def signup(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        learner = learner_signup(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            email=form.cleaned_data["email"],
            timezone=form.cleaned_data["timezone"],
        )
        email_verification_request(
            user_id=learner.user_id,
            base_url=request.build_absolute_uri("/"),
            language=translation.get_language(),
        )
        login(request, learner.user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})
