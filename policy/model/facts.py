"""The facts a rule may test: their names, types, and where their values come from.

A fact named in a rule that nothing here defines is a load-time error, never a silent false.
Templated facts (``recipient.member_of.NATO``) are checked against the groups in world data.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from typing import Any

from policy.model.conditions import Leaf
from policy.model.contract import CATEGORY_RE, END_USERS, TRANSFERS
from policy.model.countries import is_country


@dataclass(frozen=True)
class FactSpec:
    """What a fact is: its type, where it comes from, and its value when nobody says."""

    name: str
    type: str  # bool | date | country | countries | enum | category | str
    origin: str  # scenario | derived | assessment
    description: str
    values: tuple[str, ...] = ()
    default: Any = None  # only assessment facts have one


PARTIES = ("exporter", "recipient")

CONFLICT_FACTS = (
    "recipient.in_armed_conflict",
    "recipient.war_on_territory",
    "recipient.belligerent_in_international_conflict",
    "recipient.in_international_armed_conflict",
    "recipient.internal_armed_conflict",
    "recipient.intervening_abroad",
    "recipient.self_defence",
)
"""Facts derived from the conflict data; the first is the summary of the others (an assumption
that it is false makes every other false)."""

STATIC_FACTS: dict[str, FactSpec] = {
    f.name: f
    for f in [
        FactSpec("date", "date", "scenario", "the date of the transfer"),
        FactSpec("exporter", "country", "scenario", "the state the item leaves from (the current holder)"),
        FactSpec("recipient", "country", "scenario", "the final destination"),
        FactSpec("end_user", "enum", "scenario", "the declared end user", END_USERS),
        FactSpec("transfer", "enum", "scenario", "the kind of transfer", TRANSFERS),
        FactSpec("via", "countries", "scenario", "intermediate holders after the exporter, before the final recipient"),
        FactSpec(
            "contract_date", "date", "scenario", "the day the contract was concluded (default: the transfer date)"
        ),
        FactSpec(
            "licence.existing",
            "bool",
            "scenario",
            "a licence granted before the transfer date covers it, neither suspended nor revoked by then "
            "(default: false, a new licence is needed)",
        ),
        FactSpec("end_user.unit", "str", "scenario", "the unit or agency of the end user, when the transfer names one"),
        FactSpec("item.id", "str", "scenario", "the item's catalogue id"),
        FactSpec("item.category", "category", "scenario", "the item's Munitions List category"),
        FactSpec("item.lethal", "bool", "scenario", "whether the item is lethal"),
        FactSpec("item.origin", "country", "scenario", "the state that produced the item"),
        FactSpec("item.licence_origin", "country", "scenario", "the state under whose licence it was made"),
        FactSpec(
            "recipient.in_armed_conflict",
            "bool",
            "derived",
            "summary: an armed conflict is fought on its territory, or it fights in one (any kind, anywhere)",
        ),
        FactSpec(
            "recipient.war_on_territory",
            "bool",
            "derived",
            "an armed conflict (international or internal) is fought on its own territory on the date",
        ),
        FactSpec(
            "recipient.belligerent_in_international_conflict",
            "bool",
            "derived",
            "it fights, at home or abroad, in an armed conflict between states on the date",
        ),
        FactSpec(
            "recipient.in_international_armed_conflict",
            "bool",
            "derived",
            "the same as recipient.belligerent_in_international_conflict (kept for existing rules)",
        ),
        FactSpec(
            "recipient.internal_armed_conflict",
            "bool",
            "derived",
            "a non-international armed conflict is fought on its own territory on the date",
        ),
        FactSpec(
            "recipient.intervening_abroad",
            "bool",
            "derived",
            "it fights in an armed conflict outside its own territory (invited, in a coalition, or as a belligerent)",
        ),
        FactSpec(
            "recipient.self_defence",
            "bool",
            "derived",
            "it fights in self-defence under Article 51 of the UN Charter on the date (unknown where the world data "
            "does not decide it)",
        ),
        FactSpec(
            "recipient.under_embargo.UN",
            "bool",
            "derived",
            "a UN Security Council arms embargo covers this recipient and end user on the date",
        ),
        FactSpec(
            "exporter.under_embargo.UN",
            "bool",
            "derived",
            "a UN Security Council embargo forbids procuring arms from the exporter on the date",
        ),
        FactSpec(
            "exporter.under_embargo.EU",
            "bool",
            "derived",
            "an EU embargo forbids procuring arms from the exporter on the date",
        ),
        FactSpec(
            "recipient.under_embargo.EU",
            "bool",
            "derived",
            "an EU arms embargo covers this recipient and end user on the date",
        ),
        FactSpec(
            "risk.internal_repression",
            "bool",
            "assessment",
            "a clear risk the item might be used for internal repression",
            default=False,
        ),
        FactSpec(
            "risk.ihl_violation",
            "bool",
            "assessment",
            "a clear risk the item might be used in serious violations of international humanitarian law",
            default=False,
        ),
        FactSpec(
            "risk.diversion",
            "bool",
            "assessment",
            "a risk of diversion or re-export under undesirable conditions",
            default=False,
        ),
        FactSpec(
            "risk.aggression",
            "bool",
            "assessment",
            "a clear risk the recipient would use the item aggressively against another country",
            default=False,
        ),
        FactSpec(
            "risk.atrocity_knowledge",
            "bool",
            "assessment",
            "the exporting state knows the items would be used in genocide, crimes against humanity or war crimes",
            default=False,
        ),
        FactSpec(
            "consent.original_producer",
            "bool",
            "assessment",
            "the original producer has consented to this re-export",
            default=False,
        ),
        FactSpec(
            "risk.overriding",
            "bool",
            "assessment",
            "an overriding risk of a negative consequence under ATT Article 7(1) remains after mitigation",
            default=False,
        ),
    ]
}

GROUP_FACT_KINDS = ("member_of", "party_to")


def fact_spec(name: str, groups: dict[str, str]) -> FactSpec | None:
    """The spec of a fact name, or None if no fact has that name.

    ``groups`` maps group ids to their kind (``treaty``, ``alliance``...).
    """
    if name in STATIC_FACTS:
        return STATIC_FACTS[name]
    parts = name.split(".")
    if len(parts) == 3 and parts[0] in PARTIES and parts[1] in GROUP_FACT_KINDS and parts[2] in groups:
        if parts[1] == "party_to" and groups[parts[2]] != "treaty":
            return None
        verb = "a state party to" if parts[1] == "party_to" else "a member of"
        return FactSpec(name, "bool", "derived", f"the {parts[0]} is {verb} {parts[2]} on the date")
    return None


def all_fact_names(groups: dict[str, str]) -> list[str]:
    """Every fact name a rule may test, for hints and documentation."""
    names = list(STATIC_FACTS)
    for party in PARTIES:
        for gid, kind in sorted(groups.items()):
            names.append(f"{party}.member_of.{gid}")
            if kind == "treaty":
                names.append(f"{party}.party_to.{gid}")
    return names


def suggest(name: str, groups: dict[str, str]) -> str | None:
    """A 'did you mean' hint for an unknown fact name."""
    match = difflib.get_close_matches(name, all_fact_names(groups), n=1, cutoff=0.6)
    return f"did you mean `{match[0]}`?" if match else None


def coerce_value(spec: FactSpec, value: Any) -> Any:
    """Check and convert a value written in a rule or an --assume for this fact.

    Raises ValueError with a message meant for people.
    """
    if value is None:
        raise ValueError(f"`{spec.name}` cannot be compared with null")
    t = spec.type
    if t == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"`{spec.name}` is true or false, not `{value}`")
    if t == "date":
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"`{value}` is not a date (YYYY-MM-DD)") from None
    if t == "countries" and isinstance(value, (list, tuple)):
        return tuple(coerce_value(FactSpec(spec.name, "country", spec.origin, ""), v) for v in value)
    if t in ("country", "countries"):
        if not isinstance(value, str) or not is_country(value):
            raise ValueError(f"`{value}` is not an ISO 3166-1 alpha-2 country code")
        return value
    if t == "enum":
        if value not in spec.values:
            raise ValueError(f"`{spec.name}` is one of {', '.join(spec.values)}, not `{value}`")
        return value
    if t == "category":
        if not isinstance(value, str) or not (value == "ML" or CATEGORY_RE.fullmatch(value)):
            raise ValueError(f"`{value}` is not a Munitions List category (ML1 to ML22)")
        return value
    return value


_OPS_BY_TYPE = {
    "bool": {"eq", "ne", "exists"},
    "date": {"eq", "ne", "lt", "lte", "gt", "gte", "exists"},
    "country": {"eq", "ne", "in", "not_in", "exists"},
    "countries": {"in", "not_in", "exists"},  # 'in': the list shares a member with the value list
    "enum": {"eq", "ne", "in", "not_in", "exists"},
    "category": {"within", "eq", "ne", "exists"},
    "str": {"eq", "ne", "in", "not_in", "exists"},
}


def check_leaf(leaf: Leaf, groups: dict[str, str]) -> tuple[str, str, str | None] | None:
    """Check a condition leaf. Returns (code, message, help) for a problem, or None."""
    spec = fact_spec(leaf.fact, groups)
    if spec is None:
        return (
            "unknown-fact",
            f"no fact is named `{leaf.fact}`",
            suggest(leaf.fact, groups) or "see docs/rule-format.md for the facts a rule can test",
        )
    op = leaf.op
    if op not in _OPS_BY_TYPE[spec.type]:
        allowed = ", ".join(sorted(_OPS_BY_TYPE[spec.type]))
        return (
            "bad-operator",
            f"operator `{op}` does not apply to `{leaf.fact}` ({spec.type})",
            f"use one of: {allowed}",
        )
    value = leaf.value
    try:
        if op == "exists":
            if not isinstance(value, bool):
                raise ValueError("`exists` takes true or false")
        elif op in ("in", "not_in"):
            for v in value:
                coerce_value(spec, v)
        elif op == "within":
            for v in [value] if isinstance(value, str) else value:
                coerce_value(spec, v)
        else:
            coerce_value(spec, value)
    except ValueError as exc:
        return ("bad-value", str(exc), None)
    return None
