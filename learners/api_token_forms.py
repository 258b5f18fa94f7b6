"""The settings page's form for a new personal access token: a name and a scope."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from learners.models import ApiToken


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name", "scope"]
        labels = {"name": _("Token name"), "scope": _("Access")}
        help_texts = {"name": _("What it is for, such as “Anki sync on my laptop”.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "api_token_%s")  # the settings page has other forms
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the token a name."), code="blank")
        return name
