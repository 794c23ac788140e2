"""A transfer asked by options (`what-if`, `matrix`, `timeline`, the server), read by the transfer contract.

Each option is read with the same functions as scenario files and batch lines
(``policy.contract``), so `Germany` and `DE`, `ml3` and `ML3` mean the same everywhere and a bad
value gets the same error code, here named by its option (``--date: error[bad-date]: ...``).
The result is a scenario, checked as a scenario file is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from .contract import ContractError, read_country, read_date, read_item
from .countries import country_name
from .errors import Diagnostic, LoadError, SourceSpan
from .models import Scenario
from .rulebase import RuleBase

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


@dataclass
class AskedTransfer:
    """A transfer as options give it: strings as typed, checked by :func:`build`."""

    exporter: str
    recipient: str
    items: list[str]
    date: str
    lethal: bool | None = None
    end_user: str = "military"
    transfer: str = "sale"
    origin: str | None = None
    licence: str | None = None
    via: list[str] = field(default_factory=list)
    transit: list[str] = field(default_factory=list)
    assume: dict[str, Any] = field(default_factory=dict)
    title: str | None = None


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


def build(base: RuleBase, q: AskedTransfer) -> Scenario:
    """The scenario ``q`` asks about; every bad option is reported by name, all at once."""
    from .loader import scenario_from_data
    from .yamlio import Document

    problems: list[Diagnostic] = []

    def take(option: str, read: Callable[..., T], *args: Any) -> T | None:
        try:
            return by_option(option, read, *args)
        except LoadError as exc:
            problems.extend(exc.diagnostics)
            return None

    day = take("--date", read_date, q.date)
    exporter = take("--exporter", read_country, q.exporter)
    recipient = take("--recipient", read_country, q.recipient)
    origin = take("--origin", read_country, q.origin) if q.origin is not None else None
    licence = take("--licence", read_country, q.licence) if q.licence is not None else None
    via = [take("--via", read_country, v) for v in q.via]
    transit = [take("--transit", read_country, v) for v in q.transit]
    items = [take("--item", item_data, base, i, q.lethal) for i in q.items]
    if problems:
        raise LoadError(problems)
    for it in items:
        assert it is not None
        if origin:
            it["origin"] = origin
        if licence:
            it["licence"] = licence
    assert exporter is not None and recipient is not None and day is not None
    names = ", ".join(q.items)
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
