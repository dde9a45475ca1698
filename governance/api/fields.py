"""Strict serializer fields shared by the governance API: JSON numbers, choices, fallbacks."""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework import serializers
from rest_framework.exceptions import ValidationError


class LowercaseChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(data.strip().lower() if isinstance(data, str) else data)


def choice_list(choices: tuple[str, ...]) -> serializers.ListField:
    return serializers.ListField(child=LowercaseChoiceField(choices=choices), default=list)


class NumberField(serializers.FloatField):
    """A finite JSON number: strings and booleans are refused rather than coerced."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class WeightField(NumberField):
    """A rule target's weight: a JSON number in (0, 1]."""

    def to_internal_value(self, data: Any) -> float:
        value = super().to_internal_value(data)
        if not 0 < value <= 1:
            raise ValidationError("Must be greater than 0 and at most 1.")
        return value


class FallbackField(serializers.CharField):
    """`provider/model` with both parts non-empty; an error lands under the item's index."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or not all(part.strip() for part in data.partition("/")[::2]):
            raise ValidationError(f"Expected 'provider/model', got {orjson.dumps(data).decode()}.")
        return data
