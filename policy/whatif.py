"""A transfer given by its parts (exporter, recipient, items...), as the ``what-if``, ``matrix`` and
``timeline`` commands and the HTTP API take it, turned into a scenario checked exactly as a file is."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .countries import country_name, resolve_country
from .errors import Diagnostic, LoadError, SourceSpan
from .loader import scenario_from_data
from .models import CATEGORY_RE, Scenario
from .rulebase import RuleBase
from .yamlio import Document

EndUserName = Literal["government", "military", "police", "private", "humanitarian", "non-state"]
TransferName = Literal["sale", "donation", "loan", "re-export"]


class WhatIf(BaseModel):
    """A hypothetical transfer: the options of ``policy what-if``."""

    model_config = ConfigDict(extra="forbid")

    exporter: str = Field(description="exporting state: code or name", examples=["KR"])
    recipient: str = Field(description="final destination: code or name", examples=["UA"])
    item: list[str] = Field(
        min_length=1, description="ML categories (ML3) or catalogue ids (155mm-shell)", examples=[["ML3"]]
    )
    date: str | None = Field(None, description="YYYY-MM-DD (default: today)", examples=["2023-01-30"])
    lethal: bool | None = Field(None, description="override the items' lethality")
    end_user: EndUserName = "military"
    transfer: TransferName = "sale"
    origin: str | None = Field(None, description="state that produced the items (re-exports)")
    licence: str | None = Field(None, description="state whose licence the items were made under")
    via: list[str] = Field(default_factory=list, description="intermediate holders")
    transit: list[str] = Field(default_factory=list, description="states the goods cross")
    assume: dict[str, Any] = Field(default_factory=dict, description="facts to override, e.g. {fact: value}")

    @field_validator("item", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


def item_data(base: RuleBase, item: str, lethal: bool | None) -> dict[str, Any]:
    """An item given as an ML category or a catalogue id, as a scenario's item."""
    if CATEGORY_RE.match(item.upper()) or CATEGORY_RE.match(item):
        code = item if CATEGORY_RE.match(item) else item.upper()
        cat = base.category(code)
        data: dict[str, Any] = {"name": f"{code} item" + (f" ({cat.title})" if cat else ""), "category": code}
    elif item in base.items:
        data = {"id": item}
    else:
        import difflib

        m = difflib.get_close_matches(item, sorted(base.items), n=1)
        raise LoadError(
            [
                Diagnostic(
                    "unknown-item",
                    f"`{item}` is neither a Munitions List category nor a catalogue item",
                    SourceSpan("--item"),
                    f"did you mean `{m[0]}`?"
                    if m
                    else "use ML1..ML22 or an id from rules/items.yaml (see `policy items`)",
                )
            ]
        )
    if lethal is not None:
        data["lethal"] = lethal
    return data


def transfer_scenario(
    base: RuleBase,
    title: str,
    day: str,
    exporter: str,
    recipient: str,
    end_user: str,
    transfer: str,
    items: list[dict[str, Any]],
    **extra: Any,
) -> Scenario:
    """A transfer given by its parts, checked exactly as a scenario file is."""
    data = {
        "id": "command-line",
        "title": title,
        "date": day,
        "exporter": exporter,
        "recipient": recipient,
        "end_user": end_user,
        "transfer": transfer,
        "items": items,
        **extra,
    }
    return scenario_from_data(Document("command line", data, None), base)


def what_if_scenario(base: RuleBase, q: WhatIf, today: dt.date) -> Scenario:
    """The scenario ``policy what-if`` evaluates for these options; ``today`` when no date is given."""
    exp, rec = resolve_country(q.exporter), resolve_country(q.recipient)
    items = [item_data(base, i, q.lethal) for i in q.item]
    for it in items:
        if q.origin:
            it["origin"] = resolve_country(q.origin)
        if q.licence:
            it["licence"] = resolve_country(q.licence)
    return transfer_scenario(
        base,
        f"What if {country_name(exp)} transfers {', '.join(q.item)} to {country_name(rec)}?",
        q.date or today.isoformat(),
        exp,
        rec,
        q.end_user,
        q.transfer,
        items,
        via=[resolve_country(v) for v in q.via],
        transit=[resolve_country(t) for t in q.transit],
        assume=dict(q.assume),
    )
