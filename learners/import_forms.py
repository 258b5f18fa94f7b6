"""Forms of the import pages: the upload, and one row of a sessions CSV checked as the log form checks it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from coach.models import Strategy
from learners.forms import CountedCharField, ReflectionFields, StrategyChoiceField, StudySessionForm
from learners.models import IMPORT_MAX_BYTES, ImportJob

# The file's ending decides how it is read.
KIND_BY_SUFFIX = {".apkg": ImportJob.Kind.ANKI, ".colpkg": ImportJob.Kind.ANKI, ".csv": ImportJob.Kind.CSV}


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File to import"),
        help_text=_(
            "An Anki package (.apkg or .colpkg) or a sessions CSV exported from Metacoach; at most 50 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(KIND_BY_SUFFIX)}),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if self.kind_of(upload) is None:
            raise forms.ValidationError(
                _("Choose an Anki package (.apkg or .colpkg) or a sessions CSV (.csv)."), code="kind"
            )
        if upload.size is not None and upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("This file is %(size)s; files of at most %(limit)s can be imported."),
                code="too_large",
                params={"size": filesizeformat(upload.size), "limit": filesizeformat(IMPORT_MAX_BYTES)},
            )
        return upload

    @staticmethod
    def kind_of(upload: UploadedFile) -> str | None:
        name = (upload.name or "").lower()
        return next((kind for suffix, kind in KIND_BY_SUFFIX.items() if name.endswith(suffix)), None)

    def kind(self) -> str:
        kind = self.kind_of(self.cleaned_data["file"])
        assert kind is not None  # clean_file refused the others
        return kind


def _no_constraint_queries(exclude: Any = None) -> None:
    return None


class SessionRowForm(ReflectionFields, StudySessionForm):
    """A row of the sessions CSV (learners.selectors.export): the log form's fields and checks, the
    strategy by its slug, and the reflection's columns."""

    strategy = StrategyChoiceField(queryset=Strategy.objects.order_by("position"), to_field_name="slug")
    what_worked = CountedCharField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A model's check constraints are checked with a database query each: for a file of
        # thousands of rows, most of the time spent. They repeat the fields' ranges, which the
        # fields check here; the database checks the constraints when the import is saved.
        self.instance.validate_constraints = _no_constraint_queries

    # The export writes Python's True and False, and nothing for "not answered".
    kept_previous_plan = forms.TypedChoiceField(
        choices=[("", ""), ("True", "True"), ("False", "False")],
        coerce=lambda value: value == "True",
        empty_value=None,
        required=False,
    )
