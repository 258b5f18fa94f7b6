"""Request bodies validated by the pages' own Django forms, so each rule lives in one place.

A `FormSerializer` describes the JSON (its fields, generated from the form's, give the schema its
types and bounds) and hands the body to the form: the form's checks, the model's validators and
the form's messages apply to the API exactly as to the pages. The serializer adds only what JSON
has and a form post has not: each value's type.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from django import forms
from django.core import validators
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from learners.api.errors import NON_FIELD


def _limits(form_class: type[forms.BaseForm], name: str, field: forms.Field) -> dict[str, Any]:
    """min_value, max_value and max_length from the form field and, for a model form, from the
    model field's validators (which the form runs through the model's full_clean)."""
    found = list(field.validators)
    model = getattr(getattr(form_class, "_meta", None), "model", None)
    if model is not None:
        with contextlib.suppress(FieldDoesNotExist):  # else a form field of its own
            found += list(model._meta.get_field(name).validators)
    limits: dict[str, Any] = {}
    for validator in found:
        value: Any = getattr(validator, "limit_value", None)
        if isinstance(validator, validators.MaxLengthValidator):
            limits["max_length"] = min(value, limits.get("max_length", value))
        elif isinstance(validator, validators.MinValueValidator) and not callable(value):
            limits["min_value"] = max(value, limits.get("min_value", value))
        elif isinstance(validator, validators.MaxValueValidator) and not callable(value):
            limits["max_value"] = min(value, limits.get("max_value", value))
    return limits


def _choices(field: forms.ChoiceField) -> list[tuple[Any, Any]]:
    return list(cast(Iterable[tuple[Any, Any]], field.choices))


def serializer_field(form_class: type[forms.BaseForm], name: str, field: forms.Field) -> serializers.Field:
    """The JSON side of one form field, for the schema and the type check."""
    common: dict[str, Any] = {"required": field.required}
    if field.help_text:
        common["help_text"] = str(field.help_text)
    limits = _limits(form_class, name, field)
    if isinstance(field, forms.ModelChoiceField):
        return serializers.CharField(allow_null=not field.required, **common)
    if isinstance(field, forms.TypedChoiceField) and field.coerce is int:
        values = [int(value) for value, _label in _choices(field) if value != ""]
        return serializers.IntegerField(min_value=min(values), max_value=max(values), **common)
    if isinstance(field, forms.ChoiceField):
        choices = [(value, label) for value, label in _choices(field) if value != ""]
        return serializers.ChoiceField(choices=choices, allow_blank=not field.required, **common)
    if isinstance(field, forms.IntegerField):
        return serializers.IntegerField(allow_null=not field.required, **limits, **common)
    if isinstance(field, forms.DateTimeField):
        return serializers.DateTimeField(**common)
    if isinstance(field, forms.DateField):
        return serializers.DateField(allow_null=not field.required, **common)
    if isinstance(field, forms.BooleanField):
        return serializers.BooleanField(**common)
    if isinstance(field, forms.CharField):
        max_length = limits.get("max_length", field.max_length)
        return serializers.CharField(
            allow_blank=not field.required, max_length=max_length, trim_whitespace=False, **common
        )
    raise TypeError(f"no JSON type for the form field {name} ({type(field).__name__})")


def form_serializer_fields(
    form_class: type[forms.BaseForm], names: list[str]
) -> dict[str, serializers.Field]:
    form = form_class()
    return {name: serializer_field(form_class, name, form.fields[name]) for name in names}


# The JSON types a field takes; the form checks everything else.
def _type_ok(field: serializers.Field, value: Any) -> bool:
    if value is None:
        return bool(field.allow_null)
    if isinstance(field, serializers.IntegerField):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(field, serializers.BooleanField):
        return isinstance(value, bool)
    if isinstance(field, serializers.Serializer):
        return isinstance(value, Mapping)
    if isinstance(field, serializers.DateTimeField):
        return isinstance(value, str) and _has_offset(value)
    return isinstance(value, str)


def _has_offset(value: str) -> bool:
    """A time names its UTC offset: a form reads a time without one in the page's zone, which a
    program calling the API cannot see."""
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


TYPE_MESSAGES = {
    "integer": _("Send a whole number."),
    "boolean": _("Send true or false."),
    "object": _("Send an object."),
    "string": _("Send a string."),
    "datetime": _("Send a date and time with its UTC offset, such as 2026-12-06T18:00:00Z."),
}


def _type_name(field: serializers.Field) -> str:
    if isinstance(field, serializers.IntegerField):
        return "integer"
    if isinstance(field, serializers.BooleanField):
        return "boolean"
    if isinstance(field, serializers.Serializer):
        return "object"
    if isinstance(field, serializers.DateTimeField):
        return "datetime"
    return "string"


def form_errors(form: forms.BaseForm) -> dict[str, list[str]]:
    return {
        (NON_FIELD if name == "__all__" else name): [str(m) for error in errors for m in error.messages]
        for name, errors in form.errors.as_data().items()
    }


class FormSerializer(serializers.Serializer):
    """A body that the form `form_class` validates; `self.form` is the valid form afterwards."""

    form_class: type[forms.BaseForm]

    def form_kwargs(self) -> dict[str, Any]:
        return {}

    def form_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """What the form is given: the body's fields (a partial update adds the object's others)."""
        return {name: data[name] for name in self.fields if name in data}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({NON_FIELD: [_("Send a JSON object.")]})
        wrong = {
            name: [str(TYPE_MESSAGES[_type_name(field)])]
            for name, field in self.fields.items()
            if name in data and not field.read_only and not _type_ok(field, data[name])
        }
        if wrong:
            raise serializers.ValidationError(wrong)
        form = self.form_class(data=self.form_data(data), **self.form_kwargs())
        if not form.is_valid():
            raise serializers.ValidationError(form_errors(form))
        self.form = form
        return dict(form.cleaned_data)
