"""The one label scheme of the API: a type that carries a label has all three of `label`,
`labelEn` and `labelZh`, read from the standard's `label_en` / `label_zh`. `label` is the
English label (as `labelEn`), so a client written against any type reads the same field the
same way; `labelEn` names the language for clients that pick one ([GraphQL](docs/graphql.md#labels))."""

from __future__ import annotations

import strawberry

__all__ = ["Labelled", "MaybeLabelled"]

_LABEL = "The label shown by default: English, the same as `labelEn`."
_EN = "English label."
_ZH = "Chinese label (中文)."


@strawberry.type
class Labelled:
    label_en: str = strawberry.field(description=_EN)
    label_zh: str = strawberry.field(description=_ZH)

    @strawberry.field(description=_LABEL)
    def label(self) -> str:
        return self.label_en


@strawberry.type
class MaybeLabelled:
    """For an object whose value may have no label in the live standard (an override of a value
    since removed): null labels, never a made-up one."""

    label_en: str | None = strawberry.field(description=_EN)
    label_zh: str | None = strawberry.field(description=_ZH)

    @strawberry.field(description=_LABEL)
    def label(self) -> str | None:
        return self.label_en
