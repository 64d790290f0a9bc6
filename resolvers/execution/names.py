"""Strawberry's name converter, remembering what it converted.

Strawberry converts every argument's and input field's Python name to its GraphQL name on every
request (``snake_case`` to ``camelCase``, character by character); the names are the schema's own,
a fixed set, so each is converted once.
"""

from __future__ import annotations

from strawberry.schema.name_converter import NameConverter


class RememberedNames(NameConverter):
    def __init__(self, auto_camel_case: bool = True) -> None:
        super().__init__(auto_camel_case)
        self._names: dict[tuple[bool, str], str] = {}

    def apply_naming_config(self, name: str) -> str:
        key = (self.auto_camel_case, name)
        converted = self._names.get(key)
        if converted is None:
            converted = self._names[key] = super().apply_naming_config(name)
        return converted
