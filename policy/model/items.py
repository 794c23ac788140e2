"""The item catalogue: ML categories, whether each is lethal, and named items."""

from typing import Literal

from pydantic import Field, field_validator

from policy.model.base import Flag, Source, Strict
from policy.model.contract import CATEGORY_RE

# ---------------------------------------------------------------- items


def category_within(category: str, parent: str) -> bool:
    """True if ``category`` is ``parent`` or one of its sub-entries (``ML10.a.1`` within ``ML10``).

    >>> category_within("ML10.a.1", "ML10"), category_within("ML1", "ML10"), category_within("ML3", "ML")
    (True, False, True)
    """
    if parent == "ML":
        return category.startswith("ML")
    return category == parent or category.startswith(parent + ".")


def _category(v: str) -> str:
    if not isinstance(v, str) or not CATEGORY_RE.fullmatch(v):
        raise ValueError(f"`{v}` is not a Munitions List category (ML1 to ML22, e.g. `ML3` or `ML10.a`)")
    return v


class CatalogueItem(Strict):
    id: str
    name: str
    category: str
    lethal: Flag
    unroca: str | None = None
    note: str | None = None
    sources: list[Source] = Field(default_factory=list)

    _cat = field_validator("category")(classmethod(lambda cls, v: _category(v)))


class CategoryEntry(Strict):
    """A Munitions List category, with the lethality assumed when a transfer names only it."""

    id: str
    title: str
    lethal: Flag = Field(description="assumed lethality of an item known only by this category")

    _cat = field_validator("id")(classmethod(lambda cls, v: _category(v)))


class ItemCatalogue(Strict):
    """``rules/items.yaml``: the items people ask about, with category and lethality."""

    schema_: str | None = Field(None, alias="$schema")
    format: Literal["policy-items/v1"]
    sources: list[Source] = Field(default_factory=list)
    categories: list[CategoryEntry] = Field(default_factory=list)
    items: list[CatalogueItem] = Field(default_factory=list)
