"""A transfer asked by options (`what-if`, `matrix`, `timeline`, the server), read by the transfer contract.

Each option is read with the same functions as scenario files and batch lines
(``policy.contract``), so `Germany` and `DE`, `ml3` and `ML3` mean the same everywhere and a bad
value gets the same error code, here named by its option (``--date: error[bad-date]: ...``).
The result is a scenario, checked as a scenario file is.
"""

import datetime as dt
from typing import Any, Callable, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from policy.model import Scenario
from policy.model.contract import END_USERS, TRANSFERS, ContractError, read_country, read_date, read_item
from policy.model.countries import country_name
from policy.model.errors import Diagnostic, LoadError, SourceSpan
from policy.model.rulebase import RuleBase

T = TypeVar("T")


def by_option(option: str, read: Callable[..., T], *args: Any) -> T:
    """``read(*args)``, with a contract error reported against ``option``."""
    try:
        return read(*args)
    except ContractError as exc:
        raise LoadError([Diagnostic(exc.code, exc.message, SourceSpan(option), exc.hint)]) from None


def option_date(value: str, option: str) -> dt.date:
    return by_option(option, read_date, value)


def option_countries(value: str, option: str) -> list[str]:
    """A comma-separated list of states; an empty list is an error."""
    codes = [by_option(option, read_country, x.strip()) for x in value.split(",") if x.strip()]
    if not codes:
        raise LoadError(
            [Diagnostic("missing-value", f"`{option}` names no state", SourceSpan(option), "e.g. KR,DE,NO")]
        )
    return codes


class WhatIf(BaseModel):
    """A hypothetical transfer as options give it (``policy what-if``, the HTTP API): strings as typed,
    checked by :func:`build` with the transfer contract."""

    model_config = ConfigDict(extra="forbid")

    exporter: str = Field(description="exporting state: code or name", examples=["KR"])
    recipient: str = Field(description="final destination: code or name", examples=["UA"])
    item: list[str] = Field(
        min_length=1, description="ML categories (ML3) or catalogue ids (155mm-shell)", examples=[["ML3"]]
    )
    date: str | None = Field(None, description="YYYY-MM-DD (default: today)", examples=["2023-01-30"])
    lethal: bool | None = Field(None, description="override the items' lethality")
    end_user: str = Field(
        "military", description="who will use the items (any case)", json_schema_extra={"enum": list(END_USERS)}
    )
    transfer: str = Field(
        "sale", description="the kind of transfer (any case)", json_schema_extra={"enum": list(TRANSFERS)}
    )
    origin: str | None = Field(None, description="state that produced the items (re-exports)")
    licence: str | None = Field(None, description="state whose licence the items were made under")
    via: list[str] = Field(default_factory=list, description="intermediate holders")
    transit: list[str] = Field(default_factory=list, description="states the goods cross")
    assume: dict[str, Any] = Field(default_factory=dict, description="facts to override, e.g. {fact: value}")
    title: str | None = Field(None, description="a title for the question (default: made from its parts)")

    @field_validator("item", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


def item_data(base: RuleBase, item: str, lethal: bool | None, option: str = "--item") -> dict[str, Any]:
    """A scenario item for an ML category or a catalogue id given as an option."""
    category, item_id = by_option(option, read_item, item, base.items)
    if category is not None:
        cat = base.category(category)
        data: dict[str, Any] = {"name": f"{category} item" + (f" ({cat.title})" if cat else ""), "category": category}
    else:
        data = {"id": item_id}
    if lethal is not None:
        data["lethal"] = lethal
    return data


def build(base: RuleBase, q: WhatIf, today: dt.date | None = None) -> Scenario:
    """The scenario ``q`` asks about (on ``today`` when it gives no date); every bad option is
    reported by name, all at once."""
    from policy.load.scenarios import scenario_from_data
    from policy.load.yamlio import Document

    problems: list[Diagnostic] = []

    def take(option: str, read: Callable[..., T], *args: Any) -> T | None:
        try:
            return by_option(option, read, *args)
        except LoadError as exc:
            problems.extend(exc.diagnostics)
            return None

    day = take("--date", read_date, q.date if q.date is not None or today is None else today.isoformat())
    exporter = take("--exporter", read_country, q.exporter)
    recipient = take("--recipient", read_country, q.recipient)
    origin = take("--origin", read_country, q.origin) if q.origin is not None else None
    licence = take("--licence", read_country, q.licence) if q.licence is not None else None
    via = [take("--via", read_country, v) for v in q.via]
    transit = [take("--transit", read_country, v) for v in q.transit]
    items = [take("--item", item_data, base, i, q.lethal) for i in q.item]
    if problems:
        raise LoadError(problems)
    for it in items:
        assert it is not None
        if origin:
            it["origin"] = origin
        if licence:
            it["licence"] = licence
    assert exporter is not None and recipient is not None and day is not None
    names = ", ".join(q.item)
    data = {
        "id": "command-line",
        "title": q.title or f"What if {country_name(exporter)} transfers {names} to {country_name(recipient)}?",
        "date": day,
        "exporter": exporter,
        "recipient": recipient,
        "end_user": q.end_user,
        "transfer": q.transfer,
        "items": items,
        "via": via,
        "transit": transit,
        "assume": q.assume,
    }
    return scenario_from_data(Document("command line", data, None), base)
