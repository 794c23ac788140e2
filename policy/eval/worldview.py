"""What the world data says about one country on one date (the ``policy facts`` command)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from policy.eval.derive import Facts
from policy.model import Scenario, ScenarioItem
from policy.model.countries import country_name
from policy.model.facts import CONFLICT_FACTS
from policy.model.rulebase import RuleBase


def country_facts(base: RuleBase, code: str, day: dt.date) -> dict[str, Any]:
    """Every derived fact about ``code`` on ``day``, with its basis and sources."""
    sc = Scenario.model_validate(
        {
            "id": "facts",
            "title": "facts",
            "date": day,
            "exporter": code,
            "recipient": code,
            "end_user": "government",
            "items": [{"category": "ML1"}],
        }
    )
    facts = Facts(sc, ScenarioItem.model_validate({"category": "ML1"}), base.world)
    names = [
        *CONFLICT_FACTS,
        "recipient.under_embargo.UN",
        "recipient.under_embargo.EU",
        "exporter.under_embargo.UN",
        "exporter.under_embargo.EU",
    ]
    for gid, group in sorted(base.world.groups.items()):
        verb = "party_to" if group.kind == "treaty" else "member_of"
        names.append(f"recipient.{verb}.{gid}")
    rows = []
    for name in names:
        fv = facts.get(name)
        rows.append(
            {
                "fact": name.replace("recipient.", "", 1).replace("exporter.under_embargo", "procurement_banned_by", 1),
                "value": fv.value,
                "basis": fv.basis,
                "sources": [{"title": t, "url": u} for t, u in fv.sources],
            }
        )
    partial = [e for e in base.world.embargoes if e.target == code and e.covers(day) and e.scope != "full"]
    for e in partial:
        rows.append(
            {
                "fact": f"partial_embargo.{e.imposed_by}",
                "value": e.scope,
                "basis": f"world data: `{e.id}`, {e.instrument}, since {e.from_}",
                "sources": [{"title": s.title, "url": s.url} for s in e.sources],
            }
        )
    return {"country": code, "name": country_name(code), "date": day.isoformat(), "facts": rows}


def dataset_summary(base: RuleBase) -> list[dict[str, Any]]:
    """The world datasets and how many entries each has."""
    rows = [
        {"dataset": f"group {gid}", "entries": len(g.members), "what": g.name}
        for gid, g in sorted(base.world.groups.items())
    ]
    rows.append({"dataset": "conflicts", "entries": len(base.world.conflicts), "what": "armed conflicts, dated"})
    for by in ("UN", "EU"):
        n = sum(1 for e in base.world.embargoes if e.imposed_by == by)
        rows.append({"dataset": f"embargoes {by}", "entries": n, "what": f"{by} arms embargoes, dated"})
    rows.append({"dataset": "items", "entries": len(base.items), "what": "item catalogue (rules/items.yaml)"})
    rows.append({"dataset": "jurisdictions", "entries": len(base.jurisdictions), "what": "rule files"})
    return rows
