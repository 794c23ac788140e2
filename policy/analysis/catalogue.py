"""What a rulebase knows, as lists: items and categories, countries, jurisdictions.

Plain library functions returning pydantic models, for the HTTP API and any command that lists them.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from policy.model import Source
from policy.model.countries import HISTORIC, country_name, is_country
from policy.model.rulebase import RuleBase


class CategoryInfo(BaseModel):
    id: str = Field(description="Munitions List category, e.g. ML3")
    title: str
    lethal: bool = Field(description="lethality assumed for an item known only by this category")


class ItemInfo(BaseModel):
    id: str = Field(description="catalogue id, usable as `--item`")
    name: str
    category: str
    category_title: str | None = None
    lethal: bool
    unroca: str | None = None
    note: str | None = None


class ItemCatalogueInfo(BaseModel):
    categories: list[CategoryInfo]
    items: list[ItemInfo]


class CountryInfo(BaseModel):
    code: str = Field(description="ISO 3166-1 alpha-2")
    name: str
    has_rules: bool = Field(description="a rule file encodes this state's own export policy")


class SourceInfo(BaseModel):
    id: str
    title: str
    url: str | None = None
    publisher: str | None = None
    date: dt.date | None = None
    confidence: str


class JurisdictionInfo(BaseModel):
    code: str
    name: str
    kind: str = Field(description="state or regime")
    file: str | None = Field(None, description="the rule file, as loaded")
    rules: int
    rules_by_effect: dict[str, int]
    first_in_force: dt.date | None = Field(None, description="earliest `from` of its rules (None: open-ended)")
    last_in_force: dt.date | None = Field(None, description="latest `until` of its rules (None: open-ended)")
    sources: list[SourceInfo]


def item_catalogue(base: RuleBase) -> ItemCatalogueInfo:
    """Every category and catalogue item, sorted by id."""
    cats = [CategoryInfo(id=c.id, title=c.title, lethal=c.lethal) for c in base.categories.values()]
    items = []
    for it in base.items.values():
        cat = base.category(it.category)
        items.append(
            ItemInfo(
                id=it.id,
                name=it.name,
                category=it.category,
                category_title=cat.title if cat else None,
                lethal=it.lethal,
                unroca=it.unroca,
                note=it.note,
            )
        )
    return ItemCatalogueInfo(
        categories=sorted(cats, key=lambda c: _category_key(c.id)), items=sorted(items, key=lambda i: i.id)
    )


def _category_key(code: str) -> tuple[int, str]:
    """ML2 before ML10."""
    head, _, rest = code.partition(".")
    return (int(head[2:]) if head[2:].isdigit() else 99, rest)


def countries(base: RuleBase) -> list[CountryInfo]:
    """Every ISO 3166-1 country (and Kosovo), with its name and whether a rule file encodes its policy."""
    import pycountry

    codes = {c.alpha_2 for c in pycountry.countries} | {c for c in ("XK", *HISTORIC) if is_country(c)}
    return [CountryInfo(code=c, name=country_name(c), has_rules=c in base.jurisdictions) for c in sorted(codes)]


def jurisdictions(base: RuleBase) -> list[JurisdictionInfo]:
    """Every jurisdiction or regime with a rule file: rule counts, the period its rules cover, sources."""
    out = []
    for code in sorted(base.jurisdictions):
        jf = base.jurisdictions[code]
        effects: dict[str, int] = {}
        for r in jf.rules:
            effects[r.effect.value] = effects.get(r.effect.value, 0) + 1
        starts = [r.from_ for r in jf.rules]
        ends = [r.until for r in jf.rules]
        span = next((base.spans[r.id] for r in jf.rules if r.id in base.spans), None)
        out.append(
            JurisdictionInfo(
                code=code,
                name=jf.name,
                kind=jf.kind,
                file=span.file if span else None,
                rules=len(jf.rules),
                rules_by_effect=dict(sorted(effects.items())),
                first_in_force=min(starts) if starts and None not in starts else None,  # type: ignore[type-var]
                last_in_force=max(ends) if ends and None not in ends else None,  # type: ignore[type-var]
                sources=[_source(s) for s in jf.sources],
            )
        )
    return out


def _source(s: Source) -> SourceInfo:
    return SourceInfo(
        id=s.id, title=s.title, url=s.url, publisher=s.publisher, date=s.date, confidence=s.confidence.value
    )
